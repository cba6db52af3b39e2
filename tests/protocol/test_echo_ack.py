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
