"""The relay's network layer: websockets in, :class:`relay.rooms.Rooms` decides, frames out.

This layer stays thin on purpose: all rules live in the pure rooms machine, so this file
only turns socket events into calls on it and applies the :class:`~relay.rooms.Output` it
returns (relay/outputs.py). Binary frames, the hot path, never reach the machine: one dict
lookup finds the peer and the very same ``bytes`` object is sent on (no decode, no copy, no
JSON).

The same port serves plain HTTP (relay/http.py): ``GET /healthz`` (JSON) for load balancers
and Docker's HEALTHCHECK, ``GET /metrics`` for Prometheus (:mod:`relay.metrics`) and the
admin endpoint under ``/admin/`` (:mod:`relay.admin`).

Operating concerns live here because they are about sockets: the handshake deadline, the
per-connection byte rate (:mod:`relay.limits`: stop reading, never buffer), slow consumers
(a receiver whose send buffer stays over ``send_buffer_bytes`` for
``slow_consumer_timeout`` is closed, so the relay's memory stays bounded), the session
store (relay/store.py: a restarted relay resumes its sessions), token reloads and the
graceful shutdown. A node of several (relay/nodes.py) uses the public methods under
"for the node bridge", never this class's internals.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
import sqlite3
import ssl
import time
from importlib import metadata
from typing import TYPE_CHECKING, Any, Callable, Collection, Coroutine

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from cobrowse.errors import ConfigError
from cobrowse.wire.envelope import CLIENT_MESSAGES, Error
from relay import handler
from relay.addresses import address_key, forwarded_for
from relay.admission import Admission, Refusal
from relay.audit import AuditLog
from relay.config import RelayConfig
from relay.connection import connection_class
from relay.http import process_request
from relay.limits import ACCEPT_BATCH, TokenBucket
from relay.machine import machine_limits
from relay.metrics import Live, RelayMetrics
from relay.outputs import Outbox
from relay.queue import HelpQueue
from relay.refusals import RefusalLog, refusal_words
from relay.rooms import Event, Output, Rng, Rooms
from relay.store import OFF as STORE_OFF
from relay.store import SessionStore, persist, restore_sessions
from relay.tls import load_certificate, ssl_context
from relay.tokens import TokenStore, revoked_names, token_names
from relay.turn import ice_source

if TYPE_CHECKING:
    from relay.nodes import Bridge

__all__ = ["FRAME_SLACK", "RelayServer", "address_key", "forwarded_for", "serve_relay"]

log = logging.getLogger("relay")
#: A claim is not a pairing until the creator confirms the code (a wrong code is released).
LOG_VERBS = {"paired": "claimed (the code is being checked)"}

# websockets itself cuts frames this far above max_frame_bytes (close code 1009) before
# buffering them; frames in between get the friendlier ``too_large`` error from us.
FRAME_SLACK = 64 * 1024
CLOSE_RESTART = 1012  # websocket "service restart": the sessions resume once the relay is back
LISTEN_BACKLOG = 4096  # the kernel's queue of connections to accept (capped at net.core.somaxconn)


def _version() -> str:
    try:
        return metadata.version("cobrowse")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


class RelayServer:
    """A running relay. Use ``async with await serve_relay(cfg) as relay`` or close() it."""

    def __init__(
        self,
        config: RelayConfig,
        rooms: Rooms,
        clock: Callable[[], float],
        token_store: TokenStore | None = None,
    ) -> None:
        self.config = config
        self.rooms = rooms
        self.queue = HelpQueue(lambda: secrets.token_hex(8), lambda: secrets.token_urlsafe(18))  # relay/queue.py
        self._clock = clock
        self._started = clock()
        self._server: Server | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.host = config.host
        self.port = config.port
        self.version = _version()
        self.token_store = token_store
        self._store_stamp: tuple[int, int, int] | None = None
        self._stored_tokens = 0
        self._ssl: ssl.SSLContext | None = None
        self._audit: AuditLog | None = None
        self._stalled: dict[ServerConnection, float] = {}  # receivers over send_buffer_bytes, since
        self._ended_traffic = [0, 0]  # frames, bytes of sessions that ended
        self.draining = False
        self.bridge: Bridge | None = None  # with config.redis: this node's part in the cluster
        self.store: SessionStore | None = None  # live sessions kept for a restart (relay/store.py)
        self.metrics = RelayMetrics(self._live, self.version, config.queue_org_labels)
        self.limits = machine_limits(config)
        self.admission = Admission(self.limits)
        self.token_digests: frozenset[str] = frozenset()
        self.refusals = RefusalLog(clock)
        self.outbox = Outbox(self._observe)
        self.control_hist = {t: self.metrics.control_seconds.labels(t) for t in CLIENT_MESSAGES}

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'wss' if self.config.tls else 'ws'}://{host}:{self.port}"

    @property
    def http_url(self) -> str:
        return self.url.replace("ws", "http", 1)

    async def start(self) -> None:
        """Listen. Raises ConfigError (TLS files, token store, audit log, session store) or
        OSError (bind)."""
        cfg = self.config
        self._ssl = ssl_context(cfg)
        self.reload_tokens(initial=True)
        if cfg.audit_log:
            self._audit = AuditLog(cfg.audit_log)
        try:
            if cfg.session_store and cfg.session_store != STORE_OFF and not cfg.redis:
                self._open_store(cfg.session_store)
            if cfg.redis:
                try:
                    from relay.nodes import Bridge, default_node_id
                except ImportError as exc:
                    raise ConfigError(
                        f"redis: several nodes need cobrowse's relay extra: pip install 'cobrowse[relay]' ({exc})"
                    ) from None
                self.bridge = Bridge(self, cfg.node_id or default_node_id())
                await self.bridge.start()
            self._server = await serve(
                self._handle,
                cfg.host,
                cfg.port,
                process_request=self._process_request,
                compression=None,  # sealed frames do not compress; deflate would only cost CPU
                max_size=cfg.max_frame_bytes + FRAME_SLACK,
                ping_interval=cfg.ping_interval or None,
                ping_timeout=cfg.ping_timeout or None,
                close_timeout=5,
                backlog=ACCEPT_BATCH,  # asyncio accepts up to this many per wake-up (descriptors reserved for it)
                write_limit=cfg.send_buffer_bytes,
                logger=logging.getLogger("relay.websockets"),
                create_connection=connection_class(self.admission, self._stalled, self._clock, self.refused,
                                                   known_address=not cfg.trust_proxy,
                                                   max_frame_bytes=cfg.max_frame_bytes),
                ssl=self._ssl,
            )
        except BaseException:
            await self._release_resources()
            raise
        sockets = list(self._server.sockets)
        for listening in sockets:  # a longer kernel queue: a connection storm must not drop a real SYN
            with socket.socket(fileno=os.dup(listening.fileno())) as same:  # asyncio's wrapper has no listen()
                same.listen(LISTEN_BACKLOG)
        if sockets:
            self.port = sockets[0].getsockname()[1]
        if self.token_store is not None and self._stored_tokens:
            self._say_tokens(self._stored_tokens)
        for warning in cfg.security_warnings(self._stored_tokens):
            log.warning("WARNING: %s", warning)
        log.info("admission limits: %s", self.limits.describe())
        if not cfg.admin_tokens:
            log.info("admin endpoint off: no admin_tokens configured (`cobrowse relay admin-token create`)")
        self._ticker = asyncio.create_task(self._tick_loop(), name="relay-tick")

    def _open_store(self, path: str) -> None:
        """Open the session store and take back the sessions a previous run left in it."""
        try:
            self.store = SessionStore(path)
            out = restore_sessions(self.store, self.rooms, self._clock(), time.time())
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot use the session store {path!r}: {exc}") from None
        if out.events:
            self._observe(out.events)
            log.info("resuming %d session(s) from %s (sides have %g s to come back)", len(out.events), path,
                     self.config.grace, extra={"ctx": {"event": "restored", "count": len(out.events)}})

    async def _release_resources(self) -> None:
        if self.bridge is not None:
            await self.bridge.close()
        if self._audit is not None:
            self._audit.close()
        if self.store is not None:
            self.store.close()
            self.store = None

    def close(self) -> None:
        """Stop accepting, close every connection (1001, so clients may resume elsewhere)."""
        if self._ticker is not None:
            self._ticker.cancel()
        if self._server is not None:
            self._server.close()

    async def wait_closed(self) -> None:
        if self._server is not None:
            await self._server.wait_closed()
        if self._ticker is not None:
            try:
                await self._ticker
            except asyncio.CancelledError:
                pass
        if self.outbox.tasks:
            await asyncio.wait(list(self.outbox.tasks), timeout=5)
        await self._release_resources()

    async def shutdown(self, drain: float | None = None) -> None:
        """Graceful stop: no new connections. A node of several hands its sessions over; with
        a session store every socket closes 1012 and the sessions wait for the next start;
        else every session gets ``closed`` (shutdown) and 1001. Clients get up to ``drain``
        seconds (drain_timeout), then the rest are cut. Returns once every handler is done."""
        drain = self.config.drain_timeout if drain is None else drain
        self.draining = True
        if self._server is None:
            return
        log.info("shutting down: telling %d connection(s), draining up to %g s",
                 self.rooms.connection_count, drain)
        self._server.close(close_connections=False)  # stop listening; wait_closed waits for handlers
        if self.bridge is not None:  # sessions go on: other nodes adopt them as clients resume
            await self.bridge.hand_over(bound=drain)
        elif self.store is not None:  # sessions go on when this relay starts again: clients retry
            log.info("keeping %d session(s) in %s for the next start: clients retry meanwhile",
                     self.rooms.session_count, self.config.session_store,
                     extra={"ctx": {"event": "kept", "count": self.rooms.session_count}})
            self.close_clients(CLOSE_RESTART, "relay restarting", bound=drain)
        else:
            out = self.rooms.shutdown(self._clock())
            if out:
                self.outbox.apply_later(out, bound=drain)
        try:
            async with asyncio.timeout(drain):
                await self._server.wait_closed()
        except TimeoutError:
            left = list(self._server.connections)
            log.warning("drain time over: cutting %d connection(s)", len(left))
            for ws in left:
                if ws.transport is not None:
                    ws.transport.abort()
        self.close()
        await self.wait_closed()
        log.info("stopped")

    async def __aenter__(self) -> RelayServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
        await self.wait_closed()

    # ---- for the node bridge (relay/nodes.py) and the HTTP endpoints ----

    def now(self) -> float:
        """The relay's clock (monotonic seconds), the one every rooms call takes."""
        return self._clock()

    async def control(self, ws: Any, data: str, *, nameplate: str | None = None) -> bool:
        """One text frame from ``ws``: decode, let the rooms decide, send the answers. True if
        ``ws`` closes. ``nameplate``: on a node of several, the one reserved cluster-wide for
        an ``open``."""
        return await handler.control(self, ws, data, nameplate=nameplate)

    async def apply(self, out: Output, me: Any) -> bool:
        """Apply an output in ``me``'s handler (a socket, or the bridge's RemoteConn); True if
        it closes ``me``."""
        return await self.outbox.apply(out, me)

    def apply_later(self, out: Output, bound: float = 10.0) -> None:
        """Apply an output from a timer or a drop (one task per socket)."""
        self.outbox.apply_later(out, bound)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` as a task the relay waits for (bounded) when it closes."""
        self.outbox.spawn(coro)

    async def throttle(self, bucket: TokenBucket, size: int) -> None:
        """Over the byte rate: stop reading from this socket until the bucket refills."""
        wait = bucket.take(size, self._clock())
        if wait:
            self.metrics.byte_limit_hit()
            await asyncio.sleep(wait)

    def close_clients(self, code: int, reason: str, bound: float, except_for: Collection[Any] = ()) -> None:
        """Close every client socket but ``except_for`` with ``code`` (as tasks, each cut
        after ``bound`` s)."""
        if self._server is not None:
            for ws in list(self._server.connections):
                if not any(ws is other for other in except_for):
                    self.outbox.spawn(self.outbox.close_one(ws, [], code, reason, bound=bound))

    def refused(self, refusal: Refusal, address: str) -> None:
        """Count an admission refusal (metrics) and log it, throttled."""
        self.metrics.refusals.labels(refusal.code).inc()
        self.metrics.rate_limited.labels(refusal.limit.value).inc()
        self.refusals.log(f"{refusal.code} ({refusal.limit.value} limit)", {
            "event": "refused", "code": refusal.code, "limit": refusal.limit.value, "address": address})

    # ---- what admins see ----

    def health(self) -> dict[str, Any]:
        health = {
            "status": "draining" if self.draining else "ok",
            "version": self.version,
            "sessions": self.rooms.session_count,
            "connections": self.rooms.connection_count,
            "sockets": self.admission.socket_count,
            "max_sockets": self.limits.sockets,
            "unpaired": self.admission.unpaired_count,
            "uptime_s": round(self._clock() - self._started, 3),
        }
        if self.bridge is not None:
            health.update(self.bridge.stats())
        return health

    def buffered_bytes(self) -> int:
        """Bytes waiting in the send buffers of every connection (bounded per receiver)."""
        if self._server is None:
            return 0
        return sum(ws.transport.get_write_buffer_size() for ws in self._server.connections
                   if ws.transport is not None)

    def _live(self) -> Live:
        frames, nbytes = self.rooms.traffic_total()
        return Live(
            sessions_by_state=self.rooms.state_counts(),
            connections=self.rooms.connection_count,
            frames=frames + self._ended_traffic[0],
            bytes=nbytes + self._ended_traffic[1],
            buffered_bytes=self.buffered_bytes(),
            agent_tokens=self.rooms.agent_token_count,
            draining=self.draining,
            queue_waiting=self.queue.waiting_counts(),
        )

    def admin_sessions(self) -> list[dict[str, Any]]:
        return self.rooms.snapshot(self._clock())

    def admin_kill(self, session_id: str) -> bool:
        out = self.rooms.kill(session_id, self._clock())
        if out is None:
            return False
        self.outbox.apply_later(out)
        return True

    # ---- reloads (SIGHUP, a changed token store) ----

    def reload_tokens(self, *, initial: bool = False) -> None:
        """Read the token store again; a damaged store keeps the old tokens (ConfigError at start)."""
        records: tuple[Any, ...] = ()
        revoked: tuple[Any, ...] = ()
        store = self.token_store
        if store is not None:
            self._store_stamp = store.stamp()
            try:
                records, revoked = store.load_all()
            except ConfigError as exc:
                if initial:
                    raise
                log.error("keeping the previous agent tokens: %s", exc)
                return
        self._stored_tokens = len(records)
        names = token_names(records, self.config.agent_tokens)
        self.token_digests = frozenset(names)
        self.rooms.set_agent_tokens(names, revoked_names(revoked, names))
        if store is not None and not initial:  # at start: said once listening (start), never before an error
            self._say_tokens(len(records))

    def _say_tokens(self, stored: int) -> None:
        assert self.token_store is not None
        log.info("agent tokens: %d from %s, %d from the config", stored, self.token_store.path,
                 len(self.config.agent_tokens))

    def reload(self) -> None:
        """SIGHUP: the token store, the audit log (after logrotate) and the TLS certificate."""
        self.reload_tokens()
        if self._audit is not None:
            self._audit.reopen()
        if self._ssl is not None:
            try:
                load_certificate(self._ssl, self.config)
            except ConfigError as exc:
                log.error("keeping the previous TLS certificate: %s", exc)

    # ---- websockets callbacks ----

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        return process_request(self, connection, request)

    async def _handle(self, ws: ServerConnection) -> None:
        await handler.handle(self, ws)

    # ---- events and timers ----

    def _observe(self, events: list[Event]) -> None:
        """Session events to the session store (before their answers go out), metrics, the
        audit log and the log (never any content)."""
        for event in events:
            if self.store is not None:
                persist(self.store, self.rooms, event, time.time())
            self.metrics.observe(event)
            self.admission.session_event(event.kind, event.session, event.data)
            if self.bridge is not None:
                self.bridge.observe(event)
            if self._audit is not None:
                self._audit.write(event)
            if event.kind == "ended":
                self._ended_traffic[0] += int(event.data.get("frames", 0))  # type: ignore[call-overload]
                self._ended_traffic[1] += int(event.data.get("bytes", 0))  # type: ignore[call-overload]
            ctx = {"event": event.kind, "session": event.session, **event.data}
            if event.kind == "refused":
                self.refusals.log(refusal_words(event.data), ctx)
            elif event.kind == "reported":  # an operator should look: a customer suspects a scam
                log.warning("session %s reported by the %s", event.data.get("nameplate"), event.data.get("by"),
                            extra={"ctx": ctx})
            elif event.session is not None:
                log.info("session %s %s", event.session, LOG_VERBS.get(event.kind, event.kind), extra={"ctx": ctx})
            else:  # the help queue's events belong to no session yet
                log.info("help queue: %s", event.kind, extra={"ctx": ctx})

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.tick_interval)
            try:
                now = self._clock()
                out = self.rooms.tick(now)
                if out:
                    self.outbox.apply_later(out)
                held = self.queue.tick(now)
                if held:
                    self.outbox.apply_later(held)
                self._check_stalled(now)
                self.admission.prune(now)
                if self.token_store is not None and self.token_store.stamp() != self._store_stamp:
                    self.reload_tokens()
            except Exception:  # pragma: no cover - a bug must not stop expiry for good
                log.exception("relay tick failed")

    def _check_stalled(self, now: float) -> None:
        limit = self.config.slow_consumer_timeout
        for ws, since in list(self._stalled.items()):
            if now - since < limit:
                continue
            del self._stalled[ws]
            out = self.rooms.slow_consumer(ws, now)
            if out:
                self.outbox.apply_later(out, bound=5.0)
            else:  # not a side of a session here (none, or proxied to another node): cut it
                error = Error.of("slow_consumer", f"more than {self.config.send_buffer_bytes} bytes waited for it")
                self.spawn(self.outbox.close_one(ws, [error], 1008, "slow_consumer", bound=5.0))


async def serve_relay(
    config: RelayConfig | None = None,
    *,
    rng: Rng | None = None,
    new_token: Callable[[], str] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> RelayServer:
    """Start a relay and return it once it listens (``.port`` is the real port).

    Raises OSError when the address cannot be bound (port in use, bad host), ConfigError
    when a file the settings name is unusable (TLS certificate, token store, audit log,
    session store).
    """
    config = config or RelayConfig()
    rooms = Rooms(
        config,
        rng if rng is not None else random.SystemRandom(),
        new_token if new_token is not None else (lambda: secrets.token_hex(16)),
        new_id=lambda: secrets.token_hex(6),
        ice_for=ice_source(config),
    )
    store = TokenStore(config.token_store) if config.token_store else None
    server = RelayServer(config, rooms, clock, store)
    await server.start()
    return server
