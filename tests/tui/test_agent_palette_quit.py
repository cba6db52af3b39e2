"""The palette's Quit said Textual's "Quit the application as soon as possible", while the
console's quit asks first when a session is live (and ends them): the entry says so now."""

from __future__ import annotations

from relay.server import RelayServer
from tui.agent_app import AgentApp


async def test_the_palettes_quit_says_it_asks_first(relay: RelayServer) -> None:
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=(80, 24)):
        helps = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert helps["Quit"] == "Quit the console (with a session live, it asks first and ends them)"
        assert "Keys" not in helps
        assert app.active_bindings["ctrl+q"].binding.tooltip == helps["Quit"]  # the help panel's line
        await app.end_all()
