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
"""

from __future__ import annotations


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


def bucket_for(rate: int, max_frame_bytes: int, now: float) -> TokenBucket | None:
    """The bucket a connection gets under these settings (None when the limit is off)."""
    if rate <= 0:
        return None
    return TokenBucket(rate, max(rate, max_frame_bytes), now)
