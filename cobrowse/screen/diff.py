"""Screen frames: a full snapshot or a diff of changed rows, and their wire form.

Wire form (``ScreenFrame.to_dict()``), JSON-safe and compact; the caller puts it
inside a JSON message and compresses the message::

    {"t": "s" | "d",            snapshot or diff
     "sz": [cols, rows],
     "c": [col, row, visible],  visible is 0 or 1
     "m": bits,                 1 app cursor keys, 2 bracketed paste, 4 alt screen
     "s": [[fg, bg, attrs], ...],  styles used by this frame (optional);
                                   run style 0 is the default style, n >= 1 is s[n-1]
     "r": rows,                 snapshot: [row, ...] (all rows, in order)
                                diff: [[index, row], ...]
     "sc": n}                   diff only, optional (frame format 2): before the rows are
                                applied, the screen moves up n rows (1 .. rows-1; the top n
                                go, n blank rows come in at the bottom), so scrolling text
                                costs only its new rows

A row is a list ``[text, style, text, style, ...]``, preceded by a list of the
wide cells' text offsets when the row has any. A cell's text is a grapheme cluster (a base
and the zero-width characters joined to it, :mod:`.cluster`); ``attrs`` is the bit set of
:class:`~.state.Style` (0 .. ``ATTR_MASK``: hidden, the underline styles and overline above 255). Trailing default-style
spaces are left out and restored on decoding. A colour is -1 (default), 0..255
(palette) or ``0x1000000 | r << 16 | g << 8 | b``.

:meth:`ScreenFrame.from_dict` trusts nothing: it raises :class:`ValueError`
with a clear message on any malformed or out-of-bounds input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from .state import (
    ATTR_MASK,
    Color,
    DEFAULT_STYLE,
    MAX_CLUSTER_CHARS,
    MAX_COLS,
    MAX_ROWS,
    Cursor,
    Modes,
    Row,
    ScreenState,
    Style,
    blank_row,
    is_cell_char,
    valid_cell_text,
)
from .cluster import cell_count

__all__ = ["FRAME_FORMAT", "ScreenFrame", "diff", "apply", "find_scroll", "scroll_diff", "snapshot"]

_RGB_FLAG = 1 << 24
#: The newest frame format :func:`apply` understands: 1 rows only, 2 rows and scroll ops
#: (``sc``). A sender uses scroll ops only with a peer that said it applies format 2.
FRAME_FORMAT = 2


@dataclass(frozen=True, slots=True)
class ScreenFrame:
    """A snapshot (``rows`` holds every row, in order) or a diff (changed rows, applied
    after the screen moved up ``scroll`` rows)."""

    is_snapshot: bool
    size: tuple[int, int]
    cursor: Cursor
    modes: Modes
    rows: tuple[tuple[int, Row], ...]
    scroll: int = 0

    @classmethod
    def of_state(cls, state: ScreenState) -> "ScreenFrame":
        """The snapshot frame of ``state``."""
        return cls(True, state.size, state.cursor, state.modes, tuple(enumerate(state.rows)))

    # -- wire form -----------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        index: dict[Style, int] = {DEFAULT_STYLE: 0}
        table: list[list[int]] = []

        def enc_row(row: Row) -> list[Any]:
            out: list[Any] = [list(row.wide)] if row.wide else []
            runs = row.runs
            if runs and runs[-1][1] == DEFAULT_STYLE:
                last = runs[-1][0].rstrip(" ")
                runs = runs[:-1] + (((last, DEFAULT_STYLE),) if last else ())
            for text, style in runs:
                si = index.get(style)
                if si is None:
                    si = index[style] = len(index)
                    table.append([_enc_color(style.fg), _enc_color(style.bg), style.attrs])
                out.append(text)
                out.append(si)
            return out

        if self.is_snapshot:
            rows: list[Any] = [enc_row(r) for _, r in self.rows]
        else:
            rows = [[i, enc_row(r)] for i, r in self.rows]
        c = self.cursor
        d = {
            "t": "s" if self.is_snapshot else "d",
            "sz": [self.size[0], self.size[1]],
            "c": [c.col, c.row, 1 if c.visible else 0],
            "m": self.modes.to_bits(),
            "r": rows,
        }
        if table:
            d["s"] = table
        if self.scroll:
            d["sc"] = self.scroll
        return d

    @classmethod
    def from_dict(cls, d: object) -> "ScreenFrame":
        if not isinstance(d, dict):
            raise ValueError(f"screen frame: expected an object, got {type(d).__name__}")
        kind = d.get("t")
        if kind not in ("s", "d"):
            raise ValueError(f"screen frame: 't' must be 's' or 'd', got {kind!r:.40}")
        sz = _list(d.get("sz"), "sz", 2, 2)
        cols = _int(sz[0], 1, MAX_COLS, "sz[0] (cols)")
        nrows = _int(sz[1], 1, MAX_ROWS, "sz[1] (rows)")
        c = _list(d.get("c"), "c (cursor)", 3, 3)
        cursor = Cursor(
            _int(c[0], 0, cols, "cursor col"),
            _int(c[1], 0, nrows - 1, "cursor row"),
            bool(_int(c[2], 0, 1, "cursor visible")),
        )
        modes = Modes.from_bits(_int(d.get("m"), 0, 7, "m (modes)"))
        styles = [DEFAULT_STYLE]
        if "s" in d:
            for k, st in enumerate(_list(d["s"], "s (styles)", 0, cols * nrows)):
                st = _list(st, f"s[{k}]", 3, 3)
                styles.append(
                    Style(
                        _dec_color(st[0], f"s[{k}] fg"),
                        _dec_color(st[1], f"s[{k}] bg"),
                        _int(st[2], 0, ATTR_MASK, f"s[{k}] attrs"),
                    )
                )
        raw = d.get("r")
        scroll = 0
        if "sc" in d:
            if kind == "s":
                raise ValueError("screen frame: a snapshot cannot scroll ('sc')")
            scroll = _int(d["sc"], 1, nrows - 1, "sc (scroll)")
        if kind == "s":
            raw = _list(raw, "r (rows)", nrows, nrows)
            rows = tuple((i, _dec_row(r, cols, styles, f"r[{i}]")) for i, r in enumerate(raw))
        else:
            raw = _list(raw, "r (rows)", 0, nrows)
            seen: set[int] = set()
            out = []
            for k, item in enumerate(raw):
                item = _list(item, f"r[{k}]", 2, 2)
                i = _int(item[0], 0, nrows - 1, f"r[{k}] row index")
                if i in seen:
                    raise ValueError(f"screen frame: row {i} appears twice in the diff")
                seen.add(i)
                out.append((i, _dec_row(item[1], cols, styles, f"r[{k}]")))
            rows = tuple(out)
        return cls(kind == "s", (cols, nrows), cursor, modes, rows, scroll)


def snapshot(state: ScreenState) -> ScreenFrame:
    """The snapshot frame of ``state``."""
    return ScreenFrame.of_state(state)


def diff(old: ScreenState | None, new: ScreenState) -> ScreenFrame:
    """The frame that turns ``old`` into ``new``: a diff of changed rows, or a
    snapshot when there is no ``old`` or the size changed."""
    if old is None or old.size != new.size:
        return ScreenFrame.of_state(new)
    changed = tuple((i, b) for i, (a, b) in enumerate(zip(old.rows, new.rows)) if a != b)
    return ScreenFrame(False, new.size, new.cursor, new.modes, changed)


def apply(state: ScreenState | None, frame: ScreenFrame) -> ScreenState:
    """Apply ``frame`` to ``state``; a diff needs a state of the same size."""
    cols, nrows = frame.size
    if frame.is_snapshot:
        if len(frame.rows) != nrows or any(i != k for k, (i, _) in enumerate(frame.rows)):
            raise ValueError("snapshot frame must hold every row, in order")
        return ScreenState(frame.size, frame.cursor, tuple(r for _, r in frame.rows), frame.modes)
    if state is None:
        raise ValueError("screen diff received before any snapshot")
    if state.size != frame.size:
        raise ValueError(f"screen diff for size {cols}x{nrows} applied to a {state.cols}x{state.row_count} screen")
    if frame.scroll:
        k = frame.scroll
        if not 0 < k < nrows:
            raise ValueError(f"screen diff scroll {k} out of range for {nrows} rows")
        base: tuple[Row, ...] = state.rows[k:] + (blank_row(cols),) * k
    else:
        base = state.rows
    if frame.rows:
        rows = list(base)
        for i, r in frame.rows:
            if not 0 <= i < nrows:
                raise ValueError(f"screen diff row index {i} out of range")
            rows[i] = r
        new_rows = tuple(rows)
    else:
        new_rows = base
    return ScreenState(frame.size, frame.cursor, new_rows, frame.modes)


def find_scroll(old: Sequence[Row], new: Sequence[Row]) -> tuple[int, int]:
    """``(k, same)``: moving ``old`` up ``k`` rows leaves ``same`` rows equal to ``new``'s,
    the most of any k tried (k = 0: no move). Only the moves that line up one of ``new``'s
    first rows with a row of ``old`` are tried, so this is O(rows): a scrolled screen
    matches there, and a screen whose bottom line is still being written too."""
    n = len(old)
    if n != len(new):
        return 0, 0
    best_k, best = 0, sum(1 for a, b in zip(old, new) if a == b)
    if n < 2 or best == n:
        return best_k, best
    first: dict[Row, int] = {}
    for i in range(n - 1, 0, -1):
        first[old[i]] = i
    tried = {0}
    for j in range(min(3, n)):
        at = first.get(new[j])
        if at is None or at - j <= 0 or at - j in tried:
            continue
        k = at - j
        tried.add(k)
        same = sum(1 for i in range(n - k) if new[i] == old[i + k])
        if same > best:
            best_k, best = k, same
    return best_k, best


def scroll_diff(old: ScreenState, new: ScreenState) -> ScreenFrame:
    """:func:`diff` with a scroll op when moving the old rows up saves rows (format 2)."""
    if old.size != new.size:
        return ScreenFrame.of_state(new)
    k, _ = find_scroll(old.rows, new.rows)
    if not k:
        return diff(old, new)
    base = old.rows[k:] + (blank_row(new.cols),) * k
    changed = tuple((i, b) for i, (a, b) in enumerate(zip(base, new.rows)) if a != b)
    return ScreenFrame(False, new.size, new.cursor, new.modes, changed, k)


# -- encoding helpers ----------------------------------------------------


def _enc_color(c: Color) -> int:
    if c is None:
        return -1
    if isinstance(c, int):
        return c
    r, g, b = c
    return int(_RGB_FLAG | (r << 16) | (g << 8) | b)


def _dec_color(v: object, what: str) -> Color:
    if type(v) is int:
        if v == -1:
            return None
        if 0 <= v <= 255:
            return v
        if _RGB_FLAG <= v <= _RGB_FLAG | 0xFFFFFF:
            return ((v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF)
    raise ValueError(f"screen frame: {what}: not a colour: {v!r:.40}")


def _int(v: object, lo: int, hi: int, what: str) -> int:
    if type(v) is not int or not lo <= v <= hi:
        raise ValueError(f"screen frame: {what}: expected an integer in {lo}..{hi}, got {v!r:.40}")
    return v


def _list(v: object, what: str, lo: int, hi: int) -> list[Any]:
    if type(v) is not list:
        raise ValueError(f"screen frame: {what}: expected a list, got {type(v).__name__}")
    if not lo <= len(v) <= hi:
        raise ValueError(f"screen frame: {what}: expected {lo}..{hi} items, got {len(v)}")
    return v


def _dec_row(v: object, cols: int, styles: list[Style], where: str) -> Row:
    items = _list(v, where, 0, 2 * cols + 1)
    wide: tuple[int, ...] = ()
    if items and type(items[0]) is list:
        w = _list(items[0], f"{where} wide offsets", 1, cols)
        prev = -1
        for x in w:
            if type(x) is not int or x <= prev:
                raise ValueError(f"screen frame: {where}: wide offsets must be increasing integers")
            prev = x
        wide = tuple(w)
        items = items[1:]
    if len(items) % 2:
        raise ValueError(f"screen frame: {where}: runs must be text, style pairs")
    runs = []
    total = 0
    cells = 0
    nstyles = len(styles)
    for k in range(0, len(items), 2):
        text, si = items[k], items[k + 1]
        if type(text) is not str or not text:
            raise ValueError(f"screen frame: {where}: run text must be a non-empty string")
        if type(si) is not int or not 0 <= si < nstyles:
            raise ValueError(f"screen frame: {where}: unknown style {si!r:.40}")
        if len(text) > cols * MAX_CLUSTER_CHARS:
            raise ValueError(f"screen frame: {where}: row wider than {cols} columns")
        if not (text.isascii() and text.isprintable()) and not valid_cell_text(text):
            bad = next((ch for ch in text if not is_cell_char(ch)), text[0])
            raise ValueError(f"screen frame: {where}: character U+{ord(bad):04X} not allowed in a cell")
        total += len(text)
        cells += cell_count(text)
        if cells > cols:
            raise ValueError(f"screen frame: {where}: row wider than {cols} columns")
        runs.append((text, styles[si]))
    if wide and wide[-1] >= total:
        raise ValueError(f"screen frame: {where}: wide offset beyond the row's text")
    width = cells + len(wide)
    if width > cols:
        raise ValueError(f"screen frame: {where}: row wider than {cols} columns")
    if width < cols:
        runs.append((" " * (cols - width), DEFAULT_STYLE))
    return Row.from_runs(runs, wide)
