"""The relay connection kept open while ``cobrowse join`` asks for the code.

``cobrowse join`` with no code on a terminal asks for it (cobrowse.cli.code_prompt) and,
while the person types, connects to the relay and upgrades to a websocket, so that pressing
Enter sends the claim at once. Nothing is sent on that connection before the claim: the relay
sees a connection that has not claimed yet, as it sees every claimant for a moment.

A relay closes a socket that has not opened, claimed or resumed within its
``handshake_timeout`` (10 s by default) and people take longer than that to type a code read
over the phone, so the kept connection is replaced every :data:`REFRESH` s (the new one made
first, then the old one closed by us); when the relay closed one sooner (a shorter timeout),
the next ones are replaced at half the time it lasted. A refresh that fails keeps what it had;
:func:`take` hands over only an open connection, otherwise the claim connects as it always
did and reports its own errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Awaitable, Callable

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

logger = logging.getLogger(__name__)

#: Seconds a kept connection lives before it is replaced (the relay's default limit is 10).
REFRESH = 5.0
#: The shortest refresh, whatever a relay's limit (its connect rate limit is 5 a second).
MIN_REFRESH = 0.5
#: How long closing a replaced connection may take.
CLOSE_WAIT = 2.0

Connect = Callable[[], Awaitable["ClientConnection"]]


class Ahead:
    """One relay URL's kept connection: :meth:`start` makes the first (raising what connecting
    raised: the relay down is said at once), then a task keeps it fresh until :meth:`take`."""

    def __init__(self, url: str, connect: Connect) -> None:
        self.url = url
        self.refresh = REFRESH
        self._connect = connect
        self._ws: ClientConnection | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._ws = await self._connect()
        self._keeper = asyncio.ensure_future(self._keep(self._ws))

    async def _keep(self, ws: ClientConnection) -> None:
        loop = asyncio.get_running_loop()
        born = loop.time()
        while True:
            closed = asyncio.ensure_future(ws.wait_closed())
            try:
                await asyncio.wait({closed}, timeout=max(0.0, born + self.refresh - loop.time()))
            finally:
                closed.cancel()
            if ws.state.name != "OPEN":  # the relay closed it first: its limit is shorter than ours
                self.refresh = max(MIN_REFRESH, min(self.refresh, (loop.time() - born) / 2))
            try:
                fresh = await self._connect()
            except Exception as exc:  # keep what we have; the claim connects itself if it is gone
                logger.debug("refreshing the relay connection failed: %s", exc)
                born = loop.time()
                continue
            old, ws, self._ws, born = ws, fresh, fresh, loop.time()
            self._close_later(old)

    def _close_later(self, ws: ClientConnection) -> None:
        async def close() -> None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_WAIT):
                    await ws.close()

        task = asyncio.ensure_future(close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def take(self) -> ClientConnection | None:
        """The kept connection if it is open (once); keeping stops either way."""
        self._stop()
        ws, self._ws = self._ws, None
        if ws is not None and ws.state.name != "OPEN":
            self._close_later(ws)
            return None
        return ws

    def _stop(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            self._keeper = None

    async def close(self) -> None:
        """Nobody will claim: close what is kept (bounded)."""
        self._stop()
        ws, self._ws = self._ws, None
        if ws is not None:
            self._close_later(ws)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


_kept: Ahead | None = None


async def keep(url: str, connect: Connect) -> Ahead:
    """Connect to ``url`` now and keep the connection for the next claim to it (:func:`take`);
    raises what connecting raised."""
    global _kept
    ahead = Ahead(url, connect)
    await ahead.start()
    if _kept is not None:
        await _kept.close()
    _kept = ahead
    return ahead


def take(url: str) -> ClientConnection | None:
    """The connection kept for ``url`` if one is open (once), else None: the caller connects."""
    global _kept
    ahead, _kept = _kept, None
    if ahead is None:
        return None
    if ahead.url != url:
        asyncio.ensure_future(ahead.close())
        return None
    return ahead.take()


async def forget() -> None:
    """Close a kept connection nobody took (the person left the prompt; tests)."""
    global _kept
    ahead, _kept = _kept, None
    if ahead is not None:
        await ahead.close()
