"""The help queue's typed events, pure. What the relay says about the queue is its word,
and the topics in it are what customers typed: every string goes through the untrusted
door (``cobrowse.protocol.untrusted.clean``) before any front end sees it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable

from cobrowse.i18n.text import N_, Translator, current
from cobrowse.policy.events import Event
from cobrowse.protocol.untrusted import Field, clean

MAX_TOPIC = 200


@dataclass(frozen=True)
class Waiting:
    """One customer in the queue, as an agent sees them."""

    id: str
    topic: str
    lang: str
    waiting_s: float


@dataclass(frozen=True)
class QueueChanged(Event):
    """To the agent: who waits in the organisation's queue (the relay lists the first few)."""

    KIND = "queue"
    org: str = ""
    waiting: tuple[Waiting, ...] = field(default_factory=tuple)
    total: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"event": self.KIND, "org": self.org, "total": self.total,
                "waiting": [{"id": w.id, "topic": w.topic, "waiting_s": w.waiting_s, "lang": w.lang}
                            for w in self.waiting]}


def queue_changed(org: str, waiting: list[dict[str, Any]], total: int) -> QueueChanged:
    """From a decoded ``queue`` message (already bounded by the envelope's checks)."""
    entries = tuple(Waiting(str(e["id"]), str(clean(e.get("topic", ""), Field.REASON)),
                            str(clean(e.get("lang", ""), Field.KIND))[:16], float(e.get("waiting_s", 0)))
                    for e in waiting)
    return QueueChanged(org, entries, max(total, len(entries)))


@dataclass(frozen=True)
class QueuePicked(Event):
    """To the agent: its pick stood; the pairing with that customer starts."""

    KIND = "picked"
    id: str = ""
    topic: str = ""
    waited_s: float | None = None  # the customer's time in the queue (the relay's word; None: not said)
    org: str | None = None  # the organisation's name (the agent's credential)


@dataclass(frozen=True)
class QueuePosition(Event):
    """To the customer: its place in the queue (1: next) and the relay's estimate."""

    KIND = "queued"
    position: int = 0
    estimate_s: float | None = None
    agents: int = 0
    org: str = ""

    def text(self, tr: Translator | None = None) -> str:
        """The customer's line, in their language (plain mode; the app shows the same)."""
        tr = tr or current()
        if not self.agents:
            return tr(NOBODY if self.position == 1 else NOBODY_N, org=self.org, n=self.position)
        minutes = max(1, round((self.estimate_s or 0) / 60))
        return tr(NEXT if self.position == 1 else NUMBER, org=self.org, n=self.position, minutes=minutes)


NEXT = N_("Waiting for an agent of {org}: you are next, about {minutes} min (Ctrl-C leaves the queue)")
NUMBER = N_("Waiting for an agent of {org}: you are number {n} in the queue, about {minutes} min "
            "(Ctrl-C leaves the queue)")
NOBODY = N_("Waiting for an agent of {org}: you are next; no agent is online right now (Ctrl-C leaves the queue)")
NOBODY_N = N_("Waiting for an agent of {org}: you are number {n} in the queue; no agent is online right now "
              "(Ctrl-C leaves the queue)")
ASKING = N_("asking {org} for help without a code. The topic you gave is visible to the relay's operator; nothing "
            "of your screen is shared before an agent of {org} proves who they are and you see them connected.")
LEFT = N_("you left {org}'s queue")
PICKED = N_("an agent picked you; checking they are from {org}...")
WHILE_YOU_WAIT = N_("While you wait, this guide may solve it on your own (Ctrl-C leaves the queue; then run it):")
ABANDONED = N_("an agent picked you but left before connecting; nothing was shared, and you keep your place "
               "in the queue")
REFUSED = N_("an agent who could not prove they are from {org} picked you and was refused; nothing was shared, "
             "and you keep your place in the queue")


@dataclass(frozen=True)
class QueueRefused(Event):
    """To the customer: an agent picked them but could not prove the organisation; refused."""

    KIND = "warning"
    kind: str = "unverified_agent"
    message: str = ""


WRONG_CODE = "wrong_code"  # how the runtime names a pairing that failed its code check (warning, error, end)
REFUSED_AGENT = ("the customer's client refused your credential: it does not verify against their trust file "
                 "for {org} (revoked, expired, or another organisation's), or the relay tampered with the pairing")


def refusal_explained(emit: Callable[[Event], None], org: str) -> Callable[[Event], None]:
    """The agent's side of a refused pick: the customer's client did not verify the
    credential, which the runtime reports as a failed attempt at a code."""

    def agent_emit(event: Event) -> None:
        said = getattr(event, "reason", None) if event.KIND == "ended" else getattr(event, "kind", None)
        if said == WRONG_CODE and hasattr(event, "message"):
            event = replace(event, **{"message": REFUSED_AGENT.format(org=org)})
        emit(event)

    return agent_emit
