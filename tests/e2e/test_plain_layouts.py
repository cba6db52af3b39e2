"""Plain mode with another keyboard layout on, end to end (a real relay on 127.0.0.1, the
customer's `cobrowse join` on a pty): Ctrl-] then the key marked y sends н (Russian) or غ
(Persian). It showed the help and the question stayed unanswered; now it allows, and nothing
of the key reaches the customer's shell."""

from __future__ import annotations

import asyncio

import pytest
from harness import start_agent, start_customer

from cobrowse.protocol.prompts import ARMING


@pytest.mark.parametrize(("lang", "yes"), [("ru", "н"), ("fa", "غ")])
async def test_the_key_marked_y_allows_in_another_layout(relay_url: str, lang: str, yes: str) -> None:
    agent = await start_agent(relay_url)
    customer = None
    try:
        code = (await agent.event("code"))["code"]
        customer = await start_customer(relay_url, code, "--lang", lang)
        await agent.event("paired")
        await agent.event("consent", level="view")
        await agent.send({"cmd": "request_control", "level": "suggest"})
        await asyncio.sleep(ARMING + 0.3)  # a new prompt ignores keys for ARMING s
        await customer.send(b"\x1d" + yes.encode())
        await agent.event("consent", level="suggest")
        await customer.send(b"echo typed-$((40+2))\r")
        screen = await agent.screen(lambda lines: "typed-42" in lines)
        assert "$ echo typed-$((40+2))" in screen["lines"] and yes not in "\n".join(screen["lines"])
    finally:
        await agent.kill()
        if customer is not None:
            await customer.kill()
