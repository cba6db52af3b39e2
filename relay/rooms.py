"""Who is paired with whom: the relay's whole state machine, with no I/O at all.

The relay's correctness (one claim per nameplate, grace and resume, expiry, rate limits) is
all here, so it is tested synchronously and deterministically: every method takes ``now``,
randomness comes in through ``rng`` and ``new_token``, and instead of touching sockets every
method returns an :class:`Output` -- the control messages to send, in order, and the
connections to close afterwards. The server applies it. Connections are opaque hashable
keys (the server uses its websocket objects; tests use strings).

The forward path for binary frames does not go through here at all: :meth:`Rooms.peer_of`
is a dict lookup the server does per frame; only frames that cannot be forwarded come back
through :meth:`Rooms.binary`.

Lifecycle of a session::

    open -> waiting --claim--> claimed --confirm--> paired --close--> ended (nameplate dead)
               |    ^               |                  |
               |    +---release-----+                  | a socket drops: that side is
               | unclaimed_ttl  (failed guess,         |   detached for ``grace``; resume
               v                 claim_timeout,        |   reattaches it, else it ends
            ended (expired)      claimant left)        v
                                                   ended (peer_timeout)

A failed code costs the guesser, never the session: until the creator's client says
``confirm`` (its key confirmation of the claimant succeeded), the claimant holds the
nameplate only on probation. The creator's ``release`` (the claimant's confirmation was
wrong), ``claim_timeout`` (a squatter), or the claimant's own ``close``/``release``/drop
let it go: it gets ``closed`` (``wrong_code``/``claim_timeout``), the creator gets
``released`` and the session waits again. Meanwhile other claimants are answered ``busy``
(not counted as failures: the real customer retries). A released claimant that sent any
frame made a guess: it counts against its address (the rate limiter) and against the
session, which after ``claim_attempts`` guesses answers every claim ``too_many_attempts``
(the creator's client, which counts guesses itself, opens a fresh code by then). An
address whose claim timed out may not claim that session again (``busy``): holding one
code costs an attacker a fresh address per ``claim_timeout``. Frames of
a claim in probation are counted apart (``_Session.claim_traffic``) to tell a guess from a
silent squat without reading them.

Memory stays bounded: sessions by ``max_sessions``, dead nameplates by ``dead_memory`` and
a count cap, per-address rate-limit records by a quiet period and a count cap, timers by
the events that created them.

Besides messages and closes, an :class:`Output` carries :class:`Event` records (session
created, paired, left, resumed, ended, killed; requests refused by error code) that the
server turns into logs, the audit log and metrics. Each session has an ``id`` for admins
and logs, distinct from the nameplate, and counts its forwarded frames and bytes in a
:class:`Traffic` object the server's forward path increments.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import re
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from itertools import count
from typing import Callable, Hashable, Protocol

from cobrowse.errors import InvalidCode
from cobrowse.wire.code import MAX_NAMEPLATE_DIGITS, validate_nameplate
from cobrowse.wire.envelope import (
    CLOSE_REASONS,
    PROTOCOL_VERSION,
    Claim,
    Claimed,
    Close,
    Closed,
    Confirm,
    Error,
    Message,
    Open,
    Opened,
    Peer,
    Ping,
    Pong,
    Release,
    Released,
    Report,
    Reported,
    Resume,
    Resumed,
)
from relay.config import RelayConfig

Key = Hashable

# Websocket close codes the server uses when it applies an Output.
CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008  # after an ``error`` message
CLOSE_GOING_AWAY = 1001  # the relay shuts down
CLOSE_TOO_BIG = 1009  # after ``too_large``

PEER_TIMEOUT_MESSAGE = "the other side lost its connection and did not come back"
SCARED_MESSAGE = "the other side detected a security problem (wrong code or interception)"
_REASON = re.compile(r"[a-z][a-z0-9_]{0,31}")
NAMEPLATE_CAP = 10**MAX_NAMEPLATE_DIGITS - 1
MAX_SQUATTERS = 1024  # addresses remembered per session (memory stays bounded)


class Rng(Protocol):
    """The part of ``random.Random`` the rooms use (the server passes a SystemRandom)."""

    def randrange(self, start: int, stop: int) -> int: ...


@dataclass(frozen=True)
class Event:
    """Something an admin may want to know: ``kind`` of thing, to which session, details.

    kinds: created, paired, left, resumed, ended (``reason``), killed, refused (``code``),
    reported (a customer reported the session: ``nameplate``, ``by``).
    Details never hold content, tokens or side secrets: names, roles, addresses, counts.
    """

    kind: str
    session: str | None
    data: dict[str, object] = field(default_factory=dict)


@dataclass
class Output:
    """What the server must do: send ``send`` in order, then close each of ``close``."""

    send: list[tuple[Key, Message]] = field(default_factory=list)
    close: list[tuple[Key, int, str]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.send or self.close or self.events)

    def to(self, key: Key) -> list[Message]:
        """The messages for one connection (tests read outputs this way)."""
        return [m for k, m in self.send if k == key]

    def closes(self, key: Key) -> bool:
        return any(k == key for k, _, _ in self.close)


class Traffic:
    """Frames and bytes forwarded in one session (both directions); the server counts."""

    __slots__ = ("frames", "bytes")

    def __init__(self) -> None:
        self.frames = 0
        self.bytes = 0


def secret_digest(secret: str) -> bytes:
    """What the relay keeps of a side's resume secret once it was handed out: a resume is
    checked against this, so a stored record (relay/store.py) cannot be replayed."""
    return hashlib.sha256(secret.encode()).digest()


@dataclass(eq=False, slots=True)
class _Side:
    role: str
    token: str  # the resume secret; "" for a side restored from its digest alone
    conn: Key | None
    grace_until: float | None = None
    digest: bytes = b""

    def __post_init__(self) -> None:
        if not self.digest:
            self.digest = secret_digest(self.token)


@dataclass(frozen=True)
class SessionRecord:
    """What survives a restart of this relay (relay/store.py writes it before the side that
    caused it gets its answer): who holds the session, never a key nor a resume secret
    (only its sha256). ``joiner`` only once the creator confirmed the pairing."""

    nameplate: str
    id: str
    creator_role: str
    creator_digest: bytes
    joiner_role: str = ""
    joiner_digest: bytes = b""
    agent_token: str = ""


@dataclass(eq=False, slots=True)
class _Session:
    nameplate: str
    creator: _Side
    expires_at: float  # only while nobody claimed it
    id: str = ""
    created_at: float = 0.0
    agent_token: str | None = None  # the name of the agent's token, when tokens are in use
    joiner: _Side | None = None
    ended: bool = False
    traffic: Traffic = field(default_factory=Traffic)
    active_at: float = 0.0  # when frames were last seen moving (idle timeout)
    frames_seen: int = 0
    reported_by: set[str] = field(default_factory=set)  # roles that reported it to the operator
    confirmed: bool = False  # the creator confirmed the joiner: the claim can no longer be released
    claim_deadline: float = 0.0  # an unconfirmed joiner is released at this time
    claim_traffic: Traffic = field(default_factory=Traffic)  # what the unconfirmed joiner sent
    failures: int = 0  # released claimants that made a guess
    squatters: set[str] = field(default_factory=set)  # addresses let go after claim_timeout
    claims: int = 0  # claims so far: the creator's ``release`` names the one it means

    def other(self, side: _Side) -> _Side | None:
        return self.joiner if side is self.creator else self.creator

    def sides(self) -> list[_Side]:
        return [self.creator] if self.joiner is None else [self.creator, self.joiner]


@dataclass(eq=False, slots=True)
class _Conn:
    address: str
    session: _Session | None = None
    side: _Side | None = None
    closing: bool = False  # the server was told to close it: ignore what it still sends


@dataclass(eq=False, slots=True)
class _Strikes:
    failures: deque[float]
    level: int = 0
    blocked_until: float = 0.0
    last: float = 0.0


class RateLimiter:
    """Failed claims per address: ``limit`` per ``window``, then blocks that double.

    A failed claim is a wrong guess of a nameplate (unknown, expired, taken). After
    ``limit`` of them within ``window`` the address is blocked for ``window``; every
    following block (``limit`` more failures) lasts twice the previous one, up to
    ``backoff_max``. An address quiet for ``max(window, backoff_max)`` is forgotten.
    """

    def __init__(self, limit: int, window: float, backoff_max: float, max_addresses: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.backoff_max = backoff_max
        self.quiet = max(window, backoff_max)
        self.max_addresses = max_addresses
        self._table: OrderedDict[str, _Strikes] = OrderedDict()  # least recently failed first

    def __len__(self) -> int:
        return len(self._table)

    def blocked(self, address: str, now: float) -> bool:
        s = self._table.get(address)
        return s is not None and now < s.blocked_until

    def retry_after(self, address: str, now: float) -> float:
        s = self._table.get(address)
        return max(0.0, s.blocked_until - now) if s is not None else 0.0

    def fail(self, address: str, now: float) -> None:
        s = self._table.get(address)
        if s is None:
            s = self._table[address] = _Strikes(deque(maxlen=self.limit))
            while len(self._table) > self.max_addresses:
                self._table.popitem(last=False)
        else:
            self._table.move_to_end(address)
        s.last = now
        s.failures.append(now)
        while s.failures and s.failures[0] <= now - self.window:
            s.failures.popleft()
        if len(s.failures) >= self.limit:
            s.level += 1
            s.blocked_until = now + min(self.window * 2 ** min(s.level - 1, 60), self.backoff_max)
            s.failures.clear()

    def prune(self, now: float) -> None:
        while self._table:
            address, s = next(iter(self._table.items()))
            if s.last > now - self.quiet or now < s.blocked_until:
                break
            del self._table[address]


class Rooms:
    """All sessions of one relay. See the module docstring for the rules."""

    def __init__(
        self,
        config: RelayConfig,
        rng: Rng,
        new_token: Callable[[], str],
        *,
        max_dead: int = 200_000,
        max_addresses: int = 100_000,
        new_id: Callable[[], str] | None = None,
        ice_for: Callable[[str, str], list[dict[str, object]]] | None = None,
    ) -> None:
        self.config = config
        # (session id, role) -> the ICE servers for that side (relay/turn.py; wall-clock
        # dependent, so the server passes it in); none by default.
        self._ice_for = ice_for if ice_for is not None else (lambda session_id, role: [])
        self._rng = rng
        self._new_token = new_token
        ids = count(1)
        self._new_id = new_id if new_id is not None else (lambda: f"s{next(ids):06d}")
        self._max_dead = max_dead
        self._token_names: dict[str, str] = {d: f"config:{d[:8]}" for d in config.agent_tokens}
        self._per_token: dict[str, int] = {}  # token name -> live sessions
        self._conns: dict[Key, _Conn] = {}
        self._sessions: dict[str, _Session] = {}
        self._by_id: dict[str, _Session] = {}
        self._routes: dict[Key, Key] = {}  # attached side of a paired session -> the other side
        self._fast: dict[Key, tuple[Key, Traffic]] = {}  # the same, with the session's counters
        self._idle_sweep_at = 0.0
        self._dead: OrderedDict[str, float] = OrderedDict()  # nameplate -> ended at, oldest first
        self._cooling: OrderedDict[str, float] = OrderedDict()  # not to be reused yet
        self._timers: list[tuple[float, int, _Session, _Side | None]] = []
        self._seq = count()
        self.limiter = RateLimiter(config.rate_limit, config.rate_window, config.rate_backoff_max, max_addresses)
        self.peer_of: Callable[[Key], Key | None] = self._routes.get
        # The hot path: the server calls this per binary frame: (peer, the session's Traffic).
        self.route_of: Callable[[Key], tuple[Key, Traffic] | None] = self._fast.get

    # ---- agent tokens ----

    def set_agent_tokens(self, names: dict[str, str]) -> None:
        """Replace the accepted agent tokens: sha256 hex digest -> token name.

        Live sessions keep going (a revoked token stops new sessions; ``kill`` ends old ones).
        """
        self._token_names = dict(names)

    @property
    def tokens_required(self) -> bool:
        return bool(self._token_names)

    @property
    def agent_token_count(self) -> int:
        return len(self._token_names)

    # ---- introspection (health, tests) ----

    @property
    def session_count(self) -> int:
        return len(self._sessions)

    @property
    def connection_count(self) -> int:
        return len(self._conns)

    def attached(self, conn: Key) -> bool:
        """Whether ``conn`` holds a side of a session (its handshake is done)."""
        c = self._conns.get(conn)
        return c is not None and c.side is not None

    def traffic_total(self) -> tuple[int, int]:
        """(frames, bytes) forwarded in the live sessions (the server adds the ended ones)."""
        frames = nbytes = 0
        for session in self._sessions.values():
            frames += session.traffic.frames
            nbytes += session.traffic.bytes
        return frames, nbytes

    def state_counts(self) -> dict[str, int]:
        counts = {"waiting": 0, "paired": 0, "grace": 0}
        for session in self._sessions.values():
            counts[_state(session)] += 1
        return counts

    def snapshot(self, now: float) -> list[dict[str, object]]:
        """Live sessions for admins, oldest first: no side secrets, no content."""
        rows = []
        for s in sorted(self._sessions.values(), key=lambda s: s.created_at):
            sides = {"agent": "absent", "customer": "absent"}
            for side in s.sides():
                sides[side.role] = "connected" if side.conn is not None else "away"
            rows.append({
                "id": s.id,
                "nameplate": s.nameplate,
                "state": _state(s),
                "age_s": round(now - s.created_at, 3),
                "created_by": s.creator.role,
                "sides": sides,
                "agent_token": s.agent_token,
                "frames": s.traffic.frames,
                "bytes": s.traffic.bytes,
            })
        return rows

    def memory_sizes(self) -> dict[str, int]:
        return {
            "sessions": len(self._sessions),
            "connections": len(self._conns),
            "routes": len(self._routes),
            "dead": len(self._dead),
            "cooling": len(self._cooling),
            "timers": len(self._timers),
            "addresses": len(self.limiter),
        }

    # ---- several nodes (relay/cluster.py does the Redis side) ----

    def holds(self, nameplate: str) -> bool:
        """Whether this node has that live session."""
        return nameplate in self._sessions

    def live_nameplates(self) -> list[str]:
        return list(self._sessions)

    def address_of(self, conn: Key) -> str:
        c = self._conns.get(conn)
        return c.address if c is not None else ""

    def nameplate_candidates(self, now: float, k: int = 8, floor: int = 99) -> list[str]:
        """Up to ``k`` distinct nameplates free here, from 1..at least ``floor``, to reserve
        one of them cluster-wide."""
        seen: dict[str, None] = {}
        for _ in range(2 * k):
            candidate = self._allocate(now, floor)
            if candidate is None:
                break
            seen.setdefault(candidate, None)
            if len(seen) == k:
                break
        return list(seen)

    def export(self, nameplate: str) -> dict[str, str] | None:
        """What another node needs to adopt the session (its sides' resume secrets included)."""
        s = self._sessions.get(nameplate)
        if s is None:
            return None
        joiner = s.joiner
        return {
            "id": s.id, "creator_role": s.creator.role, "creator_token": s.creator.token,
            "joiner_role": joiner.role if joiner is not None else "",
            "joiner_token": joiner.token if joiner is not None else "",
            "agent_token": s.agent_token or "",
        }

    def adopt(
        self, nameplate: str, session_id: str, creator: tuple[str, str], joiner: tuple[str, str] | None,
        agent_token: str | None, now: float,
    ) -> Output:
        """Take over a session whose node was lost: both sides away, each with a fresh grace
        period to ``resume`` here (or through another node). A no-op if it is here already.
        ``creator``/``joiner`` are (role, resume secret)."""
        record = SessionRecord(
            nameplate, session_id, creator[0], secret_digest(creator[1]),
            joiner[0] if joiner is not None else "", secret_digest(joiner[1]) if joiner is not None else b"",
            agent_token or "",
        )
        return self._revive(record, now, "adopted")

    def restore(self, records: list[SessionRecord], now: float, ages: dict[str, float] | None = None) -> Output:
        """This relay restarted: take its sessions back from its store, every side away with
        a fresh grace period to ``resume``; a session nobody joined yet keeps what is left
        of ``unclaimed_ttl`` (``ages``: seconds since each was created, by id)."""
        out = Output()
        for record in records:
            age = (ages or {}).get(record.id, 0.0)
            if not record.joiner_role and age >= self.config.unclaimed_ttl:
                continue
            one = self._revive(record, now, "restored", ttl_left=self.config.unclaimed_ttl - age)
            out.events.extend(one.events)
        return out

    def record(self, session_id: str) -> SessionRecord | None:
        """The session as relay/store.py keeps it (None once it ended)."""
        s = self._by_id.get(session_id)
        if s is None or s.ended:
            return None
        joiner = s.joiner if s.confirmed else None
        return SessionRecord(
            s.nameplate, s.id, s.creator.role, s.creator.digest,
            joiner.role if joiner is not None else "", joiner.digest if joiner is not None else b"",
            s.agent_token or "",
        )

    def _revive(self, record: SessionRecord, now: float, kind: str, ttl_left: float | None = None) -> Output:
        out = Output()
        nameplate, session_id, agent_token = record.nameplate, record.id, record.agent_token
        if nameplate in self._sessions or session_id in self._by_id:
            return out
        grace_until = now + self.config.grace
        first = _Side(record.creator_role, "", None, grace_until, record.creator_digest)
        ttl = self.config.unclaimed_ttl if ttl_left is None else max(0.0, ttl_left)
        session = _Session(nameplate, first, now + ttl, session_id, now)
        self._cooling.pop(nameplate, None)
        self._dead.pop(nameplate, None)
        self._sessions[nameplate] = session
        self._by_id[session_id] = session
        if agent_token:
            session.agent_token = agent_token
            self._per_token[agent_token] = self._per_token.get(agent_token, 0) + 1
        self._timer(grace_until, session, first)
        if record.joiner_role:
            second = session.joiner = _Side(record.joiner_role, "", None, grace_until, record.joiner_digest)
            session.confirmed = True  # only confirmed pairings are recorded: released claims never travel
            session.active_at = now
            self._timer(grace_until, session, second)
        else:
            self._timer(session.expires_at, session, None)
        out.events.append(Event(kind, session_id, {
            "nameplate": nameplate, "paired": bool(record.joiner_role), "agent_token": agent_token or None,
        }))
        return out

    # ---- inputs ----

    def connected(self, conn: Key, address: str) -> None:
        """A socket opened; ``address`` is the key rate limits count against."""
        self._conns[conn] = _Conn(address)

    def disconnected(self, conn: Key, now: float) -> Output:
        """A socket is gone (whatever the reason); its side, if any, is detached."""
        out = Output()
        c = self._conns.pop(conn, None)
        if c is not None and c.side is not None:
            self._detach(c, now, out)
        return out

    def receive(self, conn: Key, msg: Message, now: float, *, nameplate: str | None = None) -> Output:
        """A decoded control message from ``conn``.

        ``nameplate``: for an ``open`` on a node of several, the nameplate the cluster
        reserved in Redis (one of :meth:`nameplate_candidates`); ``""`` when none could be,
        which answers ``full``.
        """
        out = Output()
        c = self._conns.get(conn)
        if c is None:
            c = self._conns[conn] = _Conn("")
        if c.closing:
            return out
        if isinstance(msg, Ping):
            out.send.append((conn, Pong()))
            if c.session is not None:
                c.session.active_at = now  # a keepalive: frames may be taking a direct path
        elif isinstance(msg, Open):
            self._open(conn, c, msg, now, out, nameplate)
        elif isinstance(msg, Claim):
            self._claim(conn, c, msg, now, out)
        elif isinstance(msg, Resume):
            self._resume(conn, c, msg, now, out)
        elif isinstance(msg, Close):
            self._close(conn, c, msg, now, out)
        elif isinstance(msg, Report):
            self._report(conn, c, now, out)
        elif isinstance(msg, Confirm):
            self._confirm(c, now, out)
        elif isinstance(msg, Release):
            self._release(c, msg, now, out)
        else:  # a relay->client type cannot reach here through decode_client
            self._fatal(conn, c, "malformed", now, out, f"unexpected {msg.type!r}")
        return out

    def handshake_timeout(self, conn: Key, now: float) -> Output:
        """``conn`` did not open, claim or resume within ``handshake_timeout``: close it."""
        out = Output()
        c = self._conns.get(conn)
        if c is not None and not c.closing and c.side is None:
            limit = self.config.handshake_timeout
            self._fatal(conn, c, "handshake_timeout", now, out, f"no open, claim or resume within {limit:g} s")
        return out

    def slow_consumer(self, conn: Key, now: float) -> Output:
        """``conn`` has not taken what was sent to it for too long: close it (it may resume)."""
        out = Output()
        c = self._conns.get(conn)
        if c is not None and not c.closing:
            limit = self.config.slow_consumer_timeout
            self._fatal(conn, c, "slow_consumer", now, out, f"more than {self.config.send_buffer_bytes} bytes "
                        f"waited for it over {limit:g} s")
        return out

    def kill(self, session_id: str, now: float) -> Output | None:
        """An admin ends a session: both sides get ``closed`` (killed). None if no such session."""
        session = self._by_id.get(session_id)
        if session is None or session.ended:
            return None
        out = Output()
        out.events.append(Event("killed", session.id, {"agent_token": session.agent_token}))
        for side in session.sides():
            if side.conn is not None:
                out.send.append((side.conn, Closed("killed", "the relay's administrator ended the session")))
        self._end(session, now, out, "killed")
        return out

    def shutdown(self, now: float) -> Output:
        """The relay stops: every session ends with ``closed`` (shutdown), every socket closes 1001."""
        out = Output()
        for session in list(self._sessions.values()):
            for side in session.sides():
                if side.conn is not None:
                    out.send.append((side.conn, Closed("shutdown", "the relay is shutting down")))
            self._end(session, now, out, "shutdown", close_code=CLOSE_GOING_AWAY)
        for conn, c in self._conns.items():
            if not c.closing:
                c.closing = True
                out.close.append((conn, CLOSE_GOING_AWAY, "relay shutting down"))
        return out

    def malformed(self, conn: Key, detail: str, now: float) -> Output:
        """A text frame that did not decode: answer ``malformed`` and close that socket."""
        out = Output()
        c = self._conns.get(conn)
        if c is not None and not c.closing:
            self._fatal(conn, c, "malformed", now, out, detail)
        return out

    def binary(self, conn: Key, size: int, now: float) -> Output:
        """A binary frame the fast path did not forward (too large, unpaired or peer away)."""
        out = Output()
        c = self._conns.get(conn)
        if c is None or c.closing:
            return out
        if size > self.config.max_frame_bytes:
            self._fatal(
                conn, c, "too_large", now, out,
                f"{size} bytes, the limit is {self.config.max_frame_bytes}", close_code=CLOSE_TOO_BIG,
            )
        elif c.session is None:
            out.send.append((conn, Error.of("not_in_session")))
        elif c.session.joiner is None:
            out.send.append((conn, Error.of("not_in_session", "nobody has joined yet")))
        # else: paired but the peer is detached: drop; the clients retransmit end to end
        return out

    def tick(self, now: float) -> Output:
        """Fire due deadlines (unclaimed expiry, grace) and forget what is old enough."""
        out = Output()
        timers = self._timers
        while timers and timers[0][0] <= now:
            when, _, session, side = heapq.heappop(timers)
            if session.ended:
                continue
            if side is not None and side is session.joiner and not session.confirmed:
                if session.claim_deadline == when and side.conn is not None:
                    self._release_claim(session, "timeout", now, out)
                continue
            if side is None:
                if session.joiner is None and session.expires_at == when:
                    creator = session.creator
                    if creator.conn is not None:
                        minutes = self.config.unclaimed_ttl / 60
                        out.send.append((creator.conn, Closed(
                            "expired",
                            f"nobody joined with this code within {minutes:g} minutes: start a new session",
                        )))
                    self._end(session, now, out, "expired")
            elif side.conn is None and side.grace_until == when:
                other = session.other(side)
                if other is not None and other.conn is not None:
                    out.send.append((other.conn, Closed("peer_timeout", PEER_TIMEOUT_MESSAGE)))
                self._end(session, now, out, "peer_timeout")
        idle = self.config.idle_timeout
        if idle > 0 and now >= self._idle_sweep_at:
            self._idle_sweep_at = now + max(self.config.tick_interval, idle / 8)
            self._sweep_idle(now, idle, out)
        self._prune(now)
        return out

    def _sweep_idle(self, now: float, idle: float, out: Output) -> None:
        for session in list(self._sessions.values()):
            if session.joiner is None:
                continue
            frames = session.traffic.frames
            if frames != session.frames_seen:
                session.frames_seen, session.active_at = frames, now
            elif now - session.active_at >= idle:
                for side in session.sides():
                    if side.conn is not None:
                        out.send.append((side.conn, Closed("idle", f"no activity for {idle:g} s")))
                self._end(session, now, out, "idle")

    def next_deadline(self) -> float | None:
        """When :meth:`tick` may next have something to do (possibly a stale timer)."""
        return self._timers[0][0] if self._timers else None

    # ---- handlers ----

    def _open(self, conn: Key, c: _Conn, msg: Open, now: float, out: Output, reserved: str | None = None) -> None:
        if c.side is not None:
            return self._fatal(conn, c, "malformed", now, out, "this connection is already in a session")
        if msg.version != PROTOCOL_VERSION:
            return self._fatal(conn, c, "bad_version", now, out, f"relay speaks version {PROTOCOL_VERSION}")
        token_name = None
        if msg.role == "agent":
            ok, token_name = self._token(msg.token)
            if not ok:
                return self._fatal(conn, c, "unauthorized", now, out)
            if self._over_quota(token_name):
                return self._fatal(conn, c, "over_quota", now, out, f"{self.config.max_sessions_per_token} live sessions")
        if msg.role == "customer" and not self.config.customers_may_create:
            return self._fatal(conn, c, "forbidden", now, out)
        nameplate = None
        if len(self._sessions) < self.config.max_sessions:
            nameplate = (reserved or None) if reserved is not None else self._allocate(now)
        if nameplate is None:
            return self._fatal(conn, c, "full", now, out)
        side = _Side(msg.role, self._new_token(), conn)
        session = _Session(nameplate, side, now + self.config.unclaimed_ttl, self._unique_id(), now)
        self._sessions[nameplate] = session
        self._by_id[session.id] = session
        self._count_token(session, token_name)
        c.session, c.side = session, side
        self._timer(session.expires_at, session, None)
        out.send.append((conn, Opened(
            nameplate, side.token, self.config.unclaimed_ttl, self._ice_for(session.id, msg.role)
        )))
        out.events.append(Event("created", session.id, {
            "nameplate": nameplate, "role": msg.role, "agent_token": token_name, "address": c.address,
        }))

    def _claim(self, conn: Key, c: _Conn, msg: Claim, now: float, out: Output) -> None:
        if c.side is not None:
            return self._fatal(conn, c, "malformed", now, out, "this connection is already in a session")
        if msg.version != PROTOCOL_VERSION:
            return self._fatal(conn, c, "bad_version", now, out, f"relay speaks version {PROTOCOL_VERSION}")
        if self.limiter.blocked(c.address, now):
            wait = self.limiter.retry_after(c.address, now)
            return self._fatal(conn, c, "rate_limited", now, out, f"retry in {wait:.0f} s")
        token_name = None
        if msg.role == "agent":
            ok, token_name = self._token(msg.token)
            if not ok:
                return self._fatal(conn, c, "unauthorized", now, out)
        try:
            nameplate = validate_nameplate(msg.nameplate)
        except InvalidCode:
            nameplate = ""
        session = self._sessions.get(nameplate)
        if session is not None and session.joiner is not None and not session.confirmed \
                and session.creator.role != msg.role:
            wait = max(0.0, session.claim_deadline - now)
            return self._fatal(conn, c, "busy", now, out, f"retry within {wait:.0f} s")
        if session is not None and c.address in session.squatters:
            self.limiter.fail(c.address, now)
            return self._fatal(conn, c, "busy", now, out, "this address held the session without finishing")
        if session is not None and session.failures >= self.config.claim_attempts and session.joiner is None:
            self.limiter.fail(c.address, now)
            return self._fatal(conn, c, "too_many_attempts", now, out)
        if session is None or session.joiner is not None or session.creator.role == msg.role:
            code = "taken" if session is not None else "expired" if nameplate in self._dead else "unknown_nameplate"
            self.limiter.fail(c.address, now)
            return self._fatal(conn, c, code, now, out)
        if msg.role == "agent" and self._over_quota(token_name):
            return self._fatal(conn, c, "over_quota", now, out, f"{self.config.max_sessions_per_token} live sessions")
        joiner = session.joiner = _Side(msg.role, self._new_token(), conn)
        if msg.role == "agent":
            self._count_token(session, token_name)
        session.active_at = now
        session.claim_traffic = Traffic()
        session.claims += 1
        session.claim_deadline = now + self.config.claim_timeout
        self._timer(session.claim_deadline, session, joiner)
        c.session, c.side = session, joiner
        out.events.append(Event("paired", session.id, {
            "nameplate": nameplate, "role": msg.role, "agent_token": session.agent_token, "address": c.address,
        }))
        out.send.append((conn, Claimed(nameplate, joiner.token, self._ice_for(session.id, msg.role))))
        out.send.append((conn, Peer("joined")))
        creator = session.creator
        if creator.conn is not None:
            out.send.append((creator.conn, Peer("joined")))
            self._link_sides(session)
        else:
            left = creator.grace_until - now if creator.grace_until is not None else None
            out.send.append((conn, Peer("left", round(max(0.0, left), 3) if left is not None else None)))

    def _resume(self, conn: Key, c: _Conn, msg: Resume, now: float, out: Output) -> None:
        if c.side is not None:
            return self._fatal(conn, c, "malformed", now, out, "this connection is already in a session")
        try:
            session = self._sessions.get(validate_nameplate(msg.nameplate))
        except InvalidCode:
            session = None
        side = None
        if session is not None:
            digest = secret_digest(msg.side)
            for candidate in session.sides():
                if hmac.compare_digest(candidate.digest, digest):
                    side = candidate
        if session is None or side is None:
            return self._fatal(conn, c, "bad_resume", now, out)
        old = side.conn
        if old is not None:
            # The client noticed the drop before we did: the new socket replaces the old.
            self._unlink(old)
            oc = self._conns.get(old)
            if oc is not None:
                oc.session = oc.side = None
                oc.closing = True
            out.close.append((old, CLOSE_NORMAL, "replaced by a resumed connection"))
        side.conn, side.grace_until = conn, None
        c.session, c.side = session, side
        out.events.append(Event("resumed", session.id, {"role": side.role, "address": c.address}))
        other = session.other(side)
        peer_here = other is not None and other.conn is not None
        out.send.append((conn, Resumed(session.nameplate, peer_here, self._ice_for(session.id, side.role))))
        if peer_here:
            assert other is not None and other.conn is not None
            self._link_sides(session)
            if old is None:
                out.send.append((other.conn, Peer("back")))

    def _close(self, conn: Key, c: _Conn, msg: Close, now: float, out: Output) -> None:
        session, side = c.session, c.side
        if session is None or side is None:
            c.closing = True
            out.close.append((conn, CLOSE_NORMAL, "closed"))
            return
        if side is session.joiner and not session.confirmed:
            # A claimant cannot end a session it never confirmed: it only gives up its claim.
            self._release_claim(session, "left", now, out)
            return
        reason = msg.reason if _REASON.fullmatch(msg.reason) else "ended"
        other = session.other(side)
        if other is not None and other.conn is not None:
            text = SCARED_MESSAGE if reason == "scared" else f"the {side.role} ended the session"
            out.send.append((other.conn, Closed(reason, text)))
        self._end(session, now, out, reason, by=side.role)

    def _report(self, conn: Key, c: _Conn, now: float, out: Output) -> None:
        """A side reports its session to the operator (a suspected scam): one ``reported``
        event per side and session (repeats are answered, not counted), never any content."""
        session, side = c.session, c.side
        if session is None or side is None:
            out.send.append((conn, Error.of("not_in_session")))
            return
        if side.role not in session.reported_by:
            session.reported_by.add(side.role)
            out.events.append(Event("reported", session.id, {
                "nameplate": session.nameplate, "by": side.role, "agent_token": session.agent_token,
                "age_s": round(now - session.created_at, 3), "address": c.address,
            }))
        out.send.append((conn, Reported(session.nameplate)))

    def _confirm(self, c: _Conn, now: float, out: Output) -> None:
        """The creator's client checked the joiner's key confirmation: the claim stands.
        From anyone else (the claimant itself above all) it means nothing."""
        session, side = c.session, c.side
        if session is None or side is not session.creator or session.joiner is None or session.confirmed:
            return
        session.confirmed = True
        self._fold_claim_traffic(session)
        self._link_sides(session)
        out.events.append(Event("confirmed", session.id, {
            "nameplate": session.nameplate, "failures": session.failures,
            "claim_s": round(now - (session.claim_deadline - self.config.claim_timeout), 3),
        }))

    def _release(self, c: _Conn, msg: Release, now: float, out: Output) -> None:
        """The pairing attempt failed: the creator lets its claimant go (``failed``), or the
        claimant gives up (``left``). Nothing to release once confirmed, nor when the
        creator names an earlier claim than the current one: ignored."""
        session, side = c.session, c.side
        if session is None or side is None or session.joiner is None or session.confirmed:
            return
        if side is session.creator and msg.claim is not None and msg.claim != session.claims:
            return
        self._release_claim(session, "failed" if side is session.creator else "left", now, out)

    def _release_claim(self, session: _Session, reason: str, now: float, out: Output,
                       address: str | None = None) -> None:
        """Detach the unconfirmed joiner: it learns why, the creator gets ``released``,
        the session waits for a claim again. ``address``: the joiner's, when its socket is
        already gone."""
        joiner = session.joiner
        assert joiner is not None and not session.confirmed
        guessed = reason == "failed" or session.claim_traffic.frames > 0
        self._fold_claim_traffic(session)
        session.joiner = None
        if guessed:
            session.failures += 1
        if joiner.role == "agent" and session.creator.role != "agent":
            self._uncount_token(session)
        conn = joiner.conn
        joiner.conn = None
        if conn is not None:
            self._unlink(conn)
            jc = self._conns.get(conn)
            if jc is not None:
                address = jc.address
                jc.session = jc.side = None
                jc.closing = True
            if reason != "left":
                why = "wrong_code" if reason == "failed" else "claim_timeout"
                out.send.append((conn, Closed(why, CLOSE_REASONS[why])))
            out.close.append((conn, CLOSE_NORMAL, "claim released"))
        if address is not None and (guessed or reason == "timeout"):
            self.limiter.fail(address, now)
            if reason == "timeout" and len(session.squatters) < MAX_SQUATTERS:
                session.squatters.add(address)
        if session.expires_at <= now:
            session.expires_at = now
            self._timer(now, session, None)
        creator = session.creator
        if creator.conn is not None:
            out.send.append((creator.conn, Released(reason, session.failures)))
        out.events.append(Event("released", session.id, {
            "nameplate": session.nameplate, "reason": reason, "guess": guessed, "failures": session.failures,
            "role": joiner.role, "address": address,
        }))

    def _fold_claim_traffic(self, session: _Session) -> None:
        claim = session.claim_traffic
        session.traffic.frames += claim.frames
        session.traffic.bytes += claim.bytes
        session.claim_traffic = Traffic()

    def _link_sides(self, session: _Session) -> None:
        """Route the two attached sides to each other. Until the creator confirms, what the
        joiner sends is counted apart (the creator's direction counts as usual)."""
        joiner, creator = session.joiner, session.creator
        if joiner is None or joiner.conn is None or creator.conn is None:
            return
        a, b = creator.conn, joiner.conn
        self._routes[a] = b
        self._routes[b] = a
        self._fast[a] = (b, session.traffic)
        self._fast[b] = (a, session.traffic if session.confirmed else session.claim_traffic)

    # ---- helpers ----

    def _fatal(
        self, conn: Key, c: _Conn, code: str, now: float, out: Output, detail: str = "",
        close_code: int = CLOSE_POLICY,
    ) -> None:
        """Answer ``error`` and close that socket; its side (if any) goes into grace."""
        out.send.append((conn, Error.of(code, detail)))
        session = c.session
        out.events.append(Event("refused", session.id if session is not None else None, {
            "code": code, "role": c.side.role if c.side is not None else None, "address": c.address,
        }))
        if c.side is not None:
            self._detach(c, now, out)
        c.closing = True
        out.close.append((conn, close_code, code))

    def _detach(self, c: _Conn, now: float, out: Output) -> None:
        session, side = c.session, c.side
        c.session = c.side = None
        if session is None or side is None or session.ended:
            return
        if side is session.joiner and not session.confirmed:
            self._release_claim(session, "left", now, out, c.address)
            return
        if side.conn is not None:
            self._unlink(side.conn)
        side.conn = None
        side.grace_until = now + self.config.grace
        self._timer(side.grace_until, session, side)
        out.events.append(Event("left", session.id, {"role": side.role, "grace_s": self.config.grace}))
        other = session.other(side)
        if other is not None and other.conn is not None:
            out.send.append((other.conn, Peer("left", self.config.grace)))

    def _end(
        self, session: _Session, now: float, out: Output, reason: str, *, by: str | None = None,
        close_code: int = CLOSE_NORMAL,
    ) -> None:
        """Close whoever is still attached and remember the nameplate as dead."""
        session.ended = True
        for side in session.sides():
            if side.conn is not None:
                self._unlink(side.conn)
                c = self._conns.get(side.conn)
                if c is not None:
                    c.session = c.side = None
                    c.closing = True
                out.close.append((side.conn, close_code, "session ended"))
                side.conn = None
        np = session.nameplate
        if self._sessions.get(np) is session:
            del self._sessions[np]
        self._by_id.pop(session.id, None)
        name = session.agent_token
        self._uncount_token(session)
        session.agent_token = name
        data: dict[str, object] = {
            "reason": reason, "duration_s": round(now - session.created_at, 3), "paired": session.joiner is not None,
            "frames": session.traffic.frames, "bytes": session.traffic.bytes, "agent_token": name,
        }
        if by is not None:
            data["by"] = by
        out.events.append(Event("ended", session.id, data))
        self._dead[np] = now
        self._dead.move_to_end(np)
        self._cooling[np] = now
        self._cooling.move_to_end(np)
        while len(self._dead) > self._max_dead:
            self._dead.popitem(last=False)

    def _unlink(self, conn: Key) -> None:
        peer = self._routes.pop(conn, None)
        self._fast.pop(conn, None)
        if peer is not None:
            self._routes.pop(peer, None)
            self._fast.pop(peer, None)

    def _timer(self, when: float, session: _Session, side: _Side | None) -> None:
        heapq.heappush(self._timers, (when, next(self._seq), session, side))

    def _token(self, token: str | None) -> tuple[bool, str | None]:
        """(accepted, token name): with no tokens configured every agent is accepted, unnamed."""
        if not self._token_names:
            return True, None
        if token is None:
            return False, None
        name = self._token_names.get(hashlib.sha256(token.encode()).hexdigest())
        return name is not None, name

    def _over_quota(self, token_name: str | None) -> bool:
        limit = self.config.max_sessions_per_token
        return bool(limit) and token_name is not None and self._per_token.get(token_name, 0) >= limit

    def _count_token(self, session: _Session, token_name: str | None) -> None:
        if token_name is None:
            return
        session.agent_token = token_name
        self._per_token[token_name] = self._per_token.get(token_name, 0) + 1

    def _uncount_token(self, session: _Session) -> None:
        name = session.agent_token
        session.agent_token = None
        if name is not None and name in self._per_token:
            self._per_token[name] -= 1
            if self._per_token[name] <= 0:
                del self._per_token[name]

    def _unique_id(self) -> str:
        while True:
            candidate = self._new_id()
            if candidate not in self._by_id:
                return candidate

    def _prune(self, now: float) -> None:
        for table, age in ((self._dead, self.config.dead_memory), (self._cooling, self.config.reuse_cooldown)):
            while table:
                np, when = next(iter(table.items()))
                if when > now - age:
                    break
                del table[np]
        self.limiter.prune(now)

    def _allocate(self, now: float, floor: int = 99) -> str | None:
        """A random free nameplate, short while the relay is quiet.

        The range is 1..max(floor, 4 x taken) so at most a quarter of it is taken and random
        picks almost always succeed; nameplates that ended less than ``reuse_cooldown``
        ago count as taken, so a late claim never lands in a stranger's new session.
        (With several nodes, others' sessions are not counted here: the cluster raises
        ``floor`` when its reservations keep failing.)
        """
        self._prune(now)
        taken = len(self._sessions) + len(self._cooling)
        hi = min(max(floor, 4 * taken), NAMEPLATE_CAP)
        while True:
            for _ in range(16):
                candidate = str(self._rng.randrange(1, hi + 1))
                if candidate not in self._sessions and candidate not in self._cooling:
                    self._dead.pop(candidate, None)
                    return candidate
            if hi == NAMEPLATE_CAP:
                break
            hi = min(hi * 2, NAMEPLATE_CAP)
        start = self._rng.randrange(0, NAMEPLATE_CAP)
        for i in range(NAMEPLATE_CAP):
            candidate = str((start + i) % NAMEPLATE_CAP + 1)
            if candidate not in self._sessions and candidate not in self._cooling:
                self._dead.pop(candidate, None)
                return candidate
        return None


def _state(session: _Session) -> str:
    if session.joiner is None:
        return "waiting"
    if all(side.conn is not None for side in session.sides()):
        return "paired"
    return "grace"
