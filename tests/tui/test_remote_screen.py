"""RemoteScreen: rendering, partial refresh, control-mode keys, placeholder, size mismatch."""

from __future__ import annotations

from collections import Counter

import pytest
from rich.color import Color as RichColor
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding

from cobrowse.screen import (
    Cursor,
    DEFAULT_STYLE,
    Emulator,
    Row,
    ScreenState,
    Style,
    blank_row,
)
from cobrowse.screen.state import BOLD, FAINT, INVERSE, ITALIC, STRIKETHROUGH, UNDERLINE
from tui.widgets.remote_screen import RemoteScreen

# The widget has a 1-cell border by default: a (42, 12) terminal gives a 40x10 pane.
COLS, ROWS = 40, 10
TERM = (COLS + 2, ROWS + 2)


class CountingScreen(RemoteScreen):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calls: Counter[int] = Counter()

    def render_line(self, y: int):
        self.calls[y] += 1
        return super().render_line(y)


class ScreenApp(App):
    def __init__(self, widget: RemoteScreen | None = None) -> None:
        super().__init__()
        self.widget = widget if widget is not None else CountingScreen()
        self.inputs: list[bytes] = []
        self.app_actions: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.widget

    def on_remote_screen_input(self, message: RemoteScreen.Input) -> None:
        assert message.control is self.widget
        self.inputs.append(message.data)


def state_of(data: bytes | str, cols: int = COLS, rows: int = ROWS) -> ScreenState:
    emu = Emulator(cols, rows)
    emu.feed(data.encode() if isinstance(data, str) else data)
    return emu.state()


def seg_at(strip, x: int):
    """The segment covering cell x of a strip."""
    col = 0
    for seg in strip:
        if col <= x < col + seg.cell_length:
            return seg
        col += seg.cell_length
    raise IndexError(x)


async def test_text_and_cursor() -> None:
    app = ScreenApp()
    async with app.run_test(size=TERM) as pilot:
        w = app.widget
        assert w.size == (COLS, ROWS)
        w.set_state(state_of("hello world\r\n$ ls"))
        await pilot.pause()
        assert w.render_line(0).text == "hello world".ljust(COLS)
        assert w.render_line(1).text == "$ ls".ljust(COLS)
        assert w.render_line(2).text == " " * COLS
        # cursor after "$ ls": column 4 of row 1, reverse video; nowhere else
        line = w.render_line(1)
        assert seg_at(line, 4).style.reverse
        assert not seg_at(line, 3).style.reverse
        assert not any(seg.style.reverse for seg in w.render_line(0))
        # hidden cursor: not drawn
        w.set_state(state_of("hello world\r\n$ ls\x1b[?25l"))
        await pilot.pause()
        assert not any(seg.style.reverse for seg in w.render_line(1))


async def test_styles_land_on_segments() -> None:
    app = ScreenApp()
    async with app.run_test(size=TERM) as pilot:
        w = app.widget
        w.set_state(state_of(
            "plain \x1b[1;31mRED\x1b[0m \x1b[38;5;208;48;2;1;2;3mORG\x1b[0m "
            "\x1b[2;3;4;9;5mFX\x1b[0m \x1b[7mINV\x1b[0m\x1b[?25l"
        ))
        await pilot.pause()
        line = w.render_line(0)
        assert line.text.startswith("plain RED ORG FX INV")
        base = w.rich_style
        plain = seg_at(line, 0).style
        assert plain.color == base.color and plain.bgcolor == base.bgcolor  # None -> CSS default
        red = seg_at(line, 6).style
        assert red.color == RichColor.from_ansi(1) and red.bold
        assert red.bgcolor == base.bgcolor
        org = seg_at(line, 10).style
        assert org.color == RichColor.from_ansi(208)
        assert org.bgcolor == RichColor.from_rgb(1, 2, 3)
        assert not org.bold
        fx = seg_at(line, 14).style
        assert fx.dim and fx.italic and fx.underline and fx.strike and fx.blink
        assert seg_at(line, 17).style.reverse


