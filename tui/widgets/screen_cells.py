"""How one row of a remote screen becomes Rich segments, and the agent's predictions drawn in.

* Rows are laid out from :meth:`Row.cells` widths (the emulator's), never from
  Rich's own ``wcwidth`` table: where the two disagree the character is padded
  (emulator says 2, Rich says 1) or replaced by U+FFFD (emulator says 1, Rich
  says 2), so columns never drift.
* Colours: ``None`` is the widget's own (CSS) colour/background; 0-255 is
  ``rich.color.Color.from_ansi``; ``(r, g, b)`` is ``Color.from_rgb``. Attributes:
  bold, faint (Rich ``dim``; both may be set, SGR 1;2), italic, underline, strike, blink,
  inverse (Rich ``reverse``), double underline (Rich ``underline2``), overline; curly, dotted
  and dashed underlines have no Rich style and show as an underline; a hidden cell (SGR 8)
  arrives blank. A cell holds a grapheme cluster (a base and its combining marks, variation
  selectors, ZWJ sequence): Rich measures it whole; where Rich's width still differs from
  the emulator's, the base character alone is drawn; bidirectional controls in a cluster are
  dropped, so the other side never reorders our text. A cell the customer's cobrowse masked
  (``REDACTED``: its text is the mask character, see cobrowse/screen/redact.py) takes the
  widget's component style ``remote-screen--redacted`` instead of its own, so a mask never
  passes for text (the widget picks the style: ``CellStyles.cell``, tui/widgets/cell_styles.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

from rich.cells import cell_len, get_character_cell_size
from rich.color import Color as RichColor
from rich.segment import Segment
from rich.style import Style as RichStyle

from cobrowse.screen import Cursor, Row, ScreenState, Style
from cobrowse.screen.predict import Overlay
from cobrowse.screen.state import UNDERLINE

__all__ = ["cell_rich_style", "cell_segments", "fits", "predicted"]

#: One terminal colour: the default (``None``), a palette index, or ``(r, g, b)``.
TermColor = int | tuple[int, int, int] | None


def _rich_color(c: TermColor) -> RichColor | None:
    if c is None:
        return None
    if isinstance(c, int):
        return RichColor.from_ansi(c)
    r, g, b = c
    return RichColor.from_rgb(r, g, b)


@lru_cache(maxsize=4096)
def cell_rich_style(style: Style) -> RichStyle:
    """The Rich style of a cell style, colours unset where the terminal default applies."""
    return RichStyle(
        color=_rich_color(style.fg),
        bgcolor=_rich_color(style.bg),
        bold=style.bold,
        dim=style.faint,
        italic=style.italic,
        underline=style.underline or style.styled_underline,
        underline2=style.double_underline,
        overline=style.overline,
        strike=style.strikethrough,
        blink=style.blink,
        reverse=style.inverse,
    )


#: Bidirectional controls a cluster may carry (tmux keeps them in the cell): dropped when drawn.
_BIDI_CONTROLS = dict.fromkeys([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def predicted(state: ScreenState, overlay: Overlay) -> ScreenState:
    """``state`` as the agent should see it: the predicted cells written in, underlined."""
    cells = {c.col: c.text for c in overlay.cells}
    rows = list(state.rows)
    col, row = overlay.cursor
    for r in {c.row for c in overlay.cells}:
        if not 0 <= r < len(rows) or rows[r].wide:
            return state
        runs: list[tuple[str, Style]] = []
        pen = None
        for c, ch, _, style in rows[r].cells():
            if c in cells:
                base = pen if pen is not None else style
                runs.append((cells[c], base._replace(attrs=base.attrs | UNDERLINE)))
            else:
                runs.append((ch, style))
                pen = style
        rows[r] = Row.from_runs(runs)
    if not 0 <= row < len(rows):
        return state
    return ScreenState(state.size, Cursor(col, row, state.cursor.visible), tuple(rows), state.modes)


def fits(text: str) -> bool:
    """True if Rich measures ``text`` one cell per character."""
    return text.isascii() or cell_len(text) == len(text)


def cell_segments(row: Row, style_of: Callable[[Style], RichStyle], cursor_style_of: Callable[[Style], RichStyle],
                  cursor_col: int | None) -> list[Segment]:
    """The row cell by cell, each in ``style_of`` its style (the cursor's cell in
    ``cursor_style_of``), laid out at the emulator's widths; runs of one style joined."""
    segments: list[Segment] = []
    buf: list[str] = []
    cur: RichStyle | None = None
    for col, ch, w, style in row.cells():
        if ch.isascii():
            rw = 1
        elif len(ch) == 1:
            rw = get_character_cell_size(ch)
        else:  # a cluster: Rich measures graphemes; else fall back to its base character
            ch = ch.translate(_BIDI_CONTROLS) or " "  # never let the other side reorder our text
            rw = cell_len(ch)
            if rw != w:
                ch = ch[0]
                rw = get_character_cell_size(ch)
        if rw != w:
            if w == 2:
                ch = ch + " " if rw == 1 else "  "
            else:
                ch = "\ufffd" if rw == 2 else " "
        if cursor_col is not None and col <= cursor_col < col + w:
            rs = cursor_style_of(style)
        else:
            rs = style_of(style)
        if rs is not cur:
            if buf:
                segments.append(Segment("".join(buf), cur))
            buf = []
            cur = rs
        buf.append(ch)
    if buf:
        segments.append(Segment("".join(buf), cur))
    return segments
