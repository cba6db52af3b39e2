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
import errno
import random
import ssl
from enum import StrEnum
from typing import Any, Callable, Sequence

from websockets.asyncio.client import ClientConnection, connect
from websockets.frames import Frame as WsFrame, Opcode
from websockets.protocol import Event, State
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidProxy, InvalidStatus, InvalidURI

from cobrowse import PROTOCOL_VERSION
from cobrowse.errors import ConfigError, RelayRejected, RelayUnavailable
from cobrowse.i18n.ends import RELAY_PEER_CHANGES, RELAY_UNREADABLE, relay_english
from cobrowse.io import ahead, preconnect
from cobrowse.wire import envelope as env
from cobrowse.wire.backoff import reconnect_delay
from cobrowse.wire.frozen import frozen
from cobrowse.wire.proxy import ProxyChoice, ProxySettingError, choose_proxy

log = logging.getLogger(__name__)


class _Connection(ClientConnection):
    """websockets' client connection, handing a whole binary message (a sealed frame) to
    ``sink`` from the socket's read callback when nothing waits before it: one task hop
    (websockets' queue, then ``RelayLink._pump``) less per frame on the way to the session.
    Everything else (the relay's text messages, a fragmented message, a frame behind one of
    those) goes through ``recv`` as before, so the order stays the order they came in."""

    sink: Callable[[bytes], None] | None = None

    def process_event(self, event: Event) -> None:
        sink = self.sink
        if (sink is not None and isinstance(event, WsFrame) and event.opcode is Opcode.BINARY and event.fin
                and not len(self.recv_messages.frames)):
            sink(bytes(event.data))
            return
        super().process_event(event)


MAX_FRAME = 8 * 1024 * 1024
#: ``RelayLink.items`` holds at most about this much before the socket stops being read (TCP
#: then pushes back on the relay), and reading resumes once the session took it down to the
#: low-water mark: a relay sending faster than the session opens frames cannot fill memory.
ITEMS_HIGH_BYTES = 4 * 1024 * 1024
ITEMS_HIGH = 512
ITEMS_LOW_BYTES = 1024 * 1024
ITEMS_LOW = 128
#: What an honest relay never does within ``RELAY_WINDOW`` s: more ``peer`` changes (each one
#: a dropped and restored connection of the other side) or messages cobrowse cannot read than
#: this. Past it the relay is plainly hostile (or broken) and the session ends, saying so.
RELAY_WINDOW = 10.0
MAX_PEER_CHANGES = 40
MAX_MALFORMED = 40
#: Malformed messages logged per window (the rest are counted).
MALFORMED_LOGGED = 3
RELAY_MISBEHAVED = "relay_misbehaved"
#: Every connection to the relay, on an early socket or not.
_CONNECT_OPTIONS: dict[str, Any] = {"compression": None, "max_size": MAX_FRAME, "open_timeout": 10,
                                    "ping_interval": 10, "ping_timeout": 20, "close_timeout": 2,
                                    "create_connection": _Connection}
#: Binary frames a claim's answer may follow (see ``RelayLink._request``): a handshake's worth.
EARLY_FRAMES = 4
#: How long a side keeps trying to get its session back after the relay connection drops
#: (a relay restart, a laptop changing networks); the relay holds its place as long.
RECONNECT_FOR = 300.0
#: Websocket close codes with which a relay says it restarts or stops (1012 service restart,
#: 1001 going away): the session resumes once it (or another node) is back.
RESTART_CLOSE_CODES = (1001, 1012)

#: Added to what a side is told while the relay (or the peer's link to it) is away but the
#: direct path still carries the session.
DIRECT_GOES_ON = "; meanwhile the session goes on over the direct path"


class DropCause(StrEnum):
    """Why this side lost the relay, as far as it can tell (the honest part of the message)."""

    RELAY_RESTART = "relay_restart"  # the relay said it restarts or stops (close 1012/1001)
    RELAY_DOWN = "relay_down"  # its address answers but nothing listens: the relay is not running
    NETWORK = "network"  # no answer at all (timeouts, unreachable, DNS): this side's network or the path
    BUSY = "busy"  # the relay is back but asked us to wait (a limit, a lookup that failed)


@frozen
class PeerChanged:
    state: str  # joined | left | back
    grace: float | None = None  # with "left": how long the relay holds the other side's place


@frozen
class Frame:
    data: bytes


