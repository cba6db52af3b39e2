"""``python -m cobrowse ...`` on a pty of ours, as a person's terminal runs it: the join prompt's
tests (tests/e2e/test_pairing_prompt.py, test_pairing_ahead.py) type the code as a terminal
sends it and read what is shown, escape sequences removed. Every wait bounded."""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import struct
import sys
import termios

from tests.e2e.harness import Proc

BASH = "bash --norc --noprofile"
PROMPT = "Enter the code your agent read to you"
WAIT = 20.0
ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_]|.)")


class PtyProc:
    """``python -m cobrowse ...`` with stdin, stdout and stderr on a pty of ours (a terminal)."""

    def __init__(self, proc: asyncio.subprocess.Process, master: int) -> None:
        self.proc, self.master = proc, master
        self.output = bytearray()
        self.changed = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_reader(master, self._readable)

    @classmethod
    async def start(cls, *args: str, size: tuple[int, int] = (100, 30)) -> PtyProc:
        master, slave = os.openpty()
        cols, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COBROWSE_CONFIG": os.devnull, "TERM": "xterm-256color",
               "PS1": "$ ", "COBROWSE_LANG": "en"}
        env.pop("COBROWSE_RELAY", None)
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "cobrowse", *args, stdin=slave, stdout=slave,
                                                    stderr=slave, env=env, start_new_session=True,
                                                    preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(slave)
        os.set_blocking(master, False)
        return cls(proc, master)

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self.master)
        self.output.extend(data)
        self.changed.set()

    def text(self) -> str:
        return ESCAPES.sub("", self.output.decode(errors="replace"))

    async def until(self, needle: str, timeout: float = WAIT, after: int = 0) -> int:
        """Where ``needle`` first shows in the output (escape sequences removed) past ``after``."""
        try:
            async with asyncio.timeout(timeout):
                while (at := self.text().find(needle, after)) < 0:
                    self.changed.clear()
                    if self.proc.returncode is not None:
                        await asyncio.sleep(0.1)
                        if (at := self.text().find(needle, after)) >= 0:
                            return at
                        raise AssertionError(f"exited {self.proc.returncode} before {needle!r}: {self.text()[-600:]!r}")
                    with_timeout = asyncio.ensure_future(self.changed.wait())
                    await asyncio.wait({with_timeout}, timeout=0.3)
                    with_timeout.cancel()
        except TimeoutError:
            raise AssertionError(f"no {needle!r} in {timeout}s: {self.text()[-600:]!r}") from None
        return at

    async def type(self, data: bytes) -> None:
        os.write(self.master, data)
        await asyncio.sleep(0)

    async def wait(self, timeout: float = WAIT) -> int:
        async with asyncio.timeout(timeout):
            return await self.proc.wait()

    async def close(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        try:
            asyncio.get_running_loop().remove_reader(self.master)
        except (ValueError, OSError):
            pass
        os.close(self.master)


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return found


def assert_terminal_restored(customer: PtyProc) -> None:
    """The terminal is back in canonical mode with echo, as the shell left it."""
    lflag = termios.tcgetattr(customer.master)[3]
    assert lflag & termios.ICANON and lflag & termios.ECHO


async def paired_then_ended(agent: Proc, customer: PtyProc, seen: str = "Compare these words", after: int = 0) -> None:
    """The agent sees the pairing and the customer ``seen``; the agent ends the session and
    the customer's cobrowse leaves with 0."""
    await agent.event("paired")
    await customer.until(seen, after=after)
    await agent.send({"cmd": "end"})
    assert await customer.wait() == 0
