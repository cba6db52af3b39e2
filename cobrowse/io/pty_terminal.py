"""The customer's own terminal in plain mode: raw stdin, stdout, its size and SIGWINCH.

Output is written with a :class:`~cobrowse.io.pty_flow.WriteQueue`: when stdout is slow (a
pipe into ``less``, a stalled ssh link) the producer (the pty reader) is paused, so the
kernel blocks the shared program instead of cobrowse buffering without bound.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import select
import signal
import stat
import struct
import sys
import termios
import time
import tty
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from cobrowse.io.pty_flow import HIGH_WATER, READ_SIZE, Callback, WriteQueue
from cobrowse.io.pty_process import DEFAULT_SIZE

__all__ = ["MAX_BLOCK", "LocalTerminal", "terminal_hung_up"]

logger = logging.getLogger(__name__)

#: How long one write to stdout may wait for a busy terminal before buffering (see LocalTerminal).
MAX_BLOCK = 0.010


def get_winsize(fd: int) -> tuple[int, int] | None:
    """(cols, rows) of the tty on ``fd``, or None when it is not a tty or reports 0x0."""
    try:
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    except OSError:
        return None
    if cols <= 0 or rows <= 0:
        return None
    return cols, rows


def terminal_hung_up(fd: int) -> bool:
    """True once the terminal on ``fd`` hung up (its window closed: the pty's master side is
    gone), without reading from it: for a front end whose input thread belongs to a framework."""
    poller = select.poll()
    poller.register(fd, select.POLLHUP)  # POLLHUP, POLLERR and POLLNVAL are reported anyway
    try:
        return any(events & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, events in poller.poll(0))
    except OSError:
        return True


class _OutputFd:
    """How we write to stdout: a private non-blocking open of it when possible.

    Setting O_NONBLOCK on fd 1 itself would change the open file description we share with
    stderr and the parent shell (which then sees EAGAIN after we exit). Opening the same
    tty or pipe again gives a description of our own. Regular files and devices like
    /dev/null never block, and for the rest (sockets, other systems' pipes) we write
    blocking: the loop then waits for the reader, which is the back-pressure we want anyway.
    """

    def __init__(self, fd: int, nonblocking: bool | None) -> None:
        self.fd = fd
        self.owned = False
        self.nonblocking = False
        if nonblocking is False:
            return
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            return
        if stat.S_ISREG(mode) or (stat.S_ISCHR(mode) and not os.isatty(fd)):
            return
        flags = os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
        candidates = []
        if sys.platform.startswith("linux"):
            candidates.append(f"/proc/self/fd/{fd}")
        if os.isatty(fd):
            candidates.append(os.ttyname(fd))
        for path in candidates:
            try:
                new = os.open(path, flags)
            except OSError:
                continue
            a, b = os.fstat(fd), os.fstat(new)
            if (a.st_dev, a.st_ino, a.st_rdev) == (b.st_dev, b.st_ino, b.st_rdev):
                self.fd, self.owned, self.nonblocking = new, True, True
                return
            os.close(new)
        if nonblocking:
            logger.debug("cannot reopen fd %d non-blocking; writing it blocking", fd)

    def close(self) -> None:
        if self.owned:
            self.owned = False
            os.close(self.fd)


class LocalTerminal:
    """The customer's own terminal in plain mode (stdin, stdout, size, SIGWINCH).

    A context manager: on entry stdin is put in raw mode if (and only if) it is a tty and
    ``raw`` is true, like ssh does, so every key (Ctrl-C, Ctrl-Z, Ctrl-]) reaches us as a
    byte; on exit, whatever happened, pending output gets a bounded flush and the saved
    terminal settings are put back.

    Output (:meth:`write`) goes straight to stdout with os.write, on a private non-blocking
    open of it where possible (see ``_OutputFd``). When stdout is momentarily full, a write
    waits for it, but at most ``max_block`` seconds; after that the rest is buffered, the
    ``pause`` flow callback stops the producer (the pty reader) and ``resume`` restarts it
    once everything is written. Why wait at all: measured on Linux, handing every EAGAIN to
    the event loop made `cat` of 100 MB through cobrowse to a terminal ~25% slower than a
    blocking write (a tty only reports writable once its buffer is nearly empty, so the
    reader runs dry at each hand-off); a short bounded wait is as fast as blocking and still
    keeps the loop alive when the terminal stalls (a frozen ssh link, a pipe into `less`).
    """

    def __init__(
        self,
        stdin_fd: int = 0,
        stdout_fd: int = 1,
        *,
        raw: bool = True,
        nonblocking_output: bool | None = None,
        high_water: int = HIGH_WATER,
        max_block: float = MAX_BLOCK,
        exit_flush_timeout: float = 1.0,
    ) -> None:
        self.stdin_fd = stdin_fd
        self.stdout_fd = stdout_fd
        self._raw_wanted = raw
        self._nonblocking_output = nonblocking_output
        self.max_block = max_block
        self._poll: select.poll | None = None
        self.exit_flush_timeout = exit_flush_timeout
        self._saved_attrs: list[Any] | None = None
        self._out: _OutputFd | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._output = WriteQueue(None, self._write_some, high_water=high_water, low_water=0)
        self.output_broken = False
        self._on_input: Callable[[bytes], None] | None = None
        self._on_input_eof: Callback | None = None
        self._in_paused = False
        self._in_reader = False  # add_reader active on stdin
        self._in_thread_task: asyncio.Task[None] | None = None
        self._in_thread_resume: asyncio.Event | None = None
        self._in_eof = False
        self._resize_callbacks: list[Callable[[int, int], None]] = []
        self._winch_installed = False
        self._stdin_tty: bool | None = None

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def stdin_is_tty(self) -> bool:
        """Whether stdin is (or was, before it hung up: a hung-up tty stops answering) a terminal."""
        if self._stdin_tty is None:
            self._stdin_tty = os.isatty(self.stdin_fd)
        return self._stdin_tty

    @property
    def raw(self) -> bool:
        """True while we hold stdin in raw mode."""
        return self._saved_attrs is not None

    def __enter__(self) -> Self:
        self._stdin_tty = os.isatty(self.stdin_fd)
        self._out = _OutputFd(self.stdout_fd, self._nonblocking_output)
        self._output.fd = self._out.fd
        if self._out.nonblocking:
            self._poll = select.poll()
            self._poll.register(self._out.fd, select.POLLOUT)
        if self._raw_wanted and os.isatty(self.stdin_fd):
            try:
                self._saved_attrs = termios.tcgetattr(self.stdin_fd)
                # TCSADRAIN as ssh does: output already written keeps its old processing, and
                # typed-ahead input is kept rather than flushed.
                tty.setraw(self.stdin_fd, termios.TCSADRAIN)
            except BaseException:
                self._restore()
                self._out.close()
                raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop everything and restore the terminal. Idempotent; never leaves raw mode on."""
        try:
            self.stop_reading()
            self._remove_winch()
            self._flush_blocking(self.exit_flush_timeout)
        finally:
            try:
                self._restore()
            finally:
                if self._out is not None:
                    self._output.close()
                    self._out.close()
                    self._out = None

    def _restore(self) -> None:
        if self._saved_attrs is None:
            return
        attrs, self._saved_attrs = self._saved_attrs, None
        try:
            termios.tcsetattr(self.stdin_fd, termios.TCSADRAIN, attrs)
        except (termios.error, OSError) as exc:  # the terminal is gone: nothing to restore
            logger.debug("could not restore terminal settings: %s", exc)

    # -- size ----------------------------------------------------------------------------

    def size(self) -> tuple[int, int]:
        """(cols, rows): from the stdout tty, else the stdin tty, else $COLUMNS/$LINES, else 80x24."""
        for fd in (self.stdout_fd, self.stdin_fd):
            got = get_winsize(fd)
            if got is not None:
                return got
        try:
            cols = int(os.environ["COLUMNS"])
            rows = int(os.environ["LINES"])
            if cols > 0 and rows > 0:
                return cols, rows
        except (KeyError, ValueError):
            pass
        return DEFAULT_SIZE

    def on_resize(self, callback: Callable[[int, int], None]) -> Callback:
        """Call ``callback(cols, rows)`` on every SIGWINCH; returns an unsubscribe function.

        Uses ``loop.add_signal_handler`` (main thread only), so this object owns SIGWINCH
        for the loop while anyone is subscribed.
        """
        self._resize_callbacks.append(callback)
        if not self._winch_installed:
            asyncio.get_running_loop().add_signal_handler(signal.SIGWINCH, self._on_winch)
            self._loop = asyncio.get_running_loop()
            self._winch_installed = True

        def unsubscribe() -> None:
            if callback in self._resize_callbacks:
                self._resize_callbacks.remove(callback)
            if not self._resize_callbacks:
                self._remove_winch()

        return unsubscribe

    def _on_winch(self) -> None:
        cols, rows = self.size()
        for cb in list(self._resize_callbacks):
            try:
                cb(cols, rows)
            except Exception:
                logger.exception("resize callback failed")

    def _remove_winch(self) -> None:
        if self._winch_installed:
            self._winch_installed = False
            try:
                asyncio.get_running_loop().remove_signal_handler(signal.SIGWINCH)
            except RuntimeError:  # no running loop (closed outside it): the loop is gone anyway
                if self._loop is not None and not self._loop.is_closed():
                    self._loop.remove_signal_handler(signal.SIGWINCH)

    # -- input ---------------------------------------------------------------------------

    def start_reading(self, on_input: Callable[[bytes], None], on_eof: Callback | None = None) -> None:
        """Read stdin in chunks of up to 64 KiB and hand each to ``on_input``.

        ``on_eof`` is called once when stdin ends (a pipe closed, the terminal hung up).
        stdin is not switched to non-blocking (that would leak to the parent shell): we read
        once per readiness event, which never blocks. Files and /dev/null, which the
        selector refuses, are read by a worker thread.
        """
        self._loop = asyncio.get_running_loop()
        self._on_input = on_input
        self._on_input_eof = on_eof
        self._in_paused = False
        try:
            self._loop.add_reader(self.stdin_fd, self._stdin_ready)
            self._in_reader = True
        except (PermissionError, ValueError, OSError):
            self._in_thread_resume = asyncio.Event()
            self._in_thread_resume.set()
            self._in_thread_task = self._loop.create_task(self._thread_read_loop())

    def stop_reading(self) -> None:
        if self._in_reader and self._loop is not None:
            self._loop.remove_reader(self.stdin_fd)
        self._in_reader = False
        if self._in_thread_task is not None:
            self._in_thread_task.cancel()
            self._in_thread_task = None
        self._on_input = None

    def pause_reading(self) -> None:
        """Stop taking keys (used while the pty does not take its input)."""
        if self._in_paused:
            return
        self._in_paused = True
        if self._in_reader and self._loop is not None:
            self._loop.remove_reader(self.stdin_fd)
            self._in_reader = False
        if self._in_thread_resume is not None:
            self._in_thread_resume.clear()

    def resume_reading(self) -> None:
        if not self._in_paused:
            return
        self._in_paused = False
        if self._on_input is None or self._in_eof:
            return
        if self._in_thread_resume is not None:
            self._in_thread_resume.set()
        elif not self._in_reader and self._loop is not None:
            self._loop.add_reader(self.stdin_fd, self._stdin_ready)
            self._in_reader = True

    def _stdin_ready(self) -> None:
        try:
            data = os.read(self.stdin_fd, READ_SIZE)
        except BlockingIOError:
            return
        except OSError as exc:  # EIO: the terminal hung up
            logger.debug("stdin read failed: %s", exc)
            data = b""
        if not data:
            self._stdin_eof()
            return
        if self._on_input is not None:
            self._on_input(data)

    def _stdin_eof(self) -> None:
        self._in_eof = True
        if self._in_reader and self._loop is not None:
            self._loop.remove_reader(self.stdin_fd)
            self._in_reader = False
        if self._on_input_eof is not None:
            self._on_input_eof()

    async def _thread_read_loop(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._in_thread_resume is not None
        while True:
            await self._in_thread_resume.wait()
            try:
                data = await loop.run_in_executor(None, os.read, self.stdin_fd, READ_SIZE)
            except OSError as exc:
                logger.debug("stdin read failed: %s", exc)
                data = b""
            if not data:
                self._stdin_eof()
                return
            if self._on_input is not None:
                self._on_input(data)

    # -- output --------------------------------------------------------------------------

    @property
    def high_water(self) -> int:
        return self._output.high_water

    @high_water.setter
    def high_water(self, value: int) -> None:
        self._output.high_water = value

    @property
    def max_buffered(self) -> int:
        """Largest number of output bytes ever waiting in our buffer (for tests and stats)."""
        return self._output.max_buffered

    def set_flow_control(self, pause: Callback | None, resume: Callback | None) -> None:
        """Who to pause while stdout is backed up (more than ``high_water`` bytes waiting)."""
        self._output.set_flow_control(pause, resume)

    @property
    def buffered(self) -> int:
        """Output bytes accepted but not yet written to stdout."""
        return self._output.buffered

    @property
    def output_nonblocking(self) -> bool:
        return self._out is not None and self._out.nonblocking

    def write(self, data: bytes) -> None:
        """Write ``data`` to stdout unchanged; whatever stdout does not take now is buffered.

        Only usable inside the ``with`` block. If stdout is closed (EPIPE), output is
        dropped and ``output_broken`` set; the shared program keeps running.
        """
        if self._out is None:
            raise RuntimeError("LocalTerminal.write outside its with block")
        if self.output_broken:
            return
        queue = self._output
        if not queue.queued and data and queue.fd is not None:
            # the common case (nothing queued, the terminal takes it all) in one system call
            # and no further Python call: a pty read at 10 KB/s is ~74 of these a second
            try:
                done = os.write(queue.fd, data)
            except OSError:  # busy, or broken: the queue's own path says which
                done = 0
            if done == len(data):
                return
            if done:
                data = data[done:]
        queue.write(data, self.max_block)

    def _write_some(self, fd: int, data: bytes | bytearray, max_block: float = 0.0) -> int:
        """Write what stdout takes within ``max_block`` seconds (all of it when it is blocking).

        No memoryview of ``data`` outlives a call (a live export would stop the bytearray
        buffer from shrinking), hence the temporary slices and no exception kept around.
        """
        if self.output_broken:
            return len(data)
        total = 0
        size = len(data)
        deadline: float | None = None
        failure = ""
        while total < size:
            try:
                total += os.write(fd, memoryview(data)[total:] if total else data)
            except BlockingIOError:
                if self._poll is None or max_block <= 0:
                    break
                now = time.monotonic()
                if deadline is None:
                    deadline = now + max_block
                elif now >= deadline:
                    break
                self._poll.poll((deadline - now) * 1000.0)
            except OSError as exc:
                failure = exc.strerror or type(exc).__name__
                break
        if failure:
            logger.warning("stdout closed (%s): the shared program's output is no longer shown", failure)
            self.output_broken = True
            return size  # everything counts as done: the callers drop it
        return total

    async def drain(self) -> None:
        """Wait until every byte given to :meth:`write` reached stdout."""
        if self._out is not None:
            await self._output.drain()

    def _flush_blocking(self, timeout: float) -> None:
        """Push out what is left at exit, waiting at most ``timeout`` seconds in total."""
        self._output.flush_blocking(timeout)
