"""Suggestions are one printable line; no control byte ever reaches the program from one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cobrowse.protocol.suggestion import (
    MAX_SUGGESTION,
    Paste,
    Refused,
    check_suggestion,
    plan_paste,
)
from cobrowse.screen.keys import PASTE_END, PASTE_START
from cobrowse.screen.state import Modes

SHELL, BRACKETED, FULL_SCREEN = Modes(), Modes(bracketed_paste=True), Modes(alt_screen=True, bracketed_paste=True)


@pytest.mark.parametrize(("command", "named"), [
    ("sleep 1\x1a rm -rf ~", "Ctrl-Z"),
    ("sleep 1\x1c touch pwned", "Ctrl-\\"),
    ("ls\rtouch pwned", "carriage return"),
    ("ls\ntouch pwned", "line feed"),
    ("ls\ttouch", "tab"),
    ("echo \x1b[201~; touch pwned", "escape"),
    ("echo \x03", "Ctrl-C"),
    ("echo \x7f", "delete"),
    ("echo \x9b201~", "U+009B"),
    ("echo \x00", "NUL"),
    ("ls # \u202e\u2066txt.exe", "U+202E"),
    ("echo a\u2028b", "U+2028"),
    ("ls\n", "line feed"),
])
def test_control_characters_are_refused_with_a_reason_that_names_them(command: str, named: str) -> None:
    reason = check_suggestion(command)
    assert reason is not None and named in reason and "character" in reason
    for modes in (SHELL, BRACKETED):
        plan = plan_paste(command, modes)
        assert isinstance(plan, Refused) and plan.reason == reason and not plan.retry


def test_empty_and_long_commands_are_refused() -> None:
    assert check_suggestion("   ") == "the command is empty"
    assert check_suggestion("x" * MAX_SUGGESTION) is None
    assert "at most" in (check_suggestion("x" * (MAX_SUGGESTION + 1)) or "")


def test_a_printable_line_is_pasted_bracketed_when_the_program_asked_for_it() -> None:
    assert plan_paste("grep -r 'é' . | less", SHELL) == Paste("grep -r 'é' . | less".encode())
    assert plan_paste("ls -la", BRACKETED) == Paste(PASTE_START + b"ls -la" + PASTE_END)


def test_nothing_is_pasted_into_a_full_screen_program() -> None:
    plan = plan_paste("ls -la", FULL_SCREEN)
    assert isinstance(plan, Refused) and plan.retry and "full-screen program" in plan.reason


@given(st.text(max_size=200))
def test_no_control_byte_ever_reaches_the_program(command: str) -> None:
    for modes in (SHELL, BRACKETED):
        plan = plan_paste(command, modes)
        if isinstance(plan, Paste):
            body = plan.data[len(PASTE_START):-len(PASTE_END)] if modes.bracketed_paste else plan.data
            assert not any(b < 0x20 or b == 0x7F for b in body)
            assert "\x85" not in body.decode() and not any(0x80 <= ord(c) <= 0x9F for c in body.decode())
