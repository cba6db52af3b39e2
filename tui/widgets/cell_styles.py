"""The Rich styles a RemoteScreen draws its cells in: each cell's, the cursor's, the highlight's.

They are built once per cell :class:`~cobrowse.screen.Style` and kept: a repaint looks each up
instead of adding Rich styles per cell. Every style starts from the widget's own (its CSS
colours), so they are all forgotten when that changes (:meth:`CellStyles.clear`; the widget
clears its cached strips with them). The cache is bounded: a program streaming fresh RGB
colours cannot grow it without end. A masked cell (``REDACTED``) takes the component style
``remote-screen--redacted``, never its own, so a mask never passes for text.
"""

from __future__ import annotations

from typing import Callable

from rich.style import Style as RichStyle

from cobrowse.screen import Style
from tui.widgets.screen_cells import cell_rich_style

__all__ = ["MAX_STYLES", "CellStyles"]

#: Cell styles kept before the cache starts afresh.
MAX_STYLES = 4096


class CellStyles:
    """One widget's cell styles, cached; ``component`` gives its component styles (partial),
    ``current_base`` its own style, read anew (the widget clears this cache when it changed)."""

    def __init__(self, component: Callable[[str], RichStyle], current_base: Callable[[], RichStyle]) -> None:
        self._component = component
        self._current_base = current_base
        #: The widget's style the cached ones were built on (None: not read since the last clear).
        self.base: RichStyle | None = None
        self._cells: dict[Style, RichStyle] = {}
        self._cursors: dict[tuple[Style, bool], RichStyle] = {}
        self._cursor_comp: tuple[RichStyle, RichStyle] | None = None
        self._highlight: RichStyle | None = None

    def clear(self) -> None:
        """Forget every style: the widget's CSS or its own style changed."""
        self._cells.clear()
        self._cursors.clear()
        self.base = None
        self._cursor_comp = None
        self._highlight = None

    def cell(self, style: Style) -> RichStyle:
        """A cell's style over the widget's; a masked cell's is the redaction style."""
        rs = self._cells.get(style)
        if rs is None:
            if len(self._cells) >= MAX_STYLES:  # bounded: a stream of fresh RGB colours
                self._cells.clear()
                self._cursors.clear()
            base = self.base if self.base is not None else self._current_base()
            if style.redacted:
                rs = base + self._component("remote-screen--redacted")
            else:
                rs = base + cell_rich_style(style)
            self._cells[style] = rs
        return rs

    def cursor(self, style: Style, control: bool) -> RichStyle:
        """The cursor's cell: its style with ``remote-screen--cursor`` (or ``-control``) on top."""
        key = (style, control)
        rs = self._cursors.get(key)
        if rs is None:
            if self._cursor_comp is None:
                self._cursor_comp = (
                    self._component("remote-screen--cursor"),
                    self._component("remote-screen--cursor-control"),
                )
            comp = self._cursor_comp[1 if control else 0]
            rs = self.cell(style) + comp
            if comp.reverse and style.inverse:  # reverse video on an inverse cell
                rs += RichStyle(reverse=False)
            self._cursors[key] = rs
        return rs

    def highlight(self) -> RichStyle:
        """What a highlighted row's cells get on top (``remote-screen--highlight``)."""
        if self._highlight is None:
            self._highlight = self._component("remote-screen--highlight")
        return self._highlight
