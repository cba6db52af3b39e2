"""The relay's websocket connection: admission before anything is read, a note of when its
send buffer goes over the limit (slow consumers), and the data frames' fast path.

The fast path: once a side is paired, its handler (relay/handler.py) sets ``forward``, and
each whole binary frame is forwarded from the socket's read callback (``data_received``)
instead of going through websockets' frame queue, the handler's ``recv()`` (a future, a
task step) and the peer's ``send()``. The frames are found by :class:`relay.wsframes.Splitter`,
which follows the connection's bytes from the first one, so websockets only ever gets
whole frames (or the rest of one it has the start of) and its parser never loses its
place; the peer's frame is written to its transport as RFC 6455 bytes. Only websockets'
public API is used: the ``create_connection`` subclass, the asyncio ``Protocol`` callbacks
it implements, ``state``, ``recv()``. A frame takes it only when nothing could tell the
difference: no message of this connection still waits for the handler (order is kept:
control messages and anything queued go the old way), the frame is within
``max_frame_bytes`` and the byte rate without waiting, the peer is a local socket, open and
under its write limit; anything else takes the handler's loop, which applies every limit.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from websockets.asyncio.server import ServerConnection
from websockets.protocol import State

from relay.addresses import address_key
from relay.admission import Admission, Refusal
from relay.http import early_refusal
from relay.wsframes import Splitter, binary_frame

#: Larger binary frames take the handler's loop: the splitter holds a frame back until it
#: is whole, and holding a large one that arrives in many reads would copy it many times.
FAST_PAYLOAD_MAX = 64 * 1024


def connection_class(
    admission: Admission, stalled: dict[ServerConnection, float], clock: Callable[[], float],
    refused: Callable[[Refusal, str], None], *, known_address: bool, max_frame_bytes: int,
) -> type[ServerConnection]:
    """A ServerConnection that asks ``admission`` for room as its socket is accepted (a refusal
    is written as plain HTTP before websockets sees a byte) and records in ``stalled`` since
    when its send buffer is over the limit. ``known_address``: the socket's peer is the client
    (false behind a trusted proxy: the address comes in a header, checked at the upgrade).
    ``max_frame_bytes``: larger binary frames never take the fast path (nor any over
    FAST_PAYLOAD_MAX)."""

    OPEN = State.OPEN
    fast_max = min(max_frame_bytes, FAST_PAYLOAD_MAX)

    class RelayConnection(ServerConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.refused_early = False
            #: The fast path for data frames, set by the handler once paired (True: forwarded).
            self.forward: Callable[[bytes], bool] | None = None
            self.splitter = Splitter(fast_max)
            self.received = 0  # messages recv() returned (the splitter counts those given to websockets)
            self.fast_frames = 0  # binary frames forwarded from the read callback (tests, figures)
            self.write_paused = False
            self._drained: asyncio.Future[None] | None = None  # made on demand: an idle socket stays small
            self._raw: asyncio.Transport | None = None

        async def recv(self, decode: bool | None = None) -> Any:
            data = await super().recv(decode)
            self.received += 1
            return data

        def data_received(self, data: bytes) -> None:
            if self.refused_early:
                return
            forward = self.forward
            splitter = self.splitter
            for raw, payload in splitter.feed(data, forward is not None and self.state is OPEN):
                if payload is not None:
                    if (forward is not None and splitter.messages_given == self.received
                            and self.state is OPEN and forward(payload)):
                        self.fast_frames += 1
                        continue
                    splitter.declined()
                super().data_received(raw)

        def send_now(self, payload: bytes) -> bool:
            """Write one binary frame at once if ``send()`` would not have waited (open, under
            the write limit); False: use ``send()``."""
            transport = self._raw
            if self.write_paused or transport is None or transport.is_closing() or self.state is not OPEN:
                return False
            transport.write(binary_frame(payload))
            return True

        async def writable(self) -> None:
            """Until the send buffer is under the write limit again (or the socket is gone)."""
            while self.write_paused:
                if self._drained is None:
                    self._drained = asyncio.get_running_loop().create_future()
                await asyncio.shield(self._drained)

        def _wake_writers(self) -> None:
            drained, self._drained = self._drained, None
            if drained is not None and not drained.done():
                drained.set_result(None)

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
                transport.write(early_refusal(verdict.refusal))
                transport.close()
                return
            self._raw = transport
            super().connection_made(transport)

        def pause_writing(self) -> None:
            super().pause_writing()
            self.write_paused = True
            stalled[self] = clock()

        def resume_writing(self) -> None:
            super().resume_writing()
            self.write_paused = False
            self._wake_writers()
            stalled.pop(self, None)

        def connection_lost(self, exc: Exception | None) -> None:
            if self.refused_early:
                return
            self.forward = None  # the handler's closure holds this socket: break the cycle
            self.write_paused = False
            self._wake_writers()
            stalled.pop(self, None)
            admission.closed(self)
            super().connection_lost(exc)

    return RelayConnection
