"""Where plain mode's ``[cobrowse]`` lines go on the customer's own terminal.

Plain mode passes the program's output straight through, so cobrowse's lines share the
terminal with it. Written at the cursor, a line would land in the middle of the command the
customer is typing (bash's readline then redraws over a line it no longer owns). Instead:

* On the main screen a notice is *inserted above* the line being edited: the rows from the
  start of that line down move down (``CSI L``), or, at the bottom, the rows above scroll
  up, so the typed line is never split and readline's relative moves still land where it
  thinks. The cursor and the pen come back as they were (``ESC 7`` / ``ESC 8``).
* On the alternate screen (vim, less, top) nothing is drawn over the program: notices wait
  until the program leaves it, except *urgent* ones (a consent question, an answer to the
  customer's own command), which cannot wait: they take the bottom rows for as long as the
  customer does not press a key, and those rows are then painted back as the program left
  them (the consent prompt is never delayed, the program's screen is never lost). Every
  line, urgent or not, is in the shell's scrollback once the program exits.

The lane keeps its own emulator of the customer's real terminal (the program's output plus
what the lane wrote), because after an insertion the real terminal no longer matches the
program's idea of it. Where the cursor was when the lane started is asked of the terminal
(``CSI 6n``); until the answer comes (or the caller gives up waiting) notices are held, then
the output so far is replayed from that position. Pure: bytes and lines in, bytes out.
"""

from __future__ import annotations

import re

from cobrowse.audit.cast import sgr
from cobrowse.screen.cluster import base_width, cluster_split
from cobrowse.screen.emulator import MIN_COLS, Emulator
from cobrowse.screen.skip import GROW_ROWS, SkipAhead
from cobrowse.screen.state import HIDDEN, Row, Style

_SAVE, _RESTORE, _RESET = "\x1b7", "\x1b8", "\x1b[0m"
#: Lines held while a full-screen program runs (the oldest go first past this).
MAX_HELD = 200
#: Where the cursor is: asked once, at the start; the answer arrives among the keys.
ASK_CURSOR = b"\x1b[6n"
_CURSOR_REPORT = re.compile(rb"\x1b\[(\d{1,4});(\d{1,4})R")
#: A read that ends like the start of one (the rest comes in the next read), as early as a
#: lone ESC: a report split right after it or ``ESC [`` reached the program as keys.
_REPORT_START = re.compile(rb"\x1b(?:\[(?:\d{1,4}(?:;\d{0,4})?)?)?\Z")
_REPORT_MAX = len(b"\x1b[1234;1234")
#: DECSTBM (a scroll region: apt's progress bar keeps the last row out of it) and RIS.
_REGION = re.compile(rb"\x1b\[(\d{0,4})(?:;(\d{0,4}))?r|\x1bc")
#: Output kept for the replay while the answer is awaited (past this: give up, unsynced).
MAX_REPLAY = 256 * 1024
#: Output kept unfed at most (NoticeLane._pending).
#: fish's newline at an exact fill, then only what leaves the cursor where it is (its pen
#: reset: SGR, the character set by ESC ( B or SI; cursor and paste modes).
_OWN_NEWLINE = re.compile(rb"\r\r\n(?:\x1b\[[0-9;:]{0,32}m|\x1b[()][0-9A-Za-z]|[\x0e\x0f]|\x1b\[\?[0-9;]{1,16}[hl])*\Z")
_TAIL = 64
#: Reads kept unfolded for ``_tail`` at most (a reference each).
_RECENT = 64
MAX_PENDING = 1024 * 1024


def _sgr(style: Style) -> str:
    """The pen of a run (hidden text stays hidden: the cast's SGR leaves that attribute out)."""
    code = sgr(style)
    return code[:-1] + ";8m" if style.attrs & HIDDEN else code


def _paint(index: int, row: Row) -> str:
    """Row ``index`` painted as the program left it (its text and styles)."""
    out = [f"\x1b[{index + 1};1H"]
    for text, style in row.runs:
        out.append(_sgr(style))
        out.append(text)
    out.append(_RESET + "\x1b[K")
    return "".join(out)


