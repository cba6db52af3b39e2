"""An invited agent suggests, points and starts a guide under the consent the first agent gets
(docs/team.md), real processes on 127.0.0.1: a customer (`cobrowse join`, plain mode), agents
A and B (headless). B's questions and suggestions name B; the customer's Ctrl-] a / d answer
the newest suggestion shown, whoever made it; B's guide is the session's one guide."""

from __future__ import annotations


from cobrowse.protocol import messages as m
from tests.e2e.test_team import ASKED, answer, session, team


async def test_b_suggests_after_the_customer_allows_and_the_keys_answer_the_newest(relay_url: str) -> None:
    async with team(relay_url) as (a, b, customer, procs):
        await b.send({"cmd": "request_control", "level": "suggest"})
        asked = await customer.stderr_line("Bob (agent 2): the agent asks to SUGGEST commands")
        assert "Alice" not in asked
        await answer(customer, b"y")
        await b.event("consent", level="suggest")
        assert not a.all("consent") or a.all("consent")[-1]["level"] == "view"  # A's own level is A's

        await a.send({"cmd": "request_control", "level": "suggest"})
        await customer.stderr_line("[cobrowse] the agent asks to SUGGEST commands")  # A's: unnamed, as alone
        await answer(customer, b"y")
        await a.event("consent", level="suggest")
        await a.send({"cmd": "suggest", "command": "echo from-$((1+1))-alice"})
        await customer.stderr_line("the agent suggests: echo from-$((1+1))-alice")
        await b.send({"cmd": "suggest", "command": "echo from-$((2+2))-bob"})
        shown = await customer.stderr_line("the agent suggests: echo from-$((2+2))-bob")
        assert shown.startswith("[cobrowse] Bob (agent 2): ")

        await customer.send(b"\x1dd")  # the newest shown: B's
        await b.event("suggestion", answer="declined")
        assert not a.all("suggestion")
        await customer.send(b"\x1da")  # then A's, still waiting
        await a.event("suggestion", answer="pasted")
        await customer.send(b"\r")
        await b.screen(lambda lines: any("from-2-alice" in line for line in lines))

        await b.send({"cmd": "point", "pattern": "from-2-alice"})
        await customer.stderr_line("Bob (agent 2): the agent points at lines matching")
        await b.send({"cmd": "steps", "title": "Bob's guide", "steps": [{"title": "look"}, {"title": "fix"}]})
        await customer.stderr_line("Bob (agent 2): the agent started a guide: Bob's guide")
        await a.event("steps", title="Bob's guide")  # one guide in the session: every agent sees it
        await b.event("steps", title="Bob's guide")


async def test_an_invited_agent_s_ring_before_the_customer_allows_it_rings_nothing(relay_url: str) -> None:
    """Any admitted agent may call the customer (tests/e2e/test_call_team.py); one not yet
    allowed rings nothing: a patched client's ``call`` is dropped, the customer is never rung,
    and no call message comes back (it learns nothing of the customer's devices)."""
    from tests.e2e.hostile_agent import HostileAgent

    a, customer = await session(relay_url)
    bob: HostileAgent | None = None
    try:
        await a.send({"cmd": "invite"})
        bob = await HostileAgent.invited(relay_url, (await a.event("invite"))["code"], name="Bob")
        await customer.stderr_line(ASKED)
        await bob.send(m.Call("invite"))
        await bob.send(m.Chat("after my ring"))  # dropped too: nothing before the customer's yes
        await answer(customer, b"y")
        await bob.expect(m.Screen)
        assert not bob.all(m.Call)
        assert not any("is calling you" in line or "after my ring" in line for line in customer.stderr_lines)
    finally:
        if bob is not None:
            await bob.close()
        await a.kill()
        await customer.kill()