@frozen
class Reconnecting:
    attempt: int
    delay: float
    reason: str
    cause: DropCause = DropCause.NETWORK
    give_up_in: float = 0.0  # seconds until this side stops trying


@frozen
class Resumed:
    peer: bool


@frozen
class ClaimReleased:
    """The relay let this creator's claimant go before confirmation; the session waits again.

    ``reason``: ``failed`` (we said so), ``timeout`` (it never finished), ``left``; ``failures``:
    the relay's count of guesses on this session (informative: the runtime keeps its own)."""

    reason: str
    failures: int


@frozen
class LinkEnded:
    """The relay ended the session, or the link gave up; ``error`` is set for failures."""

    reason: str
    message: str
    error: Exception | None = None


LinkItem = PeerChanged | Frame | Reconnecting | Resumed | ClaimReleased | LinkEnded


class LinkItems(asyncio.Queue[LinkItem]):
    """``RelayLink.items``: a queue that pauses the socket's reading at a high-water mark and
    resumes it at a low-water mark, as websockets' own receive queue does (frames reach it
    from the socket's read callback, past that queue: ``_Connection``). Nothing is dropped:
    the relay is made to wait, in TCP's flow control."""

    def __init__(self) -> None:
        super().__init__()
        self.queued_bytes = 0
        self._paused: asyncio.Transport | None = None
        self._room = asyncio.Event()
        self._room.set()
        #: The most bytes it ever held (a bound tests check).
        self.peak_bytes = 0
        #: The session's own handler (io/runtime.py ``_take_now``), offered a frame before it is
        #: queued when nothing is queued before it; True: it took the frame, which is not queued.
        self.take: Callable[[Frame], bool] | None = None

    def full_now(self) -> bool:
        return self.qsize() >= ITEMS_HIGH or self.queued_bytes >= ITEMS_HIGH_BYTES

    def put_frame(self, frame: Frame, transport: asyncio.Transport | None) -> None:
        """Queue a frame from a read callback; past the high-water mark, stop reading ``transport``."""
        self.put_nowait(frame)
        if self.full_now():
            self._room.clear()
            if transport is not None and self._paused is None and not transport.is_closing():
                transport.pause_reading()
                self._paused = transport

    async def room(self) -> None:
        """Until the queue is below its low-water mark (``RelayLink._pump`` waits so)."""
        if self.full_now():
            self._room.clear()
        await self._room.wait()

    def put_nowait(self, item: LinkItem) -> None:
        if isinstance(item, Frame):  # also the direct path's (io/rtc.py), counted the same
            take = self.take
            if take is not None and not self.qsize() and take(item):
                return
            self.queued_bytes += len(item.data)
            self.peak_bytes = max(self.peak_bytes, self.queued_bytes)
        super().put_nowait(item)

    def get_nowait(self) -> LinkItem:
        item = super().get_nowait()
        if isinstance(item, Frame):
            self.queued_bytes -= len(item.data)
        if not self._room.is_set() and self.qsize() <= ITEMS_LOW and self.queued_bytes <= ITEMS_LOW_BYTES:
            self._room.set()
            paused, self._paused = self._paused, None
            if paused is not None and not paused.is_closing():
                paused.resume_reading()
        return item


class RelayConduct:
    """Counts, per ``RELAY_WINDOW``, what only a hostile relay does at volume; says when it is
    too much (``over``). Clock passed in (the link's loop time)."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[float, int]] = {}

    def count(self, kind: str, now: float) -> int:
        """Count one event of ``kind``; return how many in the current window."""
        started, seen = self._counts.get(kind, (now, 0))
        if now - started >= RELAY_WINDOW:
            started, seen = now, 0
        self._counts[kind] = (started, seen + 1)
        return seen + 1


def misbehaved_message(template: str, count: int) -> str:
    """Why the session ended when the relay sent what no working relay sends (its fault, not
    the other side's or this side's): ``RELAY_UNREADABLE`` or ``RELAY_PEER_CHANGES``, in
    English here; the customer's front ends translate it (``i18n.ends.relay_text``)."""
    return relay_english(template, count=count, seconds=RELAY_WINDOW)


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
    if isinstance(exc, ssl.SSLCertVerificationError):
        return RelayUnavailable(
            f"the relay at {url} presented a TLS certificate this machine does not trust ({detail}): "
            "a relay with its own certificate authority needs SSL_CERT_FILE=/path/to/its-ca.pem"
        )
    if url.startswith("wss://") and isinstance(exc, (ssl.SSLError, ConnectionResetError)):
        return RelayUnavailable(  # a TLS hello to a relay without TLS: reset, or an SSL error
            f"cannot reach the relay at {url} ({detail}): its TLS handshake failed; if that relay does "
            f"not use TLS, connect with ws://{url.removeprefix('wss://')}"
        )
    return RelayUnavailable(
        f"cannot reach the relay at {url} ({detail}): check the address and your network, "
        "or start one with `cobrowse relay`"
    )


