"""The facts box at 80×24: its rows hold its facts and no more, so a fact that wrapped pushed
the last ones (the traffic in and out) out of sight. Each is cut to one row there."""

from __future__ import annotations

from typing import Callable

from relay.server import RelayServer
from tests.tui.test_agent_app import Customer, customers, paired_session
from tests.tui.test_agent_team_panel import screen_text
from tui.agent_app import AgentApp
from tui.agent_facts import one_row_each

__all__ = ["customers"]


def test_a_fact_past_the_width_is_cut_with_an_ellipsis() -> None:
    text = "code      1-2345-6789\nteam      2 agents · invite 9:52\nyou       全角の名前です"
    assert one_row_each(text, 30).split("\n") == [
        "code      1-2345-6789", "team      2 agents · invite 9…", "you       全角の名前です"]
    assert one_row_each("you       全角の名前です名前", 22) == "you       全角の名前…"
    assert one_row_each(text, 0) == text  # not laid out yet


async def test_every_fact_stays_in_sight_at_80x24(relay: RelayServer, customers: Callable[[], Customer]) -> None:
    customer = customers()
    alice = AgentApp(relay.url, None, "Alice")
    async with alice.run_test(size=(80, 24)) as pilot:
        pane = await paired_session(pilot, customer)
        pane.customer_name = "Bartholomew Featherstonehaugh-Smythe of Accounts"
        pane._render_facts()
        await pilot.pause(0.2)
        shown = screen_text(alice)
        assert "customer  Bartholomew Feath" in shown and "…" in shown, shown
        for label in ("code ", "customer ", "you ", "path ", "relay ", "link ", "in ", "out "):
            assert any(line.strip("│ ").startswith(label) for line in shown.splitlines()), (label, shown)
        await alice.end_all()
