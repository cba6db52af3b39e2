"""Immutable values describing a terminal screen (the "page state").

Everything here is a plain value: hashable, comparable, cheap to copy. The
emulator adapter builds them, :mod:`cobrowse.screen.diff` ships them, a Textual
widget renders them.

Column layout
-------------
A :class:`Row` always covers exactly ``cols`` cells. Its ``text`` holds one
grapheme cluster per cell: a base character and the zero-width characters joined
to it (combining marks, variation selectors, ZWJ and the character after a ZWJ:
``cluster.cluster_split``), as tmux keeps them. A *wide* cell (CJK, most emoji)
covers two columns and appears once; ``Row.wide`` lists the text offsets of those
cells. So ``cell_count(row.text) + len(row.wide) == cols`` always holds, and a
renderer must lay a row out from these widths (``Row.cells()``), never from its
own ``wcwidth`` table, which may disagree with the emulator's.
"""

from __future__ import annotations

from dataclasses import dataclass
import unicodedata
from functools import lru_cache
from typing import Iterable, Iterator, NamedTuple, Union

from .cluster import cell_count, cluster_split

__all__ = [
    "Color",
    "Style",
    "DEFAULT_STYLE",
    "Row",
    "Cursor",
    "Modes",
    "ScreenState",
    "blank_row",
    "BOLD",
    "FAINT",
    "ITALIC",
    "UNDERLINE",
    "STRIKETHROUGH",
    "BLINK",
    "INVERSE",
    "REDACTED",
    "HIDDEN",
    "DOUBLE_UNDERLINE",
    "CURLY_UNDERLINE",
    "DOTTED_UNDERLINE",
    "DASHED_UNDERLINE",
    "OVERLINE",
    "UNDERLINE_STYLES",
    "ATTR_MASK",
    "MAX_COLS",
    "MAX_ROWS",
    "is_cell_char",
    "valid_cell_text",
    "MAX_CLUSTER_CHARS",
]

#: Bounds on a screen's size, enforced by the emulator and by frame decoding.
MAX_COLS = 1000
MAX_ROWS = 1000

#: A colour: ``None`` (the terminal's default), an index 0..255 of the 256-colour
#: palette, or an ``(r, g, b)`` triple.
Color = Union[None, int, tuple[int, int, int]]

BOLD = 1
FAINT = 2
ITALIC = 4
UNDERLINE = 8
STRIKETHROUGH = 16
BLINK = 32
INVERSE = 64
#: A cell masked by redaction on the customer's side (cobrowse/screen/redact.py): its text
#: is the mask character, never the secret.
REDACTED = 128
#: SGR 8 (conceal): the cell's text is a blank, never what the program wrote.
HIDDEN = 256
DOUBLE_UNDERLINE = 512  # SGR 21, 4:2
CURLY_UNDERLINE = 1024  # SGR 4:3
DOTTED_UNDERLINE = 2048  # SGR 4:4
DASHED_UNDERLINE = 4096  # SGR 4:5
OVERLINE = 8192  # SGR 53
UNDERLINE_STYLES = DOUBLE_UNDERLINE | CURLY_UNDERLINE | DOTTED_UNDERLINE | DASHED_UNDERLINE
ATTR_MASK = 16383


