"""The help queue: customers waiting for an organisation without a code. Pure (sans-I/O).

The relay only keeps the order: who waits in which organisation's queue (keyed by the
organisation's public key id), who watches it, who picked whom. It checks no credential
(it holds no crypto, by rule): the customer's client does, in the pairing handshake
(cobrowse/crypto/handshake_queue.py), so a pick by anyone else ends in a refusal and the
customer asking for its place back. docs/helpdesk.md, "The queue", has the whole design.

Like :class:`relay.rooms.Rooms`, every method takes ``now`` and returns an
:class:`relay.outcome.Output`; ids and tickets come from the callables passed in.

On several nodes (Redis), each node decides the entries of the customers whose sessions it
holds and shows the others' from their shares (relay/queue_mirror.py): positions, totals,
the agents count and the estimate are cluster-wide; a pick of another node's customer is
forwarded to that node (relay/queue_nodes.py), which answers as for its own watchers.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

from cobrowse.wire.envelope import Error, Picked, Queued, QueueList
from relay.outcome import Event, Key, Output
from relay.queue_mirror import MIRROR_TTL, QueueMirror, Share

MAX_ENTRIES = 500
MAX_WATCHERS = 64
#: Entries a ``queue`` message lists (a control frame stays under MAX_CONTROL_BYTES).
MAX_SHOWN = 12
SHOWN_TOPIC = 120
#: How long a pick holds a customer for the agent that picked it, unpaired.
PICK_HOLD = 30.0
#: The interval between picks assumed before there is any history.
DEFAULT_INTERVAL = 60.0
HISTORY = 10


@dataclass
class Entry:
    id: str
    org: str
    nameplate: str
    conn: Key
    topic: str
    lang: str
    since: float
    ticket: str = ""
    held_until: float | None = None
    picker: Key | None = None
    last_sent: tuple[int, float | None, int] | None = None

    @property
    def picked(self) -> bool:
        return self.held_until is not None


@dataclass
class OrgQueue:
    entries: list[Entry] = field(default_factory=list)
    watchers: dict[Key, None] = field(default_factory=dict)  # in the order they came
    picks: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY))

    def waiting(self) -> list[Entry]:
        return [e for e in self.entries if not e.picked]



def interval(picks: list[float]) -> float:
    """The median interval between the last HISTORY picks (the estimate's unit)."""
    times = sorted(picks)[-HISTORY:]
    if len(times) < 2:
        return DEFAULT_INTERVAL
    return max(1.0, statistics.median(b - a for a, b in zip(times, times[1:])))


class Listed(NamedTuple):
    """A waiting customer as watchers see it, here or on another node."""

    since: float
    id: str
    topic: str
    lang: str
    entry: Entry | None  # None: it waits on another node


def _printable(text: str, limit: int) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text)[:limit].strip()


