"""PlainStatic: set again to what it shows, it asks Textual for nothing (no layout of the
whole screen); anything that changes what it shows (text, style, a Text changed in place)
is drawn."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult

from tui.safe import PlainStatic


class CountingStatic(PlainStatic):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.layouts = 0

    def refresh(self, *args: Any, layout: bool = False, **kwargs: Any) -> Any:
        self.layouts += int(layout)
        return super().refresh(*args, layout=layout, **kwargs)


class StatusApp(App[None]):
    def compose(self) -> ComposeResult:
        yield CountingStatic("connected", id="status")


async def test_the_same_status_again_costs_no_layout_and_a_change_is_shown() -> None:
    app = StatusApp()
    async with app.run_test(size=(40, 5)) as pilot:
        status = app.query_one("#status", CountingStatic)
        await pilot.pause()
        start = status.layouts
        for _ in range(5):
            status.update("connected")
        assert status.layouts == start
        status.update("paused by the customer")
        assert status.layouts == start + 1
        await pilot.pause()
        assert "paused by the customer" in str(status.render())

        styled = Text("state", style="bold")
        status.update(styled)
        status.update(Text("state", style="bold"))  # equal: nothing
        assert status.layouts == start + 2
        status.update(Text("state", style="red"))  # same words, another style: drawn
        assert status.layouts == start + 3
        shown = Text("a")
        status.update(shown)
        shown.append("b")  # changed in place, given again: drawn
        status.update(shown)
        assert status.layouts == start + 5

        status.update("[b]not markup[/]")
        status.update("[b]not markup[/]")
        assert status.layouts == start + 6
        await pilot.pause()
        assert "[b]not markup[/]" in str(status.render())
