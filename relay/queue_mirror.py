"""What one relay node tells the others about an organisation's queue, and what it keeps of
what they told it. Pure (sans-I/O): times are the caller's ``now``.

A customer waits on the node that holds its session (the session's home, relay/nodes.py);
that node alone decides its entry (picks, tickets, pairing). Every other node only needs to
*show* it: to list it to its own watchers and to count it in the positions of its own
customers. So each node publishes a :class:`Share` per organisation whenever its part
changes (and again every few seconds): its waiting customers with how long each has waited
(not a clock reading: nodes' clocks need not agree), how many agents watch here, how long
ago its last picks were. A receiver turns the ages back into times on its own clock.
A share not refreshed within ``MIRROR_TTL`` is dropped, as is every share of a node whose
liveness key is gone (relay/cluster.py): a dead node's customers leave every queue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

#: Seconds a node's share of a queue is kept without a refresh (nodes refresh every
#: SHARE_EVERY seconds, so a lost message costs no more than one refresh).
MIRROR_TTL = 15.0
SHARE_EVERY = 5.0
MAX_SHARED = 500
MAX_PICKS = 10
MAX_SHARE_BYTES = 256 * 1024


class BadShare(ValueError):
    """A share that is not well formed (ignored: nodes are trusted, bugs are not)."""


@dataclass(frozen=True)
class SharedEntry:
    """A customer waiting on another node, as this node shows it (``since`` on our clock)."""

    id: str
    topic: str
    lang: str
    since: float


@dataclass(frozen=True)
class Share:
    """One node's part of one organisation's queue (ages in seconds, as of sending)."""

    org: str
    waiting: tuple[tuple[str, str, str, float], ...] = ()  # (id, topic, lang, waited)
    watchers: int = 0
    pick_ages: tuple[float, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.waiting and not self.watchers and not self.pick_ages

    def to_json(self) -> dict[str, Any]:
        return {"org": self.org, "waiting": [list(w) for w in self.waiting[:MAX_SHARED]],
                "watchers": self.watchers, "picks": list(self.pick_ages[-MAX_PICKS:])}

    @classmethod
    def from_json(cls, obj: object) -> Share:
        if not isinstance(obj, dict) or not isinstance(obj.get("org"), str):
            raise BadShare("no org")
        waiting: list[tuple[str, str, str, float]] = []
        raw = obj.get("waiting", [])
        if not isinstance(raw, list):
            raise BadShare("waiting is not a list")
        for item in raw[:MAX_SHARED]:
            if not (isinstance(item, list) and len(item) == 4 and all(isinstance(x, str) for x in item[:3])
                    and isinstance(item[3], (int, float))):
                raise BadShare("a waiting entry is malformed")
            waiting.append((item[0][:32], item[1][:200], item[2][:16], max(0.0, float(item[3]))))
        picks = obj.get("picks", [])
        watchers = obj.get("watchers", 0)
        if not isinstance(picks, list) or not all(isinstance(p, (int, float)) for p in picks) \
                or not isinstance(watchers, int):
            raise BadShare("picks or watchers malformed")
        return cls(obj["org"][:64], tuple(waiting), max(0, watchers),
                   tuple(max(0.0, float(p)) for p in picks[-MAX_PICKS:]))


@dataclass
class NodePart:
    entries: tuple[SharedEntry, ...]
    watchers: int
    picks: tuple[float, ...]  # on our clock
    seen: float


@dataclass
class QueueMirror:
    """Other nodes' parts of every queue: org -> node -> part."""

    parts: dict[str, dict[str, NodePart]] = field(default_factory=dict)

    def update(self, node: str, share: Share, now: float) -> None:
        nodes = self.parts.setdefault(share.org, {})
        if share.empty:
            nodes.pop(node, None)
        else:
            nodes[node] = NodePart(
                tuple(SharedEntry(i, topic, lang, now - waited) for i, topic, lang, waited in share.waiting),
                share.watchers, tuple(now - age for age in share.pick_ages), now)
        if not nodes:
            del self.parts[share.org]

    def drop_node(self, node: str) -> list[str]:
        """Forget ``node`` everywhere; the organisations whose queue changed."""
        changed = []
        for org, nodes in list(self.parts.items()):
            if nodes.pop(node, None) is not None:
                changed.append(org)
            if not nodes:
                del self.parts[org]
        return changed

    def expire(self, now: float, ttl: float = MIRROR_TTL) -> list[str]:
        """Drop parts not refreshed within ``ttl``; the organisations whose queue changed."""
        changed = []
        for org, nodes in list(self.parts.items()):
            for node, part in list(nodes.items()):
                if now - part.seen > ttl:
                    del nodes[node]
                    changed.append(org)
            if not nodes:
                del self.parts[org]
        return sorted(set(changed))

    def nodes(self) -> set[str]:
        return {node for nodes in self.parts.values() for node in nodes}

    def entries(self, org: str) -> list[SharedEntry]:
        return [e for part in self.parts.get(org, {}).values() for e in part.entries]

    def watchers(self, org: str) -> int:
        return sum(part.watchers for part in self.parts.get(org, {}).values())

    def picks(self, org: str) -> list[float]:
        return [t for part in self.parts.get(org, {}).values() for t in part.picks]

    def home_of(self, entry_id: str) -> tuple[str, str] | None:
        """(org, node) of a customer waiting on another node."""
        for org, nodes in self.parts.items():
            for node, part in nodes.items():
                if any(e.id == entry_id for e in part.entries):
                    return org, node
        return None


def encode(kind: str, sender: str, body: dict[str, Any]) -> bytes:
    """A message on the cluster's queue channel (relay/queue_nodes.py)."""
    return json.dumps({"t": kind, "from": sender, **body}, separators=(",", ":")).encode()


def decode(data: bytes) -> dict[str, Any]:
    if len(data) > MAX_SHARE_BYTES:
        raise BadShare("too large")
    try:
        obj = json.loads(data)
    except ValueError as exc:
        raise BadShare(str(exc)) from None
    if not isinstance(obj, dict) or not isinstance(obj.get("t"), str) or not isinstance(obj.get("from"), str):
        raise BadShare("no kind or sender")
    return obj
