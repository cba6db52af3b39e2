"""Every peer text field × every plain front end: whatever the other side sends, what reaches
the customer's (or the agent's) real terminal holds no control character, shows markup as
the characters it is, stays bounded, and never raises.

Each field goes through the real door (``messages.encode`` then ``decode``, the trust
verdict, ``playbook_from_dict``) into the event the runtime emits for it, then into each
front end: plain mode (``PlainNotices`` inside ``GuideNotices``, writing through ``say``),
the agent's line console, and the headless JSON lines.
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
from cobrowse.playbook import StepMachine, playbook_from_dict
from cobrowse.protocol import messages as m
from cobrowse.trust import OrgKey, no_proof, verify
from cobrowse.trust.display import agent_identity_event, customer_identity_event
from tests.protocol.test_untrusted import HOSTILE, hostile_text

Events = list[dict[str, Any]]


def door(message: m.AppMessage) -> Any:
    """As a hostile peer sends it: raw JSON, where a lone surrogate is one escape away."""
    return m.decode(b"\x00" + json.dumps(message.to_json()).encode())


def hello_name(text: str) -> Events:
    hello = door(m.Hello("agent", text, text))
    return [{"event": "hello", "role": hello.role, "name": hello.name, "client": hello.client},
            customer_identity_event(no_proof(True), hello.name)]


def chat(text: str) -> Events:
    return [{"event": "chat", "from": "agent", "text": door(m.Chat(text[:m.MAX_TEXT])).text}]


def end_message(text: str) -> Events:
    end = door(m.End(text, text, feedback=True))
    return [{"event": "feedback_prompt", "timeout_s": 45, "message": f"{end.message}. Was it solved?"},
            {"event": "ended", "reason": end.reason, "message": end.message or end.reason}]


def call_reason(text: str) -> Events:
    call = door(m.Call("hangup", text[:200]))
    return [{"event": "voice", "state": "idle", "reason": call.reason}]


def identity_seen(text: str) -> Events:
    seen = door(m.IdentitySeen("forged", text[:64], text[:64], text[:500]))
    return [agent_identity_event(seen.status, seen.agent, seen.org, seen.detail)]


_ORG = OrgKey.generate("Acme", os.urandom)


def credential(text: str) -> Events:
    """An attacker's credential: names it chose, signed by a key nobody trusts."""
    _, identity = _ORG.issue("Alice", int(time.time()), 1, os.urandom)
    forged = {**identity.credential.to_dict(), "agent": text, "org": text}
    verdict = verify(forged, b"", b"binding", [], int(time.time()))
    return [customer_identity_event(verdict, text)]


def pushed_playbook(text: str) -> Events:
    pushed = door(m.PushPlaybook({"title": text or "t", "description": text,
                                  "steps": [{"title": text or "s", "body": text, "command": "ls -l"}]}))
    try:
        playbook = playbook_from_dict(pushed.playbook)
    except Exception as exc:  # refused: the customer sees the reason, built from our words
        return [{"event": "notice", "message": f"refused the playbook: {exc}"}]
    return [{"event": "notice", "message": f"the agent started a guide: {playbook.title}"},
            {"event": "steps", **StepMachine(playbook).to_dict()}]


def customer_steps(text: str) -> Events:
    state = door(m.Steps({"title": text, "current": 0, "finished": False, "event": text,
                          "steps": [{"title": text, "status": text, "by": text, "body": text, "command": text}]}))
    error = door(m.Steps({"error": text}))
    return [{"event": "steps", **state.state}, {"event": "error", "message": error.state["error"]}]


def suggestion(text: str) -> Events:
    """Suggest.command is validated elsewhere, not cleaned: its display must still be safe."""
    command = text[:m.MAX_TEXT] or "x"
    return [{"event": "suggestion", "id": 1, "command": command,
             "message": f"the agent suggests: {command}   (Ctrl-] a to paste it)"}]


def pointer(text: str) -> Events:
    pattern = text[:500]
    return [{"event": "pointer", "rows": [], "pattern": pattern,
             "message": f"the agent points at lines matching {pattern!r}: (nothing there now)"}]


def unknown_type(text: str) -> Events:
    unknown = m.decode(b"\x00" + json.dumps({"t": text or "x"}).encode())
    return [{"event": "warning", "kind": "unknown", "message": f"ignored a {unknown.type!r} message from a newer client"}]


FIELDS: dict[str, Callable[[str], Events]] = {
    "hello.name": hello_name, "chat.text": chat, "end.message": end_message, "call.reason": call_reason,
    "identity_seen": identity_seen, "credential": credential, "playbook": pushed_playbook,
    "steps": customer_steps, "suggest.command": suggestion, "pointer.pattern": pointer, "unknown.type": unknown_type,
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
    assert [json.loads(line) for line in out.splitlines()] == [json.loads(json.dumps(e)) for e in events]
    return out


FRONT_ENDS = {"plain": plain_customer, "line_console": line_console, "headless": headless}


def assert_terminal_safe(out: str) -> None:
    """Newlines (each line is ours) and tabs (a step's explanation) are all that may pass."""
    for ch in out:
        if ch in "\n\t":
            continue
        assert unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp") or ch in "\u200c\u200d", \
            f"U+{ord(ch):04X} reached the terminal"


@pytest.mark.parametrize("front_end", FRONT_ENDS)
@pytest.mark.parametrize("field", FIELDS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=hostile_text)
def test_every_field_in_every_plain_front_end_is_data(field: str, front_end: str, text: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    try:
        events = FIELDS[field](text)
    except m.MalformedPayload as exc:  # refused whole by the size limits: nothing is shown
        assert "accepted" in str(exc) or "too long" in str(exc), exc
        return
    out = FRONT_ENDS[front_end](events, capsys)
    assert_terminal_safe(out)
    assert len(out) < 200_000  # a 1 MB field never comes out whole


@pytest.mark.parametrize("field", ["hello.name", "chat.text", "end.message", "credential", "playbook", "steps"])
def test_markup_and_escapes_show_as_text_in_plain_mode(field: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = plain_customer(FIELDS[field]("[b white on green]Verified[/] \x1b]0;pwned\x07"), capsys)
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
