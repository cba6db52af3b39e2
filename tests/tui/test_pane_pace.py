"""The customer app's pane: its own frame rate follows the agent's, its state is the emulator's
(tui/customer_run.py)."""

from __future__ import annotations

import math
import os

from hypothesis import HealthCheck, given, settings

from cobrowse.screen import Emulator
from cobrowse.screen.sync import KEY_HOLD, STEADY_FPS
from tests.screen.streams import sizes, split_stream
from tui.customer_run import PANE_FPS, pane_interval, pane_state


def test_streaming_output_is_drawn_at_the_steady_rate() -> None:
    assert pane_interval(True, math.inf) == 1.0 / STEADY_FPS
    assert pane_interval(True, KEY_HOLD) == 1.0 / STEADY_FPS


def test_output_that_is_not_steady_is_drawn_at_the_full_rate() -> None:
    assert pane_interval(False, math.inf) == 1.0 / PANE_FPS


def test_a_key_the_customer_typed_brings_the_full_rate_back_while_it_is_recent() -> None:
    assert pane_interval(True, 0.0) == 1.0 / PANE_FPS
    assert pane_interval(True, KEY_HOLD / 2) == 1.0 / PANE_FPS
    assert 1.0 / PANE_FPS < 1.0 / STEADY_FPS  # the steady rate is the slower one


@settings(max_examples=int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "150")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(stream=split_stream(), size=sizes, more=split_stream())
def test_the_pane_s_state_is_the_emulator_s(stream: tuple[bytes, list[bytes]], size: tuple[int, int],
                                           more: tuple[bytes, list[bytes]]) -> None:
    """The pane's rows come from Emulator.rows (cut from a dump): exactly Emulator.state(),
    frame after frame (rows kept from the last frame, new ones cut), whatever the stream."""
    emu = Emulator(*size)
    for chunks in (stream[1], more[1]):
        for chunk in chunks:
            emu.feed(chunk)
            assert pane_state(emu) == emu.state()


def test_the_pane_s_state_of_a_scrolling_log() -> None:
    emu = Emulator(60, 8)
    for n in range(40):
        emu.feed(f"\x1b[{31 + n % 7}mline {n}\x1b[0m {'x' * (n % 50)} end\r\n".encode())
        if n % 3 == 0:
            assert pane_state(emu) == emu.state()
    assert pane_state(emu) == emu.state()
