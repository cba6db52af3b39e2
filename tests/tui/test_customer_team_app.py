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
from textual.events import Key

from tui.customer_app import CustomerApp
from tui.customer_view import Phase
from tui.safe import PlainStatic


async def invite_bob(agent: Agent, relay_url: str) -> Agent:
    """Alice invites; Bob joins with the code (the customer is asked next)."""
    await agent.rt.command({"cmd": "invite"})
    invite = await agent.event("invite")
    bob = Agent(relay_url)
    bob.rt.name = "Bob"
    await bob.join(invite["code"])
    return bob


async def test_the_app_asks_about_a_colleague_and_shows_who_sees(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        bob = await invite_bob(agent, relay_url)
        try:
            await until(lambda: any("Bob (agent 2)" in line and "asks to SEE your screen" in line
                                    for line in app.log_lines), what="the question about Bob")
            assert bob.rt.mirror.state is None  # nothing of the screen before the customer's yes
            await asyncio.sleep(ARMING + 0.1)
            await prefix(pilot, "y")
            await until(lambda: any("2 agents see your screen: Alice (agent 1), Bob (agent 2)" in line
                                    for line in app.log_lines), what="the viewers line")
            await until(lambda: not any("asks to SEE" in str(n.message) for n in app._notifications),
                        what="the answered question's toast gone (not left for its 30 s)")
            await until(lambda: any(line.startswith("$") for line in bob.lines()), what="the shell at Bob")
        finally:
            await bob.close()


async def test_the_side_panel_lists_every_agent_and_ctrl_l_removes_the_one_offered(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(160, 40)) as pilot:
        await paired_app(pilot, agent)
        bob = await invite_bob(agent, relay_url)
        try:
            await until(lambda: any("asks to SEE your screen" in line for line in app.log_lines), what="the question")
            who = app.query_one("#who", PlainStatic)
            assert "Bob (agent 2): waiting for your answer" in str(who.content)
            await asyncio.sleep(ARMING + 0.1)
            await prefix(pilot, "y")
            await until(lambda: "Bob (agent 2) ⚠ UNVERIFIED" in str(who.content), what="Bob in the side panel")
            await until(lambda: "Alice (agent 1), Bob (agent 2)" in app.banner_text, what="both in the banner")
            assert app.banner_text.startswith("Your terminal is visible to Alice (agent 1), Bob (agent 2)")
            shown = str(who.content)
            assert "Alice (agent 1) ⚠ UNVERIFIED" in shown and "waiting" not in shown
            status = app.query_one("#status", PlainStatic)
            # unverified agents: the warning keeps the first place (the banner names both)
            await until(lambda: "Bob" in app.banner_text, what="the banner")
            assert str(status.content).startswith("⚠ UNVERIFIED AGENT")
            await pilot.resize_terminal(60, 30)  # below 80 columns the banner is the only status line
            await until(lambda: "2 agents see this" in app.banner_text, what="the narrow banner")
            await pilot.resize_terminal(160, 40)
            await prefix(pilot, "l")  # two agents: the latest to join is offered first
            await until(lambda: any("remove which agent? Ctrl-] y removes Bob (agent 2)" in line
                                    for line in app.log_lines), what="the choice")
            asking = [n for n in app._notifications if n.title == "Remove an agent?"]
            assert len(asking) == 1 and "Bob (agent 2)" in asking[0].message  # a toast: the panel may be closed
            await prefix(pilot, "l")
            await until(lambda: any("Alice (agent 1)" in n.message for n in app._notifications
                                    if n.title == "Remove an agent?"), what="the next one offered")
            assert len([n for n in app._notifications if n.title == "Remove an agent?"]) == 1  # the latest only
            await prefix(pilot, "l")  # round again: Bob
            await until(lambda: any("Bob (agent 2)" in n.message for n in app._notifications
                                    if n.title == "Remove an agent?"), what="Bob offered again")
            await prefix(pilot, "y")
            await until(lambda: not any(n.title == "Remove an agent?" for n in app._notifications),
                        what="the choice's toast gone once answered")
            ended = await bob.event("ended")
            assert ended["reason"] == "viewer_removed"
            await until(lambda: any("you removed Bob (agent 2)" in line for line in app.log_lines), what="the notice")
            await until(lambda: "Bob" not in str(who.content), what="Bob gone from the side panel")
            assert not str(status.content).startswith("2 agents")
            assert app.banner_text.startswith("Your terminal is visible to Alice ·")
            assert app.phase == Phase.PAIRED and agent.rt.outcome is None  # Alice goes on
        finally:
            await bob.close()


async def test_when_the_first_agent_leaves_the_banner_names_who_still_sees(agent: Agent, relay_url: str) -> None:
    """The first agent leaves (``leave``) and a colleague goes on: the banner and the side
    panel name the colleague, never the agent who left."""
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(160, 40)) as pilot:
        await paired_app(pilot, agent)
        bob = await invite_bob(agent, relay_url)
        try:
            await until(lambda: any("asks to SEE your screen" in line for line in app.log_lines), what="the question")
            await asyncio.sleep(ARMING + 0.1)
            await prefix(pilot, "y")
            await until(lambda: "Alice (agent 1), Bob (agent 2)" in app.banner_text, what="both in the banner")
            await agent.rt.command({"cmd": "leave"})
            await until(lambda: app.banner_text.startswith("Your terminal is visible to Bob (agent 2) ·"),
                        what=f"Bob alone in the banner (shown: {app.banner_text!r})")
            assert "Alice" not in app.banner_text
            who = app.query_one("#who", PlainStatic)
            await until(lambda: "Bob (agent 2)" in str(who.content) and "Alice" not in str(who.content),
                        what="Bob alone in the side panel")
            assert app.phase == Phase.PAIRED
        finally:
            await bob.close()


async def test_the_help_closes_once_when_two_keys_come_together(agent: Agent, relay_url: str) -> None:
    """Ctrl-] y sent at once while the help is open (as tmux or a fast typist sends it): the first
    key closes the help, the second must not pop the app's own screen (it stopped the app)."""
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(80, 24)) as pilot:
        await paired_app(pilot, agent)
        await prefix(pilot, "question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        help_screen = app.screen
        for key in ("ctrl+right_square_bracket", "y"):  # in one read, before the first closing is done
            help_screen.on_key(Key(key, None))
        await pilot.pause()
        assert app.is_running and type(app.screen).__name__ == "Screen"
