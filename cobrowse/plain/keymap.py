"""The customer's Ctrl-] keys: one table, from which every front end's parser and help come.

Plain mode, the customer app and guide mode all read the key after Ctrl-] (0x1d, the telnet
convention); the help screens, the status hints and the "unknown key" notice list the same
keys. They were written out four times and drifted; now each is generated from ``KEYMAP``.
Pure: data and string building only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cobrowse.i18n.text import N_, Translated, Translator, current, joined


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
    PrefixKey("c", "chat", N_("chat"), N_("chat with the agent (Enter sends; Escape goes back to the shell)")),
    PrefixKey("y", "allow", N_("allow"), N_("allow what the agent asks (the question on screen says what)")),
    PrefixKey("n", "deny", N_("deny"), N_("deny what the agent asks")),
    PrefixKey("g", "grant_control", N_("control"), N_("grant the agent control of your terminal")),
    PrefixKey("s", "grant_suggest", N_("suggest"), N_("grant suggest (the agent may propose commands)")),
    PrefixKey("r", "revoke", N_("revoke"), N_("revoke: back to view only, at once")),
    PrefixKey("p", "pause", N_("pause"), N_("pause / resume sharing your screen")),
    PrefixKey("a", "paste_suggestion", N_("paste"), N_("paste the agent's suggested command at your prompt (you press Enter)"),
              hint=False, guide=N_("paste the step's command"),
              step=N_("pastes a suggested command")),
    PrefixKey("d", "decline_suggestion", N_("decline"), N_("decline the agent's suggested command"), hint=False),
    PrefixKey("m", "step_done", N_("step done"), N_("mark the current guide step done"), hint=False, guide=N_("done"), step=N_("done")),
    PrefixKey("k", "step_skip", N_("skip step"), N_("skip the current guide step"), hint=False, guide=N_("skip"), step=N_("skip")),
    PrefixKey("t", "call", N_("talk"), N_("talk: call the agent, or answer their call (your microphone is on only in a call)"), hint=False),
    PrefixKey("o", "hangup", N_("hang up"), N_("hang up, or decline a ringing call"), hint=False),
    PrefixKey("u", "mute", N_("mute"), N_("mute / unmute your microphone"), hint=False),
    PrefixKey("x", "stop_recording", N_("stop recording"), N_("stop the agent's recording of this session, at once"), hint=False),
    PrefixKey("!", "get_help", N_("get help"), N_("(cobrowse guide) get help: create a session and show its code for an agent"),
              frozenset({Front.GUIDE}), guide=N_("get help from an agent")),
    PrefixKey("f", "report", N_("report"), N_("flag: report this session to the relay's operator (a suspected scam)")),
    PrefixKey("e", "end", N_("end"), N_("end the session (press it twice once connected)"), guide=N_("end")),
    PrefixKey("b", "toggle_panel", N_("panel"), N_("show / hide the side panel"), frozenset({Front.APP}), guide=N_("panel")),
    PrefixKey("v", "preview", N_("preview"), N_("see exactly what the agent sees"), frozenset({Front.APP})),
    PrefixKey("?", "help", N_("help"), N_("this help"), guide=N_("help")),
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


def hint(front: Front, *, guide: bool = False, lead: str | None = None, every: bool = False,
         tr: Translator | None = None) -> str:
    """One line for a status bar (the common keys) or plain mode's help (``every`` key)."""
    tr = tr or current()
    shown = joined(" · ", (tr("{key} {what}", key=k.key, what=tr(k.short)) for k in keys_for(front, guide=guide)
                            if k.hint or every))
    if lead is None:
        return tr("Ctrl-] then: {keys} · Ctrl-] literal Ctrl-]", keys=shown)
    return f"{lead} {shown} · Ctrl-] literal Ctrl-]"


def guide_hint(front: Front, tr: Translator | None = None) -> str:
    """Guide mode's status line before a session exists: get help first, then the step keys."""
    tr = tr or current()
    shown = sorted((k for k in keys_for(front, guide=True) if k.guide), key=lambda k: k.command != "get_help")
    return tr("Ctrl-] then: {keys}", keys=joined(" · ", (tr("{key} {what}", key=k.key, what=tr(k.guide)) for k in shown)))


def step_hint(front: Front, tr: Translator | None = None) -> str:
    """The hint under a guide step: the keys that act on it."""
    tr = tr or current()
    return tr("Ctrl-] {keys}", keys=joined(" · ", (tr("{key} {what}", key=k.key, what=tr(k.step))
                                                   for k in keys_for(front) if k.step)))


def help_text(front: Front, *, guide: bool = True, tr: Translator | None = None) -> str:
    """The help screen: every key with its line, one a line."""
    tr = tr or current()
    rows = [tr("  {key} {what}", key=f"{k.key:<8}", what=tr(k.help)) for k in keys_for(front, guide=guide)]
    blank = Translated("")
    return joined("\n", [tr("Every key goes to your shell. To talk to cobrowse, press Ctrl-] and then:"), blank, *rows,
                         tr("  Ctrl-]   a literal Ctrl-] for your program"), blank,
                         tr("A request nobody answers is denied.")])


def unknown_key(front: Front, *, guide: bool = False, tr: Translator | None = None) -> str:
    """What to say when the key after Ctrl-] is none of these."""
    tr = tr or current()
    keys = [k.key for k in keys_for(front, guide=guide)]
    return tr("Ctrl-] then {keys} or {last} (help)", keys=", ".join(keys[:-1]), last=keys[-1])
