"""Who may take a socket or a session on this node: the limits one address, or many, hit.

One address opened 103,096 sessions in 75 s and another 19,993 sockets exhausted the node's
file descriptors (the health check went silent, real agents timed out). This machine keeps
every cost an anonymous peer can impose bounded, and decides before anything is allocated:

- **sockets**: at most ``sockets`` in all, well under RLIMIT_NOFILE. When a new socket would
  pass it, the oldest socket that holds no side of a session is dropped instead, so a flood
  of idle or half-open sockets can never shut out a health check, an admin, a resume or an
  agent's first request, and never ends a session;
- **per address**: ``per_address`` sockets, ``open_burst`` opens then ``open_rate`` a
  second (a token bucket), ``unpaired_per_address`` sessions waiting for the other side
  (whether their creator is still connected or not);
- **in all**: sides of sessions up to ``attached`` sockets, of which anonymous opens
  (no valid agent token) may take ``anonymous``; ``max_unpaired`` waiting sessions.

Agents with a valid token count ``token_factor`` times the per-address limits, and the
gap between ``anonymous`` and ``attached`` is theirs (and resumes' and claims').

Pure and sans-I/O: connections are opaque keys, ``now`` comes in, each check answers a
:class:`Refusal` (or None) and the list of sockets to drop; the server applies them.
Session bookkeeping follows the rooms' events (created, paired, ended, adopted).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Hashable

from relay.limits import Limits

Key = Hashable
MAX_ADDRESSES = 100_000  # per-address records kept; idle ones are forgotten first


class Limit(StrEnum):
    """Which limit refused: named in logs and metrics, never shown as relay text to a side."""

    SOCKETS = "sockets"
    CONNECT_RATE = "connect_rate"
    ADDRESS_SOCKETS = "address_sockets"
    OPEN_RATE = "open_rate"
    ADDRESS_UNPAIRED = "address_unpaired"
    UNPAIRED = "unpaired"
    SESSIONS = "sessions"


@dataclass(frozen=True)
class Refusal:
    """``code`` is the wire error code (``rate_limited``: this address; ``full``: the node);
    ``retry_after`` whole seconds worth waiting before trying again."""

    code: str
    limit: Limit
    retry_after: int
    detail: str


@dataclass(frozen=True)
class Accepted:
    """What to do with a new TCP connection: ``drop`` these (idle) sockets to make room, and
    answer ``refusal`` on the new one at once (before parsing anything) when it is set."""

    drop: list[Key]
    refusal: Refusal | None = None


@dataclass(eq=False, slots=True)
class _Address:
    sockets: int = 0
    unpaired: int = 0  # waiting sessions opened without a token
    unpaired_tokened: int = 0  # ... and with one (counted apart: an office's agents never use up its customers' share)
    tokens: float = 0.0  # opens
    last: float = 0.0
    connects: float = 0.0  # new connections
    connect_last: float = 0.0


@dataclass(eq=False, slots=True)
class _Waiting:
    address: str
    tokened: bool
    waiting: bool = False


@dataclass(eq=False, slots=True)
class _Socket:
    address: str | None = None
    attached: bool = False
    admitted: bool = False  # passed may_attach once (a refused request closes the socket)
    counted_at_accept: bool = False  # its address was known (and counted) when it was accepted


@dataclass
class Admission:
    limits: Limits
    _sockets: dict[Key, _Socket] = field(default_factory=dict)
    _unattached: OrderedDict[Key, None] = field(default_factory=OrderedDict)  # oldest first
    _addresses: OrderedDict[str, _Address] = field(default_factory=OrderedDict)
    _live: dict[str, _Waiting] = field(default_factory=dict)  # session id -> its creator, while it lives
    unpaired_count: int = 0
    anonymous_unpaired: int = 0
    attached_count: int = 0

    # ---- introspection ----

    @property
    def socket_count(self) -> int:
        return len(self._sockets)

    def address_count(self) -> int:
        return len(self._addresses)

    # ---- sockets ----

    def accept(self, conn: Key, address: str | None = None, now: float = 0.0) -> Accepted:
        """A TCP connection arrived: make room for it, or refuse it before a byte is parsed.

        ``address``: the client's, when the peer address is it (no proxy in front): then the
        per-address socket limit and connection rate apply here, where a refusal is cheapest
        (a canned HTTP 429, no parsing), so a connection storm costs the relay little and
        the accept queue stays short for everybody else."""
        a = None
        if address is not None:
            a = self._address(address, now)
            if a.sockets >= self.limits.per_address:
                return Accepted([], self._too_many_sockets())
            lim = self.limits
            connects = min(float(lim.connect_burst), a.connects + (now - a.connect_last) * lim.connect_rate)
            a.connect_last = now
            if connects < 1.0:
                a.connects = connects
                wait = max(1, math.ceil((1.0 - connects) / lim.connect_rate))
                return Accepted([], Refusal("rate_limited", Limit.CONNECT_RATE, wait,
                                            f"more than {lim.connect_burst} connections from this address at once"))
            a.connects = connects - 1.0
        drop: list[Key] = []
        while len(self._sockets) >= self.limits.sockets and self._unattached:
            oldest, _ = self._unattached.popitem(last=False)
            self._forget(oldest)
            drop.append(oldest)
        if len(self._sockets) >= self.limits.sockets:
            return Accepted(drop, Refusal("full", Limit.SOCKETS, 10, "the relay holds as many connections as it can"))
        s = self._sockets[conn] = _Socket()
        self._unattached[conn] = None
        if a is not None:
            a.sockets += 1
            s.address = address
            s.counted_at_accept = True
        return Accepted(drop)

    def upgrade(self, conn: Key, address: str, now: float) -> Refusal | None:
        """A websocket handshake request from ``address`` on ``conn``: before it is answered."""
        s = self._sockets.get(conn)
        if s is None:  # dropped already, or accepted before admission knew of it
            s = self._sockets[conn] = _Socket()
            self._unattached[conn] = None
        if s.address is not None:
            return None
        a = self._address(address, now)
        if a.sockets >= self.limits.per_address:
            return self._too_many_sockets()
        a.sockets += 1
        s.address = address
        return None

    def _too_many_sockets(self) -> Refusal:
        return Refusal("rate_limited", Limit.ADDRESS_SOCKETS, 10,
                       f"{self.limits.per_address} connections from this address are open")

    def attached(self, conn: Key) -> None:
        """``conn`` now holds a side of a session: it is never dropped to make room."""
        s = self._sockets.get(conn)
        if s is not None and not s.attached:
            s.attached = True
            self._unattached.pop(conn, None)
            self.attached_count += 1

    def closed(self, conn: Key) -> None:
        self._forget(conn)
        self._unattached.pop(conn, None)

    # ---- sessions ----

    def may_attach(
        self, conn: Key, *, opening: bool, claiming: bool = False, authenticated: bool, now: float
    ) -> Refusal | None:
        """Before the rooms see an ``open`` (``opening``), ``claim`` (``claiming``) or ``resume``
        from ``conn``.

        Only opens are charged against the per-address bucket and unpaired counts; a claim or
        a resume takes a socket for a session that exists already. Anonymous opens and claims
        stop at ``anonymous`` sockets; resumes and agents with a token may use ``attached``.
        """
        s = self._sockets.get(conn)
        if s is None or s.attached or s.admitted:
            return None
        lim = self.limits
        resuming = not opening and not claiming
        if self.attached_count >= lim.attached or (
            not resuming and not authenticated and self.attached_count >= lim.anonymous
        ):
            return Refusal("full", Limit.SESSIONS, 30, "the relay holds as many sessions as it can")
        if not opening or s.address is None:
            s.admitted = True
            return None
        factor = lim.token_factor if authenticated else 1
        if not authenticated and self.anonymous_unpaired >= lim.max_unpaired:
            return Refusal("full", Limit.UNPAIRED, 30, f"{lim.max_unpaired} sessions are waiting for the other side")
        a = self._address(s.address, now)
        if (a.unpaired_tokened if authenticated else a.unpaired) >= lim.unpaired_per_address * factor:
            return Refusal("rate_limited", Limit.ADDRESS_UNPAIRED, 60,
                           f"{lim.unpaired_per_address * factor} sessions from this address wait for the other side")
        rate, burst = lim.open_rate * factor, float(lim.open_burst * factor)
        tokens = min(burst, a.tokens + (now - a.last) * rate)
        a.last = now
        if tokens < 1.0:
            a.tokens = tokens
            wait = math.ceil((1.0 - tokens) / rate) if rate > 0 else 3600
            return Refusal("rate_limited", Limit.OPEN_RATE, wait, f"more than {burst:g} sessions opened from this address")
        a.tokens = tokens - 1.0
        s.admitted = True
        return None

    def session_event(self, kind: str, session: str | None, data: dict[str, object]) -> None:
        """Follow the rooms: a created session waits (counted against its creator's address)
        until it is paired, waits again if its claim is released (a wrong code), and stops
        counting when it ends."""
        if session is None:
            return
        if kind == "created":
            created = self._live[session] = _Waiting(str(data.get("address") or ""), data.get("agent_token") is not None)
            self._count(created, +1)
            return
        record = self._live.get(session)
        if record is None:
            return
        if kind == "paired" and record.waiting:
            self._count(record, -1)
        elif kind == "released" and not record.waiting:
            self._count(record, +1)
        elif kind in ("ended", "killed"):
            del self._live[session]
            if record.waiting:
                self._count(record, -1)

    def _count(self, record: _Waiting, delta: int) -> None:
        record.waiting = delta > 0
        self.unpaired_count += delta
        if not record.tokened:
            self.anonymous_unpaired += delta
        a = self._addresses.get(record.address)
        if a is None:
            return
        if record.tokened:
            a.unpaired_tokened = max(0, a.unpaired_tokened + delta)
        else:
            a.unpaired = max(0, a.unpaired + delta)

    def prune(self, now: float) -> None:
        """Forget addresses that hold nothing and whose bucket is full again."""
        lim = self.limits
        full_after = lim.open_burst / lim.open_rate if lim.open_rate > 0 else math.inf
        for address in [k for k, a in self._addresses.items() if self._idle(a, now, full_after)]:
            del self._addresses[address]

    # ---- helpers ----

    def _idle(self, a: _Address, now: float, full_after: float) -> bool:
        lim = self.limits
        return (a.sockets == 0 and a.unpaired == 0 and a.unpaired_tokened == 0 and now - a.last >= full_after
                and now - a.connect_last >= lim.connect_burst / lim.connect_rate)

    def _address(self, address: str, now: float) -> _Address:
        a = self._addresses.get(address)
        if a is None:
            a = self._addresses[address] = _Address(
                tokens=float(self.limits.open_burst), last=now, connects=float(self.limits.connect_burst), connect_last=now
            )
            if len(self._addresses) > MAX_ADDRESSES:
                self.prune(now)
        return a

    def _forget(self, conn: Key) -> None:
        s = self._sockets.pop(conn, None)
        if s is None:
            return
        if s.attached:
            self.attached_count -= 1
        if s.address is not None:
            a = self._addresses.get(s.address)
            if a is not None and a.sockets > 0:
                a.sockets -= 1
