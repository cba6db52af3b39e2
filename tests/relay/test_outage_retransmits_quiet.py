"""A short Redis outage in a relay cluster (the sides on different nodes): the frames the
outage held up are retransmitted by the honest peer once it ends; those copies must not be
shown as replays (the customer's toast, plain mode's line and the headless agent's event
said "more frames like that (duplicate) keep arriving"). Real redis-server stopped and
started again, real `python -m relay` nodes, real runtimes on 127.0.0.1."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from cobrowse.io.agent import AgentRuntime
from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.link import RelayLink
from tests.io.test_resume import Recorder
from tests.relay.test_cli import free_port
from tests.relay.test_cluster import Node
from tests.relay.test_cluster_queue import start_redis

T = 30.0


def warnings(events: Recorder, kind: str) -> list[dict[str, Any]]:
    return [e for e in events.of("warning") if e.get("kind") == kind]


async def test_retransmissions_after_a_redis_outage_are_not_shown_as_replays(tmp_path: Path) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    store = start_redis(port, tmp_path / "redis")
    a = b = None
    tasks: list[asyncio.Task[Any]] = []
    agent_events, customer_events = Recorder(), Recorder()
    program = bytearray()
    agent = customer = None
    try:
        a, b = Node(f"redis://127.0.0.1:{port}/0", "n1"), Node(f"redis://127.0.0.1:{port}/0", "n2")
        agent = AgentRuntime(RelayLink(a.url, "agent", reconnect_for=30), agent_events)
        code = await agent.create()
        customer = CustomerRuntime(RelayLink(b.url, "customer", reconnect_for=30), customer_events,
                                   write_program=program.extend, control_cooldown=0, prompt_arming=0)
        await customer.join(code)
        tasks = [asyncio.create_task(agent.run()), asyncio.create_task(customer.run())]
        await agent_events.until(lambda: agent_events.of("paired") and agent_events.of("consent"), T)
        await customer_events.until(lambda: customer_events.of("paired"), T)

        async def talk(label: str, n: int) -> None:
            for i in range(n):
                if i % 5 == 0:  # the customer's client takes a few chats a second from an agent
                    await agent.command({"cmd": "chat", "text": f"{label}-a{i}"})
                await customer.run_command("chat", f"{label}-c{i}")
                await asyncio.sleep(0.1)

        await talk("before", 5)
        await agent_events.until(lambda: len(agent_events.of("chat")) >= 5, T)
        store.terminate()
        store.wait(timeout=T)
        await talk("during", 20)  # two seconds of Redis down: frames held up both ways
        store = start_redis(port, tmp_path / "redis")
        await talk("after", 5)
        want = [f"{label}-c{i}" for label, n in (("before", 5), ("during", 20), ("after", 5)) for i in range(n)]
        await agent_events.until(lambda: [e["text"] for e in agent_events.of("chat")] == want, T,
                                 "every chat at the agent, once, in order")
        theirs = [w.replace("-c", "-a") for w in want if int(w.rsplit("c", 1)[1]) % 5 == 0]
        await customer_events.until(lambda: [e["text"] for e in customer_events.of("chat")] == theirs, T,
                                    "every chat at the customer, once, in order")
        await asyncio.sleep(5.0)  # late retransmissions (4 s backoff) arrive by now
        assert agent.outcome is None and customer.outcome is None
        for events in (agent_events, customer_events):  # the sides never reconnected: no resume window
            assert not events.of("resumed") and not events.of("peer_back"), events.events
            assert warnings(events, "duplicate") == [] and warnings(events, "gap") == [], events.of("warning")
    finally:
        for runtime in (agent, customer):
            if runtime is not None and runtime.outcome is None:
                try:
                    async with asyncio.timeout(5):
                        await runtime.end("agent_ended" if runtime is agent else "customer_ended")
                except TimeoutError:
                    pass
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for node in (a, b):
            if node is not None:
                node.stop()
                node.log.unlink(missing_ok=True)
        store.kill()
        store.wait(timeout=T)
