"""A hostile agent's patterns against the real customer runtime: a real relay on 127.0.0.1,
a real agent runtime sending what a modified agent could send (catastrophic redaction,
playbook and pointer patterns), a real shell on a real pty. The customer's typing still
echoes, each pattern is switched off (or refused) and both sides are told once.
Behaviour only: no timing is asserted; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from cobrowse.io.agent import AgentRuntime
from cobrowse.io.customer import CustomerRuntime
from relay.server import RelayServer
from tests.io.runtime_pair import runtime_pair
from tests.io.test_resume import Recorder

A_LINE = "a" * 40 + "!"  # (a|aa)+$ backtracks exponentially on it
X_LINE = "x" * 50  # (?:x|xx|xxx)+y too
SHELL_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PS1": "$ ", "HOME": os.environ.get("HOME", "/"),
             "TERM": "xterm-256color"}


@dataclass
class Session:
    agent: AgentRuntime
    agent_events: Recorder
    customer: CustomerRuntime
    customer_events: Recorder
    output: bytearray
    output_changed: asyncio.Event

    async def typed(self, text: str) -> None:
        """The customer types ``text`` and Enter into their shell."""
        await self.customer.local_input(text.encode() + b"\r")

    async def output_shows(self, needle: bytes, start: int = 0, timeout: float = 15.0) -> int:
        async with asyncio.timeout(timeout):
            while (i := self.output.find(needle, start)) < 0:
                self.output_changed.clear()
                await self.output_changed.wait()
        return i + len(needle)

    async def echoes(self, mark: str) -> None:
        """The customer's own keys still reach the shell and come back, and the agent sees it."""
        start = len(self.output)
        await self.typed(f"echo {mark}-$((6*7))")
        await self.output_shows(f"{mark}-42".encode(), start)
        await self.agent_events.until(lambda: any(f"{mark}-42" in line for e in self.agent_events.of("screen")
                                                  for line in e["lines"]), timeout=15)

    def pattern_notices(self, pattern: str) -> list[dict[str, Any]]:
        return [e for e in self.customer_events.of("notice")
                if e.get("kind") == "agent_pattern" and e.get("pattern") == pattern]

    def agent_errors(self, pattern: str) -> list[str]:
        return [e["message"] for e in self.agent_events.of("error") if repr(pattern) in e["message"]]

    async def until_told(self, pattern: str, again: Callable[[], Any], tries: int = 20) -> dict[str, Any]:
        """Repeat the attack (bounded) until the customer's cobrowse switches the pattern off:
        a pattern that meets a spent CPU share is only skipped until the share refills."""
        for _ in range(tries):
            await again()
            try:
                await self.customer_events.until(lambda: self.pattern_notices(pattern), timeout=2)
                break
            except TimeoutError:
                continue
        (notice,) = self.pattern_notices(pattern)
        await self.agent_events.until(lambda: self.agent_errors(pattern), timeout=10)
        return notice


@pytest.fixture
async def session(relay: RelayServer) -> AsyncIterator[Session]:
    output, changed = bytearray(), asyncio.Event()

    def tap(data: bytes) -> None:
        output.extend(data)
        changed.set()

    async with runtime_pair(relay, ["sh"], SHELL_ENV, cols=100, rows=30, tap=tap, control_cooldown=0) as pair:
        agent_events, customer_events = pair.agent_events, pair.customer_events
        await agent_events.until(lambda: agent_events.of("paired") and agent_events.of("consent"))
        await customer_events.until(lambda: customer_events.of("paired"))
        yield Session(pair.agent, agent_events, pair.customer, customer_events, output, changed)


def printing(line: str, count: int = 300) -> str:
    """A command printing ``count`` copies of ``line`` (the command line does not hold it)."""
    half = len(line) // 2
    return f"{sys.executable} -c \"print(('{line[:half]}' + '{line[half:]}' + chr(10)) * {count}, end='')\""


async def test_catastrophic_redaction_patterns_are_switched_off_and_the_terminal_keeps_echoing(session: Session) -> None:
    await session.agent.command({"cmd": "redact", "patterns": [r"(a|aa)+$", r"(a+)+$", r"ACME-\d{4}"]})
    await session.customer_events.until(lambda: any("masks 2 more" in e["message"] for e in session.customer_events.of("notice")))
    await session.customer_events.until(lambda: session.pattern_notices(r"(a+)+$"))
    (refused,) = session.pattern_notices(r"(a+)+$")  # by its shape, before it ever ran
    assert refused["state"] == "refused" and refused["reason"] == "nested_repetition"

    notice = await session.until_told(r"(a|aa)+$", lambda: session.typed(printing(A_LINE)))
    assert notice["state"] == "switched_off" and notice["label"] == "redaction pattern"
    assert "switched off" in notice["message"] and "'(a|aa)+$'" in notice["message"]
    (told,) = session.agent_errors(r"(a|aa)+$")
    assert told.startswith("the customer's cobrowse switched off your redaction pattern '(a|aa)+$'")

    await session.echoes("MARK")
    await session.typed("echo id ACME-1234")  # the other pattern still masks
    await session.agent_events.until(lambda: any("id ACME" not in line and "id ░░░░░░░░░" in line
                                                 for e in session.agent_events.of("screen") for line in e["lines"]))
    assert len(session.pattern_notices(r"(a|aa)+$")) == 1 and len(session.agent_errors(r"(a|aa)+$")) == 1


async def test_catastrophic_playbook_and_pointer_patterns_are_switched_off_and_the_terminal_keeps_echoing(
        session: Session) -> None:
    await session.agent.command({"cmd": "steps", "title": "hostile", "steps": [
        {"title": "one", "expect": r"(?:x|xx|xxx)+y", "fail": r"(\w+\s?)+$"},
        {"title": "two", "expect": "never"}]})
    await session.customer_events.until(lambda: session.customer_events.of("steps"))
    await session.customer_events.until(lambda: session.pattern_notices(r"(\w+\s?)+$"))
    (refused,) = session.pattern_notices(r"(\w+\s?)+$")
    assert refused["state"] == "refused" and refused["label"] == "step 1 failure pattern (fail:)"

    notice = await session.until_told(r"(?:x|xx|xxx)+y", lambda: session.typed(printing(X_LINE)))
    assert notice["state"] == "switched_off" and notice["label"] == "step 1 success pattern (expect:)"
    assert any("step 1 success pattern" in m for m in session.agent_errors(r"(?:x|xx|xxx)+y"))
    assert session.customer.steps is not None and session.customer.steps.current == 0  # not advanced by it
    await session.echoes("STEPS")

    pointer = r"(?:aa|a)+$"
    await session.typed(printing(A_LINE, 40))
    await session.output_shows(A_LINE.encode() + b"\r\n" + A_LINE.encode())
    notice = await session.until_told(pointer, lambda: session.agent.command({"cmd": "point", "pattern": pointer}))
    assert notice["label"] == "pointer pattern" and notice["state"] == "switched_off"
    last = session.customer_events.of("pointer")[-1]
    assert last["rows"] == [] and "switched off" in last["message"]
    await session.echoes("POINT")
    # The step can still be completed by hand, and the session goes on.
    await session.agent.command({"cmd": "step", "index": 0, "status": "done"})
    await session.agent_events.until(lambda: any(e.get("current") == 1 for e in session.agent_events.of("steps")))
