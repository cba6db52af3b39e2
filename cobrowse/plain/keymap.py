"""The customer's Ctrl-] keys: one table, from which every front end's parser and help come.

Plain mode, the customer app and guide mode all read the key after Ctrl-] (0x1d, the telnet
convention); the help screens, the status hints and the "unknown key" notice list the same
keys. They were written out four times and drifted; now each is generated from ``KEYMAP``.

The config file may change the prefix and the letters (``[keys]``, ``keys_config.py``):
``configure`` sets the table every function here reads, once, at start-up, before any front
end reads it. Sentences written elsewhere with the default keys ("press Ctrl-] p") are
told in the configured ones by ``rewrite``. Pure: data and string building only.
"""

from __future__ import annotations

import re
from dataclasses import replace
from enum import StrEnum
from typing import Mapping

from cobrowse.i18n.text import N_, Translated, Translator, current, joined
from cobrowse.wire.frozen import frozen


class Front(StrEnum):
    """Where a key works: plain mode (``--plain``), the full-screen app, or either's guide."""

    PLAIN = "plain"
    APP = "app"
    GUIDE = "guide"


BOTH = frozenset({Front.PLAIN, Front.APP})


@frozen
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
    PrefixKey("l", "drop_viewer", N_("remove agent"),
              N_("remove an agent from the session (pick one, the latest to join first)")),
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
#: Ctrl-] (0x1d): the default prefix.
DEFAULT_PREFIX = 0x1D
DEFAULT_NAME = "Ctrl-]"


class KeyConflict(ValueError):
    """Two commands on one key where both work (the message names both)."""


@frozen
class _Active:
    table: tuple[PrefixKey, ...] = KEYMAP
    aliases: tuple[tuple[str, str], ...] = tuple(ALIASES.items())
    prefix: int = DEFAULT_PREFIX


_active = _Active()


def check_letters(letters: Mapping[str, str]) -> tuple[PrefixKey, ...]:
    """The table with ``letters`` (command → key) in place; KeyConflict if two commands that
    work in the same front end would share a key."""
    table = tuple(replace(k, key=letters.get(k.command, k.key)) for k in KEYMAP)
    for front in Front:
        seen: dict[str, str] = {}
        for k in table:
            if front in k.fronts or (front is not Front.GUIDE and Front.GUIDE in k.fronts):
                if k.key in seen:
                    moved, other = sorted((k.command, seen[k.key]), key=lambda c: c not in letters)
                    raise KeyConflict(f"customer.{moved} = {k.key!r}: that key already does {other!r}"
                                      f"{'' if other in letters else ' (move it too)'}")
                seen[k.key] = k.command
    return table


def configure(prefix: int = DEFAULT_PREFIX, letters: Mapping[str, str] | None = None) -> None:
    """Use ``prefix`` (a control byte) and ``letters`` (command → key) from now on."""
    global _active
    table = check_letters(letters) if letters else KEYMAP
    taken = {k.key for k in table}
    aliases = tuple((a, t) for a, t in ALIASES.items() if a not in taken)
    help_key = next(k.key for k in table if k.command == "help")
    _active = _Active(table, tuple((a, help_key) for a, _ in aliases), prefix)


def active() -> tuple[PrefixKey, ...]:
    """The table in use (the default, or the config file's)."""
    return _active.table


def prefix_byte() -> bytes:
    return bytes([_active.prefix])


def prefix_name(prefix: int | None = None) -> str:
    """How the prefix is written for people: ``Ctrl-]``, ``Ctrl-A``."""
    byte = _active.prefix if prefix is None else prefix
    return f"Ctrl-{chr(byte + 0x40)}"


def key_of(command: str) -> str:
    """The key after the prefix that runs ``command`` now."""
    return next(k.key for k in _active.table if k.command == command)


#: A key after the prefix (either may be in an isolate: Persian) ends at anything but a letter or digit ("）", PDI).
_MENTION = re.compile(r"Ctrl-\](?:(\u2069?) ([\u2066\u2068]?)([a-z?!])(?![A-Za-z0-9]))?")