class Style(NamedTuple):
    """Colours and attributes of a run of cells (compact and hashable).

    ``attrs`` is a bit set of ``BOLD | FAINT | ITALIC | UNDERLINE |
    STRIKETHROUGH | BLINK | INVERSE | REDACTED | HIDDEN | DOUBLE_UNDERLINE |
    CURLY_UNDERLINE | DOTTED_UNDERLINE | DASHED_UNDERLINE | OVERLINE``; at most one
    underline bit is set. BOLD and FAINT may both be set (SGR 1;2), as in tmux.
    """

    fg: Color = None
    bg: Color = None
    attrs: int = 0

    @property
    def bold(self) -> bool:
        return bool(self.attrs & BOLD)

    @property
    def faint(self) -> bool:
        return bool(self.attrs & FAINT)

    @property
    def italic(self) -> bool:
        return bool(self.attrs & ITALIC)

    @property
    def underline(self) -> bool:
        return bool(self.attrs & UNDERLINE)

    @property
    def strikethrough(self) -> bool:
        return bool(self.attrs & STRIKETHROUGH)

    @property
    def blink(self) -> bool:
        return bool(self.attrs & BLINK)

    @property
    def inverse(self) -> bool:
        return bool(self.attrs & INVERSE)

    @property
    def redacted(self) -> bool:
        return bool(self.attrs & REDACTED)

    @property
    def hidden(self) -> bool:
        return bool(self.attrs & HIDDEN)

    @property
    def overline(self) -> bool:
        return bool(self.attrs & OVERLINE)

    @property
    def double_underline(self) -> bool:
        return bool(self.attrs & DOUBLE_UNDERLINE)

    @property
    def styled_underline(self) -> bool:
        """Curly, dotted or dashed (renderers without them draw a plain underline)."""
        return bool(self.attrs & (CURLY_UNDERLINE | DOTTED_UNDERLINE | DASHED_UNDERLINE))

    @property
    def is_default(self) -> bool:
        return self.fg is None and self.bg is None and not self.attrs


DEFAULT_STYLE = Style()

# Unicode categories a cell never holds: controls, format characters, lone
# surrogates, line/paragraph separators and combining marks (which have no width
# of their own, so they would break the one-character-per-cell layout).
_NOT_IN_CELL = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Mn", "Me"})


@lru_cache(maxsize=4096)
def _cell_char_ok(ch: str) -> bool:
    return unicodedata.category(ch) not in _NOT_IN_CELL


def is_cell_char(ch: str) -> bool:
    """True if ``ch`` (one character) may start a cell of a :class:`Row`."""
    if ch.isascii():
        return " " <= ch <= "~"
    return _cell_char_ok(ch)


#: Characters in one cell at most (tmux keeps 21 UTF-8 bytes: a base and what joins it).
MAX_CLUSTER_CHARS = 21


def valid_cell_text(text: str) -> bool:
    """True if ``text`` is whole cells: each a cell character, then the zero-width characters
    joined to it (no control, surrogate or separator anywhere; clusters bounded)."""
    if text.isascii():
        return text.isprintable()
    clusters = cluster_split(text)
    if sum(map(len, clusters)) != len(text):
        return False  # a zero-width character with no base
    for cluster in clusters:
        if not is_cell_char(cluster[0]) or len(cluster) > MAX_CLUSTER_CHARS:
            return False
        for ch in cluster[1:]:
            if unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp"):
                return False
    return True


class Row:
    """One screen row: runs of ``(text, Style)``, canonical (adjacent runs of the
    same style merged, no empty runs), plus the offsets of wide characters.

    Build rows with :meth:`Row.from_runs` (canonicalises) unless the runs are
    known to be canonical already.
    """

    __slots__ = ("runs", "wide", "text", "_hash")

    runs: tuple[tuple[str, Style], ...]
    wide: tuple[int, ...]
    text: str
    _hash: int | None

    def __init__(self, runs: tuple[tuple[str, Style], ...], wide: tuple[int, ...] = ()) -> None:
        object.__setattr__(self, "runs", runs)
        object.__setattr__(self, "wide", wide)
        object.__setattr__(self, "text", "".join([t for t, _ in runs]))
        object.__setattr__(self, "_hash", None)

    @classmethod
    def from_runs(cls, runs: Iterable[tuple[str, Style]], wide: Iterable[int] = ()) -> "Row":
        """A canonical row from any iterable of ``(text, Style)``."""
        out: list[tuple[str, Style]] = []
        for text, style in runs:
            if not text:
                continue
            if out and out[-1][1] == style:
                out[-1] = (out[-1][0] + text, style)
            else:
                out.append((text, style))
        return cls(tuple(out), tuple(wide))

    def __setattr__(self, name: str, value: object) -> None:  # immutable
        raise AttributeError("Row is immutable")

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Row):
            return NotImplemented
        return self.runs == other.runs and self.wide == other.wide

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = hash((self.runs, self.wide))
            object.__setattr__(self, "_hash", h)
        return h

    def __repr__(self) -> str:
        return f"Row({self.runs!r}, wide={self.wide!r})"

    def __reduce__(self) -> tuple[type[Row], tuple[tuple[tuple[str, Style], ...], tuple[int, ...]]]:
        return (Row, (self.runs, self.wide))

    @property
    def width(self) -> int:
        """Number of columns the row covers."""
        return cell_count(self.text) + len(self.wide)

    def style_runs(self) -> list[list[object]]:
        """``[[start_col, end_col, style_dict], ...]`` for every run of non-default style
        (end exclusive; the headless ``--styles`` form, docs/headless.md)."""
        return _style_runs(self)

    def cells(self) -> Iterator[tuple[int, str, int, Style]]:
        """Yield ``(column, cluster, width, style)`` for every cell (a cluster is one
        character, or a base and the zero-width characters joined to it)."""
        wide = set(self.wide)
        col = 0
        i = 0
        for text, style in self.runs:
            for ch in (text if text.isascii() else cluster_split(text)):
                w = 2 if i in wide else 1
                yield col, ch, w, style
                col += w
                i += len(ch)


