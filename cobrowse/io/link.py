"""The connection from one side of a session to the relay: a thin asyncio adapter.

It speaks the control envelope (``cobrowse.wire.envelope``), hands binary frames and the
relay's news to its owner as typed items on a queue, and when the socket drops it
reconnects with back-off and resumes the same side of the same session. It knows nothing
about keys: the Session machine above it makes everything it sends unreadable to the relay.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidProxy, InvalidStatus, InvalidURI

from cobrowse import PROTOCOL_VERSION
from cobrowse.errors import ConfigError, RelayRejected, RelayUnavailable
from cobrowse.wire import envelope as env
from cobrowse.wire.backoff import reconnect_delay
from cobrowse.wire.proxy import ProxyChoice, ProxySettingError, choose_proxy

log = logging.getLogger(__name__)

MAX_FRAME = 8 * 1024 * 1024


@dataclass(frozen=True)
class PeerChanged:
    state: str  # joined | left | back


@dataclass(frozen=True)
class Frame:
    data: bytes


@dataclass(frozen=True)
class Reconnecting:
    attempt: int
    delay: float
    reason: str


@dataclass(frozen=True)
class Resumed:
    peer: bool


@dataclass(frozen=True)
class ClaimReleased:
    """The relay let this creator's claimant go before confirmation; the session waits again.

    ``reason``: ``failed`` (we said so), ``timeout`` (it never finished), ``left``; ``failures``:
    the relay's count of guesses on this session (informative: the runtime keeps its own)."""

    reason: str
    failures: int


@dataclass(frozen=True)
class LinkEnded:
    """The relay ended the session, or the link gave up; ``error`` is set for failures."""

    reason: str
    message: str
    error: Exception | None = None


LinkItem = PeerChanged | Frame | Reconnecting | Resumed | ClaimReleased | LinkEnded


def proxy_from_environment(url: str) -> ProxyChoice:
    """The proxy the environment asks for (a setting cobrowse cannot use: a ConfigError)."""
    try:
        return choose_proxy(url, os.environ)
    except ProxySettingError as exc:
        raise ConfigError(str(exc)) from None


def unreachable(url: str, exc: BaseException, proxy: ProxyChoice | None = None) -> RelayUnavailable:
    detail = str(exc) or type(exc).__name__
    if proxy is not None and proxy.url:
        return RelayUnavailable(
            f"cannot reach the relay at {url} through {proxy.describe()} ({detail}): check that the proxy "
            "runs and lets you through, or connect without it (--no-proxy, or add the relay to NO_PROXY)"
        )
    return RelayUnavailable(
        f"cannot reach the relay at {url} ({detail}): check the address and your network, "
        "or start one with `cobrowse relay`"
    )


def refused_by_limit(exc: InvalidStatus) -> RelayRejected | None:
    """A relay limit refused the connection before the websocket opened (429: this address,
    503: the relay is full); the wait comes from Retry-After, never the relay's own words."""
    status = exc.response.status_code
    if status not in (429, 503):
        return None
    try:
        wait: int | None = int(exc.response.headers.get("Retry-After", ""))
    except ValueError:
        wait = None
    code = "rate_limited" if status == 429 else "full"
    return RelayRejected(code, env.describe_error(code, wait))


