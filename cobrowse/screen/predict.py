"""Predictive local echo for control mode, after mosh's ``PredictionEngine`` (terminaloverlay.cc).

Over a 150 ms link each key the agent types shows up a round trip later. The
:class:`Predictor` guesses its echo from the mirrored screen and the keys as they are
sent, so the agent's console can draw it at once (underlined until the customer's screen
confirms it), and takes the guess back the moment the screen says otherwise.

What is predicted, at the cursor's row only: printable characters of width 1 (written at the
cursor, the rest of the line shifted right as readline inserts), backspace (the character
left of the cursor removed, the rest shifted left; never left of where this line's typing
began, so a prompt is never "erased") and the left/right arrows (the cursor moves).
Anything else (Enter, Tab, control keys, other escape sequences, a paste, a key in the last
column, a wide character) is not predicted and makes what follows *tentative*.

mosh's rules, kept:

* **Epochs.** An unpredictable key starts a new epoch. Predictions of an epoch are
  *tentative* (kept, checked, never shown) until one of them is confirmed by the screen
  with credit (a printable character that was not already in that cell). So the first
  keys after Enter, into a program that might not echo, are shown only once the screen has
  echoed one of them: typing into ``read -s`` or a ``Password:`` prompt shows nothing.
* **Checking.** A shown prediction the screen contradicts resets everything (all
  predictions dropped, a new epoch); a tentative one that fails drops its epoch only.
* **When to show** (``display="adaptive"``, mosh's default): once the smoothed time to
  confirm a key exceeds 30 ms, until it falls to 20 ms with nothing shown; or while a
  prediction has waited 250 ms or more (a "glitch": 10 quick confirmations, 150 ms apart,
  cure it). ``"always"`` shows regardless of the RTT; ``"never"`` turns prediction off.

What differs from mosh, and why: a frame is matched against the expected state after each
pending key (the cells the predictions touch, and the cursor): the latest state it matches
confirms every key up to it; matching the state before them leaves them pending; matching
none contradicts them. A prediction still pending after ``max(1 s, 4 × SRTT)`` is taken as
contradicted (the screen did not echo). Keys whose effect is unknown (not predicted, or
predicted wrongly) leave the screen uncertain: nothing is predicted on it until it has had
time to show them, so a guess is never built on a screen that has yet to show them; and if
such a key followed shown predictions (Enter after a word), their echo is looked for on the
row or scrolled up, never counted against them.

**Echo acks** (mosh's ``echo_ack``; the screen message's ``ack``, docs/protocol.md §4): a
customer that sends them says, in a frame, "this screen shows the effect of your first
``ack`` keys messages and no later one had reached the program" (the last one written at
least ``ACK_SETTLE`` before the screen was read, none since). With acks the wait is exact:
keys typed while the screen is uncertain are kept, not sent blind into the dark, and once a
frame acks the last unknown key they are predicted on that frame's screen (those it already
shows dropped); the acked state is also the one a frame is matched against first. If every
unknown key was a Tab or a printable key left unpredicted (the last column), on a line
whose echo was already confirmed, the resumed predictions are shown at once; else they are
tentative, as after any other unknown key. Without acks (an older customer) the screen is
certain again once no unknown key went out for one RTO (SRTT + 4 × RTTVAR, as TCP). The
keys sent while the screen is uncertain ask for an ack (:attr:`Predictor.wants_ack`, the keys
message's ``want_ack``): a frame goes for an ack alone only then, never for plain typing. An ack
is believed only within what was sent (never ahead of the keys sent, never backwards): a
customer lying about acks can at worst make predictions of the agent's own keys wrong for
a moment, and the real screen replaces them. And these
contexts get no prediction at all: the alternate screen (full-screen programs), a hidden
cursor, a line ending with a password prompt (:func:`~.secret_shapes.is_password_prompt`),
a row with cells the customer's cobrowse masked, and, after 3 shown predictions were
contradicted on one command line, the rest of that line (until the next Enter).

Pure and synchronous: the caller passes ``now`` (seconds, any monotonic clock).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from .cluster import ZW_RE, base_width
from .secret_shapes import is_password_prompt
from .state import REDACTED, ScreenState

__all__ = ["Display", "Overlay", "PredictedCell", "Predictor", "PredictStats"]

SRTT_TRIGGER_HIGH = 0.030
SRTT_TRIGGER_LOW = 0.020
GLITCH_THRESHOLD = 0.250
GLITCH_REPAIR_COUNT = 10
GLITCH_REPAIR_MININTERVAL = 0.150
MIN_EXPIRY = 1.0
MAX_FAILURES = 3
MAX_DEFERRED = 256  # keys kept for an ack while the screen is uncertain; more: their effect is unknown
_BRACKETED_PASTE = ("\x1b[200~", "\x1b[201~")


class Display(StrEnum):
    ADAPTIVE = "adaptive"
    ALWAYS = "always"
    NEVER = "never"


class _Kind(StrEnum):
    PRINT = "print"
    BACKSPACE = "backspace"
    LEFT = "left"
    RIGHT = "right"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class PredictedCell:
    """A cell drawn from a prediction: ``text`` at ``(row, col)`` of the remote screen."""

    row: int
    col: int
    text: str


@dataclass(frozen=True, slots=True)
class Overlay:
    """What to draw over the mirrored screen: the predicted cells (underlined) and cursor."""

    cells: tuple[PredictedCell, ...]
    cursor: tuple[int, int]  # (col, row)

    def as_json(self) -> dict[str, object]:
        """The headless ``screen`` event's ``predicted`` value (docs/headless.md)."""
        return {"cells": [[c.row, c.col, c.text] for c in self.cells], "cursor": list(self.cursor)}


