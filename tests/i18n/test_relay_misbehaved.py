"""A relay that misbehaves (floods, replays) ends the session with words that blame the relay
and say what to do; the customer reads them in their language: the runtime's English is one
of ``i18n.ends.RELAY_TEXTS`` filled in, and the front ends find the sentence again."""

from __future__ import annotations

import re

import pytest

from cobrowse.errors import RelayRejected, SecurityError
from cobrowse.i18n.catalogues import translator
from cobrowse.i18n.ends import (
    RELAY_PEER_CHANGES,
    RELAY_REPLAYED,
    RELAY_TEXTS,
    RELAY_UNREADABLE,
    ended_text,
    error_text,
    relay_english,
    relay_text,
)
from cobrowse.i18n.language import Language
from cobrowse.i18n.notices import customer_line
from cobrowse.i18n.text import FSI, PDI, Translated
from cobrowse.io.link import MAX_MALFORMED, MAX_PEER_CHANGES, RELAY_MISBEHAVED, RELAY_WINDOW, misbehaved_message
from cobrowse.io.runtime import HOSTILE_INTEGRITY, WARNING_WINDOW

#: The words that blame the relay, and say the other side is fine, in each language.
RELAY = {Language.RU: "сервер-посредник", Language.ZH: "中继服务器", Language.FA: "سرور واسط"}
FINE = {Language.RU: "с другой стороной всё в порядке", Language.ZH: "对方", Language.FA: "طرف مقابل سالم"}
ANOTHER = {Language.RU: "через другой сервер-посредник", Language.ZH: "另一个中继服务器",
           Language.FA: "سرور واسط دیگری"}

LINK_ENDS = [misbehaved_message(RELAY_UNREADABLE, MAX_MALFORMED), misbehaved_message(RELAY_PEER_CHANGES, MAX_PEER_CHANGES)]
REPLAY_END = relay_english(RELAY_REPLAYED, count=HOSTILE_INTEGRITY, seconds=WARNING_WINDOW, kind="duplicate")


def test_the_english_is_the_words_the_runtime_always_had() -> None:
    assert LINK_ENDS[1] == (
        "the relay misbehaved: it sent more than 40 changes of the other side's connection within 10 s (a hostile or "
        "broken relay; nothing it sent was applied, and your side and the other side are fine): the session is over; "
        "start a new one through another relay")
    assert REPLAY_END == (
        "the relay misbehaved: it replayed or misordered more than 1024 sealed frames (duplicate) within 10 s; none "
        "was applied, and the other side is fine: the session is over; start a new one through another relay")
    assert RELAY_WINDOW == WARNING_WINDOW
    assert relay_text(REPLAY_END, translator(Language.EN)) == REPLAY_END


@pytest.mark.parametrize("lang", list(RELAY))
@pytest.mark.parametrize("message", [*LINK_ENDS, REPLAY_END])
def test_each_end_reads_in_the_customers_language(lang: Language, message: str) -> None:
    tr = translator(lang)
    reason = "scared" if message == REPLAY_END else RELAY_MISBEHAVED
    line = ended_text(reason, message, tr)
    assert isinstance(line, Translated)
    assert RELAY[lang] in line and FINE[lang] in line and ANOTHER[lang] in line
    assert not re.search(r"\b(relay|misbehaved|session|other side)\b", line)  # no English left
    count = "1024" if message == REPLAY_END else "40"
    assert count in line and "10" in line
    if lang is Language.FA:
        assert f"{FSI}{count}{PDI}" in line  # values isolated in a right-to-left sentence


@pytest.mark.parametrize("lang", list(RELAY))
def test_the_error_line_and_the_exit_error_read_translated_too(lang: Language) -> None:
    tr = translator(lang)
    line = customer_line({"event": "error", "kind": "security", "message": REPLAY_END}, tr)
    assert line is not None and RELAY[lang] in line and "misbehaved" not in line
    assert RELAY[lang] in error_text(SecurityError(REPLAY_END), tr)
    assert RELAY[lang] in error_text(RelayRejected(RELAY_MISBEHAVED, LINK_ENDS[0]), tr)
    ended = customer_line({"event": "ended", "reason": RELAY_MISBEHAVED, "message": LINK_ENDS[1]}, tr)
    assert ended is not None and RELAY[lang] in ended and "misbehaved" not in ended