class RelayLink:
    """One side's link to the relay. Create with ``open`` or ``claim``, then ``run``."""

    def __init__(self, url: str, role: str, token: str | None = None, *, reconnect_for: float = 60.0,
                 proxy: ProxyChoice | None = None) -> None:
        self.url = url
        #: How connections to the relay go out (curl's rules, docs/headless.md "Proxies").
        self.proxy = proxy if proxy is not None else proxy_from_environment(url)
        self.role = role
        self.token = token
        self.reconnect_for = reconnect_for
        self.nameplate: str | None = None
        self.ttl: float | None = None
        # STUN/TURN servers for WebRTC from the relay's last opened/claimed/resumed (TURN
        # credentials are short-lived: each resume brings fresh ones).
        self.ice_servers: list[dict[str, Any]] = []
        self.items: asyncio.Queue[LinkItem] = asyncio.Queue()
        self.connected = asyncio.Event()
        self.bytes_sent = 0
        self.bytes_received = 0
        self._side: str | None = None
        self._ws: ClientConnection | None = None
        #: Claims on our session so far (``peer joined``), for ``release`` to name the one it means.
        self.claims = 0
        self._closing = False

    async def _connect(self) -> ClientConnection:
        try:
            return await connect(
                self.url, compression=None, max_size=MAX_FRAME, open_timeout=10,
                proxy=self.proxy.url, ping_interval=10, ping_timeout=20, close_timeout=2,
            )
        except InvalidStatus as exc:
            limited = refused_by_limit(exc)
            raise limited or unreachable(self.url, exc, self.proxy) from None
        except ImportError as exc:  # socks:// needs python-socks
            raise unreachable(self.url, exc, self.proxy) from None
        except (OSError, InvalidHandshake, InvalidURI, InvalidProxy, TimeoutError) as exc:
            raise unreachable(self.url, exc, self.proxy) from None

    async def _request(self, ws: ClientConnection, message: env.Message, expect: type[env.Message]) -> env.Message:
        await ws.send(message.encode())
        try:
            async with asyncio.timeout(15):
                raw = await ws.recv()
        except (ConnectionClosed, TimeoutError) as exc:
            raise unreachable(self.url, exc) from None
        if isinstance(raw, bytes):
            raise RelayRejected("malformed", "the relay answered with a frame out of place")
        try:
            reply = env.decode_relay(raw)
        except env.MalformedMessage as exc:
            raise RelayRejected("malformed", f"the relay sent a message cobrowse does not understand: {exc}")
        if isinstance(reply, env.Error):
            await ws.close()
            raise RelayRejected(reply.code, env.describe_error(reply.code, reply.retry_after))
        if isinstance(reply, env.Closed):
            await ws.close()
            raise RelayRejected(reply.reason, env.describe_close(reply.reason))
        if not isinstance(reply, expect):
            raise RelayRejected("malformed", f"the relay answered {reply.type!r} to {message.type!r}")
        return reply

    async def open(self) -> str:
        """Create a session; return the nameplate the relay allocated."""
        ws = await self._connect()
        reply = await self._request(ws, env.Open(self.role, PROTOCOL_VERSION, self.token), env.Opened)
        assert isinstance(reply, env.Opened)
        self._attach(ws, reply.nameplate, reply.side)
        self.ttl = reply.ttl
        self.ice_servers = reply.ice_servers
        return reply.nameplate

    async def claim(self, nameplate: str) -> None:
        """Join the session the other side created."""
        ws = await self._connect()
        message = env.Claim(self.role, PROTOCOL_VERSION, nameplate, self.token)
        reply = await self._request(ws, message, env.Claimed)
        assert isinstance(reply, env.Claimed)
        self._attach(ws, reply.nameplate, reply.side)
        self.ice_servers = reply.ice_servers

    async def reopen(self) -> str:
        """Open a fresh session on a new connection, then end the current one (``renewed``);
        return the new nameplate. Items of the old connection are dropped from then on."""
        old = self._ws
        nameplate = await self.open()
        self.claims = 0
        while not self.items.empty():  # all from the old session: its pump stops at the swap
            self.items.get_nowait()
        if old is not None:
            try:
                await old.send(env.Close("renewed").encode())
                async with asyncio.timeout(2):
                    await old.close()
            except (ConnectionClosed, TimeoutError, OSError):
                pass
        return nameplate

    def _attach(self, ws: ClientConnection, nameplate: str, side: str) -> None:
        self._ws, self.nameplate, self._side = ws, nameplate, side
        self.connected.set()

    async def keepalive(self) -> None:
        """Tell the relay the session is in use while its frames take a direct path (the
        relay's idle timeout counts only what it forwards)."""
        ws = self._ws
        if ws is not None:
            try:
                await ws.send(env.Ping().encode())
            except ConnectionClosed:
                pass

    async def send(self, frame: bytes) -> None:
        """Send one binary frame; while disconnected it is dropped (the channel resends)."""
        ws = self._ws
        if ws is None:
            return
        try:
            await ws.send(frame)
            self.bytes_sent += len(frame)
        except ConnectionClosed:
            pass

    async def confirm(self) -> None:
        """Tell the relay our key confirmation of the claimant succeeded: the claim stands."""
        await self._control(env.Confirm())

    async def release(self) -> None:
        """Tell the relay the claimant failed key confirmation: let it go, keep the session."""
        await self._control(env.Release(self.claims or None))

    async def _control(self, message: env.Message) -> None:
        ws = self._ws
        if ws is None:
            return
        try:
            await ws.send(message.encode())
        except ConnectionClosed:
            pass

    async def report(self) -> bool:
        """Report this session to the relay's operator (a suspected scam): the relay records
        the nameplate and the time, nothing else. False while disconnected."""
        ws = self._ws
        if ws is None:
            return False
        try:
            await ws.send(env.Report().encode())
        except ConnectionClosed:
            return False
        return True

    async def close(self, reason: str = "ended") -> None:
        """End the session for both sides."""
        self._closing = True
        ws = self._ws
        if ws is None:
            return
        try:
            await ws.send(env.Close(reason).encode())
            async with asyncio.timeout(2):
                await ws.close()
        except (ConnectionClosed, TimeoutError, OSError):
            pass

    async def run(self) -> None:
        """Pump the socket into ``items`` until the session ends; reconnect on drops."""
        while True:
            ws = self._ws
            assert ws is not None
            ended = await self._pump(ws)
            if self._ws is not ws and self._ws is not None:
                continue  # reopen() replaced that connection: its end is not ours
            if ended is not None:
                await self.items.put(ended)
                return
            self._ws = None
            self.connected.clear()
            if self._closing:
                await self.items.put(LinkEnded("closed", "the session was closed"))
                return
            ended = await self._reconnect()
            if ended is not None:
                await self.items.put(ended)
                return

    async def _pump(self, ws: ClientConnection) -> LinkEnded | None:
        try:
            async for raw in ws:
                if self._ws is not ws:
                    break  # replaced by reopen(): whatever still comes belongs to the old session
                if isinstance(raw, bytes):
                    self.bytes_received += len(raw)
                    await self.items.put(Frame(raw))
                    continue
                try:
                    message = env.decode_relay(raw)
                except env.MalformedMessage as exc:
                    log.warning("ignoring a malformed message from the relay: %s", exc)
                    continue
                if isinstance(message, env.Peer):
                    if message.state == "joined":
                        self.claims += 1
                    await self.items.put(PeerChanged(message.state))
                elif isinstance(message, env.Released):
                    await self.items.put(ClaimReleased(message.reason, message.failures))
                elif isinstance(message, env.Closed):
                    return LinkEnded(message.reason, env.describe_close(message.reason))
                elif isinstance(message, env.Error):
                    log.warning("relay error: %s %s", message.code, message.message)
                    if message.code in ("too_large", "malformed"):
                        text = env.describe_error(message.code)
                        return LinkEnded(message.code, text, RelayRejected(message.code, text))
        except ConnectionClosed:
            pass
        return None

    async def _reconnect(self) -> LinkEnded | None:
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self.reconnect_for
        attempt = 0
        last: Exception | None = None
        while loop.time() < give_up_at:
            delay = reconnect_delay(attempt, random.random)  # spread out: a restarted relay is not stampeded
            attempt += 1
            await self.items.put(Reconnecting(attempt, delay, str(last or "connection lost")))
            await asyncio.sleep(delay)
            try:
                ws = await self._connect()
                assert self.nameplate is not None and self._side is not None
                reply = await self._request(ws, env.Resume(self.nameplate, self._side), env.Resumed)
            except RelayRejected as exc:
                if exc.code not in ("rate_limited", "full"):  # a limit passes: keep trying until give-up
                    return LinkEnded(exc.code, exc.message, exc)
                last = exc
                continue
            except RelayUnavailable as exc:
                last = exc
                continue
            assert isinstance(reply, env.Resumed)
            self.ice_servers = reply.ice_servers
            self._ws = ws
            self.connected.set()
            await self.items.put(Resumed(reply.peer))
            return None
        error = RelayUnavailable(
            f"lost the connection to the relay at {self.url} and could not get it back in "
            f"{self.reconnect_for:.0f} s: check your network and start a new session"
        )
        return LinkEnded("connection_lost", str(error), error)

    def abort(self) -> None:
        """Drop the socket without telling anyone (tests use it to simulate a network drop)."""
        ws = self._ws
        if ws is not None and ws.transport is not None:
            ws.transport.abort()