@dataclass(slots=True)
class PredictStats:
    """Counts since the start: keys predicted, predictions shown, confirmed, shown and then
    contradicted (the agent saw a wrong character), tentative ones dropped unseen, and those
    neither confirmed nor contradicted because a key that could not be predicted followed."""

    predicted: int = 0
    shown: int = 0
    confirmed: int = 0
    mispredicted_shown: int = 0
    dropped_unseen: int = 0
    withdrawn: int = 0  # the screen moved on (an unpredictable key followed) before showing them


@dataclass(slots=True)
class _Step:
    kind: _Kind
    key: str
    at: float
    epoch: int
    cells: tuple[str, ...]  # the whole row after this key
    col: int  # the cursor's column after this key
    credit: bool = False  # confirming it proves the screen echoes (a new printable character)
    shown: bool = False
    seq: int = 0  # the keys message it came in (1, 2, ...), as the customer's acks count them


def _tokens(data: str) -> list[tuple[_Kind, str]]:
    """Split what the agent sent into keys; a bracketed paste is one unpredictable key."""
    out: list[tuple[_Kind, str]] = []
    i, n = 0, len(data)
    while i < n:
        ch = data[i]
        if data.startswith(_BRACKETED_PASTE[0], i):
            end = data.find(_BRACKETED_PASTE[1], i)
            j = n if end < 0 else end + len(_BRACKETED_PASTE[1])
            out.append((_Kind.OTHER, data[i:j]))
            i = j
        elif ch == "\x1b":
            j = i + 1
            if j < n and data[j] in "[O":
                j += 1
                while j < n and not "\x40" <= data[j] <= "\x7e":
                    j += 1
            seq = data[i:min(j + 1, n)]
            out.append((_ARROWS.get(seq, _Kind.OTHER), seq))
            i += len(seq)
        elif ch in "\x7f\x08":
            out.append((_Kind.BACKSPACE, ch))
            i += 1
        elif _narrow_printable(ch) and not ZW_RE.match(data, i + 1):
            out.append((_Kind.PRINT, ch))
            i += 1
        else:
            out.append((_Kind.OTHER, ch))
            i += 1
    return out


_ARROWS = {"\x1b[C": _Kind.RIGHT, "\x1bOC": _Kind.RIGHT, "\x1b[D": _Kind.LEFT, "\x1bOD": _Kind.LEFT}


def _narrow_printable(ch: str) -> bool:
    return ch.isascii() and ch.isprintable() or (
        ch.isprintable() and base_width(ch) == 1 and not unicodedata.combining(ch) and ord(ch) < 0x10000)


