"""The customer's side ends the session on both paths and the agent still gets the end and
the last screen: the shared program prints a line and exits (the session ends with it), or
the customer presses Ctrl-] e twice. Real processes, a real relay on 127.0.0.1."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.e2e.harness import Proc
from tests.e2e.test_session_end import AT_ONCE, PATHS

SESSIONS = 4


async def one_session(relay_url: str, path: str, n: int) -> dict[str, object]:
    env = PATHS[path]
    agent = await Proc.start("agent", "--headless", "--relay", relay_url, name=f"agent {path} {n}", env=env)
    customer: Proc | None = None
    by_keys = n % 2 == 1
    command = "bash --norc --noprofile" if by_keys else f"sh -c 'read x; echo LAST-{n}-$x; exit 0'"
    try:
        code = (await agent.event("code"))["code"]
        customer = await Proc.start("join", code, "--relay", relay_url, "--command", command,
                                    name=f"customer {path} {n}", env={**env, "PS1": "$ ", "TERM": "xterm-256color"})
        await agent.event("hello", role="customer")
        if path == "direct":
            await agent.event("path", path="direct")
        if by_keys:
            await customer.send(f"echo LAST-{n}-$((40+2))\r")
            await agent.screen(lambda lines: any(f"LAST-{n}-42" in line for line in lines))
            await customer.send(b"\x1de")
            await customer.stderr_line("to end the session")
            await customer.send(b"\x1de")
        else:
            await customer.send(b"42\r")  # the program prints its last line and exits at once
        assert await customer.wait() == 0
        assert await agent.wait() == 0
        ended = await agent.event("ended")
        screens = agent.all("screen")
        last = screens[-1]["lines"] if screens else []
        return {"n": n, "reason": ended["reason"], "last": any(f"LAST-{n}-42" in line for line in last)}
    finally:
        await agent.kill()
        if customer is not None:
            await customer.kill()


@pytest.mark.parametrize("path", list(PATHS))
async def test_the_customers_end_and_last_screen_reach_the_agent(relay_url: str, data_dir: Path, path: str) -> None:
    gate = asyncio.Semaphore(AT_ONCE)

    async def bounded(n: int) -> dict[str, object]:
        async with gate:
            return await one_session(relay_url, path, n)

    results = await asyncio.gather(*(bounded(n) for n in range(SESSIONS)))
    wrong = [r for r in results
             if r["reason"] != ("customer_ended" if int(r["n"]) % 2 else "command_exited") or not r["last"]]  # type: ignore[call-overload]
    assert not wrong, f"{len(wrong)} of {SESSIONS} ends went wrong on the {path} path: {wrong}"
