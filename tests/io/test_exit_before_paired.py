"""A shared program that exits while the pairing is still under way (`join CODE --command
'echo hi'`: the program starts before the handshake ends). The customer closed at once: the
relay took it for a claimant that guessed and left (a failure counted against the code), and
the agent, already paired on its side, ended with "claim_timeout" and two "relay error:
not_in_session" lines (3 of 12 runs from the shell). The customer now lets the pairing finish
(bounded) and ends as usual: the agent hears why."""

from __future__ import annotations

import asyncio

from cobrowse.io.agent import AgentRuntime
from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.link import RelayLink
from relay.server import RelayServer
from tests.io.test_resume import Recorder


async def test_a_program_that_exits_during_pairing_ends_the_session_as_exited(relay: RelayServer) -> None:
    agent_events, customer_events = Recorder(), Recorder()
    agent = AgentRuntime(RelayLink(relay.url, "agent", reconnect_for=5), agent_events)
    code = await agent.create()
    customer = CustomerRuntime(RelayLink(relay.url, "customer", reconnect_for=5), customer_events,
                               write_program=lambda data: None, control_cooldown=0, prompt_arming=0)
    await customer.join(code)
    tasks = [asyncio.create_task(agent.run()), asyncio.create_task(customer.run())]
    try:
        assert not customer.paired
        await asyncio.wait_for(customer.program_exited(0), 10)
        await agent_events.until(lambda: agent_events.of("ended"), timeout=10, what="the agent's end")
        assert agent_events.of("ended")[-1]["reason"] == "command_exited", agent_events.of("ended")
        assert customer.outcome is not None and customer.outcome.reason == "command_exited"
        assert not agent_events.of("error")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
