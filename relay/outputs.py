"""Applying what the rooms decided (:class:`relay.rooms.Output`) to sockets.

Sends go out in order and inline in the handler of the connection that caused them: they
only reach this session's two sockets, and websockets writes a frame before its first
await, so a control message can never be overtaken by a binary frame forwarded after it.
Closes of other sockets (which wait for a close handshake) run as tasks; the handler's own
close is awaited after its loop. Outputs of the tick or of a drop run as one task per
socket, order kept per socket. Keys are websocket connections or anything with the same
``send``/``close``/``transport`` (the cluster's RemoteConn).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any, Callable, Coroutine

from websockets.exceptions import ConnectionClosed

from cobrowse.wire.envelope import Message
from relay.rooms import Event, Key, Output


class Outbox:
    """Sends and closes for one relay; ``observe`` sees every output's events first."""

    def __init__(self, observe: Callable[[list[Event]], None]) -> None:
        self._observe = observe
        self.tasks: set[asyncio.Task[None]] = set()

    async def apply(self, out: Output, me: Any) -> bool:
        """Apply an output in ``me``'s handler; True if it closes ``me``."""
        return await self.close_me(me, await self.send_all(out, me))

    async def send_all(self, out: Output, me: Any) -> tuple[int, str] | None:
        """Events, then every send in order, then other sockets' closes (as tasks); returns
        ``me``'s own close (code, reason) if there is one, for :meth:`close_me`."""
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
                self.spawn(self.close_one(key, [], code, reason))
        return closing_me

    @staticmethod
    async def close_me(me: Any, closing_me: tuple[int, str] | None) -> bool:
        if closing_me is not None:
            await me.close(*closing_me)
            return True
        return False

    def apply_later(self, out: Output, bound: float = 10.0) -> None:
        """Apply an output from the tick or a drop: one task per socket, order kept per socket."""
        if out.events:
            self._observe(out.events)
        per_conn: dict[Key, list[Message]] = defaultdict(list)
        for key, msg in out.send:
            per_conn[key].append(msg)
        closes = {key: (code, reason) for key, code, reason in out.close}
        for key in list(per_conn) + [k for k in closes if k not in per_conn]:
            code, reason = closes.get(key) or (None, "")
            self.spawn(self.close_one(key, per_conn.get(key, []), code, reason, bound=bound))

    async def close_one(self, ws: Any, messages: list[Message], code: int | None, reason: str,
                        bound: float = 10.0) -> None:
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

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
