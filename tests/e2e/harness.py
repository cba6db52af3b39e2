"""Run real `cobrowse` processes against a real relay on 127.0.0.1, with bounded waits."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

from tests.waiting import WaitTimedOut

CLI = [sys.executable, "-m", "cobrowse"]
WAIT = 20.0


class Proc:
    """A cobrowse subprocess: JSON events from stdout (headless) and lines from stderr."""

    def __init__(self, proc: asyncio.subprocess.Process, name: str) -> None:
        self.proc = proc
        self.name = name
        self.events: list[dict[str, Any]] = []
        self.stdout_raw = bytearray()
        self.stderr_lines: list[str] = []
        self._changed = asyncio.Event()
        self._tasks = [asyncio.create_task(self._read_stdout()), asyncio.create_task(self._read_stderr())]

    @classmethod
    async def start(cls, *args: str, name: str = "", env: dict[str, str] | None = None,
                    prefix: list[str] | None = None, cli: list[str] | None = None) -> "Proc":
        """``prefix`` runs the CLI under another program (e.g. ``ip netns exec NS``); ``cli``
        replaces ``python -m cobrowse`` (e.g. an installed ``cobrowse`` script)."""
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "COBROWSE_CONFIG": os.devnull, **(env or {})}
        full_env.pop("COBROWSE_RELAY", None)
        proc = await asyncio.create_subprocess_exec(
            *(prefix or []), *(cli or CLI), *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=full_env,
        )
        return cls(proc, name or args[0])

    async def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            self.stdout_raw.extend(line)
            try:
                event = json.loads(line)
            except ValueError:
                event = None
            if isinstance(event, dict):
                self.events.append(event)
            self._changed.set()
        self._changed.set()

    async def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            self.stderr_lines.append(line.decode(errors="replace").rstrip("\r\n"))
            self._changed.set()
        self._changed.set()

    async def _wait_for(self, check: Any, what: str, timeout: float) -> Any:
        async with asyncio.timeout(timeout):
            while True:
                self._changed.clear()
                found = check()
                if found is not None:
                    return found
                if self.proc.returncode is not None and all(t.done() for t in self._tasks):
                    raise AssertionError(f"{self.name} exited ({self.proc.returncode}) before {what}; stderr: {self.stderr_lines[-8:]}")
                try:
                    async with asyncio.timeout(0.5):
                        await self._changed.wait()
                except TimeoutError:
                    pass

    async def until(self, check: Any, what: str, timeout: float = WAIT) -> Any:
        """``check()``'s first truthy result, looked at again each time this process prints;
        fails at once if it exited first, and after ``timeout`` s (tests/waiting.py's wait, for
        a process)."""
        try:
            return await self._wait_for(lambda: check() or None, what, timeout)
        except TimeoutError:
            raise WaitTimedOut(f"{self.name}: no {what} in {timeout}s; events: {[e.get('event') for e in self.events][-20:]}; "
                               f"stderr: {self.stderr_lines[-8:]}") from None

    async def event(self, kind: str, timeout: float = WAIT, **match: Any) -> dict[str, Any]:
        """The first event of ``kind`` (matching ``match``) not yet consumed by this call."""
        def check() -> dict[str, Any] | None:
            for event in self.events:
                if event.get("event") == kind and all(event.get(k) == v for k, v in match.items()):
                    return event
            return None
        try:
            return await self._wait_for(check, f"event {kind} {match}", timeout)
        except TimeoutError:
            raise AssertionError(f"{self.name}: no {kind} {match} in {timeout}s; events: {[e.get('event') for e in self.events][-20:]}; stderr: {self.stderr_lines[-8:]}") from None

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == kind]

    async def stderr_line(self, needle: str, timeout: float = WAIT) -> str:
        def check() -> str | None:
            return next((line for line in self.stderr_lines if needle in line), None)
        try:
            return await self._wait_for(check, f"stderr {needle!r}", timeout)
        except TimeoutError:
            raise AssertionError(f"{self.name}: no stderr line with {needle!r} in {timeout}s; stderr: {self.stderr_lines[-12:]}") from None

    async def screen(self, predicate: Any, timeout: float = WAIT) -> dict[str, Any]:
        """The latest screen event once ``predicate(lines)`` holds."""
        def check() -> dict[str, Any] | None:
            screens = self.all("screen")
            if screens and predicate(screens[-1]["lines"]):
                return screens[-1]
            return None
        try:
            return await self._wait_for(check, "screen", timeout)
        except TimeoutError:
            last = self.all("screen")[-1:] or [{}]
            raise AssertionError(f"{self.name}: screen never matched; last: {last[0].get('lines')}") from None

    async def send(self, data: bytes | str | dict[str, Any]) -> None:
        if isinstance(data, dict):
            data = json.dumps(data) + "\n"
        if isinstance(data, str):
            data = data.encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        await self.proc.stdin.drain()

    async def wait(self, timeout: float = WAIT) -> int:
        try:
            async with asyncio.timeout(timeout):
                code = await self.proc.wait()
                await asyncio.gather(*self._tasks)
                return code
        except TimeoutError:
            raise AssertionError(f"{self.name} did not exit in {timeout}s; stderr: {self.stderr_lines[-8:]}") from None

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        for task in self._tasks:
            task.cancel()


async def start_agent(relay: str, *extra: str) -> Proc:
    return await Proc.start("agent", "--headless", "--relay", relay, *extra, name="agent")


async def start_customer(relay: str, code: str, *extra: str, command: str = "bash --norc --noprofile") -> Proc:
    return await Proc.start("join", code, "--relay", relay, "--command", command, *extra, name="customer",
                            env={"PS1": "$ ", "TERM": "xterm-256color"})


async def pair(relay: str, *, command: str = "bash --norc --noprofile", agent_relay: str | None = None) -> tuple[Proc, Proc, str]:
    agent = await start_agent(agent_relay or relay)
    code = (await agent.event("code"))["code"]
    customer = await start_customer(relay, code, command=command)
    await agent.event("paired")
    await customer.stderr_line("Compare these words")
    return agent, customer, code
