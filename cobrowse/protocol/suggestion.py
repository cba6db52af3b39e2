"""Suggested commands are one printable line, pasted so that only the customer's Enter runs them.

A shell runs a line when it reads CR or LF, and the terminal driver acts on Ctrl-C, Ctrl-Z and
Ctrl-\\ before any shell sees them (bracketed paste does not help: the kernel does not know
about it), so one control byte in a paste can run the rest of it. The only safe suggestion is
one that holds no control character at all. The same check runs on the agent's side before
sending (so the agent hears why at once) and on the customer's side on receipt and again
before pasting (the customer's copy is the one that counts), and covers the commands of
playbook steps, which the customer pastes the same way.

Full-screen programs (the alternate screen: vim, less, top, ...) read printable keys as
commands, so nothing is pasted while one runs. Pure: text and terminal modes in, bytes or a
reason out.
"""

from __future__ import annotations

import unicodedata

from cobrowse.screen.keys import PASTE_END, PASTE_START, encode_paste
from cobrowse.screen.state import Modes
from cobrowse.wire.frozen import frozen

#: Longer than this, a customer cannot really read what they are about to run.
MAX_SUGGESTION = 2048

#: Characters that reorder how text is displayed: "rm -rf ~ #" can be shown as something else.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Line and paragraph separators: not controls, but some programs treat them as line ends.
LINE_SEPARATORS = frozenset("\u2028\u2029\u0085")

_NAMES = {
    "\r": "a carriage return (CR, Enter)", "\n": "a line feed (LF, a new line)", "\t": "a tab",
    "\x03": "Ctrl-C", "\x04": "Ctrl-D", "\x1a": "Ctrl-Z", "\x1c": "Ctrl-\\", "\x1b": "an escape (ESC)",
    "\x7f": "a delete (DEL)", "\x00": "a NUL byte",
}


@frozen
class Paste:
    """The bytes to write to the program: the command, perhaps in bracketed-paste markers."""

    data: bytes


@frozen
class Refused:
    """Not pasted; ``reason`` says why, for both people; ``retry`` when pasting later may work
    (the command is fine, the program on screen is not a prompt)."""

    reason: str
    retry: bool = False


def describe(char: str) -> str:
    """How a refused character is named to people: never the character itself."""
    name = _NAMES.get(char)
    if name is not None:
        return f"{name}, U+{ord(char):04X}"
    code = ord(char)
    if code < 0x20:
        return f"Ctrl-{chr(code + 0x40)} (U+{code:04X})"
    label = unicodedata.name(char, "")
    return f"{label.lower() or 'a control character'} (U+{code:04X})"


def check_suggestion(command: str) -> str | None:
    """Why ``command`` may not be suggested, or None if it is one printable line."""
    if not command.strip():
        return "the command is empty"
    if len(command) > MAX_SUGGESTION:
        return f"the command is {len(command)} characters long; a suggestion is at most {MAX_SUGGESTION}"
    for index, char in enumerate(command):
        code = ord(char)
        if code < 0x20 or 0x7F <= code <= 0x9F:
            kind = "a new line or Enter" if char in "\r\n" else "a control character"
            return (f"the command holds {describe(char)} at character {index + 1}: {kind} in a paste can run "
                    "it without the customer pressing Enter; a suggestion must be one printable line")
        if char in BIDI_CONTROLS:
            return (f"the command holds {describe(char)} at character {index + 1}: it changes how the command "
                    "is displayed, so the customer could not see what they would run")
        if char in LINE_SEPARATORS:
            return f"the command holds {describe(char)} at character {index + 1}: a suggestion must be one line"
        if 0xD800 <= code <= 0xDFFF:
            return f"the command holds an invalid character (a lone surrogate) at character {index + 1}"
    return None


def plan_paste(command: str, modes: Modes) -> Paste | Refused:
    """What pasting ``command`` into the program on screen (its ``modes``) does."""
    reason = check_suggestion(command)
    if reason is not None:
        return Refused(reason)
    if modes.alt_screen:
        return Refused("a full-screen program is on the screen (an editor, a pager, ...): it would take the "
                       "command's letters as its own commands. Leave it, back to your shell's prompt, then paste",
                       retry=True)
    data = encode_paste(command, modes)
    body = data[len(PASTE_START):-len(PASTE_END)] if modes.bracketed_paste else data
    if any(byte < 0x20 or byte == 0x7F for byte in body):  # the check above makes this impossible
        return Refused("the command would put a control byte into the terminal")
    return Paste(data)
