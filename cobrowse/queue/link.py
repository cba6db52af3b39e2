"""The help queue's connections to the relay (asyncio): a queued customer's session link, a
picked session's claim with its ticket, and an agent's watcher of the organisation's queue.

The session links are :class:`cobrowse.io.link.RelayLink` with the queue's few additions,
so reconnects, resumes and frames work as for any session: the customer's link reads the
relay's ``queued`` messages off its sockets before the session sees them, queues again
after a resume (a dropped connection left the queue) and after a refused pick (its place
back), and stops once its client confirmed a verified agent.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any, AsyncIterator, Callable, Sequence

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from cobrowse import PROTOCOL_VERSION
from cobrowse.errors import RelayRejected, RelayUnavailable
from cobrowse.io.link import LinkEnded, PeerChanged, RelayLink
from cobrowse.policy.agent_commands import CommandError
from cobrowse.wire import envelope as env
from cobrowse.wire.backoff import reconnect_delay

log = logging.getLogger(__name__)
PICK_TIMEOUT = 10.0


class _QueueSocket:
    """A relay connection whose ``queued`` messages go to ``on_queued`` instead of the
    session's pump; everything else passes through untouched."""

    def __init__(self, ws: ClientConnection, on_queued: Callable[[env.Queued], None],
                 on_released: Callable[[], None]) -> None:
        self._ws, self._on_queued, self._on_released = ws, on_queued, on_released

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)

    def _mine(self, raw: Any) -> bool:
        if isinstance(raw, str) and '"released"' in raw:
            self._on_released()  # noticed, and passed on to the session as ever
            return False
        if not isinstance(raw, str) or '"queued"' not in raw:
            return False
        try:
            message = env.decode_relay(raw)
        except env.MalformedMessage:
            return False
        if isinstance(message, env.Queued):
            self._on_queued(message)
            return True
        return False

    async def recv(self) -> Any:
        while True:
            raw = await self._ws.recv()
            if not self._mine(raw):
                return raw

    async def __aiter__(self) -> AsyncIterator[Any]:
        async for raw in self._ws:
            if not self._mine(raw):
                yield raw


class QueuedCustomerLink(RelayLink):
    """The customer's session link while it waits in an organisation's queue."""

    def __init__(self, url: str, *, org: str, topic: str, lang: str, on_queued: Callable[[env.Queued], None],
                 **kw: Any) -> None:
        super().__init__(url, "customer", **kw)
        self.enqueue_message = env.Enqueue(org, topic[:env.MAX_TOPIC], lang[:env.MAX_LANG])
        self.on_queued = on_queued
        #: Set once the customer's client confirmed a verified agent: it no longer queues.
        self.paired = False
        self._requeues: set[asyncio.Task[None]] = set()

    async def _connect(self) -> ClientConnection:
        ws = await super()._connect()
        return _QueueSocket(ws, self.on_queued, self._released)  # type: ignore[return-value]

    async def enqueue(self) -> None:
        if not self.paired:
            await self._control(self.enqueue_message)

    def _released(self) -> None:
        """The agent who picked us was let go (refused, or it left before pairing): the
        relay gives the place back when asked."""
        task = asyncio.ensure_future(self.enqueue())
        self._requeues.add(task)
        task.add_done_callback(self._requeues.discard)

    async def confirm(self) -> None:
        self.paired = True
        await super().confirm()

    async def _reconnect(self) -> LinkEnded | None:
        ended = await super()._reconnect()
        if ended is None:
            await self.enqueue()  # the drop left the queue; the session itself resumed
        return ended

    async def wait_for_pick(self) -> None:
        """Before the session runs (``run``): read the relay until an agent claims the
        session, positions going to ``on_queued``; reconnect on drops. The claim is left
        for the session as the ``peer joined`` it is. Raises RelayRejected or
        RelayUnavailable when the relay ends the session or cannot be reached."""
        while True:
            ws = self._ws
            if ws is None:
                ended = await self._reconnect()
                if ended is not None:
                    raise ended.error or RelayUnavailable(ended.message)
                while not self.items.empty():  # notices of a reconnect nobody saw happen
                    self.items.get_nowait()
                continue
            try:
                raw = await ws.recv()
            except ConnectionClosed:
                self._ws = None
                continue
            if isinstance(raw, bytes):
                continue  # nothing comes before a claim
            try:
                message = env.decode_relay(raw)
            except env.MalformedMessage as exc:
                log.warning("ignoring a malformed message from the relay: %s", exc)
                continue
            if isinstance(message, env.Peer) and message.state == "joined":
                self.claims += 1
                await self.items.put(PeerChanged("joined", None))
                return
            if isinstance(message, env.Closed):
                raise RelayRejected(message.reason, env.describe_close(message.reason))
            if isinstance(message, env.Error) and message.code in env.FATAL_ERROR_CODES:
                raise RelayRejected(message.code, env.describe_error(message.code))
            if isinstance(message, env.Error):
                log.warning("relay: %s", env.describe_error(message.code))


