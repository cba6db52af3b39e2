"""A claim not yet confirmed when the relay dies (issue 13): the relay keeps only confirmed
claims across a restart, so the claimant cannot resume (``bad_resume``); it claims the same
code again on the restarted relay, both sides start the handshake afresh, and they pair.
A real ``python -m relay`` process with its session store, killed with SIGKILL and started
again; a real agent and customer runtime."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cobrowse.io.agent import AgentRuntime
from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.link import RelayLink
from cobrowse.io.joining import RECLAIMING
from tests.io.test_resume import Recorder, stop
from tests.waiting import until
from tests.relay.soak import RelayProc


@pytest.mark.parametrize("guessed", [False, True])
async def test_an_unconfirmed_claimant_claims_again_after_a_restart_and_pairs(tmp_path: Path, guessed: bool) -> None:
    relay = RelayProc(tmp_path / "relay-data")
    relay.start()
    agent_events, customer_events = Recorder(), Recorder()
    agent = AgentRuntime(RelayLink(relay.url, "agent", reconnect_for=20), agent_events)
    code = await agent.create()
    tasks = [asyncio.create_task(agent.run())]
    customer = CustomerRuntime(RelayLink(relay.url, "customer", reconnect_for=20), customer_events)
    try:
        await customer.join(code)  # claimed, on probation: it has not answered the handshake yet
        await until(lambda: agent.session is not None and agent.session.state == "handshaking",
                    "the agent's SPAKE2 message (its guess)", 10)
        assert agent.session is not None
        if guessed:  # the claimant's SPAKE2 message reached the agent; no confirmation went back
            assert customer.session is not None
            customer.session.peer_joined(customer.now)
            for frame in customer.session.data_to_send():
                await customer.link.send(frame)
            await until(lambda: agent.session is not None and agent.session.peer_tried, "the claimant's guess at the agent", 10)
            assert not agent.paired
        await asyncio.to_thread(relay.kill9)
        await asyncio.to_thread(relay.start)
        tasks.append(asyncio.create_task(customer.run()))
        await customer_events.until(lambda: customer_events.of("paired"), 30)
        await agent_events.until(lambda: agent_events.of("paired"), 30)
        await agent_events.until(lambda: agent_events.of("hello"), 20)
        assert agent_events.of("paired")[-1]["sas"] == customer_events.of("paired")[-1]["sas"]
        assert len(agent_events.of("paired")) == 1  # the agent paired once, with the claim made again
        assert [e["message"] for e in customer_events.of("warning") if e["kind"] == "reclaim"] == [RECLAIMING]
        assert not customer_events.of("ended") and not agent_events.of("ended")
        assert not [e for e in customer_events.of("error") + agent_events.of("error")], customer_events.events
    finally:
        await stop(tasks, agent, customer)
        relay.stop()