class HelpQueue:
    """Every organisation's queue on this relay node."""

    def __init__(self, new_id: Callable[[], str], new_ticket: Callable[[], str], *,
                 max_entries: int = MAX_ENTRIES, max_watchers: int = MAX_WATCHERS,
                 on_change: Callable[[str], None] | None = None) -> None:
        """``on_change(org)``: this node's part of ``org``'s queue changed (a node of
        several then shares it, relay/queue_nodes.py)."""
        self._new_id, self._new_ticket = new_id, new_ticket
        self.on_change = on_change
        self.mirror = QueueMirror()
        self._max_entries, self._max_watchers = max_entries, max_watchers
        self._orgs: dict[str, OrgQueue] = {}
        self._by_conn: dict[Key, Entry] = {}
        self._by_id: dict[str, Entry] = {}
        self._by_nameplate: dict[str, Entry] = {}
        self._watching: dict[Key, str] = {}

    # what the server asks

    def watching(self, conn: Key) -> bool:
        """Whether ``conn`` is an agent's queue connection (it never joins a session)."""
        return conn in self._watching

    def queued(self, conn: Key) -> bool:
        return conn in self._by_conn

    def admit_claim(self, nameplate: str, ticket: str | None) -> str | None:
        """None if a claim of ``nameplate`` may go on to the rooms; else the error code. A
        queued customer's session is claimed only with the ticket of the pick that holds it."""
        entry = self._by_nameplate.get(nameplate)
        if entry is None:
            return None
        return None if entry.picked and ticket is not None and ticket == entry.ticket else "taken"

    def size(self) -> int:
        return len(self._by_id)

    def waiting_counts(self) -> dict[str, int]:
        """Customers waiting on this node (not held by a pick), by organisation (the metrics:
        each node reports its own; other nodes' customers are theirs to report)."""
        return {org: n for org, queue in self._orgs.items() if (n := len(queue.waiting()))}

    def watched_org(self, conn: Key) -> str | None:
        return self._watching.get(conn)

    def home_of(self, entry_id: str) -> str | None:
        """The node a customer waits on when it is another one (None: here, or unknown)."""
        if entry_id in self._by_id:
            return None
        found = self.mirror.home_of(entry_id)
        return found[1] if found is not None else None

    def orgs(self) -> list[str]:
        """The organisations this node has a part of (customers or watchers)."""
        return list(self._orgs)

    def share(self, org: str, now: float) -> Share:
        """This node's part of ``org``'s queue, for the other nodes (relay/queue_mirror.py)."""
        queue = self._orgs.get(org)
        if queue is None:
            return Share(org)
        waiting = tuple((e.id, e.topic, e.lang, round(now - e.since, 3)) for e in sorted(
            queue.waiting(), key=lambda e: e.since))
        return Share(org, waiting, len(queue.watchers), tuple(round(now - t, 3) for t in queue.picks))

    def shared(self, node: str, share: Share, now: float) -> Output:
        """Another node's part of a queue, new or refreshed."""
        out = Output()
        self.mirror.update(node, share, now)
        self._changed(share.org, now, out, local=False)
        return out

    def node_lost(self, node: str, now: float) -> Output:
        """A node is gone (its liveness key expired): its customers leave every queue."""
        out = Output()
        for org in self.mirror.drop_node(node):
            self._changed(org, now, out, local=False)
        return out

    # inputs

    def enqueue(self, conn: Key, nameplate: str, org: str, topic: str, lang: str, now: float) -> Output:
        """The customer of ``nameplate`` (checked by the caller: the creator of an unpaired
        customer session) waits in ``org``'s queue. Again after a refused pick: its place back."""
        out = Output()
        entry = self._by_conn.get(conn)
        if entry is not None:
            if entry.org != org:
                out.send.append((conn, Error.of("not_queued", "already waiting in another organisation's queue")))
                return out
            entry.held_until, entry.ticket, entry.picker, entry.last_sent = None, "", None, None
            self._changed(org, now, out)
            return out
        queue = self._orgs.setdefault(org, OrgQueue())
        if len(queue.entries) >= self._max_entries:
            out.send.append((conn, Error.of("full", f"{self._max_entries} customers wait in that queue")))
            return out
        entry = Entry(self._new_id(), org, nameplate, conn, _printable(topic, 200), _printable(lang, 16), now)
        queue.entries.append(entry)
        self._by_conn[conn] = self._by_id[entry.id] = self._by_nameplate[nameplate] = entry
        out.events.append(Event("queued", None, {"org": org, "nameplate": nameplate, "entry": entry.id}))
        self._changed(org, now, out)
        return out

    def watch(self, conn: Key, org: str, now: float) -> Output:
        out = Output()
        queue = self._orgs.setdefault(org, OrgQueue())
        if conn in self._watching:
            out.send.append((conn, Error.of("not_queued", "this connection already watches a queue")))
            return out
        if len(queue.watchers) >= self._max_watchers:
            out.send.append((conn, Error.of("full", "too many agents watch that queue")))
            return out
        queue.watchers[conn] = None
        self._watching[conn] = org
        self._changed(org, now, out)  # the newcomer's list, and customers learn an agent is here
        return out

    def pick(self, conn: Key, entry_id: str, now: float) -> Output:
        org = self._watching.get(conn)
        if org is None:
            out = Output()
            out.send.append((conn, Error.of("not_queued", "watch a queue before picking from it")))
            return out
        return self.pick_for(conn, org, entry_id, now)

    def pick_for(self, conn: Key, org: str, entry_id: str, now: float) -> Output:
        """A pick by a watcher of ``org``'s queue: here, or on another node (forwarded)."""
        out = Output()
        entry = self._by_id.get(entry_id)
        if entry is None or entry.org != org or entry.picked:
            out.send.append((conn, Error.of("picked", entry_id)))
        elif any(e.picker == conn for e in self._orgs[org].entries if e.picked):
            # one customer held per agent connection: nobody holds the whole queue hostage
            out.send.append((conn, Error.of("not_queued", "finish the pick you hold first")))
        else:
            entry.ticket, entry.held_until, entry.picker = self._new_ticket(), now + PICK_HOLD, conn
            self._orgs[org].picks.append(now)
            out.send.append((conn, Picked(entry.id, entry.nameplate, entry.ticket, round(max(0.0, now - entry.since), 1))))
            out.events.append(Event("picked", None, {"org": org, "entry": entry.id, "waited_s": round(now - entry.since, 3)}))
            self._changed(org, now, out)
        return out

    def paired(self, nameplate: str, now: float) -> Output:
        """The customer's client confirmed the agent who claimed it: it leaves the queue."""
        out = Output()
        entry = self._by_nameplate.get(nameplate)
        if entry is not None:
            self._remove(entry)
            self._changed(entry.org, now, out)
        return out

    def disconnected(self, conn: Key, now: float) -> Output:
        out = Output()
        org = self._watching.pop(conn, None)
        if org is not None:
            queue = self._orgs[org]
            queue.watchers.pop(conn, None)
            if not queue.entries and not queue.watchers:
                del self._orgs[org]
            self._changed(org, now, out)
        entry = self._by_conn.get(conn)
        if entry is not None:
            self._remove(entry)
            self._changed(entry.org, now, out)
        return out

    def tick(self, now: float) -> Output:
        """Picks nobody paired within PICK_HOLD go back to their place; other nodes' parts
        not refreshed within MIRROR_TTL are dropped."""
        out = Output()
        for org in self.mirror.expire(now, MIRROR_TTL):
            self._changed(org, now, out, local=False)
        for org, queue in list(self._orgs.items()):
            expired = [e for e in queue.entries if e.held_until is not None and e.held_until <= now]
            for entry in expired:
                entry.held_until, entry.ticket, entry.picker = None, "", None
            if expired:
                self._changed(org, now, out)
        return out

    # internals

    def _remove(self, entry: Entry) -> None:
        queue = self._orgs.get(entry.org)
        if queue is not None:
            queue.entries.remove(entry)
            if not queue.entries and not queue.watchers:
                del self._orgs[entry.org]
        self._by_conn.pop(entry.conn, None)
        self._by_id.pop(entry.id, None)
        self._by_nameplate.pop(entry.nameplate, None)

    def _changed(self, org: str, now: float, out: Output, *, local: bool = True) -> None:
        """Tell this node's watchers and customers of ``org`` what changed; ``local``: this
        node's own part changed (the other nodes are told too)."""
        if local and self.on_change is not None:
            self.on_change(org)
        queue = self._orgs.get(org)
        if queue is None:
            return
        waiting = sorted([Listed(e.since, e.id, e.topic, e.lang, e) for e in queue.waiting()]
                         + [Listed(e.since, e.id, e.topic, e.lang, None) for e in self.mirror.entries(org)])
        shown = [{"id": e.id, "topic": e.topic[:SHOWN_TOPIC], "lang": e.lang, "waiting_s": round(max(0.0, now - e.since), 1)}
                 for e in waiting[:MAX_SHOWN]]
        listing = QueueList(org, shown, len(waiting))
        for watcher in queue.watchers:
            out.send.append((watcher, listing))
        agents = len(queue.watchers) + self.mirror.watchers(org)
        unit = interval(list(queue.picks) + self.mirror.picks(org))
        for position, listed in enumerate(waiting, 1):
            entry = listed.entry
            if entry is None:
                continue
            estimate = round(position * unit) if agents else None
            state = (position, estimate, agents)
            if state != entry.last_sent:
                entry.last_sent = state
                out.send.append((entry.conn, Queued(entry.id, position, float(estimate) if estimate is not None
                                                    else None, agents)))
