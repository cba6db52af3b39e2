"""The local log of consent changes and control actions, kept by both sides.

``AuditTrail`` sits between a runtime and its UI: every event passes through unchanged, and
the ones that say who was granted what (consent, recording, suggestions, keys typed under
control, the end) are appended to a hash-chained receipt (``cobrowse.audit.receipt``) in
``<data dir>/receipts`` (customers) or ``<data dir>/audit`` (agents), from the pairing on
(no file for a session that never paired). Keys are logged as counts, never as text. When the session ends the trail emits a ``receipt`` event with the
file and the chain's head hash, before the ``ended`` event. In a team (docs/team.md) the
customer's events name the agent whose pairing they come from, and so do their lines
(``agent``: its number, ``agent_name``: its name, cleaned): several agents' levels are kept
apart, not read as one level flipping.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any, Callable

from cobrowse.audit.receipt import ReceiptChain
from cobrowse.io.datadir import open_private
from cobrowse.policy.customer_events import ControlKeys
from cobrowse.protocol.untrusted import CAPS, Field, visible
from cobrowse.policy.events import Event, as_json, kind_of
from cobrowse.policy.keeping_events import Keeper, KeepingWarning, ReceiptWritten

#: A tap passes each typed event on as it came, so the next hop gets what the runtime emits.
Emit = Callable[[Event], None]

#: The events a receipt notes; the others pass without being turned into JSON.
LOGGED_KINDS = frozenset({"control_keys", "paired", "hello", "consent_prompt", "consent", "recording_prompt",
                          "recording", "suggestion", "steps", "feedback_sent", "ended", "viewers"})


def utc(wall: float) -> str:
    """ISO 8601 UTC with milliseconds: ``2026-12-01T21:40:05.123Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(wall)) + f".{int(wall * 1000) % 1000:03d}Z"


class AuditTrail:
    def __init__(self, emit: Emit, directory: Path, role: str, clock: Callable[[], float] = time.time) -> None:
        self.emit = emit
        self.directory = directory
        self.role = role
        self.clock = clock
        self.path: Path | None = None
        self.chain = ReceiptChain()
        self._keys: dict[str, Any] | None = None  # keys typed under control, coalesced
        self._level: dict[Any, str] = {}  # each agent's level (None: the only one, unnamed)
        self._playbook: str | None = None
        self._roster: list[dict[str, Any]] = []

    def __call__(self, event: Event) -> None:
        try:
            if isinstance(event, ControlKeys):  # every key typed: counted without its JSON
                if self.path is not None:
                    self._add_keys(event.bytes, _who(as_json(event)))
            elif kind_of(event) in LOGGED_KINDS:
                self._log_event(as_json(event))
        except OSError as exc:  # a full disk must not end the session; say so once
            self.emit(KeepingWarning(Keeper.RECEIPT, f"could not write the receipt: {exc}"))
        self.emit(event)

    def action(self, summary: dict[str, Any]) -> None:
        """A command the agent ran (``AgentRuntime.on_action``)."""
        if self.path is None:
            return
        if summary.get("cmd") == "keys":
            self._add_keys(int(summary.get("bytes", 0)))
        else:
            self.write({"event": "agent_action", **summary})

    def _add_keys(self, count: int, who: dict[str, Any] | None = None) -> None:
        """Count keys typed under control (every key: its times are formatted at the flush);
        another agent's keys start a line of their own."""
        now = self.clock()
        who = who or {}
        if self._keys is not None and self._keys.get("agent") != who.get("agent"):
            self._flush_keys()
        if self._keys is None:
            self._keys = {"event": "control_keys", **who, "bytes": 0, "messages": 0, "from": now}
        self._keys["bytes"] += count
        self._keys["messages"] += 1
        self._keys["to"] = now

    def _flush_keys(self) -> None:
        keys, self._keys = self._keys, None
        if keys is not None:
            self._append(keys | {"from": utc(keys["from"]), "to": utc(keys["to"])})

    def write(self, fields: dict[str, Any]) -> None:
        self._flush_keys()
        self._append({"time": utc(self.clock()), "side": self.role, **fields})

    def _append(self, fields: dict[str, Any]) -> None:
        if self.path is None:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(self.clock()))
            self.path = self.directory / f"{stamp}-{self.role}-{secrets.token_hex(2)}.jsonl"
        line = self.chain.append(fields)
        with open_private(self.path, "a") as out:
            out.write(line.decode())

    def _log_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if self.path is None and kind != "paired":
            return  # a receipt is about a session: it starts when the two sides paired
        who = _who(event)
        if kind == "control_keys":
            self._add_keys(int(event.get("bytes", 0)), who)
        elif kind == "paired":
            self.write({"event": "paired", "sas": event.get("sas")})
        elif kind == "hello":
            self.write({"event": "peer", "role": event.get("role"), "name": event.get("name", "")})
        elif kind == "consent_prompt":
            self.write({"event": "consent_asked", **who, "level": event.get("level")})
        elif kind == "consent" and event.get("level") != self._level.get(who.get("agent"), "view"):
            self._level[who.get("agent")] = level = str(event.get("level"))
            self.write({"event": "consent", **who, "level": level})
        elif kind == "recording_prompt":
            self.write({"event": "recording_asked", **who})
        elif kind == "recording":
            self.write({"event": "recording", **who, "state": event.get("state"), "by": event.get("by", self.role)})
        elif kind == "suggestion":
            self.write({"event": "suggestion", **who, "command": event.get("command"),
                        **({"answer": event["answer"]} if "answer" in event else {})})
        elif kind == "steps" and event.get("title") and event.get("title") != self._playbook:
            self._playbook = str(event.get("title"))
            self.write({"event": "playbook", "title": self._playbook})
        elif kind == "viewers" and (roster := _roster(event.get("viewers"))) != self._roster:
            self._roster = roster  # a team: who was let in, who holds control, who left
            self.write({"event": "viewers", "viewers": roster})
        elif kind == "feedback_sent":
            self.write({"event": "feedback", "solved": event.get("solved"), "rating": event.get("rating")})
        elif kind == "ended" and self.path is not None:
            self.write({"event": "ended", "reason": event.get("reason"),
                        **({"feedback": event["feedback"]} if "feedback" in event else {})})
            self.emit(ReceiptWritten(str(self.path), self.chain.head, self.chain.seq,
                                      f"receipt of this session: {self.path} (chain head {self.chain.head[:16]}…; "
                                  f"`cobrowse receipts verify {self.path}` checks it)"))


def _who(event: dict[str, Any]) -> dict[str, Any]:
    """The agent an event names (a team's pairings): its number and its name, cleaned again
    here (the receipt is read with ``cat``: no character in it may drive a terminal)."""
    agent = event.get("agent")
    if not isinstance(agent, int) or isinstance(agent, bool):
        return {}
    name = event.get("agent_name")
    return {"agent": agent, **({"agent_name": visible(str(name), CAPS[Field.NAME])} if isinstance(name, str) and name else {})}


def _roster(rows: Any) -> list[dict[str, Any]]:
    """The team's roster (``viewers``) as the receipt keeps it: each agent named as on the other
    lines, its state and whether it holds control."""
    out: list[dict[str, Any]] = []
    for row in rows[:32] if isinstance(rows, (list, tuple)) else []:
        if isinstance(row, dict):
            named = _who({"agent": row.get("id"), "agent_name": row.get("name")})
            out.append({**named, "state": str(row.get("state", ""))[:16], "control": bool(row.get("control"))})
    return out
