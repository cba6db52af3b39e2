"""The ``[keys]`` section of the config file: the customer's prefix key and the letters after
it, and the agent console's keys::

    [keys]
    prefix = "ctrl-a"          # instead of Ctrl-] (screen's convention, say)

    [keys.customer]            # the key after the prefix, by what it does (cobrowse.plain.keymap)
    chat = "t"
    call = "l"

    [keys.console]             # the agent console, by action (tui/agent_keys.py)
    suggest_command = "shift+F3"
    new_session = "F2"

Everything is checked before anything runs: an unknown name, a key that is not one, two
commands on one key, each is an error naming the setting and the file. The console's names
are checked by the console itself (``tui.agent_keys.configure``): this module knows only
their shape. Pure: values in, settings or an error out.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from cobrowse.plain.keymap import DEFAULT_PREFIX, KEYMAP, KeyConflict, check_letters
from cobrowse.wire.frozen import frozen

#: Prefix keys refused: the shell needs them (interrupt, EOF, erase, tab, Enter, Escape, suspend).
RESERVED = {"c": "interrupts programs", "d": "ends input (EOF)", "h": "erases a character", "i": "is Tab",
            "j": "is a new line", "m": "is Enter", "[": "is Escape", "z": "suspends programs"}
_CONTROL = r"(?:ctrl[-+]|c-|\^)([a-z\\\]^_@])"
_FUNCTION = r"(shift\+|⇧|s-)?f(\d{1,2})"


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    """Compiled when a ``[keys]`` setting is read, not at import (on the join's path)."""
    return re.compile(pattern, re.I)


class KeysError(ValueError):
    """A ``[keys]`` setting that cannot be used (the message names it)."""


@frozen
class KeysSettings:
    prefix: int = DEFAULT_PREFIX  # the byte a Ctrl-letter sends
    letters: tuple[tuple[str, str], ...] = ()  # (command, key after the prefix), only those changed
    console: tuple[tuple[str, str], ...] = ()  # (console action, key as shown: "F2", "⇧F2")


def prefix_byte(value: str) -> int:
    """``"ctrl-]"``, ``"C-a"``, ``"^A"`` → the byte the terminal sends for it."""
    match = _compiled(_CONTROL).fullmatch(value.strip())
    if match is None:
        raise KeysError(f"prefix = {value!r}: expected a control key like \"ctrl-]\" or \"ctrl-a\"")
    letter = match[1].lower()
    if letter in RESERVED:
        raise KeysError(f"prefix = {value!r}: Ctrl-{letter.upper()} {RESERVED[letter]}; pick another (Ctrl-] is the default)")
    return ord(letter.upper()) - 0x40


def console_key(value: str) -> str:
    """``"F2"``, ``"shift+F2"``, ``"⇧F2"`` → the console's way of showing it (``⇧F2``)."""
    match = _compiled(_FUNCTION).fullmatch(value.strip())
    if match is None or not 1 <= int(match[2]) <= 12:
        raise KeysError(f"{value!r} is not a function key: write F1 … F12 or shift+F1 … shift+F12")
    shifted = bool(match[1])
    if shifted and int(match[2]) == 3:
        raise KeysError(f"{value!r}: xterm sends shift+F3 as a cursor-position report, so it cannot be a key")
    return f"{'⇧' if shifted else ''}F{int(match[2])}"


def parse_keys(section: Any, where: str) -> KeysSettings:
    """The ``[keys]`` table of the config file at ``where`` (a KeysError names the setting)."""
    if not isinstance(section, dict):
        raise KeysError(f"{where}: [keys] must be a table")
    unknown = set(section) - {"prefix", "customer", "console"}
    if unknown:
        raise KeysError(f"{where}: unknown setting keys.{sorted(unknown)[0]} (known: prefix, customer, console)")
    try:
        prefix = DEFAULT_PREFIX
        if "prefix" in section:
            if not isinstance(section["prefix"], str):
                raise KeysError("prefix: expected a string like \"ctrl-]\"")
            prefix = prefix_byte(section["prefix"])
        letters = _letters(section.get("customer", {}))
        console = _console(section.get("console", {}))
    except (KeysError, KeyConflict) as exc:
        raise KeysError(f"{where}: keys.{exc}") from None
    return KeysSettings(prefix, letters, console)


def _letters(table: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(table, dict):
        raise KeysError("customer: expected a table of command = \"letter\"")
    commands = {k.command for k in KEYMAP}
    out: list[tuple[str, str]] = []
    for command, key in table.items():
        if command not in commands:
            raise KeysError(f"customer.{command}: no such command (known: {', '.join(sorted(commands))})")
        if not (isinstance(key, str) and len(key) == 1 and key.isascii() and key.isprintable() and key != " "
                and key == key.lower()):
            raise KeysError(f"customer.{command} = {key!r}: expected one lowercase letter, digit or sign, like \"c\"")
        out.append((command, key))
    check_letters(dict(out))
    return tuple(out)


def _console(table: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(table, dict):
        raise KeysError("console: expected a table of action = \"F2\"")
    out: list[tuple[str, str]] = []
    for action, key in table.items():
        if not isinstance(key, str):
            raise KeysError(f"console.{action}: expected a key like \"F2\" or \"shift+F2\"")
        try:
            out.append((action, console_key(key)))
        except KeysError as exc:
            raise KeysError(f"console.{action} = {exc}") from None
    return tuple(out)
