"""Who the other side is is said once a pairing: a hostile agent's second ``hello`` mid-session
(a new name, an older screen format) changes nothing on the customer's side (its ``peer``, the
frame format it sends, what its front end announced) and is told as a warning. rev2 found the
runtime took it: the name the customer's front end shows, and ``scroll_ops`` with it. Real
relay and runtimes on 127.0.0.1; every wait bounded."""

from __future__ import annotations

from cobrowse import __version__
from cobrowse.protocol import messages as m
from relay.server import RelayServer
from tests.io.test_resume import paired_runtimes, stop


async def test_a_second_hello_in_one_pairing_is_ignored_and_told(relay: RelayServer) -> None:
    agent, agent_events, customer, customer_events, _, tasks = await paired_runtimes(relay.url)
    try:
        await customer_events.until(lambda: customer_events.of("hello"), what="the agent's hello")
        first = customer.peer
        assert first is not None and first.role == "agent"
        scroll_ops = customer.screen.scroll_ops
        await agent.send(m.Hello("agent", f"cobrowse {__version__}", "Acme Support (verified)", screen=1))
        await agent.command({"cmd": "chat", "text": "after"})
        await customer_events.until(lambda: any(e.get("text") == "after" for e in customer_events.of("chat")),
                                    what="the chat after the second hello")
        assert customer.peer is first
        assert customer.screen.scroll_ops == scroll_ops
        assert len(customer_events.of("hello")) == 1
        assert [w["kind"] for w in customer_events.of("warning")] == ["hello"]
        assert customer.outcome is None
    finally:
        await stop(tasks, agent, customer)
