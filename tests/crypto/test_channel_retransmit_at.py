"""``SecureChannel.retransmit_at``: the ticker sleeps until it (frames sent from a callback no
longer keep it at its busy pace), so it must be exactly when ``retransmit_due`` next gives a
frame: never later (a lost frame would wait), never earlier than something is due (a pass for
nothing, or a loop spinning on a past deadline)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cobrowse.crypto.channel import SecureChannel

K_AB = bytes(range(32))
K_BA = bytes(range(32, 64))


def test_nothing_in_flight_no_deadline() -> None:
    a = SecureChannel(K_AB, K_BA, retransmit_after=2.0)
    assert a.retransmit_at() is None
    b = SecureChannel(K_BA, K_AB, retransmit_after=2.0)
    frame = a.seal(b"x", 10.0)
    assert frame is not None
    assert a.retransmit_at() == 12.0
    b.open(frame, 10.1)
    a.open(b.ack(), 10.2)
    assert a.retransmit_at() is None  # acknowledged: nothing to wake for


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["seal", "tick"]), st.floats(0.0, 5.0)), min_size=1, max_size=30))
def test_the_deadline_is_when_the_first_retransmission_comes(steps: list[tuple[str, float]]) -> None:
    a = SecureChannel(K_AB, K_BA, retransmit_after=2.0, max_tries=50)
    now = 0.0
    for i, (what, dt) in enumerate(steps):
        now += dt
        if what == "seal":
            a.seal(b"%d" % i, now)
        else:
            a.retransmit_due(now)
        at = a.retransmit_at()
        if at is None:
            assert a.unacked_bytes() == 0
            continue
        assert at > now or a.retransmit_due(now)  # a past deadline has its frames due at once
        at = a.retransmit_at()
        assert at is not None
        assert a.retransmit_due(at - 1e-6) == []
        assert a.retransmit_due(at) != []
        now = max(now, at)
