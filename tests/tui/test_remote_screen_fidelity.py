"""RemoteScreen draws what tmux draws: grapheme clusters in one cell, the SGR attributes avt
lacked (double/curly underline, overline, bold with dim), hidden text blank."""

from __future__ import annotations

from textual.app import App, ComposeResult

from cobrowse.screen import Emulator, ScreenState
from tui.widgets.remote_screen import RemoteScreen

COLS, ROWS = 40, 6
TERM = (COLS + 2, ROWS + 2)
FAMILY = "\U0001F468\u200d\U0001F469\u200d\U0001F467"


class ScreenApp(App):
    def __init__(self) -> None:
        super().__init__()
        self.widget = RemoteScreen()

    def compose(self) -> ComposeResult:
        yield self.widget


def state_of(data: str) -> ScreenState:
    emu = Emulator(COLS, ROWS)
    emu.feed(data.encode())
    return emu.state()


def seg_at(strip, x: int):
    col = 0
    for seg in strip:
        if col <= x < col + seg.cell_length:
            return seg
        col += seg.cell_length
    raise IndexError(x)


async def test_clusters_take_one_cell_and_columns_stay_put() -> None:
    app = ScreenApp()
    async with app.run_test(size=TERM) as pilot:
        w = app.widget
        w.set_state(state_of(f"cafe\u0301|\r\n{FAMILY}|\r\nनमस्ते|\r\n\x1b[?25l"))
        await pilot.pause()
        assert w.render_line(0).text == "cafe\u0301|" + " " * (COLS - 5)
        assert w.render_line(1).text == f"{FAMILY}|" + " " * (COLS - 3)
        assert w.render_line(2).text == "नमस्ते|" + " " * (COLS - 5)
        for y in range(3):
            assert w.render_line(y).cell_length == COLS


async def test_new_attributes_reach_rich_and_hidden_stays_blank() -> None:
    app = ScreenApp()
    async with app.run_test(size=TERM) as pilot:
        w = app.widget
        w.set_state(state_of("\x1b[21mdd\x1b[0m\x1b[4:3mcc\x1b[0m\x1b[53moo\x1b[0m\x1b[1;2mbd\x1b[0m"
                             "\x1b[8msecret\x1b[0m|\x1b[?25l"))
        await pilot.pause()
        line = w.render_line(0)
        assert line.text.startswith("ddccoobd      |")
        assert seg_at(line, 0).style.underline2
        assert seg_at(line, 2).style.underline
        assert seg_at(line, 4).style.overline
        assert seg_at(line, 6).style.bold and seg_at(line, 6).style.dim
        assert "secret" not in line.text


async def test_bidi_controls_in_a_cluster_are_not_drawn() -> None:
    app = ScreenApp()
    async with app.run_test(size=TERM) as pilot:
        w = app.widget
        w.set_state(state_of("a\u202eb\u200fc|\x1b[?25l"))
        await pilot.pause()
        assert w.render_line(0).text == "abc|" + " " * (COLS - 4)
