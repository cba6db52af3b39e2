"""The line console (`cobrowse agent` on a plain terminal): each typed line is a typed command."""

from __future__ import annotations

import pytest

from cobrowse.cli.agent import line_command
from cobrowse.policy import agent_commands as c
from cobrowse.policy.agent_commands import CommandError, ConsentLevel


@pytest.mark.parametrize("line, command", [
    ("hello there", c.Chat("hello there")),
    ("/control", c.RequestControl(ConsentLevel.CONTROL)),
    ("/suggest", c.RequestControl(ConsentLevel.SUGGEST)),
    ("/keys ls -la\\r", c.Keys("ls -la\r")),
    ("/record", c.Record(True)),
    ("/record off", c.Record(False)),
    ("/mute", c.Mute(True)),
    ("/unmute", c.Mute(False)),
    ("/call", c.Call()),
    ("/hangup", c.Hangup()),
    ("/end", c.End()),
])
def test_lines_become_typed_commands(line: str, command: c.AgentCommand) -> None:
    assert line_command(line) == command


@pytest.mark.parametrize("line, message", [
    ("/keys", 'keys needs a non-empty "data" string'),
    ("/frobnicate", "unknown command 'frobnicate'"),
    ("/playbook", 'playbook needs a "path" to a playbook file'),
])
def test_a_bad_line_says_what_it_needs(line: str, message: str) -> None:
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        line_command(line)
