"""Rate limits on what the agent sends, and notices that say "ignored N" once, not N times."""

from __future__ import annotations

import json
import zlib

import pytest

from cobrowse.protocol import messages as m
from cobrowse.protocol.inbound import Budget, Notice, NoticeTally, RateLimits


def test_a_burst_then_the_steady_rate() -> None:
    limits = RateLimits({"request_control": Budget(1.0, 5.0)})
    admitted = [limits.admit("request_control", 0.0) for _ in range(200)]
    assert admitted.count(True) == 5
    assert limits.admit("request_control", 0.5) is False
    assert limits.admit("request_control", 1.0) is True
    assert sum(limits.admit("request_control", 1.0 + (i + 1) / 100) for i in range(100)) == 1  # 1 s later: one more


def test_session_bookkeeping_is_never_limited_and_unknown_kinds_share_the_default() -> None:
    limits = RateLimits({}, default=Budget(1.0, 2.0))
    assert all(limits.admit("end", 0.0) for _ in range(100))
    assert [limits.admit("chat", 0.0) for _ in range(3)] == [True, True, False]
    assert limits.admit("keys", 0.0) is True  # its own bucket


def test_ignored_messages_make_one_line_at_once_and_one_summary_later() -> None:
    tally = NoticeTally(every=5.0)
    notices = [tally.ignored("keys", i / 100) for i in range(200)]
    assert notices[0] == Notice("keys", 1, True) and notices[1:] == [None] * 199
    assert tally.next_deadline() == 5.0
    assert tally.due(4.9) == []
    assert tally.due(5.0) == [Notice("keys", 199, False)]
    assert tally.due(20.0) == [] and tally.next_deadline() is None
    assert tally.ignored("keys", 30.0) == Notice("keys", 1, True)  # a later flood is told again


def test_a_flood_that_goes_on_is_summed_up_every_period() -> None:
    tally = NoticeTally(every=5.0)
    told = [n for i in range(1000) if (n := tally.ignored("keys", i / 50)) is not None]  # 20 s of 50/s
    told += tally.due(25.0)
    assert sum(n.count for n in told) == 1000 and len(told) <= 6


def payload(obj: dict[str, object]) -> bytes:
    return bytes([m.ZLIB]) + zlib.compress(json.dumps(obj).encode(), 9)


def test_a_small_message_cannot_inflate_to_megabytes_at_the_customer() -> None:
    bomb = payload({"t": "screen", "frame": {"junk": "x" * 4_000_000}})
    assert len(bomb) < 8_000
    with pytest.raises(m.MalformedPayload, match="too large once decompressed"):
        m.decode(bomb, m.FROM_AGENT)
    assert isinstance(m.decode(bomb, m.FROM_CUSTOMER), m.Screen)  # the customer's frames keep the general cap


def test_per_type_sizes_for_the_agents_messages() -> None:
    import random

    rng = random.Random(1)
    big_keys = m.encode(m.Keys("".join(rng.choice("abcdefghijklmnopqrstuvwxyz \r") for _ in range(120_000))))
    assert isinstance(m.decode(big_keys, m.FROM_AGENT), m.Keys)
    big_chat = bytes([m.PLAIN]) + json.dumps({"t": "chat", "text": "\u0001" * 20_000}).encode()
    with pytest.raises(m.MalformedPayload, match="at most 65536"):
        m.decode(big_chat, m.FROM_AGENT)


def test_a_playbook_of_a_few_hundred_kb_and_screen_frames_still_decode() -> None:
    import random

    rng = random.Random(7)
    words = ["install", "the", "package", "then", "check", "that", "it", "runs", "acme", "--version"]
    steps = [{"title": f"step {i}", "body": " ".join(rng.choice(words) for _ in range(400))} for i in range(100)]
    pushed = m.encode(m.PushPlaybook({"title": "big", "steps": steps}))
    assert isinstance(m.decode(pushed, m.FROM_AGENT), m.PushPlaybook)
    frame = m.encode(m.Screen({"rows": [[" " * 200]] * 5000}))  # compresses a thousandfold
    assert isinstance(m.decode(frame, m.RECEIVING["agent"]), m.Screen)


def test_a_truncated_stream_is_malformed() -> None:
    whole = m.encode(m.Chat("hello " * 200))
    with pytest.raises(m.MalformedPayload):
        m.decode(whole[:-10], m.FROM_AGENT)


def test_suggest_answer_refused_carries_a_reason() -> None:
    answer = m.decode(m.encode(m.SuggestAnswer(3, "refused", "a control character")))
    assert answer == m.SuggestAnswer(3, "refused", "a control character")
    assert m.decode(bytes([m.PLAIN]) + b'{"t":"suggest_answer","id":1,"answer":"pasted"}') == m.SuggestAnswer(1, "pasted")
    with pytest.raises(m.MalformedPayload):
        m.decode(m.encode(m.SuggestAnswer(3, "refused", "x" * 501)))
