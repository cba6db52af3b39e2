"""Dropped websockets on either side: the runtimes reconnect, resume, and lose or repeat nothing.

Both runtimes run in this process against a real relay on 127.0.0.1; a drop is a real
socket abort (no close handshake), as when a laptop changes networks.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cobrowse.io.agent import AgentRuntime
from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.link import RelayLink
from cobrowse.policy.events import as_json
from tests.waiting import until
from relay.server import RelayServer


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.changed = asyncio.Event()

    def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(as_json(event))  # the runtimes' typed events, in their headless shape
        self.changed.set()

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == kind]

    async def until(self, predicate: Any, timeout: float = 10.0, what: str = "the events awaited") -> None:
        """Woken by each event (``changed``), not polled; bounded by ``timeout``."""
        await until(predicate, what, timeout, changed=self.changed)


async def paired_runtimes(url: str) -> tuple[AgentRuntime, Recorder, CustomerRuntime, Recorder, bytearray, list[asyncio.Task[Any]]]:
    agent_events, customer_events = Recorder(), Recorder()
    program_input = bytearray()
    agent = AgentRuntime(RelayLink(url, "agent", reconnect_for=10), agent_events)
    code = await agent.create()
    customer = CustomerRuntime(RelayLink(url, "customer", reconnect_for=10), customer_events,
                               write_program=program_input.extend, control_cooldown=0, prompt_arming=0)
    await customer.join(code)
    tasks = [asyncio.create_task(agent.run()), asyncio.create_task(customer.run())]
    await agent_events.until(lambda: agent_events.of("paired") and agent_events.of("consent"))
    await customer_events.until(lambda: customer_events.of("paired"))
    return agent, agent_events, customer, customer_events, program_input, tasks


async def stop(tasks: list[asyncio.Task[Any]], *runtimes: Any) -> None:
    for runtime in runtimes:
        if runtime.outcome is None:
            await runtime.end("agent_ended" if runtime.role == "agent" else "customer_ended")
    async with asyncio.timeout(10):
        await asyncio.gather(*tasks, return_exceptions=True)


@pytest.mark.parametrize("dropped", ["customer", "agent"])
async def test_drop_either_side_loses_and_duplicates_nothing(relay: RelayServer, dropped: str) -> None:
    agent, agent_events, customer, customer_events, program_input, tasks = await paired_runtimes(relay.url)
    try:
        await customer.run_command("grant_control")  # an unverified agent: the tripwire's first press
        await customer.run_command("grant_control")
        await agent_events.until(lambda: agent_events.of("consent")[-1]["level"] == "control")
        victim = customer if dropped == "customer" else agent
        victim.link.abort()
        # both sides keep talking while the socket is down and while it comes back
        for i in range(5):
            await agent.command({"cmd": "chat", "text": f"agent-{i}"})
            await agent.command({"cmd": "keys", "data": f"k{i};"})
            await customer.run_command("chat", f"customer-{i}")
            await asyncio.sleep(0.05)
        await agent_events.until(lambda: len(agent_events.of("chat")) >= 5, timeout=15)
        await customer_events.until(lambda: len(customer_events.of("chat")) >= 5, timeout=15)
        await asyncio.sleep(0.5)  # anything duplicated would have arrived by now
        assert [e["text"] for e in agent_events.of("chat")] == [f"customer-{i}" for i in range(5)]
        assert [e["text"] for e in customer_events.of("chat")] == [f"agent-{i}" for i in range(5)]
        assert bytes(program_input) == b"".join(f"k{i};".encode() for i in range(5))
        victim_events = customer_events if dropped == "customer" else agent_events
        assert victim_events.of("connection")[0]["state"] == "reconnecting"
        assert any(e["state"] == "resumed" for e in victim_events.of("connection"))
        other = agent_events if dropped == "customer" else customer_events
        assert not other.of("warning") or all(w["kind"] in ("duplicate", "gap") for w in other.of("warning"))
        assert not victim_events.of("error") and not other.of("error")
        assert agent.outcome is None and customer.outcome is None
    finally:
        await stop(tasks, agent, customer)


async def test_screen_after_reconnect_is_current(relay: RelayServer) -> None:
    agent, agent_events, customer, _, _, tasks = await paired_runtimes(relay.url)
    try:
        customer.program_output(b"before the drop\r\n")
        await agent_events.until(lambda: any("before the drop" in e["lines"] for e in agent_events.of("screen")))
        agent.link.abort()
        customer.program_output(b"while the agent was away\r\n")
        await agent_events.until(
            lambda: any("while the agent was away" in e["lines"] for e in agent_events.of("screen")), timeout=15)
        last = agent_events.of("screen")[-1]
        assert last["lines"][:2] == ["before the drop", "while the agent was away"]
        assert last["cursor"] == [0, 2]
    finally:
        await stop(tasks, agent, customer)


async def test_round_trip_time_is_measured_end_to_end(relay: RelayServer) -> None:
    agent, _, customer, _, _, tasks = await paired_runtimes(relay.url)
    try:
        await until(lambda: agent.rtt_ms is not None and customer.rtt_ms is not None, "a round trip measured on both sides", 10)
        assert 0 < agent.rtt_ms < 1000
        assert 0 < customer.rtt_ms < 1000
    finally:
        await stop(tasks, agent, customer)


async def test_step_state_survives_a_reconnect(relay: RelayServer) -> None:
    agent, agent_events, customer, _, _, tasks = await paired_runtimes(relay.url)
    try:
        await agent.command({"cmd": "steps", "title": "T", "steps": [
            {"title": "one", "expect": "first-done"}, {"title": "two"}]})
        await agent_events.until(lambda: agent_events.of("steps"))
        agent.link.abort()
        customer.program_output(b"first-done\r\n")  # while the agent is away
        await agent_events.until(lambda: agent_events.of("steps")[-1]["current"] == 1, timeout=15)
        assert agent.steps_state is not None
        assert [s["status"] for s in agent.steps_state["steps"]] == ["done", "active"]
    finally:
        await stop(tasks, agent, customer)
