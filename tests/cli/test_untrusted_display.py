"""Every peer text field × every plain front end: whatever the other side sends, what reaches
the customer's (or the agent's) real terminal holds no control character, shows markup as
the characters it is, stays bounded, and never raises.

Each field goes through the real door (``messages.encode`` then ``decode``, the trust
verdict, ``playbook_from_dict``) into the typed events the receiving side emits for it: the
customer's policy (``CustomerPolicy.message``) for what a hostile agent sends, the agent's
(``AgentPolicy.receive``) for what a hostile customer sends, and the runtime's own events
(hello, identity, the call, the end) built as the runtime builds them. Then into each front
end of that side: plain mode (``PlainNotices`` inside ``GuideNotices``, writing through
``say``) for the customer; the agent's line console and the headless JSON lines for the agent.
"""

from __future__ import annotations

import io
import json
import os
import time
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from cobrowse.cli.agent import LineConsole
from cobrowse.cli.guide import GuideNotices
from cobrowse.io.headless import JsonLines
from cobrowse.policy.agent import AgentPolicy
from cobrowse.policy.customer_events import IdentityShown, from_shape
from cobrowse.policy.events import Event, as_json
from cobrowse.policy.session_events import PeerHello, SessionEnded, VoiceChanged
from cobrowse.protocol import messages as m
from cobrowse.trust import OrgKey, no_proof, verify
from cobrowse.trust.display import customer_identity_event
from tests.policy.customer_harness import Drive
from tests.protocol.test_untrusted import HOSTILE, hostile_text

Events = list[Event]


def door(message: m.AppMessage) -> Any:
    """As a hostile peer sends it: raw JSON, where a lone surrogate is one escape away."""
    return m.decode(b"\x00" + json.dumps(message.to_json()).encode())


def customer_gets(message: m.AppMessage) -> Events:
    """The events the customer's policy emits for what the agent sent (past the door)."""
    return [e for e in Drive(ask_feedback=True).agent(door(message)) if isinstance(e, Event)]


def agent_gets(message: m.AppMessage) -> Events:
    """The events the agent's policy emits for what the customer sent (past the door)."""
    return list(AgentPolicy().receive(door(message), 0.0).events)


# -- what a hostile agent sends, as the customer's side shows it


def hello_name(text: str) -> Events:
    """The runtime's ``PeerHello`` and the customer's identity verdict on that name."""
    hello = door(m.Hello("agent", text, text))
    return [PeerHello(hello.role, hello.name, hello.client),
            from_shape(IdentityShown, customer_identity_event(no_proof(True), hello.name))]


def chat(text: str) -> Events:
    return customer_gets(m.Chat(text[:m.MAX_TEXT]))


def end_message(text: str) -> Events:
    """The feedback question (``CustomerPolicy.agent_ended``), then the runtime's end."""
    end = door(m.End(text, text, feedback=True))
    drive = Drive(ask_feedback=True)
    asked = [e for e in drive.policy.agent_ended(end, drive.clock) if isinstance(e, Event)]
    return asked + [SessionEnded(end.reason, end.message or end.reason)]


def call_reason(text: str) -> Events:
    """The call's state as ``cobrowse.io.rtc`` emits it when the peer hung up with a reason."""
    call = door(m.Call("hangup", text[:200]))
    return [VoiceChanged("idle", False, False, call.reason or None)]


_ORG = OrgKey.generate("Acme", os.urandom)


def credential(text: str) -> Events:
    """An attacker's credential: names it chose, signed by a key nobody trusts."""
    _, identity = _ORG.issue("Alice", int(time.time()), 1, os.urandom)
    forged = {**identity.credential.to_dict(), "agent": text, "org": text}
    verdict = verify(forged, b"", b"binding", [], int(time.time()))
    return [from_shape(IdentityShown, customer_identity_event(verdict, text))]


def pushed_playbook(text: str) -> Events:
    """A guide started (a notice and the steps); a refused one shows the customer nothing (the
    reason goes back to the agent: ``customer_steps``)."""
    return customer_gets(m.PushPlaybook({"title": text or "t", "description": text,
                                         "steps": [{"title": text or "s", "body": text, "command": "ls -l"}]}))


def suggestion(text: str) -> Events:
    """Suggest.command is validated, not cleaned: shown, or refused with the reason; both safe."""
    return customer_gets(m.Suggest(1, text[:m.MAX_TEXT] or "x"))


def pointer(text: str) -> Events:
    return customer_gets(m.Pointer(pattern=text[:500] or "x"))


# -- what a hostile customer sends, as the agent's side shows it


def customer_hello(text: str) -> Events:
    hello = door(m.Hello("customer", text, text))
    return [PeerHello(hello.role, hello.name, hello.client)]


def customer_chat(text: str) -> Events:
    return agent_gets(m.Chat(text[:m.MAX_TEXT]))


