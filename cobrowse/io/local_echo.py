"""The agent's predictive local echo, on the event loop: a :class:`~cobrowse.screen.predict.Predictor`
fed with the mirrored screens and the keys sent, and a timer so a prediction the customer's
screen never confirms is taken back on time even when no frame comes.

The agent runtime owns one (``AgentRuntime.local_echo``; None when ``--no-predict`` or the
config file's ``predict = false``). The headless ``screen`` event carries its overlay as
``predicted`` (docs/headless.md); the console's RemoteScreen draws it underlined.
"""

from __future__ import annotations

import asyncio
from typing import Callable

from cobrowse.screen.predict import Display, Overlay, Predictor
from cobrowse.screen.state import ScreenState

__all__ = ["LocalEcho"]


class LocalEcho:
    """``changed()`` is called whenever what the agent should see changed without a new frame
    (a key was predicted, a prediction expired)."""

    def __init__(self, clock: Callable[[], float], changed: Callable[[], None],
                 display: Display = Display.ADAPTIVE) -> None:
        self.predictor = Predictor(display=display)
        self._clock = clock
        self._changed = changed
        self._timer: asyncio.TimerHandle | None = None

    def overlay(self) -> Overlay | None:
        return self.predictor.overlay()

    def predicted(self) -> dict[str, object] | None:
        """The headless ``predicted`` value, or None when nothing is predicted on screen."""
        overlay = self.predictor.overlay()
        return overlay.as_json() if overlay is not None else None

    def screen(self, state: ScreenState, ack: int | None = None) -> bool:
        """A new mirrored screen and its frame's echo ack (the caller shows it, with
        :meth:`overlay`); whether the overlay changed."""
        changed = self.predictor.screen(state, self._clock(), ack)
        self._arm()
        return changed

    def keys(self, data: str) -> bool:
        """``data`` goes to the customer's terminal (one keys message); whether that message
        should ask for an echo ack (``m.Keys.want_ack``, ``Predictor.wants_ack``)."""
        if self.predictor.key(data, self._clock()):
            self._changed()
        self._arm()
        return self.predictor.wants_ack

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self) -> None:
        if self._timer is not None or not self.predictor.pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._timer = loop.call_later(0.25, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if self.predictor.tick(self._clock()):
            self._changed()
        self._arm()
