"""The console's team panel (tui/agent_team.py, docs/team.md "The console"): Alice's console
invites with ⇧F12 as xterm sends it; the panel shows the code and the time it has left; a
colleague with a hostile name joins and waits for the customer's yes, then is admitted; the
panel follows each step, reachable from the palette, at 200×50 and at 80×24. A real relay, a
real customer runtime with its team in this process, two consoles driven by pilots."""

from __future__ import annotations

import re
from typing import Any, Callable

from cobrowse.io.customer_team import CustomerTeam
from relay.server import RelayServer
from tests.tui.terminal_keys import press_key, type_bytes
from tests.tui.test_agent_app import Customer, customers, paired_session
from tests.tui.test_untrusted_apps import BADGE, assert_no_control
from tests.waiting import Pausing, until
from textual.geometry import Region
from textual.widgets import TabbedContent
from tui.agent_app import AgentApp, SessionPane
from tui.agent_team import NAME_CAP, agent_line

__all__ = ["customers"]

HOSTILE = BADGE + "\u202eevil\x1b[2J"


async def wait(pilot: Pausing, check: Callable[[], Any], what: str) -> Any:
    return await until(check, what, pilot=pilot)


def screen_text(app: Any) -> str:
    """Every line every widget on the screen renders now, borders and all."""
    lines = []
    for widget in app.screen.walk_children(with_self=False):
        if widget.display and widget.outer_size.area:
            lines += [strip.text for strip in widget.render_lines(Region(0, 0, *widget.outer_size))]
    return "\n".join(lines)


def team_of(pane: SessionPane) -> str:
    return pane.team_text(pane.team_clock()).plain


def side(pane: SessionPane) -> str:
    return pane.query_one("#side-tabs", TabbedContent).active


async def test_the_team_panel_follows_an_invitation_to_admission(relay: RelayServer,
                                                                 customers: Callable[[], Customer]) -> None:
    customer = customers()
    team = CustomerTeam(customer.runtime, customer.runtime.emit, relay=relay.url, prompt_arming=0,
                        control_cooldown=0)
    team.policy.arming = 0
    alice = AgentApp(relay.url, None, "Alice")
    async with alice.run_test(size=(200, 50)) as pilot:
        pane = await paired_session(pilot, customer)
        assert "⇧F12 invites a colleague" in team_of(pane) and "Alice (you)" in team_of(pane)
        await press_key(pilot, "⇧F12")
        await wait(pilot, lambda: pane.team_invites, "the invitation code in the panel")
        code = pane.team_invites[0].code
        assert side(pane) == "team-tab"  # the code is what the agent reads out now
        await wait(pilot, lambda: re.search(rf"invite +{code} · \d+:\d\d left", screen_text(alice)),
                   "the code and its time left on the screen")
        await wait(pilot, lambda: re.search(r"team +invite \d+:\d\d", screen_text(alice)), "the facts box's line")
        # not the default relay: without --relay the colleague's console looks on 127.0.0.1:8765
        assert f"colleague types: cobrowse agent --join {code} --relay {relay.url}" in team_of(pane)
        assert f"cobrowse agent --join {code} --relay {relay.url}" in pane.chat_log.plain()
        await press_key(pilot, "⇧F12")  # a second code: Bob joins with this one, the first stays open
        await wait(pilot, lambda: len(pane.team_invites) == 2, "two codes in the panel")
        first, code = code, pane.team_invites[1].code

        bob = AgentApp(relay.url, None, HOSTILE, join_code=code)
        async with bob.run_test(size=(80, 24)) as bob_pilot:
            bob_pane = await wait(bob_pilot, lambda: bob.query(SessionPane).last() if bob.query(SessionPane) else None,
                                  "Bob's session")
            await wait(pilot, lambda: pane.team_waiting, "Bob waiting, in Alice's panel")
            shown = await wait(pilot, lambda: next((t for t in [screen_text(alice)] if "WAITING" in t), ""), "Bob on the screen")
            assert "WAITING for consent" in team_of(pane) and code not in team_of(pane)  # the code was used
            assert first in team_of(pane)  # the other one was not
            assert "[b white on green]" in shown  # his name as he typed it (cut): data, never a badge
            assert_no_control(shown)
            [waiting] = pane.team_waiting
            assert len(str(waiting["name"])) > NAME_CAP and "…" in team_of(pane)  # bounded
            assert not bob_pane.team_viewers  # nothing reaches Bob before the customer's yes

            await customer.runtime.run_command("allow")
            await wait(pilot, lambda: not pane.team_waiting and len(pane.team_viewers) == 2, "Bob admitted")
            assert "(agent 3)\n  ⚠ unverified · sees the screen" in team_of(pane)
            assert "Alice (agent 1, you)\n  ⚠ unverified · sees the screen" in team_of(pane)
            assert re.search(r"team +2 agents", pane.facts_text())
            for tab in ("chat-tab", "steps-tab", "team-tab"):  # ⇧F1 goes round, the team included once there is one
                await press_key(pilot, "⇧F1")
                await wait(pilot, lambda: side(pane) == tab, f"⇧F1 to {tab}")
            await wait(bob_pilot, lambda: len(bob_pane.team_viewers) == 2, "Bob's own panel lists both")
            assert "(agent 3, you)" in team_of(bob_pane) and "Alice (agent 1)\n" in team_of(bob_pane)

            # 80×24, from the palette, as the keys arrive from a terminal
            await press_key(bob_pilot, "F9")
            await type_bytes(bob_pilot, b"Show the team")
            await wait(bob_pilot, lambda: "Show the team" in screen_text(bob), "the palette's entry")
            await type_bytes(bob_pilot, b"\r")
            await wait(bob_pilot, lambda: side(bob_pane) == "team-tab", "the team tab at 80×24")
            await wait(bob_pilot, lambda: "Alice (agent 1)" in screen_text(bob) and "agent 3, you" in screen_text(bob),
                       "the team on Bob's 80×24 screen")
            assert not bob_pane.query_one("#facts").display  # at 80×24 the team tab takes the width
            await press_key(bob_pilot, "⇧F1")  # round to the chat, the facts back beside it
            await wait(bob_pilot, lambda: side(bob_pane) == "chat-tab", "Bob's ⇧F1 to the chat")
            await wait(bob_pilot, lambda: re.search(r"team +2 agents", screen_text(bob)),
                       "the facts strip's line, at 80×24 too")

            # Bob leaves from the palette: his facts say so, never the team he is no longer in
            await press_key(bob_pilot, "F9")
            await type_bytes(bob_pilot, b"Leave session")
            await wait(bob_pilot, lambda: "Leave session" in screen_text(bob), "the palette's Leave entry")
            await type_bytes(bob_pilot, b"\r")
            await wait(bob_pilot, lambda: bob_pane.ended, "Bob's session left")
            await wait(bob_pilot, lambda: re.search(r"team +you left", screen_text(bob)), "left, in Bob's facts")
            assert "2 agents" not in bob_pane.facts_text() and "2 agents" not in screen_text(bob)
            assert re.search(r"customer +—", bob_pane.facts_text())  # not "connected" any more
            assert team_of(bob_pane) == "customer  —\nyou left the session"  # no stale list, no ⇧F12 hint
            await wait(bob_pilot, lambda: "you left the session" in screen_text(bob), "the team tab, left")
            await wait(pilot, lambda: len(pane.team_viewers) == 1, "Alice alone again")
            assert "agents" not in pane.facts_text()  # one agent (and the first code, open), her session on
            assert not pane.ended
            await bob.end_all()
        await alice.end_all()


