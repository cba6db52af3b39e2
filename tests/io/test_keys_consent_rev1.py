"""Review of keys5 (rev1): keys handled from the link's read callback obey consent whatever
the interleaving: a random mix (seeded, bounded) of a raw agent's keys, chats and control
requests with the customer's grants, revokes and pauses, sent without waiting so frames share
reads. Each write to the program happens while control is granted; keys sent after a revoke
completed never reach it; what is written is what was sent, in order. Real relay, runtimes."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from cobrowse.policy.customer_events import Level
from cobrowse.protocol import messages as m
from tests.io.test_resume import paired_runtimes, stop


async def _settled(agent: Any, customer: Any) -> None:
    """Everything the agent sent arrived and was handled (a chat cannot say so: a hostile mix
    meets the customer's rate limits, which drop chats)."""
    async with asyncio.timeout(15):
        while (customer.session.bytes_received < agent.session.bytes_sent or customer.link.items.qsize()
               or customer._inflight is not None or customer._consuming):
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)


@pytest.mark.parametrize("seed", range(6))
async def test_keys_in_any_interleaving_obey_consent(relay_url: str, seed: int) -> None:
    rng = random.Random(seed)
    agent, agent_events, customer, events, _program, tasks = await paired_runtimes(relay_url)
    written: list[bytes] = []
    wrong: list[tuple[bytes, str]] = []

    def write(data: bytes) -> None:
        if customer.level is not Level.CONTROL:
            wrong.append((data, str(customer.level)))
        written.append(data)

    customer.write_program = write
    sent: list[bytes] = []
    try:
        for rnd in range(4):
            for i in range(40):
                op = rng.choice(["key", "key", "key", "chat", "request", "grant", "revoke", "pause", "yield"])
                if op == "key":
                    data = f"<{rnd}.{i}>"
                    sent.append(data.encode())
                    await agent.send(m.Keys(data))
                elif op == "chat":
                    await agent.send(m.Chat(f"c{rnd}.{i}"))
                elif op == "request":
                    await agent.send(m.RequestControl("control"))
                elif op == "grant":
                    await customer.run_command("grant_control")
                elif op == "revoke":
                    await customer.run_command("revoke")
                elif op == "pause":
                    await customer.run_command("pause")
                else:
                    await asyncio.sleep(rng.choice([0, 0.001, 0.01]))
            await customer.run_command("revoke")
            assert customer.level is not Level.CONTROL
            for i in range(10):  # after a revoke the customer carried out: never written
                await agent.send(m.Keys(f"!{rnd}.{i}!"))
            await _settled(agent, customer)
            assert not any(b"!" in data for data in written), written
            assert wrong == []
            assert b"".join(written) == b"".join(d for d in sent if d in written)
        assert customer.frames_taken > 0
        it = iter(sent)
        assert all(any(d == s for s in it) for d in written)  # a subsequence, in order
    finally:
        await stop(tasks, agent, customer)
