"""A console only 10 to 19 rows high: the narrow layout's side panel kept its 10 rows, so at
60×15 and 40×10 the mirror had no row left for the customer's screen (its border only, seen
in tmux). Now the side panel shrinks to the chat's last lines and its input, and below 13 rows
the mirror drops its border: some of the customer's screen shows, and the chat still works."""

from __future__ import annotations

from typing import Callable

import pytest
from textual.widgets import Input

from relay.server import RelayServer
from tests.tui.test_agent_app import Customer, customers, leave, paired_session  # noqa: F401 (a fixture)
from tests.waiting import until
from tui.agent_app import AgentApp


@pytest.mark.parametrize("size, rows", [((40, 10), 2), ((60, 15), 4), ((80, 24), 7), ((200, 50), 24)])
async def test_a_short_console_shows_the_customers_screen_and_the_chat(
        relay: RelayServer, customers: Callable[[], Customer], size: tuple[int, int], rows: int) -> None:  # noqa: F811
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=size) as pilot:
        customer = customers()
        pane = await paired_session(pilot, customer)
        await until(lambda: pane.mirror.state is not None, "the customer's first screen", pilot=pilot)
        await pilot.pause()
        assert pane.mirror.content_region.height >= rows
        assert pane.mirror.content_region.width >= min(size[0], 80) - 2
        chat = pane.query_one("#chat-input", Input)
        assert chat.region.height == 1 and chat.region.bottom <= size[1] - 1  # above the footer
        chat.focus()
        await pilot.pause()
        chat.value = "can you see this?"
        await pilot.press("enter")
        await until(lambda: customer.of("chat"), "the agent's chat at the customer", pilot=pilot)
        assert customer.of("chat")[0]["text"] == "can you see this?"
        await leave(app)


@pytest.mark.parametrize("size, rows", [((40, 10), 3), ((60, 15), 5)])
async def test_a_short_console_shows_the_team_and_the_steps(
        relay: RelayServer, customers: Callable[[], Customer], size: tuple[int, int], rows: int) -> None:  # noqa: F811
    """The team and steps tabs had a border in the 2-row side panel: no row inside it."""
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=size) as pilot:
        pane = await paired_session(pilot, customers())
        for tab, inner in (("team-tab", "#team"), ("steps-tab", "#steps")):
            pane.show_side(tab)
            await pilot.pause()
            box = pane.query_one(inner)
            assert box.content_region.height >= rows, (tab, box.content_region)
            assert pane.mirror.content_region.height >= 1
        await leave(app)
