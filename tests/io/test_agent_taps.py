"""The agent's taps (audit trail, history, recorder side file, headless printer) take typed
events and dicts alike: typed ones pass on unchanged (the same object) and are kept exactly
as their dict form would have been."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from cobrowse.io.headless import JsonLines
from cobrowse.io.history import HistoryStore, HistoryTap
from cobrowse.io.receipts import AuditTrail
from cobrowse.io.recorder import Recorder
from cobrowse.policy.agent_commands import ConsentLevel
from cobrowse.policy.agent_events import (
    ChatMessage,
    ConsentChanged,
    RecordingChanged,
    RecordingState,
    ScreenChanged,
    Side,
    StepsChanged,
    SuggestionAnswer,
    SuggestionAnswered,
)
from cobrowse.policy.events import as_json
from cobrowse.screen.emulator import Emulator

STEPS = {"title": "Wi-Fi", "current": 1, "steps": [{"title": "a", "status": "done"}, {"title": "b", "status": "failed"}]}


def session(typed: bool) -> list[Any]:
    """One session's events, typed where the agent's side types them, else their dicts."""
    events: list[Any] = [
        {"event": "paired", "sas": "x y z"},
        {"event": "hello", "role": "customer", "name": "Ann", "client": "cobrowse 0.1"},
        ConsentChanged(ConsentLevel.CONTROL),
        ChatMessage(Side.CUSTOMER, "hello"),
        SuggestionAnswered(1, "ls", SuggestionAnswer.PASTED),
        RecordingChanged(RecordingState.STOPPED, Side.CUSTOMER, message="the customer stopped the recording"),
        StepsChanged(STEPS),
        ScreenChanged(Emulator(10, 2).state()),
        {"event": "ended", "reason": "agent_ended", "message": "the agent ended the session"},
    ]
    return events if typed else [as_json(e) for e in events]


class Clock:
    def __init__(self) -> None:
        self.now = 1764547200.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


def test_the_audit_trail_keeps_typed_events_as_it_kept_their_dicts(tmp_path: Path) -> None:
    kept = []
    for typed in (True, False):
        out: list[Any] = []
        trail = AuditTrail(out.append, tmp_path / str(typed), "agent", Clock())
        events = session(typed)
        for event in events:
            trail(event)
        assert [e for e in out if as_json(e)["event"] != "receipt"] == events  # passed on as they came
        assert all(a is b for a, b in zip([e for e in out if as_json(e)["event"] != "receipt"], events))
        assert trail.path is not None
        kept.append([{k: v for k, v in json.loads(line).items() if k not in ("t", "seq", "prev", "hash", "at")}
                     for line in trail.path.read_text().splitlines()])
    assert kept[0] == kept[1]
    assert [e["event"] for e in kept[0]] == ["paired", "peer", "consent", "suggestion", "recording", "playbook", "ended"]


def test_the_history_keeps_the_same_row_for_typed_events(tmp_path: Path) -> None:
    rows = []
    for typed in (True, False):
        store = HistoryStore(tmp_path / f"{typed}.sqlite3")
        out: list[Any] = []
        tap = HistoryTap(out.append, store, Clock())
        for event in session(typed):
            tap(event)
        assert len(out) == len(session(typed))
        (row,) = store.recent()
        rows.append((row.customer, row.end_reason, row.playbook, row.steps))
    assert rows[0] == rows[1] == ("Ann", "agent_ended", "Wi-Fi", (("a", "done"), ("b", "failed")))


def test_the_recorder_notes_typed_events_as_dicts(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path, 10.0, {"customer": "Ann"})
    recorder.note_event(ChatMessage(Side.AGENT, "hi"), 11.0)
    recorder.note_event({"event": "consent", "level": "view"}, 12.0)
    recorder.note_event(ConsentChanged(ConsentLevel.CONTROL), 13.0)
    assert recorder.events == [{"t": 1.0, "kind": "chat", "from": "agent", "text": "hi"},
                               {"t": 2.0, "kind": "consent", "level": "view"},
                               {"t": 3.0, "kind": "consent", "level": "control"}]
    recorder.close(14.0, "ended")


def test_the_headless_printer_prints_typed_and_dict_events_alike() -> None:
    lines = []
    for typed in (True, False):
        out = io.StringIO()
        printer = JsonLines(out)
        for event in session(typed):
            printer(event)
        lines.append(out.getvalue())
    assert lines[0] == lines[1] and lines[0].count("\n") == len(session(True))
