"""qa9: the agent pressed end and the relay logged ``ended (reason agent_ended, ..., by the
customer)``: the customer's client, hearing the agent's sealed End, closes its relay session
first. The relay cannot read who pressed end; a ``by`` contradicting the reason is not said.
Real relay on 127.0.0.1, real runtimes, the relay's human log line."""

from __future__ import annotations

import asyncio
import logging

from cobrowse.io.agent import AgentRuntime
from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.link import RelayLink
from relay.logs import HumanFormatter
from relay.server import RelayServer
from tests.io.test_resume import Recorder


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(HumanFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def _ended_line(relay: RelayServer, ender: str) -> str:
    url = f"ws://127.0.0.1:{relay.port}"
    agent = AgentRuntime(RelayLink(url, "agent", reconnect_for=10), Recorder())
    code = await agent.create()
    customer = CustomerRuntime(RelayLink(url, "customer", reconnect_for=10), Recorder(), cols=80, rows=24,
                               write_program=lambda data: None)
    await customer.join(code)
    tasks = [asyncio.create_task(agent.run()), asyncio.create_task(customer.run())]
    handler = Lines()
    logger = logging.getLogger("relay")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        async with asyncio.timeout(10):
            while agent.peer is None or customer.peer is None:
                await asyncio.sleep(0.01)
        if ender == "agent":
            await agent.end("agent_ended")
        else:
            await customer.end("customer_ended")
        async with asyncio.timeout(10):
            await asyncio.gather(*tasks, return_exceptions=True)
            while not [line for line in handler.lines if " ended (" in line]:
                await asyncio.sleep(0.01)
        return next(line for line in handler.lines if " ended (" in line)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        for runtime in (agent, customer):
            if runtime.outcome is None:
                runtime.finish("test_over", "", 0)
        async with asyncio.timeout(10):
            await asyncio.gather(*tasks, return_exceptions=True)


async def test_the_agent_ending_is_never_logged_as_ended_by_the_customer(relay: RelayServer) -> None:
    line = await _ended_line(relay, "agent")
    assert "reason agent_ended" in line
    assert "by the customer" not in line


async def test_the_customer_ending_is_never_logged_as_ended_by_the_agent(relay: RelayServer) -> None:
    line = await _ended_line(relay, "customer")
    assert "reason customer_ended" in line
    assert "by the agent" not in line
