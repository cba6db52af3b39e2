"""The relay's network layer: websockets in, :class:`relay.rooms.Rooms` decides, frames out.

This layer stays thin on purpose: all rules live in the pure rooms machine, so this file
only turns socket events into calls on it and applies the :class:`~relay.rooms.Output` it
returns. Binary frames, the hot path, never reach the machine: one dict lookup finds the
peer and the very same ``bytes`` object is sent on (no decode, no copy, no JSON).

The same port serves plain HTTP: ``GET /healthz`` (JSON) for load balancers and Docker's
HEALTHCHECK, ``GET /metrics`` for Prometheus (:mod:`relay.metrics`) and the admin endpoint
under ``/admin/`` (:mod:`relay.admin`); any other plain HTTP request gets 404 (``/`` gets
426: it is the websocket endpoint).

Operating concerns live here because they are about sockets: the handshake deadline, the
per-connection byte rate (:mod:`relay.limits`: stop reading, never buffer), slow consumers
(a receiver whose send buffer stays over ``send_buffer_bytes`` for
``slow_consumer_timeout`` is closed, so the relay's memory stays bounded), TLS,
X-Forwarded-For behind a trusted proxy, token reloads and the graceful shutdown.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import json
import logging
import os
import random
import resource
import secrets
import socket
import sqlite3
import ssl
import time
from collections import defaultdict
from importlib import metadata
from typing import TYPE_CHECKING, Any, Callable

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from cobrowse.errors import ConfigError
from cobrowse.wire.envelope import (
    CLIENT_MESSAGES,
    Claim,
    Error,
    MalformedMessage,
    Message,
    Open,
    Resume,
    decode_client,
)
from relay import admin
from relay.admission import Admission, Refusal
from relay.audit import AuditLog
from relay.config import RelayConfig
from relay.limits import ACCEPT_BATCH, Limits, TokenBucket, bucket_for, derive_limits
from relay.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from relay.metrics import Live, RelayMetrics
from relay.rooms import Event, Key, Output, Rng, Rooms
from relay.store import OFF as STORE_OFF
from relay.store import SessionStore
from relay.tokens import TokenStore, token_names
from relay.turn import ice_servers

if TYPE_CHECKING:
    from relay.nodes import Bridge

log = logging.getLogger("relay")

# websockets itself cuts frames this far above max_frame_bytes (close code 1009) before
# buffering them; frames in between get the friendlier ``too_large`` error from us.
FRAME_SLACK = 64 * 1024
REFUSAL_LINES, REFUSAL_WINDOW = 20, 10.0  # refusals logged one by one per window, the rest counted
CLOSE_RESTART = 1012  # websocket "service restart": the sessions resume once the relay is back
LISTEN_BACKLOG = 4096  # the kernel's queue of connections to accept (capped at net.core.somaxconn)


def _version() -> str:
    try:
        return metadata.version("cobrowse")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def address_key(remote: Any) -> str:
    """What rate limits count against: the IP, or its /64 for IPv6 (one host holds a /64)."""
    host = remote[0] if isinstance(remote, tuple) and remote else str(remote or "")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return host


def forwarded_for(values: list[str]) -> str | None:
    """The address the nearest proxy saw: the last entry of X-Forwarded-For, if it is an IP."""
    entries = [part.strip() for value in values for part in value.split(",")]
    last = entries[-1] if entries else ""
    if last.startswith("[") and "]" in last:  # [v6]:port
        last = last[1:last.index("]")]
    elif last.count(":") == 1:  # v4:port
        last = last.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(last))
    except ValueError:
        return None


def mem_available() -> int | None:
    """Bytes of memory the kernel says are available (None where /proc/meminfo is not)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def machine_limits(config: RelayConfig) -> Limits:
    """The admission limits for this process: the settings, sized by RLIMIT_NOFILE and memory."""
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if nofile == resource.RLIM_INFINITY:
        nofile = 1 << 20
    return derive_limits(
        nofile=nofile, mem_available=mem_available(), max_connections=config.max_connections,
        reserved_connections=config.reserved_connections, connections_per_address=config.connections_per_address,
        connect_rate=config.connect_rate, connect_burst=config.connect_burst,
        open_rate=config.open_rate, open_burst=config.open_burst, unpaired_per_address=config.unpaired_per_address,
        max_unpaired=config.max_unpaired, token_factor=config.token_limit_factor, max_sessions=config.max_sessions,
    )


