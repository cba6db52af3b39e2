"""The agent console's command palette: every console action, by name."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

#: (title, help, action) of every palette entry; the actions live on AgentApp.
PALETTE: list[tuple[str, str, str]] = [
    ("New session", "Create a session and get a code to read to the customer (F2)", "new_session"),
    ("Join by code", "Join a session the customer created with `cobrowse share` (F3)", "join_code"),
    ("Copy code", "Copy this session's code to the clipboard (F5)", "copy_code"),
    ("Request control", "Ask the customer for control of their terminal (F4)", "request_control"),
    ("Toggle typing", "Type into the customer's terminal, once they granted control (F12)", "toggle_typing"),
    ("End session", "End this session, after a confirmation (F8)", "end_session"),
    ("Next session", "Switch to the next session tab (F7)", "next_session"),
    ("Previous session", "Switch to the previous session tab (F6)", "previous_session"),
    ("Push playbook…", "Pick a playbook from the library and start it in this session (F1)", "push_playbook"),
    ("Step done", "Mark the current step done (F10)", "step_done"),
    ("Skip step", "Mark the current step skipped (F11)", "step_skip"),
    ("Step back", "Go back to the previous step (shift+F10)", "step_back"),
    ("Suggest command…", "Offer a command the customer can paste at their prompt (shift+F2)", "suggest_command"),
    ("Point at…", "Highlight rows or a pattern on the customer's screen (shift+F11)", "point_at"),
    ("Clear pointer", "Remove the highlight from the customer's screen (shift+F4)", "clear_pointer"),
    ("Show steps / chat", "Switch the side panel between the steps and the chat (shift+F1)", "toggle_steps"),
    ("Record session", "Ask the customer for consent to record; again: stop recording (shift+F5)", "toggle_recording"),
    ("History and stats", "Past sessions, resolution rate, ratings, troublesome steps (shift+F6)", "show_history"),
    ("Call the customer", "Start a voice call, or answer the customer's (shift+F7)", "call"),
    ("Hang up", "End the call, or decline a ringing one (shift+F8)", "hangup"),
    ("Mute / unmute", "Mute or unmute your microphone during a call (shift+F9)", "mute"),
    ("Toggle dark/light theme", "Switch between the dark and the light theme", "toggle_theme"),
]


class AgentCommands(Provider):
    """Command palette entries for every console action."""

    async def discover(self) -> Hits:
        for title, help_text, action in PALETTE:
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in PALETTE:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self.app.run_action, action), help=help_text)
