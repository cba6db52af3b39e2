"""The customer's side of echo acks (``m.Screen.ack``, docs/protocol.md §4), without I/O: which
ack a screen read now may carry, and when a frame goes for an ack alone.

Acks ride on every frame that goes anyway. A frame for the ack alone (an empty diff) costs
agent, customer and relay a frame, so it goes only for a keys message that asked for one
(``m.Keys.want_ack``: the agent's predictions wait on it; an agent from before never asks).
At most one such frame per keys message, whatever the agent sets: each acks every keys
message received, and the next needs a new one that asked.
"""

from __future__ import annotations

import math

from cobrowse.protocol import messages as m

__all__ = ["ACK_SETTLE", "EchoAcks"]

#: A frame acks the agent's keys once the last one went to the program this long before the
#: screen was read, none since: the program's echo has come by then (mosh waits 50 ms; a
#: typist's keys come 50-110 ms apart).
ACK_SETTLE = 0.04


class EchoAcks:
    def __init__(self) -> None:
        self.keys_in = 0  # the agent's keys messages received (acks count them)
        self.last = -math.inf  # when the last one came
        self.acked = 0  # the last ack sent
        self.wanted = 0  # the last keys message that asked for an ack
        self.alone_sent = 0  # frames sent for an ack alone

    def key(self, message: m.Keys, now: float) -> float | None:
        """A keys message came; when a frame for its ack alone may be due (None: not asked)."""
        self.keys_in += 1
        self.last = now
        if message.want_ack is True:
            self.wanted = self.keys_in
            return now + ACK_SETTLE
        return None

    def ack(self, now: float) -> int | None:
        """The ack a screen read now may carry, exactly: None while the last keys message is
        more recent than ACK_SETTLE."""
        return self.keys_in if now - self.last >= ACK_SETTLE else None

    def take(self, now: float) -> int | None:
        """The ack for a frame going now (remembered as sent)."""
        ack = self.ack(now)
        if ack is not None:
            self.acked = ack
        return ack

    def alone_due(self, now: float) -> bool:
        """Whether a frame should go now for its ack alone (no other frame goes)."""
        return self.wanted > self.acked and self.ack(now) is not None

    def deadline(self, now: float) -> float | None:
        """When a frame for an asked ack will be due, if later than now."""
        if self.wanted > self.acked and (due := self.last + ACK_SETTLE) > now:
            return due
        return None
