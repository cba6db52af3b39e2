"""The shared program on its own pty, read and written without blocking the event loop.

The program gets a fresh pty (its own session, the pty as its controlling terminal, so job
control, Ctrl-C and SIGWINCH behave as in a real terminal). Output is read from the master
without blocking and handed to one callback, as it is read (up to ``READ_SIZE`` bytes;
Linux ptys give about 4 KiB a read); the callback runs inline on the event loop, so it must
be cheap. Input goes through a :class:`~cobrowse.io.pty_flow.WriteQueue`, so a program that
stops reading its input pauses whoever types (``set_flow_control``), never the loop.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import logging
import os
import shlex
import signal
import struct
import termios
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from cobrowse.errors import ConfigError
from cobrowse.io import pty_spawn
from cobrowse.io.pty_flow import HIGH_WATER, READ_SIZE, Callback, WriteQueue

__all__ = ["DEFAULT_SIZE", "PtyProcess", "command_argv"]

logger = logging.getLogger(__name__)

#: The size used when no terminal can tell us one (the VT100 default).
DEFAULT_SIZE: tuple[int, int] = (80, 24)
#: Reads done per readiness callback before going back to the loop: draining a few chunks
#: at once saves a trip through the selector per ~4 KiB chunk, while a program printing
#: forever still cannot starve the other tasks. (Joining the chunks into one bigger write
#: was measured too: no faster on average and much more variable, so chunks go out as read.)
READS_PER_WAKEUP = 16
#: ... but never more than this many seconds per callback, so other tasks keep their turn.
READ_TIME_BUDGET = 0.005
#: A read shorter than this took what the terminal held: the next read would only fail with
#: EAGAIN (a syscall and an exception per read of a program writing steadily: 100 a second
#: at 10 KB/s), so the callback ends there, as libevent's one read per wake-up does; if more
#: came meanwhile the selector says so at once. A flood's reads are whole ~4 KiB chunks.
SHORT_READ = 1024
#: How long an EOF typed before the program's first output waits for it (``send_eof``).
EOF_AFTER_START = 0.05


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


def _write_pty(fd: int, data: bytes | bytearray, max_block: float) -> int:
    """One non-blocking write of input to the pty; a failed pty drops the input (it is gone)."""
    try:
        return os.write(fd, data)
    except BlockingIOError:
        return 0
    except OSError as exc:
        logger.debug("pty write failed, dropping %d bytes of input: %s", len(data), exc)
        return len(data)


def _set_winsize(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _check_size(cols: int, rows: int) -> None:
    if not (0 < cols <= 0xFFFF and 0 < rows <= 0xFFFF):
        raise ValueError(f"terminal size out of range: {cols}x{rows}")


def _make_controlling_tty() -> None:  # pragma: no cover - runs in the child between fork and exec
    # start_new_session already called setsid(); TIOCSCTTY makes the pty on fd 0 this new
    # session's controlling terminal, which job control, /dev/tty and SIGWINCH need.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtyProcess:
    """A program running on its own pty, read and written without blocking the event loop.

    Build it with :meth:`spawn`. Output is read only once a handler is set (so no byte can
    be lost between spawn and registration: it waits in the kernel until then). Use it as
    ``async with`` to make sure the program is terminated and the master closed.
    """

    def __init__(self, process: asyncio.subprocess.Process | pty_spawn.SpawnedProgram, master_fd: int, cols: int, rows: int) -> None:
        self._process = process
        self._fd: int | None = master_fd
        self._size = (cols, rows)
        self._loop = asyncio.get_running_loop()
        self._on_output: Callable[[bytes], None] | None = None
        self._on_eof: Callback | None = None
        self._reading = False  # add_reader is active
        self._paused = False  # the consumer asked us to stop reading
        self._eof = asyncio.Event()
        self._input = WriteQueue(master_fd, _write_pty, high_water=HIGH_WATER, low_water=HIGH_WATER // 4)
        #: Total bytes read from the program, for progress checks and statistics.
        self.bytes_read = 0
        self._eof_wait: asyncio.TimerHandle | None = None  # send_eof before the first output

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
            process: asyncio.subprocess.Process | pty_spawn.SpawnedProgram
            try:
                if cwd is None and pty_spawn.available():  # without blocking the loop (see pty_spawn)
                    process = pty_spawn.spawn(argv, os.ttyname(slave), env)
                else:
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
        """One read, handed on; more only after a long one (a flood: see ``_read_more``). At
        10 KB/s of output this runs ~74 times a second, each read short: no clock, no loop."""
        fd = self._fd
        if fd is None or not self._reading:
            return
        try:
            data = os.read(fd, READ_SIZE)
        except BlockingIOError:
            return
        except OSError as exc:
            self._read_failed(exc)
            return
        if not data:  # BSD/macOS style EOF
            self._set_eof()
            return
        self.bytes_read += len(data)
        handler = self._on_output
        if handler is not None:
            handler(data)
        if self._eof_wait is not None:
            self._type_eof()  # the EOF typed before the program's first output
        if len(data) >= SHORT_READ:
            self._read_more()

    def _read_more(self) -> None:
        """After a long read: up to READS_PER_WAKEUP - 1 more within READ_TIME_BUDGET."""
        deadline = time.monotonic() + READ_TIME_BUDGET
        for _ in range(READS_PER_WAKEUP - 1):
            fd = self._fd
            if fd is None or not self._reading or time.monotonic() > deadline:
                return
            try:
                data = os.read(fd, READ_SIZE)
            except BlockingIOError:
                return
            except OSError as exc:
                self._read_failed(exc)
                return
            if not data:
                self._set_eof()
                return
            self.bytes_read += len(data)
            handler = self._on_output
            if handler is not None:
                handler(data)
            if len(data) < SHORT_READ:
                return

    def _read_failed(self, exc: OSError) -> None:
        # Linux answers EIO once the last slave fd closed; anything else is just as final.
        if exc.errno != errno.EIO:
            logger.debug("pty master read failed: %s", exc)
        self._set_eof()

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
        self._input.write(data)

    def send_eof(self) -> None:
        """Type the terminal's EOF character (normally Ctrl-D), as when stdin of a pipe ends.

        A program reading in canonical mode then sees end of input at the start of a line.
        Before the program printed anything it waits for its first output (or
        ``EOF_AFTER_START`` s): a shell that has not switched its line editor on yet gets the
        character stored as a canonical line end, which reads as NUL, not Ctrl-D, once the
        editor turns canonical mode off, and the shell never sees its end of input.
        """
        if self._fd is None:
            return
        if self.bytes_read == 0:
            if self._eof_wait is None:
                self._eof_wait = self._loop.call_later(EOF_AFTER_START, self._type_eof)
            return
        self._type_eof()

    def _type_eof(self) -> None:
        if self._eof_wait is not None:
            self._eof_wait.cancel()
            self._eof_wait = None
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
        return self._input.buffered

    @property
    def high_water(self) -> int:
        return self._input.high_water

    @high_water.setter
    def high_water(self, value: int) -> None:
        self._input.high_water = value

    @property
    def low_water(self) -> int:
        return self._input.low_water

    @low_water.setter
    def low_water(self, value: int) -> None:
        self._input.low_water = value

    def set_flow_control(self, pause: Callback | None, resume: Callback | None) -> None:
        """Who to pause while the program does not read its input fast enough."""
        self._input.set_flow_control(pause, resume)

    async def drain(self) -> None:
        """Wait until the pending input is at or below ``low_water`` bytes."""
        await self._input.drain()

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
        if self._eof_wait is not None:
            self._eof_wait.cancel()
            self._eof_wait = None
        if self._reading:
            self._loop.remove_reader(self._fd)
            self._reading = False
        self._input.close()
        os.close(self._fd)
        self._fd = None
        self._set_eof()  # nothing more will be read

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if self.returncode is None:
                await self.terminate()
        finally:
            self.close()
