"""The terminal emulator adapter: the ONLY module that imports ``avt`` (pyavt).

Swapping the emulator means rewriting this file and nothing else: the rest of
the package sees :class:`Emulator` and the values of :mod:`.state`.

What avt does for us: parsing (fast, in Rust), the cell grid, cursor, styles,
the alternate screen, and the list of rows each ``feed_str`` changed.
What we do ourselves:

* incremental UTF-8 decoding across chunk boundaries (``errors="replace"``);
* dropping DEL (0x7f), which avt would otherwise print as a cell, and blanking
  cells whose character has no width of its own (combining marks, format
  characters), so one character of ``Row.text`` is one column (two if wide);
* mode tracking from the raw byte stream (bracketed paste, the alternate screen,
  application cursor keys: what avt ignores, hides or keeps wrongly), robust to
  sequences split across chunks: :class:`~.mode_tracker.ModeTracker`;
* building :class:`Row` values, only when asked (never on ``feed``);
* completing avt's changed-row report where it misses a row (a wide char
  wrapping at the end of a row blanks the rest of that row unreported).

pyavt's ``feed_str`` holds the GIL for the whole call (measured: a second Python
thread gets 3-17 % of its normal speed while one long feed runs), so feeding large
inputs in another thread buys no parallelism; keep pieces small instead (we
split inputs into pieces of at most 32 K characters, which is also faster).

avt can panic on odd input (found by fuzzing: a wide character on a 1-column
screen with autowrap off); the panic surfaces as pyo3's ``PanicException``
(a ``BaseException``). We refuse 1-column screens and, as a second line of
defence, rebuild the Vt from its last dump when a panic happens anyway (Rust
prints the panic message to stderr; the session goes on).
"""

from __future__ import annotations

import codecs
import re
from typing import Any, Iterable, Sequence

import avt
from avt.util import TextUnwrapper

from .cluster import base_width, is_token_char, trim_cluster
from .above import ScrolledOff, is_plain, last_region
from .dump_rows import rows_from_dump, tail_from_dump
from .mode_tracker import ModeTracker
from .prefilter import StreamFilter
from .state import (
    BLINK,
    Color,
    BOLD,
    DEFAULT_STYLE,
    FAINT,
    HIDDEN,
    INVERSE,
    ITALIC,
    MAX_COLS,
    MAX_ROWS,
    STRIKETHROUGH,
    UNDERLINE,
    UNDERLINE_STYLES,
    Cursor,
    Modes,
    Row,
    ScreenState,
    Style,
    is_cell_char,
)

__all__ = ["Emulator", "MIN_COLS", "View"]

_PIECE = 32768
# Lines kept above the screen. Not mirrored, but a terminal that grows taller pulls them
# back into view (xterm, VTE, tmux, kitty do), and the mirror must do the same or its rows
# and cursor drift from the customer's. Bounded: avt is as fast with 1000 as with 0.
_SCROLLBACK = 1000
# Rows kept for reuse (Emulator._built): a few screens' worth.
_BUILT_MAX = 512
# Rows to build at once from which one dump of the view is cheaper (dump_rows.py: the dump
# and its cut ~60 us for 30 rows of 100 columns, a row from its cells ~14 us).
_DUMP_FROM = 4
# Styles by SGR parameters as avt dumps them (a screen uses a few).
_SGR_STYLES_MAX = 256
# Lines above the screen followed (rows_above answers up to this many without a copy), and
# pieces followed between two asks before copying is cheaper: a piece costs ~30 us (a view,
# the move check; a feed longer than two pieces has its head fed unfollowed and only its last
# piece followed, above.py) and the copy of 1,000 scrollback lines 0.25-1 ms.
_ABOVE_KEEP = 16
_ABOVE_TAIL = 8  # what the frames ask for: redaction's CONTEXT_ROWS
_FOLLOW_PIECES = 24
# avt panics on a 1-column screen (wide char, autowrap off): refuse it. The
# I/O layer clamps the pty's size into MIN_COLS..MAX_COLS x 1..MAX_ROWS.
MIN_COLS = 2

