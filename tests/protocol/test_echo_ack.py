"""The screen message's echo ack (``m.Screen.ack``, issue 17): optional both ways."""

from __future__ import annotations

import json

import pytest

from cobrowse.protocol import messages as m

pytestmark = pytest.mark.pure

FRAME = {"s": 1}


def test_the_ack_goes_only_when_said_and_comes_back_as_sent() -> None:
    assert m.Screen(FRAME).to_json() == {"t": "screen", "frame": FRAME}  # as older customers send it
    assert m.decode(m.encode(m.Screen(FRAME, 7))) == m.Screen(FRAME, 7)
    assert m.decode(m.encode(m.Screen(FRAME))).ack is None


def test_an_ack_of_the_wrong_type_is_a_malformed_frame() -> None:
    for bad in ("7", 7.0, True, [7]):
        payload = bytes([m.PLAIN]) + json.dumps({"t": "screen", "frame": FRAME, "ack": bad}).encode()
        with pytest.raises(m.MalformedPayload):
            m.decode(payload)


def test_want_ack_goes_only_when_true_and_must_be_a_boolean() -> None:
    assert m.Keys("a").to_json() == {"t": "keys", "data": "a"}  # as agents from before send it
    assert m.decode(m.encode(m.Keys("\t", True)), m.FROM_AGENT) == m.Keys("\t", True)
    assert m.decode(bytes([m.PLAIN]) + b'{"t":"keys","data":"a"}', m.FROM_AGENT) == m.Keys("a")
    for bad in (1, "true", None, [True], 0):
        payload = bytes([m.PLAIN]) + json.dumps({"t": "keys", "data": "a", "want_ack": bad}).encode()
        with pytest.raises(m.MalformedPayload):
            m.decode(payload, m.FROM_AGENT)
