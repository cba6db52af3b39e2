"""The chat panel open, the window made smaller (200×50 to 80×24, seen in tmux): the log kept
its scroll offset, so it showed older lines and not the newest. A log that was at its end
stays at its end after a resize."""

from __future__ import annotations

from textual.widgets import RichLog

from tests.tui.test_customer_app import BASH, Agent, _shell_env, agent, paired_app  # noqa: F401 (fixtures)
from tests.waiting import until
from tui.customer_app import CustomerApp

__all__ = ["_shell_env", "agent"]


async def test_the_chat_log_stays_at_its_end_when_the_window_shrinks(agent: Agent, relay_url: str) -> None:  # noqa: F811
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(200, 50)) as pilot:
        await paired_app(pilot, agent)
        app.action_focus_chat()
        log = app.query_one("#chat-log", RichLog)
        for n in range(6):  # within the chat's rate limit; ~12 rows each in the 40-column panel
            await agent.rt.command({"cmd": "chat", "text": f"line {n} " + "w " * 200})
        await until(lambda: any("line 5" in str(strip.text) for strip in log.lines), what="the last chat line")
        await pilot.pause()
        await until(lambda: log.max_scroll_y > 0 and log.scroll_y == log.max_scroll_y, what="the log at its end")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.pause()
        assert log.max_scroll_y > 0 and log.scroll_y == log.max_scroll_y, (log.scroll_y, log.max_scroll_y)