async def test_row_values_built_by_hand() -> None:
    """Attributes set in a Style reach the Rich style (independent of the emulator)."""
    app = ScreenApp()
    async with app.run_test(size=TERM) as pilot:
        w = app.widget
        styles = [Style(1, None, BOLD), Style(None, 4, FAINT | ITALIC), Style((9, 8, 7), None, UNDERLINE | STRIKETHROUGH | INVERSE)]
        row = Row.from_runs([("ab", styles[0]), ("cd", styles[1]), ("ef", styles[2]), (" " * (COLS - 6), DEFAULT_STYLE)])
        state = ScreenState((COLS, ROWS), Cursor(0, 5, False), (row,) + (blank_row(COLS),) * (ROWS - 1))
        w.set_state(state)
        await pilot.pause()
        line = w.render_line(0)
        a, c, e = seg_at(line, 0).style, seg_at(line, 2).style, seg_at(line, 4).style
        assert a.color == RichColor.from_ansi(1) and a.bold and not a.dim
        assert c.bgcolor == RichColor.from_ansi(4) and c.dim and c.italic and not c.bold
        assert e.color == RichColor.from_rgb(9, 8, 7) and e.underline and e.strike and e.reverse


async def test_wide_characters_take_two_cells() -> None:
    app = ScreenApp()
    async with app.run_test(size=TERM) as pilot:
        w = app.widget
        w.set_state(state_of("a日本b\r\n表x"))
        await pilot.pause()
        line = w.render_line(0)
        assert line.cell_length == COLS
        assert line.text.startswith("a日本b")
        # "b" sits in column 5 (a=0, 日=1-2, 本=3-4)
        assert seg_at(line, 5).text.startswith("b") or "b" in seg_at(line, 5).text
        assert line.crop(5, 6).text == "b"
        # cursor after "表x" on row 1: column 3
        line1 = w.render_line(1)
        assert line1.cell_length == COLS
        assert seg_at(line1, 3).style.reverse and not seg_at(line1, 2).style.reverse
        # cursor on a wide char: the whole character is reverse
        w.set_state(state_of("a日本b\x1b[1;2H"))
        await pilot.pause()
        line = w.render_line(0)
        assert seg_at(line, 1).style.reverse and seg_at(line, 1).text == "日"
        assert not seg_at(line, 3).style.reverse


async def test_widths_follow_the_emulator_not_rich() -> None:
    """Where Rich's width table disagrees with Row.wide, columns do not drift."""
    app = ScreenApp()
    async with app.run_test(size=TERM) as pilot:
        w = app.widget
        # emulator says "x" is wide (Rich: 1) -> padded; says "日" is narrow (Rich: 2) -> replaced
        row0 = Row.from_runs([("xy", DEFAULT_STYLE), (" " * (COLS - 3), DEFAULT_STYLE)], wide=(0,))
        row1 = Row.from_runs([("日z" + " " * (COLS - 2), DEFAULT_STYLE)])
        rows = (row0, row1) + (blank_row(COLS),) * (ROWS - 2)
        w.set_state(ScreenState((COLS, ROWS), Cursor(0, 9, False), rows))
        await pilot.pause()
        l0, l1 = w.render_line(0), w.render_line(1)
        assert l0.cell_length == l1.cell_length == COLS
        assert l0.crop(2, 3).text == "y"
        assert l1.crop(1, 2).text == "z"


async def test_only_changed_rows_are_rendered_again() -> None:
    app = ScreenApp()
    async with app.run_test(size=TERM) as pilot:
        w = app.widget
        lines = [f"line {i}" for i in range(ROWS)]
        w.set_state(state_of("\r\n".join(lines) + "\x1b[1;1H"))  # cursor on row 0
        await pilot.pause()
        w.calls.clear()
        lines[5] = "line 5 changed"
        w.set_state(state_of("\r\n".join(lines) + "\x1b[1;1H"))
        await pilot.pause()
        assert set(w.calls) == {5}
        assert w.render_line(5).text.startswith("line 5 changed")
        # same state again: nothing is rendered
        w.calls.clear()
        w.set_state(state_of("\r\n".join(lines) + "\x1b[1;1H"))
        await pilot.pause()
        assert not w.calls
        # cursor moves from row 0 to row 7: both rows, and only those
        w.calls.clear()
        w.set_state(state_of("\r\n".join(lines) + "\x1b[8;3H"))
        await pilot.pause()
        assert set(w.calls) == {0, 7}
        assert not any(seg.style.reverse for seg in w.render_line(0))
        assert seg_at(w.render_line(7), 2).style.reverse


