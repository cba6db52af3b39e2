"""RemoteScreen: a terminal screen (a :class:`~cobrowse.screen.ScreenState`) as a Textual widget.

Used by both apps: the agent's live mirror of the customer's terminal, and the
customer's own embedded shell pane (fed from the local emulator).

Rendering (Textual's Line API, as the ``Log`` widget does)
-----------------------------------------------------------
* :meth:`RemoteScreen.set_state` compares every row with the row shown before
  (``Row`` values, plus "is the cursor on this row, in which column, in control
  mode or not") and refreshes only the line regions that changed, including the
  cursor's old and new rows. Nothing is rendered there: ``render_line(y)``
  builds the row's :class:`~textual.strip.Strip` lazily and caches it in an LRU
  keyed by that same ``(Row, cursor column, control)`` value, so a row that
  scrolls up one line is found in the cache under its new y.
* How a row's cells become segments (widths, colours, attributes, clusters, masked
  cells): :mod:`tui.widgets.screen_cells`; the Rich styles they are drawn in, cached per
  cell style: :mod:`tui.widgets.cell_styles`.
* The cursor, when the state says it is visible, is always drawn (focused or
  not: it shows where the remote cursor is) with the component style
  ``remote-screen--cursor`` (reverse video), or ``remote-screen--cursor-control``
  while :attr:`control` is on. A cursor in the "pending wrap" column
  (``col == cols``) is drawn on the last column, as xterm does.

Pane smaller or larger than the remote screen
---------------------------------------------
Rows below the state's rows and columns right of its cols are blank; a smaller pane is
cropped and follows the cursor (:mod:`tui.widgets.screen_viewport`).
:attr:`size_mismatch` is the remote ``(cols, rows)`` whenever it differs from the
pane's content size (else ``None``), so the app can say "customer is 200×50,
pane is 80×24"; it is a Textual ``var``, so ``self.watch(pane, "size_mismatch",
...)`` works.

Keys (control mode)
-------------------
While :attr:`control` is True the widget takes every key that reaches it and
every paste: it encodes them with :func:`~cobrowse.screen.encode_key` /
:func:`~cobrowse.screen.encode_paste` under the current state's modes
(application cursor keys, bracketed paste), stops the event and posts
:class:`RemoteScreen.Input`. Keys ``encode_key`` does not know are dropped (a
printable ``event.character`` is sent as UTF-8 instead). Keys listed in
``app_keys`` are never captured: they bubble to the app's bindings (e.g. the
customer app's prefix key ``ctrl+right_square_bracket``, or ``f12``).
While :attr:`control` is False no key is captured.

What the apps must do: Textual checks *priority* bindings before any widget
sees a key, so ``ctrl+q`` (App: quit, priority) and ``ctrl+p`` (command palette)
never reach this widget. An app that needs them to reach the remote terminal
overrides them, e.g. ``BINDINGS = [Binding("ctrl+q", "noop", show=False,
priority=False)]`` (a subclass binding replaces the inherited one) and
``COMMAND_PALETTE_BINDING = "f1"`` (or ``ENABLE_COMMAND_PALETTE = False``), and
moves its own actions to function keys or a prefix key (listed in
``app_keys``, or bound with ``priority=True``). Non-priority bindings (tab focus
cycling, ctrl+c) are stopped by this widget in control mode.
"""

from __future__ import annotations

from typing import Any, ClassVar, Iterable, Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual import events
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive, var
from textual.strip import Strip
from textual.filter import LineFilter
from textual.widget import Widget

from cobrowse.protocol.untrusted import visible
from cobrowse.screen import Modes, Row, ScreenState, encode_key, encode_paste
from cobrowse.screen.predict import Overlay
from tui.widgets.cell_styles import CellStyles
from tui.widgets.screen_cells import cell_rich_style as _cell_rich_style  # noqa: F401  (bench/render.py takes it from here)
from tui.widgets.screen_cells import cell_segments, fits, predicted
from tui.widgets.screen_viewport import changed_spans, follow_cursor

__all__ = ["RemoteScreen"]

_NO_CURSOR = -1
#: The strip cache holds at least this many rows, and three screens of them (a row scrolled up is
#: found under its new y); more only keeps strips alive for the collector to walk.
STRIPS_MIN = 96


