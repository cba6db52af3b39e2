"""The customer app's pane: its own frame rate follows the agent's (tui/customer_run.py)."""

from __future__ import annotations

import math

from cobrowse.screen.sync import KEY_HOLD, STEADY_FPS
from tui.customer_run import PANE_FPS, pane_interval


def test_streaming_output_is_drawn_at_the_steady_rate() -> None:
    assert pane_interval(True, math.inf) == 1.0 / STEADY_FPS
    assert pane_interval(True, KEY_HOLD) == 1.0 / STEADY_FPS


def test_output_that_is_not_steady_is_drawn_at_the_full_rate() -> None:
    assert pane_interval(False, math.inf) == 1.0 / PANE_FPS


def test_a_key_the_customer_typed_brings_the_full_rate_back_while_it_is_recent() -> None:
    assert pane_interval(True, 0.0) == 1.0 / PANE_FPS
    assert pane_interval(True, KEY_HOLD / 2) == 1.0 / PANE_FPS
    assert 1.0 / PANE_FPS < 1.0 / STEADY_FPS  # the steady rate is the slower one
