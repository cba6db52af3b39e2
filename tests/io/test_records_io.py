"""The adapters that keep records on disk: receipts trail, history database, recorder."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from cobrowse.audit.receipt import verify
from cobrowse.audit.stats import SessionRecord
from cobrowse.io.history import HistoryStore, HistoryTap
from cobrowse.io.receipts import AuditTrail
from cobrowse.io.recorder import Recorder, find_recording, list_recordings
from cobrowse.policy.agent_events import FeedbackAnswer, FeedbackStatus, StepsChanged
from cobrowse.policy.customer_events import ConsentChanged, ControlKeys, Level
from cobrowse.policy.events import Event, as_json, kind_of
from cobrowse.policy.session_events import CodeShown, EndReason, PeerHello, SessionEnded, SessionPaired
from cobrowse.screen.emulator import Emulator


class Clock:
    def __init__(self) -> None:
        self.now = 1764547200.0

    def __call__(self) -> float:
        return self.now


def test_the_trail_passes_events_on_and_chains_what_matters(tmp_path: Path) -> None:
    seen: list[Event] = []
    clock = Clock()
    trail = AuditTrail(seen.append, tmp_path, "customer", clock)
    trail(CodeShown("1-2345-6789", "one", "cobrowse join 1-2345-6789", "ws://127.0.0.1:1"))  # not logged: no file yet
    assert trail.path is None
    for event in (SessionPaired("a b c"), ConsentChanged(Level.CONTROL), ControlKeys(3), ControlKeys(4),
                  ConsentChanged(Level.CONTROL), ConsentChanged(Level.VIEW),
                  SessionEnded(EndReason.AGENT_ENDED, "the agent ended the session")):
        clock.now += 1
        trail(event)
    assert trail.path is not None and trail.path.stat().st_mode & 0o077 == 0
    entries = [json.loads(line) for line in trail.path.read_text().splitlines()]
    assert [e["event"] for e in entries] == ["paired", "consent", "control_keys", "consent", "ended"]
    keys = entries[2]
    assert (keys["bytes"], keys["messages"]) == (7, 2) and keys["from"] < keys["to"]
    assert (keys["from"], keys["to"]) == ("2025-12-01T00:00:03.000Z", "2025-12-01T00:00:04.000Z")  # the keys' own times
    assert trail.path.read_text().splitlines()[2].index('"from":"2025-12-01T00:00:03.000Z","to":"2025') > 0
    assert verify(trail.path.read_bytes()).ok
    receipt = as_json(seen[-2])
    assert receipt["event"] == "receipt" and receipt["head"] == verify(trail.path.read_bytes()).head
    assert kind_of(seen[-1]) == "ended" and kind_of(seen[0]) == "code"


def test_the_history_keeps_a_row_per_paired_session(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    clock = Clock()
    out: list[Event] = []
    tap = HistoryTap(out.append, store, clock)
    tap(SessionEnded(EndReason.EXPIRED, "the code expired"))  # never paired: no row
    tap(SessionPaired("x"))
    tap(PeerHello("customer", "Ann", "cobrowse 1.0"))
    tap(StepsChanged({"title": "Wi-Fi", "steps": [{"title": "a", "status": "done"}, {"title": "b", "status": "failed"}]}))
    clock.now += 95
    tap(SessionEnded(EndReason.AGENT_ENDED, "the agent ended the session",
                     {"feedback": FeedbackAnswer(FeedbackStatus.ANSWERED, False, 2).as_dict(), "recording": "rec1"}))
    assert len(out) == 5
    (row,) = store.recent()
    assert row == SessionRecord(clock.now - 95, 95.0, "Ann", "agent_ended", "Wi-Fi", (("a", "done"), ("b", "failed")),
                                False, 2, "rec1", row.id)
    store.add(SessionRecord(clock.now + 10, 1.0))
    assert [r.duration_s for r in store.recent(1)] == [1.0]
    assert sqlite3.connect(tmp_path / "h.sqlite3").execute("select count(*) from sessions").fetchone() == (2,)


def test_a_recorder_writes_a_cast_and_a_side_file(tmp_path: Path) -> None:
    source = Emulator(30, 5)
    recorder = Recorder(tmp_path, 100.0, {"customer": "Ann"})
    source.feed(b"hello")
    recorder.frame(source.state(), 100.5)
    recorder.note("chat", 101.0, text="hi")
    source.feed(b"\r\nworld")
    recorder.frame(source.state(), 102.0)
    recorder.close(103.0, "ended")
    lines = recorder.cast_path.read_text().splitlines()
    assert json.loads(lines[0])["width"] == 30 and json.loads(lines[1])[0] == 0.5 and len(lines) == 3
    side = json.loads(recorder.side_path.read_text())
    assert side["customer"] == "Ann" and side["frames"] == 2 and side["duration_s"] == 3.0
    assert [e["kind"] for e in side["events"]] == ["chat", "stopped"]
    (listed,) = list_recordings(tmp_path)
    assert listed["id"] == recorder.id and listed["events"] == 2
    assert find_recording(tmp_path, recorder.id[:8]) == recorder.cast_path
