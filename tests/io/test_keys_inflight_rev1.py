"""Review of keys5 (rev1): while a frame's rest runs in a task (``_inflight``), the link drops
(either side) and comes back, or the other side ends the session: nothing handled twice or
lost, order kept, the runtime ends in bounded time with no task left. Real relay, runtimes."""

from __future__ import annotations

import asyncio

import pytest

from cobrowse.protocol import messages as m
from tests.io.test_keys_at_once import Gated


async def _pair(relay_url: str) -> tuple[Gated, Gated, list[asyncio.Task[object]]]:
    agent = Gated(relay_url, "agent")
    code = await agent.create()
    customer = Gated(relay_url, "customer")
    await customer.join(code)
    tasks: list[asyncio.Task[object]] = [asyncio.create_task(agent.run()), asyncio.create_task(customer.run())]
    async with asyncio.timeout(10):
        while agent.peer is None or customer.peer is None:
            await asyncio.sleep(0.01)
    return agent, customer, tasks


@pytest.mark.parametrize("dropped", ["customer", "agent"])
async def test_a_drop_while_a_frame_rest_runs_loses_and_duplicates_nothing(relay_url: str, dropped: str) -> None:
    agent, customer, tasks = await _pair(relay_url)
    try:
        await agent.send(m.Chat("before"))
        async with asyncio.timeout(10):
            while customer.got != ["before"]:
                await asyncio.sleep(0.01)
        await agent.send(m.Chat("slow"))
        async with asyncio.timeout(10):
            while customer._inflight is None:
                await asyncio.sleep(0.005)
        (customer if dropped == "customer" else agent).link.abort()
        for i in range(5):
            await agent.send(m.Chat(f"after {i}"))
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
        customer.gate.set()
        async with asyncio.timeout(15):
            while len(customer.got) < 7:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.5)  # anything duplicated would have come by now
        assert customer.got == ["before", "slow"] + [f"after {i}" for i in range(5)]
    finally:
        for side in (agent, customer):
            side.finish("test_over", "", 0)
        async with asyncio.timeout(10):
            await asyncio.gather(*tasks, return_exceptions=True)


async def test_the_other_side_ending_while_a_frame_rest_runs_ends_once_it_is_done(relay_url: str) -> None:
    agent, customer, tasks = await _pair(relay_url)
    try:
        await agent.send(m.Chat("slow"))
        async with asyncio.timeout(10):
            while customer._inflight is None:
                await asyncio.sleep(0.005)
        inflight = customer._inflight
        await agent.end("agent_ended")
        await asyncio.sleep(0.2)
        assert customer.outcome is None  # its end waits behind the frame being handled, as it waited before keys5
        customer.gate.set()
        async with asyncio.timeout(15):
            await asyncio.gather(*tasks, return_exceptions=True)
        assert customer.outcome is not None and agent.outcome is not None
        assert inflight.done()
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()
                and t.get_name() in ("consume", "consume-rest", "link", "ticker")]
        assert left == []
    finally:
        for side in (agent, customer):
            if side.outcome is None:
                side.finish("test_over", "", 0)
        async with asyncio.timeout(10):
            await asyncio.gather(*tasks, return_exceptions=True)
