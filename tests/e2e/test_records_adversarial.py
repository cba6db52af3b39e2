"""Feedback and recording consent through a hostile relay: sealed like everything else, and
a forged answer is never believed."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

import pytest
from adversary import Adversary
from harness import WAIT, pair

from cobrowse.protocol.prompts import ARMING
from test_adversarial import inflations

QUIET = "sleep 600"  # no screen frames: the next DATA frame from the customer is the one we aim at


@pytest.fixture
async def adversary(relay_url: str) -> AsyncIterator[Adversary]:
    async with Adversary(relay_url) as adv:
        yield adv


async def test_feedback_and_recording_consent_cross_the_relay_sealed(adversary: Adversary) -> None:
    agent, customer, _ = await pair(adversary.url)
    try:
        await agent.event("hello", role="customer")
        await agent.send({"cmd": "record", "on": True})
        await customer.stderr_line("asks to RECORD")
        await asyncio.sleep(ARMING + 0.1)  # a new prompt ignores keys for ARMING s
        await customer.send(b"\x1dy")
        await agent.event("recording", state="on")
        await agent.send({"cmd": "end", "feedback": True})
        await customer.stderr_line("Was your problem solved?")
        await customer.send(b"n3")
        assert await agent.wait() == 0
        assert (await agent.event("ended"))["feedback"] == {"status": "answered", "solved": False, "rating": 3}
    finally:
        await agent.kill()
        await customer.kill()
    raw = adversary.raw()
    for needle in ('"feedback"', '"solved"', '"rating"', '"granted"', '"recording"', '"record"'):
        assert needle.encode() not in raw, f"{needle} crossed the relay in clear"
        for frame in adversary.binary_frames():
            assert all(needle.encode() not in x for x in inflations(frame)), f"{needle} crossed compressed"
        assert all(needle not in text for text in adversary.text_frames())


async def test_a_tampered_answer_is_never_taken_for_the_customers(adversary: Adversary) -> None:
    agent, customer, _ = await pair(adversary.url, command=QUIET)
    try:
        await agent.event("hello", role="customer")
        await agent.send({"cmd": "end", "feedback": True})
        await customer.stderr_line("Was your problem solved?")
        attack = adversary.tamper_next("customer->agent")
        await customer.send(b"y5")
        async with asyncio.timeout(WAIT):
            await attack
        ended = await agent.event("ended")
        assert ended["reason"] == "scared"
        assert not any(e.get("feedback", {}).get("rating") == 5 for e in agent.all("ended"))
    finally:
        await agent.kill()
        await customer.kill()
