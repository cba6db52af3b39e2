"""What the relay's parts may use of the running relay: its public interface, as a Protocol.

relay/server.py's RelayServer implements it; relay/handler.py (one connection), relay/http.py
(plain HTTP) and relay/nodes.py (the bridge between nodes) depend on this instead of on the
server, so none of them reaches into its internals and no import circle goes through it.
"""

from __future__ import annotations

from typing import Any, Collection, Coroutine, Protocol

from prometheus_client import Histogram

from relay.admission import Admission, Refusal
from relay.config import RelayConfig
from relay.limits import TokenBucket
from relay.metrics import RelayMetrics
from relay.outputs import Outbox
from relay.queue import HelpQueue
from relay.rooms import Output, Rooms


class NodeBridge(Protocol):
    """The bridge of a node of several, as a connection's handler sees it."""

    async def handshake(self, ws: Any, text: str) -> bool: ...

    def forward_pick(self, ws: Any, entry_id: str) -> bool: ...


class RelayHost(Protocol):
    config: RelayConfig
    rooms: Rooms
    queue: HelpQueue
    admission: Admission
    metrics: RelayMetrics
    outbox: Outbox
    draining: bool
    token_digests: frozenset[str]
    control_hist: dict[str, Histogram]

    @property
    def bridge(self) -> NodeBridge | None: ...

    def now(self) -> float: ...

    async def control(self, ws: Any, data: str, *, nameplate: str | None = None) -> bool: ...

    async def apply(self, out: Output, me: Any) -> bool: ...

    def apply_later(self, out: Output, bound: float = 10.0) -> None: ...

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None: ...

    async def throttle(self, bucket: TokenBucket, size: int) -> None: ...

    def close_clients(self, code: int, reason: str, bound: float, except_for: Collection[Any] = ()) -> None: ...

    def refused(self, refusal: Refusal, address: str) -> None: ...

    def health(self) -> dict[str, Any]: ...

    def admin_sessions(self) -> list[dict[str, Any]]: ...

    def admin_kill(self, session_id: str) -> bool: ...
