"""The relay's websocket connection: admission before anything is read, and a note of when
its send buffer goes over the limit (slow consumers)."""

from __future__ import annotations

from typing import Any, Callable

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
