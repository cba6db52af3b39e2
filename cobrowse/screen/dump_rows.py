"""Many screen rows at once from avt's dump instead of its cells.

Building a row from avt's cells makes a Python object for every cell and for every cell's
pen and compares the pens one by one (~14 us for a 100-column row: ~12 rows a frame of a
log scrolling at 10 KB/s, all 30 of them at 100 KB/s). ``Vt.dump()`` renders the whole
view as text and SGR sequences in ~18 us; cutting that text back into rows costs a few
microseconds a row.

Nothing here is trusted blindly: the dump is cut into rows of one character a cell and each
cut must be its row's own text (which avt gives cheaply); from the first row where it is
not (a wide character), and for every row that is not ASCII (clusters, tokens), the caller
builds the row from its cells (``None``). A style comes from
an SGR parameter string through ``style_of``, which the emulator answers by letting avt
parse the same string (so a style means exactly what avt meant by it).

A scroll's new rows are at the bottom: :func:`tail_from_dump` reads only the dump's last
lines, placed from the bottom up (at 10 KB/s ~6 of a 100x30 screen's ~15 lines), under the
same checks.
"""

from __future__ import annotations

import re
from typing import Callable, Collection, Sequence

from .state import DEFAULT_STYLE, Row, Style

__all__ = ["rows_from_dump", "tail_from_dump", "VIEW_END"]

#: What ends the view's rows in a dump of the primary screen: the pen reset before the
#: cursor's position (a C1 CSI, which no cell holds).
VIEW_END = "\x1b[m\x9b"
#: What follows VIEW_END when the alternate screen is shown: the primary screen's rows came
#: first, and the rows on view follow (never cut: their texts may match the primary's).
_ALTERNATE = "?1047h"
_SEQUENCE = re.compile(r"\[([0-9;:]*)([mb])")  # after an ESC: SGR or REP
_OTHER = re.compile(r"\x1b(?!\[[0-9;:]*[mb])")  # any other sequence
_SGR = re.compile(r"\x1b\[([0-9;:]*)m")
#: A dump line read on its own (:func:`_line`).
_Read = tuple[str, list[tuple[str, "Style | None"]], "Style | None"]


