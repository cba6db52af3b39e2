"""Per-connection byte rate limit: a token bucket that answers "wait this long".

The server calls :meth:`TokenBucket.take` after each forwarded frame; a positive answer
means the connection is over its rate, and the server stops reading from that socket for
that long. Not reading is the back-pressure: websockets stops reading the TCP socket once
its small receive queue is full, the kernel buffers fill, and the sender's own writes
block. Nothing is buffered without bound on the relay and nothing is dropped.

The bucket holds ``burst`` bytes (at least one largest frame, so a legal frame always
passes) and refills at ``rate`` bytes per second. It may go into debt by one frame: the
frame that crosses the line is forwarded, and the wait pays the debt back. Pure: ``now``
comes in, nothing reads a clock.

:func:`derive_limits` sizes the admission limits (:mod:`relay.admission`) from the machine:
the descriptors RLIMIT_NOFILE allows and the memory available, read by the server.
"""

from __future__ import annotations

from dataclasses import dataclass


class TokenBucket:
    __slots__ = ("rate", "burst", "tokens", "last")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("rate and burst must be positive")
        self.rate = float(rate)
        self.burst = float(burst)
        self.tokens = float(burst)
        self.last = now

    def take(self, size: int, now: float) -> float:
        """Spend ``size`` bytes at ``now``; return how many seconds to wait (0.0: none)."""
        tokens = self.tokens + (now - self.last) * self.rate
        if tokens > self.burst:
            tokens = self.burst
        tokens -= size
        self.tokens = tokens
        self.last = now
        return -tokens / self.rate if tokens < 0 else 0.0

    def fits(self, size: int, now: float) -> bool:
        """Whether ``take(size, now)`` would return 0.0 (nothing spent: a look before a take)."""
        return min(self.tokens + (now - self.last) * self.rate, self.burst) >= size


def bucket_for(rate: int, max_frame_bytes: int, now: float) -> TokenBucket | None:
    """The bucket a connection gets under these settings (None when the limit is off)."""
    if rate <= 0:
        return None
    return TokenBucket(rate, max(rate, max_frame_bytes), now)


# ---- how many sockets and sessions a node admits (relay/admission.py enforces them) ----

FD_MARGIN = 64  # descriptors never given to sockets: listeners, logs, the audit log, Redis, the token store
# asyncio accepts up to ACCEPT_BATCH connections per wake-up, and a few wake-ups may pass before
# admission sees (or refuses) them: ACCEPT_RESERVE descriptors more are kept free, so accept()
# never meets EMFILE (asyncio would then stop accepting for a second and log a traceback per
# failed accept: the outage the issue measured).
ACCEPT_BATCH = 64
ACCEPT_RESERVE = 6 * ACCEPT_BATCH
BYTES_PER_CONNECTION = 64 * 1024  # an idle side costs ~20 KB (bench/relay_capacity.py); room for buffers


@dataclass(frozen=True)
class Limits:
    """The admission limits one node runs with, after the ``0 = derive it`` settings are sized.

    ``sockets`` is the hard ceiling of open client sockets (below RLIMIT_NOFILE, so accept()
    never fails with EMFILE); sockets that hold a side of a session may use ``attached`` of
    them, anonymous opens ``anonymous``; the gap between ``attached`` and ``sockets`` is the
    room /healthz, /metrics, the admin endpoint and any new connection's first request always
    find (the oldest socket that holds no session is dropped to make it).
    """

    sockets: int
    attached: int
    anonymous: int
    per_address: int
    connect_rate: float
    connect_burst: int
    open_rate: float
    open_burst: int
    unpaired_per_address: int
    max_unpaired: int
    token_factor: int

    def describe(self) -> str:
        return (
            f"sockets {self.sockets} (sessions {self.attached}, anonymous {self.anonymous}), "
            f"per address {self.per_address} sockets, {self.connect_burst} connections then {self.connect_rate:g}/s, "
            f"{self.open_burst} opens then {self.open_rate:g}/s, "
            f"{self.unpaired_per_address} unpaired; {self.max_unpaired} unpaired in all; "
            f"agents with a token x{self.token_factor}"
        )


def derive_limits(
    *,
    nofile: int,
    mem_available: int | None,
    max_connections: int,
    reserved_connections: int,
    connections_per_address: int,
    connect_rate: float,
    connect_burst: int,
    open_rate: float,
    open_burst: int,
    unpaired_per_address: int,
    max_unpaired: int,
    token_factor: int,
    max_sessions: int,
) -> Limits:
    """Size the limits from the machine: ``nofile`` is RLIMIT_NOFILE's soft limit and
    ``mem_available`` the bytes the kernel says are available (None: unknown). A setting
    of 0 means "derive it"; explicit settings are still held under what the machine allows.
    """
    ceiling = max(16, nofile - FD_MARGIN - ACCEPT_RESERVE)
    if mem_available is not None:
        ceiling = min(ceiling, max(16, mem_available // 2 // BYTES_PER_CONNECTION))
    sockets = min(max_connections, ceiling) if max_connections else ceiling
    reserve = reserved_connections or max(8, min(1024, sockets // 16))
    reserve = min(reserve, sockets // 2)
    attached = sockets - reserve
    anonymous = attached - max(1, reserve // 2)
    per_address = connections_per_address or max(16, sockets // 100)
    unpaired_all = max_unpaired or max(16, anonymous // 2)
    return Limits(
        sockets=sockets,
        attached=attached,
        anonymous=anonymous,
        per_address=per_address,
        connect_rate=connect_rate,
        connect_burst=connect_burst or per_address,
        open_rate=open_rate,
        open_burst=open_burst,
        unpaired_per_address=unpaired_per_address,
        max_unpaired=min(unpaired_all, max_sessions),
        token_factor=token_factor,
    )
