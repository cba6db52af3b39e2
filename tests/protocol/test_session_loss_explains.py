"""Which duplicates and gaps are the honest peer's retransmissions after the path lost
frames (a relay-side outage: a Redis restart in a cluster) and which are a relay's replays.
What the receiver knows: whether it had to retransmit (its frames or ACKs were lost), whether
it met a gap and asked for a resend, whether the peer asked it for one. A replay on a path
that lost nothing is still reported; a replay is never delivered twice either way.
Two Session machines through the in-memory relay of tests/protocol/test_session.py."""

from __future__ import annotations

import pytest

from cobrowse.protocol.messages import Chat
from cobrowse.protocol.session import LOSS_EXPLAINS, Integrity
from tests.protocol.test_session import chat_texts, paired

pytestmark = pytest.mark.pure


def shown(relay, side: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.kind for e in relay.events[side] if isinstance(e, Integrity) and not e.expected]


def quiet(relay, side: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.kind for e in relay.events[side] if isinstance(e, Integrity) and e.expected]


def test_a_replay_on_a_path_that_lost_nothing_is_shown() -> None:
    relay = paired()
    relay.a.send(Chat("pay once"), 1.0)
    (frame,) = relay.take_to_b()
    relay.deliver_to_b(frame, 1.0)
    relay.pump(1.2)
    relay.deliver_to_b(frame, 1.5)
    relay.deliver_to_b(frame, 6.0)
    assert chat_texts(relay.received("b")) == ["pay once"]
    assert shown(relay, "b") == ["duplicate", "duplicate"] and quiet(relay, "b") == []


def test_an_outage_both_ways_the_peer_s_copies_are_expected_and_applied_once() -> None:
    """b's ACKs are lost (the outage), a retransmits on its timer while its originals were
    delayed: b sees the same frames twice. b lost frames too (it retransmitted): quiet."""
    relay = paired()
    relay.a.send(Chat("one"), 1.0)
    relay.b.send(Chat("from b"), 1.0)
    (one,) = relay.take_to_b()
    (from_b,) = relay.take_to_a()  # held up by the outage
    relay.b.tick(3.5)  # b's own frame was not acknowledged: retransmitted (the path loses frames)
    relay.take_to_a()
    relay.a.tick(3.5)  # a's copy of "one"
    (copy,) = relay.take_to_b()
    relay.deliver_to_b(one, 4.0)  # the outage ends: the original, then the copy
    relay.deliver_to_b(copy, 4.0)
    relay.deliver_to_a(from_b, 4.0)
    relay.pump(4.1)
    assert chat_texts(relay.received("b")) == ["one"] and chat_texts(relay.received("a")) == ["from b"]
    assert shown(relay, "b") == [] and quiet(relay, "b") == ["duplicate"]


def test_after_a_gap_the_copies_asked_for_and_the_timer_s_cross_quietly_the_first_gap_is_shown() -> None:
    relay = paired()
    for i in range(1, 5):
        relay.a.send(Chat(f"m{i}"), 1.0)
    f1, f2, f3, f4 = relay.take_to_b()  # f2 lost
    relay.deliver_to_b(f1, 1.0)
    relay.deliver_to_b(f3, 1.0)  # the gap: b asks for a resend
    relay.deliver_to_b(f4, 1.0)  # the same loss: not shown again
    relay.a.tick(3.0)  # a's timer resends f2..f4 too
    timer = relay.take_to_b()
    relay.pump(3.0)  # the RESEND's copies
    for frame in timer:
        relay.deliver_to_b(frame, 3.1)
    assert chat_texts(relay.received("b")) == ["m1", "m2", "m3", "m4"]
    assert shown(relay, "b") == ["gap"]
    assert set(quiet(relay, "b")) <= {"gap", "duplicate"} and "duplicate" in quiet(relay, "b")


def test_a_replay_long_after_the_loss_is_shown_again() -> None:
    relay = paired()
    relay.a.send(Chat("x"), 1.0)
    (x,) = relay.take_to_b()
    relay.a.tick(3.5)  # lost: a retransmits
    relay.pump(3.5)
    relay.b.send(Chat("y"), 4.0)
    relay.pump(4.0)
    relay.b.tick(4.0)
    relay.pump(4.0)
    relay.deliver_to_b(x, 4.0 + LOSS_EXPLAINS + 1)  # b itself never lost anything; much later
    assert chat_texts(relay.received("b")) == ["x"]
    assert shown(relay, "b") == ["duplicate"]
