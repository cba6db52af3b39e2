"""RemoteScreen frames its rows inside the border itself (a scrolled row is the same Strip
again, so Textual's caches on it are reused): every line must stay exactly what Textual's own
styles cache draws, whatever the border, focus, control mode, highlight, tint or pane size."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from cobrowse.screen import Emulator, ScreenState
from tui.widgets.remote_screen import RemoteScreen

COLS, ROWS = 40, 10


class FramedApp(App):
    CSS = "#other { height: 1; }"

    def __init__(self, pane: tuple[int, int] = (COLS, ROWS)) -> None:
        super().__init__()
        self.pane = pane

    def compose(self) -> ComposeResult:
        yield Static("above", id="other")
        screen = RemoteScreen(id="mirror", control=True)
        screen.styles.width = self.pane[0] + 2
        screen.styles.height = self.pane[1] + 2
        yield screen


def log_states(count: int, step: int, cols: int = COLS, rows: int = ROWS) -> list[ScreenState]:
    """A coloured log scrolling ``step`` lines a state, the cursor under it."""
    emu = Emulator(cols, rows)
    states, n = [], 0
    for _ in range(count):
        for _ in range(step):
            colour = 31 + n % 7
            emu.feed(f"\x1b[{colour}mline {n}\x1b[0m {'x' * (n % 23)} 日本 end\r\n".encode())
            n += 1
        states.append(emu.state())
    return states


def textual_lines(screen: RemoteScreen) -> list[Strip]:
    """What Textual's own styles cache draws for the whole widget, from scratch."""
    screen._styles_cache.clear()
    return Widget.render_lines(screen, screen.outer_size.region)


def assert_exact(screen: RemoteScreen) -> list[Strip]:
    ours = screen.render_lines(screen.outer_size.region)
    theirs = textual_lines(screen)
    assert [list(line) for line in ours] == [list(line) for line in theirs]
    assert [line.cell_length for line in ours] == [line.cell_length for line in theirs]
    return ours


async def test_framed_rows_are_textuals_own_lines() -> None:
    app = FramedApp()
    async with app.run_test(size=(COLS + 10, ROWS + 6)) as pilot:
        screen = app.query_one(RemoteScreen)
        for state in log_states(12, 3):
            screen.set_state(state)
            await pilot.pause()
            assert_exact(screen)
        screen.set_highlight([2, 5])
        await pilot.pause()
        assert_exact(screen)
        screen.control = False  # another border
        await pilot.pause()
        assert_exact(screen)
        screen.focus()  # the focus border
        await pilot.pause()
        assert_exact(screen)
        screen.styles.tint = "red 30%"  # Textual's own path: a tint changes every cell
        await pilot.pause()
        assert_exact(screen)
        screen.styles.tint = "red 0%"
        screen.styles.padding = (0, 1)  # padding: Textual's path again
        await pilot.pause()
        assert_exact(screen)


async def test_a_scrolled_row_is_the_same_strip() -> None:
    app = FramedApp()
    async with app.run_test(size=(COLS + 10, ROWS + 6)) as pilot:
        screen = app.query_one(RemoteScreen)
        *_, first, second = log_states(ROWS + 2, 1)  # a full screen, then one more line
        screen.set_state(first)
        await pilot.pause()
        before = assert_exact(screen)
        screen.set_state(second)  # one line up: rows 1.. of before are rows 0.. now
        await pilot.pause()
        after = screen.render_lines(screen.outer_size.region)
        # The cursor's row (last) and the new line are new; every other row only moved.
        assert all(after[y] is before[y + 1] for y in range(1, ROWS - 2))
        assert_exact(screen)


async def test_smaller_and_larger_panes_stay_exact() -> None:
    for pane in ((COLS - 12, ROWS - 4), (COLS + 6, ROWS + 2)):
        app = FramedApp(pane)
        async with app.run_test(size=(COLS + 20, ROWS + 8)) as pilot:
            screen = app.query_one(RemoteScreen)
            for state in log_states(6, 2):
                screen.set_state(state)
                await pilot.pause()
                assert_exact(screen)
            screen.set_placeholder("paused")
            await pilot.pause()
            assert_exact(screen)


async def test_a_partial_crop_is_textuals() -> None:
    app = FramedApp()
    async with app.run_test(size=(COLS + 10, ROWS + 6)) as pilot:
        screen = app.query_one(RemoteScreen)
        screen.set_state(log_states(1, 4)[0])
        await pilot.pause()
        crop = Region(3, 2, COLS - 6, 4)
        ours = screen.render_lines(crop)
        screen._styles_cache.clear()
        assert [list(line) for line in ours] == [list(line) for line in Widget.render_lines(screen, crop)]


async def test_without_a_border_the_rows_are_textuals_own_lines() -> None:
    """The customer app's pane has no border: its rows are the row strips themselves."""
    app = FramedApp()
    async with app.run_test(size=(COLS + 10, ROWS + 6)) as pilot:
        screen = app.query_one(RemoteScreen)
        screen.styles.border = ("none", "black")
        screen.styles.width, screen.styles.height = COLS, ROWS
        await pilot.pause()
        for state in log_states(ROWS + 3, 1)[-4:]:
            screen.set_state(state)
            await pilot.pause()
            assert_exact(screen)


async def test_a_larger_pane_reuses_a_scrolled_row_too() -> None:
    """A pane wider than the screen (the agent's console watching a smaller terminal): each row
    is extended to the pane, and a row that only moved is still the same Strip."""
    app = FramedApp((COLS + 6, ROWS + 2))
    async with app.run_test(size=(COLS + 20, ROWS + 8)) as pilot:
        screen = app.query_one(RemoteScreen)
        *_, first, second = log_states(ROWS + 2, 1)
        screen.set_state(first)
        await pilot.pause()
        before = assert_exact(screen)
        screen.set_state(second)
        await pilot.pause()
        after = assert_exact(screen)
        assert all(after[y] is before[y + 1] for y in range(1, ROWS - 2))
