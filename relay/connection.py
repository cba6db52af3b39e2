"""The relay's websocket connection: admission before anything is read, a note of when its
send buffer goes over the limit (slow consumers), and the data frames' fast path.

The fast path: once a side is paired, its handler (relay/handler.py) sets ``forward``, and
each complete binary frame is handed to it as websockets parses it, in the socket's read
callback, instead of waking the handler's ``recv()`` and the peer's ``send()`` (a future, a
task step, a lock-like context manager per frame: ~30% of the relay's CPU per frame). It
is taken only when nothing could tell the difference: the handler waits in ``recv()`` with
no frame queued (so order is kept), the frame fits the byte rate without waiting, and the
peer's socket is open and not over its write limit; anything else takes the handler's
path, which applies every limit as before. It reads a few attributes of websockets' asyncio
connection that are not its documented API (the frame queue, the write-limit flag, the
sans-I/O protocol); ``fast_path_ready`` checks them per connection, so a websockets release
that changes them turns the fast path off instead of breaking the relay
(tests/relay/test_fast_path.py says when that happens)."""

from __future__ import annotations

from typing import Any, Callable

from websockets.frames import Opcode
from websockets.protocol import OPEN

from websockets.asyncio.server import ServerConnection

from relay.addresses import address_key
from relay.admission import Admission, Refusal
from relay.http import early_refusal


def connection_class(
    admission: Admission, stalled: dict[ServerConnection, float], clock: Callable[[], float],
    refused: Callable[[Refusal, str], None], *, known_address: bool,
) -> type[ServerConnection]:
    """A ServerConnection that asks ``admission`` for room as its socket is accepted (a refusal
    is written as plain HTTP before websockets sees a byte) and records in ``stalled`` since
    when its send buffer is over the limit. ``known_address``: the socket's peer is the client
    (false behind a trusted proxy: the address comes in a header, checked at the upgrade)."""

    class RelayConnection(ServerConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.refused_early = False
            #: The fast path for data frames, set by the handler (True: forwarded).
            self.forward: Callable[[bytes], bool] | None = None

        def fast_path_ready(self) -> bool:
            """Whether this websockets release has what the fast path uses beyond its public
            API (the frame queue, the write-limit flag, the sans-I/O protocol): if a release
            changes them, the fast path stays off and every frame takes the handler's loop."""
            messages = getattr(self, "recv_messages", None)
            return (isinstance(getattr(messages, "get_in_progress", None), bool)
                    and hasattr(getattr(messages, "frames", None), "queue")
                    and isinstance(getattr(self, "paused", None), bool) and hasattr(self, "send_in_progress")
                    and callable(getattr(getattr(self, "protocol", None), "send_binary", None))
                    and callable(getattr(self, "send_data", None)) and callable(getattr(self, "set_connection_exc", None))
                    and callable(getattr(self, "drain", None)))

        def install_fast_path(self, forward: Callable[[bytes], bool] | None) -> None:
            """The handler's ``forward`` (None: off again), if this websockets allows it."""
            self.forward = forward if forward is None or self.fast_path_ready() else None

        def process_event(self, event: Any) -> None:
            forward = self.forward
            if (forward is not None and event.opcode is Opcode.BINARY and event.fin
                    and self.recv_messages.get_in_progress and not self.recv_messages.frames.queue):
                data = event.data
                if forward(data if data.__class__ is bytes else bytes(data)):
                    return
            super().process_event(event)

        async def writable(self) -> None:
            """Wait while the send buffer is over the write limit: what ``send()`` of the frame
            before would have waited for, had the fast path not written it."""
            if self.paused:
                try:
                    await self.drain()
                except Exception:  # the connection is lost: the send() that follows says so
                    pass

        def send_now(self, data: bytes) -> bool:
            """Write one binary frame at once if ``send()`` would not have to wait (open, under
            the write limit, no fragmented message going out); False: use ``send()``."""
            if self.protocol.state is not OPEN or self.paused or self.send_in_progress is not None:
                return False
            self.protocol.send_binary(data)
            try:
                self.send_data()
            except Exception as exc:  # as websockets' own read callback: the connection fails
                self.set_connection_exc(exc)
            return True

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