_Indexed = avt.Color.Indexed
_TOKEN_CHAR = re.compile("[\U00100000-\U0010fffd\U0003c000-\U0003fffd]")  # cluster.py's token ranges


def _after_erase_saved(text: str) -> int:
    """Where the last "erase saved lines" (``ESC [ 3 J`` or its C1 form) in ``text`` ends, or 0."""
    esc = text.rfind("\x1b[3J")
    c1 = text.rfind("\x9b3J")
    return max(esc + 4 if esc >= 0 else 0, c1 + 3 if c1 >= 0 else 0)


def _check_size(cols: int, rows: int) -> None:
    if not (isinstance(cols, int) and isinstance(rows, int)):
        raise TypeError("cols and rows must be integers")
    if not (MIN_COLS <= cols <= MAX_COLS and 1 <= rows <= MAX_ROWS):
        raise ValueError(
            f"screen size {cols}x{rows} out of range {MIN_COLS}..{MAX_COLS} x 1..{MAX_ROWS}"
        )


def _color(c: Any) -> Color:
    if c is None:
        return None
    if isinstance(c, _Indexed):
        return c[0]
    return (c[0], c[1], c[2])


def _style(pen: Any) -> Style:
    if pen.is_default():
        return DEFAULT_STYLE
    a = 0
    if pen.bold:
        a |= BOLD
    if pen.faint:
        a |= FAINT
    if pen.italic:
        a |= ITALIC
    if pen.underline:
        a |= UNDERLINE
    if pen.strikethrough:
        a |= STRIKETHROUGH
    if pen.blink:
        a |= BLINK
    if pen.inverse:
        a |= INVERSE
    return Style(_color(pen.foreground), _color(pen.background), a)


_PEN_RE = re.compile(r"\x1b\[([0-9;:]*)m")  # avt dumps RGB colours with colons


def _sgr_color(c: Any, base: int) -> str:
    if isinstance(c, _Indexed):
        return f"{base};5;{c[0]}"
    return f"{base};2;{c[0]};{c[1]};{c[2]}"


def _pen_sgr(pen: Any) -> str:
    """SGR parameters that set exactly ``pen``."""
    parts = ["0"]
    for flag, code in ((pen.bold, "1"), (pen.faint, "2"), (pen.italic, "3"), (pen.underline, "4"),
                       (pen.blink, "5"), (pen.inverse, "7"), (pen.strikethrough, "9")):
        if flag:
            parts.append(code)
    if pen.foreground is not None:
        parts.append(_sgr_color(pen.foreground, 38))
    if pen.background is not None:
        parts.append(_sgr_color(pen.background, 48))
    return ";".join(parts)


def _runs(text: str, pens: list[Any]) -> tuple[tuple[str, Style], ...]:
    """Group per-cell pens into canonical runs (pens compare by value)."""
    runs = []
    start = 0
    prev = pens[0]
    prev_style = _style(prev)
    for i in range(1, len(pens)):
        p = pens[i]
        if p != prev:
            style = _style(p)
            if style != prev_style:
                runs.append((text[start:i], prev_style))
                start = i
                prev_style = style
            prev = p
    runs.append((text[start:], prev_style))
    return tuple(runs)


def _with_ext(style: Style, ext: int) -> Style:
    attrs = style.attrs
    if ext & UNDERLINE_STYLES:
        attrs &= ~UNDERLINE
    return Style(style.fg, style.bg, attrs | ext)


