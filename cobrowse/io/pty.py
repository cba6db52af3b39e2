"""The shared program's pty, the customer's own terminal, and the plain-mode wiring between them.

Three pieces, each a thin asyncio adapter over file descriptors:

``PtyProcess``
    The shared command running on a fresh pty (its own session, the pty as its controlling
    terminal, so job control, Ctrl-C and SIGWINCH behave as in a real terminal). Output is
    read from the master without blocking and handed to one callback; input is written
    without ever blocking the loop.
``LocalTerminal``
    The customer's terminal in plain mode: raw stdin (only when it is a tty, always
    restored), stdin chunks to a callback, output to stdout, its size and SIGWINCH.
``Passthrough`` / ``passthrough()``
    Wires the two: pty output goes to stdout first (the customer must not feel the sharing)
    and then to an observer (the screen capture); stdin goes to the pty (or to a handler the
    caller puts in between, for the prefix key); resizes follow.

Why the flow-control shape (``set_flow_control(pause, resume)`` on both classes, as asyncio
protocols do): when stdout is slow (a pipe into ``less``, a stalled ssh link), the right
answer is to stop reading the pty so the kernel blocks the shared program, not to buffer an
unbounded amount of output in cobrowse. Each side buffers at most about ``high_water`` plus
one read chunk.

Output chunks are handed over as they are read (up to ``READ_SIZE`` bytes; Linux ptys give
about 4 KiB a read). An observer runs inline on the event loop, after the bytes went to
stdout, so it must be cheap: append to a buffer and let another task parse it. Its
exceptions are logged and swallowed.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import logging
import os
import select
import shlex
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

from cobrowse.errors import ConfigError

__all__ = [
    "DEFAULT_SIZE",
    "LocalTerminal",
    "Passthrough",
    "PtyProcess",
    "command_argv",
    "passthrough",
]

logger = logging.getLogger(__name__)

#: The size used when no terminal can tell us one (the VT100 default).
DEFAULT_SIZE: tuple[int, int] = (80, 24)
#: Bytes asked for per read(2). Linux ptys return about 4 KiB per read whatever we ask;
#: asking for more costs nothing and lets pipes and other systems give bigger chunks.
READ_SIZE = 64 * 1024
#: Reads done per readiness callback before going back to the loop: draining a few chunks
#: at once saves a trip through the selector per ~4 KiB chunk, while a program printing
#: forever still cannot starve the other tasks. (Joining the chunks into one bigger write
#: was measured too: no faster on average and much more variable, so chunks go out as read.)
READS_PER_WAKEUP = 16
#: ... but never more than this many seconds per callback, so other tasks keep their turn.
READ_TIME_BUDGET = 0.005
#: Default write-buffer bound above which the producer is paused.
HIGH_WATER = 64 * 1024
#: How long one write to stdout may wait for a busy terminal before buffering (see LocalTerminal).
MAX_BLOCK = 0.010

Callback = Callable[[], None]


def command_argv(command: str | None) -> list[str]:
    """Turn ``--command`` into an argv: the user's ``$SHELL`` (else ``/bin/sh``) when absent.

    Split with ``shlex`` rather than run through ``sh -c`` so the shared program is the
    process whose exit status we report and whose process group we signal.
    """
    if command is None:
        return [os.environ.get("SHELL") or "/bin/sh"]
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ConfigError(f"cannot parse --command {command!r}: {exc}") from exc
    if not argv:
        raise ConfigError("--command is empty: give a program to run, or leave it out for your shell")
    return argv


def _set_winsize(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _get_winsize(fd: int) -> tuple[int, int] | None:
    """(cols, rows) of the tty on ``fd``, or None when it is not a tty or reports 0x0."""
    try:
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    except OSError:
        return None
    if cols <= 0 or rows <= 0:
        return None
    return cols, rows


def _check_size(cols: int, rows: int) -> None:
    if not (0 < cols <= 0xFFFF and 0 < rows <= 0xFFFF):
        raise ValueError(f"terminal size out of range: {cols}x{rows}")


def _make_controlling_tty() -> None:  # pragma: no cover - runs in the child between fork and exec
    # start_new_session already called setsid(); TIOCSCTTY makes the pty on fd 0 this new
    # session's controlling terminal, which job control, /dev/tty and SIGWINCH need.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def terminal_hung_up(fd: int) -> bool:
    """True once the terminal on ``fd`` hung up (its window closed: the pty's master side is
    gone), without reading from it: for a front end whose input thread belongs to a framework."""
    poller = select.poll()
    poller.register(fd, select.POLLHUP)  # POLLHUP, POLLERR and POLLNVAL are reported anyway
    try:
        return any(events & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, events in poller.poll(0))
    except OSError:
        return True


class PtyProcess:
    """A program running on its own pty, read and written without blocking the event loop.

    Build it with :meth:`spawn`. Output is read only once a handler is set (so no byte can
    be lost between spawn and registration: it waits in the kernel until then). Use it as
    ``async with`` to make sure the program is terminated and the master closed.
    """

    def __init__(self, process: asyncio.subprocess.Process, master_fd: int, cols: int, rows: int) -> None:
        self._process = process
        self._fd: int | None = master_fd
        self._size = (cols, rows)
        self._loop = asyncio.get_running_loop()
        self._on_output: Callable[[bytes], None] | None = None
        self._on_eof: Callback | None = None
        self._reading = False  # add_reader is active
        self._paused = False  # the consumer asked us to stop reading
        self._eof = asyncio.Event()
        self._wbuf = bytearray()
        self._writing = False  # add_writer is active
        self._write_paused = False  # we told the producer to pause
        self._flow: tuple[Callback, Callback] | None = None
        self._drain_waiters: list[asyncio.Future[None]] = []
        self.high_water = HIGH_WATER
        self.low_water = HIGH_WATER // 4
        #: Total bytes read from the program, for progress checks and statistics.
        self.bytes_read = 0

    @classmethod
    async def spawn(
        cls,
        argv: list[str],
        cols: int = DEFAULT_SIZE[0],
        rows: int = DEFAULT_SIZE[1],
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        *,
        on_output: Callable[[bytes], None] | None = None,
        on_eof: Callback | None = None,
    ) -> PtyProcess:
        """Start ``argv`` on a new pty of ``cols`` x ``rows``.

        The size is set before the program starts, so its first screen is drawn right.
        ``TERM`` defaults to ``xterm-256color`` (what both the customer's terminal and the
        agent's emulator understand). A program that cannot be started raises
        :class:`~cobrowse.errors.ConfigError` (it came from ``--command`` or ``$SHELL``).
        """
        if not argv:
            raise ConfigError("no command to run")
        _check_size(cols, rows)
        env = dict(os.environ if env is None else env)
        env.setdefault("TERM", "xterm-256color")
        master, slave = os.openpty()
        try:
            _set_winsize(slave, cols, rows)
            os.set_blocking(master, False)
            try:
                process = await asyncio.create_subprocess_exec(
                    *argv,
                    stdin=slave,
                    stdout=slave,
                    stderr=slave,
                    env=env,
                    cwd=cwd,
                    start_new_session=True,
                    preexec_fn=_make_controlling_tty,
                )
            except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
                raise ConfigError(f"cannot run {argv[0]!r}: {exc.strerror or exc}") from exc
        except BaseException:
            os.close(master)
            raise
        finally:
            # Only the child keeps the slave open: the master then reads EIO exactly when the
            # program (and whatever it left behind) closed the terminal.
            os.close(slave)
        self = cls(process, master, cols, rows)
        if on_output is not None:
            self.set_output_handler(on_output, on_eof)
        return self

    # -- facts ---------------------------------------------------------------------------

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        """Exit status once known: negative ``-N`` when killed by signal N, as subprocess."""
        return self._process.returncode

    @property
    def size(self) -> tuple[int, int]:
        """(cols, rows) last set."""
        return self._size

    @property
    def master_fd(self) -> int | None:
        """The pty master, None once closed. For measurements; do not read it yourself."""
        return self._fd

    @property
    def at_eof(self) -> bool:
        """True once reading the master hit EOF/EIO: no slave fd is open any more."""
        return self._eof.is_set()

    # -- output --------------------------------------------------------------------------

    def set_output_handler(self, on_output: Callable[[bytes], None] | None, on_eof: Callback | None = None) -> None:
        """Send each chunk read to ``on_output``; call ``on_eof`` once the terminal is closed.

        Reading starts now (unless paused). ``None`` stops reading.
        """
        self._on_output = on_output
        self._on_eof = on_eof
        self._update_reader()

    def pause_reading(self) -> None:
        """Stop reading the master; the kernel buffer fills and the program blocks on write."""
        self._paused = True
        self._update_reader()

    def resume_reading(self) -> None:
        self._paused = False
        self._update_reader()

    @property
    def reading_paused(self) -> bool:
        return self._paused

    async def wait_eof(self) -> None:
        """Return once every slave fd is closed (the program and its children closed the terminal)."""
        await self._eof.wait()

    def _update_reader(self) -> None:
        want = self._fd is not None and self._on_output is not None and not self._paused and not self._eof.is_set()
        if want and not self._reading:
            assert self._fd is not None
            self._loop.add_reader(self._fd, self._read_ready)
            self._reading = True
        elif not want and self._reading:
            if self._fd is not None:
                self._loop.remove_reader(self._fd)
            self._reading = False

    def _read_ready(self) -> None:
        fd = self._fd
        deadline = time.monotonic() + READ_TIME_BUDGET
        for _ in range(READS_PER_WAKEUP):
            if fd is None or not self._reading:
                return
            try:
                data = os.read(fd, READ_SIZE)
            except BlockingIOError:
                return
            except OSError as exc:
                # Linux answers EIO once the last slave fd closed; anything else is just as final.
                if exc.errno != errno.EIO:
                    logger.debug("pty master read failed: %s", exc)
                self._set_eof()
                return
            if not data:  # BSD/macOS style EOF
                self._set_eof()
                return
            self.bytes_read += len(data)
            handler = self._on_output
            if handler is not None:
                handler(data)
            fd = self._fd
            if time.monotonic() > deadline:
                return

    def _set_eof(self) -> None:
        if self._eof.is_set():
            return
        self._eof.set()
        self._update_reader()
        if self._on_eof is not None:
            self._on_eof()

    # -- input ---------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Queue ``data`` for the program; never blocks. Dropped once the terminal is gone.

        When more than ``high_water`` bytes are waiting, the ``pause`` callback of
        :meth:`set_flow_control` is called, and ``resume`` once below ``low_water``.
        """
        if not data or self._fd is None:
            return
        if not self._wbuf:
            try:
                n = os.write(self._fd, data)
            except BlockingIOError:
                n = 0
            except OSError as exc:
                logger.debug("pty write failed, dropping input: %s", exc)
                return
            if n == len(data):
                return
            self._wbuf += memoryview(data)[n:]
        else:
            self._wbuf += data
        if not self._writing:
            self._loop.add_writer(self._fd, self._write_ready)
            self._writing = True
        self._maybe_pause_producer()

    def send_eof(self) -> None:
        """Type the terminal's EOF character (normally Ctrl-D), as when stdin of a pipe ends.

        A program reading in canonical mode then sees end of input at the start of a line.
        """
        if self._fd is None:
            return
        try:
            veof = termios.tcgetattr(self._fd)[6][termios.VEOF]
        except (termios.error, OSError):
            veof = b"\x04"
        self.write(veof if isinstance(veof, bytes) else bytes([veof]))

    @property
    def write_buffer_size(self) -> int:
        """Input bytes accepted but not yet taken by the pty."""
        return len(self._wbuf)

    def set_flow_control(self, pause: Callback | None, resume: Callback | None) -> None:
        """Who to pause while the program does not read its input fast enough."""
        self._flow = (pause, resume) if pause is not None and resume is not None else None

    async def drain(self) -> None:
        """Wait until the pending input is at or below ``low_water`` bytes."""
        if len(self._wbuf) <= self.low_water or self._fd is None:
            return
        fut = self._loop.create_future()
        self._drain_waiters.append(fut)
        await fut

    def _write_ready(self) -> None:
        assert self._fd is not None
        try:
            n = os.write(self._fd, self._wbuf)
        except BlockingIOError:
            return
        except OSError as exc:
            logger.debug("pty write failed, dropping %d bytes of input: %s", len(self._wbuf), exc)
            n = len(self._wbuf)
        del self._wbuf[:n]
        if not self._wbuf:
            self._loop.remove_writer(self._fd)
            self._writing = False
        self._maybe_resume_producer()

    def _maybe_pause_producer(self) -> None:
        if not self._write_paused and len(self._wbuf) > self.high_water:
            self._write_paused = True
            if self._flow is not None:
                self._flow[0]()

    def _maybe_resume_producer(self) -> None:
        if len(self._wbuf) > self.low_water:
            return
        if self._write_paused:
            self._write_paused = False
            if self._flow is not None:
                self._flow[1]()
        waiters, self._drain_waiters = self._drain_waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    # -- control -------------------------------------------------------------------------

    def resize(self, cols: int, rows: int) -> None:
        """Set the pty size; the kernel sends SIGWINCH to the foreground job if it changed."""
        _check_size(cols, rows)
        self._size = (cols, rows)
        if self._fd is not None:
            try:
                _set_winsize(self._fd, cols, rows)
            except OSError as exc:
                logger.debug("resize failed: %s", exc)

    async def wait(self) -> int:
        """Wait for the program to exit; its status (negative for a signal death)."""
        return await self._process.wait()

    def _process_groups(self) -> set[int]:
        """The program's process group and the terminal's foreground job (a shell's child)."""
        groups = {self.pid}
        if self._fd is not None:
            try:
                groups.add(os.tcgetpgrp(self._fd))
            except OSError:
                pass
        # Linux answers 0 when the terminal has no foreground group any more (its session
        # leader just exited), and killpg(0) would signal *our* group: never do that.
        groups.discard(0)
        groups.discard(os.getpgrp())
        return groups

    def send_signal(self, sig: int, groups: set[int] | None = None) -> None:
        """Send ``sig`` to the program's process group and to the terminal's foreground job.

        Both, because an interactive shell puts each job in its own process group.
        """
        if self.returncode is not None:
            return
        for pgid in self._process_groups() if groups is None else groups:
            try:
                os.killpg(pgid, sig)
            except (ProcessLookupError, PermissionError):
                pass

    async def terminate(self, grace: float = 2.0, kill_timeout: float = 5.0) -> int:
        """End the program as closing a terminal window does; SIGKILL after ``grace`` seconds.

        That is: SIGHUP (+ SIGCONT for stopped jobs) to its group and the foreground job, and
        the master closed, so reads on the terminal fail too. The signal alone is not
        enough: bash misses a SIGHUP that lands just before it blocks reading the next
        command line (seen about once in 30 tries), but never the hangup of its terminal.
        Output not read yet is dropped. Returns the exit status; raises TimeoutError only if
        even SIGKILL did not end it within ``kill_timeout`` (a process stuck in the kernel).
        """
        if self.returncode is None:
            groups = self._process_groups()
            self.send_signal(signal.SIGHUP, groups)
            self.send_signal(signal.SIGCONT, groups)  # a stopped job must wake up to die
            self.close()
            try:
                async with asyncio.timeout(grace):
                    return await self.wait()
            except TimeoutError:
                logger.debug("pid %d ignored the hangup for %.1fs, killing", self.pid, grace)
            self.send_signal(signal.SIGKILL, groups)
        async with asyncio.timeout(kill_timeout):
            return await self.wait()

    def close(self) -> None:
        """Stop reading and writing and close the master (which hangs up what is left)."""
        if self._fd is None:
            return
        if self._reading:
            self._loop.remove_reader(self._fd)
            self._reading = False
        if self._writing:
            self._loop.remove_writer(self._fd)
            self._writing = False
        os.close(self._fd)
        self._fd = None
        self._wbuf.clear()
        self._maybe_resume_producer()
        self._set_eof()  # nothing more will be read

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self.returncode is None:
                await self.terminate()
        finally:
            self.close()


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
        self.high_water = high_water
        self.max_block = max_block
        self._poll: select.poll | None = None
        self.exit_flush_timeout = exit_flush_timeout
        self._saved_attrs: list[Any] | None = None
        self._out: _OutputFd | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._obuf = bytearray()
        self._writing = False
        self._out_paused = False
        self._flow: tuple[Callback, Callback] | None = None
        self._drain_waiters: list[asyncio.Future[None]] = []
        self.output_broken = False
        #: Largest number of output bytes ever waiting in our buffer (for tests and stats).
        self.max_buffered = 0
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

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
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
                    if self._writing and self._loop is not None:
                        self._loop.remove_writer(self._out.fd)
                        self._writing = False
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
            got = _get_winsize(fd)
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

    def set_flow_control(self, pause: Callback | None, resume: Callback | None) -> None:
        """Who to pause while stdout is backed up (more than ``high_water`` bytes waiting)."""
        self._flow = (pause, resume) if pause is not None and resume is not None else None

    @property
    def buffered(self) -> int:
        """Output bytes accepted but not yet written to stdout."""
        return len(self._obuf)

    @property
    def output_nonblocking(self) -> bool:
        return self._out is not None and self._out.nonblocking

    def write(self, data: bytes) -> None:
        """Write ``data`` to stdout unchanged; whatever stdout does not take now is buffered.

        Only usable inside the ``with`` block. If stdout is closed (EPIPE), output is
        dropped and ``output_broken`` set; the shared program keeps running.
        """
        out = self._out
        if out is None:
            raise RuntimeError("LocalTerminal.write outside its with block")
        if not data or self.output_broken:
            return
        if self._obuf:
            self._obuf += data
        else:
            n = self._write_some(out, data, self.max_block)
            if n == len(data):
                return
            self._obuf += memoryview(data)[n:]
        if len(self._obuf) > self.max_buffered:
            self.max_buffered = len(self._obuf)
        if not self._writing:
            self._loop = self._loop or asyncio.get_running_loop()
            self._loop.add_writer(out.fd, self._write_ready)
            self._writing = True
        if not self._out_paused and len(self._obuf) > self.high_water:
            self._out_paused = True
            if self._flow is not None:
                self._flow[0]()

    def _write_some(self, out: _OutputFd, data: bytes | bytearray, max_block: float = 0.0) -> int:
        """Write what stdout takes within ``max_block`` seconds (all of it when it is blocking).

        No memoryview of ``data`` outlives a call (a live export would stop the bytearray
        buffer from shrinking), hence the temporary slices and no exception kept around.
        """
        total = 0
        size = len(data)
        deadline: float | None = None
        failure = ""
        while total < size:
            try:
                total += os.write(out.fd, memoryview(data)[total:] if total else data)
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

    def _write_ready(self) -> None:
        out = self._out
        if out is None:
            return
        try:
            del self._obuf[: self._write_some(out, self._obuf)]
        except Exception:  # never leave a writer callback failing in a loop
            logger.exception("writing to stdout failed; dropping output")
            self.output_broken = True
            self._obuf.clear()
        if self._obuf:
            return
        assert self._loop is not None
        if self._writing:
            self._loop.remove_writer(out.fd)
            self._writing = False
        if self._out_paused:
            self._out_paused = False
            if self._flow is not None:
                self._flow[1]()
        waiters, self._drain_waiters = self._drain_waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def drain(self) -> None:
        """Wait until every byte given to :meth:`write` reached stdout."""
        if not self._obuf or self._out is None:
            return
        fut = asyncio.get_running_loop().create_future()
        self._drain_waiters.append(fut)
        await fut

    def _flush_blocking(self, timeout: float) -> None:
        """Push out what is left at exit, waiting at most ``timeout`` seconds in total."""
        out = self._out
        if out is None or not self._obuf:
            return
        deadline = time.monotonic() + timeout
        while self._obuf and not self.output_broken:
            left = deadline - time.monotonic()
            if left <= 0:
                logger.debug("dropping %d bytes of output at exit", len(self._obuf))
                break
            del self._obuf[: self._write_some(out, self._obuf, left)]
        self._obuf.clear()


class Passthrough:
    """Plain mode: the program's pty joined to the customer's terminal, plus an observer.

    Output goes to stdout first, then to ``observer`` (which must be cheap; its exceptions
    are logged and ignored). Keys go to ``input_handler`` (default: straight to the pty;
    the caller's prefix-key logic goes there and calls ``process.write`` itself). Resizes
    of the customer's terminal resize the pty and are told to ``resize_observer``. When
    stdin is not a tty and ends, the pty gets an EOF character, as ``script`` does. Either
    way ``input_eof_observer(tty)`` hears that stdin ended: from a terminal (EOF or EIO) that
    means it hung up, and the caller should end; from a pipe, the program may still finish.
    """

    def __init__(
        self,
        process: PtyProcess,
        terminal: LocalTerminal,
        *,
        observer: Callable[[bytes], None] | None = None,
        resize_observer: Callable[[int, int], None] | None = None,
        input_handler: Callable[[bytes], None] | None = None,
        exit_idle_timeout: float = 0.5,
        input_eof_observer: Callable[[bool], None] | None = None,
    ) -> None:
        self.process = process
        self.input_eof_observer = input_eof_observer
        self.terminal = terminal
        self.observer = observer
        self.resize_observer = resize_observer
        self.input_handler = input_handler or process.write
        self.exit_idle_timeout = exit_idle_timeout
        self.observer_errors = 0

    def _on_output(self, data: bytes) -> None:
        self.terminal.write(data)
        observer = self.observer
        if observer is not None:
            try:
                observer(data)
            except Exception:
                self.observer_errors += 1
                if self.observer_errors == 1:
                    logger.exception("output observer failed (further failures are counted, not logged)")

    def _on_input_eof(self) -> None:
        tty = self.terminal.stdin_is_tty
        if not tty:
            self.process.send_eof()
        if self.input_eof_observer is not None:
            try:
                self.input_eof_observer(tty)
            except Exception:
                logger.exception("input EOF observer failed")

    def _on_resize(self, cols: int, rows: int) -> None:
        if (cols, rows) != self.process.size:
            self.process.resize(cols, rows)
        if self.resize_observer is not None:
            try:
                self.resize_observer(cols, rows)
            except Exception:
                logger.exception("resize observer failed")

    async def run(self) -> int:
        """Run until the program exited and its output was shown; its exit status.

        If the program exits while something it started still holds the terminal, output
        keeps flowing until nothing arrived for ``exit_idle_timeout`` seconds.
        """
        process, terminal = self.process, self.terminal
        terminal.set_flow_control(process.pause_reading, process.resume_reading)
        process.set_flow_control(terminal.pause_reading, terminal.resume_reading)
        unsubscribe = terminal.on_resize(self._on_resize)
        process.set_output_handler(self._on_output)
        terminal.start_reading(self.input_handler, self._on_input_eof)
        cols, rows = terminal.size()
        if (cols, rows) != process.size and (terminal.stdin_is_tty or os.isatty(terminal.stdout_fd)):
            self._on_resize(cols, rows)
        try:
            status = await process.wait()
            while not process.at_eof:
                before = process.bytes_read
                try:
                    async with asyncio.timeout(self.exit_idle_timeout):
                        await process.wait_eof()
                except TimeoutError:
                    if process.bytes_read == before and not process.reading_paused:
                        break
            await terminal.drain()
            return status
        finally:
            terminal.stop_reading()
            unsubscribe()
            process.set_output_handler(None)
            terminal.set_flow_control(None, None)
            process.set_flow_control(None, None)


async def passthrough(
    process: PtyProcess,
    terminal: LocalTerminal,
    *,
    observer: Callable[[bytes], None] | None = None,
    resize_observer: Callable[[int, int], None] | None = None,
    input_handler: Callable[[bytes], None] | None = None,
) -> int:
    """Run ``process`` shared in plain mode on ``terminal``; its exit status. See :class:`Passthrough`.

    Typical use::

        with LocalTerminal() as term:
            async with await PtyProcess.spawn(command_argv(cmd), *term.size()) as proc:
                status = await passthrough(proc, term, observer=capture.feed)
    """
    return await Passthrough(
        process, terminal, observer=observer, resize_observer=resize_observer, input_handler=input_handler
    ).run()