def _apply(kind: _Kind, key: str, cells: tuple[str, ...], col: int, floor: int) -> tuple[tuple[str, ...], int] | None:
    """The row and cursor column after one key, or None where its effect is not certain."""
    cols = len(cells)
    if not 0 <= col < cols:
        return None
    if kind is _Kind.PRINT:
        if col >= cols - 1 or cells[-1] != " ":
            return None  # the last column (wrap) or a full line
        return cells[:col] + (key,) + cells[col:-1], col + 1
    if kind is _Kind.BACKSPACE:
        if col <= floor:
            return None  # never "erase" a prompt
        return cells[: col - 1] + cells[col:] + (" ",), col - 1
    if kind is _Kind.LEFT:
        return (cells, col - 1) if col > floor else None
    if kind is _Kind.RIGHT:
        return (cells, col + 1) if col + 1 < cols and any(c != " " for c in cells[col:]) else None
    return None


def _cells(state: ScreenState, row: int) -> tuple[str, ...] | None:
    """One string per column of ``row``, or None if it holds wide cells or clusters."""
    if not 0 <= row < state.row_count:
        return None
    r = state.rows[row]
    if r.wide:
        return None
    text = r.text
    if not text.isascii() and not all(_narrow_printable(ch) or ch == " " for ch in text):
        return None
    return tuple(text)