def rows_from_dump(dump: str, texts: Sequence[str], cols: int, style_of: Callable[[str], Style],
                   wanted: Collection[int] | None = None) -> list[Row | None]:
    """The rows of the view whose texts are ``texts`` (one per row), cut from ``dump``
    (``Vt.dump()`` of the primary screen): a :class:`Row` for each wanted (default: every)
    ASCII row, else ``None``. The cut must give every row's text exactly, in order: from the
    first row where it does not (a wide character, a dump this does not read), every row is
    ``None``; so is every row when the dump holds anything but text, SGR, REP and line breaks
    before :data:`VIEW_END`, or is of the alternate screen."""
    n = len(texts)
    out: list[Row | None] = [None] * n
    lines = _lines(dump, cols * n, style_of)
    if lines is None:
        return out
    i = 0
    last = n - 1 if wanted is None else max(wanted, default=-1)
    for runs in lines:
        if i > last:
            return out  # the rows below are not asked for
        text = "".join([t for t, _ in runs])
        k = max(1, -(-len(text) // cols))  # the rows a line of one character a cell covers
        if i + k > n:
            return out
        if len(text) < k * cols:
            text += " " * (k * cols - len(text))
        for j in range(k):
            row_text = texts[i + j]
            if text[j * cols:(j + 1) * cols] != row_text:
                return out  # cut wrongly: this row and the rest are built from their cells
            if (wanted is None or i + j in wanted) and row_text.isascii():
                out[i + j] = Row(_slice(runs, j * cols, (j + 1) * cols))
        i += k
    while i < n:  # the blank rows the dump leaves out at the end
        if texts[i] != " " * cols:
            return out
        if wanted is None or i in wanted:
            out[i] = Row(((texts[i], DEFAULT_STYLE),))
        i += 1
    return out


def _lines(dump: str, most: int, style_of: Callable[[str], Style]) -> list[list[tuple[str, Style]]] | None:
    """The dump's lines (a wrapped line is one) as runs of text and style; None when it
    holds anything else or a repeat of more than ``most`` characters."""
    end = dump.find(VIEW_END)
    if end < 0 or dump.startswith(_ALTERNATE, end + len(VIEW_END)):
        return None
    body = dump[:end]
    if "\x9b" in body:
        return None
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
                return None  # any other sequence: not a dump this cuts
            if seq.group(2) == "m":
                style = style_of(seq.group(1))
            else:
                count = int(seq.group(1) or "1")
                if not last or count > most:
                    return None
                runs.append((last[-1] * count, style))
            text = piece[seq.end():]
            if text:
                last = text
                runs.append((text, style))
        lines.append(runs)
    return lines


def _slice(runs: list[tuple[str, Style]], start: int, stop: int) -> tuple[tuple[str, Style], ...]:
    """Canonical runs of the characters ``start:stop`` of ``runs`` (default blanks past their end)."""
    out: list[tuple[str, Style]] = []
    at = 0
    for text, style in runs:
        end = at + len(text)
        if end > start and at < stop:
            piece = text[start - at if start > at else 0:stop - at]
            if out and out[-1][1] == style:
                out[-1] = (out[-1][0] + piece, style)
            else:
                out.append((piece, style))
        at = end
        if at >= stop:
            break
    if at < stop:
        blank = " " * (stop - (at if at > start else start))
        if out and out[-1][1] == DEFAULT_STYLE:
            out[-1] = (out[-1][0] + blank, DEFAULT_STYLE)
        else:
            out.append((blank, DEFAULT_STYLE))
    return tuple(out)


def tail_from_dump(dump: str, texts: Sequence[str], cols: int, style_of: Callable[[str], Style],
                   wanted: Collection[int]) -> list[Row | None] | None:
    """:func:`rows_from_dump` for rows at the bottom (a scroll's new rows) without reading the
    dump's lines above them. The lines are placed from the last one up: the last line whose text
    is not blank holds the last row whose text is not blank, the dump's blank lines after it
    follow it, and the rows the dump leaves out at the end are blank; a line is read from the
    style of the last SGR before it. Every row cut must give its row's text, as there, and
    every row left out must be blank. None when anything is not certain (no row with text, a
    REP that reads the line before, a line that does not fit): the caller cuts from the top."""
    n = len(texts)
    first = min(wanted, default=n)
    end = dump.find(VIEW_END)
    if end < 0 or first >= n or dump.startswith(_ALTERNATE, end + len(VIEW_END)):
        return None
    body = dump[:end]
    if "\x9b" in body or _OTHER.search(body):
        return None
    lines = body.split("\r\n")
    if body.endswith("\r\n"):
        lines.pop()  # the rows after the last line are left out
    blank = " " * cols
    last_text = n - 1
    while last_text >= 0 and texts[last_text] == blank:
        last_text -= 1
    most = cols * n
    read: dict[int, _Read] = {}
    j = len(lines) - 1
    while j >= 0:  # the blank lines at the end
        parsed = _line(lines[j], most, style_of)
        if parsed is None:
            return None
        read[j] = parsed
        if parsed[0].strip(" "):
            break
        j -= 1
    if j < 0 or last_text < 0:
        return None
    text = read[j][0]
    start = last_text - (len(text.rstrip(" ")) - 1) // cols
    at = start + max(1, -(-len(text) // cols))
    for b in range(j + 1, len(lines)):
        at += max(1, -(-len(read[b][0]) // cols))
    if start < 0 or at > n:
        return None
    top = j
    while start > first:  # up to the line holding the first row wanted
        top -= 1
        if top < 0:
            return None
        parsed = _line(lines[top], most, style_of)
        if parsed is None:
            return None
        read[top] = parsed
        start -= max(1, -(-len(parsed[0]) // cols))
        if start < 0:
            return None
    out: list[Row | None] = [None] * n
    style = _style_before(lines, top, style_of)
    row = start
    for index in range(top, len(lines)):
        text, runs, after = read[index]
        k = max(1, -(-len(text) // cols))
        if len(text) < k * cols:
            text += " " * (k * cols - len(text))
        cut = [(t, style if st is None else st) for t, st in runs]
        for r in range(k):
            if text[r * cols:(r + 1) * cols] != texts[row + r]:
                return None
            if row + r in wanted and texts[row + r].isascii():
                out[row + r] = Row(_slice(cut, r * cols, (r + 1) * cols))
        if after is not None:
            style = after
        row += k
    while row < n:  # the blank rows the dump leaves out at the end
        if texts[row] != blank:
            return None
        if row in wanted:
            out[row] = Row(((blank, DEFAULT_STYLE),))
        row += 1
    return out


def _line(line: str, most: int, style_of: Callable[[str], Style]) -> _Read | None:
    """One dump line on its own: its text (REP expanded), its runs (style None until its first
    SGR: the style it starts in) and the style its last SGR sets (None: it sets none); None
    for any other sequence, a REP before the line's own text, or one of more than ``most``."""
    runs: list[tuple[str, Style | None]] = []
    pieces = line.split("\x1b")
    mine = pieces[0]
    if mine:
        runs.append((mine, None))
    current: Style | None = None
    for piece in pieces[1:]:
        seq = _SEQUENCE.match(piece)
        if seq is None:
            return None
        if seq.group(2) == "m":
            current = style_of(seq.group(1))
        else:
            count = int(seq.group(1) or "1")
            if not mine or count > most:
                return None
            runs.append((mine[-1] * count, current))
        text = piece[seq.end():]
        if text:
            mine = text
            runs.append((text, current))
    return "".join([t for t, _ in runs]), runs, current


def _style_before(lines: Sequence[str], index: int, style_of: Callable[[str], Style]) -> Style:
    """The style the dump's line ``index`` starts in: its last SGR before it (the dump's SGRs
    set the whole pen), else the default."""
    for j in range(index - 1, -1, -1):
        line = lines[j]
        if "\x1b[" in line:
            found = None
            for found in _SGR.finditer(line):
                pass
            if found is not None:
                return style_of(found.group(1))
    return DEFAULT_STYLE
