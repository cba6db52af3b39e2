"""The pty adapter against real ptys and real programs: no mocks, every wait bounded."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import struct
import termios
import time
from collections.abc import Iterator

import pytest

from cobrowse.errors import ConfigError
from cobrowse.io.pty import (
    DEFAULT_SIZE,
    HIGH_WATER,
    READ_SIZE,
    LocalTerminal,
    Passthrough,
    PtyProcess,
    command_argv,
    passthrough,
)

SHELL_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PS1": "$ ", "HOME": os.environ.get("HOME", "/")}


class Collector:
    """Gathers output chunks and lets a test wait for a byte string to show up."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.chunks = 0
        self._changed = asyncio.Event()

    def __call__(self, chunk: bytes) -> None:
        self.data += chunk
        self.chunks += 1
        self._changed.set()

    async def wait_for(self, needle: bytes, start: int = 0) -> int:
        """Index just past ``needle`` once it appeared after ``start``."""
        while (i := self.data.find(needle, start)) < 0:
            self._changed.clear()
            await self._changed.wait()
        return i + len(needle)


class PipeReader:
    """The far end of a pipe standing in for the customer's stdout, read on the loop."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.data = bytearray()
        self.eof = asyncio.Event()
        os.set_blocking(fd, False)
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(fd, self._ready)

    def _ready(self) -> None:
        try:
            chunk = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return
        if not chunk:
            self._loop.remove_reader(self.fd)
            self.eof.set()
            return
        self.data += chunk

    def close(self) -> None:
        if not self.eof.is_set():
            self._loop.remove_reader(self.fd)
        os.close(self.fd)


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    r, w = os.pipe()
    yield r, w
    for fd in (r, w):
        try:
            os.close(fd)
        except OSError:
            pass


def set_size(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


# -- command_argv / spawn ---------------------------------------------------------------


def test_command_argv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELL", "/bin/zsh")
    assert command_argv(None) == ["/bin/zsh"]
    monkeypatch.delenv("SHELL")
    assert command_argv(None) == ["/bin/sh"]
    assert command_argv("grep -n 'a b' file") == ["grep", "-n", "a b", "file"]
    with pytest.raises(ConfigError):
        command_argv("   ")
    with pytest.raises(ConfigError):
        command_argv("echo 'unterminated")


async def test_spawn_missing_program_is_a_config_error() -> None:
    before = open_fds()
    async with asyncio.timeout(5):
        with pytest.raises(ConfigError, match="no-such-program"):
            await PtyProcess.spawn(["/nonexistent/no-such-program"], 80, 24)
    assert open_fds() == before  # master and slave closed


@pytest.mark.parametrize("argv", [["bash", "--norc", "--noprofile"], ["sh"]])
async def test_interactive_shell_runs_typed_command(argv: list[str]) -> None:
    out = Collector()
    async with asyncio.timeout(10):
        async with await PtyProcess.spawn(argv, 80, 24, env=SHELL_ENV, on_output=out) as proc:
            proc.write(b"echo $((6*7))x\r")
            await out.wait_for(b"42x")  # the echo of what we typed does not contain it
            proc.write(b"exit 0\r")
            assert await proc.wait() == 0
            await proc.wait_eof()


async def test_exit_status_and_eof() -> None:
    eofs: list[bool] = []
    async with asyncio.timeout(5):
        async with await PtyProcess.spawn(
            ["sh", "-c", "echo bye; exit 3"], on_output=Collector(), on_eof=lambda: eofs.append(True)
        ) as proc:
            assert await proc.wait() == 3
            await proc.wait_eof()
            assert proc.at_eof and eofs == [True]


async def test_signal_death_is_negative() -> None:
    async with asyncio.timeout(5):
        async with await PtyProcess.spawn(["sh", "-c", "kill -TERM $$"], on_output=Collector()) as proc:
            assert await proc.wait() == -signal.SIGTERM


async def test_term_defaults_and_initial_size() -> None:
    out = Collector()
    env = {k: v for k, v in SHELL_ENV.items() if k != "TERM"}
    async with asyncio.timeout(5):
        async with await PtyProcess.spawn(["sh", "-c", "echo T=$TERM; stty size"], 91, 27, env=env, on_output=out) as proc:
            await proc.wait()
            await proc.wait_eof()
    assert b"T=xterm-256color\r\n27 91\r\n" in out.data


async def test_resize_reaches_child_with_sigwinch() -> None:
    out = Collector()
    script = 'trap "stty size" WINCH; echo ready; while :; do sleep 0.05; done'
    async with asyncio.timeout(10):
        async with await PtyProcess.spawn(["sh", "-c", script], 80, 24, on_output=out) as proc:
            pos = await out.wait_for(b"ready")
            proc.resize(100, 30)
            assert proc.size == (100, 30)
            await out.wait_for(b"30 100", pos)


async def test_resize_seen_by_interactive_shell() -> None:
    out = Collector()
    async with asyncio.timeout(10):
        async with await PtyProcess.spawn(["bash", "--norc", "--noprofile"], 80, 24, env=SHELL_ENV, on_output=out) as proc:
            proc.resize(132, 43)
            proc.write(b"stty size; tput cols\r")
            await out.wait_for(b"43 132\r\n132")


async def test_large_output_complete_and_in_order() -> None:
    out = Collector()
    async with asyncio.timeout(30):
        async with await PtyProcess.spawn(["sh", "-c", "head -c 20000000 /dev/zero | tr '\\0' x"], on_output=out) as proc:
            assert await proc.wait() == 0
            await proc.wait_eof()
    assert len(out.data) == 20_000_000 and out.data.count(b"x") == 20_000_000
    assert proc.bytes_read == 20_000_000


async def test_large_input_does_not_block_the_loop() -> None:
    out = Collector()
    size = 1_000_000
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    script = "stty raw -echo; echo ready; sleep 0.3; head -c %d | wc -c" % size  # slow to start reading
    async with asyncio.timeout(20):
        async with await PtyProcess.spawn(["sh", "-c", script], on_output=out) as proc:
            await out.wait_for(b"ready")
            tick_task = asyncio.create_task(ticker())
            t0 = time.monotonic()
            proc.write(b"y" * size)
            assert time.monotonic() - t0 < 0.2  # queued, not waited for
            assert proc.write_buffer_size > 0  # the pty could not take it all at once
            await proc.drain()
            await out.wait_for(str(size).encode())
            tick_task.cancel()
            assert ticks >= 10  # other tasks ran all along while the input waited
            assert await proc.wait() == 0
            assert proc.write_buffer_size == 0


async def test_input_flow_control_pauses_and_resumes_the_producer() -> None:
    events: list[str] = []
    out = Collector()
    async with asyncio.timeout(20):
        async with await PtyProcess.spawn(
            ["sh", "-c", "stty raw -echo; echo ready; sleep 0.3; head -c 300000 | wc -c"], on_output=out
        ) as proc:
            proc.set_flow_control(lambda: events.append("pause"), lambda: events.append("resume"))
            await out.wait_for(b"ready")
            proc.write(b"z" * 300_000)
            assert events == ["pause"]
            await proc.drain()
            await out.wait_for(b"300000")
            assert events == ["pause", "resume"]


async def test_eof_when_the_child_closes_the_terminal() -> None:
    async with asyncio.timeout(10):
        async with await PtyProcess.spawn(
            ["sh", "-c", "exec </dev/null >/dev/null 2>&1; sleep 30"], on_output=Collector()
        ) as proc:
            await proc.wait_eof()
            assert proc.returncode is None  # still running, but the terminal is closed
            proc.write(b"ignored\r")  # writing to a pty nobody holds is harmless
            t0 = time.monotonic()
            assert await proc.terminate(grace=2.0) == -signal.SIGHUP
            assert time.monotonic() - t0 < 2.0


async def test_terminate_kills_a_process_that_ignores_sighup() -> None:
    out = Collector()
    script = 'trap "" HUP; echo ready; while :; do sleep 1; done'
    async with asyncio.timeout(10):
        proc = await PtyProcess.spawn(["sh", "-c", script], on_output=out)
        try:
            await out.wait_for(b"ready")
            t0 = time.monotonic()
            assert await proc.terminate(grace=0.5) == -signal.SIGKILL
            assert 0.4 < time.monotonic() - t0 < 3.0
        finally:
            proc.close()
    assert proc.master_fd is None


async def test_signalling_a_just_exited_program_never_signals_our_own_group() -> None:
    hups: list[int] = []
    previous = signal.signal(signal.SIGHUP, lambda signum, frame: hups.append(signum))
    try:
        async with asyncio.timeout(5):
            async with await PtyProcess.spawn(["sh", "-c", "exit 0"], on_output=Collector()) as proc:
                time.sleep(0.3)  # blocking on purpose: it exited, but the loop has not been told
                assert proc.returncode is None
                proc.send_signal(signal.SIGHUP)  # the pty has no foreground group: tcgetpgrp says 0
                assert await proc.wait() == 0
        time.sleep(0.05)
        assert hups == []
    finally:
        signal.signal(signal.SIGHUP, previous)


async def test_terminate_reaches_the_foreground_job_of_a_shell() -> None:
    out = Collector()
    async with asyncio.timeout(10):
        async with await PtyProcess.spawn(["bash", "--norc", "--noprofile", "-i"], env=SHELL_ENV, on_output=out) as proc:
            proc.write(b"sleep 30; echo af''ter\r")
            await out.wait_for(b"af''ter\r\n")
            await asyncio.sleep(0.2)
            t0 = time.monotonic()
            await proc.terminate(grace=5.0)
            assert time.monotonic() - t0 < 4.0  # SIGHUP did it, no SIGKILL needed
    assert b"after" not in out.data


# -- LocalTerminal ----------------------------------------------------------------------


async def test_local_terminal_restores_termios_after_an_exception() -> None:
    master, slave = os.openpty()
    try:
        before = termios.tcgetattr(slave)
        fds = open_fds()
        with pytest.raises(RuntimeError, match="boom"):
            with LocalTerminal(slave, slave) as term:
                assert term.raw
                now = termios.tcgetattr(slave)
                assert not now[3] & (termios.ICANON | termios.ECHO | termios.ISIG)
                assert not now[1] & termios.OPOST
                term.write(b"partial output")
                raise RuntimeError("boom")
        assert termios.tcgetattr(slave) == before
        assert not term.raw
        assert open_fds() == fds  # the private output fd is closed
        assert os.read(master, 100) == b"partial output"
    finally:
        os.close(master)
        os.close(slave)


async def test_local_terminal_leaves_non_tty_stdin_alone(pipe: tuple[int, int]) -> None:
    r, w = pipe
    flags = fcntl.fcntl(r, fcntl.F_GETFL), fcntl.fcntl(w, fcntl.F_GETFL)
    with LocalTerminal(r, w) as term:
        assert not term.raw and not term.stdin_is_tty
        assert term.output_nonblocking  # a private reopen, not our fd's flags
    assert (fcntl.fcntl(r, fcntl.F_GETFL), fcntl.fcntl(w, fcntl.F_GETFL)) == flags


async def test_local_terminal_input_size_and_sigwinch() -> None:
    master, slave = os.openpty()
    got: list[bytes] = []
    sizes: list[tuple[int, int]] = []
    arrived = asyncio.Event()
    try:
        set_size(master, 100, 40)
        async with asyncio.timeout(5):
            with LocalTerminal(slave, slave) as term:
                assert term.size() == (100, 40)
                term.start_reading(lambda d: (got.append(d), arrived.set()))
                os.write(master, b"a\x03\x1d")  # raw: no line buffering, Ctrl-C is a byte
                await arrived.wait()
                assert b"".join(got) == b"a\x03\x1d"
                unsubscribe = term.on_resize(lambda c, r: sizes.append((c, r)))
                set_size(master, 120, 50)
                os.kill(os.getpid(), signal.SIGWINCH)  # not our controlling tty: send it ourselves
                while not sizes:
                    await asyncio.sleep(0.01)
                assert sizes == [(120, 50)]
                unsubscribe()
    finally:
        os.close(master)
        os.close(slave)


def test_local_terminal_size_fallbacks(pipe: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    r, w = pipe
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    assert LocalTerminal(r, w).size() == DEFAULT_SIZE == (80, 24)
    monkeypatch.setenv("COLUMNS", "132")
    monkeypatch.setenv("LINES", "50")
    assert LocalTerminal(r, w).size() == (132, 50)


async def test_local_terminal_reads_a_regular_file_stdin(tmp_path: os.PathLike[str], pipe: tuple[int, int]) -> None:
    path = os.path.join(tmp_path, "keys")
    with open(path, "wb") as f:
        f.write(b"ls\n")
    fd = os.open(path, os.O_RDONLY)
    got = bytearray()
    done = asyncio.Event()
    try:
        async with asyncio.timeout(5):
            with LocalTerminal(fd, pipe[1]) as term:
                term.start_reading(got.extend, done.set)  # epoll refuses files: a thread reads
                await done.wait()
        assert got == b"ls\n"
    finally:
        os.close(fd)


# -- Passthrough ------------------------------------------------------------------------


async def run_passthrough(
    argv: list[str], stdin_fd: int, stdout_fd: int, **kwargs: object
) -> tuple[int, PtyProcess, LocalTerminal]:
    with LocalTerminal(stdin_fd, stdout_fd) as term:
        async with await PtyProcess.spawn(argv, *term.size()) as proc:
            status = await passthrough(proc, term, **kwargs)  # type: ignore[arg-type]
    return status, proc, term


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("seq 1 500000", b"".join(b"%d\r\n" % i for i in range(1, 500001))),
        ("head -c 20000000 /dev/zero | tr '\\0' x", b"x" * 20_000_000),
    ],
    ids=["seq", "20MB"],
)
async def test_passthrough_output_reaches_stdout_and_observer(script: str, expected: bytes) -> None:
    in_r, in_w = os.pipe()  # stdin that stays open and silent
    out_r, out_w = os.pipe()
    observed = Collector()
    try:
        async with asyncio.timeout(60):
            sink = PipeReader(out_r)
            status, _, term = await run_passthrough(["sh", "-c", script], in_r, out_w, observer=observed)
            os.close(out_w)
            out_w = -1
            await sink.eof.wait()
        assert status == 0
        assert sink.data == expected
        assert observed.data == expected
        assert term.max_buffered <= HIGH_WATER + READ_SIZE
    finally:
        for fd in (in_r, in_w, out_w):
            if fd >= 0:
                os.close(fd)
        sink.close()


async def test_observer_exceptions_do_not_stop_the_passthrough(pipe: tuple[int, int]) -> None:
    out_r, out_w = os.pipe()

    def bad_observer(data: bytes) -> None:
        raise ValueError("observer bug")

    try:
        async with asyncio.timeout(20):
            sink = PipeReader(out_r)
            with LocalTerminal(pipe[0], out_w) as term:
                async with await PtyProcess.spawn(["sh", "-c", "seq 1 20000"], *term.size()) as proc:
                    runner = Passthrough(proc, term, observer=bad_observer)
                    assert await runner.run() == 0
            os.close(out_w)
            out_w = -1
            await sink.eof.wait()
        assert runner.observer_errors >= 1
        assert sink.data.endswith(b"19999\r\n20000\r\n")
    finally:
        if out_w >= 0:
            os.close(out_w)
        sink.close()


@pytest.mark.parametrize("when", ["before", "during"])
async def test_closed_stdout_drops_output_but_the_program_runs_on(pipe: tuple[int, int], when: str) -> None:
    out_r, out_w = os.pipe()
    loop = asyncio.get_running_loop()
    if when == "before":
        os.close(out_r)  # e.g. `cobrowse share | head -1` after head exited
    else:

        def read_a_bit_then_close() -> None:
            os.read(out_r, 10_000)
            loop.remove_reader(out_r)
            os.close(out_r)

        loop.add_reader(out_r, read_a_bit_then_close)
    observed = Collector()
    try:
        async with asyncio.timeout(20):
            status, _, term = await run_passthrough(["sh", "-c", "seq 1 300000"], pipe[0], out_w, observer=observed)
        assert status == 0 and term.output_broken
        assert observed.data.endswith(b"299999\r\n300000\r\n")
    finally:
        os.close(out_w)


async def test_piped_stdin_runs_and_ends_the_shell(pipe: tuple[int, int]) -> None:
    in_r, in_w = pipe
    out_r, out_w = os.pipe()
    os.write(in_w, b"echo $((6*7))x\n")
    os.close(in_w)  # stdin ends: the shell gets Ctrl-D and exits
    typed: list[bytes] = []
    try:
        async with asyncio.timeout(10):
            sink = PipeReader(out_r)

            with LocalTerminal(in_r, out_w) as term:
                async with await PtyProcess.spawn(["sh"], *term.size(), env=SHELL_ENV) as proc:

                    def handler(data: bytes) -> None:  # where the prefix-key logic will sit
                        typed.append(data)
                        proc.write(data)

                    assert await passthrough(proc, term, input_handler=handler) == 0
            os.close(out_w)
            out_w = -1
            await sink.eof.wait()
        assert b"42x" in sink.data
        assert b"".join(typed) == b"echo $((6*7))x\n"
    finally:
        if out_w >= 0:
            os.close(out_w)
        sink.close()


async def test_passthrough_follows_terminal_resizes() -> None:
    master, slave = os.openpty()
    set_size(master, 80, 24)
    told: list[tuple[int, int]] = []
    out = Collector()
    loop = asyncio.get_running_loop()
    os.set_blocking(master, False)
    loop.add_reader(master, lambda: out(os.read(master, 65536)))
    try:
        async with asyncio.timeout(10):
            with LocalTerminal(slave, slave) as term:
                script = 'trap "stty size" WINCH; echo ready; while :; do sleep 0.05; done'
                async with await PtyProcess.spawn(["sh", "-c", script], *term.size()) as proc:
                    task = asyncio.create_task(passthrough(proc, term, resize_observer=lambda c, r: told.append((c, r))))
                    pos = await out.wait_for(b"ready")
                    set_size(master, 101, 31)
                    os.kill(os.getpid(), signal.SIGWINCH)
                    await out.wait_for(b"31 101", pos)
                    assert told == [(101, 31)] and proc.size == (101, 31)
                    os.write(master, b"\x03")  # Ctrl-C typed by the customer reaches the program
                    assert await task == -signal.SIGINT
    finally:
        loop.remove_reader(master)
        os.close(master)
        os.close(slave)


async def test_slow_stdout_pauses_the_program_instead_of_buffering(pipe: tuple[int, int]) -> None:
    out_r, out_w = os.pipe()
    os.set_blocking(out_r, False)
    pipe_size = fcntl.fcntl(out_w, fcntl.F_GETPIPE_SZ)
    consumed = 0
    worst_gap = 0
    try:
        async with asyncio.timeout(20):
            with LocalTerminal(pipe[0], out_w, exit_flush_timeout=0.1) as term:
                async with await PtyProcess.spawn(["yes"], *term.size()) as proc:
                    task = asyncio.create_task(passthrough(proc, term))
                    deadline = time.monotonic() + 2.0
                    while time.monotonic() < deadline:  # a consumer taking ~400 KB/s
                        await asyncio.sleep(0.01)
                        try:
                            consumed += len(os.read(out_r, 4096))
                        except BlockingIOError:
                            pass
                        # read from the pty = consumed + in the pipe + buffered by us
                        worst_gap = max(worst_gap, proc.bytes_read - consumed)
                    assert term.max_buffered <= HIGH_WATER + READ_SIZE
                    assert worst_gap <= pipe_size + HIGH_WATER + READ_SIZE
                    # unthrottled, `yes` writes tens of MB/s: it was held back by the kernel
                    assert proc.bytes_read < consumed + pipe_size + HIGH_WATER + READ_SIZE < 5_000_000
                    assert proc.returncode is None
                    task.cancel()  # what the lead does when the session ends
                    with pytest.raises(asyncio.CancelledError):
                        await task
                    assert await proc.terminate(grace=1.0) == -signal.SIGHUP
        assert consumed > 100_000
    finally:
        os.close(out_w)
        os.close(out_r)
