"""The frame interval the link allows, after mosh's SSP (transportsender: ``send_interval``).

Screen frames sent faster than half a round trip pile up in flight: the agent sees none of
them sooner, and each costs the customer CPU (fetch, redact, diff, seal) and the link bytes.
mosh sends at most one frame per SRTT/2, clamped to [20 ms, 250 ms]; :class:`LinkPace`
gives that interval (0 until a round trip is known), and ``ScreenSender`` keeps the slower
of it and its own frame rate. The round trip comes from sealed pings answered by the peer
through the relay: untrusted timing, so a sample that is not a number, is negative or is
implausibly long is ignored (mosh ignores samples of 5 s and more: a suspended peer), and
whatever the samples, the interval never exceeds MAX_INTERVAL: frames slow, never stop.
Queueing on a link too slow for the frames shows as a longer round trip (the pings wait
behind the frames), so the same rule slows frames on a thin link as on a long one (bench/
pace_link.py: 1.2 KB/s toward the agent, 1 MB/s of output: 5 frames/s and a 0.25 s view
instead of 15 frames/s, retransmissions and a view 15 s behind).

When frames change path (the relay and the direct data channel: voice/path.py), the old path's
round trip says nothing of the new one's, and at a gain of 1/8 the average keeps it for many
samples (from a 300 ms path to a 5 ms one, 7 samples, 14 s of pings, before frames go at the
steady rate again): :meth:`LinkPace.reset` forgets it at once, and the runtime pings on the new
path straight away, whose first sample then seeds the average as the very first did.
"""

from __future__ import annotations

__all__ = ["GAIN", "LinkPace", "MAX_INTERVAL", "MAX_SAMPLE"]

#: mosh's SEND_INTERVAL_MAX: at least 4 frames a second, however slow the link says it is.
MAX_INTERVAL = 0.25
#: Samples this long or longer are ignored (mosh: "e.g. server was Ctrl-Zed").
MAX_SAMPLE = 5.0
#: The weight of a new sample in the smoothed round trip (TCP's and mosh's alpha, RFC 6298).
GAIN = 1.0 / 8.0


class LinkPace:
    """The smoothed round trip (SRTT) of the link and the frame interval it allows."""

    def __init__(self) -> None:
        self.srtt: float | None = None

    def sample(self, seconds: float) -> bool:
        """Take one measured round trip, in seconds; False (and nothing changes) if it is
        not plausible."""
        if not 0.0 <= seconds < MAX_SAMPLE:  # NaN fails the comparison too
            return False
        srtt = self.srtt
        self.srtt = seconds if srtt is None else srtt + GAIN * (seconds - srtt)
        return True

    def reset(self) -> None:
        """Forget the round trip (frames changed path): until the next sample, no interval
        (the sender's own rate), and that sample is taken as it is."""
        self.srtt = None

    @property
    def interval(self) -> float:
        """The shortest time between two frames the link makes worth it (0: none known)."""
        srtt = self.srtt
        return 0.0 if srtt is None else min(srtt / 2.0, MAX_INTERVAL)