def gave_up_message(url: str, tried_for: float, cause: DropCause) -> str:
    """What a side is told when it stops trying to get its session back: who failed, as far
    as it can tell, and what to do."""
    span = _span(tried_for)
    if cause in (DropCause.RELAY_DOWN, DropCause.RELAY_RESTART):
        return (f"the relay at {url} stopped and was not back within {span} (its machine answers, but no relay "
                "runs there; if it ran inside the other side's cobrowse, their program stopped): the session "
                "is over; start a new one once a relay runs again")
    if cause is DropCause.BUSY:
        return f"the relay at {url} kept asking to wait for {span}: the session is over; start a new one later"
    return (f"lost the connection to the relay at {url} and could not get it back in {span}: "
            "check your network (or whether the relay's address is reachable) and start a new session")


def _span(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 120 and seconds % 60 == 0 else \
        f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"


def _other(role: str) -> str:
    return "customer" if role == "agent" else "agent"


def reconnecting_message(cause: DropCause, give_up_in: float) -> str:
    """While this side tries to get its session back: who dropped, and what happens next."""
    tail = f"the session resumes by itself; this side keeps trying for {_span(give_up_in)}"
    if cause is DropCause.RELAY_RESTART:
        return f"the relay is restarting: {tail}"
    if cause is DropCause.RELAY_DOWN:
        return f"the relay is not answering (stopped or restarting; your network is fine): {tail}"
    if cause is DropCause.BUSY:
        return f"the relay asked to wait a moment: {tail}"
    return f"lost the connection to the relay (your network, or the path to the relay): {tail}"


def peer_left_message(role: str, grace: float | None) -> str:
    """The other side's connection to the relay dropped (its network, its machine, its app)."""
    wait = f" for up to {_span(grace)}" if grace else ""
    return (f"the {_other(role)}'s connection dropped (their network or their app; yours is fine): "
            f"the session waits{wait} for them to come back")


def resumed_message(role: str, peer_here: bool) -> str:
    if peer_here:
        return "reconnected: the session goes on"
    return f"reconnected to the relay: waiting for the {_other(role)} to reconnect too"


def peer_timeout_message(role: str) -> str:
    return (f"the {_other(role)}'s connection dropped and they did not come back in time "
            "(their network or their app; yours is fine): the session is over")


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
    return RelayRejected(code, env.describe_error(code, wait), wait)


class RelayLink:
    """One side's link to the relay. Create with ``open`` or ``claim``, then ``run``."""

    def __init__(self, url: str, role: str, token: str | None = None, *, reconnect_for: float = RECONNECT_FOR,
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
        self.items = LinkItems()
        self.connected = asyncio.Event()
        self.bytes_sent = 0
        self.bytes_received = 0
        self._side: str | None = None
        self._ws: ClientConnection | None = None
        #: Claims on our session so far (``peer joined``), for ``release`` to name the one it means.
        self.claims = 0
        self._closing = False
        self._dropped = DropCause.NETWORK
        self._refused_connection = False
        #: Binary frames that came before the answer to a claim with pipelined frames.
        self._early: list[bytes] = []
        self._sending = 0  # ``send`` calls waiting for the socket (``ready_now``)
        self._conduct = RelayConduct()

    async def _connect(self) -> ClientConnection:
        early = await preconnect.take(self.url) if self.proxy.url is None else None
        if early is not None:  # opened while cobrowse imported (cobrowse.io.preconnect)
            try:
                return await connect(self.url, sock=early, proxy=None, **_CONNECT_OPTIONS)
            except Exception:  # whatever went wrong on it: connect afresh, as without it
                early.close()
        try:
            return await connect(self.url, proxy=self.proxy.url, **_CONNECT_OPTIONS)
        except InvalidStatus as exc:
            limited = refused_by_limit(exc)
            raise limited or unreachable(self.url, exc, self.proxy) from None
        except ImportError as exc:  # socks:// needs python-socks
            raise unreachable(self.url, exc, self.proxy) from None
        except (OSError, InvalidHandshake, InvalidURI, InvalidProxy, TimeoutError) as exc:
            self._refused_connection = isinstance(exc, ConnectionRefusedError) or (
                isinstance(exc, OSError) and exc.errno == errno.ECONNREFUSED)
            raise unreachable(self.url, exc, self.proxy) from None

    async def connection(self) -> ClientConnection:
        """A new connection to the relay, upgraded, nothing sent on it yet (errors as ``open`` and
        ``claim`` report them): cobrowse.io.ahead keeps one while ``cobrowse join`` asks for the code."""
        return await self._connect()

    async def _request(self, ws: ClientConnection, message: env.Message, expect: type[env.Message],
                       then: Sequence[bytes] = ()) -> env.Message:
        await ws.send(message.encode())
        self._early = []
        for frame in then:  # pipelined behind the request (the relay takes them in order)
            await ws.send(frame)
            self.bytes_sent += len(frame)
        try:
            async with asyncio.timeout(15):
                raw = await ws.recv()
                # Only a relay that answers our pipelined frames before our request (not ours)
                # sends frames first: kept, few, for the session to judge like any other.
                while isinstance(raw, bytes) and then and len(self._early) < EARLY_FRAMES:
                    self._early.append(raw)
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
            raise RelayRejected(reply.code, env.describe_error(reply.code, reply.retry_after), reply.retry_after)
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

    async def claim(self, nameplate: str, then: Sequence[bytes] = ()) -> None:
        """Join the session the other side created; ``then``: binary frames sent right behind
        the claim, without waiting for its answer (a refused claim's are dropped by the relay)."""
        ws = ahead.take(self.url) or await self._connect()  # one kept open while the code was typed
        message = env.Claim(self.role, PROTOCOL_VERSION, nameplate, self.token)
        reply = await self._request(ws, message, env.Claimed, then)
        assert isinstance(reply, env.Claimed)
        self._attach(ws, reply.nameplate, reply.side)
        self._deliver_early()
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

    def _deliver_early(self) -> None:
        """Frames that came before the claim's answer, to the session first."""
        early, self._early = self._early, []
        for frame in early:
            self.bytes_received += len(frame)
            self.items.put_frame(Frame(frame), None)

    def _attach(self, ws: ClientConnection, nameplate: str, side: str) -> None:
        self._ws, self.nameplate, self._side = ws, nameplate, side
        self._take_frames(ws)
        self.connected.set()

    def _take_frames(self, ws: ClientConnection) -> None:
        """From now on, ``ws``'s binary messages go to ``items`` from its read callback (``_Connection``)."""
        if not isinstance(ws, _Connection):
            return

        def sink(data: bytes) -> None:
            if self._ws is not ws:
                return  # replaced by reopen(): whatever still comes belongs to the old session
            self.bytes_received += len(data)
            self.items.put_frame(Frame(data), ws.transport)

        ws.sink = sink

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
        if self.ready_now():  # the common case: written at once, without websockets' async context
            self._write(ws, frame)
            return
        self._sending += 1
        try:
            await ws.send(frame)
            self.bytes_sent += len(frame)
        except ConnectionClosed:
            pass
        finally:
            self._sending -= 1

    def ready_now(self) -> bool:
        """Whether ``send_now`` can write a frame at once: connected, and no frame waiting for
        the socket's buffer to drain (a frame written now would overtake it)."""
        ws = self._ws
        return (ws is not None and not self._sending and not ws.paused and ws.send_in_progress is None
                and ws.protocol.state is State.OPEN and not ws.transport.is_closing())

    def send_now(self, frame: bytes) -> None:
        """``send`` from a callback, without a task: the same websocket frame, written to the
        socket at once (an echo's frame from the pty's read, io/customer.py). Call it only when
        ``ready_now`` said so; a frame it cannot write is dropped, as ``send`` drops one while
        disconnected (the channel resends)."""
        ws = self._ws
        if ws is not None and self.ready_now():
            self._write(ws, frame)

    def _write(self, ws: ClientConnection, frame: bytes) -> None:
        try:
            ws.protocol.send_binary(frame)
            ws.send_data()
        except Exception as exc:  # as websockets' own send does: the connection is done for (the pump reconnects)
            log.debug("writing a frame failed: %r", exc)
            ws.transport.abort()
            return
        self.bytes_sent += len(frame)

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
            async with asyncio.timeout(2):  # a relay that stopped reading cannot hold us
                await ws.send(env.Close(reason).encode())
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
                if isinstance(ws, _Connection):
                    ws.sink = None  # nothing after the end, as before (the pump stopped reading)
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
                await self.items.room()  # the session is behind: websockets' own queue pauses the socket
                if isinstance(raw, bytes):
                    self.bytes_received += len(raw)
                    self.items.put_frame(Frame(raw), None)
                    continue
                try:
                    message = env.decode_relay(raw)
                except env.MalformedMessage as exc:
                    seen = self._conduct.count("malformed", asyncio.get_running_loop().time())
                    if seen > MAX_MALFORMED:
                        return self._misbehaved(RELAY_UNREADABLE, MAX_MALFORMED)
                    if seen <= MALFORMED_LOGGED:
                        log.warning("ignoring a malformed message from the relay: %s", str(exc)[:200])
                    continue
                if isinstance(message, env.Peer):
                    if self._conduct.count("peer", asyncio.get_running_loop().time()) > MAX_PEER_CHANGES:
                        return self._misbehaved(RELAY_PEER_CHANGES, MAX_PEER_CHANGES)
                    if message.state == "joined":
                        self.claims += 1
                    await self.items.put(PeerChanged(message.state, message.grace))
                elif isinstance(message, env.Released):
                    await self.items.put(ClaimReleased(message.reason, message.failures))
                elif isinstance(message, env.Closed):
                    return LinkEnded(message.reason, env.describe_close(message.reason))
                elif isinstance(message, env.Error):
                    log.warning("relay error: %s %s", message.code, message.message)
                    if message.code in ("too_large", "malformed"):
                        text = env.describe_error(message.code)
                        return LinkEnded(message.code, text, RelayRejected(message.code, text))
        except ConnectionClosed as exc:
            rcvd = exc.rcvd
            self._dropped = DropCause.RELAY_RESTART if rcvd is not None and rcvd.code in RESTART_CLOSE_CODES \
                else DropCause.NETWORK
        return None

    def _misbehaved(self, template: str, count: int) -> LinkEnded:
        text = misbehaved_message(template, count)
        return LinkEnded(RELAY_MISBEHAVED, text, RelayRejected(RELAY_MISBEHAVED, text))

    async def _reconnect(self) -> LinkEnded | None:
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self.reconnect_for
        attempt = 0
        last: Exception | None = None
        cause = self._dropped
        while loop.time() < give_up_at:
            delay = reconnect_delay(attempt, random.random)  # spread out: a restarted relay is not stampeded
            attempt += 1
            await self.items.put(Reconnecting(attempt, delay, str(last or "connection lost"), cause,
                                              max(0.0, give_up_at - loop.time())))
            await asyncio.sleep(delay)
            try:
                ws = await self._connect()
                assert self.nameplate is not None and self._side is not None
                reply = await self._request(ws, env.Resume(self.nameplate, self._side), env.Resumed)
            except RelayRejected as exc:
                if exc.code not in env.RETRY_ERROR_CODES:  # a limit passes: keep trying until give-up
                    return LinkEnded(exc.code, exc.message, exc)
                last, cause = exc, DropCause.BUSY
                continue
            except RelayUnavailable as exc:
                last = exc
                if not self._refused_connection:
                    cause = DropCause.NETWORK
                elif cause is not DropCause.RELAY_RESTART:  # it said it restarts: still restarting
                    cause = DropCause.RELAY_DOWN
                continue
            assert isinstance(reply, env.Resumed)
            self.ice_servers = reply.ice_servers
            self._ws = ws
            self._take_frames(ws)
            self.connected.set()
            await self.items.put(Resumed(reply.peer))
            return None
        error = RelayUnavailable(gave_up_message(self.url, self.reconnect_for, cause))
        return LinkEnded("connection_lost", str(error), error)

    def abort(self) -> None:
        """Drop the socket without telling anyone (tests use it to simulate a network drop)."""
        ws = self._ws
        if ws is not None and ws.transport is not None:
            ws.transport.abort()
