"""The one door for text from the other side: every peer string becomes ``SafeText``.

A hostile agent (or customer) controls every string it sends. Shown as it came, a string
can drive the viewer's terminal (ESC, CSI, OSC 52 clipboard writes, OSC 0 window titles,
C1 controls), reorder what is read (bidi overrides and isolates, Trojan-Source style),
hide text (zero-width and tag characters), forge our own lines (a newline followed by
``[cobrowse] Verified: ...``) or flood the screen (a 1 MB name). ``clean`` turns such a
string into one that can do none of this: every control, format, surrogate and separator
character is shown *visibly escaped* (``\\x1b``, ``\\u202e``), so the customer sees that
something odd was sent instead of having it silently removed, and every field is cut to
its cap with a visible ellipsis. Markup (``[b]``, ``[/]``) is left as it is: it is plain
data, and front ends never parse markup from a string that holds peer text.

Pure: no I/O. Cleaning is idempotent and leaves printable text of allowed length alone, so
what an honest peer sends reads exactly as it was written.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from enum import StrEnum
from typing import Any

from cobrowse.i18n.text import Translated

ELLIPSIS = "…"


class Field(StrEnum):
    """What a peer string is, which sets its cap and whether it may hold several lines."""

    NAME = "name"  # a person's or an organisation's name: Hello.name, credential agent and org
    CLIENT = "client"  # the peer's client version string
    KIND = "kind"  # a short stable word: End.reason, step status, an unknown message type
    CHAT = "chat"  # one chat line
    MESSAGE = "message"  # End.message: one line for people
    REASON = "reason"  # Call.reason and other short human reasons
    DETAIL = "detail"  # a trust verdict's explanation
    ERROR = "error"  # an error string the peer reports
    TITLE = "title"  # a playbook or step title
    BODY = "body"  # a step's explanation or a playbook's description (Markdown, several lines)
    COMMAND = "command"  # a command as displayed (never what is pasted: that is validated elsewhere)


#: Characters kept per field (the ellipsis included).
CAPS: dict[Field, int] = {
    Field.NAME: 64,
    Field.CLIENT: 64,
    Field.KIND: 64,
    Field.CHAT: 2000,
    Field.MESSAGE: 500,
    Field.REASON: 200,
    Field.DETAIL: 500,
    Field.ERROR: 500,
    Field.TITLE: 200,
    Field.BODY: 20 * 1024,  # the playbook's own limit (MAX_BODY): an honest playbook is never cut
    Field.COMMAND: 4096,
}

#: Fields that may hold several lines (``\n``) and tabs; in every other field they are escaped.
MULTILINE: frozenset[Field] = frozenset({Field.BODY})

# Format characters that join glyphs and spoof nothing: emoji sequences and several scripts
# need them.
_JOINERS = frozenset({"\u200c", "\u200d"})
# Control, format, surrogate, line and paragraph separator characters.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


class SafeText(str):
    """A peer string after ``clean``: no character in it can drive a terminal or reorder
    text, and it is within its field's cap. Still plain data: render it without markup."""

    __slots__ = ()


def dangerous(ch: str, multiline: bool = False) -> bool:
    """Whether showing ``ch`` as it is could drive a terminal or disguise text: controls
    (but ``\n`` and tab where several lines are allowed), format characters other than the
    joiners, surrogates, line and paragraph separators. Other non-printable characters
    (spaces other than " ", private use, unassigned) are harmless to show."""
    if ch.isprintable() or ch in _JOINERS or (multiline and ch in "\n\t"):
        return False
    return unicodedata.category(ch) in _ESCAPED_CATEGORIES