_ATTR_NAMES = (
    (BOLD, "bold"), (FAINT, "faint"), (ITALIC, "italic"), (UNDERLINE, "underline"),
    (DOUBLE_UNDERLINE, "double_underline"), (CURLY_UNDERLINE, "curly_underline"),
    (DOTTED_UNDERLINE, "dotted_underline"), (DASHED_UNDERLINE, "dashed_underline"),
    (OVERLINE, "overline"), (STRIKETHROUGH, "strikethrough"), (BLINK, "blink"),
    (INVERSE, "inverse"), (HIDDEN, "hidden"), (REDACTED, "redacted"),
)


def style_dict(style: Style) -> dict[str, object]:
    """A style as JSON: ``fg``/``bg`` (palette index or ``"#rrggbb"``, absent: default) and
    ``true`` for each attribute set."""
    out: dict[str, object] = {}
    for key, c in (("fg", style.fg), ("bg", style.bg)):
        if isinstance(c, int):
            out[key] = c
        elif c is not None:
            out[key] = "#%02x%02x%02x" % c
    for bit, name in _ATTR_NAMES:
        if style.attrs & bit:
            out[name] = True
    return out


def _style_runs(row: "Row") -> list[list[object]]:
    out: list[list[object]] = []
    col = 0
    wide = set(row.wide)
    offset = 0
    for text, style in row.runs:
        start = col
        for ch in (text if text.isascii() else cluster_split(text)):
            col += 2 if offset in wide else 1
            offset += len(ch)
        if not style.is_default:
            out.append([start, col, style_dict(style)])
    return out


def blank_row(cols: int) -> Row:
    """A row of ``cols`` default-style spaces."""
    return Row(((" " * cols, DEFAULT_STYLE),)) if cols else Row(())


class Cursor(NamedTuple):
    """Cursor position (0-based). ``col`` may equal ``cols`` (pending wrap)."""

    col: int = 0
    row: int = 0
    visible: bool = True


class Modes(NamedTuple):
    """Terminal modes that change how keys are encoded, plus the alt screen."""

    app_cursor: bool = False  # DECCKM: arrows send ESC O A instead of ESC [ A
    bracketed_paste: bool = False  # ?2004
    alt_screen: bool = False  # ?1049 / ?1047 / ?47

    def to_bits(self) -> int:
        return (1 if self.app_cursor else 0) | (2 if self.bracketed_paste else 0) | (4 if self.alt_screen else 0)

    @classmethod
    def from_bits(cls, bits: int) -> "Modes":
        return cls(bool(bits & 1), bool(bits & 2), bool(bits & 4))


@dataclass(frozen=True, slots=True)
class ScreenState:
    """The whole visible screen: size ``(cols, rows)``, cursor, rows, modes."""

    size: tuple[int, int]
    cursor: Cursor
    rows: tuple[Row, ...]
    modes: Modes = Modes()

    @property
    def cols(self) -> int:
        return self.size[0]

    @property
    def row_count(self) -> int:
        return self.size[1]

    def lines(self) -> list[str]:
        """Text of every row, trailing spaces trimmed."""
        return [r.text.rstrip(" ") for r in self.rows]

    @classmethod
    def blank(cls, cols: int, rows: int) -> "ScreenState":
        row = blank_row(cols)
        return cls((cols, rows), Cursor(), (row,) * rows, Modes())
