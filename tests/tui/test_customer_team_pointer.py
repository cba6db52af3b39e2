"""An invited agent's highlight follows the screen in the customer app, as the first agent's
always did (docs/team.md): its pattern is looked for again as output arrives, it is named, and
the first agent's older pointer does not come back over it. A real relay, two in-process
agents, a real shell."""

from __future__ import annotations

import asyncio

from cobrowse.protocol.prompts import ARMING
from tests.tui.test_customer_app import (  # noqa: F401
    BASH,
    Agent,
    _shell_env,
    agent,
    pane_lines,
    paired_app,
    prefix,
    type_text,
    until,
)
from tests.tui.test_customer_team_app import invite_bob
from tui.customer_app import CustomerApp
from tui.widgets.shell_pane import ShellPane


def rows_of(app: CustomerApp, text: str) -> set[int]:
    return {i for i, line in enumerate(pane_lines(app)) if line.rstrip() == text}


async def test_the_invited_agents_highlight_follows_the_screen(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        shell = app.query_one("#shell", ShellPane)
        bob = await invite_bob(agent, relay_url)
        try:
            await until(lambda: any("Bob (agent 2)" in line and "asks to SEE" in line for line in app.log_lines),
                        what="the question about Bob")
            await asyncio.sleep(ARMING + 0.1)
            await prefix(pilot, "y")
            await until(lambda: any(line.startswith("$") for line in bob.lines()), what="the shell at Bob")

            await agent.rt.command({"cmd": "point", "pattern": "^alice-[0-9]+$"})
            await until(lambda: any("the agent points at lines matching" in line for line in app.log_lines),
                        what="Alice's pointer")
            await bob.rt.command({"cmd": "point", "pattern": "^bob-[0-9]+$"})
            await until(lambda: any("Bob (agent 2): the agent points at lines matching '^bob-[0-9]+$'" in line
                                    for line in app.log_lines), what="Bob's pointer, named")
            assert shell.highlight == frozenset()  # nothing matches yet

            await type_text(pilot, "echo bob-$((3+4)); echo alice-$((1+1))")
            await pilot.press("enter")
            await until(lambda: rows_of(app, "bob-7") and rows_of(app, "alice-2"), what="the output on screen")
            await until(lambda: shell.highlight == rows_of(app, "bob-7"),
                        what="Bob's rows found again as the screen changed (not Alice's older pointer)")

            await type_text(pilot, "echo bob-$((4+4))")
            await pilot.press("enter")
            await until(lambda: rows_of(app, "bob-8"), what="more output")
            await until(lambda: shell.highlight == rows_of(app, "bob-7") | rows_of(app, "bob-8"),
                        what="Bob's highlight follows every change")

            await bob.rt.command({"cmd": "point"})
            await until(lambda: shell.highlight == frozenset(), what="Bob's highlight cleared")
            assert app.customer is not None and app.customer.team.pointer is None  # Alice's older one stays gone

            await agent.rt.command({"cmd": "point", "pattern": "^alice-[0-9]+$"})  # the first agent's, as always
            await until(lambda: shell.highlight == rows_of(app, "alice-2"), what="Alice's highlight")
            await type_text(pilot, "echo alice-$((2+1))")
            await pilot.press("enter")
            await until(lambda: rows_of(app, "alice-3"), what="Alice's output")
            await until(lambda: shell.highlight == rows_of(app, "alice-2") | rows_of(app, "alice-3"),
                        what="the first agent's highlight follows the screen too")
        finally:
            await bob.close()