async def test_a_highlight_renders_its_rows_only() -> None:
    app = ScreenApp()
    async with app.run_test(size=TERM) as pilot:
        w = app.widget
        w.set_state(state_of("\r\n".join(f"line {i}" for i in range(ROWS)) + "\x1b[1;1H"))
        await pilot.pause()
        plain = w.render_line(3)
        w.calls.clear()
        w.set_highlight([3, 4])
        await pilot.pause()
        assert set(w.calls) == {3, 4}
        assert w.render_line(3) != plain
        w.calls.clear()
        w.set_highlight([4])  # row 3 back to plain (its framed strip may still be cached), row 4 unchanged
        await pilot.pause()
        assert set(w.calls) <= {3}
        assert w.render_line(3) == plain
        w.calls.clear()
        w.set_highlight([4])
        await pilot.pause()
        assert not w.calls


class KeyApp(ScreenApp):
    BINDINGS = [Binding("x", "record('x')"), Binding("f12", "record('f12')")]

    def action_record(self, what: str) -> None:
        self.app_actions.append(what)


@pytest.mark.parametrize("app_cursor", [False, True])
async def test_control_mode_keys(app_cursor: bool) -> None:
    app = KeyApp()
    async with app.run_test(size=TERM) as pilot:
        w = app.widget
        w.set_state(state_of("$ " + ("\x1b[?1h" if app_cursor else "")))
        assert w.state.modes.app_cursor is app_cursor
        w.focus()
        w.control = True
        await pilot.pause()
        await pilot.press("up", "ctrl+c", "a", "enter", "f5", "x", "tab", "escape", "left")
        await pilot.pause()
        up, left = (b"\x1bOA", b"\x1bOD") if app_cursor else (b"\x1b[A", b"\x1b[D")
        assert app.inputs == [up, b"\x03", b"a", b"\r", b"\x1b[15~", b"x", b"\t", b"\x1b", left]
        assert app.app_actions == []  # the app's "x" binding did not fire
        assert app.focused is w  # tab did not move the focus


async def test_without_control_keys_are_not_captured() -> None:
    app = KeyApp()
    async with app.run_test(size=TERM) as pilot:
        w = app.widget
        w.set_state(state_of("$ "))
        w.focus()
        await pilot.pause()
        await pilot.press("x", "a", "up")
        await pilot.pause()
        assert app.inputs == []
        assert app.app_actions == ["x"]


async def test_app_keys_and_unknown_keys() -> None:
    app = KeyApp(CountingScreen(control=True, app_keys=["f12"]))
    async with app.run_test(size=TERM) as pilot:
        w = app.widget
        assert w.has_class("-control") and "CONTROL" in w.border_subtitle
        w.set_state(state_of("$ "))
        w.focus()
        await pilot.pause()
        await pilot.press("f12", "b")
        # a key name encode_key does not know, with no printable character: dropped
        w.post_message(events.Key("hyper+launch_mail", None))
        # an unknown name with a printable character: the character is sent
        w.post_message(events.Key("some_unnamed_key", "é"))
        await pilot.pause()
        assert app.app_actions == ["f12"]
        assert app.inputs == [b"b", "é".encode()]


async def test_paste() -> None:
    app = ScreenApp()
    async with app.run_test(size=TERM) as pilot:
        w = app.widget
        w.set_state(state_of("$ "))
        w.focus()
        w.control = True
        await pilot.pause()
        app.post_message(events.Paste("ls\nexit"))
        await pilot.pause()
        w.set_state(state_of("$ \x1b[?2004h"))
        app.post_message(events.Paste("ls\nexit"))
        await pilot.pause()
        assert app.inputs == [b"ls\rexit", b"\x1b[200~ls\rexit\x1b[201~"]
        # not in control: nothing
        w.control = False
        app.post_message(events.Paste("nope"))
        await pilot.pause()
        assert len(app.inputs) == 2


class QuitOverrideApp(ScreenApp):
    """The recipe the apps use so ctrl+q and ctrl+p reach the remote terminal."""

    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("ctrl+q", "record('quit')", show=False, priority=False),
                Binding("f10", "record('f10')", priority=True)]

    def action_record(self, what: str) -> None:
        self.app_actions.append(what)


async def test_priority_keys_reach_the_widget_with_the_app_recipe() -> None:
    app = QuitOverrideApp(CountingScreen(control=True))
    async with app.run_test(size=TERM) as pilot:
        app.widget.set_state(state_of("$ "))
        app.widget.focus()
        await pilot.pause()
        await pilot.press("ctrl+q", "ctrl+p", "f10")
        await pilot.pause()
        assert app.inputs == [b"\x11", b"\x10"]
        assert app.app_actions == ["f10"]  # a priority binding still reaches the app
        assert app.is_running


