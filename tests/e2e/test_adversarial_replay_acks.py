"""What a relay that replays sealed frames gets back (tests/e2e/adversary.py): each replay
used to make the receiver seal one ACK and send it back through the relay, until the
session's replay limit (1,024 in 10 s) ended it; now duplicates share one ACK per short
interval (crypto/channel.py), the replays are still each counted, and the limit still ends
the session with words that blame the relay."""

from __future__ import annotations

from typing import AsyncIterator

import pytest
from adversary import Adversary
from test_adversarial import A2C, C2A, chat_from_customer, chats, paired_quietly, settle

from cobrowse.crypto.channel import ACK

REPLAYS = 4096
#: ACKs a flood may draw (one per 0.5 s while the flood lasts, and those the session owes
#: anyway); each replay used to draw one.
ACK_BOUND = 40


def acks_sent(adv: Adversary, role: str) -> int:
    return sum(1 for r in adv.recording if r.role == role and r.leg == "up" and not r.text and r.data[:1] == bytes([ACK]))


@pytest.fixture
async def adversary(relay_url: str) -> AsyncIterator[Adversary]:
    async with Adversary(relay_url) as adv:
        yield adv


async def test_a_replay_flood_draws_a_few_acks_and_still_ends_the_session(adversary: Adversary) -> None:
    agent, customer, _ = await paired_quietly(adversary)
    try:
        await chat_from_customer(customer, "first")
        await agent.event("chat", text="first")
        await settle(adversary, C2A)
        before = acks_sent(adversary, "agent")
        await adversary.flood("agent", adversary.last_data(C2A), REPLAYS)
        error = await agent.event("error")
        assert error.get("kind") == "security" and "the relay" in error["message"]
        assert await agent.wait() == 5
        assert agent.all("ended")[-1]["reason"] == "scared"
        drawn = acks_sent(adversary, "agent") - before
        print(f"replay flood of {REPLAYS}: the agent sent {drawn} ACKs back")
        assert drawn <= ACK_BOUND
        await customer.wait()
    finally:
        await agent.kill()
        await customer.kill()


async def test_a_burst_below_the_limit_draws_a_few_acks_and_the_session_goes_on(adversary: Adversary) -> None:
    agent, customer, _ = await paired_quietly(adversary)
    try:
        await agent.send({"cmd": "chat", "text": "hello"})
        await customer.stderr_line("hello")
        await settle(adversary, A2C)
        before = acks_sent(adversary, "customer")
        await adversary.flood("customer", adversary.last_data(A2C), 500)
        await agent.send({"cmd": "chat", "text": "again"})
        await customer.stderr_line("again")
        await chat_from_customer(customer, "back")
        await agent.event("chat", text="back")
        drawn = acks_sent(adversary, "customer") - before
        print(f"burst of 500 replays: the customer sent {drawn} ACKs back")
        assert drawn <= ACK_BOUND
        assert chats(agent) == ["back"]
        assert customer.proc.returncode is None and not agent.all("error")
    finally:
        await agent.kill()
        await customer.kill()
