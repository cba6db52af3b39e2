"""The agent's view of a session as an asciicast v2 recording (pure: states in, text out).

asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/) is a header line (a JSON
object with ``version``, ``width``, ``height``) followed by one JSON array a line,
``[seconds, "o", output]`` or ``[seconds, "r", "COLSxROWS"]`` for a resize. The agent
never sees the customer's raw output, only mirrored screen states, so this module turns
each change of state into the ANSI output that repaints the previous screen into the new
one: a full paint first and after a resize, then line feeds when the screen scrolled, then
only the rows whose ``Row`` value changed.
Replaying the output through a terminal emulator of the same size reproduces every row,
style and the cursor (tested through ``cobrowse.screen.emulator``).
"""

from __future__ import annotations

import json
from typing import Any

from cobrowse.screen.state import (BLINK, BOLD, CURLY_UNDERLINE, DASHED_UNDERLINE, DOTTED_UNDERLINE,
                                    DOUBLE_UNDERLINE, FAINT, INVERSE, ITALIC, OVERLINE, STRIKETHROUGH, UNDERLINE, Color, Row,
                                   ScreenState, Style, blank_row)

_ATTR_CODES = ((BOLD, "1"), (FAINT, "2"), (ITALIC, "3"), (UNDERLINE, "4"), (BLINK, "5"), (INVERSE, "7"),
               (STRIKETHROUGH, "9"), (DOUBLE_UNDERLINE, "4:2"), (CURLY_UNDERLINE, "4:3"), (DOTTED_UNDERLINE, "4:4"),
               (DASHED_UNDERLINE, "4:5"), (OVERLINE, "53"))


def _color(color: Color, base: int) -> list[str]:
    """SGR parameters for a colour; ``base`` is 38 (foreground) or 48 (background)."""
    if color is None:
        return []
    if isinstance(color, int):
        return [str(base), "5", str(color)]
    r, g, b = color
    return [str(base), "2", str(r), str(g), str(b)]


def sgr(style: Style) -> str:
    """The escape sequence that sets exactly ``style`` (from a reset, so no state leaks)."""
    params = ["0"]
    params += [code for bit, code in _ATTR_CODES if style.attrs & bit]
    params += _color(style.fg, 38) + _color(style.bg, 48)
    return "\x1b[" + ";".join(params) + "m"


def render_row(index: int, row: Row) -> str:
    """Move to the row's first column and paint it, run by run."""
    out = [f"\x1b[{index + 1};1H"]
    for text, style in row.runs:
        out.append(sgr(style))
        out.append(text)
    return "".join(out)


def _scrolled(previous: ScreenState, state: ScreenState) -> tuple[int, tuple[Row, ...]]:
    """The scroll (lines up) that leaves the fewest rows to repaint, and the rows a terminal
    shows after it. Output that scrolls (a shell printing lines) shifts every row; repainting
    them all would cost a whole screen per frame, a line feed at the bottom costs one byte."""
    rows, old = state.rows, previous.rows
    n = len(rows)
    best, best_rows = 0, old
    best_changed = sum(1 for a, b in zip(rows, old) if a != b)
    if best_changed <= 1:
        return best, best_rows
    blank = blank_row(state.cols)
    for k in range(1, n):
        if rows[0] != old[k]:
            continue
        shifted = old[k:] + (blank,) * k
        changed = sum(1 for a, b in zip(rows, shifted) if a != b)
        if changed < best_changed:
            best, best_rows, best_changed = k, shifted, changed
            if changed <= k:
                break
    return best, best_rows


def render(previous: ScreenState | None, state: ScreenState) -> str:
    """Output that turns a terminal showing ``previous`` (None: unknown) into ``state``.

    Empty when nothing visible changed. The caller emits a resize event before the output
    when the size changed (``previous`` is then ignored: a full paint follows). When the
    screen scrolled, line feeds at the bottom row scroll it first.
    """
    full = previous is None or previous.size != state.size
    out: list[str] = []
    shown: tuple[Row, ...] = ()
    if full:
        out.append("\x1b[0m\x1b[H\x1b[2J")
    else:
        assert previous is not None
        scroll, shown = _scrolled(previous, state)
        if scroll:
            out.append(f"\x1b[0m\x1b[{state.row_count};1H" + "\n" * scroll)
    for i, row in enumerate(state.rows):
        if full or i >= len(shown) or shown[i] != row:
            out.append(render_row(i, row))
    cursor, old = state.cursor, (previous.cursor if previous is not None and not full else None)
    if out or old is None or (old.col, old.row) != (cursor.col, cursor.row):
        col = min(cursor.col, state.cols - 1)
        out.append(f"\x1b[0m\x1b[{cursor.row + 1};{col + 1}H")
    if old is None or old.visible != cursor.visible:
        out.append("\x1b[?25h" if cursor.visible else "\x1b[?25l")
    return "".join(out)


def header(cols: int, rows: int, timestamp: int, title: str = "") -> str:
    """The asciicast v2 header line (without its newline)."""
    obj: dict[str, Any] = {"version": 2, "width": cols, "height": rows, "timestamp": timestamp,
                           "env": {"TERM": "xterm-256color"}}
    if title:
        obj["title"] = title
    return json.dumps(obj, ensure_ascii=False)


def event(seconds: float, kind: str, data: str) -> str:
    """One event line: ``kind`` is "o" (output) or "r" (resize, data "COLSxROWS")."""
    return json.dumps([round(seconds, 6), kind, data], ensure_ascii=False)


class CastEncoder:
    """Stateful: feed screen states with their time, get the cast's event lines."""

    def __init__(self) -> None:
        self.previous: ScreenState | None = None

    def frame(self, seconds: float, state: ScreenState) -> list[str]:
        lines: list[str] = []
        if self.previous is not None and self.previous.size != state.size:
            lines.append(event(seconds, "r", f"{state.cols}x{state.row_count}"))
        output = render(self.previous, state)
        self.previous = state
        if output:
            lines.append(event(seconds, "o", output))
        return lines


def parse_cast(text: str) -> tuple[dict[str, Any], list[tuple[float, str, str]]]:
    """A cast's header and events; raise ValueError naming the line that is not valid."""
    lines = text.splitlines()
    if not lines:
        raise ValueError("empty recording: expected an asciicast v2 header line")
    try:
        head = json.loads(lines[0])
    except ValueError as exc:
        raise ValueError(f"line 1: the header is not JSON ({exc})") from None
    if not isinstance(head, dict) or head.get("version") != 2:
        raise ValueError("line 1: not an asciicast v2 header (version must be 2)")
    events: list[tuple[float, str, str]] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"line {number}: not JSON ({exc})") from None
        if (not isinstance(item, list) or len(item) != 3 or not isinstance(item[0], (int, float))
                or not isinstance(item[1], str) or not isinstance(item[2], str)):
            raise ValueError(f"line {number}: expected [seconds, type, data]")
        events.append((float(item[0]), item[1], item[2]))
    return head, events


def schedule(events: list[tuple[float, str, str]], speed: float = 1.0,
             idle_limit: float = 0.0) -> list[tuple[float, str, str]]:
    """``(delay before, kind, data)`` for playback: times divided by ``speed``, pauses capped
    at ``idle_limit`` seconds (0: kept), out-of-order times clamped to no wait."""
    out: list[tuple[float, str, str]] = []
    previous = 0.0
    for seconds, kind, data in events:
        gap = max(0.0, seconds - previous)
        previous = max(previous, seconds)
        if idle_limit > 0:
            gap = min(gap, idle_limit)
        out.append((gap / speed, kind, data))
    return out