@dataclass
class Predictor:
    """Guesses the echo of the agent's keys; see the module docstring for the rules."""

    display: Display = Display.ADAPTIVE
    stats: PredictStats = field(default_factory=PredictStats)
    _state: ScreenState | None = None
    _steps: list[_Step] = field(default_factory=list)
    # The row the pending steps were built on: (row, cursor col, cells) of the screen then.
    _row: int = -1
    _col: int = 0
    _cells: tuple[str, ...] = ()
    _floor: int = 0  # backspace and left arrow are never predicted left of this column
    _fresh: bool = True  # the floor is set again by the next prediction
    _epoch: int = 1
    _confirmed_epoch: int = 0
    _srtt: float | None = None
    _rttvar: float = 0.0
    _srtt_trigger: bool = False
    _glitch: int = 0
    _last_quick: float = float("-inf")
    _failures: int = 0  # shown predictions the screen contradicted on this command line
    _off_line: bool = False  # 3 of them: nothing more until Enter
    # Keys went out whose effect is unknown (not predicted, or predicted wrongly): predict
    # nothing until the screen has had time to show them (no key for one RTO).
    _stale: bool = False
    _quiet_from: float = float("-inf")
    _stale_view: tuple[object, ...] | None = None  # the screen when it became uncertain
    _stale_keys: int = 0  # keys sent while it was
    _stale_seq: int = 0  # the last keys message whose effect is unknown
    _stale_line: bool = False  # every unknown key since it became uncertain was a Tab or printable
    _sent: int = 0  # keys messages sent (each ``key`` call is one)
    _ack: int = 0  # the customer's latest echo ack
    _acking: bool = False  # the customer sends echo acks (a frame carried one)
    # Keys typed while the screen was uncertain, predicted once a frame acks the last unknown
    # key: (kind, key, sent at, keys message).
    _deferred: list[tuple[_Kind, str, float, int]] = field(default_factory=list)

    # ------------------------------------------------------------------ inputs

    def screen(self, state: ScreenState, now: float, ack: object = None) -> bool:
        """A new mirrored screen from the customer, with its echo ack if it carried one (the
        count of keys messages it shows the effect of; see the module docstring); returns
        whether the overlay changed."""
        before = self.overlay()
        acked = self._take_ack(ack)
        previous, self._state = self._state, state
        if previous is not None and previous.size != state.size or not self._usable(state):
            self._reset(now)
        else:
            self._check(state, now, self._ack if acked else None)
        self._settle(now, acked)
        return self._changed(before)

    def key(self, data: str, now: float) -> bool:
        """The agent sent ``data`` to the customer's terminal (one keys message); returns
        whether the overlay changed."""
        self._sent += 1
        if self.display is Display.NEVER:
            return False
        before = self.overlay()
        self._cull(now)
        self._settle(now)
        for kind, text in _tokens(data):
            self._key(kind, text, now, self._sent)
        return self._changed(before)

    def tick(self, now: float) -> bool:
        """Time passed: expire predictions the screen never confirmed; returns whether the overlay changed."""
        before = self.overlay()
        self._cull(now)
        self._settle(now)
        return self._changed(before)

    # ------------------------------------------------------------------ output

    @property
    def srtt(self) -> float | None:
        """Smoothed seconds from a key to the screen confirming its echo (None: none yet)."""
        return self._srtt

    @property
    def acked(self) -> int:
        """The customer's latest echo ack believed (0: none yet, or an older customer)."""
        return self._ack

    @property
    def wants_ack(self) -> bool:
        """Whether the last key should ask for an echo ack (``m.Keys.want_ack``): the screen is
        uncertain (a Tab, the last column, a wrong guess, keys kept behind them) and an ack of
        that key is what lets predictions resume. Not while typing goes as predicted, nor on a
        screen that gets no prediction anyway (vim, a password prompt): the customer's frame
        for an ack alone costs every side a frame."""
        state = self._state
        return self._stale and state is not None and self._usable(state)

    @property
    def pending(self) -> int:
        """Keys predicted and not yet confirmed or taken back (shown or not)."""
        return len(self._steps)

    def showing(self) -> bool:
        """Whether predictions are drawn now (the display rule; there may be none to draw)."""
        if self.display is not Display.ADAPTIVE:
            return self.display is Display.ALWAYS
        return self._srtt_trigger or self._glitch > 0

    def overlay(self) -> Overlay | None:
        """The cells to draw underlined and where to draw the cursor, or None: draw the screen as it is."""
        state = self._state
        last = self._last_shown()
        if state is None or last is None:
            return None
        actual = _cells(state, self._row)
        if actual is None or len(actual) != len(last.cells):
            return None
        cells = tuple(PredictedCell(self._row, c, last.cells[c]) for c in range(len(actual)) if last.cells[c] != actual[c])
        return Overlay(cells, (last.col, self._row))

    # ------------------------------------------------------------------ the engine

    def _last_shown(self) -> _Step | None:
        if not self.showing():
            return None
        last = None
        for step in self._steps:
            if step.epoch > self._confirmed_epoch:
                break
            last = step
        return last

    def _changed(self, before: Overlay | None) -> bool:
        last = self._last_shown()
        if last is not None:
            for step in self._steps:
                if not step.shown:
                    step.shown = True
                    self.stats.shown += 1
                if step is last:
                    break
        return self.overlay() != before

    def _usable(self, state: ScreenState) -> bool:
        cur = state.cursor
        if state.modes.alt_screen or not cur.visible or not 0 <= cur.row < state.row_count:
            return False
        row = state.rows[cur.row]
        if any(style.attrs & REDACTED for _, style in row.runs):
            return False
        return not is_password_prompt(row.text[: cur.col])

    def _expiry(self) -> float:
        return max(MIN_EXPIRY, 4 * (self._srtt or 0.0))

    def _rto(self) -> float:
        """How long a key's effect may take to reach the screen (TCP's RTO formula)."""
        if self._srtt is None:
            return MIN_EXPIRY
        return self._srtt + max(0.02, 4 * self._rttvar)

    def _take_ack(self, ack: object) -> bool:
        """Believe ``ack`` if it is a count within what was sent and not behind the last one."""
        if type(ack) is not int or not self._ack <= ack <= self._sent:
            return False
        self._ack, self._acking = ack, True
        return True

    def _unaccounted(self, at: float, seq: int, keys: int = 1, *, line: bool = False) -> None:
        """``keys`` keys whose effect we do not know went out, the last at ``at`` in keys
        message ``seq``; ``line``: a Tab or a printable key (the line still echoes)."""
        if self._stale:
            self._stale_keys += keys
            self._stale_line = self._stale_line and line
        else:
            self._stale, self._stale_keys = True, keys
            self._stale_view = _view(self._state) if self._state is not None else None
            self._stale_line = line and self._confirmed_epoch >= self._epoch
        self._epoch += 1
        self._stale_seq = max(self._stale_seq, seq)
        self._deferred = []  # an ack of this key covers them
        self._quiet_from = max(self._quiet_from, at)

    def _settle(self, now: float, acked: bool = False) -> None:
        """The screen is certain again once a frame acks the last unknown key, once it changed
        after a single unknown key (Enter: the next prompt), or when no key went out for one
        RTO while it was uncertain."""
        if not self._stale or self._steps:
            return
        state = self._state
        by_ack = acked and self._ack >= self._stale_seq
        moved = self._stale_keys == 1 and state is not None and _view(state) != self._stale_view
        if not (by_ack or moved or now - self._quiet_from >= self._rto()):
            return
        self._stale = False
        self._fresh = True
        deferred, self._deferred = self._deferred, []
        if not by_ack:
            return  # (no ack: what the kept keys did is on this screen by now, or unknown)
        if self._stale_line:
            self._confirmed_epoch = max(self._confirmed_epoch, self._epoch)
        for kind, text, at, seq in deferred:
            if seq > self._ack:  # not on this screen yet: predicted on it
                self._key(kind, text, at, seq)

    def _key(self, kind: _Kind, text: str, now: float, seq: int) -> None:
        state = self._state
        if self._stale and self._acking and kind is not _Kind.OTHER and len(self._deferred) < MAX_DEFERRED:
            self._deferred.append((kind, text, now, seq))  # predicted once a frame acks the unknown keys
            self._stale_keys += 1
            self._quiet_from = max(self._quiet_from, now)
            return
        if kind is _Kind.OTHER or state is None or self._stale:
            self._unaccounted(now, seq, line=text == "\t")
            if text in ("\r", "\n"):
                self._off_line, self._failures = False, 0
            return
        if self._off_line or not self._usable(state):
            self._unaccounted(now, seq)
            return
        if not self._steps:
            found = _cells(state, state.cursor.row)
            if found is None:
                self._unaccounted(now, seq)
                return
            if self._fresh or state.cursor.row != self._row or state.cursor.col < self._floor:
                self._floor, self._fresh = state.cursor.col, False
            self._row, self._col, self._cells = state.cursor.row, state.cursor.col, found
        if kind in (_Kind.LEFT, _Kind.RIGHT):
            self._epoch += 1  # a program without line editing echoes ^[[D: tentative until confirmed
        if not self._predict(kind, text, now, self._epoch, seq):
            self._unaccounted(now, seq, line=kind is _Kind.PRINT)

    def _predict(self, kind: _Kind, key: str, at: float, epoch: int, seq: int) -> bool:
        cells, col = (self._steps[-1].cells, self._steps[-1].col) if self._steps else (self._cells, self._col)
        after = _apply(kind, key, cells, col, self._floor)
        if after is None:
            return False
        credit = kind is _Kind.PRINT and cells[col] != key
        self._steps.append(_Step(kind, key, at, epoch, after[0], after[1], credit, seq=seq))
        self.stats.predicted += 1
        return True

    def _check(self, state: ScreenState, now: float, ack: int | None = None) -> None:
        """Match the new frame against the state after each pending key: the state after the
        acked keys first, when the frame carries an ack; else the earliest it matches."""
        if not self._steps:
            return
        actual = _cells(state, self._row)
        cur = state.cursor
        touched = {c for step in self._steps for c, (a, b) in enumerate(zip(self._cells, step.cells)) if a != b}
        if actual is not None and len(actual) == len(self._cells) and cur.row == self._row:
            acked = [i for i, step in enumerate(self._steps) if step.seq <= ack] if ack is not None else []
            if acked:
                step = self._steps[acked[-1]]
                if cur.col == step.col and all(actual[c] == step.cells[c] for c in touched):
                    self._confirm(acked[-1], state, now)
                    return
            # The earliest state the frame matches: "a", Backspace, "a" passes through the
            # same screen twice, and confirming more than the customer has shown would put
            # the next guesses in the wrong place (_cull settles the tie once time is up).
            if cur.col == self._col and all(actual[c] == self._cells[c] for c in touched):
                return  # the customer has not shown these keys yet
            for i, step in enumerate(self._steps):
                if cur.col == step.col and all(actual[c] == step.cells[c] for c in touched):
                    self._confirm(i, state, now)
                    return
        if self._stale:
            # A key we could not predict followed these (Enter, Ctrl-U...): the screen may have
            # moved on past their echo. Find the echo, on this row or scrolled up; else let go.
            last = self._steps[-1]
            for r in range(min(self._row, state.row_count - 1), -1, -1):
                row = _cells(state, r)
                if row is not None and len(row) == len(last.cells) and all(row[c] == last.cells[c] for c in touched):
                    self._confirm(len(self._steps) - 1, state, now)
                    return
            self.stats.withdrawn += len(self._steps)
            self._steps = []
            return
        self._fail(now)

    def _confirm(self, upto: int, state: ScreenState, now: float, *, measure: bool = True) -> None:
        done, rest = self._steps[: upto + 1], self._steps[upto + 1:]
        for step in done:
            self.stats.confirmed += 1
            if step.credit and measure:  # a screen back where it was proves no echo
                self._confirmed_epoch = max(self._confirmed_epoch, step.epoch)
            if now - step.at < GLITCH_THRESHOLD and self._glitch > 0 and now - GLITCH_REPAIR_MININTERVAL >= self._last_quick:
                self._glitch -= 1
                self._last_quick = now
        rtt = now - done[-1].at
        if measure:
            srtt = self._srtt
            self._rttvar = rtt / 2 if srtt is None else 0.75 * self._rttvar + 0.25 * abs(srtt - rtt)
            self._srtt = srtt = rtt if srtt is None else 0.875 * srtt + 0.125 * rtt
            if srtt > SRTT_TRIGGER_HIGH:
                self._srtt_trigger = True
            elif srtt <= SRTT_TRIGGER_LOW and not rest:
                self._srtt_trigger = False
        self._steps = []
        self._col, self._cells = state.cursor.col, _cells(state, self._row) or ()
        for step in rest:  # the rest again, on the screen as it is now
            if not self._predict(step.kind, step.key, step.at, step.epoch, step.seq):
                self._drop(rest, now)
                break
            self._steps[-1].shown = step.shown
            self.stats.predicted -= 1  # the same prediction, re-derived

    def _fail(self, now: float) -> None:
        """The screen contradicts the oldest pending prediction (or it waited too long)."""
        first = self._steps[0]
        if first.epoch > self._confirmed_epoch:  # tentative: drop its epoch, the agent saw none of it
            kept = [s for s in self._steps if s.epoch < first.epoch]
            self._drop(self._steps[len(kept):], now)
            self._steps = kept
            return
        self._failures += 1
        if self._failures >= MAX_FAILURES:
            self._off_line = True
        self._drop(self._steps, now)
        self._steps = []

    def _drop(self, steps: list[_Step], now: float) -> None:
        """Take these predictions back: their keys' effect is now unknown."""
        for step in steps:
            if step.shown:
                self.stats.mispredicted_shown += 1
            else:
                self.stats.dropped_unseen += 1
        if steps:
            self._unaccounted(max(s.at for s in steps), self._sent, len(steps) + 1)

    def _reset(self, now: float) -> None:
        self._drop(self._steps, now)
        self._steps = []

    def _cull(self, now: float) -> None:
        """Take back what waited too long for the screen; mosh's glitch trigger."""
        if not self._steps:
            return
        waited = now - self._steps[0].at
        if waited >= self._expiry():
            state = self._state
            last = self._steps[-1]
            actual = _cells(state, self._row) if state is not None else None
            if state is not None and state.cursor == (last.col, self._row, True) and actual == last.cells:
                self._confirm(len(self._steps) - 1, state, now, measure=False)  # it came back to where it was
            else:
                self._fail(now)
        elif waited >= GLITCH_THRESHOLD and self._glitch < GLITCH_REPAIR_COUNT:
            self._glitch = GLITCH_REPAIR_COUNT


def _view(state: ScreenState) -> tuple[object, ...]:
    cur = state.cursor
    return (cur.col, cur.row, state.rows[cur.row] if 0 <= cur.row < state.row_count else None)
