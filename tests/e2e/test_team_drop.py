"""The customer removes one agent with a key, real processes on 127.0.0.1 (docs/team.md):
a customer (`cobrowse join`, plain mode) and agents A and B; Ctrl-] l offers B, the latest to
join, then A; Ctrl-] y removes the one offered: it is told why, the other keeps the session."""

from __future__ import annotations

import asyncio

from tests.e2e.harness import Proc
from tests.e2e.test_team import admit, agent, invite, session, team


async def test_the_customer_drops_b_and_a_keeps_the_session(relay_url: str) -> None:
    a, customer = await session(relay_url)
    procs: list[Proc] = [a, customer]
    try:
        await customer.stderr_line("Your terminal is visible to Alice")  # her hello arrived: her name is known
        await customer.send(b"\x1d?")  # plain mode has no status bar: the help says who sees the screen
        await customer.stderr_line("can see your screen: Alice (agent 1)")
        b = await invite(relay_url, a, customer)
        procs.append(b)
        await admit(customer, b)
        both = "2 agents see your screen: Alice (agent 1), Bob (agent 2)"
        await customer.stderr_line(both)
        await said_again(customer, b"\x1d?", both)
        await customer.send(b"\x1dl")  # two agents: the latest to join is offered first
        await customer.stderr_line("remove which agent? Ctrl-] y removes Bob (agent 2)")
        await said_again(customer, b"\x1dy", "can see your screen: Alice (agent 1)")
        ended = await b.event("ended", timeout=15)
        assert ended["reason"] == "viewer_removed" and "removed you" in ended["message"]
        await customer.stderr_line("you removed Bob (agent 2): they no longer see your screen")
        assert await b.wait() == 4  # the session ended on the other side (as a refusal does)
        await customer.send(b"echo still-$((40+2))\r")
        await a.screen(lambda lines: any("still-42" in line for line in lines))
        assert not a.all("ended")
        await customer.send(b"\x1dl")  # only A is left: nobody else to remove
        await customer.stderr_line("that is the only agent left")
        assert not a.all("ended")
    finally:
        for proc in procs:
            await proc.kill()


async def said_again(proc: Proc, keys: bytes, line: str) -> None:
    """After ``keys``, ``line`` is printed once more (the harness finds the first line that matches)."""
    before = sum(line in seen for seen in proc.stderr_lines)
    await proc.send(keys)
    async with asyncio.timeout(15):
        while sum(line in seen for seen in proc.stderr_lines) <= before:
            await asyncio.sleep(0.05)


async def test_with_two_colleagues_the_customer_picks_which_one_goes(relay_url: str) -> None:
    async with team(relay_url) as (a, b, customer, procs):
        await customer.stderr_line("2 agents see your screen: Alice (agent 1), Bob (agent 2)")
        await a.send({"cmd": "invite"})
        async with asyncio.timeout(15):
            while len(a.all("invite")) < 2:  # the second invitation's code (event() finds the first)
                await asyncio.sleep(0.05)
        code = a.all("invite")[1]["code"]
        c = await agent(relay_url, "--name", "Carol", "--join", code, name="agent C")
        procs.append(c)
        await c.event("paired")
        await customer.stderr_line("Carol (agent 3), invited by Alice (agent 1), asks to SEE")
        await admit(customer, c)
        await customer.stderr_line("3 agents see your screen: Alice (agent 1), Bob (agent 2), Carol (agent 3)")
        await customer.send(b"\x1dl")
        await customer.stderr_line("remove which agent? Ctrl-] y removes Carol (agent 3)")
        await customer.send(b"\x1dl")
        await customer.stderr_line("remove which agent? Ctrl-] y removes Bob (agent 2); Ctrl-] l shows the next one "
                                   "(3 agents you can remove)")
        await customer.send(b"\x1dy")
        assert (await b.event("ended", timeout=15))["reason"] == "viewer_removed"
        await customer.stderr_line("2 agents see your screen: Alice (agent 1), Carol (agent 3)")
        await customer.send(b"echo left-$((40+2))\r")
        await c.screen(lambda lines: any("left-42" in line for line in lines))
        assert not a.all("ended") and not c.all("ended")


async def test_the_customer_removes_the_first_agent_and_b_keeps_the_session(relay_url: str) -> None:
    async with team(relay_url) as (a, b, customer, procs):
        await a.send({"cmd": "point", "rows": [0, 0]})
        await customer.stderr_line("the agent points at")
        await customer.send(b"\x1dl")
        await customer.stderr_line("remove which agent? Ctrl-] y removes Bob (agent 2)")
        await customer.send(b"\x1dl")  # the next one: the agent the customer paired with first
        await customer.stderr_line("remove which agent? Ctrl-] y removes Alice (agent 1)")
        await customer.send(b"\x1dy")
        ended = await a.event("ended", timeout=15)
        assert ended["reason"] == "viewer_removed" and "removed you" in ended["message"]
        assert await a.wait() == 4
        await customer.stderr_line("you removed Alice (agent 1): they no longer see your screen")
        await customer.stderr_line("can see your screen: Bob (agent 2)")
        await customer.stderr_line("Alice (agent 1): the agent cleared the highlight")  # hers goes with her
        screens = len(a.all("screen"))
        await customer.send(b"echo after-$((40+2))\r")
        await b.screen(lambda lines: any("after-42" in line for line in lines))
        assert len(a.all("screen")) == screens and customer.proc.returncode is None
        await b.send({"cmd": "leave"})  # the last agent leaves: the session is over
        assert await b.wait() == 0
        assert await customer.wait() == 0


async def test_a_persian_customer_reads_the_team_with_names_isolated(relay_url: str) -> None:
    a, customer = await session(relay_url, "--lang", "fa")
    procs: list[Proc] = [a, customer]
    try:
        await a.send({"cmd": "invite"})
        code = (await a.event("invite"))["code"]
        b = await agent(relay_url, "--name", "Bob", "--join", code, name="agent B")
        procs.append(b)
        question = await customer.stderr_line("دعوتش کرده")
        assert "\u2068Bob\u2069" in question and "\u2068Alice\u2069" in question
        assert "\\u2068" not in question and "\\u2069" not in question  # ours, whole: the guard keeps them
        await admit(customer, b)
        seeing = await customer.stderr_line("صفحهٔ شما را می‌بینند: ")
        assert "\u2068Bob\u2069" in seeing and "\\u2068" not in seeing
        await customer.send(b"\x1dl")
        offered = await customer.stderr_line("کدام کارشناس حذف شود؟")
        assert "\u2068Bob\u2069" in offered
        await customer.send(b"\x1dy")
        assert (await b.event("ended", timeout=15))["reason"] == "viewer_removed"
        await customer.stderr_line("را حذف کردید")
    finally:
        for proc in procs:
            await proc.kill()