class NoticeLane:
    """The customer's terminal as plain mode shares it: program output and cobrowse's lines."""

    def __init__(self, cols: int, rows: int) -> None:
        self._emu = Emulator(max(cols, MIN_COLS), max(rows, 1))
        #: Output not fed to the mirror yet: while no notice is held, waiting or shown, the lane
        #: needs nothing from it, so output is fed when the mirror is next read (a feed per pty
        #: read was ~0.4 % of a core at 10 KB/s), shortened by skip-ahead as one batch.
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        #: Lines that scroll through in one chunk are not parsed (screen/skip.py): the lane
        #: reads only the visible rows (and GROW_ROWS more come back when the terminal grows).
        self._skip = SkipAhead(GROW_ROWS)
        self._held: list[str] = []
        self._overlay: list[str] = []  # the urgent lines shown over the full-screen program
        self._replay: bytearray | None = None  # output since the cursor was asked (None: not waiting)
        #: The program's last read (whether it stopped inside an escape sequence or a character:
        #: ``_mid``, asked only when our bytes would go) and its reads before that, folded into
        #: ``_tail_folded`` when asked (``_tail``): a pty read only keeps a reference.
        self._last = b""
        self._recent: list[bytes] = []
        self._tail_folded = b""  # the program's last bytes (fish's own newline at an exact fill: _OWN_NEWLINE)
        #: Whether the cursor report is still awaited (notices held, output kept for the replay).
        self.asking = False
        self._region: tuple[int, int] | None = None  # the program's scroll region (rows, 0-based, inclusive)
        self._waiting: list[tuple[list[str], bool]] = []  # notices that came then
        self._cut = b""  # keys held back: maybe the cursor report's first part
        self._draft: str | None = None  # the chat line being typed, as last drawn on its row
        self._draft_ended = False  # it was sent or cancelled: the next notice takes its row

    def start(self) -> bytes:
        """Ask the terminal where its cursor is (see ``keys``); notices wait for the answer."""
        self._replay = bytearray()
        self.asking = True
        return ASK_CURSOR

    def keys(self, data: bytes) -> tuple[bytes, bytes]:
        """The customer's terminal sent ``data``: (bytes to write to it, bytes for the program).
        The cursor report is taken out (also when it comes in pieces: the end of a read that
        may be its start, a lone ESC too, waits for the next one, only until the report came);
        a key puts back rows an urgent notice covered."""
        if self._cut:
            data, self._cut = self._cut + data, b""
        tail = data[-_REPORT_MAX:]
        if self._replay is not None and not _CURSOR_REPORT.search(data) and (cut := _REPORT_START.search(tail)):
            self._cut = tail[cut.start():]
            data = data[:len(data) - len(self._cut)]
        if self._replay is not None and (match := _CURSOR_REPORT.search(data)):
            replay, self._replay = self._replay, None
            self.asking = False
            cols, rows = self._emu.size
            self._pending.clear()  # part of the replay
            self._pending_bytes = 0
            self._emu = Emulator(cols, rows)
            self._skip.ground = True
            self._feed(f"\x1b[{match[1].decode()};{match[2].decode()}H".encode() + bytes(replay))
            data = data[:match.start()] + data[match.end():]
            return self._flush_held(), data
        return (self.key() if data else b""), data

    def give_up(self) -> bytes:
        """No cursor report came: place the held notices from what the lane saw alone."""
        if self._replay is None:
            return b""
        self._replay = None
        self.asking = False
        return self._flush_held()

    def release_keys(self) -> bytes:
        """Keys held as a cursor report's possible start (a lone ESC), once no report is awaited
        any more (``give_up``): the program's, at once, not at the customer's next key."""
        if self._replay is not None:
            return b""
        held, self._cut = self._cut, b""
        return held

    def _flush_held(self) -> bytes:
        if not self._held or self._mirror.modes().alt_screen or not self._placeable():
            return b""
        held, self._held = self._held, []
        return self._insert(held)

    @property
    def _mirror(self) -> Emulator:
        """The emulator of the customer's terminal, fed all output so far."""
        return self._catch_up()

    def _catch_up(self) -> Emulator:
        if self._pending:
            data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
            self._pending.clear()
            self._pending_bytes = 0
            self._feed_now(data)
        return self._emu

    def output(self, data: bytes) -> bytes:
        """The program wrote ``data`` (already on the terminal): what to write after it."""
        self._last = data
        recent = self._recent
        recent.append(data)
        if len(recent) > _RECENT:
            self._fold_tail()
        if b"\x1b" in data:  # (not ``b"r" in data``: nearly every read holds an r)
            self._note_region(data)
        if not (self._overlay or self._held or self._waiting or self.asking):
            self._pending.append(data)  # nothing to place: the mirror catches up when read
            self._pending_bytes += len(data)
            if self._pending_bytes > MAX_PENDING:
                self._catch_up()
            return b""
        if self._replay is not None:
            self._pending.append(data)
            self._pending_bytes += len(data)
            changed: set[int] = set()
            if self._pending_bytes > MAX_PENDING:
                self._catch_up()
        else:
            changed = self._feed(data)
        if self._replay is not None:
            self._replay += data
            if len(self._replay) > MAX_REPLAY:
                return self.give_up()
            return b""
        if not (self._overlay or self._held or self._waiting):
            return b""
        alt = self._mirror.modes().alt_screen
        if self._overlay and not alt:
            self._overlay = []  # the full-screen program left: its screen, and our lines on it, are gone
        if self._held and not alt and self._placeable():
            held, self._held = self._held, []
            return self._insert(held)
        out = b""
        if self._waiting and self._placeable():
            waiting, self._waiting = self._waiting, []
            out = b"".join(self.notice(lines, urgent=urgent) for lines, urgent in waiting)
        if self._overlay and changed & set(self._overlay_rows()):
            return out + self._draw_overlay()
        return out

    @property
    def _mid(self) -> bool:
        """The program's output stopped inside an escape sequence or a character (its last read)."""
        return _unfinished(self._last)

    @property
    def _tail(self) -> bytes:
        return self._fold_tail()

    def _fold_tail(self) -> bytes:
        """The program's last _TAIL bytes, from the reads since the last fold."""
        recent = self._recent
        if recent:
            parts = []
            size = 0
            for chunk in reversed(recent):
                parts.append(chunk[-_TAIL:])
                size += len(chunk)
                if size >= _TAIL:
                    break
            else:
                parts.append(self._tail_folded)
            self._tail_folded = b"".join(reversed(parts))[-_TAIL:]
            recent.clear()
        return self._tail_folded

    def _feed(self, data: bytes) -> set[int]:
        self._catch_up()
        return self._feed_now(data)

    def _feed_now(self, data: bytes) -> set[int]:
        mirror = self._emu
        return mirror.feed(self._skip.shorten(data, mirror.size[1], mirror.scrolls_whole()))

    def resize(self, cols: int, rows: int) -> None:
        self._mirror.resize(max(cols, MIN_COLS), max(rows, 1))
        self._region = None  # terminals reset it on a resize; the program sets it again

    def _note_region(self, data: bytes) -> None:
        rows = self._emu.size[1]  # (not the mirror: that would feed it what waits, at every read)
        for match in _REGION.finditer(data):
            if match[0] == b"\x1bc":
                self._region = None
                continue
            top, bottom = int(match[1] or 1) - 1, int(match[2] or rows) - 1
            self._region = (top, bottom) if 0 <= top < bottom < rows and (top, bottom) != (0, rows - 1) else None

    def _placeable(self) -> bool:
        """Whether our bytes may go now: not inside the program's escape sequence or character,
        nor on the line it keeps out of its scroll region (else: after its next output)."""
        if self._mid:
            return False
        return self._mirror.modes().alt_screen or self._bounds(self._mirror.cursor().row) is not None

    def _bounds(self, row: int) -> tuple[int, int] | None:
        """The rows a notice may use around ``row``: the scroll region holding it, or the
        screen; None when the cursor is outside the region (the program draws its own line)."""
        rows = self._mirror.size[1]
        if self._region is None:
            return 0, rows - 1
        top, bottom = self._region
        return (top, bottom) if top <= row <= bottom else None

    def draft(self, line: str | None) -> bytes:
        """The chat line being typed (printable text), shown as typed: on a row of its own above
        the edited line, rewritten in place at each key (over a full-screen program: on its
        bottom row until the next key). ``None``: it was sent or cancelled, and the notice that
        says so next takes its row."""
        if line is None:
            self._draft_ended = self._draft is not None
            return b""
        self._draft_ended = False
        if self._replay is not None or not self._placeable():
            return b""  # the next key draws it
        cols = self._mirror.size[0]
        shown = _tail(line, cols - 1)
        if self._mirror.modes().alt_screen:
            self._draft = shown
            self._overlay = [shown]
            return self._draw_overlay()
        row = self._draft_row()
        self._draft = shown
        return self._insert([shown]) if row is None else self._rewrite(row, shown)

    def _draft_row(self) -> int | None:
        """Where the draft was drawn: the nearest row above the cursor that still reads so
        (output or notices may have moved it; scrolled away: None)."""
        if self._draft is None:
            return None
        for row in range(min(self._mirror.cursor().row, self._mirror.size[1]) - 1, -1, -1):
            if self._mirror.row(row).text.rstrip() == self._draft.rstrip():
                return row
        return None

    def _rewrite(self, row: int, text: str) -> bytes:
        data = f"{_SAVE}\x1b[{row + 1};1H{_RESET}\x1b[2K{text}{_RESTORE}".encode()  # a full row: no EL after it
        self._feed(data)
        return data

    def _end_draft(self, lines: list[str]) -> tuple[bytes, list[str]]:
        """The chat line's result (``you: …``, cancelled) in the row its draft used."""
        row = None if self._mirror.modes().alt_screen else self._draft_row()
        self._draft, self._draft_ended = None, False
        if self._mirror.modes().alt_screen:
            self._overlay = []
        if row is None:
            return b"", lines
        first, *rest = _wrap(lines[0], self._mirror.size[0])
        if not rest:
            return self._rewrite(row, lines[0]), lines[1:]
        # taller than a row: its first row in the draft's, the rest below it (the draft's row
        # stayed, reading ``chat> …``, above the whole result)
        return self._rewrite(row, first) + self._insert(["".join(rest)], above=row + 1), lines[1:]

    def notice(self, lines: list[str], *, urgent: bool) -> bytes:
        """Show ``lines`` (printable text, one a row): the bytes to write now (maybe none)."""
        if not lines:
            return b""
        if self._draft_ended and self._replay is None and self._placeable():
            out, lines = self._end_draft(lines)
            return out + (self.notice(lines, urgent=urgent) if lines else b"")
        if self._draft is not None and self._replay is None and self._placeable() \
                and not self._mirror.modes().alt_screen and (row := self._draft_row()) is not None:
            # a line while the customer types a chat line goes above it, however many rows it
            # takes (below it, it parted the chat line from the edited line, and the next
            # line, put above the chat line, landed above this one)
            return self._insert(lines, above=row)
        if self._replay is not None:
            self._held = (self._held + lines)[-MAX_HELD:]
            return b""
        if not self._placeable():
            self._waiting = [*self._waiting, (lines, urgent)][-MAX_HELD:]
            return b""
        if not self._mirror.modes().alt_screen:
            return self._insert(lines)
        if urgent:
            cols = self._mirror.size[0]
            rows = [row for line in lines for row in _wrap(line, cols)]
            self._overlay = (self._overlay + rows)[-self._overlay_max():]
            self._held = (self._held + lines)[-MAX_HELD:]  # and in the shell's record, once the program exits
            return b"\x07" + self._draw_overlay()
        self._held = (self._held + lines)[-MAX_HELD:]
        return b""

    def fresh_line(self) -> bytes:
        """Plain mode ends: what moves the cursor to the start of a line of its own, so the
        outer shell's next output does not land after the program's last prompt."""
        return b"" if self._mirror.cursor().col == 0 else b"\r\n"

    def finish(self) -> bytes:
        """Plain mode ends: the lines never placed (no cursor report came in time, the program
        stayed full-screen or stopped inside a sequence), each on a row of its own after the
        program's output, from the start of a line; a session that ended within a second of its
        start lost every line, the reason it ended too, on a terminal that never answered."""
        lines = self._held + [line for waiting, _ in self._waiting for line in waiting]
        self._held, self._waiting, self._overlay = [], [], []
        self._replay, self.asking = None, False
        cancel = b"\x18" if self._mid else b""  # CAN: the terminal drops the program's unfinished sequence
        self._last = b""
        return cancel + self.fresh_line() + b"".join(f"{line}\r\n".encode() for line in lines)

    @property
    def waiting(self) -> bool:
        """Lines wait for the program's next output (see ``overdue``)."""
        return bool(self._waiting)

    def overdue(self) -> bytes:
        """The program wrote nothing more for a while: place the waiting lines anyway (a consent
        question must not wait for a program stuck in the middle of a sequence)."""
        waiting, self._waiting = self._waiting, []
        if not waiting:
            return b""
        self._last = b""  # our first ESC ends the program's unfinished sequence in the terminal anyway
        region = self._region
        if self._bounds(self._mirror.cursor().row) is None:
            self._region = None  # the cursor is on the program's own line: use the whole screen
        out = b"".join(self.notice(lines, urgent=urgent) for lines, urgent in waiting)
        self._region = region
        return out

    def key(self) -> bytes:
        """The customer pressed a key: put back the rows an urgent notice covered."""
        if not self._overlay:
            return b""
        rows = self._overlay_rows()
        self._overlay = []
        if not self._mirror.modes().alt_screen:
            return b""
        return self._restore(rows)

    def _overlay_max(self) -> int:
        return max(1, self._mirror.size[1] // 2)

    def _overlay_rows(self) -> list[int]:
        rows = self._mirror.size[1]
        return list(range(rows - len(self._overlay), rows))

    def _draw_overlay(self) -> bytes:
        cols = self._mirror.size[0]
        out = [_SAVE]
        for index, line in zip(self._overlay_rows(), self._overlay):
            out.append(f"\x1b[{index + 1};1H{_RESET}\x1b[7m{_fit(line, cols)}{_RESET}\x1b[K")
        out.append(_RESTORE)
        return "".join(out).encode()

    def _restore(self, rows: list[int]) -> bytes:
        out = [_SAVE]
        out += [_paint(i, self._mirror.row(i)) for i in rows]
        out.append(_RESTORE)
        return "".join(out).encode()

    def _insert(self, lines: list[str], above: int | None = None) -> bytes:
        """Insert ``lines`` above the line being edited (or above row ``above``, a row above
        it: the chat line's), scrolling what is above if need be."""
        out = bytearray()
        pending = list(lines)
        while pending:
            cols, rows = self._mirror.size
            cursor = self._mirror.cursor()
            row = min(cursor.row, rows - 1)
            first, last = self._bounds(row) or (0, rows - 1)
            start = max(first, self._line_start(row) if above is None else min(above, row))
            room = max(1, last - first - (row - start))  # rows the notice may take above the edited line
            batch: list[str] = []
            heights = 0
            while pending and (not batch or heights + _height(pending[0], cols) <= room):
                heights += min(_height(pending[0], cols), room)
                batch.append(pending.pop(0))
            blank_below = self._blank_rows_below(row, last + 1)
            scroll = max(0, heights - blank_below)
            piece = [_SAVE]
            if scroll:
                piece.append(f"\x1b[{last + 1};1H" + "\n" * scroll)
            top = max(first, start - scroll)
            piece.append(f"\x1b[{top + 1};1H\x1b[{heights}L{_RESET}")
            written = 0
            for line in batch:
                text = _fit(line, cols * (room - written))
                written += _height(text, cols)
                piece.append(text + "\r\n")
            piece.append(_RESTORE)
            if heights - scroll:
                piece.append(f"\x1b[{heights - scroll}B")
            data = "".join(piece).encode()
            self._feed(data)
            out += data
            if above is not None:
                above = top + heights  # where that row went
        return bytes(out)

    def _line_start(self, row: int) -> int:
        """The first row of the line the cursor is on: the rows above it that auto-wrapped into
        the next (a long command line; readline and zle force the wrap of a line that fills a
        row exactly). A row merely filled to the last column (a line of the program's or of
        ours that ended there) starts nothing: taken for a wrapped one, it put the notice a
        row or more too high. fish is the exception: at an exact fill it moves on with a
        newline of its own (``\r`` + ``\n``, which the pty makes ``\r\r\n``) and later climbs
        back with ``ESC M``, so that full row is part of the line being edited."""
        mirror = self._mirror
        start = row
        if row > 0 and _OWN_NEWLINE.search(self._tail) and mirror.cursor().col == 0 \
                and not mirror.row(row).text.strip() and not mirror.row(row - 1).text.endswith(" "):
            start -= 1
        while start > 0 and mirror.wrapped(start - 1):
            start -= 1
        return start

    def _blank_rows_below(self, row: int, rows: int) -> int:
        count = 0
        for i in range(rows - 1, row, -1):
            if self._mirror.row(i).text.strip():
                break
            count += 1
        return count


_CONTINUATION = bytes(range(0x80, 0xC0))  # UTF-8 continuation bytes


def _unfinished(data: bytes) -> bool:
    """Whether ``data`` ends inside an escape sequence or a UTF-8 character (a sequence split
    over two writes is the program's: nothing of ours may go between its halves)."""
    tail = data[-512:]
    cont = len(tail) - len(tail.rstrip(_CONTINUATION))
    if cont < min(len(tail), 3):
        lead = tail[-cont - 1]
        need = 3 if lead >= 0xF0 else 2 if lead >= 0xE0 else 1 if lead >= 0xC0 else 0
        if cont < need:
            return True
    esc = tail.rfind(b"\x1b")
    if esc < 0:
        return False
    seq = tail[esc + 1:]
    if not seq:
        return True
    kind = seq[0]
    if kind == 0x5B:  # CSI: parameters until a final byte
        return not any(0x40 <= b <= 0x7E for b in seq[1:])
    if kind in b"]P_^X":  # strings: until BEL or ST (whose ESC would be the last one)
        return b"\x07" not in seq
    if kind in b"()*+#%":
        return len(seq) < 2
    return False


def _columns(text: str) -> int:
    return sum(base_width(cell[0]) for cell in cluster_split(text))


def _wrap(text: str, cols: int) -> list[str]:
    """``text`` in rows of at most ``cols`` columns."""
    rows: list[str] = []
    row: list[str] = []
    used = 0
    for cell in cluster_split(text):
        width = base_width(cell[0])
        if used + width > cols:
            rows.append("".join(row))
            row, used = [], 0
        row.append(cell)
        used += width
    return [*rows, "".join(row)]


def _tail(text: str, cols: int) -> str:
    """``text`` in ``cols`` columns, its end kept (the end of a line being typed is what matters)."""
    if _columns(text) <= cols:
        return text
    cells = cluster_split(text)
    out: list[str] = []
    used = 1
    for cell in reversed(cells):
        width = base_width(cell[0])
        if used + width > cols:
            break
        out.append(cell)
        used += width
    return "…" + "".join(reversed(out))


def _height(text: str, cols: int) -> int:
    return max(1, -(-_columns(text) // max(cols, 1)))


def _fit(text: str, cells: int) -> str:
    """``text`` cut to ``cells`` columns (a notice is never taller than the room for it)."""
    if _columns(text) <= cells:
        return text
    out, used = [], 0
    for cell in cluster_split(text):
        width = base_width(cell[0])
        if used + width > cells - 1:
            break
        out.append(cell)
        used += width
    return "".join(out) + "…"