def ice_source(config: RelayConfig) -> Callable[[str, str], list[dict[str, Any]]]:
    """What the rooms call for each side's ICE servers: fresh TURN credentials, wall-clock expiry."""
    if not config.ice_configured:
        return lambda session_id, role: []
    stun, turn_urls, secret, ttl = config.stun_urls, config.turn_urls, config.turn_secret, config.turn_ttl
    return lambda session_id, role: ice_servers(stun, turn_urls, secret, ttl, f"{session_id}-{role}", time.time())


def ssl_context(config: RelayConfig) -> ssl.SSLContext | None:
    """The server TLS context for tls_cert/tls_key (None without TLS); ConfigError if unusable."""
    if not config.tls:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    load_certificate(ctx, config)
    return ctx


def load_certificate(ctx: ssl.SSLContext, config: RelayConfig) -> None:
    try:
        ctx.load_cert_chain(config.tls_cert, config.tls_key)
    except (OSError, ssl.SSLError) as exc:
        why = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
        raise ConfigError(
            f"cannot load the TLS certificate {config.tls_cert!r} with the key {config.tls_key!r}: {why}"
        ) from None


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
        self._clock = clock
        self._started = clock()
        self._server: Server | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
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
        self.metrics = RelayMetrics(self._live, self.version)
        self.limits = machine_limits(config)
        self.admission = Admission(self.limits)
        self._token_digests: frozenset[str] = frozenset()
        self._refusals_unlogged = 0
        self._refusals_lines = 0
        self._refusals_logged_at = -REFUSAL_WINDOW
        self._control_hist = {t: self.metrics.control_seconds.labels(t) for t in CLIENT_MESSAGES}

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'wss' if self.config.tls else 'ws'}://{host}:{self.port}"

    @property
    def http_url(self) -> str:
        return self.url.replace("ws", "http", 1)

    async def start(self) -> None:
        """Listen. Raises ConfigError (TLS files, token store, audit log) or OSError (bind)."""
        cfg = self.config
        self._ssl = ssl_context(cfg)
        self.reload_tokens(initial=True)
        if cfg.audit_log:
            self._audit = AuditLog(cfg.audit_log)
        if cfg.session_store and cfg.session_store != STORE_OFF and not cfg.redis:
            self._open_store(cfg.session_store)
        if cfg.redis:
            try:
                from relay.nodes import Bridge, default_node_id
            except ImportError as exc:
                raise ConfigError(f"redis: several nodes need cobrowse's relay extra: pip install 'cobrowse[relay]' ({exc})") from None
            self.bridge = Bridge(self, cfg.node_id or default_node_id())
            try:
                await self.bridge.start()
            except BaseException:
                if self._audit is not None:
                    self._audit.close()
                raise
        try:
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
                create_connection=self._connection_class(),
                ssl=self._ssl,
            )
        except BaseException:
            if self._audit is not None:
                self._audit.close()
            if self.bridge is not None:
                await self.bridge.close()
            raise
        sockets = list(self._server.sockets)
        for listening in sockets:  # a longer kernel queue: a connection storm must not drop a real SYN
            with socket.socket(fileno=os.dup(listening.fileno())) as same:  # asyncio's wrapper has no listen()
                same.listen(LISTEN_BACKLOG)
        if sockets:
            self.port = sockets[0].getsockname()[1]
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
            saved = self.store.load()
        except (OSError, sqlite3.Error) as exc:
            if self._audit is not None:
                self._audit.close()
            raise ConfigError(f"cannot use the session store {path!r}: {exc}") from None
        if not saved:
            return
        wall = time.time()
        ages = {record.id: max(0.0, wall - created) for record, created in saved}
        out = self.rooms.restore([record for record, _ in saved], self._clock(), ages)
        restored = {e.session for e in out.events}
        for record, _ in saved:
            if record.id not in restored:  # a waiting code that expired while the relay was down
                self.store.delete(record.id)
        self._observe(out.events)
        log.info("resuming %d session(s) from %s (sides have %g s to come back)", len(restored), path,
                 self.config.grace, extra={"ctx": {"event": "restored", "count": len(restored)}})

    def _persist(self, event: Event) -> None:
        """Keep the store in step with the rooms, before the answers of this event go out."""
        store = self.store
        if store is None or event.session is None:
            return
        try:
            if event.kind in ("created", "confirmed"):
                record = self.rooms.record(event.session)
                if record is not None:
                    store.save(record, time.time())
            elif event.kind == "ended":
                store.delete(event.session)
        except sqlite3.Error as exc:  # the session goes on; only a restart would lose it
            log.error("cannot write session %s to the session store: %s", event.session, exc)

    def _connection_class(self) -> type[ServerConnection]:
        """ServerConnection that tells us when its send buffer goes over / back under the limit,
        and that asks admission for room before anything is read from it."""
        stalled, clock, admission = self._stalled, self._clock, self.admission
        known_address = not self.config.trust_proxy  # else the client's address comes in a header
        refused = self._refused

        class RelayConnection(ServerConnection):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                # Memory per idle connection (bench/relay_capacity.py): an empty deque costs
                # ~600 B; this list of futures waiting for a drain holds one at most.
                self.drain_waiters = []  # type: ignore[assignment]
                self.refused_early = False

            def connection_made(self, transport: Any) -> None:
                peer = address_key(transport.get_extra_info("peername")) if known_address else None
                verdict = admission.accept(self, peer, clock())
                for victim in verdict.drop:
                    dropped = getattr(victim, "transport", None)
                    if dropped is not None:
                        dropped.abort()
                if verdict.refusal is not None:  # answered before websockets sees a byte
                    self.refused_early = True
                    refused(verdict.refusal, peer or "")
                    transport.write(_early_refusal(verdict.refusal))
                    transport.close()
                    return
                super().connection_made(transport)

            def pause_writing(self) -> None:
                super().pause_writing()
                stalled[self] = clock()

            def resume_writing(self) -> None:
                super().resume_writing()
                stalled.pop(self, None)

            def connection_lost(self, exc: Exception | None) -> None:
                if self.refused_early:
                    return
                stalled.pop(self, None)
                admission.closed(self)
                super().connection_lost(exc)

        return RelayConnection

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
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        if self.bridge is not None:
            await self.bridge.close()
        if self._audit is not None:
            self._audit.close()
        if self.store is not None:
            self.store.close()
            self.store = None

    async def shutdown(self, drain: float | None = None) -> None:
        """Graceful stop: no new connections; every session gets ``closed`` (shutdown) and
        code 1001; clients get up to ``drain`` seconds (drain_timeout) to take it, then the
        rest are cut. Returns once every handler is done."""
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
            for ws in list(self._server.connections):
                self._spawn(self._close_one(ws, [], CLOSE_RESTART, "relay restarting", bound=drain))
        else:
            out = self.rooms.shutdown(self._clock())
            if out:
                self._apply_later(out, bound=drain)
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
        total = 0
        for ws in self._server.connections:
            if ws.transport is not None:
                total += ws.transport.get_write_buffer_size()
        return total

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
        )

    def admin_sessions(self) -> list[dict[str, Any]]:
        return self.rooms.snapshot(self._clock())

    def admin_kill(self, session_id: str) -> bool:
        out = self.rooms.kill(session_id, self._clock())
        if out is None:
            return False
        self._apply_later(out)
        return True

    # ---- reloads (SIGHUP, a changed token store) ----

    def reload_tokens(self, *, initial: bool = False) -> None:
        """Read the token store again; a damaged store keeps the old tokens (ConfigError at start)."""
        records: tuple = ()
        store = self.token_store
        if store is not None:
            self._store_stamp = store.stamp()
            try:
                records = store.load()
            except ConfigError as exc:
                if initial:
                    raise
                log.error("keeping the previous agent tokens: %s", exc)
                return
        self._stored_tokens = len(records)
        names = token_names(records, self.config.agent_tokens)
        self._token_digests = frozenset(names)
        self.rooms.set_agent_tokens(names)
        if store is not None and (records or not initial):
            log.info("agent tokens: %d from %s, %d from the config", len(records), store.path,
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
        path = request.path.split("?", 1)[0]
        method = getattr(request, "method", "GET")
        if path == "/healthz":
            return _respond(connection, 200, json.dumps(self.health()) + "\n", "application/json")
        if path == "/metrics" and self.config.metrics:
            if method != "GET":
                return _respond(connection, 405, "use GET\n", headers=(("Allow", "GET"),))
            return _respond(connection, 200, self.metrics.render().decode(), METRICS_CONTENT_TYPE)
        if admin.is_admin_path(path):
            reply = admin.handle(
                method, path, request.headers.get("Authorization"), self.config.admin_tokens, self
            )
            return _respond(connection, reply.status, reply.body, reply.content_type, reply.headers)
        if method != "GET":
            return _respond(connection, 405, "method not allowed\n", headers=(("Allow", "GET"),))
        if request.headers.get("Upgrade", "").lower() == "websocket":
            address = self._address_of(connection.remote_address, request.headers.get_all("X-Forwarded-For"))
            refusal = self.admission.upgrade(connection, address, self._clock())
            if refusal is None:
                return None
            self._refused(refusal, address)
            status = 429 if refusal.code == "rate_limited" else 503
            body = json.dumps({"error": refusal.code, "retry_after": refusal.retry_after, "message": refusal.detail})
            return _respond(connection, status, body + "\n", "application/json",
                            (("Retry-After", str(refusal.retry_after)),))
        if path == "/":
            return connection.respond(426, "cobrowse relay: connect with a websocket client\n")
        return connection.respond(404, "not found\n")

    def _address(self, ws: ServerConnection) -> str:
        forwarded = ws.request.headers.get_all("X-Forwarded-For") if ws.request is not None else []
        return self._address_of(ws.remote_address, forwarded)

    def _address_of(self, remote: Any, forwarded: list[str]) -> str:
        if self.config.trust_proxy:
            ip = forwarded_for(forwarded)
            if ip is not None:
                remote = (ip, 0)
        return address_key(remote)

    def _admit(self, ws: Any, msg: Message) -> Refusal | None:
        """Before the rooms allocate anything for an open, claim or resume: the limits."""
        if not isinstance(msg, (Open, Claim, Resume)):
            return None
        authenticated = False
        if not isinstance(msg, Resume) and msg.role == "agent" and msg.token and self._token_digests:
            authenticated = hashlib.sha256(msg.token.encode()).hexdigest() in self._token_digests
        refusal = self.admission.may_attach(ws, opening=isinstance(msg, Open), claiming=isinstance(msg, Claim),
                                            authenticated=authenticated, now=self._clock())
        if refusal is not None:
            self._refused(refusal, self.rooms.address_of(ws))
        elif not isinstance(msg, Open):
            self.admission.attached(ws)  # a claim or resume (perhaps proxied to another node) is never dropped
        return refusal

    def _refused(self, refusal: Refusal, address: str) -> None:
        """Count an admission refusal (metrics) and log it, throttled."""
        self.metrics.refusals.labels(refusal.code).inc()
        self.metrics.rate_limited.labels(refusal.limit.value).inc()
        self._log_refusal(f"{refusal.code} ({refusal.limit.value} limit)", {
            "event": "refused", "code": refusal.code, "limit": refusal.limit.value, "address": address})

    def _log_refusal(self, what: str, ctx: dict[str, Any]) -> None:
        """Up to REFUSAL_LINES lines per 10 s, then one line with the count at the next window:
        a flood of refusals must not become a flood of log lines (each costs the loop time
        every client waits for)."""
        now = self._clock()
        if now - self._refusals_logged_at >= REFUSAL_WINDOW:
            if self._refusals_unlogged:
                log.info("refused: %d more refusals in the last %.0f s were not logged one by one",
                         self._refusals_unlogged, now - self._refusals_logged_at,
                         extra={"ctx": {"event": "refused_unlogged", "count": self._refusals_unlogged}})
            self._refusals_logged_at, self._refusals_lines, self._refusals_unlogged = now, 0, 0
        if self._refusals_lines < REFUSAL_LINES:
            self._refusals_lines += 1
            log.info("refused: %s", what, extra={"ctx": ctx})
        else:
            self._refusals_unlogged += 1

    async def _handle(self, ws: ServerConnection) -> None:
        rooms = self.rooms
        clock = self._clock
        if self.draining:  # its opening handshake finished after the shutdown began
            await ws.close(1001, "relay shutting down")
            return
        rooms.connected(ws, self._address(ws))
        # The upgrade request's and response's headers are not needed once the address is
        # known; dropping them saves ~2 KB per idle connection (websockets' parser keeps the
        # request object itself alive, so its headers are emptied in place).
        for message in (ws.request, ws.response):
            if message is not None:
                message.headers.clear()
        try:
            if await self._handshake(ws):
                return
            route_of = rooms.route_of
            max_frame = self.config.max_frame_bytes
            recv = ws.recv
            bucket = bucket_for(self.config.max_bytes_per_s, max_frame, clock())
            while True:
                data = await recv()
                if data.__class__ is bytes:
                    size = len(data)
                    if size <= max_frame:
                        route = route_of(ws)
                        if route is not None:
                            peer, traffic = route
                            traffic.frames += 1
                            traffic.bytes += size
                            try:
                                await peer.send(data)  # type: ignore[attr-defined]
                            except ConnectionClosed:
                                pass  # its own handler reports the drop
                            if bucket is not None:
                                await self._throttle(bucket, size)
                            continue
                    if bucket is not None:
                        await self._throttle(bucket, size)
                    out = rooms.binary(ws, size, clock())
                    if out and await self._apply(out, ws):
                        return
                elif await self._control(ws, data):  # type: ignore[arg-type]  # not bytes: str
                    return
        except ConnectionClosed:
            pass
        finally:
            out = rooms.disconnected(ws, clock())
            if out:
                self._apply_later(out)

    async def _throttle(self, bucket: TokenBucket, size: int) -> None:
        """Over the byte rate: stop reading from this socket until the bucket refills."""
        wait = bucket.take(size, self._clock())
        if wait:
            self.metrics.byte_limit_hit()
            await asyncio.sleep(wait)

    async def _handshake(self, ws: ServerConnection) -> bool:
        """Until ``ws`` holds a side of a session, within handshake_timeout. True if it closed."""
        rooms = self.rooms
        timeout = self.config.handshake_timeout
        deadline = asyncio.get_running_loop().time() + timeout if timeout else None
        while not rooms.attached(ws):
            try:
                async with asyncio.timeout_at(deadline):
                    data = await ws.recv()
            except TimeoutError:
                out = rooms.handshake_timeout(ws, self._clock())
                await self._apply(out, ws)
                return True
            if isinstance(data, bytes):
                out = rooms.binary(ws, len(data), self._clock())
                if out and await self._apply(out, ws):
                    return True
            elif self.bridge is not None:
                if await self._refuse_early(ws, data) or await self.bridge.handshake(ws, data):
                    return True
            elif await self._control(ws, data):
                return True
        return False

    async def _control(self, ws: Any, data: str, *, nameplate: str | None = None) -> bool:
        """One text frame: decode, let the rooms decide, send the answers. True if ``ws`` closes.

        ``nameplate``: on a node of several, the one reserved cluster-wide for an ``open``.
        """
        t0 = time.perf_counter()
        try:
            msg = decode_client(data)
        except MalformedMessage as exc:
            out = self.rooms.malformed(ws, str(exc), self._clock())
            return await self._apply(out, ws)
        refusal = self._admit(ws, msg) if not self.rooms.attached(ws) else None
        if refusal is not None:
            return await self._send_refusal(ws, refusal)
        out = self.rooms.receive(ws, msg, self._clock(), nameplate=nameplate)
        if isinstance(msg, Open) and self.rooms.attached(ws):
            self.admission.attached(ws)
        closing_me = await self._send_all(out, ws)
        self._control_hist[msg.type].observe(time.perf_counter() - t0)
        return await self._close_all(out, ws, closing_me)

    async def _refuse_early(self, ws: ServerConnection, data: str) -> bool:
        """On a node of several: the limits before an open reserves a nameplate cluster-wide."""
        try:
            msg = decode_client(data)
        except MalformedMessage:
            return False
        refusal = self._admit(ws, msg)
        return refusal is not None and await self._send_refusal(ws, refusal)

    async def _send_refusal(self, ws: Any, refusal: Refusal) -> bool:
        error = Error.of(refusal.code, f"{refusal.detail}; try again in {refusal.retry_after} s")
        try:
            await ws.send(Error(error.code, error.message, refusal.retry_after).encode())
            await ws.close(1008, refusal.code)
        except ConnectionClosed:
            pass
        return True

    # ---- applying outputs ----

    async def _apply(self, out: Output, me: Any) -> bool:  # a socket, or the bridge's RemoteConn
        """Apply an output in this connection's handler; True if it closes ``me``.

        Sends go out in order and inline: they only reach this session's two sockets, and
        websockets writes a frame before its first await, so a control message can never be
        overtaken by a binary frame forwarded after it. Closes of other sockets (which wait
        for a handshake) run as tasks; our own close is awaited after the handler's loop.
        """
        return await self._close_all(out, me, await self._send_all(out, me))

    async def _send_all(self, out: Output, me: ServerConnection) -> tuple[int, str] | None:
        if out.events:
            self._observe(out.events)
        for key, msg in out.send:
            try:
                await key.send(msg.encode())  # type: ignore[attr-defined]
            except ConnectionClosed:
                pass
        closing_me = None
        for key, code, reason in out.close:
            if key is me:
                closing_me = (code, reason)
            else:
                self._spawn(self._close_one(key, [], code, reason))
        return closing_me

    async def _close_all(self, out: Output, me: ServerConnection, closing_me: tuple[int, str] | None) -> bool:
        if closing_me is not None:
            await me.close(*closing_me)
            return True
        return False

    def _apply_later(self, out: Output, bound: float = 10.0) -> None:
        """Apply an output from the tick or a drop: one task per socket, order kept per socket."""
        if out.events:
            self._observe(out.events)
        per_conn: dict[Key, list[Message]] = defaultdict(list)
        for key, msg in out.send:
            per_conn[key].append(msg)
        closes = {key: (code, reason) for key, code, reason in out.close}
        for key in list(per_conn) + [k for k in closes if k not in per_conn]:
            code, reason = closes.get(key) or (None, "")
            self._spawn(self._close_one(key, per_conn.get(key, []), code, reason, bound=bound))

    async def _close_one(
        self, ws: Any, messages: list[Message], code: int | None, reason: str, bound: float = 10.0
    ) -> None:
        """Send, then close; a receiver that takes none of it within ``bound`` s is cut."""
        try:
            async with asyncio.timeout(bound):
                for msg in messages:
                    await ws.send(msg.encode())
                if code is not None:
                    await ws.close(code, reason)
        except ConnectionClosed:
            pass
        except TimeoutError:
            if ws.transport is not None:
                ws.transport.abort()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _observe(self, events: list[Event]) -> None:
        """Session events to metrics, the audit log and the log (never any content)."""
        for event in events:
            self._persist(event)
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
                self._log_refusal(str(event.data.get("code")), ctx)
            elif event.kind == "reported":  # an operator should look: a customer suspects a scam
                log.warning("session %s reported by the %s", event.data.get("nameplate"), event.data.get("by"),
                            extra={"ctx": ctx})
            else:
                log.info("session %s", event.kind, extra={"ctx": ctx})

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.tick_interval)
            try:
                now = self._clock()
                out = self.rooms.tick(now)
                if out:
                    self._apply_later(out)
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
                self._apply_later(out, bound=5.0)
            else:  # not a side of a session here (none, or proxied to another node): cut it
                error = Error.of("slow_consumer", f"more than {self.config.send_buffer_bytes} bytes waited for it")
                self._spawn(self._close_one(ws, [error], 1008, "slow_consumer", bound=5.0))


