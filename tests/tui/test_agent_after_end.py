"""The agent console once a session has ended, and Ctrl-C, as a person meets them (found by
hand in tmux, issue 17's QA pass): keys arrive as the terminal's bytes.
"""

from __future__ import annotations

import socket
from typing import Callable

from textual.widgets import Static

from relay.server import RelayServer
from tests.tui.terminal_keys import press_key, type_bytes
from tests.tui.test_agent_app import SIZE, Customer, customers, paired_session, text_of  # noqa: F401 (fixture)
from tests.waiting import until
from tui.agent_app import AgentApp, ConfirmDialog

CTRL_C = b"\x03"


def notices(app: AgentApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_ended_session_does_not_claim_control(relay: RelayServer, customers: Callable[[], Customer]) -> None:
    """After the end the badge said CONTROL GRANTED and F4 answered "You already have
    control: F12 types into the customer's terminal" — of a session that was over."""
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        customer = customers()
        pane = await paired_session(pilot, customer)
        await press_key(pilot, "F4")
        await until(lambda: customer.of("consent_prompt"), "the customer's consent prompt", pilot=pilot)
        await customer.runtime.run_command("allow")
        await customer.runtime.run_command("allow")
        await until(lambda: pane.consent == "control", "consent: control", pilot=pilot)
        await press_key(pilot, "F8")
        await until(lambda: isinstance(app.screen, ConfirmDialog), "the confirmation", pilot=pilot)
        await pilot.press("y")
        await until(lambda: pane.ended, "the session to end", pilot=pilot)
        badge = pane.query_one("#consent", Static)
        assert not badge.display or "CONTROL" not in text_of(badge)
        app.clear_notifications()
        await press_key(pilot, "F4")
        await pilot.pause(0.2)
        said = " ".join(notices(app))
        assert "already have control" not in said
        assert "ended" in said


async def test_failed_session_tab_names_itself_once() -> None:
    """A session that never got a code was labelled "#1 #1 (ended)"."""
    app = AgentApp(f"ws://127.0.0.1:{closed_port()}", None, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await press_key(pilot, "F2")
        await until(lambda: app.query("SessionPane"), "the session tab", pilot=pilot)
        pane = app.query_one("SessionPane")
        await until(lambda: getattr(pane, "ended", False), "the failure", pilot=pilot)
        label = str(app.query_one("#sessions").get_tab(pane.id).label)
        assert label.count("#1") == 1 and label.endswith("(ended)"), label


async def test_ctrl_c_says_how_to_quit_without_markup(relay: RelayServer) -> None:
    """Textual's own hint ("Press [b]ctrl+q[/b] to quit the app") went through the console's
    literal-text notifications, so the agent saw the tags."""
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await type_bytes(pilot, CTRL_C)
        await until(lambda: app._notifications, "a notice", pilot=pilot)
        said = " ".join(notices(app))
        assert "ctrl+q" in said and "[b]" not in said and "[/b]" not in said, said
        assert app.is_running
