"""QA's findings on the agent console at small sizes (fix8): the keys panel closes with Escape,
a toast never sits over the code card the agent reads to the customer, and the tab bar keeps
the front tab in view and says how many tabs are out of sight."""

from __future__ import annotations

from typing import Callable

import pytest
from textual.widgets import Tab, Tabs

from relay.server import RelayServer
from tests.tui.test_agent_app import Customer, customers, leave, new_session, paired_session  # noqa: F401 (a fixture)
from tests.tui.terminal_keys import press_key
from tests.waiting import until
from tui.agent_app import AgentApp
from tui.agent_tabbar import hidden_sides, mark_text

EMBEDDED = ("no relay configured: started an embedded relay on ws://127.0.0.1:8765 (customers on this machine "
            "join with the default; others need --relay)")


async def open_keys_panel(app: AgentApp, pilot: object) -> None:
    await pilot.press("ctrl+p")  # type: ignore[attr-defined]
    await pilot.press(*"help")  # type: ignore[attr-defined]
    await pilot.pause(0.3)  # type: ignore[attr-defined]
    await pilot.press("enter")  # type: ignore[attr-defined]
    await until(lambda: bool(app.screen.query("HelpPanel")), "the keys panel", pilot=pilot)


@pytest.mark.parametrize("size", [(40, 10), (80, 24)])
async def test_escape_closes_the_keys_panel_and_gives_the_session_back(
        relay: RelayServer, customers: Callable[[], Customer], size: tuple[int, int]) -> None:  # noqa: F811
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=size) as pilot:
        pane = await paired_session(pilot, customers())
        await until(lambda: pane.mirror.state is not None, "the customer's first screen", pilot=pilot)
        width = pane.mirror.content_region.width
        await open_keys_panel(app, pilot)
        await pilot.press("escape")
        await until(lambda: not app.screen.query("HelpPanel"), "the keys panel closed by Escape", pilot=pilot)
        await pilot.pause()
        assert pane.mirror.content_region.width == width
        assert app.current() is pane and pane.runtime is not None and not pane.ended  # Escape ended nothing
        await leave(app)


@pytest.mark.parametrize("size", [(40, 10), (60, 15), (80, 24), (200, 50)])
async def test_no_toast_covers_the_code_card(relay: RelayServer, size: tuple[int, int]) -> None:
    app = AgentApp(relay.url, None, "Alice", relay_note=EMBEDDED)
    async with app.run_test(size=size, notifications=True) as pilot:
        await until(lambda: bool(app.screen.query("Toast")), "the embedded relay's toast", pilot=pilot)
        pane = await new_session(pilot)  # within its 8 s
        await pilot.press("f5")  # "Copied ... to the clipboard": another toast, while the card shows
        await pilot.pause(0.3)
        card = [pane.query_one(part).region for part in ("#code-digits", "#code-command", "#code-asked")]
        assert all(region.height for region in card[:2])
        for toast in app.screen.query("Toast"):
            assert not any(toast.region.overlaps(region) for region in card), (toast.region, card)
        await leave(app)


def test_the_mark_counts_tabs_out_of_sight_on_each_side() -> None:
    tabs = [(0, 7), (7, 24), (24, 41), (41, 58)]  # Start and three sessions, scrolled to column 13
    assert hidden_sides(tabs, 13, 13 + 36) == (2, 1) and mark_text(2, 1) == "◂2 1▸"
    assert hidden_sides(tabs, 40, 76) == (3, 0)  # Start wholly out of sight is counted too
    assert hidden_sides(tabs[2:3], 13, 49) == (0, 0) and mark_text(0, 0) == ""


async def test_the_tab_bar_keeps_the_front_tab_and_says_more_are_there(relay: RelayServer) -> None:
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=(40, 10)) as pilot:
        for _ in range(3):
            await new_session(pilot)
        bar = app.tabs.query_children(Tabs).first()
        mark = bar.query_one("#tabs-mark")
        scroll = bar.query_one("#tabs-scroll")

        def shown(tab: Tab) -> bool:  # wholly within the columns the bar shows
            start, end = tab.virtual_region.column_span
            return scroll.scroll_x <= start and end <= scroll.scroll_x + scroll.size.width

        def front_whole() -> bool:
            return bar.active_tab is not None and shown(bar.active_tab)

        def told() -> bool:  # the mark counts exactly the tabs not wholly in the bar
            hidden = sum(1 for tab in bar.query(Tab) if not shown(tab))
            counts = [int(part.strip("◂▸")) for part in str(mark.render()).split()] if mark.display else []
            return hidden > 0 and sum(counts) == hidden

        fronts = set()
        for _ in range(5):  # every tab in front at least once, Start among them
            await pilot.press("f6")
            await until(lambda: front_whole() and told(), "the front tab whole, the others counted", pilot=pilot)
            fronts.add(bar.active)
        assert "--content-tab-home" in fronts and len(fronts) == 4
        await leave(app)


async def test_while_typing_escape_is_the_customers_even_with_the_keys_panel_open(
        relay: RelayServer, customers: Callable[[], Customer]) -> None:  # noqa: F811
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=(80, 24)) as pilot:
        customer = customers()
        pane = await paired_session(pilot, customer)
        await press_key(pilot, "F4")
        await until(lambda: customer.of("consent_prompt"), "the customer's consent prompt", pilot=pilot)
        await customer.runtime.run_command("allow")  # an unverified agent: the tripwire's first press
        await customer.runtime.run_command("allow")
        await until(lambda: pane.consent == "control", "consent: control", pilot=pilot)
        await open_keys_panel(app, pilot)
        await press_key(pilot, "F12")
        assert pane.typing
        await pilot.press("escape")
        await until(lambda: bytes(customer.program_input) == b"\x1b", "Escape at the customer's pty", pilot=pilot)
        assert app.screen.query("HelpPanel")
        await leave(app)


async def test_a_notice_while_the_card_shows_on_a_short_console_goes_to_the_chat_log(relay: RelayServer) -> None:
    app = AgentApp(relay.url, None, "Alice", relay_note=EMBEDDED)
    async with app.run_test(size=(60, 15), notifications=True) as pilot:
        pane = await new_session(pilot)
        app.notify("the customer said \x1b[2J hello", title="Wrong code tried", severity="warning")
        await pilot.pause()
        assert not app.screen.query("Toast")
        text = pane.chat_log.plain()
        assert "Wrong code tried: the customer said \\x1b[2J hello" in text and "\x1b" not in text
        await leave(app)