def _early_refusal(refusal: Refusal) -> bytes:
    """The whole HTTP answer to a connection refused as it was accepted (429: this address;
    503: the relay): clients read the status and Retry-After, as from any refused upgrade."""
    status = "429 Too Many Requests" if refusal.code == "rate_limited" else "503 Service Unavailable"
    body = json.dumps({"error": refusal.code, "retry_after": refusal.retry_after, "message": refusal.detail}) + "\n"
    return (f"HTTP/1.1 {status}\r\nRetry-After: {refusal.retry_after}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}").encode()


def _respond(
    connection: ServerConnection, status: int, body: str, content_type: str = "text/plain; charset=utf-8",
    headers: tuple[tuple[str, str], ...] = (),
) -> Response:
    response = connection.respond(status, body)
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = content_type
    response.headers["Cache-Control"] = "no-store"
    for name, value in headers:
        response.headers[name] = value
    return response


async def serve_relay(
    config: RelayConfig | None = None,
    *,
    rng: Rng | None = None,
    new_token: Callable[[], str] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> RelayServer:
    """Start a relay and return it once it listens (``.port`` is the real port).

    Raises OSError when the address cannot be bound (port in use, bad host), ConfigError
    when a file the settings name is unusable (TLS certificate, token store, audit log).
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
