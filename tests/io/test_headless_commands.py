"""The headless adapter: JSON objects become typed commands with today's error messages, and
typed events print the very lines the dict events printed (same keys, same order)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from cobrowse.io.headless import JsonLines, json_line, parse_command
from cobrowse.policy import agent_commands as c
from cobrowse.policy.agent_commands import CommandError, ConsentLevel, StepAction, StepStatus
from cobrowse.policy.agent_events import (
    AgentError,
    AgentWarning,
    ChatMessage,
    ConsentChanged,
    FeedbackWait,
    IdentityReported,
    Joined,
    RecordingChanged,
    RecordingState,
    SharingChanged,
    Side,
    StepsChanged,
    SuggestionAnswer,
    SuggestionAnswered,
)
from cobrowse.policy.events import Event


@pytest.mark.parametrize("obj, command", [
    ({"cmd": "chat", "text": "hi"}, c.Chat("hi")),
    ({"cmd": "request_control"}, c.RequestControl(ConsentLevel.CONTROL)),
    ({"cmd": "request_control", "level": "suggest"}, c.RequestControl(ConsentLevel.SUGGEST)),
    ({"cmd": "keys", "data": "ls\r"}, c.Keys("ls\r")),
    ({"cmd": "suggest", "command": "ls -la"}, c.Suggest("ls -la")),
    ({"cmd": "playbook", "path": "guide.md"}, c.PushPlaybook("guide.md")),
    ({"cmd": "steps", "title": "T", "steps": []}, c.PushSteps((("title", "T"), ("steps", [])))),
    ({"cmd": "step", "index": 2, "status": "done"}, c.Step(StepAction.MARK, 2, StepStatus.DONE)),
    ({"cmd": "step", "action": "back"}, c.Step(StepAction.BACK)),
    ({"cmd": "point", "rows": [5, 3]}, c.Point(rows=(3, 5))),
    ({"cmd": "point", "rows": [4]}, c.Point(rows=(4, 4))),
    ({"cmd": "point", "pattern": "^x"}, c.Point(pattern="^x")),
    ({"cmd": "point"}, c.Point()),
    ({"cmd": "call"}, c.Call()),
    ({"cmd": "hangup"}, c.Hangup()),
    ({"cmd": "mute"}, c.Mute(True)),
    ({"cmd": "mute", "muted": False}, c.Mute(False)),
    ({"cmd": "redact", "patterns": ["ACME-[0-9]+"]}, c.Redact(("ACME-[0-9]+",))),
    ({"cmd": "record"}, c.Record(True)),
    ({"cmd": "record", "on": False}, c.Record(False)),
    ({"cmd": "end"}, c.End()),
    ({"cmd": "end", "feedback": True}, c.End(True)),
])
def test_every_headless_command_has_its_typed_form(obj: dict[str, Any], command: c.AgentCommand) -> None:
    assert parse_command(obj) == command


@pytest.mark.parametrize("obj, message", [
    ({}, 'a command needs a "cmd" string'),
    ({"cmd": 3}, 'a command needs a "cmd" string'),
    ({"cmd": "nope"}, "unknown command 'nope'"),
    ({"cmd": "pick", "id": "q1"}, "pick works only while serving a help queue"),
    ({"cmd": "chat"}, 'chat needs a non-empty "text"'),
    ({"cmd": "chat", "text": "x" * 5000}, "chat text is longer than 4096 characters"),
    ({"cmd": "request_control", "level": "view"}, 'request_control needs "level": "suggest" or "control"'),
    ({"cmd": "keys", "data": ""}, 'keys needs a non-empty "data" string'),
    ({"cmd": "suggest"}, 'suggest needs a "command" string'),
    ({"cmd": "suggest", "command": "a\nb"}, "suggest needs one printable line; not sent"),
    ({"cmd": "playbook"}, 'playbook needs a "path" to a playbook file'),
    ({"cmd": "step", "index": "2", "status": "done"}, 'step needs "index" (a number)'),
    ({"cmd": "step", "index": True, "status": "done"}, 'step needs "index" (a number)'),
    ({"cmd": "step", "index": 1, "status": "great"}, 'step "status" must be one of pending, active, done'),
    ({"cmd": "step", "action": "sideways"}, 'step needs "index" (a number)'),
    ({"cmd": "point", "rows": [1, 2, 3]}, 'point "rows" must be [row] or [first, last]'),
    ({"cmd": "point", "rows": [1001]}, 'point "rows" must be [row] or [first, last]'),
    ({"cmd": "point", "pattern": "x" * 501}, 'point "pattern" must be a regex of at most 500 characters'),
    ({"cmd": "point", "pattern": 5}, 'point "pattern" must be a regex of at most 500 characters'),
    ({"cmd": "point", "pattern": "("}, "point pattern is not a valid regex"),
    ({"cmd": "mute", "muted": "yes"}, 'mute needs "muted": true or false'),
    ({"cmd": "redact", "patterns": []}, 'redact needs "patterns": a list of regexes'),
    ({"cmd": "redact", "patterns": "x"}, 'redact needs "patterns": a list of regexes'),
    ({"cmd": "record", "on": "yes"}, 'record needs "on": true (ask the customer) or false (stop)'),
    ({"cmd": "end", "feedback": "yes"}, 'end "feedback" must be true'),
])
def test_bad_commands_are_refused_with_the_reason(obj: dict[str, Any], message: str) -> None:
    with pytest.raises(CommandError) as refused:
        parse_command(obj)
    assert message in str(refused.value)


@pytest.mark.parametrize("typed, line", [
    (ChatMessage(Side.CUSTOMER, "hi"), '{"event": "chat", "from": "customer", "text": "hi"}'),
    (ConsentChanged(ConsentLevel.CONTROL), '{"event": "consent", "level": "control"}'),
    (SharingChanged(False), '{"event": "sharing", "active": false}'),
    (StepsChanged({"title": "T", "current": 0, "steps": []}), '{"event": "steps", "title": "T", "current": 0, "steps": []}'),
    (SuggestionAnswered(1, "ls", SuggestionAnswer.PASTED),
     '{"event": "suggestion", "id": 1, "command": "ls", "answer": "pasted"}'),
    (RecordingChanged(RecordingState.STOPPED, Side.AGENT, message="recording stopped"),
     '{"event": "recording", "state": "stopped", "by": "agent", "message": "recording stopped"}'),
    (RecordingChanged(RecordingState.ON, id="r1", path="/p", message="m"),
     '{"event": "recording", "state": "on", "id": "r1", "path": "/p", "message": "m"}'),
    (FeedbackWait(60.0, "m"), '{"event": "feedback_wait", "timeout_s": 60.0, "message": "m"}'),
    (IdentityReported({"event": "identity", "seen_by": "customer", "status": "none"}),
     '{"event": "identity", "seen_by": "customer", "status": "none"}'),
    (AgentWarning("unknown", "m"), '{"event": "warning", "kind": "unknown", "message": "m"}'),
    (AgentError("m", cmd="chat"), '{"event": "error", "message": "m", "cmd": "chat"}'),
    (AgentError("m", "start"), '{"event": "error", "message": "m", "kind": "start"}'),
    (Joined("12-3456-7890"), '{"event": "joined", "code": "12-3456-7890"}'),
])
def test_typed_events_print_the_lines_dicts_printed(typed: Event, line: str) -> None:
    assert json_line(typed) == line
    out = io.StringIO()
    JsonLines(out)(typed)
    assert out.getvalue() == line + "\n"


def test_peer_text_in_a_typed_event_is_still_escaped_on_stdout() -> None:
    line = json_line(ChatMessage(Side.CUSTOMER, "a\u202eb\x9bc"))
    assert "\u202e" not in line and "\\u202e" in line and "\\u009b" in line


def test_every_command_has_a_parser() -> None:
    from cobrowse.io.headless import PARSERS

    assert set(PARSERS) == set(c.COMMANDS)


async def test_before_pairing_every_known_command_is_refused_as_too_early() -> None:
    from cobrowse.io.agent import AgentRuntime
    from cobrowse.io.link import RelayLink

    runtime = AgentRuntime(RelayLink("ws://127.0.0.1:9", "agent"), lambda event: None)
    for obj in ({"cmd": "chat"}, {"cmd": "keys", "data": 5}, {"cmd": "point", "rows": "x"}, c.Chat("hi")):
        with pytest.raises(CommandError, match="needs a paired session"):
            await runtime.command(obj)  # type: ignore[arg-type]
    with pytest.raises(CommandError, match="unknown command"):
        await runtime.command({"cmd": "nope"})
