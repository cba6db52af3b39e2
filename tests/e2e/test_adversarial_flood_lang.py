"""A hostile relay's end, read by a customer in Russian (plain mode, real processes through
tests/e2e/adversary.py): the words blame the relay and say what to do, translated, not the
runtime's English; so are the warnings a replay flood causes before the end."""

from __future__ import annotations

import json
from typing import AsyncIterator

import pytest
from adversary import Adversary
from harness import Proc, start_agent, start_customer
from test_adversarial import A2C, settle

BLAME = "сервер-посредник повёл себя неправильно"
NEXT = "начните новый через другой сервер-посредник"


@pytest.fixture
async def adversary(relay_url: str) -> AsyncIterator[Adversary]:
    async with Adversary(relay_url) as adv:
        yield adv


async def paired_in_russian(adv: Adversary) -> tuple[Proc, Proc]:
    agent = await start_agent(adv.url)
    code = (await agent.event("code"))["code"]
    customer = await start_customer(adv.url, code, "--lang", "ru", command="sleep 600")
    await agent.event("hello", role="customer")
    await agent.send({"cmd": "chat", "text": "hello"})
    await customer.stderr_line("hello")
    await settle(adv, A2C)
    return agent, customer


@pytest.mark.parametrize("flood", ["peer", "unreadable", "replay"])
async def test_the_end_blames_the_relay_in_russian(adversary: Adversary, flood: str) -> None:
    agent, customer = await paired_in_russian(adversary)
    try:
        if flood == "peer":
            for _ in range(100):
                for state in ("left", "back"):
                    await adversary.flood("customer", json.dumps({"type": "peer", "state": state}), 1)
        elif flood == "unreadable":
            await adversary.flood("customer", json.dumps({"type": "surprise"}), 100)
        else:
            await adversary.flood("customer", adversary.last_data(A2C), 4096)
        assert await customer.wait() == (5 if flood == "replay" else 4)
        line = await customer.stderr_line("сеанс завершён: ")
        assert BLAME in line and NEXT in line, line
        shown = "\n".join(customer.stderr_lines)
        assert "misbehaved" not in shown
        if flood == "replay":  # the warnings before the end: each frame's, then the line for the rest
            assert "пришёл повторно" in shown and "такие пакеты (повторы) продолжают приходить" in shown
            assert "arrived again" not in shown and "keep arriving" not in shown and "duplicate" not in shown
    finally:
        await agent.kill()
        await customer.kill()
