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

import gc
from typing import Callable

import pytest
from textual.geometry import Region

from relay.server import RelayServer
from tests.tui.test_agent_app import Customer, customers, mirror_text, paired_session  # noqa: F401  (the fixture)
from tests.waiting import until
from tui.agent_app import AgentApp
from tui.agent_facts import facts_resized
from tui.safe import PlainStatic


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


def spy_refresh(widget: object, calls: list[tuple[tuple[Region, ...], bool]]) -> None:
    """Record each ``refresh`` of ``widget`` (its regions, whether it asks for a layout) and do it."""
    real = widget.refresh  # type: ignore[attr-defined]

    def refresh(*regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> object:
        calls.append((regions, layout))
        return real(*regions, repaint=repaint, layout=layout, recompose=recompose)

    widget.refresh = refresh  # type: ignore[attr-defined]


async def test_a_frame_repaints_its_rows_and_the_facts_no_layout(relay: RelayServer,
                                                                 customers: Callable[[], Customer]) -> None:
    app = AgentApp(relay.url, None, "Alice")
    frozen_before = gc.get_freeze_count()
    async with app.run_test(size=(140, 45)) as pilot:
        customer = customers()
        pane = await paired_session(pilot, customer)
        customer.runtime.program_output(b"$ first\r\n$ ")
        await until(lambda: "$ first" in mirror_text(pane), "the first screen", pilot=pilot)
        await pilot.pause()
        await until(lambda: gc.get_freeze_count() > frozen_before, "the console's objects frozen", pilot=pilot)

        mirror, facts = pane.mirror, pane.query_one("#facts", PlainStatic)
        mirror_calls: list[tuple[tuple[Region, ...], bool]] = []
        facts_calls: list[tuple[tuple[Region, ...], bool]] = []
        spy_refresh(mirror, mirror_calls)
        spy_refresh(facts, facts_calls)
        customer.runtime.program_output(b"second\r\n$ ")
        await until(lambda: "second" in mirror_text(pane), "the next screen", pilot=pilot)
        assert mirror_calls, "the mirror was not repainted"
        for regions, layout in mirror_calls:
            assert regions and not layout, mirror_calls  # its rows, never the whole widget
            assert all(region.height < mirror.size.height for region in regions), mirror_calls

        assert all(not layout for _, layout in facts_calls), facts_calls  # its own sampling meanwhile
        pane.rate_in, pane.rate_out = 123_456.0, 7.0  # what _sample sets every second
        before = facts.content
        facts_calls.clear()
        pane._render_facts()
        assert facts.content != before and facts_calls == [((), False)], facts_calls
        assert "123.5 kB/s" in str(facts.content)
    assert gc.get_freeze_count() == 0  # the pane's objects are the collector's again
