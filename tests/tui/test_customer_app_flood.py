"""The customer app under a flood: the pane draws what the runtime parsed while output
streams (tui/customer_run.py), and once the output pauses it shows the exact screen."""

from __future__ import annotations

from cobrowse.screen import Emulator
from tests.tui.test_customer_app import BASH, Agent, _shell_env, agent, has_line, paired_app, pane_lines, type_text  # noqa: F401
from tests.waiting import until
from tui.customer_app import CustomerApp, ShellPane


async def test_a_flood_ends_on_the_exact_screen_and_typing_stays_local(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH, consent_timeout=30.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await paired_app(pilot, agent)
        await type_text(pilot, "clear; seq 1 300000; echo flood-$((6*7))")
        await pilot.press("enter")
        await until(lambda: has_line(pane_lines(app), "flood-42"), timeout=30, what="the flood's end in the pane")
        pane = app.query_one("#shell", ShellPane)
        state = pane.state
        assert state is not None
        cols, rows = state.size
        lines = state.lines()
        end = lines.index("flood-42")
        # the rows above the marker are the flood's last numbers, in order, none skipped
        assert [int(x) for x in lines[:end]] == list(range(300001 - end, 300001))
        assert lines[end + 1].startswith("$")
        # and the pane is the emulator's screen, row for row (styles included)
        assert state.rows == app.runtime.screen.state().rows
        reference = Emulator(cols, rows)
        reference.feed(b"\r\n".join(b"%d" % n for n in range(300001 - end, 300001)) + b"\r\nflood-42\r\n")
        assert reference.state().lines()[:end + 1] == lines[:end + 1]

        # a key after the flood is echoed at once (an exact frame: little output since)
        await type_text(pilot, "echo typed-after")
        await until(lambda: any(line.startswith("$ echo typed-after") for line in pane_lines(app)),
                    what="the typed line in the pane")
        await until(lambda: any("flood-42" in line for line in agent.lines()), timeout=30,
                    what="the flood's end on the agent's screen")
