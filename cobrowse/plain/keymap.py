"""The customer's Ctrl-] keys: one table, from which every front end's parser and help come.

Plain mode, the customer app and guide mode all read the key after Ctrl-] (0x1d, the telnet
convention); the help screens, the status hints and the "unknown key" notice list the same
keys. They were written out four times and drifted; now each is generated from ``KEYMAP``.
Pure: data and string building only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Front(StrEnum):
    """Where a key works: plain mode (``--plain``), the full-screen app, or either's guide."""

    PLAIN = "plain"
    APP = "app"
    GUIDE = "guide"


BOTH = frozenset({Front.PLAIN, Front.APP})


@dataclass(frozen=True)
class PrefixKey:
    key: str  # the key after Ctrl-]
    command: str  # what it runs: a CustomerRuntime command, or the front end's own (chat, panel, ...)
    short: str  # a word or two for one-line hints
    help: str  # the line on the help screen
    fronts: frozenset[Front] = BOTH
    hint: bool = True  # shown in the one-line hints (the rest only on the help screen)
    guide: str = ""  # its words in guide mode's hint, before a session exists (empty: not shown)
    step: str = ""  # its words in the hint under a guide step (empty: not shown)


KEYMAP: tuple[PrefixKey, ...] = (
    PrefixKey("c", "chat", "chat", "chat with the agent (Enter sends; Escape goes back to the shell)"),
    PrefixKey("y", "allow", "allow", "allow what the agent asks (the question on screen says what)"),
    PrefixKey("n", "deny", "deny", "deny what the agent asks"),
    PrefixKey("g", "grant_control", "control", "grant the agent control of your terminal"),
    PrefixKey("s", "grant_suggest", "suggest", "grant suggest (the agent may propose commands)"),
    PrefixKey("r", "revoke", "revoke", "revoke: back to view only, at once"),
    PrefixKey("p", "pause", "pause", "pause / resume sharing your screen"),
    PrefixKey("a", "paste_suggestion", "paste", "paste the agent's suggested command at your prompt (you press Enter)",
              hint=False, guide="paste the step's command",
              step="pastes a suggested command"),
    PrefixKey("d", "decline_suggestion", "decline", "decline the agent's suggested command", hint=False),
    PrefixKey("m", "step_done", "step done", "mark the current guide step done", hint=False, guide="done", step="done"),
    PrefixKey("k", "step_skip", "skip step", "skip the current guide step", hint=False, guide="skip", step="skip"),
    PrefixKey("t", "call", "talk", "talk: call the agent, or answer their call (your microphone is on only in a call)", hint=False),
    PrefixKey("o", "hangup", "hang up", "hang up, or decline a ringing call", hint=False),
    PrefixKey("u", "mute", "mute", "mute / unmute your microphone", hint=False),
    PrefixKey("x", "stop_recording", "stop recording", "stop the agent's recording of this session, at once", hint=False),
    PrefixKey("!", "get_help", "get help", "(cobrowse guide) get help: create a session and show its code for an agent",
              frozenset({Front.GUIDE}), guide="get help from an agent"),
    PrefixKey("f", "report", "report", "flag: report this session to the relay's operator (a suspected scam)"),
    PrefixKey("e", "end", "end", "end the session (press it twice once connected)", guide="end"),
    PrefixKey("b", "toggle_panel", "panel", "show / hide the side panel", frozenset({Front.APP}), guide="panel"),
    PrefixKey("v", "preview", "preview", "see exactly what the agent sees", frozenset({Front.APP})),
    PrefixKey("?", "help", "help", "this help", guide="help"),
)
#: Also accepted: ``h`` for help, as in many terminal programs.
ALIASES = {"h": "?"}
#: Guide mode's "get help from an agent" key.
GET_HELP = next(k.key for k in KEYMAP if k.command == "get_help")


def keys_for(front: Front, *, guide: bool = False) -> tuple[PrefixKey, ...]:
    """The keys that work in ``front`` (guide mode adds the guide's own)."""
    return tuple(k for k in KEYMAP if front in k.fronts or (guide and Front.GUIDE in k.fronts))


def command_for(key: str, front: Front, *, guide: bool = False) -> str | None:
    """What ``key`` after Ctrl-] runs in ``front`` (None: not a cobrowse key there)."""
    key = ALIASES.get(key, key)
    return next((k.command for k in keys_for(front, guide=guide) if k.key == key), None)


def hint(front: Front, *, guide: bool = False, lead: str = "Ctrl-] then:", every: bool = False) -> str:
    """One line for a status bar (the common keys) or plain mode's help (``every`` key)."""
    shown = [f"{k.key} {k.short}" for k in keys_for(front, guide=guide) if k.hint or every]
    return f"{lead} " + " · ".join(shown) + " · Ctrl-] literal Ctrl-]"


def guide_hint(front: Front) -> str:
    """Guide mode's status line before a session exists: get help first, then the step keys."""
    shown = sorted((k for k in keys_for(front, guide=True) if k.guide), key=lambda k: k.command != "get_help")
    return "Ctrl-] then: " + " · ".join(f"{k.key} {k.guide}" for k in shown)


def step_hint(front: Front) -> str:
    """The hint under a guide step: the keys that act on it."""
    return "Ctrl-] " + " · ".join(f"{k.key} {k.step}" for k in keys_for(front) if k.step)


def help_text(front: Front, *, guide: bool = True) -> str:
    """The help screen: every key with its line, one a line."""
    rows = [f"  {k.key:<8} {k.help}" for k in keys_for(front, guide=guide)]
    return ("Every key goes to your shell. To talk to cobrowse, press Ctrl-] and then:\n\n"
            + "\n".join(rows)
            + "\n  Ctrl-]   a literal Ctrl-] for your program\n\nA request nobody answers is denied.")


def unknown_key(front: Front, *, guide: bool = False) -> str:
    """What to say when the key after Ctrl-] is none of these."""
    keys = [k.key for k in keys_for(front, guide=guide)]
    return f"Ctrl-] then {', '.join(keys[:-1])} or {keys[-1]} (help)"
