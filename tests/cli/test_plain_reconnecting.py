"""Plain mode while the relay is away: a line for the drop and a few reminders, not one for
each of the ~35 attempts of the 300 s the runtime keeps trying (one a line before)."""

from __future__ import annotations

import pytest

from cobrowse.cli.customer import PlainNotices
from cobrowse.i18n.notices import repeated_attempt
from cobrowse.policy.session_events import Reconnecting, Resumed


def test_a_long_outage_says_the_drop_then_the_doubling_attempts(capsys: pytest.CaptureFixture[str]) -> None:
    notices = PlainNotices()
    for attempt in range(1, 41):
        notices(Reconnecting(attempt=attempt, cause="relay_down"))
    notices(Resumed())
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("[cobrowse] the relay is not answering"), lines
    assert [line for line in lines if "still reconnecting" in line] == [
        f"[cobrowse] still reconnecting (attempt {n})" for n in (2, 4, 8, 16, 32)], lines
    assert lines[-1] == "[cobrowse] reconnected", lines
    assert len(lines) == 7, lines


def test_only_reconnect_attempts_are_ever_quiet() -> None:
    assert not repeated_attempt({"event": "connection", "state": "reconnecting", "attempt": 1})
    assert repeated_attempt({"event": "connection", "state": "reconnecting", "attempt": 3})
    assert not repeated_attempt({"event": "connection", "state": "resumed", "attempt": 3})
    assert not repeated_attempt({"event": "chat", "attempt": 3})
    assert not repeated_attempt({"event": "connection", "state": "reconnecting", "attempt": "3"})
