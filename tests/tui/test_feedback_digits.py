"""The feedback dialog in fa says "۱-۵": a Persian keyboard's ۴ rated nothing (walked in tmux)."""

from __future__ import annotations

from textual.app import App

from cobrowse.plain.feedback import FeedbackAnswer
from tui.feedback_dialog import FeedbackDialog


async def test_a_persian_digit_rates() -> None:
    got: list[FeedbackAnswer | None] = []
    app: App[None] = App()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(FeedbackDialog("the agent ended the session"), got.append)
        await pilot.press("y", "۴")
        await pilot.pause()
    assert got == [FeedbackAnswer("yes", 4)]
