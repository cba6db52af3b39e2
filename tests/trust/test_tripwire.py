"""The control gate: warn, cool down, then a second deliberate press grants."""

from __future__ import annotations

from cobrowse.trust import ControlGate


def test_first_press_arms_second_too_soon_waits_then_opens() -> None:
    gate = ControlGate(cooldown=5, window=60)
    first = gate.press(100.0)
    assert first.state == "armed" and first.wait == 5
    too_soon = gate.press(103.0)
    assert too_soon.state == "wait" and too_soon.wait == 2.0
    assert gate.press(105.0).state == "open"
    assert not gate.armed  # used up: the next grant starts over
    assert gate.press(106.0).state == "armed"


def test_a_press_after_the_window_starts_over() -> None:
    gate = ControlGate(cooldown=5, window=60)
    gate.press(0.0)
    assert gate.press(65.1).state == "armed"
    assert gate.press(66.0).state == "wait"


def test_reset_forgets_the_first_press() -> None:
    gate = ControlGate(cooldown=5, window=60)
    gate.press(0.0)
    gate.reset()
    assert gate.press(10.0).state == "armed"
