"""The customer app's banner said ``● RECORDING`` only while the first agent recorded: an
invited agent's recording (a named line since fix8) left the banner silent, so a customer
could miss that Bob records. Now the banner says it while any agent records. A real relay on
127.0.0.1, two in-process agents, a real shell, the app under a pilot."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cobrowse.protocol.prompts import ARMING
from tests.tui.test_customer_app import BASH, Agent, _shell_env, agent, paired_app, prefix, until  # noqa: F401
from tests.tui.test_customer_team_app import invite_bob
from tui.customer_app import CustomerApp


async def test_an_invited_agents_recording_shows_in_the_banner(agent: Agent, relay_url: str, data_dir: Path) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(160, 40)) as pilot:
        await paired_app(pilot, agent)
        bob = await invite_bob(agent, relay_url)
        try:
            bob.rt.recordings = data_dir / "bob-recordings"
            bob.rt.recordings.mkdir()
            await until(lambda: any("asks to SEE your screen" in line for line in app.log_lines), what="the question")
            await asyncio.sleep(ARMING + 0.1)
            await prefix(pilot, "y")
            await until(lambda: "Alice (agent 1), Bob (agent 2)" in app.banner_text, what="both in the banner")
            assert "RECORDING" not in app.banner_text
            await bob.rt.command({"cmd": "record", "on": True})
            await until(lambda: any(line.startswith("Bob (agent 2): the agent asks") for line in app.log_lines),
                        what="Bob's recording question (a note and a toast: not the first agent's bar)")
            await asyncio.sleep(ARMING + 0.1)
            await prefix(pilot, "y")
            await bob.event("recording", state="on")
            await until(lambda: "RECORDING" in app.banner_text, what="the banner saying Bob records")
            await prefix(pilot, "x")  # stops every agent's recording (fix8): the banner follows
            await bob.event("recording", state="stopped", by="customer")
            await until(lambda: "RECORDING" not in app.banner_text, what="the banner without recording")
        finally:
            await bob.close()
