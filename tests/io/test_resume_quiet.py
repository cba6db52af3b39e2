"""A frame that arrived just before the link dropped, whose acknowledgement was lost with the
socket, comes again once the sides resume: the sender cannot know it arrived. That copy is
the protocol working, not a replay: neither person is warned about it (a relay restart
showed 'frame #387 arrived again (a replay ...)' to the customer and the agent)."""

from __future__ import annotations

import asyncio
from typing import Any

from cobrowse.io.agent import AgentRuntime
from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.link import RelayLink
from relay.server import RelayServer
from tests.io.test_resume import Recorder, stop


class DropOnChat(Recorder):
    """Aborts the customer's socket the moment a chat arrives: before its acknowledgement
    (due ACK_DELAY later) can leave."""

    def __init__(self) -> None:
        super().__init__()
        self.link: RelayLink | None = None

    def __call__(self, event: Any) -> None:
        super().__call__(event)
        if self.events[-1].get("event") == "chat" and self.link is not None:
            self.link.abort()
            self.link = None


async def test_a_frame_resent_after_a_drop_is_not_a_warning(relay: RelayServer) -> None:
    agent_events, customer_events = Recorder(), DropOnChat()
    agent = AgentRuntime(RelayLink(relay.url, "agent", reconnect_for=10), agent_events)
    code = await agent.create()
    customer_link = RelayLink(relay.url, "customer", reconnect_for=10)
    customer = CustomerRuntime(customer_link, customer_events, write_program=lambda data: None,
                               control_cooldown=0, prompt_arming=0)
    await customer.join(code)
    tasks = [asyncio.create_task(agent.run()), asyncio.create_task(customer.run())]
    try:
        await agent_events.until(lambda: agent_events.of("paired") and agent_events.of("consent"))
        await customer_events.until(lambda: customer_events.of("paired"))
        await asyncio.sleep(0.5)  # the handshake's own acknowledgements settle
        customer_events.link = customer_link
        await agent.command({"cmd": "chat", "text": "just before the drop"})
        await customer_events.until(lambda: any(e["state"] == "resumed" for e in customer_events.of("connection")),
                                    timeout=15, what="the customer's link resumed")
        await agent.command({"cmd": "chat", "text": "after the drop"})
        await customer_events.until(lambda: len(customer_events.of("chat")) >= 2, timeout=15)
        await asyncio.sleep(1.0)  # a resent copy would have arrived by now
        assert [e["text"] for e in customer_events.of("chat")] == ["just before the drop", "after the drop"]
        assert customer_events.of("warning") == []
        assert agent_events.of("warning") == []
    finally:
        await stop(tasks, agent, customer)