class RemoteScreen(Widget, can_focus=True):
    """A terminal screen rendered line by line; in control mode, keys become bytes."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "remote-screen--cursor",
        "remote-screen--cursor-control",
        "remote-screen--placeholder",
        "remote-screen--highlight",
        "remote-screen--redacted",
    }

    DEFAULT_CSS = """
    RemoteScreen {
        width: 1fr;
        height: 1fr;
        background: $background;
        border: round $panel-lighten-2;
        border-subtitle-align: right;
        border-subtitle-color: $warning;
        border-subtitle-style: bold;
        &:focus {
            border: round $primary;
        }
        &.-control {
            border: heavy $warning 60%;
        }
        &.-control:focus {
            border: heavy $warning;
        }
        & > .remote-screen--cursor {
            text-style: reverse;
        }
        & > .remote-screen--cursor-control {
            background: $warning;
            color: $background;
            text-style: bold;
        }
        & > .remote-screen--highlight {
            background: $accent 45%;
            text-style: underline;
        }
        & > .remote-screen--redacted {
            color: $warning;
            background: $warning 15%;
        }
        & > .remote-screen--placeholder {
            color: $text-muted;
            text-style: italic;
        }
    }
    """

    #: Shown when there is no state and no placeholder was set.
    WAITING_TEXT: ClassVar[str] = "Waiting for the remote screen…"
    #: The border subtitle shown while :attr:`control` is on (the mode "tag").
    CONTROL_TAG: ClassVar[str] = " CONTROL · keys go to the remote terminal "

    control: reactive[bool] = reactive(False, init=False)
    """True: every key and paste that reaches the widget is sent to the remote terminal."""

    size_mismatch: var[tuple[int, int] | None] = var(None, init=False)
    """The remote ``(cols, rows)`` when it differs from the pane's size, else None."""

    class Input(Message):
        """Bytes for the remote terminal's input (posted in control mode only)."""

        def __init__(self, data: bytes) -> None:
            super().__init__()
            self.data = data
            self.remote_screen: RemoteScreen | None = None

        @property
        def control(self) -> "RemoteScreen | None":
            return self.remote_screen

        def __repr__(self) -> str:
            return f"RemoteScreen.Input({self.data!r})"

    def __init__(
        self,
        state: ScreenState | None = None,
        *,
        control: bool = False,
        placeholder: str | None = None,
        app_keys: Iterable[str] = (),
        control_tag: str | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._state: ScreenState | None = None
        # Per state row: the cache key of what is shown there (Row, cursor col, control[, True if highlighted]).
        self._keys: list[tuple] = []
        self._cursor_at: tuple[int, int] | None = None  # (row, col) drawn, in state coords
        self._origin: tuple[int, int] = (0, 0)  # top-left state cell shown at (0, 0)
        self._placeholder: str | None = placeholder
        self._strips: LRUCache[tuple, Strip] = LRUCache(STRIPS_MIN)
        # Per row key: the row framed by the border's edges (those in _edges), when shown whole.
        self._framed: LRUCache[tuple, Strip] = LRUCache(STRIPS_MIN)
        self._edges: tuple[tuple[Segment, ...], tuple[Segment, ...]] | None = None
        self._probing = False
        self._looks = CellStyles(lambda name: self.get_component_rich_style(name, partial=True), self._base_style)
        self._width: int | None = None  # the content width, during render_lines
        self._highlight: frozenset[int] = frozenset()
        self._prediction: Overlay | None = None
        self.app_keys: frozenset[str] = frozenset(app_keys)
        self.control_tag = self.CONTROL_TAG if control_tag is None else control_tag
        self._subtitle_before: str | None = None
        if control:
            self.set_reactive(RemoteScreen.control, True)
            self.add_class("-control")
            self.border_subtitle = self.control_tag
        if state is not None:
            self.set_state(state)

    # ------------------------------------------------------------------ public API

    @property
    def state(self) -> ScreenState | None:
        """The screen state shown (None: nothing received yet)."""
        return self._state

    @property
    def placeholder(self) -> str | None:
        return self._placeholder

    def set_placeholder(self, text: str | None) -> None:
        """Show ``text`` instead of the screen (e.g. "Sharing paused by the customer");
        ``None`` shows the screen again (or the waiting text if there is none)."""
        if text is not None:
            text = visible(text, multiline=True)  # it may quote the other side
        if text == self._placeholder:
            return
        self._placeholder = text
        self.refresh()

    @property
    def highlight(self) -> frozenset[int]:
        """The rows (of the remote screen) drawn highlighted."""
        return self._highlight

    def set_highlight(self, rows: Iterable[int] | None) -> None:
        """Draw these rows of the remote screen with the ``remote-screen--highlight`` style
        (e.g. what the agent points at); ``None`` or empty clears the highlight."""
        new = frozenset(r for r in (rows or ()) if r >= 0)
        old = self._highlight
        if new == old:
            return
        self._highlight = new
        keys = self._keys
        for y in old ^ new:
            if y < len(keys):
                keys[y] = keys[y][:3] + ((True,) if y in new else ())
        if self._state is not None and self._placeholder is None:  # those rows only
            oy, height = self._origin[1], self.size.height
            for y in sorted(old ^ new):
                if oy <= y < oy + height:
                    self._refresh_lines(y - oy, 1)

    @property
    def prediction(self) -> Overlay | None:
        """The predicted local echo drawn over the state (None: none)."""
        return self._prediction

    def set_prediction(self, overlay: Overlay | None) -> None:
        """Draw these predicted cells (underlined, in the pen of the text before them) and the
        cursor where the prediction puts it, until a new state or prediction replaces them
        (cobrowse/screen/predict.py; the agent console's control mode)."""
        if overlay == self._prediction:
            return
        self._prediction = overlay
        if self._state is not None:
            self.set_state(self._state)

    def set_state(self, state: ScreenState | None) -> None:
        """Show ``state``; refreshes only the line regions whose content changed."""
        old = self._state
        self._state = state
        if state is not None and self._prediction is not None:
            state = predicted(state, self._prediction)
        if state is None:
            self._keys = []
            self._cursor_at = None
            self._update_mismatch()
            self.refresh()
            return
        self._resize_cache(state.row_count)
        old_keys = self._keys
        cursor = self._cursor_cell(state)
        control = bool(self.control)
        crow, ccol = cursor if cursor is not None else (-1, _NO_CURSOR)
        keys: list[tuple[Any, ...]] = [(row, _NO_CURSOR, False) for row in state.rows]
        if 0 <= crow < len(keys):
            keys[crow] = (state.rows[crow], ccol, control)
        for y in self._highlight:
            if y < len(keys):
                keys[y] = keys[y] + (True,)
        self._keys = keys
        self._cursor_at = cursor
        self._update_mismatch()
        moved = self._update_origin()
        if old is None or old.size != state.size:  # an auto-sized pane (the agent's, centred) follows
            self.refresh(layout=True)
        if self._placeholder is not None:
            return  # hidden: set_placeholder(None) repaints everything
        if old is None or moved or old.size != state.size or len(old_keys) != len(keys):
            self.refresh()
            return
        self._refresh_changed(old_keys, keys)

    # ------------------------------------------------------------------ refresh logic

    def _cursor_cell(self, state: ScreenState) -> tuple[int, int] | None:
        cur = state.cursor
        cols, rows = state.size
        if not cur.visible or not (0 <= cur.row < rows) or cols <= 0:
            return None
        return cur.row, min(max(cur.col, 0), cols - 1)

    def _resize_cache(self, rows: int) -> None:
        want = max(STRIPS_MIN, 3 * rows)
        if self._strips.maxsize < want:
            self._strips.grow(want)
            self._framed.grow(want)

    def _refresh_changed(self, old_keys: list, keys: list) -> None:
        for start, end in changed_spans(old_keys, keys, self._origin[1], self.size.height):
            self._refresh_lines(start, end - start)

    def _refresh_lines(self, y: int, height: int) -> None:
        """Repaint lines ``y`` .. ``y + height`` whole, the border's cells on both sides too:
        Textual then writes each line's strip as it is (and reuses its rendering) instead of
        cropping a copy at the content's edge on every frame."""
        gutter = self.styles.gutter
        self.refresh(Region(-gutter.left, y, max(self.size.width, 1) + gutter.width, height))

    def _update_origin(self) -> bool:
        """Follow the cursor when the pane is smaller; True if the origin moved."""
        state = self._state
        if state is None:
            return False
        origin = follow_cursor(self._origin, self._cursor_at, (self.size.width, self.size.height), state.size)
        moved = origin != self._origin
        self._origin = origin
        return moved

    def _update_mismatch(self) -> None:
        state = self._state
        mismatch = None
        if state is not None:
            pane = (self.size.width, self.size.height)
            if state.size != pane:
                mismatch = state.size
        if mismatch != self.size_mismatch:
            self.size_mismatch = mismatch

    def on_resize(self, event: events.Resize) -> None:
        self._update_mismatch()
        self._update_origin()
        self.refresh()

    def watch_control(self, control: bool) -> None:
        self.set_class(control, "-control")
        if control:
            self._subtitle_before = self.border_subtitle
            self.border_subtitle = self.control_tag
        else:
            self.border_subtitle = self._subtitle_before or ""
        state = self._state
        if state is not None and self._cursor_at is not None:
            crow, ccol = self._cursor_at
            if self._prediction is not None:
                state = predicted(state, self._prediction)
            self._keys[crow] = (state.rows[crow], ccol, control) + ((True,) if crow in self._highlight else ())
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._clear_style_caches()

    def _clear_style_caches(self) -> None:
        self._looks.clear()
        self._strips.clear()
        self._framed.clear()

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self._state.cols if self._state is not None else container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self._state.row_count if self._state is not None else container.height

    # ------------------------------------------------------------------ rendering

    def _base_style(self) -> RichStyle:
        base = self.rich_style
        if base != self._looks.base:
            self._clear_style_caches()
            self._looks.base = base
        return base

    def render_lines(self, crop: Region) -> list[Strip]:
        self._base_style()  # once per repaint: rich_style walks the ancestors
        self._width = self.size.width  # and the size is computed anew on every access
        try:
            return self._framed_lines(crop) or super().render_lines(crop)
        finally:
            self._width = None

    def get_line_filters(self) -> Sequence[LineFilter]:
        return () if self._probing else super().get_line_filters()

    def _framed_lines(self, crop: Region) -> list[Strip] | None:
        """The rows inside the border, each framed once and reused while its row is shown: a row
        that only moved (a scroll) comes back as the same Strip, so Textual's own caches on it
        (the filters, the cut at other widgets' edges, its escape sequences) are reused too.

        The frame's edges are taken from Textual's own rendering of one row, which must be
        exactly edge + row + edge; anything else (padding, tint, opacity, a hatch, a partial
        crop) is left to Textual (None)."""
        state = self._state
        width, height = self.outer_size
        if state is None or self._placeholder is not None or crop.x != 0 or crop.width != width:
            return None
        gutter = self.styles.gutter
        top, bottom = gutter.top, height - gutter.bottom
        first, last = max(crop.y, top), min(crop.bottom, bottom)
        if first >= last or gutter.left > 1 or gutter.right > 1:
            return None
        self._probing = True  # unfiltered: the top edge, and the first row for its edges
        try:
            strips = super().render_lines(Region(0, crop.y, width, first + 1 - crop.y))
        finally:
            self._probing = False
        probe = strips.pop()
        keys, framed, inner = self._keys, self._framed, self._width
        ox, oy = self._origin[0], self._origin[1] - top
        direct = ox == 0 and state.cols == inner  # a row's strip is the content's line as it is
        key = keys[first + oy] if direct and first + oy < len(keys) else None
        row = (self._strips.get(key) if key is not None else None) or self.render_line(first - top)
        segments = list(probe)
        left, right = gutter.left, len(segments) - gutter.right
        if probe.cell_length != width or right - left != len(row) or segments[left:right] != list(row):
            return None
        edges = (tuple(segments[:left]), tuple(segments[right:]))
        if edges != self._edges:
            self._edges = edges
            self._framed.clear()
        filters = self.get_line_filters()
        background = self.background_colors[1] if filters else None
        for line_filter in filters:
            strips = [strip.apply_filter(line_filter, background) for strip in strips]  # type: ignore[arg-type]
        head, tail = list(edges[0]), list(edges[1])
        for y in range(first, last):
            sy = y + oy  # the state's row (the origin keeps it >= 0)
            if sy >= len(keys):
                key = (None, inner)  # blank below the state's rows
            else:
                key = keys[sy] if direct else (keys[sy], ox, inner)  # a cropped or extended row
            if (strip := framed.get(key)) is None:
                line = row if y == first else self.render_line(y - top)
                strip = framed[key] = Strip([*head, *line, *tail], width) if head or tail else line
            for line_filter in filters:
                strip = strip.apply_filter(line_filter, background)  # type: ignore[arg-type]
            strips.append(strip)
        if last < crop.bottom:
            strips.extend(super().render_lines(Region(0, last, width, crop.bottom - last)))
        return strips

    def render_line(self, y: int) -> Strip:
        width = self._width if self._width is not None else self.size.width
        base = self._looks.base if self._looks.base is not None else self._base_style()
        state = self._state
        if state is None or self._placeholder is not None:
            return self._placeholder_line(y, width)
        ox, oy = self._origin
        sy = y + oy
        if sy >= len(self._keys) or width <= 0:
            return Strip.blank(width, base)
        key = self._keys[sy]
        strip = self._strips.get(key)
        if strip is None:
            strip = self._build_strip(key, state.cols)
            self._strips[key] = strip
        if ox == 0 and strip.cell_length == width:
            return strip
        return strip.crop_extend(ox, ox + width, base)

    def _build_strip(self, key: tuple, cols: int) -> Strip:
        row, ccol, control = key[:3]
        if ccol == _NO_CURSOR and not row.wide and all(fits(t) for t, _ in row.runs):
            segments = [Segment(text, self._looks.cell(style)) for text, style in row.runs]
        else:
            segments = self._cell_segments(row, ccol, control)
        width = row.width
        if width < cols:  # padded here: one Strip a row (each holds seven caches for the collector to walk)
            segments.append(Segment(" " * (cols - width), self._looks.base))
            width = cols
        strip = Strip(segments, width)
        if width != cols:
            strip = strip.adjust_cell_length(cols, self._looks.base)
        if len(key) > 3:  # a highlighted row: the highlight style over every cell
            strip = Strip(Segment.apply_style(list(strip), post_style=self._looks.highlight()), strip.cell_length)
        return strip

    def _cell_segments(self, row: Row, ccol: int, control: bool) -> list[Segment]:
        """Cell by cell: the cursor cell, and widths Rich measures differently."""
        return cell_segments(row, self._looks.cell, lambda style: self._looks.cursor(style, control),
                             None if ccol == _NO_CURSOR else ccol)

    def _placeholder_line(self, y: int, width: int) -> Strip:
        text = self._placeholder if self._placeholder is not None else self.WAITING_TEXT
        lines = text.split("\n")
        height = self.size.height
        top = max(0, (height - len(lines)) // 2)
        style = self.get_component_rich_style("remote-screen--placeholder")
        if not top <= y < top + len(lines) or width <= 0:
            return Strip.blank(width, style)
        line = lines[y - top]
        n = cell_len(line)
        left = max(0, (width - n) // 2)
        strip = Strip([Segment(" " * left, style), Segment(line, style)], left + n)
        return strip.crop_extend(0, width, style)

    # ------------------------------------------------------------------ input

    def _modes(self) -> Modes:
        return self._state.modes if self._state is not None else Modes()

    def _post_input(self, data: bytes) -> None:
        message = self.Input(data)
        message.remote_screen = self
        self.post_message(message)

    def on_key(self, event: events.Key) -> None:
        if not self.control or event.key in self.app_keys:
            return
        event.stop()
        event.prevent_default()
        try:
            data = encode_key(event.key, self._modes())
        except ValueError:
            ch = event.character
            if not ch or not ch.isprintable():
                return  # a key no terminal sequence stands for: dropped
            data = ch.encode("utf-8")
        if data:
            self._post_input(data)

    def on_paste(self, event: events.Paste) -> None:
        if not self.control:
            return
        event.stop()
        event.prevent_default()
        data = encode_paste(event.text, self._modes())
        if data:
            self._post_input(data)
