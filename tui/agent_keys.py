"""The agent console's keys: one table, from which the bindings, the footer and the command
palette (with each entry's key) are generated, so they cannot disagree.

Keys are written as the console shows them: ``F2``, or ``⇧F2`` for shift+F2, which real
terminals send as ``ESC[1;2Q`` (Textual: ``shift+f2``) or, on the Linux console and rxvt,
as F14. xterm's shift+F3 reads as a cursor-position report, so nothing uses it.

The config file may move any of them (``[keys.console]``, docs/config.md): ``configure``
swaps the table before the console is imported, so the bindings, the footer and the palette
all show the configured keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Sequence

from textual.binding import Binding

_SHOWN = re.compile(r"(⇧)?F(\d{1,2})")


@dataclass(frozen=True)
class ConsoleKey:
    action: str  # an AgentApp action
    shown: str | None  # "F2", "⇧F2"; None: palette only
    footer: str  # the footer's label ("" with show=False)
    title: str  # the palette's entry
    help: str  # the palette's explanation
    show: bool = True  # in the footer


CONSOLE_KEYS: tuple[ConsoleKey, ...] = (
    ConsoleKey("new_session", "F2", "New", "New session", "Create a session and get a code to read to the customer"),
    ConsoleKey("join_code", "F3", "Join", "Join by code", "Join a session the customer created with `cobrowse share`"),
    ConsoleKey("request_control", "F4", "Ask control", "Request control", "Ask the customer for control of their terminal"),
    ConsoleKey("toggle_typing", "F12", "Type", "Toggle typing", "Type into the customer's terminal, once they granted control"),
    ConsoleKey("copy_code", "F5", "Copy", "Copy code", "Copy this session's code to the clipboard"),
    ConsoleKey("end_session", "F8", "End", "End session", "End this session, after a confirmation"),
    ConsoleKey("open_palette", "F9", "Commands", "", ""),
    ConsoleKey("previous_session", "F6", "Prev", "Previous session", "Switch to the previous session tab", show=False),
    ConsoleKey("next_session", "F7", "Next", "Next session", "Switch to the next session tab", show=False),
    ConsoleKey("push_playbook", "F1", "Playbook", "Push playbook…", "Pick a playbook from the library and start it in this session"),
    ConsoleKey("step_done", "F10", "Done", "Step done", "Mark the current step done"),
    ConsoleKey("step_skip", "F11", "Skip", "Skip step", "Mark the current step skipped"),
    ConsoleKey("step_back", "⇧F10", "Back", "Step back", "Go back to the previous step"),
    ConsoleKey("suggest_command", "⇧F2", "Suggest", "Suggest command…", "Offer a command the customer can paste at their prompt"),
    ConsoleKey("point_at", "⇧F11", "Point", "Point at…", "Highlight rows or a pattern on the customer's screen"),
    ConsoleKey("clear_pointer", "⇧F4", "Unpoint", "Clear pointer", "Remove the highlight from the customer's screen"),
    ConsoleKey("toggle_steps", "⇧F1", "Steps/Chat", "Show steps / chat", "Switch the side panel between the steps and the chat"),
    ConsoleKey("toggle_recording", "⇧F5", "Record", "Record session", "Ask the customer for consent to record; again: stop recording",
               show=False),
    ConsoleKey("show_history", "⇧F6", "History", "History and stats", "Past sessions, resolution rate, ratings, troublesome steps",
               show=False),
    ConsoleKey("call", "⇧F7", "Call", "Call the customer", "Start a voice call, or answer the customer's"),
    ConsoleKey("hangup", "⇧F8", "Hang up", "Hang up", "End the call, or decline a ringing one", show=False),
    ConsoleKey("mute", "⇧F9", "Mute", "Mute / unmute", "Mute or unmute your microphone during a call", show=False),
    ConsoleKey("invite", "⇧F12", "Invite", "Invite a colleague", "A code for a second agent to join this session "
               "(the customer is asked to allow them; docs/team.md)", show=False),
    ConsoleKey("show_team", None, "", "Show the team", "Who is in this session: the customer, every agent "
               "(verified or not, admitted or waiting, who has control) and the open invitation code"),
    ConsoleKey("leave_session", None, "", "Leave session", "Leave without ending the session for the customer and "
               "the other agents"),
    ConsoleKey("toggle_theme", None, "", "Toggle dark/light theme", "Switch between the dark and the light theme"),
)


DEFAULT_KEYS = CONSOLE_KEYS


class ConsoleKeyError(ValueError):
    """A ``[keys.console]`` setting the console cannot use (the message names it and the file)."""


def configure(changes: Sequence[tuple[str, str]], where: str = "the config file") -> None:
    """Use the config file's keys (action → key as shown, already in the ``⇧F2`` form)."""
    global CONSOLE_KEYS
    actions = {k.action for k in DEFAULT_KEYS}
    moved = dict(changes)
    for action in moved:
        if action not in actions:
            raise ConsoleKeyError(f"{where}: keys.console.{action}: no such action "
                                  f"(known: {', '.join(sorted(actions))})")
    table = tuple(replace(k, shown=moved.get(k.action, k.shown)) for k in DEFAULT_KEYS)
    taken: dict[str, str] = {}
    for k in table:
        if k.shown is None:
            continue
        if k.shown in taken:
            first, second = sorted((taken[k.shown], k.action), key=lambda a: a not in moved)
            raise ConsoleKeyError(f"{where}: keys.console.{first} = {k.shown!r}: that key already does {second!r}"
                                  f"{'' if second in moved else ' (move it too)'}")
        taken[k.shown] = k.action
    CONSOLE_KEYS = table


