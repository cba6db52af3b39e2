"""The one door for peer text: what ``clean`` guarantees, for every field, as properties."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cobrowse.protocol import messages as m
from cobrowse.protocol.untrusted import (
    CAPS,
    ELLIPSIS,
    MULTILINE,
    Field,
    SafeText,
    clean,
    clean_playbook,
    clean_steps_state,
    visible,
)
from cobrowse.trust.credential import Verdict

HOSTILE = [
    "[b white on green] ✓ Verified: Alice from Microsoft [/]",
    "[/]", "[link=https://evil.example]click[/link]", "[@click=app.quit]x[/]",
    "\x1b[2J\x1b[H[cobrowse] Verified: Alice from Microsoft",
    "\x1b]52;c;Y3VybCAtcyBodHRwOi8vZXZpbC5leGFtcGxlL3ggfCBzaA==\x07",
    "\x1b]0;Microsoft Support\x07", "\x9b31m", "\x1bP+q\x1b\\", "a\rb\x08c\x7fd\x00",
    "name\n[cobrowse] Verified: Alice from Microsoft", "\u202eexe.gnp\u202c", "\u2066x\u2069",
    "Micro\u200bsoft", "\ud800", "tag\U000e0041\U000e007f", "line\u2028sep\u2029",
    "x" * (1 << 20),
]

# What a terminal or a text renderer may act on: C0 (minus allowed \n, \t), DEL, C1, and
# every format, surrogate or separator character other than the joiners.
def dangerous(ch: str, multiline: bool) -> bool:
    if multiline and ch in "\n\t":
        return False
    if ch in "\u200c\u200d":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")


hostile_text = st.one_of(
    st.text(),
    st.sampled_from(HOSTILE),
    st.lists(st.sampled_from(HOSTILE[:-1]) | st.text(max_size=5), max_size=6).map("".join),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Cs", "Zl", "Zp"]), max_size=30),
)


@settings(max_examples=300)
@given(hostile_text, st.sampled_from(list(Field)))
def test_clean_never_lets_a_control_through_and_is_capped(text: str, field: Field) -> None:
    safe = clean(text, field)
    assert isinstance(safe, SafeText)
    multiline = field in MULTILINE
    assert not any(dangerous(ch, multiline) for ch in safe)
    assert "\x1b" not in safe and "\x7f" not in safe
    assert len(safe) <= CAPS[field]
    assert clean(str(safe), field) == safe  # idempotent
    safe.encode("utf-8")  # printable to any UTF-8 terminal: no lone surrogate


@given(st.text(alphabet=st.characters(categories=["L", "M", "N", "P", "S"]) | st.just(" "), max_size=80),
       st.sampled_from(list(Field)))
def test_printable_text_of_allowed_length_is_unchanged(text: str, field: Field) -> None:
    assert clean(text, field) == text


@given(st.text(min_size=1), st.sampled_from(list(Field)))
def test_a_cut_is_visible(text: str, field: Field) -> None:
    long = text * (CAPS[field] // len(text) + 2)
    safe = clean(long, field)
    assert safe.endswith(ELLIPSIS) and len(safe) <= CAPS[field]


def test_escapes_are_visible_and_markup_is_data() -> None:
    assert clean("a\x1b[31mb", Field.NAME) == "a\\x1b[31mb"
    assert clean("\u202eexe", Field.NAME) == "\\u202eexe"
    assert clean("one\ntwo", Field.CHAT) == "one\\ntwo"
    assert clean("one\ntwo\tx", Field.BODY) == "one\ntwo\tx"
    assert clean("\x9b\x7f\ud800", Field.NAME) == "\\x9b\\x7f\\ud800"
    assert clean("[b white on green]x[/]", Field.NAME) == "[b white on green]x[/]"
    assert clean("👨\u200d👩\u200d👧", Field.NAME) == "👨\u200d👩\u200d👧"  # joiners stay
    assert visible("x" * 10, cap=5) == "xxxx…"


def test_a_cut_never_leaves_half_an_escape_and_the_last_guard_never_cuts() -> None:
    assert clean("a" * 62 + "\x1b", Field.NAME) == "a" * 62 + ELLIPSIS
    assert clean("a" * 60 + "\u202e", Field.NAME) == "a" * 60 + ELLIPSIS
    assert visible("a\x1bb" * 1000) == "a\\x1bb" * 1000  # front ends escape, the door caps


def test_a_one_megabyte_name_is_one_short_line_quickly() -> None:
    safe = clean("\n".join(["x" * 79] * 13000), Field.NAME)
    assert len(safe) == CAPS[Field.NAME] and "\n" not in safe


# -- the door in decode: every free-text field of every message --------------------------

EVIL = "[b white on green]ok[/]\x1b]0;title\x07\x1b[2J\u202e\n" + "y" * 10000


def received(message: m.AppMessage) -> m.AppMessage:
    return m.decode(m.encode(message))


def assert_safe(value: object, cap: int, multiline: bool = False) -> None:
    assert isinstance(value, SafeText), value
    assert not any(dangerous(ch, multiline) for ch in value)
    assert len(value) <= cap
    assert "[b white on green]ok[/]" in value or len(value) < 25


def test_every_text_field_is_cleaned_at_decode() -> None:
    hello = received(m.Hello("agent", EVIL, EVIL))
    assert isinstance(hello, m.Hello)
    assert_safe(hello.name, 64)
    assert_safe(hello.client, 64)
    chat = received(m.Chat(EVIL[:4000]))
    assert isinstance(chat, m.Chat)
    assert_safe(chat.text, CAPS[Field.CHAT])
    end = received(m.End(EVIL, EVIL))
    assert isinstance(end, m.End)
    assert_safe(end.reason, 64)
    assert_safe(end.message, CAPS[Field.MESSAGE])
    seen = m.decode(m.encode(m.IdentitySeen("forged", "x", "y", "z")).replace(b'"x"', b'"\\u001b[2J"'))
    assert isinstance(seen, m.IdentitySeen) and seen.agent == "\\x1b[2J"
    call = received(m.Call("decline", "\x1b]52;c;eA==\x07"))
    assert isinstance(call, m.Call) and call.reason == "\\x1b]52;c;eA==\\x07"
    unknown = m.decode(b"\x00" + b'{"t": "\\u001b[2Jnew"}')
    assert isinstance(unknown, m.Unknown) and unknown.type == "\\x1b[2Jnew"


def test_step_state_from_the_customer_is_rebuilt_and_cleaned() -> None:
    state = {"title": EVIL, "current": 0, "finished": False, "event": "ended", "message": "forged",
             "steps": [{"title": EVIL, "status": EVIL, "by": "customer", "at": 1.5, "body": EVIL, "command": EVIL,
                        "extra": EVIL}, "not a step", {"title": 7}]}
    got = received(m.Steps(state))
    assert isinstance(got, m.Steps)
    out = got.state
    assert set(out) == {"title", "current", "finished", "steps"}  # "event" cannot rename the agent's event
    assert_safe(out["title"], CAPS[Field.TITLE])
    first = out["steps"][0]
    assert set(first) == {"title", "status", "by", "at", "body", "command"}
    assert_safe(first["title"], CAPS[Field.TITLE])
    assert_safe(first["status"], 64)
    assert_safe(first["command"], CAPS[Field.COMMAND])
    assert_safe(first["body"], CAPS[Field.BODY], multiline=True)
    assert out["steps"][1] == {"title": "", "at": None}
    error = received(m.Steps({"error": EVIL}))
    assert isinstance(error, m.Steps)
    assert_safe(error.state["error"], CAPS[Field.ERROR])
    assert clean_steps_state({"steps": "x"}) == {"current": None, "finished": False, "steps": []}


def test_pushed_playbook_text_is_cleaned_but_commands_and_patterns_are_left_to_the_validator() -> None:
    data = {"title": "\u202eFix\x1b[2J", "description": "ok\n\x1b]0;t\x07",
            "steps": [{"title": "[b]one[/]\x1b", "body": "line\n\x9bx", "command": "ls \x1b", "expect": "a\\x1b"}]}
    got = clean_playbook(data)
    assert got["title"] == "\\u202eFix\\x1b[2J"
    assert got["description"] == "ok\n\\x1b]0;t\\x07"
    assert got["steps"][0] == {"title": "[b]one[/]\\x1b", "body": "line\n\\x9bx", "command": "ls \x1b", "expect": "a\\x1b"}
    pushed = received(m.PushPlaybook(data))
    assert isinstance(pushed, m.PushPlaybook) and pushed.playbook == got


def test_messages_that_are_not_read_are_not_touched() -> None:
    assert received(m.Keys("\x1b[A\r")) == m.Keys("\x1b[A\r")
    assert received(m.Redact(["\\x1b"])) == m.Redact(["\\x1b"])
    assert received(m.Pointer(pattern="[/]")) == m.Pointer(pattern="[/]")


@pytest.mark.parametrize("text", HOSTILE)
def test_verdicts_quote_the_credential_safely(text: str) -> None:
    verdict = Verdict("wrong_org", text, text, f"{text!r} claiming {text}")
    for value, cap in ((verdict.agent, 64), (verdict.org, 64), (verdict.detail, CAPS[Field.DETAIL])):
        assert isinstance(value, SafeText) and len(value) <= cap
        assert not any(dangerous(ch, False) for ch in value)



def test_the_front_ends_guard_keeps_the_isolates_of_our_own_sentences_only() -> None:
    """Our Persian sentences isolate their values (cobrowse.i18n.text); the guard keeps the
    balanced isolates of a Translated sentence handed over whole, and escapes every isolate in
    any other string: peer text, raw fields, a sentence glued to peer text by an f-string."""
    from cobrowse.i18n.text import Translated

    ours = Translated("a \u2068Ctrl-] y\u2069 b \u2068x\u2066y\u2069z\u2069")
    assert visible(ours) == ours
    assert visible(Translated("x\u2069 \u2066\u202ey\x1b\u2069 \u2068open")) == "x\\u2069 \u2066\\u202ey\\x1b\u2069 \\u2068open"
    assert visible(str(ours)) == "a \\u2068Ctrl-] y\\u2069 b \\u2068x\\u2066y\\u2069z\\u2069"
    assert visible(f"{ours} {ours}") == visible(str(ours)) + " " + visible(str(ours))
    assert visible(Translated("\u2068x\u2069"), cap=100) == "\\u2068x\\u2069"  # the door never keeps them
    assert clean(ours, Field.NAME) == visible(str(ours))
