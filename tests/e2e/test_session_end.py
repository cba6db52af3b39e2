"""The end of a session reaches the other side on both paths: 20 real sessions per path
(headless agent, `cobrowse join` in plain mode, a real relay on 127.0.0.1) end with the
customer's feedback, and the agent gets every answer.

Before: on the direct path the feedback went into the data channel's buffers and the
customer closed its relay link at once, so the agent heard "gone" first (3 of 7 runs)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.e2e.harness import Proc

SESSIONS = 20
AT_ONCE = 4
PATHS = {"relay": {"COBROWSE_DIRECT": "0"},
         "direct": {"COBROWSE_DIRECT": "1", "COBROWSE_MIC": "tone:440", "COBROWSE_SPEAKER": "none"}}


async def one_session(relay_url: str, path: str, n: int) -> tuple[str, dict[str, object]]:
    env = PATHS[path]
    agent = await Proc.start("agent", "--headless", "--relay", relay_url, name=f"agent {path} {n}", env=env)
    customer: Proc | None = None
    try:
        code = (await agent.event("code"))["code"]
        customer = await Proc.start("join", code, "--relay", relay_url, "--command", "bash --norc --noprofile",
                                    name=f"customer {path} {n}", env={**env, "PS1": "$ ", "TERM": "xterm-256color"})
        await agent.event("hello", role="customer")
        if path == "direct":
            await agent.event("path", path="direct")
        await agent.send({"cmd": "end", "feedback": True})
        await customer.stderr_line("Was your problem solved?")
        await customer.send(b"y" + str(1 + n % 5).encode())
        assert await customer.wait() == 0
        assert await agent.wait() == 0
        await customer.stderr_line("thank you")
        ended = await agent.event("ended")
        return path, {"feedback": ended["feedback"], "paths": [e["path"] for e in agent.all("path")], "n": n}
    finally:
        await agent.kill()
        if customer is not None:
            await customer.kill()


@pytest.mark.parametrize("path", list(PATHS))
async def test_every_feedback_reaches_the_agent(relay_url: str, data_dir: Path, path: str) -> None:
    gate = asyncio.Semaphore(AT_ONCE)

    async def bounded(n: int) -> tuple[str, dict[str, object]]:
        async with gate:
            return await one_session(relay_url, path, n)

    results = await asyncio.gather(*(bounded(n) for n in range(SESSIONS)))
    lost = [r for _, r in results if r["feedback"] != {"status": "answered", "solved": True, "rating": 1 + int(r["n"]) % 5}]  # type: ignore[call-overload]
    assert not lost, f"{len(lost)} of {SESSIONS} answers lost on the {path} path: {lost[:3]}"
    if path == "direct":  # each session really ended on the direct path
        assert all(r["paths"] and r["paths"][-1] == "direct" for _, r in results), [r["paths"] for _, r in results]  # type: ignore[index]