async def test_control_class_and_tag() -> None:
    app = ScreenApp()
    async with app.run_test(size=TERM) as pilot:
        w = app.widget
        w.border_subtitle = "customer"
        w.set_state(state_of("$ "))
        await pilot.pause()
        assert not w.has_class("-control")
        w.control = True
        await pilot.pause()
        assert w.has_class("-control")
        assert "CONTROL" in w.border_subtitle
        # the cursor looks different in control mode
        assert seg_at(w.render_line(0), 2).style.bgcolor != w.rich_style.bgcolor
        w.control = False
        await pilot.pause()
        assert not w.has_class("-control")
        assert w.border_subtitle == "customer"
        assert w.size == (COLS, ROWS)  # the border swap does not resize the pane


async def test_placeholder() -> None:
    app = ScreenApp()
    async with app.run_test(size=TERM) as pilot:
        w = app.widget
        await pilot.pause()
        assert w.state is None
        texts = [w.render_line(y).text for y in range(ROWS)]
        assert any(RemoteScreen.WAITING_TEXT in t for t in texts)
        w.set_state(state_of("secret screen"))
        w.set_placeholder("Sharing paused by the customer")
        await pilot.pause()
        texts = [w.render_line(y).text for y in range(ROWS)]
        assert any("Sharing paused by the customer" in t for t in texts)
        assert not any("secret" in t for t in texts)
        w.set_state(state_of("newer screen"))  # arrives while paused: kept, not shown
        await pilot.pause()
        assert not any("newer" in w.render_line(y).text for y in range(ROWS))
        w.set_placeholder(None)
        await pilot.pause()
        assert w.render_line(0).text.startswith("newer screen")
        w.set_state(None)
        await pilot.pause()
        assert any(RemoteScreen.WAITING_TEXT in w.render_line(y).text for y in range(ROWS))


async def test_size_mismatch_and_crop_follows_cursor() -> None:
    app = ScreenApp()
    async with app.run_test(size=TERM) as pilot:
        w = app.widget
        seen: list = []
        w.watch(w, "size_mismatch", lambda value: seen.append(value), init=False)
        w.set_state(state_of("x"))
        assert w.size_mismatch is None
        # a bigger remote screen: 100x30, text at the top-left, cursor top-left
        big = "".join(f"\x1b[{r + 1};1Hrow{r:02d}" + "." * 90 + f"E{r:02d}" for r in range(30))
        w.set_state(state_of(big + "\x1b[1;1H", 100, 30))
        await pilot.pause()
        assert w.size_mismatch == (100, 30)
        assert w.render_line(0).text == ("row00" + "." * 90)[:COLS]
        assert w.render_line(ROWS - 1).text.startswith("row09")
        # cursor at the bottom right: the view follows it
        w.set_state(state_of(big + "\x1b[30;98H", 100, 30))
        await pilot.pause()
        assert w.render_line(ROWS - 1).text.endswith("E29")
        assert w.render_line(0).text.endswith("E20")
        cursor_line = w.render_line(ROWS - 1)
        assert seg_at(cursor_line, COLS - 1).style.reverse
        # smaller remote screen: blank beyond it, still a mismatch
        w.set_state(state_of("tiny", 10, 3))
        await pilot.pause()
        assert w.size_mismatch == (10, 3)
        assert w.render_line(0).text == "tiny".ljust(COLS)
        assert w.render_line(5).text == " " * COLS
        w.set_state(state_of("fits"))
        await pilot.pause()
        assert w.size_mismatch is None
        assert seen == [(100, 30), (10, 3), None]


class SnapApp(App):
    CSS = "Screen { background: black; }"

    def compose(self) -> ComposeResult:
        data = (
            "\x1b[1;32muser@host\x1b[0m:\x1b[1;34m~/src\x1b[0m$ ls --color\r\n"
            "\x1b[34mdocs\x1b[0m  \x1b[1;32mrun.sh\x1b[0m  README.md  \x1b[41;97m ERROR \x1b[0m\r\n"
            "\x1b[38;2;255;128;0mtruecolor\x1b[0m \x1b[3mitalic\x1b[0m \x1b[4munder\x1b[0m 日本語\r\n"
            "\x1b[1;32muser@host\x1b[0m:\x1b[1;34m~/src\x1b[0m$ "
        )
        yield RemoteScreen(state_of(data, 38, 6))


def test_snapshot(snap_compare) -> None:
    assert snap_compare(SnapApp(), terminal_size=(40, 8))
