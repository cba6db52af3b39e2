"""The history keeps how long a customer picked from the help queue waited, and for which
organisation; a database from before gains the columns; the webhook summary says it too."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from cobrowse.helpdesk.summary import SessionLedger
from cobrowse.io.history import HistoryStore, HistoryTap
from cobrowse.policy.session_events import EndReason, SessionEnded, SessionPaired
from cobrowse.queue.events import QueuePicked

ENDED = SessionEnded(EndReason.AGENT_ENDED, "the agent ended the session")


def test_a_picked_session_keeps_its_queue_wait(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    seen: list[object] = []
    tap = HistoryTap(seen.append, store, clock=iter([100.0, 160.0, 200.0, 230.0]).__next__)
    tap(QueuePicked("q1", "git push", 42.5, "Acme"))
    tap(SessionPaired("x"))
    tap(ENDED)
    tap(SessionPaired("y"))  # the next session came with a code
    tap(ENDED)
    coded, queued = store.recent()
    assert (queued.queue_org, queued.queue_wait_s) == ("Acme", 42.5)
    assert (coded.queue_org, coded.queue_wait_s) == ("", None)
    assert len(seen) == 5


def test_an_older_database_gains_the_queue_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript("""CREATE TABLE sessions (id INTEGER PRIMARY KEY AUTOINCREMENT, started REAL NOT NULL,
        duration_s REAL NOT NULL, customer TEXT NOT NULL DEFAULT '', end_reason TEXT NOT NULL DEFAULT '',
        playbook TEXT NOT NULL DEFAULT '', steps TEXT NOT NULL DEFAULT '[]', resolved INTEGER, rating INTEGER,
        recording TEXT NOT NULL DEFAULT '', ticket TEXT NOT NULL DEFAULT '');
        INSERT INTO sessions (started, duration_s, customer) VALUES (1.0, 2.0, 'Bob');""")
    db.commit()
    db.close()
    [row] = HistoryStore(path).recent()
    assert row.customer == "Bob" and row.queue_org == "" and row.queue_wait_s is None


def test_the_webhook_summary_gains_queue_wait_s_only_for_a_queued_customer() -> None:
    ledger = SessionLedger(session="s1", agent="Alice")
    ledger.feed(QueuePicked("q1", "x", 61.04, "Acme"), 10.0)
    ledger.feed(SessionPaired("x"), 11.0)
    summary = ledger.feed(ENDED, 20.0)
    assert summary is not None and json.loads(summary.body())["queue_wait_s"] == 61.0
    ledger.feed(SessionPaired("y"), 30.0)
    again = ledger.feed(ENDED, 40.0)
    assert again is not None and "queue_wait_s" not in json.loads(again.body())
