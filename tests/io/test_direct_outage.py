"""The direct path holds the session while the relay is away (issue 13).

Two real aiortc peers on 127.0.0.1 with the data channel up, and a real ``python -m relay``
process with its session store that is stopped (SIGTERM, as systemd does; or SIGKILL) and
started again on the same port and data directory. While it is down, the customer's screen
keeps reaching the agent and chat keeps flowing both ways on the data channel; when it is
back, both sides resume on it and nothing is lost or repeated.

``COBROWSE_OUTAGE_S`` lengthens the outage (the figure in docs/relay.md "Restarts").
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from cobrowse.protocol.messages import Chat
from tests.io.test_resume import stop
from tests.io.test_rtc import chats, on_path, paired
from tests.relay.soak import RelayProc

OUTAGE = float(os.environ.get("COBROWSE_OUTAGE_S", "3"))
STEP = 0.25


def shown(events: list[dict[str, object]], text: str) -> bool:
    return any(text in line for e in events for line in e["lines"])  # type: ignore[union-attr]


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
async def test_the_screen_and_chat_go_on_while_the_relay_is_down(tmp_path: Path, how: str) -> None:
    relay = RelayProc(tmp_path / "relay-data")
    relay.start()
    agent, agent_events, customer, customer_events, tasks = await paired(relay.url)
    try:
        await on_path(agent_events, "direct")
        await on_path(customer_events, "direct")
        customer.program_output(b"before the outage\r\n")
        await agent_events.until(lambda: shown(agent_events.of("screen"), "before the outage"))
        agent.link.reconnect_for = customer.link.reconnect_for = OUTAGE + 30  # as long as the outage lasts
        await asyncio.to_thread(relay.terminate if how == "sigterm" else relay.kill9)
        await agent_events.until(lambda: agent_events.of("connection"))
        await customer_events.until(lambda: customer_events.of("connection"))
        reconnecting = agent_events.of("connection")[0]
        assert reconnecting["state"] == "reconnecting" and reconnecting["direct"] is True, reconnecting
        assert "direct path" in reconnecting["message"], reconnecting
        steps = max(1, round(OUTAGE / STEP))
        for i in range(steps):  # the relay stays down all along: every line travels directly
            customer.program_output(f"during the outage {i}\r\n".encode())
            await agent.send(Chat(f"agent {i}"))
            await customer.send(Chat(f"customer {i}"))
            await agent_events.until(lambda: shown(agent_events.of("screen"), f"during the outage {i}"))
            await asyncio.sleep(STEP)
        await customer_events.until(lambda: len(chats(customer_events)) >= steps)
        await agent_events.until(lambda: len(chats(agent_events)) >= steps)
        assert not agent.link.connected.is_set() and not customer.link.connected.is_set()  # still down
        assert agent.rtc.path == customer.rtc.path == "direct"
        assert not agent_events.of("ended") and not customer_events.of("ended")

        await asyncio.to_thread(relay.start)
        await agent_events.until(lambda: any(e["state"] == "resumed" for e in agent_events.of("connection")), timeout=20)
        await customer_events.until(lambda: any(e["state"] == "resumed" for e in customer_events.of("connection")),
                                    timeout=20)
        customer.program_output(b"after the outage\r\n")
        await agent.send(Chat("agent after"))
        await agent_events.until(lambda: shown(agent_events.of("screen"), "after the outage"))
        await customer_events.until(lambda: "agent after" in chats(customer_events))
        assert chats(customer_events) == [f"agent {i}" for i in range(steps)] + ["agent after"]
        assert chats(agent_events) == [f"customer {i}" for i in range(steps)]
        assert not agent_events.of("ended") and not customer_events.of("ended")
        for runtime in (agent, customer):  # the relay has the session again: a fall back would work
            assert runtime.link.connected.is_set()
    finally:
        await stop(tasks, agent, customer)
        relay.stop()
