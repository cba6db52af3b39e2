"""What a customer's frame costs the agent console beyond its own rows (issue 17: a 200x50
screen under 1 MB/s held the console's loop in stalls of p99 15.8 ms, up to 248 ms).

* The facts box (rates change every second) is repainted without a layout of the whole
  console while its height cannot change.
* Once a session's first screen is drawn, what the console built up to then is out of the
  collector's full scans (a full collection walking its ~200,000 objects was the 125-260 ms
  stall); the session pane's going gives it back.
* A frame repaints the mirror's changed rows only, never the whole widget.
A real relay and a real customer runtime in this process; no timing is asserted."""

from __future__ import annotations

import pytest

from tui.agent_facts import facts_resized


FACTS = "code      123\nin        1.2 kB/s (3.4 kB)\nout       0 B/s (0 B)"


@pytest.mark.pure
def test_the_facts_box_is_laid_out_only_when_its_height_may_change() -> None:
    same_height = FACTS.replace("1.2 kB/s (3.4 kB)", "999.9 kB/s (123.4 MB)")
    assert not facts_resized(FACTS, same_height, 36)
    assert facts_resized(FACTS, FACTS + "\nrecord    ● RECORDING", 36)  # one line more
    assert facts_resized(FACTS + "\nrecord    ● RECORDING", FACTS, 36)  # one fewer
    assert facts_resized(FACTS, same_height, 25)  # a line that wraps at this width
    assert facts_resized(FACTS.replace("123", "x" * 40), FACTS, 36)  # one that wrapped before
    assert facts_resized(FACTS, FACTS, 0)  # not laid out yet
    assert facts_resized(None, FACTS, 36)

