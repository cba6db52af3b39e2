"""The customer's answer to "was it solved?" reaches the agent on the direct path too.

The customer sends its answer, then closes the relay session at once; on the direct path
the answer travels on the data channel while the close travels through the relay, so the
close can come first (1 run in 7 with real processes on one machine). The agent then waits
a moment for what is still on the direct path before saying the customer left without
answering (``gone``). Real aiortc peers on 127.0.0.1 and a real relay (tests/io/test_rtc.py);
the race is made certain by holding the customer's data-channel frames back 0.3 s."""

from __future__ import annotations

import asyncio
from typing import Any

from cobrowse.policy.agent_commands import End
from tests.io.test_resume import stop
from tests.io.test_rtc import on_path, paired


async def test_an_answer_still_on_the_direct_path_is_waited_for(relay_url: str) -> None:
    agent, agent_events, customer, customer_events, tasks = await paired(relay_url)
    customer.ask_feedback = True
    try:
        await on_path(agent_events, "direct")
        await on_path(customer_events, "direct")
        await agent_events.until(lambda: agent_events.of("hello"))
        ending = asyncio.create_task(agent.command(End(feedback=True)))
        await customer_events.until(lambda: customer_events.of("feedback_prompt"))
        channel = customer.rtc._channel
        send = channel.send
        loop = asyncio.get_running_loop()

        def late(data: Any) -> None:  # in flight while the relay already says the customer left
            loop.call_later(0.3, send, data)

        channel.send = late
        await customer.give_feedback("yes", 5)
        async with asyncio.timeout(10):
            await ending
        assert agent_events.of("ended")[-1]["feedback"] == {"status": "answered", "solved": True, "rating": 5}
    finally:
        await stop(tasks, agent, customer)


async def test_on_the_direct_path_the_answer_arrives(relay_url: str) -> None:
    agent, agent_events, customer, customer_events, tasks = await paired(relay_url)
    customer.ask_feedback = True
    try:
        await on_path(agent_events, "direct")
        await agent_events.until(lambda: agent_events.of("hello"))
        ending = asyncio.create_task(agent.command(End(feedback=True)))
        await customer_events.until(lambda: customer_events.of("feedback_prompt"))
        await customer.give_feedback("no", 2)
        async with asyncio.timeout(10):
            await ending
        assert agent_events.of("ended")[-1]["feedback"] == {"status": "answered", "solved": False, "rating": 2}
    finally:
        await stop(tasks, agent, customer)
