"""A team in one session with real processes (docs/team.md): a customer (`cobrowse join`,
plain mode), agent A and agent B (headless), a real relay on 127.0.0.1.

A invites; B joins with the code; the customer is asked and allows (or refuses); B sees the
screen, chat reaches everyone; A leaves and B keeps the session; B leaves and it ends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from cobrowse.protocol.prompts import ARMING
from tests.e2e.harness import Proc

ENV = {"COBROWSE_DIRECT": "0"}
CUSTOMER_ENV = {**ENV, "PS1": "$ ", "TERM": "xterm-256color"}
ASKED = "asks to SEE your screen"


async def agent(relay_url: str, *extra: str, name: str) -> Proc:
    return await Proc.start("agent", "--headless", "--relay", relay_url, *extra, name=name, env=ENV)


async def session(relay_url: str, *customer_args: str) -> tuple[Proc, Proc]:
    a = await agent(relay_url, "--name", "Alice", name="agent A")
    code = (await a.event("code"))["code"]
    customer = await Proc.start("join", code, "--relay", relay_url, "--command", "bash --norc --noprofile",
                                *customer_args, name="customer", env=CUSTOMER_ENV)
    await a.event("hello", role="customer")
    return a, customer


async def invite(relay_url: str, a: Proc, customer: Proc) -> Proc:
    """A asks for a code; B joins with it; the customer is asked (not yet answered)."""
    await a.send({"cmd": "invite"})
    code = (await a.event("invite"))["code"]
    b = await agent(relay_url, "--name", "Bob", "--join", code, name="agent B")
    await b.event("paired")
    await customer.stderr_line(ASKED)
    return b


async def admit(customer: Proc, b: Proc) -> None:
    """The customer allows B (`Ctrl-] y`) and B's screen starts."""
    await answer(customer, b"y")
    await b.event("sharing", active=True)


@contextlib.asynccontextmanager
async def team(relay_url: str, *customer_args: str) -> AsyncIterator[tuple[Proc, Proc, Proc, list[Proc]]]:
    """Alice paired with the customer, Bob invited and admitted: (a, b, customer, procs); what
    the test adds to ``procs`` is killed with them."""
    a, customer = await session(relay_url, *customer_args)
    procs: list[Proc] = [a, customer]
    try:
        b = await invite(relay_url, a, customer)
        procs.append(b)
        await admit(customer, b)
        yield a, b, customer, procs
    finally:
        for proc in procs:
            await proc.kill()


async def answer(customer: Proc, key: bytes) -> None:
    await asyncio.sleep(ARMING + 0.2)  # a new question ignores keys for ARMING s
    await customer.send(b"\x1d" + key)


async def test_invite_join_allow_chat_leave_and_hand_over(relay_url: str) -> None:
    a, customer = await session(relay_url)
    b = None
    try:
        b = await invite(relay_url, a, customer)
        assert not b.all("screen"), "B saw the screen before the customer allowed it"
        assert 0 < a.all("invite")[0]["expires_s"] <= 86_400  # how long the code stays open (the console's panel)
        assert a.all("invite")[0]["agent"] == 2  # the number B gets (the panel drops the code B used)
        async with asyncio.timeout(10):  # A learns who the customer is being asked about
            while not any(e.get("waiting") for e in a.all("viewers")):
                await asyncio.sleep(0.05)
        told = next(e for e in a.all("viewers") if e.get("waiting"))
        assert [(w["id"], w["name"], w["verified"]) for w in told["waiting"]] == [(2, "Bob", False)]
        assert [(v["name"], v["verified"]) for v in told["viewers"]] == [("Alice", False)]
        await admit(customer, b)
        await customer.stderr_line("Bob (agent 2) can now see your screen")
        await customer.send(b"echo team-$((40+2))\r")
        await a.screen(lambda lines: any("team-42" in line for line in lines))
        await b.screen(lambda lines: any("team-42" in line for line in lines))
        await b.send({"cmd": "suggest", "command": "ls"})  # as the first agent's: named, the customer decides
        await customer.stderr_line("[cobrowse] Bob (agent 2): the agent suggests: ls")
        await customer.send(b"\x1dd")
        await b.event("suggestion", answer="declined")
        viewers = await b.event("viewers")
        assert sorted(v["name"] for v in viewers["viewers"]) == ["Alice", "Bob"]

        seen = len(b.all("sharing"))
        await customer.send(b"\x1dp")  # the customer's pause holds for every agent
        await b.event("sharing", active=False)
        await a.event("sharing", active=False)
        await customer.send(b"\x1dp")
        async with asyncio.timeout(10):
            while len(b.all("sharing")) < seen + 2:
                await asyncio.sleep(0.05)
        assert b.all("sharing")[-1]["active"] is True

        await a.send({"cmd": "chat", "text": "hello from A"})
        await b.event("chat", text="hello from A", name="Alice")
        await customer.stderr_line("hello from A")
        await b.send({"cmd": "chat", "text": "hello from B"})
        await a.event("chat", text="hello from B", name="Bob")
        assert "Bob (agent 2): hello from B" in await customer.stderr_line("hello from B")

        await a.send({"cmd": "steps", "title": "Team guide", "steps": [{"title": "look"}, {"title": "fix"}]})
        await b.event("steps", title="Team guide")
        await b.send({"cmd": "step", "index": 0, "status": "done"})  # B moves the steps; everyone sees it
        async with asyncio.timeout(10):
            while not any(e.get("steps", [{}])[0].get("status") == "done" for e in a.all("steps")):
                await asyncio.sleep(0.05)

        await a.send({"cmd": "leave"})
        assert await a.wait() == 0
        assert (await a.event("ended"))["reason"] == "left"
        await customer.stderr_line("Alice (agent 1) left the session")
        await customer.send(b"echo still-$((2+3))\r")
        await b.screen(lambda lines: any("still-5" in line for line in lines))
        assert customer.proc.returncode is None

        await b.send({"cmd": "leave"})
        assert await b.wait() == 0
        assert await customer.wait() == 0
        await customer.stderr_line("the session is over")
    finally:
        for proc in (a, b, customer):
            if proc is not None:
                await proc.kill()


async def test_the_customer_refuses_and_b_gets_nothing(relay_url: str) -> None:
    a, customer = await session(relay_url)
    b = None
    try:
        await customer.send(b"echo secret-$((6*7))\r")
        await a.screen(lambda lines: any("secret-42" in line for line in lines))
        b = await invite(relay_url, a, customer)
        await b.send({"cmd": "chat", "text": "let-me-in"})  # before it is allowed: it says nothing
        await b.send({"cmd": "request_control", "level": "control"})  # and asks nothing
        await answer(customer, b"n")
        assert await b.wait() == 4  # refused
        ended = await b.event("ended")
        assert ended["reason"] == "viewer_refused", ended
        assert "did not allow" in ended["message"]
        assert not b.all("screen"), "B received the screen without the customer's consent"
        assert b"secret-42" not in bytes(b.stdout_raw)
        assert not any("let-me-in" in line or "CONTROL" in line for line in customer.stderr_lines)
        await a.send({"cmd": "chat", "text": "A goes on"})
        await customer.stderr_line("A goes on")
    finally:
        for proc in (a, b, customer):
            if proc is not None:
                await proc.kill()
