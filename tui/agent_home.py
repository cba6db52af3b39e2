"""The agent console's home tab: the relay, how to start, the two buttons."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, TabPane

from tui.agent_keys import shown_key
from tui.safe import PlainStatic


class HomePane(TabPane):
    def __init__(self, relay_url: str, relay_note: str | None) -> None:
        super().__init__("Start", id="home")
        self.relay_url = relay_url
        self.relay_note = relay_note

    def compose(self) -> ComposeResult:
        new, join, palette = (shown_key(a) for a in ("new_session", "join_code", "open_palette"))  # configurable
        with VerticalScroll(id="home-body"):
            yield PlainStatic("cobrowse agent console", id="home-title")
            if self.relay_note:
                yield PlainStatic(self.relay_note, id="relay-note")
            yield PlainStatic(f"Relay: {self.relay_url}", id="home-relay")
            yield PlainStatic(
                f"{new:<3} New session: you get a code; read it to the customer, who types "
                "`cobrowse join CODE` (or `cobrowse join`, then the code when it asks).\n"
                f"{join:<3} Join by code: the customer ran `cobrowse share` and reads you their code.\n"
                "You can run several sessions at once; each gets a tab. A ● on a tab means "
                "something happened there.\n"
                f"ctrl+p (or {palette}) opens the command palette with every action.",
                id="home-help",
            )
            with Horizontal(id="home-buttons"):
                yield Button(f"New session ({new})", variant="primary", id="home-new")
                yield Button(f"Join by code ({join})", id="home-join")

    @on(Button.Pressed, "#home-new")
    async def _new(self) -> None:
        await self.app.run_action("new_session")

    @on(Button.Pressed, "#home-join")
    async def _join(self) -> None:
        await self.app.run_action("join_code")
