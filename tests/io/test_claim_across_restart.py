"""A claim not yet confirmed when the relay dies (issue 13): the relay keeps only confirmed
claims across a restart, so the claimant cannot resume; it is told the code still works
and to enter it again, and the same code does pair on the restarted relay. A real
``python -m relay`` process with its session store, killed with SIGKILL and started again."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cobrowse.io.agent import AgentRuntime
from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.link import RelayLink
from cobrowse.io.runtime import CLAIM_LOST
from tests.io.test_resume import Recorder, stop
from tests.relay.soak import RelayProc


async def test_an_unconfirmed_claimant_is_told_to_enter_the_code_again_and_it_works(tmp_path: Path) -> None:
    relay = RelayProc(tmp_path / "relay-data")
    relay.start()
    agent_events, first_events, second_events = Recorder(), Recorder(), Recorder()
    agent = AgentRuntime(RelayLink(relay.url, "agent", reconnect_for=20), agent_events)
    code = await agent.create()
    tasks = [asyncio.create_task(agent.run())]
    try:
        first = CustomerRuntime(RelayLink(relay.url, "customer", reconnect_for=20), first_events)
        await first.join(code)  # claimed, on probation: it has not answered the handshake yet
        await asyncio.to_thread(relay.kill9)
        await asyncio.to_thread(relay.start)
        async with asyncio.timeout(30):
            outcome = await first.run()
        assert outcome.reason == "bad_resume" and outcome.message == CLAIM_LOST
        assert "start a new session" not in outcome.message

        await agent_events.until(lambda: any(e["state"] == "resumed" for e in agent_events.of("connection")), 20)
        second = CustomerRuntime(RelayLink(relay.url, "customer", reconnect_for=20), second_events)
        await second.join(code)  # the same code, entered again
        tasks.append(asyncio.create_task(second.run()))
        await agent_events.until(lambda: agent_events.of("paired"), 20)
        await second_events.until(lambda: second_events.of("paired"), 20)
        assert agent_events.of("paired")[0]["sas"] == second_events.of("paired")[0]["sas"]
        await stop(tasks, agent, second)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        relay.stop()
