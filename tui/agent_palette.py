"""The agent console's command palette: every console action, by name."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from textual.app import App

from tui.agent_keys import NO_SESSION, SESSION_ACTIONS, palette

#: The keys screen (Textual's help panel: every key of the focused part and the console). Its
#: system command is titled "Keys" only: a person looking for it types "help" or "shortcuts".
HELP_ENTRY = ("Help: keys and shortcuts", "Show every key of the console and what it does; again hides it",
              "toggle_help_panel")
HELP_WORDS = ("help", "keys", "shortcuts", "key bindings")

#: (title, help, action) of every palette entry; the actions live on AgentApp (tui/agent_keys.py).
PALETTE: list[tuple[str, str, str]] = [*palette(), HELP_ENTRY]


async def run(app: App[object], action: str) -> None:
    """The entry's action; a session action with no session in front says so (the console's
    ``check_action`` turns it off there, and Textual would do nothing at all)."""
    if not await app.run_action(action) and action in SESSION_ACTIONS:
        await app.run_action(NO_SESSION)


class AgentCommands(Provider):
    """Command palette entries for every console action."""

    async def discover(self) -> Hits:
        for title, help_text, action in PALETTE:
            yield DiscoveryHit(title, partial(run, self.app, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in PALETTE:
            score = matcher.match(title)
            if action == HELP_ENTRY[2]:
                score = max(score, *(matcher.match(word) for word in HELP_WORDS))
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(run, self.app, action), help=help_text)
