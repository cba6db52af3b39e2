"""The home tab's footer offered F4 Ask control, F12 Type, F5 Copy and F8 End with no session in
front (each only answered "No session here"): it shows what can be used there, and a session
key pressed anyway (the bytes a real terminal sends) still gets the answer, as does its palette
entry (a turned-off action ran nothing at all)."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from relay.server import RelayServer
from tests.tui.terminal_keys import TERMS, press_key
from tui.agent_app import AgentApp
from tui.agent_keys import CONSOLE_KEYS, SESSION_ACTIONS
from tui.agent_palette import run


def footer_actions(app: AgentApp) -> set[str]:
    return {key.action for key in app.query(FooterKey)}


def answers(app: AgentApp) -> list[str]:
    return [str(n.message) for n in app._notifications if "No session here" in str(n.message)]


async def test_the_home_footer_offers_only_what_works_there_and_session_keys_still_answer(relay: RelayServer) -> None:
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=(200, 50)) as pilot:
        await pilot.pause()
        shown = footer_actions(app)
        assert shown and not shown & SESSION_ACTIONS, shown & SESSION_ACTIONS
        assert {"new_session", "join_code", "open_palette"} <= shown
        assert not any(b.binding.action == "no_session" for b in app.active_bindings.values() if b.binding.show)
        for key in CONSOLE_KEYS:
            if key.action in SESSION_ACTIONS and key.shown:
                for term in TERMS:
                    await press_key(pilot, key.shown, term)
                    await pilot.pause()
                    assert len(answers(app)) == 1, (key.shown, term)
                    app.clear_notifications()
        await run(app, "copy_code")
        await pilot.pause()
        assert answers(app) == ["No session here: F2 starts one, F3 joins a customer's code."]
        app.clear_notifications()

        pane = await app.open_session()
        await pilot.pause()
        await pilot.pause()
        assert {"request_control", "toggle_typing", "copy_code", "end_session"} <= footer_actions(app)
        await press_key(pilot, "F5")
        await pilot.pause()
        assert not answers(app)
        await app.end_all()
        assert pane is not None