def shown_key(action: str) -> str:
    """The key that runs ``action`` now, as the console shows it ("" if none)."""
    return next((k.shown for k in CONSOLE_KEYS if k.action == action and k.shown), "")


_MENTIONED = re.compile(r"(⇧|shift\+)?\bF(\d{1,2})\b")


def told(text: str) -> str:
    """One of our sentences written with the default keys ("F5 copies it", "shift+F4 clears")
    in the configured ones, in the same style (``⇧F4`` or ``shift+F4``)."""
    if CONSOLE_KEYS is DEFAULT_KEYS:
        return text
    action_of = {k.shown: k.action for k in DEFAULT_KEYS if k.shown}

    def one(match: re.Match[str]) -> str:
        action = action_of.get(f"{'⇧' if match[1] else ''}F{match[2]}")
        mine = shown_key(action) if action else ""
        if not mine:
            return match[0]
        return mine.replace("⇧", "shift+") if match[1] == "shift+" else mine

    return _MENTIONED.sub(one, text)


def textual_keys(shown: str) -> str:
    """Textual's key names for a key as shown: ``⇧F2`` → ``shift+f2,f14``."""
    match = _SHOWN.fullmatch(shown)
    if match is None:
        raise ValueError(f"not a function key: {shown!r}")
    n = int(match[2])
    return f"shift+f{n},f{n + 12}" if match[1] else f"f{n}"


#: The actions on the session in front: without one (the home tab, the queue) they are not in
#: the footer, and their keys answer "No session here" (``NO_SESSION``).
SESSION_ACTIONS = frozenset({
    "request_control", "toggle_typing", "copy_code", "end_session", "push_playbook", "step_done", "step_skip",
    "step_back", "suggest_command", "point_at", "clear_pointer", "toggle_steps", "toggle_recording", "call",
    "hangup", "mute", "invite", "show_team", "leave_session"})
#: What a session action's key runs when there is no session.
NO_SESSION = "no_session"


def bindings() -> list[Binding]:
    """The table's bindings, then a hidden one for each session key: Textual skips a binding
    its ``check_action`` turns off and tries the next for the same key."""
    table = [Binding(textual_keys(k.shown), k.action, k.footer, priority=True, show=k.show, key_display=k.shown)
             for k in CONSOLE_KEYS if k.shown]
    answers = [Binding(textual_keys(k.shown), NO_SESSION, "", priority=True, show=False, key_display=k.shown, system=True)
               for k in CONSOLE_KEYS if k.shown and k.action in SESSION_ACTIONS]
    return table + answers


def palette() -> list[tuple[str, str, str]]:
    """(title, help with its key, action) for every entry of the command palette."""
    return [(k.title, f"{k.help} ({k.shown.replace('⇧', 'shift+')})" if k.shown else k.help, k.action)
            for k in CONSOLE_KEYS if k.title]
