"""The customer app: the customer sees their own secrets, the agent and the preview see masks."""

from __future__ import annotations

import os
import sys

from cobrowse.screen.redact import MASK_CHAR
from tui.customer_app import CustomerApp

sys.path.insert(0, os.path.dirname(__file__))
from test_customer_app import (  # noqa: E402,F401
    BASH,
    Agent,
    _shell_env,
    agent,
    has_line,
    paired_app,
    pane_lines,
    prefix,
    type_text,
    until,
)


async def test_own_terminal_unmasked_agent_and_preview_masked(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH, redact_patterns=(r"ACME-\d{6}",))
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        await type_text(pilot, "printf 'password: hunter%s ref ACME-%s\\n' 2xyz 123456")  # whole only in the output
        await pilot.press("enter")
        expected = f"password: {MASK_CHAR * 10} ref {MASK_CHAR * 11}"
        await until(lambda: has_line(agent.lines(), expected), what="the masked line at the agent")
        assert has_line(pane_lines(app), "password: hunter2xyz ref ACME-123456")  # the customer's own view
        assert not any("hunter2xyz" in line or "ACME-123456" in line for line in agent.lines())
        await prefix(pilot, "v")
        view = app.screen.query_one("#preview-screen")
        await until(lambda: view.state is not None and has_line(view.state.lines(), expected), what="the preview")
        assert view.state.lines() == agent.lines()
