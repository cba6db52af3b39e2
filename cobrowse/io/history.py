"""The agent's session history in SQLite (stdlib ``sqlite3``): one row per session.

``HistoryStore`` is the adapter (the only code that speaks SQL); ``HistoryTap`` sits in the
agent's event stream and writes a row when a session that paired ends: the customer's
name, when, how long, the playbook and each step's final status, whether it was solved and
the rating (``feedback`` of the ``ended`` event), the end reason and the recording's ID.
The figures are computed by ``cobrowse.audit.stats`` (pure).
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable

from cobrowse.audit.stats import SessionRecord, queue_wait
from cobrowse.io.receipts import Emit
from cobrowse.policy.events import Event, as_json, kind_of
from cobrowse.policy.keeping_events import Keeper, KeepingWarning

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started REAL NOT NULL,
    duration_s REAL NOT NULL,
    customer TEXT NOT NULL DEFAULT '',
    end_reason TEXT NOT NULL DEFAULT '',
    playbook TEXT NOT NULL DEFAULT '',
    steps TEXT NOT NULL DEFAULT '[]',
    resolved INTEGER,
    rating INTEGER,
    recording TEXT NOT NULL DEFAULT '',
    ticket TEXT NOT NULL DEFAULT '',
    queue_org TEXT NOT NULL DEFAULT '',
    queue_wait_s REAL
);
CREATE INDEX IF NOT EXISTS sessions_started ON sessions (started);
"""


#: Columns added since the first schema (issue 16), for histories written before them.
ADDED = (("ticket", "TEXT NOT NULL DEFAULT ''"), ("queue_org", "TEXT NOT NULL DEFAULT ''"), ("queue_wait_s", "REAL"))


class HistoryError(RuntimeError):
    """The history database cannot be opened or read (the message says which file and why)."""


class HistoryStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.db = sqlite3.connect(path, timeout=5)
            self.db.executescript(SCHEMA)
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(sessions)")}
            for column, declared in ADDED:  # a history written before these existed
                if column not in columns:
                    self.db.execute(f"ALTER TABLE sessions ADD COLUMN {column} {declared}")
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot open the session history {path}: {exc}") from None

    def close(self) -> None:
        self.db.close()

    def add(self, record: SessionRecord) -> int:
        with self.db:
            cursor = self.db.execute(
                "INSERT INTO sessions (started, duration_s, customer, end_reason, playbook, steps, resolved, rating, recording,"
                " ticket, queue_org, queue_wait_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.started, record.duration_s, record.customer, record.end_reason, record.playbook,
                 json.dumps([list(s) for s in record.steps]), None if record.resolved is None else int(record.resolved),
                 record.rating, record.recording, record.ticket, record.queue_org, record.queue_wait_s))
        return int(cursor.lastrowid or 0)

    def recent(self, limit: int | None = None) -> list[SessionRecord]:
        """Newest first; every session when ``limit`` is None."""
        sql = ("SELECT id, started, duration_s, customer, end_reason, playbook, steps, resolved, rating, recording, ticket,"
               " queue_org, queue_wait_s FROM sessions ORDER BY started DESC, id DESC")
        try:
            rows = self.db.execute(sql + (" LIMIT ?" if limit is not None else ""), (limit,) if limit is not None else ()).fetchall()
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot read the session history {self.path}: {exc}") from None
        return [_record(row) for row in rows]


def _record(row: tuple[Any, ...]) -> SessionRecord:
    id_, started, duration, customer, reason, playbook, steps, resolved, rating, recording, ticket, queue_org, waited = row
    try:
        parsed = tuple((str(t), str(s)) for t, s in json.loads(steps))
    except (ValueError, TypeError):
        parsed = ()
    return SessionRecord(started, duration, customer, reason, playbook, parsed,
                         None if resolved is None else bool(resolved), rating, recording, id_, ticket or "",
                         queue_org or "", None if waited is None else float(waited))


def record_from_end(started: float, ended: float, customer: str, steps_event: dict[str, Any] | None,
                    ended_event: dict[str, Any], ticket: str = "",
                    queue: tuple[str, float | None] = ("", None)) -> SessionRecord:
    """The row for a session, from what the agent's event stream said about it."""
    steps: tuple[tuple[str, str], ...] = ()
    playbook = ""
    if steps_event:
        playbook = str(steps_event.get("title") or "")
        steps = tuple((str(s.get("title", "")), str(s.get("status", ""))) for s in steps_event.get("steps", []))
    feedback = ended_event.get("feedback") or {}
    return SessionRecord(started, max(0.0, ended - started), customer, str(ended_event.get("reason", "")), playbook,
                         steps, feedback.get("solved"), feedback.get("rating"), str(ended_event.get("recording") or ""),
                         ticket=ticket, queue_org=queue[0], queue_wait_s=queue[1])


class HistoryTap:
    """Passes every event on; writes the session's row when it ends (if it ever paired)."""

    def __init__(self, emit: Emit, store: HistoryStore, clock: Callable[[], float] = time.time) -> None:
        self.emit = emit
        self.store = store
        self.clock = clock
        self.started: float | None = None
        self.customer = ""
        self.steps: dict[str, Any] | None = None
        self.ticket = ""  # the help-desk ticket the session was linked to (the ticket command)
        self.queue: tuple[str, float | None] = ("", None)  # (org, wait) of a customer picked from a queue

    def __call__(self, event: Event) -> None:
        kind = kind_of(event)
        if kind == "paired" and self.started is None:
            self.started = self.clock()
        elif kind == "hello" and as_json(event).get("role") == "customer":  # Side.CUSTOMER, without importing the agent's events on the customer's start-up
            self.customer = str(as_json(event).get("name") or "")
        elif kind == "steps" and "steps" in (fields := as_json(event)):
            self.steps = fields
        elif kind == "ticket":
            self.ticket = str(as_json(event).get("id") or "")
        elif kind == "picked":
            self.queue = picked_wait(as_json(event))
        elif kind == "ended" and self.started is not None:
            try:
                self.store.add(record_from_end(self.started, self.clock(), self.customer, self.steps, as_json(event),
                                               self.ticket, self.queue))
            except sqlite3.Error as exc:
                self.emit(KeepingWarning(Keeper.HISTORY, f"could not save the session to the history: {exc}"))
            self.started, self.ticket = None, ""
        if kind == "ended":
            self.queue = ("", None)
        self.emit(event)


def picked_wait(picked: dict[str, Any]) -> tuple[str, float | None]:
    """(organisation, seconds in its queue) from a ``picked`` event; the wait is the relay's
    word, kept only when it is a sane number."""
    return str(picked.get("org") or "queue")[:200], queue_wait(picked.get("waited_s"))
