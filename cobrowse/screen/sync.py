"""Screen state synchronisation, mosh style.

The customer side (:class:`ScreenSender`) feeds the program's output to an
emulator and, when polled, sends at most ``fps`` frames a second on average (a token
bucket: after a quiet spell up to ``burst`` frames may go at once, so an echoed key is
sent at once instead of waiting for the next 1/fps tick): a snapshot
when one is due (first frame, resize, resync), otherwise the rows that differ
from the last *sent* state. Output volume does not matter: a flood between two
polls costs one frame of at most the screen's size.

With a :class:`~cobrowse.screen.redact.Redactor`, every state the sender diffs and sends
is redacted first (secrets masked, see redact.py); the sender keeps the emulator's raw rows
so that only changed rows are fetched, and the redactor caches by line text.

With ``scroll_ops`` (set once the agent said it applies frame format 2), a diff of a
screen that scrolled says so (``sc``) and carries only the rows that are new after the
move: scrolling text costs the agent about its own size, not the screen's per frame.

The scrollback rows above the screen (redaction's context) come from the emulator, which
follows them as plain text scrolls (above.py) instead of copying its scrollback.

The agent side (:class:`ScreenMirror`) applies the frames to its copy.

The link slows frames too (screen/pace.py, mosh's SSP): once the round trip is known
(:meth:`ScreenSender.link_rtt`), frames go at most once per half a smoothed round trip
(at most 250 ms), whichever rate is slower; a key's echo (``expedite``) still goes at once.

No clock is read here: the caller passes ``now`` (seconds, any monotonic
origin) and asks :meth:`ScreenSender.next_deadline` when to poll again.
"""

from __future__ import annotations

import math
from typing import Sequence

from .cluster import cluster_split
from .diff import ScreenFrame, apply, find_scroll
from .emulator import Emulator, View
from .pace import LinkPace
from .redact import CONTEXT_ROWS, Redactor
from .state import REDACTED, Cursor, Row, ScreenState, Style, blank_row

__all__ = ["ScreenSender", "ScreenMirror", "DEFAULT_FPS", "STEADY_FPS"]

DEFAULT_FPS = 30.0
DEFAULT_BURST = 1
#: The frame rate while output streams steadily and nobody types: every frame costs the
#: customer about the same CPU whatever it holds (fetching, redacting and diffing the rows,
#: sealing, the write), and a log scrolling on is read as well at this rate; the view's lag
#: grows by about half an interval (~17 ms). ``STEADY_AFTER`` frames in a row, each sent
#: as soon as the rate allowed, make output steady; a pause (a frame not sent on time) or a
#: key from the agent (``expedite``, for ``KEY_HOLD`` s) brings back ``fps`` at once.
STEADY_FPS = 15.0
STEADY_AFTER = 15
KEY_HOLD = 1.0
_EPSILON = 1e-6  # float slack: a frame due at exactly ``now`` is due


