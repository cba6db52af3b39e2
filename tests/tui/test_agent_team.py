"""The agent console in a team (docs/team.md): ⇧F12 asks the customer's client for a colleague's
code and shows it; a second console joins with it; the customer allows; the first leaves
from the palette's action and the session goes on for the second. A real relay, a real
customer runtime with its team in this process, two consoles driven by pilots."""

from __future__ import annotations

from typing import Any, Callable

from cobrowse.io.customer_team import CustomerTeam
from relay.server import RelayServer
from tests.tui.terminal_keys import press_key
from tests.tui.test_agent_app import SIZE, ChatLog, Customer, customers, log_text, mirror_text, paired_session
from tests.waiting import Pausing, until
from tui.agent_app import AgentApp, SessionPane


async def wait(pilot: Pausing, check: Callable[[], Any], what: str) -> Any:
    return await until(check, what, pilot=pilot)

__all__ = ["customers"]


async def test_invite_from_the_console_and_leave(relay: RelayServer, customers: Callable[[], Customer]) -> None:
    customer = customers()
    team = CustomerTeam(customer.runtime, customer.runtime.emit, relay=relay.url, prompt_arming=0,
                        control_cooldown=0)
    team.policy.arming = 0
    alice = AgentApp(relay.url, None, "Alice")
    async with alice.run_test(size=SIZE) as pilot:
        pane = await paired_session(pilot, customer)
        customer.runtime.program_output(b"$ echo team-console\r\nteam-console\r\n$ ")
        await press_key(pilot, "⇧F12")
        log = pane.query_one("#chat-log", ChatLog)
        await wait(pilot, lambda: "a colleague joins with: cobrowse agent --join" in log_text(log), "the invite code")
        code = log_text(log).split("cobrowse agent --join ")[1].split()[0]

        bob = AgentApp(relay.url, None, "Bob", join_code=code)
        async with bob.run_test(size=SIZE) as bob_pilot:
            bob_pane = await wait(bob_pilot, lambda: bob.query(SessionPane).last() if bob.query(SessionPane) else None,
                                   "Bob's session")
            await wait(pilot, lambda: team.policy.question is not None, "the customer asked about Bob")
            await wait(bob_pilot, lambda: "waits for the customer to allow them" in mirror_text(bob_pane),
                       "Bob told why nothing is shown yet (not 'paused')")
            await customer.runtime.run_command("allow")
            await wait(bob_pilot, lambda: bob_pane.mirror.state is not None
                        and any("team-console" in line for line in bob_pane.mirror.state.lines()), "the screen at Bob")

            await alice.action_leave_session()
            await wait(pilot, lambda: pane.ended, "Alice's session ended")
            assert customer.runtime.outcome is None  # Bob keeps it
            await wait(bob_pilot, lambda: bob_pane.runtime is not None
                        and [v["name"] for v in bob_pane.runtime.policy.viewers] == ["Bob"], "Bob alone in the roster")
            customer.runtime.program_output(b"echo after\r\nafter-alice\r\n$ ")
            await wait(bob_pilot, lambda: any("after-alice" in line for line in bob_pane.mirror.state.lines()),
                        "the screen at Bob after Alice left")
            await bob.end_all()
