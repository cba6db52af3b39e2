"""``cobrowse join`` with no code: the prompt on a real pty, the code typed as a terminal sends
it, against a real relay and a real headless agent on 127.0.0.1 (cobrowse/cli/code_prompt.py).

Pairing through the prompt (plain mode and the app), a malformed code refused with the line
given back, Ctrl-D and Ctrl-C leaving with nothing left running, no terminal and no code, the
relay down said at once. Every wait bounded; no timing asserted."""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import signal
import socket
import struct
import sys
import termios
from typing import Any

from tests.e2e.harness import start_agent

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


def _children(pid: int) -> list[int]:
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


async def _joined_through_prompt(relay_url: str, *extra: str) -> tuple[Any, PtyProc]:
    agent = await start_agent(relay_url)
    code = (await agent.event("code"))["code"]
    customer = await PtyProc.start("join", "--relay", relay_url, "--command", BASH, *extra)
    await customer.until(PROMPT)
    await customer.type(code.encode())  # as a terminal sends typing: bytes, then Enter's CR
    await customer.type(b"\r")
    await agent.event("paired")
    await agent.screen(lambda lines: any(line.startswith("$") for line in lines))
    return agent, customer


async def test_plain_pairs_through_the_prompt(relay_url: str) -> None:
    agent, customer = await _joined_through_prompt(relay_url, "--plain")
    try:
        await customer.until("Compare these words")
        await customer.type(b"echo typed-$((6*7))\r")
        await agent.screen(lambda lines: any("typed-42" in line for line in lines))
        await agent.send({"cmd": "end"})
        assert await customer.wait() == 0
    finally:
        await agent.kill()
        await customer.close()


async def test_the_app_pairs_through_the_prompt(relay_url: str) -> None:
    agent, customer = await _joined_through_prompt(relay_url)
    try:
        await customer.until("Your terminal is visible")
        await agent.send({"cmd": "end"})
        assert await customer.wait() == 0
    finally:
        await agent.kill()
        await customer.close()


async def test_a_malformed_code_is_refused_and_kept_to_fix(relay_url: str) -> None:
    agent = await start_agent(relay_url)
    code = (await agent.event("code"))["code"]
    customer = await PtyProc.start("join", "--relay", relay_url, "--command", BASH, "--plain")
    try:
        first = await customer.until(PROMPT)
        await customer.type(code[:-3].encode() + b"\r")  # digits missing
        refused = await customer.until("too short for a session code", after=first)
        second = await customer.until(PROMPT, after=refused)
        assert customer.text()[second:].rstrip().endswith(code[:-3])  # the line comes back as typed
        await customer.type(code[-3:].encode() + b"\r")  # finished, not retyped
        await agent.event("paired")
        await customer.until("Compare these words")
        await agent.send({"cmd": "end"})
        assert await customer.wait() == 0
    finally:
        await agent.kill()
        await customer.close()


async def _leaves(relay_url: str, key: bytes, expected: int, *extra: str) -> str:
    customer = await PtyProc.start("join", "--relay", relay_url, "--command", BASH, *extra)
    try:
        await customer.until(PROMPT)
        await customer.type(b"42-71")
        await customer.until("42-71")
        if key == b"\x04":
            await customer.type(b"\x15")  # Ctrl-D leaves on an empty line
        await customer.type(key)
        assert await customer.wait() == expected, customer.text()
        assert _children(customer.proc.pid) == []
        _assert_terminal_restored(customer)
        return customer.text()
    finally:
        await customer.close()


def _assert_terminal_restored(customer: PtyProc) -> None:
    """The terminal is back in canonical mode with echo, as the shell left it."""
    lflag = termios.tcgetattr(customer.master)[3]
    assert lflag & termios.ICANON and lflag & termios.ECHO


async def test_ctrl_d_leaves_cleanly(relay_url: str) -> None:
    text = await _leaves(relay_url, b"\x04", 0, "--plain")
    assert "no code entered: nothing was shared" in text


async def test_ctrl_c_leaves_cleanly(relay_url: str) -> None:
    text = await _leaves(relay_url, b"\x03", 130)
    assert "interrupted" in text


