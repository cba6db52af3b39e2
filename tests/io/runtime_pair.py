"""A paired agent runtime and customer runtime on a real relay, sharing a real program on a
real pty (tests/io/test_link_echo.py, test_agent_patterns.py): started, paired, and ended
and awaited (bounded) afterwards, whatever the test did."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from cobrowse.io.agent import AgentRuntime
from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.link import RelayLink
from cobrowse.io.pty import PtyProcess
from relay.server import RelayServer
from tests.io.test_resume import Recorder


@dataclass
class RuntimePair:
    agent: AgentRuntime
    agent_events: Recorder
    customer: CustomerRuntime
    customer_events: Recorder


@asynccontextmanager
async def runtime_pair(relay: RelayServer, argv: list[str], env: dict[str, str], *, cols: int = 80, rows: int = 24,
                       predict: bool = True, tap: Callable[[bytes], None] | None = None, agent_url: str | None = None,
                       **customer_options: Any) -> AsyncIterator[RuntimePair]:
    """``argv`` on a ``cols`` x ``rows`` pty shared by a customer runtime (``customer_options``)
    with an agent runtime (without its predictions: ``predict=False``); ``tap`` sees the
    program's output before the customer does. Yields once both run; the caller waits for
    what it needs (pairing, consent). ``agent_url``: where the agent reaches the relay (a
    shaper in front of it, tests/io/test_frame_pace.py), else where the customer does."""
    url = f"ws://127.0.0.1:{relay.port}"
    agent_events, customer_events = Recorder(), Recorder()
    agent = AgentRuntime(RelayLink(agent_url or url, "agent", reconnect_for=10), agent_events)
    if not predict:
        agent.local_echo = None  # the screens the agent gets, not its predictions
    code = await agent.create()
    process = await PtyProcess.spawn(argv, cols, rows, env=env)
    customer = CustomerRuntime(RelayLink(url, "customer", reconnect_for=10), customer_events, cols=cols, rows=rows,
                               write_program=process.write, **customer_options)

    def tapped(data: bytes) -> None:
        assert tap is not None
        tap(data)
        customer.program_output(data)

    process.set_output_handler(customer.program_output if tap is None else tapped)
    await customer.join(code)
    tasks = [asyncio.create_task(agent.run()), asyncio.create_task(customer.run())]
    try:
        yield RuntimePair(agent, agent_events, customer, customer_events)
    finally:
        for runtime in (agent, customer):
            if runtime.outcome is None:
                await runtime.end("agent_ended" if runtime.role == "agent" else "customer_ended")
        async with asyncio.timeout(10):
            await asyncio.gather(*tasks, return_exceptions=True)
        await process.terminate()
        process.close()
