"""The history keeps the ticket a session was linked to; a database from before gains the column."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cobrowse.helpdesk.summary import TicketLinked
from cobrowse.io.history import HistoryStore, HistoryTap
from cobrowse.policy.events import Event, kind_of
from cobrowse.policy.session_events import EndReason, SessionEnded, SessionPaired


def test_the_ticket_event_reaches_the_history_row(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    seen: list[Event] = []
    tap = HistoryTap(seen.append, store, clock=iter([100.0, 160.0]).__next__)
    tap(TicketLinked("ZD-1234"))
    tap(SessionPaired("x"))
    tap(SessionEnded(EndReason.AGENT_ENDED, "the agent ended the session"))
    [row] = store.recent()
    assert row.ticket == "ZD-1234" and row.duration_s == 60.0
    assert [kind_of(e) for e in seen] == ["ticket", "paired", "ended"]


def test_an_older_database_gains_the_ticket_column(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript("""CREATE TABLE sessions (id INTEGER PRIMARY KEY AUTOINCREMENT, started REAL NOT NULL,
        duration_s REAL NOT NULL, customer TEXT NOT NULL DEFAULT '', end_reason TEXT NOT NULL DEFAULT '',
        playbook TEXT NOT NULL DEFAULT '', steps TEXT NOT NULL DEFAULT '[]', resolved INTEGER, rating INTEGER,
        recording TEXT NOT NULL DEFAULT '');
        INSERT INTO sessions (started, duration_s, customer) VALUES (1.0, 2.0, 'Bob');""")
    db.commit()
    db.close()
    store = HistoryStore(path)
    [row] = store.recent()
    assert row.customer == "Bob" and row.ticket == ""
