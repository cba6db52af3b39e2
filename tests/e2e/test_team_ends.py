"""How a team's session ends, with real processes on 127.0.0.1 (docs/team.md): a question
about a colleague nobody answers refuses them; the customer ending ends it for every agent."""

from __future__ import annotations

from tests.e2e.harness import Proc
from tests.e2e.test_team import invite, session, team


async def test_an_unanswered_question_refuses_the_colleague(relay_url: str) -> None:
    a, customer = await session(relay_url, "--consent-timeout", "2")
    procs: list[Proc] = [a, customer]
    try:
        b = await invite(relay_url, a, customer)
        procs.append(b)
        ended = await b.event("ended", timeout=15)
        assert ended["reason"] == "viewer_refused" and "did not answer" in ended["message"]
        await customer.stderr_line("no answer: refused: Bob (agent 2) sees nothing")
        assert not b.all("screen")
        assert await b.wait() == 4
    finally:
        for proc in procs:
            await proc.kill()


async def test_the_customer_ending_ends_it_for_every_agent(relay_url: str) -> None:
    async with team(relay_url) as (a, b, customer, procs):
        await customer.send(b"\x1de")
        await customer.stderr_line("press Ctrl-] e again")
        await customer.send(b"\x1de")
        assert await customer.wait() == 0
        assert (await a.event("ended"))["reason"] == "customer_ended"
        assert (await b.event("ended"))["reason"] == "customer_ended"
        assert await a.wait() == 0 and await b.wait() == 0