def test_a_name_is_data_escaped_and_bounded() -> None:
    line = agent_line({"id": 2, "name": "\u202eevil\x1b[2J[b]x[/b]", "verified": False}, waiting=True).plain
    assert line.startswith("\\u202eevil\\x1b[2J[b]x") and "(agent 2)\n  ⚠ unverified · WAITING for consent" in line
    assert_no_control(line)
    assert agent_line({"id": 3, "name": "y" * 64, "control": True}, waiting=False).plain == \
        f"{'y' * (NAME_CAP - 1)}… (agent 3)\n  CONTROL"


async def test_a_code_voided_by_a_wrong_guess_leaves_the_panel_at_once(relay: RelayServer,
                                                                       customers: Callable[[], Customer]) -> None:
    """A wrong guess at the code (the relay's, or a typo) voids it: the customer's client tells
    Alice's console, which drops the code and says why in the session's log (docs/team.md)."""
    from cobrowse.wire.code import parse_code
    from tests.e2e.harness import Proc

    customer = customers()
    CustomerTeam(customer.runtime, customer.runtime.emit, relay=relay.url, prompt_arming=0, control_cooldown=0)
    alice = AgentApp(relay.url, None, "Alice")
    async with alice.run_test(size=(80, 24)) as pilot:
        pane = await paired_session(pilot, customer)
        await press_key(pilot, "⇧F12")
        await wait(pilot, lambda: pane.team_invites, "the invitation code in the panel")
        code = parse_code(pane.team_invites[0].code)
        wrong = f"{code.nameplate}-{'1111' if code.secret[:4] != '1111' else '2222'}-{code.secret[4:]}"
        guesser = await Proc.start("agent", "--headless", "--relay", relay.url, "--join", wrong, name="a guess",
                                   env={"COBROWSE_DIRECT": "0"})
        try:
            assert await guesser.wait() != 0
            await wait(pilot, lambda: not pane.team_invites, "the voided code gone from the panel")
            assert str(code) not in team_of(pane) and "invite" not in pane.team_summary(0.0)
            await wait(pilot, lambda: f"the invitation code {code} no longer works: someone entered a wrong code"
                       in pane.chat_log.plain(), "why, in the session's log")
        finally:
            await guesser.kill()
        await alice.end_all()
