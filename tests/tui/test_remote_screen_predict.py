"""RemoteScreen draws the predicted local echo (cobrowse/screen/predict.py) underlined."""

from __future__ import annotations

from textual.app import App, ComposeResult

from cobrowse.screen import Emulator, ScreenState
from cobrowse.screen.predict import Overlay, PredictedCell
from tui.widgets.remote_screen import RemoteScreen

COLS, ROWS = 40, 10
TERM = (COLS + 2, ROWS + 2)


class ScreenApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.widget = RemoteScreen(control=True)

    def compose(self) -> ComposeResult:
        yield self.widget


def state_of(data: str) -> ScreenState:
    emu = Emulator(COLS, ROWS)
    emu.feed(data.encode())
    return emu.state()


def seg_at(strip, x: int):  # type: ignore[no-untyped-def]
    col = 0
    for seg in strip:
        if col <= x < col + seg.cell_length:
            return seg
        col += seg.cell_length
    raise IndexError(x)


async def test_predicted_cells_are_drawn_underlined_with_the_cursor_after_them() -> None:
    app = ScreenApp()
    async with app.run_test(size=TERM) as pilot:
        w = app.widget
        w.set_state(state_of("\x1b[32m$ \x1b[0mls"))
        w.set_prediction(Overlay((PredictedCell(0, 4, " "), PredictedCell(0, 5, "-"), PredictedCell(0, 6, "l")), (7, 0)))
        await pilot.pause()
        line = w.render_line(0)
        assert line.text.startswith("$ ls -l ")
        assert seg_at(line, 5).style.underline and seg_at(line, 6).style.underline
        assert not seg_at(line, 3).style.underline  # confirmed text is drawn as it is
        cursor = w.get_component_rich_style("remote-screen--cursor-control")
        assert seg_at(line, 7).style.bgcolor == cursor.bgcolor  # the cursor where the prediction puts it
        assert w.state is not None and w.state.lines()[0] == "$ ls"  # the real screen is untouched
        w.set_state(state_of("\x1b[32m$ \x1b[0mls -l"))  # the echo arrives ...
        w.set_prediction(None)  # ... and the prediction is confirmed
        await pilot.pause()
        line = w.render_line(0)
        assert line.text.startswith("$ ls -l ") and not seg_at(line, 5).style.underline


async def test_a_prediction_taken_back_leaves_the_screen_as_it_was() -> None:
    app = ScreenApp()
    async with app.run_test(size=TERM) as pilot:
        w = app.widget
        state = state_of("$ ")
        w.set_state(state)
        await pilot.pause()
        before = w.render_line(0).text
        w.set_prediction(Overlay((PredictedCell(0, 2, "x"),), (3, 0)))
        await pilot.pause()
        assert w.render_line(0).text.startswith("$ x")
        w.set_prediction(None)
        await pilot.pause()
        assert w.render_line(0).text == before
