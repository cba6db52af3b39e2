"""A hostile customer floods the agent with chat through a real relay: the agent's runtime
hands its front end the burst and one warning, not 300 lines (policy/agent.py
``FROM_CUSTOMER_BUDGETS``); the session goes on. Real relay and runtimes on 127.0.0.1;
every wait bounded; no timing asserted."""

from __future__ import annotations

from cobrowse.policy.agent import FROM_CUSTOMER_BUDGETS
from cobrowse.protocol import messages as m
from relay.server import RelayServer
from tests.io.test_resume import paired_runtimes, stop


async def test_a_customers_chat_flood_reaches_the_agent_as_its_burst_and_one_warning(relay: RelayServer) -> None:
    agent, agent_events, customer, customer_events, _, tasks = await paired_runtimes(relay.url)
    try:
        for i in range(300):
            await customer.send(m.Chat(f"spam {i}"))  # the runtime's own send: no front end's limits
        await customer.send(m.Chat("the last"))
        burst = int(FROM_CUSTOMER_BUDGETS["chat"].burst)
        await agent_events.until(lambda: len(agent_events.of("warning")) >= 1, what="the flood's warning")
        chats = [e["text"] for e in agent_events.of("chat") if e.get("from") == "customer"]
        # Tokens refill at 5 a second while the 301 messages cross: a few more than the burst.
        assert burst <= len(chats) <= burst + 10, len(chats)
        assert chats[:burst] == [f"spam {i}" for i in range(burst)]
        assert [w["kind"] for w in agent_events.of("warning")] == ["flood"]
        await agent.command({"cmd": "chat", "text": "still here"})
        await customer_events.until(lambda: any("still here" in str(e) for e in customer_events.of("chat")),
                                    what="the session going on")
    finally:
        await stop(tasks, agent, customer)
