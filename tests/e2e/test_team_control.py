"""Control in a team belongs to one agent at a time, and the customer is asked again whenever
it changes hands (docs/team.md): real processes on 127.0.0.1, unverified agents (each grant
is confirmed twice, after the tripwire's cool-down)."""

from __future__ import annotations

import asyncio

from cobrowse.trust.tripwire import COOLDOWN
from tests.e2e.harness import Proc
from tests.e2e.test_team import answer, team


async def grant(customer: Proc, asks: str) -> None:
    await customer.stderr_line(asks)
    await answer(customer, b"y")  # an unverified agent: the first press only warns
    await asyncio.sleep(COOLDOWN + 0.2)
    await customer.send(b"\x1dy")


async def control_to_a_then_b(a: Proc, b: Proc, customer: Proc) -> None:
    """A asks for control and gets it, then B does: A is back to viewing."""
    await a.send({"cmd": "request_control", "level": "control"})
    await grant(customer, "the agent asks to CONTROL")
    await a.event("consent", level="control")
    await b.send({"cmd": "request_control", "level": "control"})
    await grant(customer, "Bob (agent 2): the agent asks to CONTROL")
    await b.event("consent", level="control")
    async with asyncio.timeout(10):
        while a.all("consent")[-1]["level"] == "control":
            await asyncio.sleep(0.05)


async def test_control_moves_to_b_with_a_new_prompt_and_leaves_a(relay_url: str) -> None:
    async with team(relay_url) as (a, b, customer, procs):
        await control_to_a_then_b(a, b, customer)

        await b.send({"cmd": "keys", "data": "echo b-has-$((1+1))\r"})
        await a.screen(lambda lines: any("b-has-2" in line for line in lines))
        errors = len(a.all("error"))
        await a.send({"cmd": "keys", "data": "echo a-again\r"})
        async with asyncio.timeout(10):
            while len(a.all("error")) == errors:
                await asyncio.sleep(0.05)
        assert "has not granted control" in a.all("error")[-1]["message"]
        viewers = b.all("viewers")[-1]["viewers"]
        assert [v["name"] for v in viewers if v["control"]] == ["Bob"]
