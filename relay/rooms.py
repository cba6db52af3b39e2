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
a claim in probation are counted apart (``RoomSession.claim_traffic``) to tell a guess from a
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

import heapq
import hmac
import math

from cobrowse.errors import InvalidCode
from cobrowse.wire.code import validate_nameplate
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
from relay.outcome import CLOSE_GOING_AWAY, CLOSE_NORMAL, CLOSE_POLICY, CLOSE_TOO_BIG, Event, Key, Output, Traffic
from relay.ratelimit import RateLimiter
from relay.roomops import RoomsAcrossProcesses
from relay.roomstate import (
    MAX_SQUATTERS,
    NAMEPLATE_CAP,
    PEER_TIMEOUT_MESSAGE,
    REASON,
    SCARED_MESSAGE,
    Conn,
    Rng,
    RoomSession,
    SessionRecord,
    Side,
    secret_digest,
)

__all__ = [
    "CLOSE_GOING_AWAY", "CLOSE_NORMAL", "CLOSE_POLICY", "CLOSE_TOO_BIG", "NAMEPLATE_CAP", "PEER_TIMEOUT_MESSAGE",
    "SCARED_MESSAGE", "Event", "Key", "Output", "RateLimiter", "Rng", "Rooms", "SessionRecord", "Traffic",
    "secret_digest",
]


class Rooms(RoomsAcrossProcesses):
    """All sessions of one relay. See the module docstring for the rules."""

    def connected(self, conn: Key, address: str) -> None:
        """A socket opened; ``address`` is the key rate limits count against."""
        self._conns[conn] = Conn(address)

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
            c = self._conns[conn] = Conn("")
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

    def _open(self, conn: Key, c: Conn, msg: Open, now: float, out: Output, reserved: str | None = None) -> None:
        if c.side is not None:
            return self._fatal(conn, c, "malformed", now, out, "this connection is already in a session")
        if msg.version != PROTOCOL_VERSION:
            return self._fatal(conn, c, "bad_version", now, out, f"relay speaks version {PROTOCOL_VERSION}")
        token_name = None
        if msg.role == "agent":
            ok, token_name = self._token(msg.token)
            if not ok:
                return self._fatal(conn, c, "unauthorized", now, out, why=self.token_refusal(msg.token))
            if self._over_quota(token_name):
                return self._fatal(conn, c, "over_quota", now, out, f"{self.config.max_sessions_per_token} live sessions")
        if msg.role == "customer" and not self.config.customers_may_create:
            return self._fatal(conn, c, "forbidden", now, out)
        nameplate = None
        if len(self._sessions) < self.config.max_sessions:
            nameplate = (reserved or None) if reserved is not None else self._allocate(now)
        if nameplate is None:
            return self._fatal(conn, c, "full", now, out)
        side = Side(msg.role, self._new_token(), conn)
        session = RoomSession(nameplate, side, now + self.config.unclaimed_ttl, self._unique_id(), now)
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

    def _claim(self, conn: Key, c: Conn, msg: Claim, now: float, out: Output) -> None:
        if c.side is not None:
            return self._fatal(conn, c, "malformed", now, out, "this connection is already in a session")
        if msg.version != PROTOCOL_VERSION:
            return self._fatal(conn, c, "bad_version", now, out, f"relay speaks version {PROTOCOL_VERSION}")
        if self.limiter.blocked(c.address, now):
            wait = self.limiter.retry_after(c.address, now)
            return self._fatal(conn, c, "rate_limited", now, out, f"retry in {wait:.0f} s", retry_after=max(1, math.ceil(wait)),
                               why={"limit": "claims", "blocked_s": max(1, math.ceil(wait))})
        token_name = None
        if msg.role == "agent":
            ok, token_name = self._token(msg.token)
            if not ok:
                return self._fatal(conn, c, "unauthorized", now, out, why=self.token_refusal(msg.token))
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
        joiner = session.joiner = Side(msg.role, self._new_token(), conn)
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

    def _resume(self, conn: Key, c: Conn, msg: Resume, now: float, out: Output) -> None:
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

    def _close(self, conn: Key, c: Conn, msg: Close, now: float, out: Output) -> None:
        session, side = c.session, c.side
        if session is None or side is None:
            c.closing = True
            out.close.append((conn, CLOSE_NORMAL, "closed"))
            return
        if side is session.joiner and not session.confirmed:
            # A claimant cannot end a session it never confirmed: it only gives up its claim.
            self._release_claim(session, "left", now, out)
            return
        reason = msg.reason if REASON.fullmatch(msg.reason) else "ended"
        other = session.other(side)
        if other is not None and other.conn is not None:
            text = SCARED_MESSAGE if reason == "scared" else f"the {side.role} ended the session"
            out.send.append((other.conn, Closed(reason, text)))
        # A side passing on its peer's sealed End closes first, with the peer's reason: the
        # relay cannot read who pressed end, and a ``by`` contradicting the reason misleads.
        passed_on = reason.endswith("_ended") and reason != f"{side.role}_ended"
        self._end(session, now, out, reason, by=None if passed_on else side.role)

    def _report(self, conn: Key, c: Conn, now: float, out: Output) -> None:
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

    def _confirm(self, c: Conn, now: float, out: Output) -> None:
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
            "agent_token": session.agent_token,
        }))

    def _release(self, c: Conn, msg: Release, now: float, out: Output) -> None:
        """The pairing attempt failed: the creator lets its claimant go (``failed``), or the
        claimant gives up (``left``). Nothing to release once confirmed, nor when the
        creator names an earlier claim than the current one: ignored."""
        session, side = c.session, c.side
        if session is None or side is None or session.joiner is None or session.confirmed:
            return
        if side is session.creator and msg.claim is not None and msg.claim != session.claims:
            return
        self._release_claim(session, "failed" if side is session.creator else "left", now, out)

    def _release_claim(self, session: RoomSession, reason: str, now: float, out: Output,
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
            "role": joiner.role, "address": address, "agent_token": session.agent_token,
        }))

    def _fatal(
        self, conn: Key, c: Conn, code: str, now: float, out: Output, detail: str = "",
        close_code: int = CLOSE_POLICY, retry_after: int | None = None, why: dict[str, object] | None = None,
    ) -> None:
        """Answer ``error`` and close that socket; its side (if any) goes into grace. ``why``:
        details for the log only (token_refusal), never sent."""
        error = Error.of(code, detail)
        out.send.append((conn, error if retry_after is None else Error(error.code, error.message, retry_after)))
        session = c.session
        out.events.append(Event("refused", session.id if session is not None else None, {
            "code": code, "role": c.side.role if c.side is not None else None, "address": c.address, **(why or {}),
        }))
        if c.side is not None:
            self._detach(c, now, out)
        c.closing = True
        out.close.append((conn, close_code, code))

    def _detach(self, c: Conn, now: float, out: Output) -> None:
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

