"""The relay's network layer: websockets in, :class:`relay.rooms.Rooms` decides, frames out.

This layer stays thin on purpose: all rules live in the pure rooms machine, so this file
only turns socket events into calls on it and applies the :class:`~relay.rooms.Output` it
returns. Binary frames, the hot path, never reach the machine: one dict lookup finds the
peer and the very same ``bytes`` object is sent on (no decode, no copy, no JSON).

The same port serves ``GET /healthz`` (JSON) for load balancers and Docker's HEALTHCHECK;
any other plain HTTP request gets 404 (``/`` gets 426: it is the websocket endpoint).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import random
import secrets
import time
from collections import defaultdict
from importlib import metadata
from typing import Any, Callable

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from cobrowse.wire.envelope import MalformedMessage, Message, decode_client
from relay.config import RelayConfig
from relay.rooms import Key, Output, Rng, Rooms

log = logging.getLogger("relay")

# websockets itself cuts frames this far above max_frame_bytes (close code 1009) before
# buffering them; frames in between get the friendlier ``too_large`` error from us.
FRAME_SLACK = 64 * 1024


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


class RelayServer:
    """A running relay. Use ``async with await serve_relay(cfg) as relay`` or close() it."""

    def __init__(
        self, config: RelayConfig, rooms: Rooms, clock: Callable[[], float]
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

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}"

    async def start(self) -> None:
        cfg = self.config
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
            logger=logging.getLogger("relay.websockets"),
        )
        sockets = list(self._server.sockets)
        if sockets:
            self.port = sockets[0].getsockname()[1]
        for warning in cfg.security_warnings():
            log.warning("WARNING: %s", warning)
        self._ticker = asyncio.create_task(self._tick_loop(), name="relay-tick")

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

    async def __aenter__(self) -> RelayServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
        await self.wait_closed()

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "version": self.version,
            "sessions": self.rooms.session_count,
            "connections": self.rooms.connection_count,
            "uptime_s": round(self._clock() - self._started, 3),
        }

    # ---- websockets callbacks ----

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == "/healthz":
            response = connection.respond(200, json.dumps(self.health()) + "\n")
            del response.headers["Content-Type"]
            response.headers["Content-Type"] = "application/json"
            response.headers["Cache-Control"] = "no-store"
            return response
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None
        if path == "/":
            return connection.respond(426, "cobrowse relay: connect with a websocket client\n")
        return connection.respond(404, "not found\n")

    async def _handle(self, ws: ServerConnection) -> None:
        rooms = self.rooms
        clock = self._clock
        rooms.connected(ws, address_key(ws.remote_address))
        peer_of = rooms.peer_of
        max_frame = self.config.max_frame_bytes
        recv = ws.recv
        try:
            while True:
                data = await recv()
                if data.__class__ is bytes:
                    if len(data) <= max_frame:
                        peer = peer_of(ws)
                        if peer is not None:
                            try:
                                await peer.send(data)  # type: ignore[attr-defined]
                            except ConnectionClosed:
                                pass  # its own handler reports the drop
                            continue
                    out = rooms.binary(ws, len(data), clock())
                else:
                    try:
                        msg = decode_client(data)
                    except MalformedMessage as exc:
                        out = rooms.malformed(ws, str(exc), clock())
                    else:
                        out = rooms.receive(ws, msg, clock())
                if out and await self._apply(out, ws):
                    return
        except ConnectionClosed:
            pass
        finally:
            out = rooms.disconnected(ws, clock())
            if out:
                self._apply_later(out)

    # ---- applying outputs ----

    async def _apply(self, out: Output, me: ServerConnection) -> bool:
        """Apply an output in this connection's handler; True if it closes ``me``.

        Sends go out in order and inline: they only reach this session's two sockets, and
        websockets writes a frame before its first await, so a control message can never be
        overtaken by a binary frame forwarded after it. Closes of other sockets (which wait
        for a handshake) run as tasks; our own close is awaited after the handler's loop.
        """
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
        if closing_me is not None:
            await me.close(*closing_me)
            return True
        return False

    def _apply_later(self, out: Output) -> None:
        """Apply an output from the tick or a drop: one task per socket, order kept per socket."""
        per_conn: dict[Key, list[Message]] = defaultdict(list)
        for key, msg in out.send:
            per_conn[key].append(msg)
        closes = {key: (code, reason) for key, code, reason in out.close}
        for key in list(per_conn) + [k for k in closes if k not in per_conn]:
            code_reason = closes.get(key)
            self._spawn(self._close_one(key, per_conn.get(key, []), *(code_reason or (None, ""))))

    async def _close_one(self, ws: Any, messages: list[Message], code: int | None, reason: str) -> None:
        try:
            for msg in messages:
                await ws.send(msg.encode())
            if code is not None:
                await ws.close(code, reason)
        except ConnectionClosed:
            pass

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.tick_interval)
            try:
                out = self.rooms.tick(self._clock())
                if out:
                    self._apply_later(out)
            except Exception:  # pragma: no cover - a bug must not stop expiry for good
                log.exception("relay tick failed")


async def serve_relay(
    config: RelayConfig | None = None,
    *,
    rng: Rng | None = None,
    new_token: Callable[[], str] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> RelayServer:
    """Start a relay and return it once it listens (``.port`` is the real port).

    Raises OSError when the address cannot be bound (port in use, bad host).
    """
    config = config or RelayConfig()
    rooms = Rooms(
        config,
        rng if rng is not None else random.SystemRandom(),
        new_token if new_token is not None else (lambda: secrets.token_hex(16)),
    )
    server = RelayServer(config, rooms, clock)
    await server.start()
    return server
