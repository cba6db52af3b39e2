"""Real programs in a real pty: our Emulator and pyte (test-only reference) agree."""

import fcntl
import os
import pty
import select
import shutil
import signal
import struct
import termios
import time

import pyte  # test-only reference emulator
import pytest

from cobrowse.screen import Emulator, ScreenMirror, ScreenSender

COLS, ROWS = 100, 30


def run_in_pty(argv: list[str], cols: int = COLS, rows: int = ROWS, timeout: float = 10.0) -> bytes:
    """Run argv on a pty of the given size; return everything it wrote."""
    pid, fd = pty.fork()
    if pid == 0:  # child
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows), LC_ALL="C.UTF-8")
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    out = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if not r:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    break
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the pty
                break
            if not data:
                break
            out += data
        else:
            pytest.fail(f"{argv} did not finish within {timeout}s")
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        os.close(fd)
    return bytes(out)


def compare(data: bytes, cols: int = COLS, rows: int = ROWS, chunk: int = 777) -> list[str]:
    emu = Emulator(cols, rows)
    sender = ScreenSender(cols, rows)
    mirror = ScreenMirror()
    screen = pyte.Screen(cols, rows)
    stream = pyte.ByteStream(screen)
    now = 0.0
    for i in range(0, len(data), chunk):
        part = data[i : i + chunk]
        emu.feed(part)
        sender.feed(part)
        stream.feed(part)
        now += 0.01
        f = sender.poll(now)
        if f is not None:
            mirror.apply(f)
    f = sender.poll(now + 1)
    if f is not None:
        mirror.apply(f)
    ours = emu.state().lines()
    theirs = [line.rstrip(" ") for line in screen.display]
    assert ours == theirs
    assert (emu.cursor().col, emu.cursor().row) == (screen.cursor.x, screen.cursor.y)
    assert mirror.state == emu.state()
    return ours


def need(prog: str) -> str:
    path = shutil.which(prog)
    if path is None:
        pytest.skip(f"{prog} not installed")
    return path


def test_ls_color():
    data = run_in_pty([need("ls"), "--color=always", "/usr/bin"])
    assert b"\x1b[" in data
    lines = compare(data)
    assert any(line.strip() for line in lines)


def test_top_batch():
    data = run_in_pty([need("top"), "-b", "-n", "1", "-w", str(COLS)])
    lines = compare(data)
    assert any("PID" in line for line in lines) or any(line.strip() for line in lines)


def test_printf_cursor_addressing():
    script = (
        r"\033[2J\033[H"
        r"top-left\033[5;10Hrow5col10\033[1;60Hright"
        r"\033[10;1H\033[31mred\033[0m \033[1;4;32mbold-green\033[0m"
        r"\033[12;20Habc\033[3Ddef\033[2Aup2\033[1Bdown1"
        r"\033[15;1Hline\rCR\n\033[20;5Hxyz\033[1K"
        r"\033[25;1H" "中文 wide" r"\033[26;1Htabs\tand\tmore"
        r"\033[28;1Hend"
    )
    data = run_in_pty([need("printf"), script])
    lines = compare(data)
    assert lines[0].startswith("top-left")
    assert lines[4] == " " * 9 + "row5col10"
    assert lines[24].startswith("中文 wide")
