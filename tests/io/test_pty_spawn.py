"""cobrowse.io.pty_spawn: the program started with posix_spawn gets what subprocess (with
its preexec_fn) gave it: its own session, the pty as controlling terminal and foreground,
fds 0-2 and nothing else, default SIGPIPE/SIGXFSZ, PATH from its environment, exit statuses.

Each probe runs through both ways of spawning (``cwd=None`` takes posix_spawn, a ``cwd`` the
subprocess path) and the answers are compared. Real ptys, real programs, bounded waits.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from cobrowse.errors import ConfigError
from cobrowse.io import pty_spawn
from cobrowse.io.pty import PtyProcess

pytestmark = pytest.mark.skipif(not pty_spawn.available(), reason="posix_spawn + pidfd: Linux only")

ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}

#: Says what the program got: its session, controlling terminal, foreground group and open fds.
PROBE = r"""
import os
tty = os.open("/dev/tty", os.O_RDWR)
os.close(tty)
fds = sorted(int(f) for f in os.listdir("/proc/self/fd"))
print("PROBE", os.getsid(0) == os.getpid(), os.tcgetpgrp(0) == os.getpgrp(), os.ttyname(0) == os.ttyname(2),
      fds, "END", flush=True)
"""


async def run(argv: list[str], cwd: str | None, env: dict[str, str] | None = None) -> tuple[int, bytes]:
    out = bytearray()
    async with asyncio.timeout(10):
        async with await PtyProcess.spawn(argv, 80, 24, env=env or ENV, cwd=cwd, on_output=out.extend) as proc:
            status = await proc.wait()
            await proc.wait_eof()
    return status, bytes(out)


async def test_the_program_gets_what_subprocess_gave_it() -> None:
    python = os.path.realpath(sys.executable)
    reader, writer = os.pipe()
    os.set_inheritable(writer, True)  # an fd our own parent might have left us: not the program's
    try:
        spawned = await run([python, "-c", PROBE], None)
        forked = await run([python, "-c", PROBE], os.getcwd())
    finally:
        os.close(reader)
        os.close(writer)
    assert spawned[0] == forked[0] == 0
    line = spawned[1].split(b"PROBE ", 1)[1].split(b" END", 1)[0]
    assert line == forked[1].split(b"PROBE ", 1)[1].split(b" END", 1)[0]
    session, foreground, same_tty = line.split(b" ")[:3]
    assert (session, foreground, same_tty) == (b"True", b"True", b"True")
    assert line.split(b" ", 3)[3].startswith(b"[0, 1, 2, ")  # and the listing's own fd: not ours
    assert f" {writer}]".encode() not in line and f" {writer},".encode() not in line


async def test_signals_are_as_subprocess_left_them() -> None:
    """Ignored and blocked signals, as the kernel reports them for a C program (grep): SIGPIPE
    and SIGXFSZ at their default, nothing blocked. glibc's internal 32 and 33 are left out:
    posix_spawn starts them ignored (cobrowse.io.pty_spawn's docstring)."""
    internal = (1 << 31) | (1 << 32)
    masks = []
    for cwd in (None, os.getcwd()):
        status, out = await run(["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"], cwd)
        assert status == 0
        fields = dict(line.split(b":\t") for line in out.split(b"\r\n") if b":\t" in line)
        masks.append((int(fields[b"SigIgn"], 16) & ~internal, int(fields[b"SigBlk"], 16)))
    assert masks[0] == masks[1]
    assert not masks[0][0] & (1 << (signal.SIGPIPE - 1)) and not masks[0][0] & (1 << (signal.SIGXFSZ - 1))


async def test_job_control_works_in_an_interactive_shell() -> None:
    out = bytearray()
    async with asyncio.timeout(10):
        async with await PtyProcess.spawn(["bash", "--norc", "--noprofile", "-i"], 80, 24, env={**ENV, "PS1": "$ "},
                                          on_output=out.extend) as proc:
            proc.write(b"sleep 30 &\rjobs; echo done-$((6*7))\r")
            while b"done-42" not in out:
                await asyncio.sleep(0.02)
            proc.write(b"exit\r")
            await proc.wait()
    assert b"no job control" not in out and b"Running" in out and b"sleep 30" in out


async def test_path_comes_from_the_programs_environment(tmp_path: Path) -> None:
    tool = tmp_path / "cobrowse-probe-tool"
    tool.write_text("#!/bin/sh\necho found-it\n")
    tool.chmod(0o755)
    env = {**ENV, "PATH": f"/nonexistent-dir:{tmp_path}:{ENV['PATH']}"}
    for cwd in (None, os.getcwd()):
        status, out = await run(["cobrowse-probe-tool"], cwd, env)
        assert status == 0 and b"found-it" in out


async def test_errors_are_the_same_as_before(tmp_path: Path) -> None:
    not_executable = tmp_path / "plain-file"
    not_executable.write_text("echo no\n")
    for argv, words in ((["no-such-program-xyz"], "No such file"), ([str(not_executable)], "Permission denied"),
                        ([str(tmp_path)], "Permission denied")):
        for cwd in (None, os.getcwd()):
            with pytest.raises(ConfigError, match=words):
                await run(argv, cwd)


async def test_exit_statuses_and_signal_deaths() -> None:
    assert (await run(["sh", "-c", "exit 7"], None))[0] == 7
    assert (await run(["sh", "-c", "kill -KILL $$"], None))[0] == -signal.SIGKILL


async def test_an_eof_typed_at_once_still_ends_the_shell() -> None:
    """A customer's piped stdin that ends right after the program starts: the EOF character
    waits for the shell's first output (its line editor on), else bash would read it as NUL
    after leaving canonical mode and never exit. A silent program gets it after a moment."""
    for _ in range(10):
        async with asyncio.timeout(10):
            async with await PtyProcess.spawn(["bash", "--norc", "--noprofile"], 80, 24, env={**ENV, "PS1": "$ "},
                                              on_output=lambda data: None) as proc:
                proc.send_eof()
                assert await proc.wait() == 0
    async with asyncio.timeout(10):
        async with await PtyProcess.spawn(["cat"], 80, 24, env=ENV, on_output=lambda data: None) as proc:
            proc.send_eof()
            assert await proc.wait() == 0
