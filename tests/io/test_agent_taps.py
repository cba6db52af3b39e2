"""The agent's taps (audit trail, history, recorder side file, headless printer) take the
typed events the agent's runtime emits: each passes on unchanged (the same object) and is
kept, and printed, in its headless shape (docs/headless.md)."""

from __future__ import annotations

import io
import json
from pathlib import Path

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
from cobrowse.policy.events import Event, kind_of
from cobrowse.policy.session_events import EndReason, PeerHello, SessionEnded, SessionPaired
from cobrowse.screen.emulator import Emulator

STEPS = {"title": "Wi-Fi", "current": 1, "steps": [{"title": "a", "status": "done"}, {"title": "b", "status": "failed"}]}


def session() -> list[Event]:
    """One session's events, as the agent's runtime emits them."""
    return [
        SessionPaired("x y z"),
        PeerHello("customer", "Ann", "cobrowse 0.1"),
        ConsentChanged(ConsentLevel.CONTROL),
        ChatMessage(Side.CUSTOMER, "hello"),
        SuggestionAnswered(1, "ls", SuggestionAnswer.PASTED),
        RecordingChanged(RecordingState.STOPPED, Side.CUSTOMER, message="the customer stopped the recording"),
        StepsChanged(STEPS),
        ScreenChanged(Emulator(10, 2).state()),
        SessionEnded(EndReason.AGENT_ENDED, "the agent ended the session"),
    ]


class Clock:
    def __init__(self) -> None:
        self.now = 1764547200.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


def test_the_audit_trail_passes_events_on_and_keeps_what_matters(tmp_path: Path) -> None:
    out: list[Event] = []
    trail = AuditTrail(out.append, tmp_path, "agent", Clock())
    events = session()
    for event in events:
        trail(event)
    passed = [e for e in out if kind_of(e) != "receipt"]
    assert passed == events and all(a is b for a, b in zip(passed, events))  # passed on as they came
    assert trail.path is not None
    kept = [{k: v for k, v in json.loads(line).items() if k not in ("time", "seq", "prev", "hash")}
            for line in trail.path.read_text().splitlines()]
    assert kept == [
        {"side": "agent", "event": "paired", "sas": "x y z"},
        {"side": "agent", "event": "peer", "role": "customer", "name": "Ann"},
        {"side": "agent", "event": "consent", "level": "control"},
        {"side": "agent", "event": "suggestion", "command": "ls", "answer": "pasted"},
        {"side": "agent", "event": "recording", "state": "stopped", "by": "customer"},
        {"side": "agent", "event": "playbook", "title": "Wi-Fi"},
        {"side": "agent", "event": "ended", "reason": "agent_ended"}]


def test_the_history_keeps_a_row_from_the_typed_events(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    out: list[Event] = []
    tap = HistoryTap(out.append, store, Clock())
    for event in session():
        tap(event)
    assert out == session()
    (row,) = store.recent()
    assert (row.customer, row.end_reason, row.playbook, row.steps) == ("Ann", "agent_ended", "Wi-Fi",
                                                                        (("a", "done"), ("b", "failed")))


def test_the_recorder_notes_typed_events_in_their_headless_shape(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path, 10.0, {"customer": "Ann"})
    recorder.note_event(ChatMessage(Side.AGENT, "hi"), 11.0)
    recorder.note_event(ConsentChanged(ConsentLevel.VIEW), 12.0)
    recorder.note_event(ConsentChanged(ConsentLevel.CONTROL), 13.0)
    assert recorder.events == [{"t": 1.0, "kind": "chat", "from": "agent", "text": "hi"},
                               {"t": 2.0, "kind": "consent", "level": "view"},
                               {"t": 3.0, "kind": "consent", "level": "control"}]
    recorder.close(14.0, "ended")


def test_the_headless_printer_prints_the_documented_lines() -> None:
    out = io.StringIO()
    printer = JsonLines(out)
    for event in session():
        printer(event)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(session())
    screen = json.loads(lines.pop(7))
    assert screen["event"] == "screen" and screen["size"] == [10, 2] and screen["lines"] == ["", ""]
    assert lines == [
        '{"event": "paired", "sas": "x y z"}',
        '{"event": "hello", "role": "customer", "name": "Ann", "client": "cobrowse 0.1"}',
        '{"event": "consent", "level": "control"}',
        '{"event": "chat", "from": "customer", "text": "hello"}',
        '{"event": "suggestion", "id": 1, "command": "ls", "answer": "pasted"}',
        '{"event": "recording", "state": "stopped", "by": "customer", "message": "the customer stopped the recording"}',
        '{"event": "steps", "title": "Wi-Fi", "current": 1, "steps": [{"title": "a", "status": "done"}, '
        '{"title": "b", "status": "failed"}]}',
        '{"event": "ended", "reason": "agent_ended", "message": "the agent ended the session"}']