class PickedAgentLink(RelayLink):
    """The agent's session link to a customer it picked: the claim carries the pick's ticket."""

    def __init__(self, url: str, ticket: str, token: str | None = None, **kw: Any) -> None:
        super().__init__(url, "agent", token, **kw)
        self.ticket = ticket

    async def claim(self, nameplate: str, then: Sequence[bytes] = ()) -> None:
        ws = await self._connect()
        reply = await self._request(ws, env.Claim(self.role, PROTOCOL_VERSION, nameplate, self.token, self.ticket),
                                    env.Claimed, then)
        assert isinstance(reply, env.Claimed)
        self._attach(ws, reply.nameplate, reply.side)
        self._deliver_early()
        self.ice_servers = reply.ice_servers


class QueueWatcher:
    """An agent's view of its organisation's queue: ``on_change`` gets every ``queue``
    message; :meth:`pick` holds a customer for this agent. Reconnects on drops."""

    def __init__(self, url: str, org: str, token: str | None, on_change: Callable[[env.QueueList], None], *,
                 proxy: Any = None, on_error: Callable[[str], None] | None = None, reconnect_for: float = 300.0) -> None:
        self._link = RelayLink(url, "agent", token, proxy=proxy)
        self.url, self.org, self.token = url, org, token
        self.on_change = on_change
        self.on_error = on_error or (lambda text: None)
        self.reconnect_for = reconnect_for
        self.latest: env.QueueList | None = None
        self._ws: ClientConnection | None = None
        self._pending: asyncio.Future[env.Picked] | None = None
        self._connected = asyncio.Event()

    async def connect(self) -> None:
        """The first connection: errors (unreachable, unauthorized) raise here."""
        ws = await self._link._connect()
        await ws.send(env.Watch(self.org, PROTOCOL_VERSION, self.token).encode())
        self._ws = ws
        self._connected.set()

    async def run(self) -> None:
        """Read until the relay refuses us for good, reconnecting with back-off."""
        loop = asyncio.get_running_loop()
        while True:
            ws = self._ws
            assert ws is not None
            fatal = await self._pump(ws)
            self._connected.clear()
            self._ws = None
            self._fail_pending("the connection to the relay dropped before the pick was answered")
            if fatal:
                return
            give_up_at, attempt = loop.time() + self.reconnect_for, 0
            while self._ws is None:
                if loop.time() > give_up_at:
                    self.on_error("lost the relay: the queue is no longer watched")
                    return
                await asyncio.sleep(reconnect_delay(attempt, random.random))
                attempt += 1
                try:
                    await self.connect()
                except (RelayUnavailable, RelayRejected):
                    continue

    async def _pump(self, ws: ClientConnection) -> bool:
        try:
            async for raw in ws:
                if isinstance(raw, bytes):
                    continue
                try:
                    message = env.decode_relay(raw)
                except env.MalformedMessage as exc:
                    log.warning("ignoring a malformed queue message from the relay: %s", exc)
                    continue
                if isinstance(message, env.QueueList):
                    if message.org == self.org:
                        self.latest = message
                        self.on_change(message)
                elif isinstance(message, env.Picked):
                    if self._pending is not None and not self._pending.done():
                        self._pending.set_result(message)
                elif isinstance(message, env.Error):
                    text = env.describe_error(message.code)
                    if message.code in env.FATAL_ERROR_CODES:
                        self.on_error(f"the relay refused to show the queue: {text}")
                        return True
                    self._fail_pending(text)
        except ConnectionClosed:
            pass
        return False

    def _fail_pending(self, text: str) -> None:
        if self._pending is not None and not self._pending.done():
            self._pending.set_exception(CommandError(text))

    async def pick(self, entry_id: str) -> env.Picked:
        """Hold that customer for this agent; CommandError if someone was faster (or it left)."""
        if not env.ENTRY_ID.fullmatch(entry_id):
            raise CommandError(f"no customer {entry_id!r} waits in the queue")
        if self._pending is not None and not self._pending.done():
            raise CommandError("a pick is already under way")
        ws = self._ws
        if ws is None:
            raise CommandError("not connected to the relay right now: try again in a moment")
        self._pending = asyncio.get_running_loop().create_future()
        try:
            await ws.send(env.Pick(entry_id).encode())
            async with asyncio.timeout(PICK_TIMEOUT):
                picked = await self._pending
        except ConnectionClosed:
            raise CommandError("the connection to the relay dropped: try again") from None
        except TimeoutError:
            raise CommandError("the relay did not answer the pick in time") from None
        if picked.id != entry_id:
            raise CommandError("the relay answered another pick")
        return picked

    def topic_of(self, entry_id: str) -> str:
        for entry in self.latest.waiting if self.latest is not None else []:
            if entry.get("id") == entry_id:
                return str(entry.get("topic", ""))
        return ""

    async def close(self) -> None:
        ws = self._ws
        self._ws = None
        if ws is not None:
            try:
                async with asyncio.timeout(2):
                    await ws.close()
            except (ConnectionClosed, TimeoutError, OSError):
                pass