def test_other_words_are_shown_as_they_came() -> None:
    """Only our own sentences are found again: an agent's End with other words, a sentence
    with a value no runtime puts there, or another reason stays as it came."""
    ru = translator(Language.RU)
    assert ended_text("agent_ended", REPLAY_END, ru) == REPLAY_END
    forged = REPLAY_END.replace("(duplicate)", "(<b>click here</b>)")
    assert ended_text("scared", forged, ru) == forged
    assert relay_text(REPLAY_END + " and more", ru) is None
    assert relay_text(REPLAY_END.replace("1024", "10" * 11), ru) is None


def test_every_template_has_the_same_values() -> None:
    for template in RELAY_TEXTS:
        assert {"count", "seconds"} <= set(re.findall(r"\{([a-z_]+)\}", template))
    with pytest.raises(ValueError):
        relay_english("the relay is fine", count=1, seconds=1.0)


def runtime_warnings() -> dict[str, str]:
    """The details a session gives for a replayed frame, a reordered one and a replayed ACK."""
    from cobrowse.protocol.messages import Chat
    from cobrowse.protocol.session import Integrity
    from tests.protocol.test_session import paired

    relay = paired()
    for i in range(3):
        relay.a.send(Chat(f"m{i}"), 1.0)
    f1, f2, f3 = relay.take_to_b()
    relay.deliver_to_b(f1, 1.0)
    relay.deliver_to_b(f1, 1.0)
    relay.deliver_to_b(f3, 1.0)
    relay.b.tick(2.0)
    ack = next(f for f in relay.take_to_a() if f[0] == 0x11)
    relay.deliver_to_a(ack, 2.0)
    relay.deliver_to_a(ack, 2.0)
    found = {e.kind: e.detail for side in "ab" for e in relay.events[side] if isinstance(e, Integrity)}
    assert set(found) == {"duplicate", "gap", "replayed_ack"}
    coalesced = ("more frames like that (duplicate) keep arriving: ignored, and not each shown for the next "
                 f"{WARNING_WINDOW:.0f} s")  # io/runtime.py's words (tests/e2e/test_adversarial_flood_lang.py sees them)
    return {**found, "coalesced": coalesced}


@pytest.mark.parametrize("lang", list(RELAY))
def test_the_warnings_a_replaying_relay_causes_read_translated(lang: Language) -> None:
    tr = translator(lang)
    for kind, detail in runtime_warnings().items():
        line = customer_line({"event": "warning", "kind": "duplicate" if kind == "coalesced" else kind,
                              "message": detail}, tr)
        assert line is not None and not re.search(r"\b(frame|arrived|ignored|acknowledgement)\b", line), (kind, line)
        assert re.search(r"\d", line) or kind == "early"  # the frame's number (or the seconds) kept
    assert customer_line({"event": "warning", "kind": "duplicate", "message": "frame #1 arrived again (a replay "
                          "or a late retransmission); ignored"}, translator(Language.EN)) == (
        "warning: frame #1 arrived again (a replay or a late retransmission); ignored")  # English as it was
    other = {"event": "warning", "kind": "malformed", "message": "frame #1 arrived again (a replay or a late "
             "retransmission); ignored"}
    assert "arrived again" in (customer_line(other, tr) or "")  # another kind: shown as it came


@pytest.mark.parametrize("lang", list(RELAY))
def test_the_frame_kind_is_said_in_the_customers_language_too(lang: Language) -> None:
    """The kind ("duplicate", "gap"...) used to stay English inside a translated sentence."""
    tr = translator(lang)
    coalesced = runtime_warnings()["coalesced"]
    for kind in ("duplicate", "gap", "replayed_ack", "early"):
        warning = customer_line({"event": "warning", "kind": kind,
                                 "message": coalesced.replace("(duplicate)", f"({kind})")}, tr)
        end = ended_text("scared", REPLAY_END.replace("(duplicate)", f"({kind})"), tr)
        for line in (warning or "", end):
            assert line and not re.search(r"duplicate|gap|replayed|ack|early", line), (kind, line)
    odd = REPLAY_END.replace("(duplicate)", "(whatever)")  # a kind no runtime says: shown as it came
    assert ended_text("scared", odd, tr) == odd
