"""Screen state synchronisation, mosh style.

The customer side (:class:`ScreenSender`) feeds the program's output to an
emulator and, when polled, sends at most ``fps`` frames a second: a snapshot
when one is due (first frame, resize, resync), otherwise the rows that differ
from the last *sent* state. Output volume does not matter: a flood between two
polls costs one frame of at most the screen's size.

The agent side (:class:`ScreenMirror`) applies the frames to its copy.

No clock is read here: the caller passes ``now`` (seconds, any monotonic
origin) and asks :meth:`ScreenSender.next_deadline` when to poll again.
"""

from __future__ import annotations

from .diff import ScreenFrame, apply
from .emulator import Emulator
from .state import ScreenState

__all__ = ["ScreenSender", "ScreenMirror", "DEFAULT_FPS"]

DEFAULT_FPS = 30.0


class ScreenSender:
    """Customer side: emulator + dirty rows + frame-rate limited frames."""

    def __init__(self, cols: int = 80, rows: int = 24, *, fps: float = DEFAULT_FPS,
                 emulator: Emulator | None = None) -> None:
        if not fps > 0:
            raise ValueError("fps must be positive")
        self.emulator = emulator if emulator is not None else Emulator(cols, rows)
        self._interval = 1.0 / fps
        self._dirty: set[int] = set()
        self._sent: ScreenState | None = None
        self._force = True
        self._last: float | None = None

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
        if self._last is None:
            return now
        return max(now, self._last + self._interval)

    def poll(self, now: float) -> ScreenFrame | None:
        """A frame if something changed and the frame rate allows one, else None."""
        if self._last is not None and now < self._last + self._interval:
            return None
        emu = self.emulator
        sent = self._sent
        if self._force or sent is None:
            state = emu.state()
            self._force = False
            self._dirty.clear()
            self._sent = state
            self._last = now
            return ScreenFrame.of_state(state)
        cursor = emu.cursor()
        modes = emu.modes()
        changed: tuple = ()
        if self._dirty:
            dirty = sorted(self._dirty)
            self._dirty.clear()
            old = sent.rows
            changed = tuple((i, r) for i, r in emu.rows(dirty).items() if r != old[i])
        if not changed and cursor == sent.cursor and modes == sent.modes:
            return None  # changed and changed back: costs nothing
        frame = ScreenFrame(False, sent.size, cursor, modes, changed)
        self._sent = apply(sent, frame)
        self._last = now
        return frame


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