def rewrite(text: str) -> str:
    """``text`` written with the default keys ("Ctrl-] p pauses") in the configured ones."""
    if _active.table is KEYMAP and _active.prefix == DEFAULT_PREFIX:
        return text
    letters = {d.key: k.key for d, k in zip(KEYMAP, _active.table)}
    name = prefix_name()

    def one(match: re.Match[str]) -> str:
        return name if match[3] is None else f"{name}{match[1]} {match[2]}{letters.get(match[3], match[3])}"

    return _same_kind(text, _MENTION.sub(one, text))


def _named(text: str) -> str:
    """Text built here from the active table: only the prefix's name may need changing."""
    return text if _active.prefix == DEFAULT_PREFIX else _same_kind(text, text.replace(DEFAULT_NAME, prefix_name()))


def _same_kind(before: str, after: str) -> str:
    """One of our sentences stays ``Translated`` (its isolates are ours) when a key name in it
    changes: nothing the rewrite puts in is a control character."""
    return Translated(after) if isinstance(before, Translated) else after


def keys_for(front: Front, *, guide: bool = False) -> tuple[PrefixKey, ...]:
    """The keys that work in ``front`` (guide mode adds the guide's own)."""
    return tuple(k for k in _active.table if front in k.fronts or (guide and Front.GUIDE in k.fronts))


def command_for(key: str, front: Front, *, guide: bool = False) -> str | None:
    """What ``key`` after Ctrl-] runs in ``front`` (None: not a cobrowse key there)."""
    key = dict(_active.aliases).get(key, key)
    return next((k.command for k in keys_for(front, guide=guide) if k.key == key), None)


def hint(front: Front, *, guide: bool = False, lead: str | None = None, every: bool = False,
         tr: Translator | None = None) -> str:
    """One line for a status bar (the common keys) or plain mode's help (``every`` key)."""
    tr = tr or current()
    shown = joined(" · ", (tr("{key} {what}", key=k.key, what=tr(k.short)) for k in keys_for(front, guide=guide)
                            if k.hint or every))
    if lead is None:
        return _named(tr("Ctrl-] then: {keys} · Ctrl-] literal Ctrl-]", keys=shown))
    return _named(f"{lead} {shown} · Ctrl-] literal Ctrl-]")


def guide_hint(front: Front, tr: Translator | None = None) -> str:
    """Guide mode's status line before a session exists: get help first, then the step keys."""
    tr = tr or current()
    shown = sorted((k for k in keys_for(front, guide=True) if k.guide), key=lambda k: k.command != "get_help")
    return _named(tr("Ctrl-] then: {keys}", keys=joined(" · ", (tr("{key} {what}", key=k.key, what=tr(k.guide))
                                                               for k in shown))))


def step_hint(front: Front, tr: Translator | None = None) -> str:
    """The hint under a guide step: the keys that act on it."""
    tr = tr or current()
    return _named(tr("Ctrl-] {keys}", keys=joined(" · ", (tr("{key} {what}", key=k.key, what=tr(k.step))
                                                          for k in keys_for(front) if k.step))))


def help_text(front: Front, *, guide: bool = True, tr: Translator | None = None) -> str:
    """The help screen: every key with its line, one a line."""
    tr = tr or current()
    rows = [tr("  {key} {what}", key=f"{k.key:<8}", what=tr(k.help)) for k in keys_for(front, guide=guide)]
    blank = Translated("")
    return _named(joined("\n", [tr("Every key goes to your shell. To talk to cobrowse, press Ctrl-] and then:"), blank, *rows,
                                tr("  Ctrl-]   a literal Ctrl-] for your program"), blank,
                                tr("A request nobody answers is denied.")]))


def unknown_key(front: Front, *, guide: bool = False, tr: Translator | None = None) -> str:
    """What to say when the key after Ctrl-] is none of these."""
    tr = tr or current()
    keys = [k.key for k in keys_for(front, guide=guide)]
    return _named(tr("Ctrl-] then {keys} or {last} (help)", keys=", ".join(keys[:-1]), last=keys[-1]))
