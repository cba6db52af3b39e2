"""The path policy, the session's resend after a path change, and the audio measures."""

from __future__ import annotations

import os

import pytest

from cobrowse.crypto.channel import ACK, DATA
from cobrowse.protocol import messages as m
from cobrowse.protocol.messages import MalformedPayload
from cobrowse.protocol.session import Received, Session
from cobrowse.voice.level import EchoGate, correlation, dominant_frequency, level_db, meter, scale, tone, tone_power
from cobrowse.voice.path import PathPolicy
from cobrowse.wire.code import Code

RATE = 48000


def test_path_goes_direct_then_falls_back_for_good() -> None:
    policy = PathPolicy()
    assert policy.route(bytes([DATA])) == "relay"
    policy.direct_open()
    assert policy.route(bytes([DATA])) == "direct"
    assert policy.route(bytes([ACK])) == "direct"
    assert policy.route(bytes([0x01])) == "relay"  # handshake frames always via the relay
    assert policy.direct_lost("closed") is True
    assert policy.route(bytes([DATA])) == "relay"
    policy.direct_open()  # a late open after the fall back does not switch again
    assert policy.path == "relay"
    assert [(c.path, c.reason) for c in policy.changes()] == [("direct", "data channel open"), ("relay", "closed")]


def test_a_retransmission_on_the_direct_path_means_it_stalled() -> None:
    policy = PathPolicy()
    assert policy.retransmitted(3) is False  # on the relay, retransmissions are just recovery
    policy.direct_open()
    assert policy.retransmitted(0) is False
    assert policy.retransmitted(1) is True
    assert policy.path == "relay"


def test_disabled_policy_never_goes_direct() -> None:
    policy = PathPolicy(enabled=False)
    policy.direct_open()
    assert policy.path == "relay" and policy.changes() == []


def paired_sessions() -> tuple[Session, Session]:
    code = Code("12", "34567890")
    a, b = Session("agent", code, os.urandom), Session("customer", code, os.urandom)
    a.peer_joined(0.0)
    b.peer_joined(0.0)
    for _ in range(5):
        for src, dst in ((a, b), (b, a)):
            for frame in src.data_to_send():
                dst.receive_data(frame, 0.0)
    assert a.state == b.state == "paired"
    a.events_received(), b.events_received()
    return a, b


def test_path_change_recovers_frames_lost_in_flight_exactly_once() -> None:
    a, b = paired_sessions()
    for i in range(5):
        a.send(m.Chat(f"{i}"), 1.0)
    frames = a.data_to_send()
    for frame in frames[:2]:  # frames 3..5 die with the direct path
        b.receive_data(frame, 1.0)
    b.path_changed()
    for frame in b.data_to_send():
        a.receive_data(frame, 1.1)
    for frame in a.data_to_send():  # the resend, over the relay
        b.receive_data(frame, 1.2)
    for frame in frames[2:4]:  # and two late copies that did make it after all
        b.receive_data(frame, 1.3)
    got = [e.message.text for e in b.events_received() if isinstance(e, Received)]
    assert got == ["0", "1", "2", "3", "4"]


def test_rtc_and_call_messages_are_validated() -> None:
    offer = m.Rtc("data", "offer", "v=0\r\n")
    assert m.decode(m.encode(offer)) == offer
    assert m.decode(m.encode(m.Call("mute"))) == m.Call("mute")
    for bad in ({"t": "rtc", "pc": "video", "kind": "offer", "sdp": "x"},
                {"t": "rtc", "pc": "data", "kind": "pranswer", "sdp": "x"},
                {"t": "rtc", "pc": "data", "kind": "offer", "sdp": ""},
                {"t": "rtc", "pc": "data", "kind": "offer", "sdp": "x" * 40000},
                {"t": "call", "action": "record"}):
        import json
        with pytest.raises(MalformedPayload):
            m.decode(b"\x00" + json.dumps(bad).encode())


def test_levels_tones_and_meters() -> None:
    loud = tone(440, RATE, 960, amplitude=0.5)
    assert -10 < level_db(loud) < -8  # a 0.5 sine: -9 dBFS
    assert level_db(bytes(1920)) == -90.0
    assert meter(-90) == 0 and meter(0) == 1 and 0.4 < meter(-30) < 0.6
    assert abs(dominant_frequency(tone(440, RATE, 4800), RATE) - 440) < 15
    assert tone_power(loud, 440, RATE) > 0.9
    assert tone_power(loud, 1000, RATE) < 0.05
    assert scale(loud, 0.0) == bytes(len(loud))
    assert level_db(scale(loud, 0.1)) == pytest.approx(level_db(loud) - 20, abs=0.2)


def test_correlation_finds_the_same_signal_later() -> None:
    import numpy as np

    rng = np.random.default_rng(1)
    envelope = np.repeat(rng.random(100), 480)  # 1 s of "speech rhythm"
    speech = (np.sin(np.arange(envelope.size) * 0.3) * envelope * 20000).astype("<i2").tobytes()
    delayed = bytes(2 * 4800) + speech  # 100 ms later
    score, lag = correlation(speech, delayed, RATE)
    assert score > 0.8 and lag == pytest.approx(0.1, abs=0.011)
    other = (rng.standard_normal(48000) * 3000).astype("<i2").tobytes()
    assert correlation(speech, other, RATE)[0] < 0.5


def test_echo_gate_attenuates_the_mic_while_the_far_side_plays() -> None:
    gate = EchoGate(hangover_s=0.25)
    assert gate.gain(-30, 0.0) == 1.0
    gate.far(-20, 1.0)
    assert gate.gain(-35, 1.1) < 0.1  # echo of the far side: suppressed
    assert gate.gain(-5, 1.1) == 1.0  # the local person clearly louder: double talk passes
    assert gate.gain(-35, 1.3) == 1.0  # after the hang-over


def test_retry_allows_one_more_direct_attempt_after_a_fall_back() -> None:
    policy = PathPolicy()
    assert policy.retry() is False  # nothing failed yet
    policy.direct_open()
    policy.direct_lost("closed")
    assert policy.attempts == 1 and policy.retry() is True and policy.attempts == 2
    policy.direct_open()
    assert policy.path == "direct"
    assert PathPolicy(enabled=False).retry() is False
