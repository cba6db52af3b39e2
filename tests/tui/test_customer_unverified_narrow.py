"""Below 80 columns the banner is the only status line. With an unverified agent it said
"⚠ UNVERIFIED · they can TYPE here" and no key at all, so the customer who gave control to an
unverified agent in a narrow window was not told how to take it back (seen in tmux at 40×10
and 60×15). The banner now names Ctrl-] r whenever an agent can type: with the warning where
both fit, else the keys first (the banner stays red); view only, Ctrl-] e where it fits."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from tests.tui.test_customer_app import BASH, Agent, _shell_env, agent, paired_app, prefix  # noqa: F401 (fixtures)
from tests.waiting import until
from tui.customer_app import CustomerApp

__all__ = ["_shell_env", "agent"]


@pytest.mark.parametrize("size, warned", [((40, 10), False), ((60, 15), True), ((79, 24), True)])
async def test_an_unverified_agent_in_control_the_banner_says_how_to_revoke(
        agent: Agent, relay_url: str, size: tuple[int, int], warned: bool) -> None:  # noqa: F811
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH, control_cooldown=0.0)
    async with app.run_test(size=size) as pilot:
        await paired_app(pilot, agent)
        await until(lambda: app.identity is not None, what="the identity verdict")
        view = "⚠ UNVERIFIED · they see this" + (" · Ctrl-] e ends" if warned else "")
        await until(lambda: app.banner_text == view, what="the short banner, view only")
        await prefix(pilot, "g")  # the tripwire: the first press only warns
        await prefix(pilot, "g")
        await until(lambda: "they can TYPE here" in app.banner_text, what="the banner after control was granted")
        text = app.banner_text
        assert "Ctrl-] r revokes" in text, text
        assert ("UNVERIFIED" in text) is warned, text
        assert cell_len(text) <= size[0], text
        assert app.query_one("#banner").has_class("unverified")
        await prefix(pilot, "r")
        await until(lambda: app.banner_text == view, what="view only again")


@pytest.mark.parametrize("width", [40, 52, 60, 79])
def test_the_narrow_banner_fits_with_the_recording_mark_too(width: int) -> None:
    from cobrowse.policy.customer_events import Level
    from tui.customer_view import unverified_short

    short, keys = "they can TYPE here", "they can TYPE here · Ctrl-] r revokes"
    for recording in (False, True):
        text, warn = unverified_short(keys, short, Level.CONTROL, width, recording)
        shown = ("● REC · " if recording else "") + text
        shown = ("⚠ UNVERIFIED · " if warn else "") + shown
        assert cell_len(shown) <= width, (width, recording, shown)
        assert "Ctrl-] r" in text or width < 45, (width, recording, shown)