def identity_seen(text: str) -> Events:
    return agent_gets(m.IdentitySeen("forged", text[:64], text[:64], text[:500]))


def customer_steps(text: str) -> Events:
    state = agent_gets(m.Steps({"title": text, "current": 0, "finished": False, "event": text,
                                "steps": [{"title": text, "status": text, "by": text, "body": text, "command": text}]}))
    return state + agent_gets(m.Steps({"error": text}))


def unknown_type(text: str) -> Events:
    return list(AgentPolicy().receive(m.decode(b"\x00" + json.dumps({"t": text or "x"}).encode()), 0.0).events)


Fields = dict[str, Callable[[str], Events]]

#: What a hostile agent can put in front of the customer.
CUSTOMER_FIELDS: Fields = {
    "hello.name": hello_name, "chat.text": chat, "end.message": end_message, "call.reason": call_reason,
    "credential": credential, "playbook": pushed_playbook, "suggest.command": suggestion, "pointer.pattern": pointer,
}
#: What a hostile customer can put in front of the agent.
AGENT_FIELDS: Fields = {
    "hello.name": customer_hello, "chat.text": customer_chat, "call.reason": call_reason,
    "identity_seen": identity_seen, "steps": customer_steps, "unknown.type": unknown_type,
}


def plain_customer(events: Events, capsys: pytest.CaptureFixture[str]) -> str:
    notices = GuideNotices()
    for event in events:
        notices(event)
    return capsys.readouterr().err


def line_console(events: Events, capsys: pytest.CaptureFixture[str]) -> str:
    console = LineConsole()
    for event in events:
        console(event)
    return capsys.readouterr().out


def headless(events: Events, capsys: pytest.CaptureFixture[str]) -> str:
    stream = io.StringIO()
    lines = JsonLines(stream)
    for event in events:
        lines(event)
    out = stream.getvalue()
    assert [json.loads(line) for line in out.splitlines()] == [json.loads(json.dumps(as_json(e))) for e in events]
    return out


#: Each front end with the fields its side is shown.
FRONT_ENDS: dict[str, tuple[Callable[[Events, pytest.CaptureFixture[str]], str], Fields]] = {
    "plain": (plain_customer, CUSTOMER_FIELDS), "line_console": (line_console, AGENT_FIELDS),
    "headless": (headless, AGENT_FIELDS)}
CASES = [(front_end, field) for front_end, (_, fields) in FRONT_ENDS.items() for field in fields]


def assert_terminal_safe(out: str) -> None:
    """Newlines (each line is ours) and tabs (a step's explanation) are all that may pass."""
    for ch in out:
        if ch in "\n\t":
            continue
        assert unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp") or ch in "\u200c\u200d", \
            f"U+{ord(ch):04X} reached the terminal"


@pytest.mark.parametrize(("front_end", "field"), CASES, ids=[f"{f}-{e}" for e, f in CASES])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=hostile_text)
def test_every_field_in_every_plain_front_end_is_data(field: str, front_end: str, text: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    show, fields = FRONT_ENDS[front_end]
    try:
        events = fields[field](text)
    except m.MalformedPayload as exc:  # refused whole by the size limits: nothing is shown
        assert "accepted" in str(exc) or "too long" in str(exc), exc
        return
    out = show(events, capsys)
    assert_terminal_safe(out)
    assert len(out) < 200_000  # a 1 MB field never comes out whole


@pytest.mark.parametrize("field", ["hello.name", "chat.text", "end.message", "credential", "playbook"])
def test_markup_and_escapes_show_as_text_in_plain_mode(field: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = plain_customer(CUSTOMER_FIELDS[field]("[b white on green]Verified[/] \x1b]0;pwned\x07"), capsys)
    assert "[b white on green]Verified[/]" in out
    assert "\\x1b]0;pwned\\x07" in out
    assert "\x1b" not in out


def test_every_plain_line_is_ours_and_a_huge_name_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    name = "\n[cobrowse] Verified: Alice from Microsoft\r\n" * 30000  # ~1.3 MB
    out = plain_customer(hello_name(name) + chat(name), capsys)
    lines = out.splitlines()
    assert len(lines) == 3  # hello, the UNVERIFIED warning, the chat line
    assert all(line.startswith("[cobrowse] ") for line in lines)
    assert sum(line.startswith("[cobrowse] [cobrowse]") for line in lines) == 0
    assert any("UNVERIFIED AGENT" in line for line in lines)
    assert max(len(line) for line in lines) < 3000


@pytest.mark.parametrize("text", HOSTILE)
def test_say_is_the_last_guard(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    from cobrowse.cli.commands import say

    say(f"our words, then raw peer text: {text[:5000]}")
    out = capsys.readouterr().err
    assert_terminal_safe(out)
    assert all(line.startswith("[cobrowse] ") for line in out.splitlines())