def _row_from_line(line: Any, tokens: Any) -> Row:
    cells = line.cells
    if not cells:
        return Row(())
    text = line.text
    if len(text) == len(cells) and text.isascii():
        # Fast path: one printable ASCII character per cell (DEL is filtered
        # on input and avt keeps no other control character in a cell).
        return Row(_runs(text, [c.pen for c in cells]))
    # Slow path: wide characters (a width-2 cell followed by a width-0
    # placeholder), tokens (clusters, extended attributes: cluster.py) and
    # characters that must not reach a cell.
    parts: list[str] = []
    styles: list[Style] = []
    wide: list[int] = []
    offset = 0
    n = len(cells)
    for i, c in enumerate(cells):
        w = c.width
        ch = c.char
        style = _style(c.pen)
        if w == 0:
            if i > 0 and cells[i - 1].width == 2:
                continue  # placeholder of the wide char just emitted
            ch = " "  # stray placeholder: keep the cell
        elif w == 2 and not (i + 1 < n and cells[i + 1].width == 0):
            ch, w = " ", 1  # a wide char without its second half: keep 1 cell
        if is_token_char(ch):
            decoded = tokens.decode(ch)
            ch, ext = decoded if decoded is not None else (" ", 0)
            if ext:
                style = _with_ext(style, ext)
                if ext & HIDDEN:
                    ch = " "
                    if w == 2:  # a hidden wide cell: two blank cells
                        parts.append(ch)
                        styles.append(style)
                        offset += 1
                        w = 1
        elif not is_cell_char(ch):
            ch = " "
        if w == 2:
            wide.append(offset)
        parts.append(ch)
        styles.append(style)
        offset += len(ch)
    runs: list[tuple[str, Style]] = []
    start = 0
    for k in range(1, len(parts) + 1):
        if k == len(parts) or styles[k] != styles[start]:
            runs.append(("".join(parts[start:k]), styles[start]))
            start = k
    return Row(tuple(runs), tuple(wide))


def _reusable(text: str) -> bool:
    """Whether a row with this text is the same Row whenever its avt line is the same: no
    cluster token in it (a token's meaning can change)."""
    return text.isascii() or _TOKEN_CHAR.search(text) is None


def _line_shift(view: Sequence[Any], old: Sequence[Any], changed: Sequence[int]) -> int:
    """How many rows the screen moved up from avt lines ``old`` to ``view`` (0: none found):
    the first move that lines one of the first two changed rows up with a row below it in
    ``old``, the row after it agreeing too (avt compares lines in Rust)."""
    n = len(old)
    if len(changed) < 2:
        return 0
    for j in changed[:2]:
        line = view[j]
        for at in range(j + 1, n):
            if line == old[at] and (at + 1 == n or j + 1 == n or view[j + 1] == old[at + 1]):
                return at - j
    return 0


class View:
    """The visible rows as :meth:`Emulator.fetch` last gave them to one caller: avt's lines
    (to tell which rows only moved since), their texts and the Rows built from them."""

    __slots__ = ("lines", "rows", "texts", "size")

    def __init__(self, lines: list[Any], rows: tuple[Row, ...], texts: list[str], size: tuple[int, int]) -> None:
        self.lines = lines
        self.rows = rows
        self.texts = texts
        self.size = size


