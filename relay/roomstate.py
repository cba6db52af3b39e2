"""The rooms' state and the helpers every rule uses: sessions, sides, connections, timers,
token counts, nameplate allocation and the end of a session. Pure, like relay/rooms.py (which
holds the rules; relay/roomops.py the operations around them): ``now`` and randomness come in.
"""

from __future__ import annotations

import hashlib
import heapq
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from itertools import count
from typing import Callable, Protocol

from cobrowse.wire.code import MAX_NAMEPLATE_DIGITS
from cobrowse.wire.envelope import CLOSE_REASONS, Closed
from relay.config import RelayConfig
from relay.outcome import CLOSE_GOING_AWAY, CLOSE_NORMAL, Event, Key, Output, Traffic
from relay.ratelimit import RateLimiter

PEER_TIMEOUT_MESSAGE = "the other side lost its connection and did not come back"
SCARED_MESSAGE = CLOSE_REASONS["scared"]  # the clients' words, kept in step (clients never show the relay's)
REASON = re.compile(r"[a-z][a-z0-9_]{0,31}")
NAMEPLATE_CAP = 10**MAX_NAMEPLATE_DIGITS - 1
MAX_SQUATTERS = 1024  # addresses remembered per session (memory stays bounded)
MAX_REVOKED = 256  # revoked token digests remembered to name a refusal (relay/tokens.py keeps as many)


class Rng(Protocol):
    """The part of ``random.Random`` the rooms use (the server passes a SystemRandom)."""

    def randrange(self, start: int, stop: int) -> int: ...


def secret_digest(secret: str) -> bytes:
    """What the relay keeps of a side's resume secret once it was handed out: a resume is
    checked against this, so a stored record (relay/store.py) cannot be replayed."""
    return hashlib.sha256(secret.encode()).digest()


@dataclass(eq=False, slots=True)
class Side:
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
class RoomSession:
    nameplate: str
    creator: Side
    expires_at: float  # only while nobody claimed it
    id: str = ""
    created_at: float = 0.0
    agent_token: str | None = None  # the name of the agent's token, when tokens are in use
    joiner: Side | None = None
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

    def other(self, side: Side) -> Side | None:
        return self.joiner if side is self.creator else self.creator

    def sides(self) -> list[Side]:
        return [self.creator] if self.joiner is None else [self.creator, self.joiner]


@dataclass(eq=False, slots=True)
class Conn:
    address: str
    session: RoomSession | None = None
    side: Side | None = None
    closing: bool = False  # the server was told to close it: ignore what it still sends


class RoomsBase:
    """The state of all sessions of one relay and the helpers the rules share."""

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
        self._revoked_names: dict[str, str] = {}  # digest -> name of tokens no longer accepted
        self._per_token: dict[str, int] = {}  # token name -> live sessions
        self._conns: dict[Key, Conn] = {}
        self._sessions: dict[str, RoomSession] = {}
        self._by_id: dict[str, RoomSession] = {}
        self._routes: dict[Key, Key] = {}  # attached side of a paired session -> the other side
        self._fast: dict[Key, tuple[Key, Traffic]] = {}  # the same, with the session's counters
        self._idle_sweep_at = 0.0
        self._dead: OrderedDict[str, float] = OrderedDict()  # nameplate -> ended at, oldest first
        self._cooling: OrderedDict[str, float] = OrderedDict()  # not to be reused yet
        self._timers: list[tuple[float, int, RoomSession, Side | None]] = []
        self._seq = count()
        self.limiter = RateLimiter(config.rate_limit, config.rate_window, config.rate_backoff_max, max_addresses)
        self.peer_of: Callable[[Key], Key | None] = self._routes.get
        # The hot path: the server calls this per binary frame: (peer, the session's Traffic).
        self.route_of: Callable[[Key], tuple[Key, Traffic] | None] = self._fast.get

    def set_agent_tokens(self, names: dict[str, str], revoked: dict[str, str] | None = None) -> None:
        """Replace the accepted agent tokens: sha256 hex digest -> token name.

        Live sessions keep going (a revoked token stops new sessions; ``kill`` ends old ones).
        ``revoked`` (the store's tombstones) and the tokens dropped since the last call are
        remembered, so a refusal's log line can say "revoked" rather than "unknown".
        """
        gone = {d: n for d, n in self._token_names.items() if d not in names}
        merged = {**self._revoked_names, **gone, **(revoked or {})}
        for d in names:
            merged.pop(d, None)
        self._revoked_names = dict(list(merged.items())[-MAX_REVOKED:])
        self._token_names = dict(names)

    def token_refusal(self, token: str | None) -> dict[str, object]:
        """Why an agent's ``token`` is refused, for the log: ``token_state`` is ``missing``,
        ``revoked`` (with the token's name: names are not secrets) or ``unknown`` (mistyped,
        or issued by another relay). Never the token nor its digest."""
        if not token:
            return {"token_state": "missing"}
        name = self._revoked_names.get(hashlib.sha256(token.encode()).hexdigest())
        return {"token_state": "revoked", "agent_token": name} if name else {"token_state": "unknown"}

    @property
    def tokens_required(self) -> bool:
        return bool(self._token_names)

    @property
    def agent_token_count(self) -> int:
        return len(self._token_names)

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
            counts[state_of(session)] += 1
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
                "state": state_of(s),
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

    def _fold_claim_traffic(self, session: RoomSession) -> None:
        claim = session.claim_traffic
        session.traffic.frames += claim.frames
        session.traffic.bytes += claim.bytes
        session.claim_traffic = Traffic()

    def _link_sides(self, session: RoomSession) -> None:
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

    def _end(
        self, session: RoomSession, now: float, out: Output, reason: str, *, by: str | None = None,
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

    def _timer(self, when: float, session: RoomSession, side: Side | None) -> None:
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

    def _count_token(self, session: RoomSession, token_name: str | None) -> None:
        if token_name is None:
            return
        session.agent_token = token_name
        self._per_token[token_name] = self._per_token.get(token_name, 0) + 1

    def _uncount_token(self, session: RoomSession) -> None:
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


def state_of(session: RoomSession) -> str:
    if session.joiner is None:
        return "waiting"
    if all(side.conn is not None for side in session.sides()):
        return "paired"
    return "grace"
