"""The end screen ("cobrowse could not start the session", "The session ended") at 40×10
(seen in tmux): its box kept 76 columns, so the reason was cut at the window's edge ("ask
fo"). The box now fits the window and wraps the reason."""

from __future__ import annotations

import pytest

from cobrowse.wire.code import parse_code
from tests.tui.test_customer_app import BASH, Agent, _shell_env, agent  # noqa: F401 (fixtures)
from tests.waiting import until
from tui.customer_app import CustomerApp

__all__ = ["_shell_env", "agent"]


@pytest.mark.parametrize("size", [(40, 10), (60, 15)])
async def test_the_end_screen_fits_a_small_window(agent: Agent, relay_url: str, size: tuple[int, int]) -> None:  # noqa: F811
    code = parse_code(await agent.create())
    wrong = f"{code.nameplate}-{(int(code.secret) + 1) % 10**8:08d}"
    app = CustomerApp(relay_url, wrong, BASH)
    async with app.run_test(size=size) as pilot:
        await until(lambda: type(app.screen).__name__ == "SessionOverScreen" and bool(app.screen.query("#over-message")),
                    timeout=15, what="the error screen")
        await pilot.pause()
        box = app.screen.query_one("#over-box").region
        assert box.x >= 0 and box.right <= size[0] and box.bottom <= size[1], box
        message = app.screen.query_one("#over-message").region
        assert message.right <= size[0] and message.height >= 1, message
        await pilot.press("enter")
        await until(lambda: not app.is_running, what="the app to exit")
    assert app.return_code == 5
