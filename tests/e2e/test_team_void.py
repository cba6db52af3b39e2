"""An invitation code voided early reaches the agent who asked for it (docs/team.md, "The
console"): real processes, a real relay on 127.0.0.1. A wrong guess at the code (a typo, or
the relay's own guess) voids it; agent A's client emits ``invite_void`` at once, so its Team
tab drops the code instead of counting it down."""

from __future__ import annotations

from cobrowse.wire.code import parse_code
from tests.e2e.harness import Proc
from tests.e2e.test_team import agent, session


async def test_a_wrong_guess_at_an_invitation_tells_the_agent_who_asked(relay_url: str) -> None:
    a, customer = await session(relay_url)
    procs: list[Proc] = [a, customer]
    try:
        await a.send({"cmd": "invite"})
        invite = await a.event("invite")
        code = parse_code(invite["code"])
        wrong = f"{code.nameplate}-{'1111' if code.secret[:4] != '1111' else '2222'}-{code.secret[4:]}"
        guesser = await agent(relay_url, "--join", wrong, name="a wrong guess")
        procs.append(guesser)
        assert await guesser.wait() != 0
        void = await a.event("invite_void")
        assert void["code"] == invite["code"] and void["reason"] == "wrong_code"
        assert void["agent"] == invite["agent"] == 2
        assert "no longer works" in void["message"]
        await customer.stderr_line("the invitation by Alice (agent 1) was not used")
        await a.send({"cmd": "invite"})  # A invites again: a new code, as the event says
        again = await a.event("invite", agent=3)
        assert again["code"] != invite["code"]
    finally:
        for proc in procs:
            await proc.kill()
