"""What the apps do with levels: the meters people see and the echo gate. Pure and without
numpy, so a session that never calls loads nothing heavy."""

from __future__ import annotations

import math

SILENCE_DB = -90.0
METER_FLOOR_DB = -60.0


def meter(db: float) -> float:
    """A level for a bar meter, 0..1 over the speech range (-60 dBFS .. 0)."""
    return min(1.0, max(0.0, (db - METER_FLOOR_DB) / -METER_FLOOR_DB))


class EchoGate:
    """Half-duplex echo suppression for calls without headsets.

    There is no acoustic echo canceller here: when the far side's voice is playing on our
    speaker (and for a short hang-over after), our microphone is attenuated unless the local
    person is clearly louder (double talk), so the far side does not hear itself back."""

    def __init__(self, *, threshold_db: float = -45.0, hangover_s: float = 0.25,
                 attenuation: float = 0.05, double_talk_db: float = 12.0) -> None:
        self.threshold_db = threshold_db
        self.hangover_s = hangover_s
        self.attenuation = attenuation
        self.double_talk_db = double_talk_db
        self._far_until = -math.inf
        self._far_db = SILENCE_DB

    def far(self, db: float, now: float) -> None:
        """The level of what we just played (the far side's voice)."""
        if db >= self.threshold_db:
            self._far_until = now + self.hangover_s
            self._far_db = db

    def gain(self, near_db: float, now: float) -> float:
        """The gain to apply to the microphone frame measured at ``near_db``."""
        if now > self._far_until or near_db >= self._far_db + self.double_talk_db:
            return 1.0
        return self.attenuation
