"""What a help desk is told about a session when it ends: built from the agent's events.

``SessionLedger`` watches the typed event stream a runtime emits and, at ``ended``,
returns the ``SessionSummary``: ids, agent, customer, times, the end reason, whether the
customer said it was solved and their rating, the playbook and each step's final status,
the ticket it was linked to. ``body()`` is the JSON the webhook posts (and signs); its keys
are a public contract (docs/helpdesk.md): add, never rename.
Pure: ``now`` is passed in, the session id is given by the caller.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar, Mapping

from cobrowse.audit.stats import queue_wait
from cobrowse.policy.events import Event, as_json

EVENT = "session.ended"
VERSION = 1
MAX_TICKET = 128
MAX_TEXT = 200
MAX_STEPS = 200


class TicketError(ValueError):
    """A ticket id that cannot be linked (the message says what is expected)."""


def check_ticket(value: object) -> str:
    """A help-desk ticket id as given (``ZD-1234``, ``INC0012345``, ``#4521``, a URL):
    printable, no spaces, at most ``MAX_TICKET`` characters."""
    if not isinstance(value, str) or not value:
        raise TicketError('ticket needs an "id": the help-desk ticket, like "ZD-1234"')
    if len(value) > MAX_TICKET or not value.isprintable() or any(ch.isspace() for ch in value):
        raise TicketError(f"a ticket id is up to {MAX_TICKET} printable characters without spaces, like \"ZD-1234\"")
    return value


@dataclass(frozen=True)
class TicketLinked(Event):
    """``{"event": "ticket", "id": "ZD-1234"}``: the session is linked to this ticket."""

    KIND: ClassVar[str] = "ticket"
    id: str = ""


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class SessionSummary:
    session: str
    agent: str
    started: float
    ended: float
    paired: bool
    end_reason: str
    customer: str = ""
    solved: bool | None = None
    rating: int | None = None
    feedback: str | None = None  # answered, skipped, timeout, gone, not_waited; None: not asked
    playbook: str | None = None
    steps: tuple[tuple[str, str], ...] = ()
    ticket: str | None = None
    recording: str | None = None
    queue_wait_s: float | None = None  # only for a customer picked from the help queue

    def to_json(self) -> dict[str, Any]:
        return {
            "event": EVENT, "version": VERSION, "session": self.session, "agent": self.agent,
            "customer": self.customer or None, "started": iso(self.started), "ended": iso(self.ended),
            "duration_s": round(max(0.0, self.ended - self.started), 1), "paired": self.paired,
            "end_reason": self.end_reason, "solved": self.solved, "rating": self.rating, "feedback": self.feedback,
            "playbook": self.playbook, "steps": [{"title": t, "status": s} for t, s in self.steps],
            "steps_done": sum(1 for _, s in self.steps if s == "done"), "steps_total": len(self.steps),
            "ticket": self.ticket, "recording": self.recording,
        } | ({"queue_wait_s": self.queue_wait_s} if self.queue_wait_s is not None else {})

    def body(self) -> bytes:
        """The exact bytes posted and signed: compact UTF-8 JSON, keys in a fixed order."""
        return json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class SessionLedger:
    """One session at a time: feed every event with ``now``; ``ended`` returns the summary
    and starts afresh (the console runs several sessions one after the other)."""

    session: str
    agent: str = ""
    ticket: str | None = None  # the ticket given up front (``--ticket``), until a ``ticket`` command
    first: float | None = None
    started: float | None = None
    customer: str = ""
    steps: Mapping[str, Any] | None = None
    queue_wait_s: float | None = None
    _linked: str | None = field(default=None, repr=False)

    def feed(self, event: Event, now: float) -> SessionSummary | None:
        data = as_json(event)
        kind = data.get("event")
        if self.first is None:
            self.first = now
        if kind == "paired" and self.started is None:
            self.started = now
        elif kind == "hello" and data.get("role") == "customer":
            self.customer = _text(data.get("name"))
        elif kind == "steps" and isinstance(data.get("steps"), list):
            self.steps = data
        elif kind == "ticket" and isinstance(data.get("id"), str):
            self._linked = data["id"]
        elif kind == "picked":
            self.queue_wait_s = queue_wait(data.get("waited_s"))
        elif kind == "ended":
            summary = self._summary(data, now)
            self.first, self.started, self.customer, self.steps, self._linked = None, None, "", None, None
            self.queue_wait_s = None
            return summary
        return None

    def _summary(self, ended: Mapping[str, Any], now: float) -> SessionSummary:
        feedback = ended.get("feedback") if isinstance(ended.get("feedback"), Mapping) else None
        steps: tuple[tuple[str, str], ...] = ()
        playbook = None
        if self.steps is not None:
            playbook = _text(self.steps.get("title")) or None
            steps = tuple((_text(s.get("title")), _text(s.get("status"))) for s in self.steps.get("steps", [])[:MAX_STEPS]
                          if isinstance(s, Mapping))
        rating = feedback.get("rating") if feedback else None
        solved = feedback.get("solved") if feedback else None
        start = self.started if self.started is not None else (self.first if self.first is not None else now)
        return SessionSummary(
            session=self.session, agent=self.agent, started=start, ended=now, paired=self.started is not None,
            end_reason=_text(ended.get("reason")), customer=self.customer,
            solved=solved if isinstance(solved, bool) else None,
            rating=rating if isinstance(rating, int) and not isinstance(rating, bool) and 1 <= rating <= 5 else None,
            feedback=_text(feedback.get("status")) or None if feedback else None,
            playbook=playbook, steps=steps, ticket=self._linked or self.ticket,
            recording=_text(ended.get("recording")) or None, queue_wait_s=self.queue_wait_s)


def _text(value: object) -> str:
    return str(value)[:MAX_TEXT] if value is not None else ""
