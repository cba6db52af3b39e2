"""The tripwire's "not yet: wait N more seconds" in the consent bar counts down, and says to
press again once the cool-down is over: it stayed "wait 4 more seconds" on the bar for as long
as the question was open (qa11, tmux at 80x24 and 40x12). Keys as a terminal sends them."""

from __future__ import annotations

import asyncio

from cobrowse.protocol.prompts import ARMING
from tests.tui.terminal_keys import type_bytes
from tests.tui.test_customer_app import BASH, Agent, _shell_env, agent, paired_app  # noqa: F401
from tests.waiting import until
from tui.customer_app import CustomerApp

CTRL_RIGHT_BRACKET_Y = b"\x1dy"
COOLDOWN = 2.0


async def test_the_not_yet_answer_counts_down_then_says_to_press_again(agent: Agent,  # noqa: F811
                                                                       relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH, consent_timeout=30.0, control_cooldown=COOLDOWN)
    async with app.run_test(size=(80, 24)) as pilot:
        await paired_app(pilot, agent)
        await agent.rt.command({"cmd": "request_control", "level": "control"})
        await until(lambda: app.prompt_visible, what="the consent prompt")
        await asyncio.sleep(ARMING + 0.1)

        def bar() -> str:
            return str(app.query_one("#consent-text").render())

        await type_bytes(pilot, CTRL_RIGHT_BRACKET_Y)
        await until(lambda: "WAIT" in bar(), what="the warning in the bar")
        await type_bytes(pilot, CTRL_RIGHT_BRACKET_Y)
        await until(lambda: "not yet: wait 2 more seconds" in bar(), what="not yet, 2 s")
        await until(lambda: "not yet: wait 1 more second," in bar(), what="the wait counted down", timeout=3.0)
        await until(lambda: "now press Ctrl-] y again to give control" in bar(), what="the wait over", timeout=3.0)
        assert "not yet" not in bar() and app.prompt_visible
        await type_bytes(pilot, CTRL_RIGHT_BRACKET_Y)
        await until(lambda: not app.prompt_visible, what="control given")
        await agent.event("consent", level="control")