class ScreenSender:
    """Customer side: emulator + dirty rows + frame-rate limited frames."""

    def __init__(self, cols: int = 80, rows: int = 24, *, fps: float = DEFAULT_FPS,
                 burst: int = DEFAULT_BURST, emulator: Emulator | None = None,
                 redactor: Redactor | None = None, steady_fps: float | None = STEADY_FPS) -> None:
        if not fps > 0:
            raise ValueError("fps must be positive")
        if steady_fps is not None and not steady_fps > 0:
            raise ValueError("steady_fps must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self._burst = float(burst)
        self._tokens = float(burst)
        self.emulator = emulator if emulator is not None else Emulator(cols, rows)
        self._interval = 1.0 / fps
        self._steady = self._interval if steady_fps is None else 1.0 / min(steady_fps, fps)
        self._streak = 0  # frames in a row sent as soon as the rate allowed (steady output)
        self._sent_at: float | None = None  # when the last frame went
        self._keyed = -math.inf  # when the agent last typed (expedite)
        self._link = LinkPace()  # the round trip's floor under the frame interval (link_rtt)
        self._dirty: set[int] = set()
        self._sent: ScreenState | None = None
        self._force = True
        self._last: float | None = None
        self.redactor = redactor
        self._view: View | None = None  # the emulator's rows as of the last frame (redaction on)
        self._above: tuple[Row, ...] = ()  # the scrollback rows above them, for their text (context_above)
        self._cursor: Cursor | None = None  # the cursor the last frame was redacted with
        #: Whether diffs may carry scroll ops (``sc``, frame format 2): only when the agent
        #: said it applies them (an older mirror would shift nothing and show wrong rows).
        self.scroll_ops = False

    @property
    def fps(self) -> float:
        return 1.0 / self._interval

    @property
    def sent(self) -> ScreenState | None:
        """The state the agent holds once it applied every frame sent so far."""
        return self._sent

    def feed(self, data: bytes) -> None:
        """Feed the program's output; cheap (no rows are built here)."""
        changed = self.emulator.feed(data)
        if changed:
            self._dirty |= changed

    def resize(self, cols: int, rows: int) -> None:
        self.emulator.resize(cols, rows)
        self._force = True
        self._dirty.clear()

    def resync(self) -> None:
        """Send a full snapshot at the next poll (e.g. the agent re-joined)."""
        self._force = True

    def redaction_changed(self) -> None:
        """The redactor's patterns changed: redact every row again at the next poll."""
        self._dirty |= set(range(self.emulator.size[1]))

    def state(self) -> ScreenState:
        """The emulator's current state (what the customer's terminal shows)."""
        return self.emulator.state()

    def _pending(self) -> bool:
        if self._force or self._dirty or self._sent is None:
            return True
        emu = self.emulator
        return emu.cursor() != self._sent.cursor or emu.modes() != self._sent.modes

    def next_deadline(self, now: float) -> float | None:
        """When to call :meth:`poll` next: ``None`` if nothing changed since the
        last frame, else ``now`` or the time the frame rate next allows."""
        if not self._pending():
            return None
        return self.ready_at(now)

    def ready_at(self, now: float) -> float:
        """When the frame rate next allows a frame (``now`` if it does): output fed before
        then shows in the same frame as output fed then."""
        tokens = self._tokens_at(now)
        if tokens >= 1.0 - _EPSILON:
            return now
        return now + (1.0 - tokens) * self._period(now)

    def expedite(self, now: float) -> None:
        """Allow the next frame at once, whatever the rate: the agent typed a key, and its
        echo must not wait for the next tick (mosh does the same). The rate stays bounded
        by the frame rate plus the agent's own typing rate."""
        self._tokens = max(self._tokens_at(now), 1.0)
        self._last = now
        self._keyed = now
        self._streak = 0

    def link_rtt(self, seconds: float) -> None:
        """A measured round trip to the agent (a sealed ping's): frames go at most once per
        half the smoothed round trip (screen/pace.py; implausible samples are ignored)."""
        self._link.sample(seconds)

    def link_reset(self) -> None:
        """Frames changed path (relay, direct): forget the old path's round trip (screen/pace.py)."""
        self._link.reset()

    @property
    def link_interval(self) -> float:
        """The interval the link imposes on frames now (0 until a round trip is known)."""
        return self._link.interval

    @property
    def steady(self) -> bool:
        """Whether frames go at the steady-output rate now (``STEADY_FPS``)."""
        return self._streak >= STEADY_AFTER

    def _period(self, now: float) -> float:
        """Seconds a frame costs in tokens now: the steady interval while output streams on
        (and the agent has not typed for KEY_HOLD s), else 1/fps; never less than the link's
        (half a round trip)."""
        if self._streak >= STEADY_AFTER and now - self._keyed >= KEY_HOLD:
            return max(self._steady, self._link.interval)
        return max(self._interval, self._link.interval)

    def _tokens_at(self, now: float) -> float:
        if self._last is None:
            return self._burst
        return min(self._burst, self._tokens + max(0.0, now - self._last) / self._period(now))

    def _spend(self, now: float) -> None:
        period = self._period(now)
        self._tokens = self._tokens_at(now) - 1.0
        # On time: within half an interval of when the rate first allowed this frame.
        sent_at = self._sent_at
        on_time = sent_at is not None and now - sent_at <= 1.5 * period
        self._streak = self._streak + 1 if on_time else 0
        self._sent_at = now
        self._last = now

    def poll(self, now: float) -> ScreenFrame | None:
        """A frame if something changed and the frame rate allows one, else None."""
        if self._tokens_at(now) < 1.0 - _EPSILON:
            return None
        if self.redactor is not None:
            return self._poll_redacted(now)
        emu = self.emulator
        sent = self._sent
        if self._force or sent is None:
            return self._snapshot(emu.state(), now)
        if not self._dirty:
            return self._diff(sent, (), now)
        dirty = sorted(self._dirty)
        self._dirty.clear()
        old = sent.rows
        fetched = emu.rows(dirty)
        if self.scroll_ops and len(dirty) > 1 and dirty[0] == 0:
            rows = list(old)
            for i, r in fetched.items():
                rows[i] = r
            return self._diff_rows(sent, rows, now)
        return self._diff(sent, tuple((i, r) for i, r in fetched.items() if r != old[i]), now)

    def unchanged(self) -> ScreenFrame | None:
        """A diff that changes nothing (a frame for its echo ack alone), or None before the
        first frame or with changes of its own to send (:meth:`poll` sends those)."""
        sent = self._sent
        if sent is None or self._pending():
            return None
        return ScreenFrame(False, sent.size, sent.cursor, sent.modes, ())

    def _snapshot(self, state: ScreenState, now: float) -> ScreenFrame:
        self._force = False
        self._dirty.clear()
        self._sent = state
        self._spend(now)
        return ScreenFrame.of_state(state)

    def _diff(self, sent: ScreenState, changed: tuple[tuple[int, Row], ...], now: float,
              scroll: int = 0) -> ScreenFrame | None:
        cursor, modes = self.emulator.cursor(), self.emulator.modes()
        if not changed and not scroll and cursor == sent.cursor and modes == sent.modes:
            return None  # changed and changed back: costs nothing
        frame = ScreenFrame(False, sent.size, cursor, modes, changed, scroll)
        self._sent = apply(sent, frame)
        self._spend(now)
        return frame

    def _diff_rows(self, sent: ScreenState, rows: Sequence[Row], now: float, moved: int = 0) -> ScreenFrame | None:
        """The diff from ``sent`` to ``rows``, moved up first when that leaves fewer rows to send.
        ``moved``: the rows the emulator's screen moved up since ``sent`` (0: unknown), tried
        first: when it leaves fewer rows to send than no move, no other move is looked for."""
        old = sent.rows
        k = 0
        if self.scroll_ops and old[0] != rows[0]:
            if 0 < moved < len(old) and len(old) == len(rows):
                base = old[moved:] + (blank_row(sent.cols),) * moved
                changed = tuple((i, b) for i, (a, b) in enumerate(zip(base, rows)) if a is not b and a != b)
                if _differ_more(old, rows, len(changed)):
                    return self._diff(sent, changed, now, moved)
            k, _ = find_scroll(old, rows)
        if not k:
            return self._diff(sent, tuple((i, b) for i, (a, b) in enumerate(zip(old, rows)) if a != b), now)
        base = old[k:] + (blank_row(sent.cols),) * k
        return self._diff(sent, tuple((i, b) for i, (a, b) in enumerate(zip(base, rows)) if a != b), now, k)

    def _poll_redacted(self, now: float) -> ScreenFrame | None:
        """:meth:`poll` with redaction: masks depend on neighbouring rows (wrapped lines,
        key blocks, a password prompt above) and on the cursor (the word being typed), so
        the whole screen is redacted again whenever a row changed or the cursor moved
        (cheap: cached by line text). The raw rows come from :meth:`Emulator.fetch`, which
        builds only the rows that did not just move up (a scroll's new rows)."""
        assert self.redactor is not None
        emu = self.emulator
        sent = self._sent
        view = self._view
        if self._force or sent is None or view is None:
            view, _ = emu.fetch((), None)
            self._view = view
            self._above = emu.context_above(CONTEXT_ROWS)
            cursor = self._cursor = emu.cursor()
            state = ScreenState(view.size, cursor, _redact(self.redactor, view.rows, self._above, cursor), emu.modes())
            return self._snapshot(state, now)
        cursor = emu.cursor()
        if not self._dirty and cursor == self._cursor:
            return self._diff(sent, (), now)
        dirty = sorted(self._dirty)
        self._dirty.clear()
        moved = 0
        if dirty:
            view, moved = emu.fetch(dirty, view)
            self._view = view
        if dirty and dirty[0] == 0:  # the top row changed (a scroll): what is above it may have too
            self._above = emu.context_above(CONTEXT_ROWS)
        self._cursor = cursor
        rows = _redact(self.redactor, view.rows, self._above, cursor)
        return self._diff_rows(sent, rows, now, moved)


def _redact(redactor: Redactor, rows: Sequence[Row], above: Sequence[Row], cursor: Cursor) -> tuple[Row, ...]:
    """:func:`redact_clustered`, told at once that ASCII rows hold no cluster (one test of
    their joined text instead of one call a row)."""
    if "".join([r.text for r in (*above, *rows)]).isascii():
        return redactor.redact_rows(rows, above, cursor)
    return redact_clustered(redactor, rows, above, cursor)


def _differ_more(old: Sequence[Row], new: Sequence[Row], than: int) -> bool:
    """Whether more than ``than`` rows of ``new`` differ from ``old`` in place (stops there)."""
    count = 0
    for a, b in zip(old, new):
        if a is not b and a != b:
            count += 1
            if count > than:
                return True
    return False


def _has_clusters(row: Row) -> bool:
    text = row.text
    return not text.isascii() and len(cluster_split(text)) != len(text)


def _bases(row: Row) -> Row:
    """``row`` with each cluster cut to its base character: one character a cell, the form
    the redactor masks character by character."""
    if not _has_clusters(row):
        return row
    runs: list[tuple[str, Style]] = []
    wide: list[int] = []
    offset = 0
    for _col, cluster, width, style in row.cells():
        if width == 2:
            wide.append(offset)
        runs.append((cluster[0], style))
        offset += 1
    return Row.from_runs(runs, wide)


def _restore_clusters(raw: Row, simple: Row, redacted: Row) -> Row:
    """The raw row with the cells the redactor masked in ``simple`` masked (whole cells)."""
    if redacted is simple or redacted == simple:
        return raw
    masked = {col: (ch, w, style) for col, ch, w, style in redacted.cells() if style.attrs & REDACTED}
    runs: list[tuple[str, Style]] = []
    wide: list[int] = []
    offset = 0
    for col, cluster, width, style in raw.cells():
        hit = [masked[c] for c in range(col, col + width) if c in masked]
        if hit:
            for ch, w, mstyle in hit:
                runs.append((ch, mstyle))
                if w == 2:
                    wide.append(offset)
                offset += len(ch)
            continue
        if width == 2:
            wide.append(offset)
        runs.append((cluster, style))
        offset += len(cluster)
    return Row.from_runs(runs, wide)


def redact_clustered(redactor: Redactor, rows: Sequence[Row], above: Sequence[Row],
                     cursor: Cursor | None = None) -> tuple[Row, ...]:
    """:meth:`Redactor.redact_rows` for rows whose cells may hold clusters: the redactor sees
    base characters (so a mask never splits a cluster or counts a combining mark as a column),
    and a masked cell is masked whole."""
    if not any(_has_clusters(r) for r in rows) and not any(_has_clusters(r) for r in above):
        return redactor.redact_rows(rows, above, cursor)
    simple = [_bases(r) for r in rows]
    redacted = redactor.redact_rows(simple, [_bases(r) for r in above], cursor)
    return tuple(_restore_clusters(raw, s, r) for raw, s, r in zip(rows, simple, redacted))


class ScreenMirror:
    """Agent side: the customer's screen as the frames received so far describe it."""

    def __init__(self) -> None:
        self.state: ScreenState | None = None

    def apply(self, frame: ScreenFrame) -> ScreenState:
        """Apply one frame (ValueError for a diff without a matching snapshot)."""
        self.state = apply(self.state, frame)
        return self.state

    def apply_dict(self, data: object) -> ScreenState:
        """Decode a frame's wire form and apply it."""
        return self.apply(ScreenFrame.from_dict(data))
