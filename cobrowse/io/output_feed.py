"""The program's output on its way to the emulator: queued, fed at the pace the machine allows.

The program's output is already on the customer's terminal when it gets here
(``CustomerRuntime.program_output``); this decides when the emulator parses it, so that the
customer's own terminal never waits for the agent's view, while that view follows closely:
small output at the next frame the rate allows, floods shortened by skip-ahead
(screen/skip.py: lines that scroll through between two frames are not parsed) and followed
at the frame rate, the lag bounded (MAX_LAG, MAX_BACKLOG). The constants below say why each
figure is what it is (bench/cost.py, bench/flood.py measure them).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from typing import Callable

from cobrowse.screen.redact import CONTEXT_ROWS
from cobrowse.screen.skip import GROW_ROWS, SkipAhead
from cobrowse.screen.sync import ScreenSender

__all__ = ["DEFER_BELOW", "PLAIN_DEFER_BELOW", "FEED_SLICE", "MAX_BACKLOG", "MAX_LAG", "OutputFeed"]

#: Feeding the emulator costs about 15 ms of CPU per MB (pyavt, holding the GIL), several
#: times what passing the same MB through to the customer's terminal costs: fed inline, a
#: 24 MB flood reached the customer's terminal at ~0.4x its unshared speed (bench/flood.py).
#: So output is queued and fed from the event loop, oldest first, in batches. Up to
#: FEED_SLICE bytes waiting (an echo, a prompt, a redraw) are fed at once, in the next loop
#: iteration. More than that means the program floods its terminal: the terminal comes
#: first, and the emulator catches up once no output came for QUIET s, FEED_SLICE bytes per
#: loop iteration doubling up to MAX_SLICE while it stays quiet (not before: on a busy
#: machine, parsing in the flood's short gaps takes the CPU the program and the terminal
#: need). The lag is bounded: once the oldest queued output is MAX_LAG s old, or more than
#: MAX_BACKLOG bytes wait, the excess is fed inline, so the emulator's speed paces the
#: program as before. Floods up to about MAX_BACKLOG bytes thus reach the customer at full
#: speed; the agent's view of a flood lags by at most MAX_LAG plus the backlog's parse time
#: (~0.5 s for 32 MB); the final screen is exact.
FEED_SLICE = 16 * 1024
MAX_SLICE = 256 * 1024
QUIET = 0.010
MAX_LAG = 1.0
#: Output that never pauses for QUIET s is still shown to the agent: once every FOLLOW s the
#: oldest output is fed for up to FOLLOW_SHARE of that time (parsing costs 15-120 ms per MB,
#: by how much Python-side filtering the output needs), so a steady 1 MB/s reaches the agent
#: within about FOLLOW. Past FOLLOW_BACKLOG bytes waiting it is a flood (`cat` of a big file):
#: the terminal comes first, and the view moves every FLOOD_EVERY s with FLOOD_SHARE of it.
FOLLOW = 1 / 30
FOLLOW_SHARE = 0.3
FOLLOW_BACKLOG = 256 * 1024
FLOOD_EVERY = 0.2
FLOOD_SHARE = 0.05
MAX_BACKLOG = 32 * 1024 * 1024
#: Up to ``defer_below`` (PLAIN_DEFER_BELOW) bytes waiting are fed when the frame rate next
#: allows a frame, not at once (screen_fed: the same frames go, one feed a frame instead of one
#: per pty read), and the frame feeds what waits before it is polled (``feed_due``): at 1 MB/s
#: one feed a frame, so skip-ahead drops what scrolls through within the frame (customer CPU
#: at 1 MB/s 11.7 -> 6.9 %). In the app only the frame's own feed takes that much at once: a
#: pty read while the frame is free feeds at most ``burst_below`` (DEFER_BELOW, FEED_SLICE)
#: whole, more is a burst (a flood starting) and follows the flood rules. Feeding a flood's
#: first reads whole (5-6 feeds of 15-65 KB in its first 50 ms, and the pane's redraws of
#: what they showed) cost the customer app its own speed (bench/app_speed.py 0.74-0.83 of
#: bare, 7-7.5 ms of CPU per MB instead of 4-5: docs/benchmarks.md, sections cpu2, cpu3).
DEFER_BELOW = 4 * 1024
PLAIN_DEFER_BELOW = 128 * 1024
#: Skip-ahead (screen/skip.py): a flood's backlog is shortened to the lines the screen can
#: still show and fed at once when at most FOLLOW_FEED bytes are left; past TORRENT bytes
#: queued between two follows (~15 MB/s: `cat` of a big file) the view follows every
#: TORRENT_EVERY s, so the agent, the relay and the frames leave the CPU to the program and
#: the customer's terminal. Kept beyond the screen: redaction's context rows plus GROW_ROWS.
FOLLOW_FEED = 128 * 1024
TORRENT = 512 * 1024
TORRENT_EVERY = 0.5


class OutputFeed:
    """The queue between the program's output and the emulator (see the module doc)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, screen: ScreenSender, on_fed: Callable[[], None]) -> None:
        self._loop = loop
        self._screen = screen
        self._on_fed = on_fed  # the emulator took output: frames, followers
        self._backlog: deque[tuple[float, bytes]] = deque()  # (arrival time, output) not yet fed
        self._backlog_bytes = 0
        self._last_output = 0.0  # loop time of the last output
        self._feed_handle: asyncio.Handle | None = None
        self._deferred: asyncio.TimerHandle | None = None  # a feed waiting for the next frame (defer_below)
        #: Up to this many bytes waiting are fed with the next frame (PLAIN_DEFER_BELOW).
        self.defer_below = PLAIN_DEFER_BELOW
        #: Up to this many bytes a pty read's step feeds whole while the frame is free; more is
        #: a burst (a flood starting) and follows the flood rules. The app keeps DEFER_BELOW (a
        #: flood's first reads fed whole cost it its own speed: the pane redraws them); plain
        #: mode, with nothing to redraw, sets PLAIN_DEFER_BELOW, so that even a short flood
        #: shows the agent a few screens (bench/flood.py: 4 during its 0.25 s flood, 0 without).
        self.burst_below = DEFER_BELOW
        self._slice = FEED_SLICE
        self._followed = -math.inf  # when the view last followed a flood (FOLLOW)
        #: Lines that scroll through between two frames are not parsed (screen/skip.py).
        self.skip = SkipAhead(CONTEXT_ROWS + GROW_ROWS)
        self._unskipped = 0  # backlog bytes skip-ahead could not shorten enough, last time
        #: Largest backlog seen, in bytes (statistics, tests).
        self.max_backlog = 0
        #: Called when a deferred feed's time comes, instead of feeding here: whether it fed
        #: and sent the frame itself (io/customer.py: one callback a frame, no ticker pass).
        self.on_due: Callable[[], bool] | None = None

    def queue(self, data: bytes, now: float) -> bool:
        """Output the customer's terminal already got (at loop time ``now``): queue it. Whether
        nothing waited before it (its frame may show it alone: an echo)."""
        backlog = self._backlog
        fresh = not backlog
        backlog.append((now, data))
        size = self._backlog_bytes = self._backlog_bytes + len(data)
        self._last_output = now
        if size > self.max_backlog:
            self.max_backlog = size
        if size > MAX_BACKLOG or now - backlog[0][0] > MAX_LAG:
            self._feed(FEED_SLICE, older_than=now - MAX_LAG, keep=MAX_BACKLOG)  # the bound: pace the program
        if self._feed_handle is None and (self._deferred is None or self._backlog_bytes > self.defer_below):
            # (a feed already waits for the frame: nothing to decide before it, not even a
            # loop pass; a pty read a tick at 10 KB/s)
            if self._deferred is None and self._backlog_bytes <= self.defer_below and self._defer_feed():
                return fresh  # what _feed_step would decide first, without a loop pass for it
            self._feed_handle = self._loop.call_soon(self._feed_step)
        return fresh

    @property
    def pending(self) -> bool:
        """Whether output waits to be fed."""
        return bool(self._backlog)

    def _feed_step(self, for_frame: bool = False) -> None:
        """Feed what waits, defer it to the next frame, or follow a flood. ``for_frame``: the
        frame is due (the deferred feed, ``feed_due``), not a pty read: then up to
        ``defer_below`` is fed whole at once, else up to ``burst_below`` (FEED_SLICE at least)."""
        self._feed_handle = None
        if self._backlog_bytes <= self.defer_below and self._defer_feed():
            return
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None
        if self._backlog_bytes <= max(FEED_SLICE, self.defer_below if for_frame else self.burst_below):
            self._feed(math.inf)
            self._slice = FEED_SLICE
            return
        now = self._loop.time()
        quiet_for = now - self._last_output
        if quiet_for < QUIET:  # flooding: the terminal first, but the agent's view follows
            self._slice = FEED_SLICE
            every = FOLLOW if self._backlog_bytes < TORRENT else TORRENT_EVERY
            follow_at = max(self._backlog[0][0], self._followed) + every
            if now >= follow_at:
                self._followed = now
                if not self._follow():
                    flood = self._backlog_bytes > FOLLOW_BACKLOG
                    every = FLOOD_EVERY if flood else FOLLOW
                    stop = time.perf_counter() + (FLOOD_SHARE if flood else FOLLOW_SHARE) * every
                    while self._backlog and time.perf_counter() < stop:
                        self._feed(FEED_SLICE)
                    self._followed = now + every - FOLLOW
                follow_at = self._followed + FOLLOW
            if self._backlog:
                self._feed_handle = self._loop.call_later(min(QUIET - quiet_for, follow_at - now), self._feed_step)
            return
        if self._follow():
            return
        self._feed(self._slice)
        self._slice = min(2 * self._slice, MAX_SLICE)
        if self._backlog:
            self._feed_handle = self._loop.call_soon(self._feed_step)

    def _feed(self, minimum: float, older_than: float = -math.inf, keep: float = math.inf) -> None:
        """Feed the oldest queued chunks to the emulator in one batch: ``minimum`` bytes (rounded
        up to whole chunks), and more while the oldest arrived before ``older_than`` or more
        than ``keep`` bytes are queued."""
        backlog = self._backlog
        batch: list[bytes] = []
        taken = 0
        while backlog and (taken < minimum or backlog[0][0] < older_than or self._backlog_bytes > keep):
            data = backlog.popleft()[1]
            batch.append(data)
            taken += len(data)
            self._backlog_bytes -= len(data)
        if not backlog:
            self._unskipped = 0
        if batch:
            data = batch[0] if len(batch) == 1 else b"".join(batch)
            emu = self._screen.emulator
            self._fed(self.skip.shorten(data, emu.size[1], emu.scrolls_whole()))

    def _follow(self) -> bool:
        """Feed the whole backlog at once if skip-ahead leaves at most FOLLOW_FEED bytes of it;
        else queue what it left again (in slices, fed within the time budget) and say no."""
        backlog = self._backlog
        if self._backlog_bytes < 2 * self._unskipped:
            return False  # not twice what could not be shortened last time: keeps scans O(output)
        data = backlog[0][1] if len(backlog) == 1 else b"".join(chunk for _, chunk in backlog)
        emu = self._screen.emulator
        out, ground = self.skip.plan(data, emu.size[1], emu.scrolls_whole())
        if len(out) > FOLLOW_FEED:
            if len(out) < len(data):
                first = backlog[0][0]
                backlog.clear()
                backlog.extend((first, out[i : i + FEED_SLICE]) for i in range(0, len(out), FEED_SLICE))
                self._backlog_bytes = len(out)
            self._unskipped = len(out)
            return False
        backlog.clear()
        self._backlog_bytes = self._unskipped = 0
        self.skip.commit(data, out, ground)
        self._fed(out)
        return True

    def _fed(self, data: bytes) -> None:
        self._screen.feed(data)
        self._on_fed()

    def feed_pending(self) -> None:
        """Feed the whole backlog now (before a resize, before the last frame)."""
        self._feed(math.inf)

    def _defer_feed(self) -> bool:
        """Whether the (small) backlog waits for the next frame the rate allows: True with a
        feed planned then. A frame that may go now (an echo, after a pause) is fed at once."""
        now = self._loop.time()
        due = self._screen.ready_at(now)
        if due <= now:
            return False
        if self._deferred is None:
            self._deferred = self._loop.call_at(due, self._feed_deferred)
        return True

    def feed_due(self) -> None:
        """A frame is about to be polled: feed the output waiting for it (a deferred feed whose
        timer has not run yet), so the frame shows it rather than the next one."""
        if not self._backlog or self._backlog_bytes > self.defer_below:
            return  # nothing waits, or more (fed at its own pace)
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None
        if self._feed_handle is not None:
            self._feed_handle.cancel()
        self._feed_step(True)  # feeds it all when the frame may go now, else waits for it again

    @property
    def deferred(self) -> bool:
        """Whether a feed waits for the next frame (its timer set: ``_defer_feed``)."""
        return self._deferred is not None

    def _feed_deferred(self) -> None:
        self._deferred = None
        if self._backlog and self._feed_handle is None:
            on_due = self.on_due
            if on_due is not None and self._backlog_bytes <= self.defer_below and on_due():
                return
            self._feed_step(True)  # due now: fed at once (or, grown past defer_below, as usual)