def _escape(ch: str, multiline: bool) -> str:
    if not dangerous(ch, multiline):
        return ch
    if ch in _SHORT:
        return _SHORT[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(text: str, cap: int | None = None, multiline: bool = False) -> str:
    """``text`` with every dangerous character visibly escaped and, when ``cap`` is given,
    cut to ``cap`` characters (the ellipsis included; an escape is never cut in half).
    Front ends use it as their last guard on whatever they print; ``clean`` is the typed
    door for peer fields. One exception: a ``Translated`` sentence handed over whole keeps
    its balanced isolates (LRI, RLI or FSI … PDI), which our right-to-left translations put
    around values (``cobrowse.i18n.text``); they only confine reordering to their inside. C speed whatever the input: a hostile peer's 4 MB of controls
    costs milliseconds, not seconds."""
    if cap is None:
        if _printable(text, multiline):
            return text
        if isinstance(text, Translated) and "\u2069" in text:
            return _keep_isolates(text, multiline)
        return text.translate(_escapes(multiline))
    limit = max(cap, 1)
    head = text[: limit + 1]  # escaping never shortens: more input could not fit anyway
    if not _printable(head, multiline):
        head = head.translate(_escapes(multiline))
    if len(head) <= limit:
        return head
    return _PARTIAL_ESCAPE.sub("", head[: limit - len(ELLIPSIS)]) + ELLIPSIS


_ISOLATES = re.compile("[\u2066\u2067\u2068\u2069]")


def _keep_isolates(text: str, multiline: bool) -> str:
    """``text`` escaped, but for isolate initiators and the PDI that closes each."""
    table = _escapes(multiline)
    keep: set[int] = set()
    opened: list[int] = []
    for match in _ISOLATES.finditer(text):
        if match[0] != "\u2069":
            opened.append(match.start())
        elif opened:
            keep.update((opened.pop(), match.start()))
    out: list[str] = []
    last = 0
    for at in sorted(keep):
        out += [text[last:at].translate(table), text[at]]
        last = at + 1
    out.append(text[last:].translate(table))
    return "".join(out)


def _printable(text: str, multiline: bool) -> bool:
    return (text.replace("\n", "").replace("\t", "") if multiline else text).isprintable()


# What a cut can leave of an escape at the end: a backslash and part of its digits.
_PARTIAL_ESCAPE = re.compile(r"\\(?:x[0-9a-f]?|u[0-9a-f]{0,3}|U[0-9a-f]{0,7})?\Z")


@functools.cache
def _escapes(multiline: bool) -> dict[int, str]:
    """The ``str.translate`` table: every dangerous code point to its escape, built the
    first time a string needs it (about 30 ms). Controls, format characters, surrogates
    and separators live in planes 0, 1 and 14; the other planes hold letters, private use
    or nothing yet."""
    category = unicodedata.category
    codes = (code for plane in (0x00000, 0x10000, 0xE0000) for code in range(plane, plane + 0x10000))
    table = {code: _escape(chr(code), False) for code in codes
             if category(chr(code)) in _ESCAPED_CATEGORIES and chr(code) not in _JOINERS}
    if multiline:
        del table[ord("\n")], table[ord("\t")]
    return table


def clean(value: object, field: Field) -> SafeText:
    """The door: any peer value (normally a string) as display-safe text for ``field``."""
    if isinstance(value, SafeText):
        return value
    text = value if isinstance(value, str) else str(value)
    return SafeText(visible(text, CAPS[field], field in MULTILINE))


_STEP_FIELDS: dict[str, Field] = {"title": Field.TITLE, "status": Field.KIND, "by": Field.KIND,
                                   "command": Field.COMMAND, "body": Field.BODY}
_MAX_STEPS = 200


def clean_steps_state(state: dict[str, Any]) -> dict[str, Any]:
    """A step state (``StepMachine.to_dict``) or ``{"error"}`` from the customer, rebuilt from
    the keys it may hold, with every string cleaned. Unknown keys are dropped: the agent
    spreads this dict into its ``steps`` event, where a key such as ``event`` would rename it."""
    if "error" in state:
        return {"error": clean(state["error"], Field.ERROR)}
    out: dict[str, Any] = {}
    if isinstance(state.get("title"), str):
        out["title"] = clean(state["title"], Field.TITLE)
    current = state.get("current")
    out["current"] = current if isinstance(current, int) and not isinstance(current, bool) else None
    out["finished"] = state.get("finished") is True
    raw_steps = state.get("steps")
    steps: list[dict[str, Any]] = []
    for raw in raw_steps[:_MAX_STEPS] if isinstance(raw_steps, list) else ():
        if not isinstance(raw, dict):
            continue
        step: dict[str, Any] = {key: clean(raw[key], field) for key, field in _STEP_FIELDS.items()
                                if isinstance(raw.get(key), str)}
        step.setdefault("title", SafeText(""))
        at = raw.get("at")
        step["at"] = at if isinstance(at, (int, float)) and not isinstance(at, bool) else None
        steps.append(step)
    out["steps"] = steps
    return out


def clean_playbook(data: dict[str, Any]) -> dict[str, Any]:
    """A pushed playbook's dict with the text people read (titles, description, step bodies)
    cleaned; everything else, commands and patterns included, is left for
    ``playbook_from_dict`` to validate (it refuses control characters there)."""
    out = dict(data)
    for key, field in (("title", Field.TITLE), ("description", Field.BODY)):
        if isinstance(out.get(key), str):
            out[key] = clean(out[key], field)
    if isinstance(out.get("steps"), list):
        out["steps"] = [_clean_step(step) if isinstance(step, dict) else step for step in out["steps"]]
    return out


def _clean_step(step: dict[str, Any]) -> dict[str, Any]:
    out = dict(step)
    for key, field in (("title", Field.TITLE), ("body", Field.BODY)):
        if isinstance(out.get(key), str):
            out[key] = clean(out[key], field)
    return out
