"""Several open invitation codes in the console's Team tab (tui/agent_team.py, docs/team.md "The
console"): at 80×24 the tab has 6 rows, and two codes with the agents overflow it. Every code
stays reachable with keys a terminal sends (Tab to the list, ↑/↓ pick a code, PgUp/PgDn scroll),
the picked code's whole command is in sight, and ``c`` copies it. What is checked is the screen
as composited for the terminal (scrolling and clipping included), cut to the tab's box."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from cobrowse.io.customer_team import CustomerTeam
from cobrowse.policy.agent_events import InviteReady
from relay.server import RelayServer
from tests.tui.terminal_keys import press_key, type_bytes
from tests.tui.test_agent_app import Customer, customers, paired_session
from tests.tui.test_agent_team_panel import wait
from tests.waiting import WaitTimedOut
from tui.agent_app import AgentApp, SessionPane

__all__ = ["customers"]

KEYS = {"tab": b"\t", "up": b"\x1b[A", "down": b"\x1b[B", "pgup": b"\x1b[5~", "pgdn": b"\x1b[6~"}  # xterm's


def in_the_tab(app: Any) -> str:
    """The rows of the Team tab's box on the screen as the terminal gets it, as words."""
    box = app.query_one("#team").scrollable_content_region  # not its scrollbar
    rows = [strip.text for strip in app.screen._compositor.render_strips()][box.y:box.bottom]
    return " ".join(" ".join(row[box.x:box.right] for row in rows).split())


def sees(app: Any, pane: SessionPane, code: str, several: bool) -> bool:
    shown = in_the_tab(app)
    line = f"invite ▸ {code}" if several else f"invite {code}"
    command = " ".join(f"colleague types: {pane.colleague_command(code)}".split())
    return line in shown and command in shown


async def shows(pilot: Any, app: AgentApp, code: str, several: bool, what: str) -> None:
    pane = app.query(SessionPane).last()
    try:
        await wait(pilot, lambda: sees(app, pane, code, several), what)
    except WaitTimedOut:
        raise AssertionError(f"{what}: the tab shows {in_the_tab(app)!r}") from None


async def focus_the_list(pilot: Any, app: AgentApp) -> None:
    team = app.query_one("#team")
    for _ in range(12):  # the focus chain is short: the mirror, the tabs, the list...
        if app.focused is team:
            return
        await type_bytes(pilot, KEYS["tab"])
    raise AssertionError(f"Tab never reached the team list (focused: {app.focused!r})")


async def invite(pilot: Any, pane: SessionPane, count: int) -> list[str]:
    """``count`` open codes: the customer's client keeps 2 open, so beyond 2 the codes arrive
    as the runtime's ``invite`` events would bring them (an older client keeps more)."""
    for n in range(1, min(count, 2) + 1):
        await press_key(pilot, "⇧F12")
        await wait(pilot, lambda: len(pane.team_invites) == n, f"invitation {n}")
    for n in range(2, count):
        pane.on_team_invite(InviteReady(code=f"9{n}-1234-567{n}", expires_s=600), pane.team_clock())
    await pilot.pause()
    return [i.code for i in pane.team_invites]


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
@pytest.mark.parametrize("count", [1, 2, 4])
async def test_every_open_code_and_its_command_can_be_brought_into_sight(
        relay: RelayServer, customers: Callable[[], Customer], size: tuple[int, int], count: int) -> None:
    customer = customers()
    CustomerTeam(customer.runtime, customer.runtime.emit, relay=relay.url, prompt_arming=0, control_cooldown=0)
    alice = AgentApp(relay.url, None, "Alice")
    async with alice.run_test(size=size) as pilot:
        pane = await paired_session(pilot, customer)
        codes = await invite(pilot, pane, count)
        assert len(codes) == count
        several = count > 1
        await shows(pilot, alice, codes[-1], several, "the newest code and its command, at once")
        frame = alice.query_one("#team").region
        bottom = [strip.text for strip in alice.screen._compositor.render_strips()][frame.bottom - 1]
        assert ("Tab: ↑↓ pick · c copies" if several else "Tab: c copies") in bottom[frame.x:frame.right]  # no row taken
        unfocused = alice.query_one("#team").styles.border_top
        await focus_the_list(pilot, alice)
        assert alice.query_one("#team").styles.border_top != unfocused  # where the keys go shows
        for code in reversed(codes[:-1]):  # ↑ goes back through the older codes, each in sight
            await type_bytes(pilot, KEYS["up"])
            await shows(pilot, alice, code, several, f"{code} and its command, after ↑")
        for code in codes[1:]:
            await type_bytes(pilot, KEYS["down"])
            await shows(pilot, alice, code, several, f"{code} and its command, after ↓")
        if several:  # one command at a time: the others' codes only on their own lines
            assert sum(f"--join {code}" in in_the_tab(alice) for code in codes) == 1, in_the_tab(alice)

        await type_bytes(pilot, b"c")
        assert alice.clipboard == pane.colleague_command(codes[-1])
        for _ in range(6):  # past the last code ↓ scrolls; PgDn reaches the agents below the codes
            await type_bytes(pilot, KEYS["down"])
            await type_bytes(pilot, KEYS["pgdn"])
        await wait(pilot, lambda: "⚠ unverified · sees the screen" in in_the_tab(alice), "Alice's own line")
        assert pane.picked_invite() is pane.team_invites[-1]  # ↓ at the end scrolled, it picked nothing
        for _ in range(6):
            await type_bytes(pilot, KEYS["pgup"])
        await wait(pilot, lambda: "customer connected" in in_the_tab(alice), "back at the top")
        if size == (80, 24) and count == 1:  # one code fits whole (tests/tui/test_agent_team_80x24.py)
            assert alice.query_one("#team-list").outer_size.height <= alice.query_one("#team").content_region.height, pane.team_text(0).plain + repr(alice.query_one("#team-list").content)
        if size == (200, 50):  # room for all of it
            shown = in_the_tab(alice)
            assert all(code in shown for code in codes) and "Alice (you)" in shown
        await alice.end_all()


async def test_a_click_on_a_code_shows_its_command(relay: RelayServer, customers: Callable[[], Customer]) -> None:
    customer = customers()
    CustomerTeam(customer.runtime, customer.runtime.emit, relay=relay.url, prompt_arming=0, control_cooldown=0)
    alice = AgentApp(relay.url, None, "Alice")
    async with alice.run_test(size=(80, 24)) as pilot:
        pane = await paired_session(pilot, customer)
        first, second = await invite(pilot, pane, 2)
        await shows(pilot, alice, second, True, "the newest code's command")
        assert await pilot.click("#team-list", offset=(4, 1))  # the older code's line, under "customer"
        await shows(pilot, alice, first, True, "the clicked code's command")
        assert f"--join {second}" not in in_the_tab(alice)
        await pilot.click("#team-list", offset=(4, 0))  # the customer's line picks nothing
        await pilot.pause()
        assert pane.picked_invite() is pane.team_invites[0]
        await alice.end_all()
