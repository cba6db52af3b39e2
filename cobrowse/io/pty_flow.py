"""One flow-controlled write queue for a non-blocking file descriptor.

Both directions of plain mode need the same thing: keys going into the shared program's
pty (which may stop reading its input) and the program's output going to the customer's
stdout (a pipe into ``less``, a stalled ssh link). In both, the right answer to a slow
reader is to stop the *producer* (``set_flow_control(pause, resume)``, as asyncio
protocols do) rather than to buffer without bound: each queue holds at most about
``high_water`` plus one chunk.

What differs between the two is only how one write is attempted (the terminal waits a
few milliseconds for a busy tty, the pty never waits) and where the producer is resumed,
so those are parameters and the bookkeeping lives here once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

__all__ = ["HIGH_WATER", "READ_SIZE", "Callback", "WriteQueue", "WriteSome"]

logger = logging.getLogger(__name__)

#: Bytes asked for per read(2). Linux ptys return about 4 KiB per read whatever we ask;
#: asking for more costs nothing and lets pipes and other systems give bigger chunks.
READ_SIZE = 64 * 1024
#: Default write-buffer bound above which the producer is paused.
HIGH_WATER = 64 * 1024

Callback = Callable[[], None]
#: ``write_some(fd, data, max_block)``: bytes of ``data`` taken by ``fd`` (``len(data)`` when
#: the rest is to be dropped because the fd is broken); may wait up to ``max_block`` seconds.
WriteSome = Callable[[int, bytes | bytearray, float], int]


class WriteQueue:
    """Bytes for one fd: written at once when it takes them, else queued until it is writable.

    ``write_some`` does one attempt (it owns error handling: return ``len(data)`` to drop).
    Above ``high_water`` queued bytes the ``pause`` callback runs; at or below ``low_water``
    ``resume`` runs and :meth:`drain` waiters wake.
    """

    def __init__(self, fd: int | None, write_some: WriteSome, *, high_water: int, low_water: int) -> None:
        self.fd = fd
        self._write_some = write_some
        self.high_water = high_water
        self.low_water = low_water
        #: The bytes waiting, in order. Read-only for others: a caller's own fast path may write
        #: straight to the fd only while it is empty (else its bytes would overtake these).
        self.queued = bytearray()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writing = False  # add_writer is active
        self._paused = False  # we told the producer to pause
        self._flow: tuple[Callback, Callback] | None = None
        self._drain_waiters: list[asyncio.Future[None]] = []
        #: Largest number of bytes ever waiting in the queue (for tests and statistics).
        self.max_buffered = 0

    @property
    def buffered(self) -> int:
        """Bytes accepted but not yet taken by the fd."""
        return len(self.queued)

    def set_flow_control(self, pause: Callback | None, resume: Callback | None) -> None:
        """Who to pause while the fd does not take bytes fast enough."""
        self._flow = (pause, resume) if pause is not None and resume is not None else None

    def write(self, data: bytes, max_block: float = 0.0) -> None:
        """Write ``data`` now if the fd takes it (waiting at most ``max_block``), else queue the rest."""
        fd = self.fd
        if not data or fd is None:
            return
        if self.queued:
            self.queued += data
        else:
            n = self._write_some(fd, data, max_block)
            if n >= len(data):
                return
            self.queued += memoryview(data)[n:]
        if len(self.queued) > self.max_buffered:
            self.max_buffered = len(self.queued)
        if not self._writing:
            self._loop = self._loop or asyncio.get_running_loop()
            self._loop.add_writer(fd, self._write_ready)
            self._writing = True
        if not self._paused and len(self.queued) > self.high_water:
            self._paused = True
            if self._flow is not None:
                self._flow[0]()

    def _write_ready(self) -> None:
        fd = self.fd
        if fd is None:
            return
        try:
            del self.queued[: self._write_some(fd, self.queued, 0.0)]
        except Exception:  # never leave a writer callback failing in a loop
            logger.exception("writing to fd %d failed; dropping %d bytes", fd, len(self.queued))
            self.queued.clear()
        if not self.queued:
            self._stop_writer()
        self._maybe_resume()

    def _stop_writer(self) -> None:
        if self._writing and self._loop is not None and self.fd is not None:
            self._loop.remove_writer(self.fd)
        self._writing = False

    def _maybe_resume(self) -> None:
        if len(self.queued) > self.low_water:
            return
        if self._paused:
            self._paused = False
            if self._flow is not None:
                self._flow[1]()
        waiters, self._drain_waiters = self._drain_waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def drain(self) -> None:
        """Wait until at most ``low_water`` bytes are queued (or the queue is closed)."""
        if len(self.queued) <= self.low_water or self.fd is None:
            return
        fut = asyncio.get_running_loop().create_future()
        self._drain_waiters.append(fut)
        await fut

    def flush_blocking(self, timeout: float) -> None:
        """Push out what is queued, waiting at most ``timeout`` seconds in all; drop the rest."""
        fd = self.fd
        if fd is None or not self.queued:
            return
        deadline = time.monotonic() + timeout
        while self.queued:
            left = deadline - time.monotonic()
            if left <= 0:
                logger.debug("dropping %d queued bytes at exit", len(self.queued))
                break
            del self.queued[: self._write_some(fd, self.queued, left)]
        self.queued.clear()

    def close(self) -> None:
        """Forget the fd (the owner closes it) and what is queued; the producer resumes."""
        self._stop_writer()
        self.fd = None
        self.queued.clear()
        self._maybe_resume()
