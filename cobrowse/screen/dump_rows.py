"""Many screen rows at once from avt's dump instead of its cells.

Building a row from avt's cells makes a Python object for every cell and for every cell's
pen and compares the pens one by one (~14 us for a 100-column row: ~12 rows a frame of a
log scrolling at 10 KB/s, all 30 of them at 100 KB/s). ``Vt.dump()`` renders the whole
view as text and SGR sequences in ~18 us; cutting that text back into rows costs a few
microseconds a row.

Nothing here is trusted blindly: the dump is cut into rows by the rows' own texts (which
avt gives cheaply), and a row whose cut differs from its text, or which is not one ASCII
character a cell, gets ``None`` (the caller builds it from its cells). A style comes from
an SGR parameter string through ``style_of``, which the emulator answers by letting avt
parse the same string (so a style means exactly what avt meant by it).
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

from .state import DEFAULT_STYLE, Row, Style

__all__ = ["rows_from_dump", "VIEW_END"]

#: What ends the view's rows in a dump of the primary screen: the pen reset before the
#: cursor's position (a C1 CSI, which no cell holds).
VIEW_END = "\x1b[m\x9b"
_SEQUENCE = re.compile(r"\[([0-9;:]*)([mb])")  # after an ESC: SGR or REP


def rows_from_dump(dump: str, texts: Sequence[str], cols: int,
                   style_of: Callable[[str], Style]) -> list[Row | None]:
    """The rows of the view whose texts are ``texts`` (one per row, ``cols`` characters each
    when the row is ASCII), cut from ``dump`` (``Vt.dump()`` of the primary screen): a
    :class:`Row` for each ASCII row whose cut equals its text, else ``None``. Every row is
    ``None`` when the dump holds anything but text, SGR, REP and line breaks before
    :data:`VIEW_END`, or more rows than ``texts``."""
    n = len(texts)
    failed: list[Row | None] = [None] * n
    end = dump.find(VIEW_END)
    if end < 0:
        return failed
    body = dump[:end]
    if "\x9b" in body:
        return failed
    lines: list[list[tuple[str, Style]]] = []
    style = DEFAULT_STYLE
    last = ""
    for line in body.split("\r\n"):
        runs: list[tuple[str, Style]] = []
        pieces = line.split("\x1b")
        if pieces[0]:
            last = pieces[0]
            runs.append((last, style))
        for piece in pieces[1:]:
            seq = _SEQUENCE.match(piece)
            if seq is None:
                return failed  # any other sequence: not a dump this cuts
            if seq.group(2) == "m":
                style = style_of(seq.group(1))
            else:
                count = int(seq.group(1) or "1")
                if not last or count > cols * n:
                    return failed
                runs.append((last[-1] * count, style))
            text = piece[seq.end():]
            if text:
                last = text
                runs.append((text, style))
        lines.append(runs)
    out: list[Row | None] = []
    for runs in lines:
        used = sum(len(text) for text, _ in runs)
        if used <= cols:  # not a wrapped line: one row
            out.append(_checked(_merged(runs), texts, len(out), cols, cols - used))
        else:
            _cut(runs, texts, cols, out)
        if len(out) > n:
            return failed
    while len(out) < n:
        out.append(_checked([], texts, len(out), cols, cols))
    for i, row in enumerate(out):
        if row is None and len(texts[i]) == cols and texts[i].isascii():
            out[i:] = failed[i:]  # a plain row cut wrongly: the rows after it may be shifted
            break
    return out


def _merged(runs: list[tuple[str, Style]]) -> list[tuple[str, Style]]:
    """``runs`` with adjacent runs of one style joined (SGR resets, REP)."""
    if len(runs) < 2:
        return runs
    out = [runs[0]]
    for text, style in runs[1:]:
        if out[-1][1] == style:
            out[-1] = (out[-1][0] + text, style)
        else:
            out.append((text, style))
    return out


def _cut(runs: list[tuple[str, Style]], texts: Sequence[str], cols: int, out: list[Row | None]) -> None:
    """A wrapped line's runs cut into rows of ``cols`` characters, appended to ``out``."""
    row: list[tuple[str, Style]] = []
    used = 0
    ok = True  # every row of the line so far cut right (after one that was not, trust none)
    for text, run_style in runs:
        while text:
            take = text[:cols - used]
            text = text[len(take):]
            row.append((take, run_style))
            used += len(take)
            if used == cols:
                cut = _checked(_merged(row), texts, len(out), cols) if ok else None
                ok = cut is not None
                out.append(cut)
                row = []
                used = 0
    if row:
        out.append(_checked(_merged(row), texts, len(out), cols, cols - used) if ok else None)


def _checked(runs: list[tuple[str, Style]], texts: Sequence[str], i: int, cols: int,
             blank: int = 0) -> Row | None:
    """The row ``runs`` (then ``blank`` default cells) if it is the ``i``-th row's text."""
    if i >= len(texts):
        return None
    if blank:
        if runs and runs[-1][1] == DEFAULT_STYLE:
            runs[-1] = (runs[-1][0] + " " * blank, DEFAULT_STYLE)
        else:
            runs.append((" " * blank, DEFAULT_STYLE))
    text = texts[i]
    if len(text) != cols or not text.isascii():
        return None
    row = Row(tuple(runs))
    return row if row.text == text else None