class Emulator:
    """A virtual terminal of ``cols`` x ``rows`` fed with the program's bytes."""

    __slots__ = ("_vt", "_decoder", "_tracker", "_cols", "_rows", "_filter", "_built", "_off", "_region", "_sgr",
                 "_view")

    def __init__(self, cols: int = 80, rows: int = 24) -> None:
        _check_size(cols, rows)
        # A bounded scrollback keeps avt fast (unbounded: ~2.5x slower) and
        # memory flat; the mirror shows the visible screen only (see _SCROLLBACK).
        self._vt = avt.Vt(cols, rows, scrollback_limit=_SCROLLBACK)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._tracker = ModeTracker()
        self._cols = cols
        self._rows = rows
        self._filter = StreamFilter(avt.Charset.Drawing.translate)
        # Rows built lately, by line text, with the avt line they came from: a row that only
        # moved (a scroll) compares equal to its line (cells and pens, in avt: ~0.2 us) and
        # is not built again (~45 us). ASCII lines only: other text may hold cluster tokens,
        # whose meaning can change.
        self._built: dict[str, tuple[Any, Row]] = {}
        # The lines above the screen, followed as plain text scrolls (above.py), and whether
        # a scroll region may be set (then they are copied: a region scrolls differently).
        self._off = ScrolledOff(_ABOVE_KEEP, _FOLLOW_PIECES, _PIECE, _ABOVE_TAIL)
        self._off.seed(())  # a fresh screen has no scrollback
        self._region = False
        self._sgr: dict[str, Style] = {}
        # avt's view as the last change left it (None: not taken): the deferred feed's last
        # view is the frame's, and the frame's is the next feed's starting view (_screen_lines).
        self._view: list[Any] | None = None

    # -- input ---------------------------------------------------------

    def feed(self, data: bytes) -> set[int]:
        """Feed raw output bytes; return the indexes of visible rows that changed."""
        geometry = self._tracker.track(data)
        before = self._decoder.getstate()[0]
        text = self._decoder.decode(data)
        flt = self._filter
        if not (geometry or flt.wants(before + data if before else data, text, self._rows)):
            return self._feed_str(flt.hold_partial(text))
        changed: set[int] = set()

        def flush(pending: str) -> str:
            changed.update(self._feed_str(pending))
            return self._vt.dump()

        def wide_fits(pending: str) -> bool:
            changed.update(self._feed_str(pending))
            return self._vt.cursor.col + 2 <= self._cols

        changed |= self._feed_str(
            flt.process(text, self._rows, flush, lambda: self._vt.cursor.row, self._join_left, wide_fits)
        )
        if flt.tokens.full:
            in_use = {ch for line in self._vt.lines() for ch in line.text if is_token_char(ch)}
            flt.tokens.collect(in_use)
        return changed

    def feed_text(self, text: str) -> set[int]:
        """Feed text (tests, or output the caller produced itself): the same as
        feeding its UTF-8 encoding (lone surrogates end up as U+FFFD)."""
        return self.feed(text.encode("utf-8", "surrogatepass"))

    def _feed_str(self, text: str) -> set[int]:
        if "3J" in text:
            cut = _after_erase_saved(text)
            if cut:
                changed = self._feed_piece(text[:cut]) | self._erase_saved()
                return changed | self._feed_piece(text[cut:])
        return self._feed_piece(text)

    def _erase_saved(self) -> set[int]:
        """``ESC [ 3 J`` (`clear` writes it): the lines above the screen are gone on the
        customer's terminal. avt ignores it, and would pull the cleared lines back into view
        when the terminal grows (and give them to redaction as context): rebuild it from its
        dump, which holds the screens, cursor, pen, modes and tab stops but no scrollback."""
        if self._rebuild():
            self._off.seed(())
            return set()
        self._filter.pen = None
        self._off.forget()
        return set(range(self._rows))

    def _feed_piece(self, text: str) -> set[int]:
        if not text:
            return set()
        if "\x7f" in text:
            text = text.replace("\x7f", "")
        vt = self._vt
        off = self._off
        view = self._view
        self._view = None
        try:
            if off.known and not self._tracker.alt and not self._region and is_plain(text):
                changed = off.feed(vt, text, self._cols, self._rows, view)
                self._view = off.after
            else:
                if off.known:
                    off.forget()
                self._note_region(text)
                if len(text) <= _PIECE:
                    changed = set(vt.feed_str(text)[0])
                else:
                    changed = set()
                    for i in range(0, len(text), _PIECE):
                        changed.update(vt.feed_str(text[i : i + _PIECE])[0])
        except BaseException as exc:  # pyo3's PanicException derives from BaseException
            if type(exc).__name__ != "PanicException":
                raise
            return self._recover()
        if changed and not text.isascii():
            # avt quirk: a wide char that does not fit at the end of a row wraps
            # and blanks the rest of that row, but only the row it lands on is
            # reported. Mark the row above each changed row too (O(1) check:
            # only for non-ASCII text).
            changed.update([i - 1 for i in changed if i > 0])
        return changed

    def _note_region(self, text: str) -> None:
        """Whether a scroll region other than the whole screen may now be set."""
        last = last_region(text)
        if last is not None:
            self._region = last not in ("", "1", f"1;{self._rows}")

    def _join_left(self, chars: str) -> str:
        """What makes avt join zero-width ``chars`` to the cell left of the cursor (tmux
        does, keeping that cell's style): that cell again, as a token of its cluster plus
        ``chars``, drawn with its own pen; then the pen as it was. "" drops them (column 0,
        or a cell the token cannot stand for)."""
        vt = self._vt
        cur = vt.cursor
        col = min(cur.col, self._cols)
        if col <= 0:
            return ""
        cells = vt[min(max(cur.row, 0), self._rows - 1)].cells
        c = col - 1
        if cells[c].width == 0 and c > 0:
            c -= 1
        cell = cells[c]
        width = cell.width
        if width == 0:
            return ""
        tokens = self._filter.tokens
        ch = cell.char
        decoded = tokens.decode(ch) if is_token_char(ch) else None
        base, ext = decoded if decoded is not None else (ch, 0)
        cluster = trim_cluster(base + chars)
        if base_width(cluster[0]) != width:
            return ""
        tok = tokens.token(cluster, ext)
        if tok is None:
            return ""
        dump = vt.dump()
        pens = _PEN_RE.findall(dump)
        now = pens[-1] if pens else "0"
        again = f"\x1b[{c + 1}G\x1b[{_pen_sgr(cell.pen)}m{tok}\x1b[{now}m"
        # in insert mode (IRM, which avt dumps as C1 CSI 4 h) drawing the cell again would
        # insert a second copy of it
        return f"\x1b[4l{again}\x1b[4h" if "\x9b4h" in dump else again

    def _recover(self) -> set[int]:
        """avt panicked (a Rust bug, e.g. a wide char on a 1-column screen with
        autowrap off): rebuild a fresh Vt from the old one's dump, or blank."""
        self._rebuild()
        self._filter.pen = None
        self._off.forget()
        return set(range(self._rows))

    def _rebuild(self) -> bool:
        """A fresh Vt from the old one's dump (screens, cursor, pen, modes, tab stops; no
        lines above the screen); a blank one if avt panics on its own dump. Whether the
        dump was taken."""
        fresh = avt.Vt(self._cols, self._rows, scrollback_limit=_SCROLLBACK)
        taken = True
        try:
            fresh.feed_str(self._vt.dump())
        except BaseException as exc:  # pyo3's PanicException derives from BaseException
            if type(exc).__name__ != "PanicException":
                raise
            fresh = avt.Vt(self._cols, self._rows, scrollback_limit=_SCROLLBACK)
            taken = False
        self._vt = fresh
        self._view = None
        self._built.clear()
        return taken

    def resize(self, cols: int, rows: int) -> set[int]:
        """Resize the screen; returns every row index (the caller resends all)."""
        _check_size(cols, rows)
        self._view = None
        self._vt.resize(cols, rows)
        self._filter.resized()
        self._off.forget()
        self._cols = cols
        self._rows = rows
        return set(range(rows))

    # -- output --------------------------------------------------------

    @property
    def size(self) -> tuple[int, int]:
        return (self._cols, self._rows)

    def cursor(self) -> Cursor:
        c = self._vt.cursor
        col = min(max(c.col, 0), self._cols)  # col == cols: pending wrap
        row = min(max(c.row, 0), self._rows - 1)
        return Cursor(col, row, bool(c.visible))

    def modes(self) -> Modes:
        return self._tracker.modes()

    def scrolls_whole(self) -> bool:
        """Whether a line feed on the last row surely scrolls the whole screen: no scroll
        region may be set and not on the alternate screen (skip-ahead's condition, skip.py)."""
        return not self._tracker.alt and not self._region

    def row(self, i: int) -> Row:
        if not 0 <= i < self._rows:
            raise IndexError(f"row {i} out of range 0..{self._rows - 1}")
        return self._row(self._screen_lines()[i])

    def wrapped(self, i: int) -> bool:
        """Whether visible row ``i`` ran on into the next one by auto-wrap. A row merely
        filled to its last column (a line that ended there) did not; Row texts cannot tell
        the two apart. avt keeps the flag per line but shows it only to its text unwrapper
        (a wrapped line gives no text yet: ~1 us)."""
        if not 0 <= i < self._rows:
            raise IndexError(f"row {i} out of range 0..{self._rows - 1}")
        return TextUnwrapper().push(self._vt[i]) is None

    def rows(self, indexes: Iterable[int]) -> dict[int, Row]:
        """Rows for several indexes at once (one pass over avt's view); when several are new
        (a scroll), cut from one dump of the view (dump_rows.py) instead of their cells."""
        view = self._screen_lines()
        built = self._built
        out: dict[int, Row | None] = {}
        missed: list[int] = []
        for i in indexes:
            line = view[i]
            known = built.get(line.text)
            if known is not None and known[0] == line:
                out[i] = known[1]
            else:
                out[i] = None  # keeps the order asked for
                missed.append(i)
        if missed:
            texts = [line.text for line in view] if len(missed) >= _DUMP_FROM else []
            for i, row in zip(missed, self._build(view, texts, missed, True)):
                out[i] = row
        return out  # type: ignore[return-value]  # every None was replaced

    def fetch(self, dirty: Iterable[int], since: View | None = None) -> tuple[View, int]:
        """The screen's rows as a :class:`View`, and how many rows it moved up since ``since``
        (the View this returned last, to the same caller; ``dirty``: the rows :meth:`feed`
        reported changed since then). A row that only moved (a scroll, a region's partial
        scroll) is ``since``'s Row object again: its avt line is compared (cells and pens,
        in Rust) with the line it was built from, so only the new rows are built."""
        view = self._screen_lines()
        n = self._rows
        if since is None or since.size != (self._cols, n) or len(since.lines) != len(view):
            texts = [line.text for line in view]
            return View(view, tuple(self._build(view, texts, list(range(n)))), texts, (self._cols, n)), 0
        old_texts, old_lines, old_rows = since.texts, since.lines, since.rows
        texts = list(old_texts)
        rows = list(old_rows)
        changed = sorted(i for i in dirty if 0 <= i < n)
        k = _line_shift(view, old_lines, changed)
        missed: list[int] = []
        for i in changed:
            line = view[i]
            src = i + k
            if src < n and line == old_lines[src] and _reusable(old_texts[src]):
                rows[i], texts[i] = old_rows[src], old_texts[src]
            elif k and line == old_lines[i] and _reusable(old_texts[i]):
                rows[i], texts[i] = old_rows[i], old_texts[i]
            else:
                texts[i] = line.text
                missed.append(i)
        if missed:
            for i, row in zip(missed, self._build(view, texts if len(missed) >= _DUMP_FROM else [], missed)):
                rows[i] = row
        return View(view, tuple(rows), texts, (self._cols, n)), k

    def _screen_lines(self) -> list[Any]:
        """avt's view, taken once between two changes of the screen (nobody changes a Line)."""
        view = self._view
        if view is None:
            view = self._view = self._vt.view()
        return view

    def _build(self, view: Any, texts: list[str], missed: list[int], keep: bool = False) -> list[Row]:
        """The rows ``missed`` of ``view`` (``texts``: every row's text, or [] to build each
        from its cells), cut from one dump of the view when that is possible; ``keep``: the
        rows cut are kept for reuse by :meth:`rows` (a View keeps :meth:`fetch`'s own)."""
        built = self._built
        cols = self._cols
        if texts and not self._tracker.alt and all(len(text) == cols for text in texts[: max(missed) + 1]):
            # (a wide row above the last one asked for would stop the cut there)
            dump = self._vt.dump()
            wanted = set(missed)
            cut = tail_from_dump(dump, texts, cols, self._sgr_style, wanted) if min(missed) > 0 else None
            if cut is None:
                cut = rows_from_dump(dump, texts, cols, self._sgr_style, wanted)
            out = []
            for i in missed:
                row = cut[i]
                if row is None:
                    out.append(self._row(view[i]))
                    continue
                if keep:
                    if len(built) >= _BUILT_MAX:
                        built.clear()
                    built[texts[i]] = (view[i], row)
                out.append(row)
            return out
        return [self._row(view[i]) for i in missed]

    def _sgr_style(self, params: str) -> Style:
        """The style avt means by ``ESC [ params m`` in its dump, as avt parses it."""
        style = self._sgr.get(params)
        if style is None:
            if len(self._sgr) >= _SGR_STYLES_MAX:
                self._sgr.clear()
            scratch = avt.Vt(2, 1)
            scratch.feed_str(f"\x1b[{params}mX")
            style = self._sgr[params] = _style(scratch.view()[0].cells[0].pen)
        return style

    def _row(self, line: Any) -> Row:
        text = line.text
        built = self._built.get(text)
        if built is not None and built[0] == line:
            return built[1]
        row = _row_from_line(line, self._filter.tokens)
        if text.isascii():
            if len(self._built) >= _BUILT_MAX:
                self._built.clear()
            self._built[text] = (line, row)
        return row

    def rows_above(self, n: int) -> tuple[Row, ...]:
        """Up to ``n`` scrollback lines just above the screen, oldest first: the start of a
        wrapped line whose end is at the top, for redaction. While plain text scrolls the
        emulator knows them (above.py: no copy); else it copies the scrollback once (~2 ms
        for 1,000 lines) and follows from there."""
        return tuple(self._row(line) for line in self._lines_above(n))

    def context_above(self, n: int) -> tuple[Row, ...]:
        """:meth:`rows_above` as redaction reads them, by their text (their masks are never
        sent): an ASCII line not built already is its text in the default style (~1 us
        instead of ~14 to build it from avt's cells); other lines are built (clusters)."""
        built = self._built
        out = []
        for line in self._lines_above(n):
            text = line.text
            known = built.get(text)
            if known is not None and known[0] == line:
                out.append(known[1])
            elif text.isascii():
                out.append(Row(((text, DEFAULT_STYLE),)) if text else Row(()))
            else:
                out.append(self._row(line))
        return tuple(out)

    def _lines_above(self, n: int) -> list[Any]:
        off = self._off
        if not self._tracker.alt and n <= off.keep and off.has(n):
            return off.last(n)
        lines = self._vt.lines()[: -self._rows]
        if not self._tracker.alt and not self._region:
            off.seed(lines[-off.keep:])
        return lines[-n:] if n > 0 else []

    def scrollback(self, n: int) -> tuple[Row, ...]:
        """The last ``n`` scrollback lines, always copied from avt (the reference in tests)."""
        lines = self._vt.lines()[: -self._rows]
        return tuple(self._row(line) for line in lines[-n:]) if n > 0 else ()

    def state(self) -> ScreenState:
        row = self._row
        rows = tuple(row(line) for line in self._screen_lines())
        return ScreenState((self._cols, self._rows), self.cursor(), rows, self.modes())

    def lines(self) -> list[str]:
        """Text of every row, trailing spaces trimmed (cheap; no styles)."""
        return self.state().lines()
