"""The console's Team tab at 80×24 (the side panel is 10 rows under the mirror there): with a
relay other than the default, the hint that says what a colleague types took 3 lines, and the
invitation's own lines were pushed out of sight. What the tab shows fits its rows."""

from __future__ import annotations

from typing import Callable

from cobrowse.io.customer_team import CustomerTeam
from relay.server import RelayServer
from tests.tui.terminal_keys import press_key
from tests.tui.test_agent_app import Customer, customers, paired_session
from tests.tui.test_agent_team_panel import screen_text, wait
from tui.agent_app import AgentApp

__all__ = ["customers"]


async def test_the_team_tab_fits_80x24_with_a_relay_of_its_own(relay: RelayServer,
                                                               customers: Callable[[], Customer]) -> None:
    customer = customers()
    CustomerTeam(customer.runtime, customer.runtime.emit, relay=relay.url, prompt_arming=0, control_cooldown=0)
    alice = AgentApp(relay.url, None, "Alice")
    async with alice.run_test(size=(80, 24)) as pilot:
        pane = await paired_session(pilot, customer)
        team = pane.query_one("#team")
        listing = pane.query_one("#team-list")

        def hint_shown() -> bool:
            # the palette's "Show the team" (⇧F1 reaches it once there is a team), again until the
            # customer's team is known (a loaded machine: the tab may not be there at the first try)
            alice.action_show_team()
            return "⇧F12 invites a colleague" in " ".join(screen_text(alice).split())

        await wait(pilot, hint_shown, "the hint before an invitation")
        assert listing.outer_size.height <= team.content_region.height, screen_text(alice)
        await press_key(pilot, "⇧F12")
        await wait(pilot, lambda: pane.team_invites, "the code in the team tab")
        code = pane.team_invites[0].code
        await wait(pilot, lambda: code in screen_text(alice), "the code on the screen")
        await pilot.pause(0.2)
        shown = screen_text(alice)
        assert listing.outer_size.height <= team.content_region.height, shown  # nothing to scroll to
        command = f"colleague types: cobrowse agent --join {code} --relay {relay.url}"  # its own code
        assert " ".join(command.split()) in " ".join(shown.split()), shown  # whole, on the screen
        assert "customer  connected" in shown and "Alice (you)" in shown
        await alice.end_all()


async def test_a_colleague_stays_in_sight_beside_an_open_code_at_80x24(relay: RelayServer,
                                                                        customers: Callable[[], Customer]) -> None:
    """With a colleague in and one open code, the tab's 6 rows held the customer, the code, its
    command on 3 rows (the facts box beside it) and the first agent's 2 rows: the colleague fell
    below the fold. At 80×24 the tab takes the width (the facts box hides, as for the steps)
    and each agent is one row when it fits."""
    from tests.tui.test_agent_team_invites import in_the_tab
    from tui.agent_app import SessionPane

    customer = customers()
    team = CustomerTeam(customer.runtime, customer.runtime.emit, relay=relay.url, prompt_arming=0, control_cooldown=0)
    team.policy.arming = 0
    alice = AgentApp(relay.url, None, "Alice")
    async with alice.run_test(size=(80, 24)) as pilot:
        pane = await paired_session(pilot, customer)
        await press_key(pilot, "⇧F12")
        await wait(pilot, lambda: pane.team_invites, "a code for Bob")
        bob = AgentApp(relay.url, None, "Bob", join_code=pane.team_invites[0].code)
        async with bob.run_test(size=(80, 24)) as bob_pilot:
            await wait(bob_pilot, lambda: bob.query(SessionPane), "Bob's session")
            await wait(pilot, lambda: pane.team_waiting, "Bob waiting")
            await customer.runtime.run_command("allow")
            await wait(pilot, lambda: len(pane.team_viewers) == 2 and not pane.team_invites, "Bob admitted")
            await press_key(pilot, "⇧F12")  # one more code, open
            await wait(pilot, lambda: pane.team_invites, "the open code")
            code = pane.team_invites[0].code
            command = " ".join(f"colleague types: {pane.colleague_command(code)}".split())
            everyone = ("customer connected", f"invite {code}", command, "Alice (agent 1, you)", "Bob (agent 2)")
            await wait(pilot, lambda: all(part in in_the_tab(alice) for part in everyone), "all of it in the tab")
            await pilot.pause(0.2)
            assert all(part in in_the_tab(alice) for part in everyone), in_the_tab(alice)
            assert pane.query_one("#team-list").outer_size.height <= pane.query_one("#team").content_region.height
            await bob.end_all()
        await alice.end_all()
