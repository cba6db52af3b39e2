"""An admitted invited agent with a patched client (rev2, docs/team.md "Threat model"): what
it may do is what any agent may, each under the customer's own question; what only the first
agent's pairing carries it cannot do. Real relay, real `cobrowse join --plain` with bash, the
first agent a real headless `cobrowse agent`, the guest a ``HostileAgent`` sealing anything."""

from __future__ import annotations

import asyncio

from cobrowse.protocol import messages as m
from tests.e2e.harness import Proc
from tests.e2e.hostile_agent import HostileAgent
from tests.e2e.test_team import ASKED, CUSTOMER_ENV, answer, session


async def guest(relay_url: str, a, customer) -> HostileAgent:  # type: ignore[no-untyped-def]
    await a.send({"cmd": "invite"})
    mallory = await HostileAgent.invited(relay_url, (await a.event("invite"))["code"], name="Mallory")
    await customer.stderr_line(ASKED)
    await answer(customer, b"y")
    await mallory.expect(m.Screen)
    return mallory


async def test_an_admitted_guest_cannot_end_the_session_for_everyone_nor_lie_about_viewers(relay_url: str) -> None:
    a, customer = await session(relay_url)
    mallory: HostileAgent | None = None
    try:
        mallory = await guest(relay_url, a, customer)
        await mallory.send(m.Viewers(viewers=[{"id": 9, "name": "Nobody-at-all", "control": True, "you": False}]))
        await mallory.send(m.InviteCode(code="1-2222-3333", viewer=7))
        await mallory.flood(m.Call("invite"), 40)
        await mallory.settle()
        await mallory.send(m.End("agent_ended", "pwned-end", feedback=True))
        await customer.stderr_line("Mallory (agent 2) left")
        await a.send({"cmd": "chat", "text": "after-mallory"})
        await customer.stderr_line("after-mallory")  # the session goes on with the first agent
        await customer.send(b"echo still-$((6*7))\r")
        await a.screen(lambda lines: any("still-42" in line for line in lines))
        shown = "\n".join(customer.stderr_lines)
        assert "Nobody-at-all" not in shown and "1-2222-3333" not in shown
        assert "solved" not in shown.lower()  # the guest's end asks the customer nothing
        assert shown.count("is calling you") + shown.count("a call came in") <= 2 * 4  # a few rings (each: no audio here)
        assert a.all("ended") == []
    finally:
        if mallory is not None:
            await mallory.close()
        await a.kill()
        await customer.kill()



async def test_an_admitted_guests_invitation_flood_opens_no_pairing(relay_url: str) -> None:
    """An invited agent's ``invite`` is answered with a refusal (the first agent's pairing
    carries invitations: tests/policy/test_customer_team.py bounds those at 2 open, 8 agents);
    a flood of them shows the customer one line."""
    a, customer = await session(relay_url)
    mallory: HostileAgent | None = None
    try:
        mallory = await guest(relay_url, a, customer)
        await mallory.flood(m.Invite(voids=True), 60)
        await mallory.settle(quiet=1.0)
        assert not [c for c in mallory.all(m.InviteCode) if c.code]
        assert sum("invited a colleague" in line for line in customer.stderr_lines) == 1  # A's, before
        assert sum("'invite'" in line for line in customer.stderr_lines) <= 1
    finally:
        if mallory is not None:
            await mallory.close()
        await a.kill()
        await customer.kill()


async def test_an_invited_agent_learns_nothing_of_the_team_before_the_customer_allows(relay_url: str) -> None:
    """Before the customer's yes, an invited agent is told neither who watches (``viewers``)
    nor whether the customer is on a call (its ring is dropped, not declined with a name)."""
    a, customer = await session(relay_url)
    mallory: HostileAgent | None = None
    try:
        await a.send({"cmd": "invite"})
        mallory = await HostileAgent.invited(relay_url, (await a.event("invite"))["code"], name="Mallory")
        await customer.stderr_line(ASKED)
        await mallory.flood(m.Call("invite"), 10)
        await mallory.settle(quiet=1.0)
        assert not mallory.all(m.Viewers) and not mallory.all(m.Call) and not mallory.all(m.Screen)
        assert not any("Mallory" in line and "calling" in line for line in customer.stderr_lines)
    finally:
        if mallory is not None:
            await mallory.close()
        await a.kill()
        await customer.kill()


async def test_a_first_agent_that_left_cannot_ring_the_customer_or_renegotiate(relay_url: str) -> None:
    """The first agent leaves while a colleague stays: its pairing is detached (nothing it
    sends counts). Its ``call`` and ``rtc`` messages, which the session runtime handles before
    that check, must not ring the customer either."""
    from tests.e2e.test_team import agent as real_agent

    mallory = await HostileAgent.open(relay_url, name="Mallory")
    customer = await Proc.start("join", str(mallory.code), "--relay", relay_url, "--command", "bash --norc --noprofile",
                                name="customer", env=CUSTOMER_ENV)
    b: Proc | None = None
    try:
        await mallory.paired()
        await mallory.expect(m.Consent)
        await mallory.send(m.Invite())
        invitation = await mallory.expect(m.InviteCode, lambda c: bool(c.code))
        b = await real_agent(relay_url, "--name", "Bob", "--join", invitation.code, name="agent B")
        await customer.stderr_line(ASKED)
        await answer(customer, b"y")
        await b.event("sharing", active=True)
        await mallory.send(m.Leave())
        await customer.stderr_line("Mallory (agent 1) left")
        await mallory.send(m.Call("invite"))
        await mallory.send(m.Hello("agent", "cobrowse 9", "Support-Team-Verified"))
        await mallory.send(m.Chat("pwned-after-leaving"))
        await b.send({"cmd": "chat", "text": "after-the-ring"})
        await customer.stderr_line("after-the-ring")
        await asyncio.sleep(1.0)
        shown = "\n".join(customer.stderr_lines)
        assert "calling you" not in shown and "a call came in" not in shown
        assert "Support-Team-Verified" not in shown and "pwned-after-leaving" not in shown
        await mallory.send(m.End("agent_ended", "pwned-end"))  # its end, too, is only its own
        await asyncio.sleep(1.0)
        await b.send({"cmd": "chat", "text": "after-the-end"})
        await customer.stderr_line("after-the-end")
        await customer.send(b"echo still-$((6*7))\r")
        await b.screen(lambda lines: any("still-42" in line for line in lines))
        assert customer.proc.returncode is None
    finally:
        await mallory.close()
        if b is not None:
            await b.kill()
        await customer.kill()


async def test_a_second_hello_does_not_announce_a_new_name_as_the_viewer(relay_url: str) -> None:
    """The customer reads who sees the screen once, from the agent's hello, beside the
    identity verdict; a hello sent again mid-session (any name) announces nothing."""
    mallory = await HostileAgent.open(relay_url, name="Mallory")
    customer = await Proc.start("join", str(mallory.code), "--relay", relay_url, "--command", "bash --norc --noprofile",
                                name="customer", env=CUSTOMER_ENV)
    try:
        await mallory.paired()
        await mallory.expect(m.Consent)
        await customer.stderr_line("visible to Mallory")
        await mallory.send(m.Hello("agent", "cobrowse 9", "Acme Support (verified)"))
        await mallory.send(m.Chat("after-the-hello"))
        await customer.stderr_line("after-the-hello")
        assert not any("Acme Support" in line for line in customer.stderr_lines)
    finally:
        await mallory.close()
        await customer.kill()
