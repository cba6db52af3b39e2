"""The customer app in a team (docs/team.md): the question about a colleague and the viewers
line reach the app's log, Ctrl-] y admits the colleague, who then sees the shell. A real
relay, two in-process agents, a real shell."""

from __future__ import annotations

import asyncio

from cobrowse.protocol.prompts import ARMING
from tests.tui.test_customer_app import (  # noqa: F401
    BASH,
    Agent,
    _shell_env,
    agent,
    paired_app,
    prefix,
    until,
)
from tui.customer_app import CustomerApp


async def test_the_app_asks_about_a_colleague_and_shows_who_sees(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    bob = Agent(relay_url)
    bob.rt.name = "Bob"
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        await agent.rt.command({"cmd": "invite"})
        invite = await agent.event("invite")
        await bob.join(invite["code"])
        try:
            await until(lambda: any("Bob (agent 2)" in line and "asks to SEE your screen" in line
                                    for line in app.log_lines), what="the question about Bob")
            assert bob.rt.mirror.state is None  # nothing of the screen before the customer's yes
            await asyncio.sleep(ARMING + 0.1)
            await prefix(pilot, "y")
            await until(lambda: any("can see your screen: Alice (agent 1), Bob (agent 2)" in line
                                    for line in app.log_lines), what="the viewers line")
            await until(lambda: any(line.startswith("$") for line in bob.lines()), what="the shell at Bob")
        finally:
            await bob.close()