async def test_sigterm_at_the_prompt_leaves_the_terminal_as_it_was(relay_url: str) -> None:
    customer = await PtyProc.start("join", "--relay", relay_url, "--plain")
    try:
        await customer.until(PROMPT)
        customer.proc.send_signal(signal.SIGTERM)
        assert await customer.wait() == 0
        _assert_terminal_restored(customer)
    finally:
        await customer.close()


async def test_no_terminal_and_no_code_is_a_usage_error(relay_url: str) -> None:
    env = {**os.environ, "COBROWSE_CONFIG": os.devnull, "COBROWSE_LANG": "en"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "cobrowse", "join", "--relay", relay_url,
                                                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, env=env)
    async with asyncio.timeout(WAIT):
        out, err = await proc.communicate(b"")
    assert proc.returncode == 2
    assert "no code given" in err.decode() and "cobrowse join 42-7193-0518" in err.decode()


async def test_relay_down_is_said_at_the_prompt() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for extra in (("--plain",), ()):
        customer = await PtyProc.start("join", "--relay", f"ws://127.0.0.1:{port}", "--command", BASH, *extra)
        try:
            await customer.until("cannot reach the relay")
            assert await customer.wait() == 3
            assert _children(customer.proc.pid) == []
        finally:
            await customer.close()


def _unknown(code: str) -> str:
    """``code`` with another nameplate: a typo the relay knows no session for."""
    nameplate, secret = code.split("-", 1)
    return f"{int(nameplate) % 90 + 10 if int(nameplate) < 99 else 10}-{secret}"


async def test_no_session_with_that_code_asks_again_with_the_line_kept(relay_url: str) -> None:
    """A mistyped nameplate burns nothing: the message, the prompt again with what was typed
    (the app never starts), the typo fixed in place, then the session pairs (plain and app)."""
    for extra in (("--plain",), ()):
        agent = await start_agent(relay_url)
        code = (await agent.event("code"))["code"]
        customer = await PtyProc.start("join", "--relay", relay_url, "--command", BASH, *extra)
        try:
            first = await customer.until(PROMPT)
            wrong = _unknown(code)
            await customer.type(wrong.encode() + b"\r")
            refused = await customer.until("no session with that code: check the digits", after=first)
            second = await customer.until(PROMPT, after=refused)
            await customer.until(wrong, after=second)
            assert customer.text()[second:].rstrip().endswith(wrong)  # the line, kept for editing
            assert customer.proc.returncode is None and "could not start" not in customer.text()
            await customer.type(b"\x15" + code.encode() + b"\r")  # Ctrl-U, the right code
            await agent.event("paired")
            await customer.until("Compare these words" if extra else "Your terminal is visible", after=second)
            await agent.send({"cmd": "end"})
            assert await customer.wait() == 0
        finally:
            await agent.kill()
            await customer.close()


async def test_retries_are_bounded_then_end_as_on_the_command_line(relay_url: str) -> None:
    from cobrowse.cli.code_prompt import MAX_TRIES

    customer = await PtyProc.start("join", "--relay", relay_url, "--command", BASH, "--plain")
    try:
        after = 0
        for _ in range(MAX_TRIES):
            after = await customer.until(PROMPT, after=after) + 1
            await customer.type(b"\x1510-2345-6789\r")
        assert await customer.wait() == 4
        assert customer.text().count("no session with that code") == MAX_TRIES
        assert customer.text().count(PROMPT) == MAX_TRIES
        assert _children(customer.proc.pid) == []
        _assert_terminal_restored(customer)
    finally:
        await customer.close()


async def test_a_wrong_secret_burns_the_code_and_ends(relay_url: str) -> None:
    """The right nameplate with wrong digits reached the session: the key exchange fails, the
    code is burnt, and that ends as with the code on the command line (exit 5), not asked again."""
    agent = await start_agent(relay_url)
    code = (await agent.event("code"))["code"]
    nameplate, secret = code.split("-", 1)
    wrong = f"{nameplate}-{'1111' if not secret.startswith('1111') else '2222'}{secret[4:]}"
    customer = await PtyProc.start("join", "--relay", relay_url, "--command", BASH, "--plain")
    try:
        await customer.until(PROMPT)
        await customer.type(wrong.encode() + b"\r")
        assert await customer.wait() == 5
        assert customer.text().count(PROMPT) == 1
        assert _children(customer.proc.pid) == []
    finally:
        await agent.kill()
        await customer.close()
