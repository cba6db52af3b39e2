"""Playbooks as data: the frozen model, its limits and its wire form.

A playbook is a title, an optional description and 1-200 steps; a step is a title, an
explanation (Markdown), optionally a command to suggest and optionally two patterns (Python
regular expressions): ``expect`` shows the step succeeded, ``fail`` that it failed.

``playbook_to_dict`` / ``playbook_from_dict`` are the wire and inline form (the agent pushes
it to the customer; integrations send it as JSON). ``playbook_from_dict`` treats its input
as hostile: every type, size and pattern is checked, and anything wrong raises
``PlaybookError`` (never another exception). The Markdown parser applies the same checks
(``check_text``, ``check_command``, ``check_pattern``) so a valid file is a valid dict.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from cobrowse.errors import LocalError
from cobrowse.protocol.pattern_size import too_large, units
from cobrowse.wire.frozen import frozen

MAX_STEPS = 200
MAX_TITLE = 200  # characters
MAX_BODY = 20 * 1024  # bytes of UTF-8, per step explanation and for the description
MAX_TOTAL = 1024 * 1024  # bytes of UTF-8, all text of one playbook (fits a message easily)
MAX_COMMAND = 4096  # characters
MAX_PATTERN = 500  # characters
#: What all of one playbook's patterns may compile to (``pattern_size.units``): ~14 MB at most.
MAX_PATTERN_UNITS = 100_000

STEP_KEYS = ("title", "body", "command", "expect", "fail")
PLAYBOOK_KEYS = ("title", "description", "steps")

# Control characters a title, command or pattern may not hold; text (body, description)
# may hold newlines and tabs but nothing that could drive a terminal (ESC, C1, ...).
# Lone surrogates (possible in JSON) are refused too: they cannot be encoded again; so are
# bidi overrides and isolates and zero-width spaces, which make a command or a pattern read
# differently from what it is (Trojan Source); joiners stay (emoji need them). Text an agent
# pushes is escaped before it gets here (cobrowse.protocol.untrusted).
_SPOOF = "\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff"
_CONTROL = f"[\\x00-\\x1f\\x7f-\\x9f\\ud800-\\udfff{_SPOOF}]"
_TEXT_CONTROL = f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\ud800-\\udfff{_SPOOF}]"


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _has(pattern: str, text: str) -> bool:
    """Compiled when a playbook is first checked, not at import (the join imports this module
    for its types; most sessions never see a playbook)."""
    return _compiled(pattern).search(text) is not None


class PlaybookError(LocalError):
    """A playbook that cannot be used: ``source`` (file), ``line`` (1-based) and ``message``.

    ``str()`` reads ``guide.md:12: expect: invalid regex (...)``; without a line
    ``guide.md: ...``; without a source just the message.
    """

    def __init__(self, message: str, source: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.source = source
        self.line = line
        super().__init__(self._format())

    def _format(self) -> str:
        if self.source is not None and self.line is not None:
            return f"{self.source}:{self.line}: {self.message}"
        if self.source is not None:
            return f"{self.source}: {self.message}"
        return self.message

    def __str__(self) -> str:
        return self._format()


@frozen
class Step:
    title: str
    body: str = ""
    command: str | None = None
    expect: str | None = None
    fail: str | None = None


@frozen
class Playbook:
    title: str
    steps: tuple[Step, ...]
    description: str = ""
    source: str | None = None


# --- field checks, shared by the parser and playbook_from_dict ------------------------------
# Each returns None when the value is fine, or a message that says what to fix.


def check_title(title: str) -> str | None:
    if not title.strip():
        return "the title is empty"
    if len(title) > MAX_TITLE:
        return f"the title is {len(title)} characters long; the limit is {MAX_TITLE}"
    if _has(_CONTROL, title):
        return "the title holds a control or invalid character"
    return None


def check_text(text: str, what: str) -> str | None:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY:
        return f"the {what} is {size} bytes long; the limit is {MAX_BODY}"
    if _has(_TEXT_CONTROL, text):
        return f"the {what} holds a control or invalid character (only newlines and tabs are allowed)"
    return None


def check_command(command: str) -> str | None:
    if not command.strip():
        return "the command is empty"
    if len(command) > MAX_COMMAND:
        return f"the command is {len(command)} characters long; the limit is {MAX_COMMAND}"
    if "\n" in command or "\r" in command:
        return "the command must be one line (a newline would run it without the customer pressing Enter)"
    if _has(_CONTROL, command):
        return "the command holds a control or invalid character"
    return None


def check_pattern(pattern: str) -> str | None:
    if not pattern:
        return "the pattern is empty"
    if len(pattern) > MAX_PATTERN:
        return f"the pattern is {len(pattern)} characters long; the limit is {MAX_PATTERN}"
    if _has(_CONTROL, pattern):
        return r"the pattern holds a control or invalid character (write \t, \x1b ... instead)"
    if problem := too_large(pattern):  # before compiling: regex unrolls counted repetition
        return f"the pattern is too large: {problem}"
    import regex  # on first use: the join's first screen compiles none (~7 ms of imports)

    try:
        regex.compile(pattern, cache_pattern=False)  # a check: the agent's patterns do not fill regex's cache
    except regex.error as exc:
        pos, msg = getattr(exc, "pos", None), getattr(exc, "msg", str(exc))  # regex's error carries both
        where = f" at position {pos}" if pos is not None else ""
        return f"invalid regex ({msg}{where})"
    except (RecursionError, OverflowError, ValueError) as exc:  # absurd nesting or repeat counts
        return f"invalid regex ({exc})"
    return None


def total_size(playbook: Playbook) -> int:
    """Bytes of UTF-8 text in the whole playbook (titles, description, steps)."""
    parts = [playbook.title, playbook.description]
    for step in playbook.steps:
        parts += [step.title, step.body, step.command or "", step.expect or "", step.fail or ""]
    return sum(len(p.encode("utf-8", "surrogatepass")) for p in parts)


# --- the wire / inline form ----------------------------------------------------------------


def playbook_to_dict(playbook: Playbook) -> dict[str, Any]:
    """``{"title", "description"?, "steps": [{"title", "body"?, "command"?, "expect"?, "fail"?}]}``.

    Empty descriptions and bodies and absent commands or patterns are left out; ``source``
    (a local path) never travels.
    """
    out: dict[str, Any] = {"title": playbook.title}
    if playbook.description:
        out["description"] = playbook.description
    steps = []
    for step in playbook.steps:
        s: dict[str, Any] = {"title": step.title}
        if step.body:
            s["body"] = step.body
        for key in ("command", "expect", "fail"):
            value = getattr(step, key)
            if value is not None:
                s[key] = value
        steps.append(s)
    out["steps"] = steps
    return out


def playbook_from_dict(data: Any, source: str | None = None) -> Playbook:
    """Build and validate a playbook from its dict form; anything wrong raises ``PlaybookError``.

    Unknown keys are refused (a typo such as ``"expct"`` must not silently drop a pattern).
    """

    def fail(message: str) -> PlaybookError:
        return PlaybookError(message, source)

    if not isinstance(data, dict):
        raise fail(f"a playbook must be a JSON object, not {_kind(data)}")
    unknown = sorted(str(k)[:40] for k in data if k not in PLAYBOOK_KEYS)
    if unknown:
        raise fail(f"unknown key {unknown[0]!r} (a playbook has {', '.join(PLAYBOOK_KEYS)})")
    title = data.get("title")
    if not isinstance(title, str):
        raise fail(f"title: must be a string, not {_kind(title)}")
    if problem := check_title(title):
        raise fail(f"title: {problem}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise fail(f"description: must be a string, not {_kind(description)}")
    if problem := check_text(description, "description"):
        raise fail(f"description: {problem}")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list):
        raise fail(f"steps: must be a list, not {_kind(raw_steps)}")
    if not raw_steps:
        raise fail("steps: a playbook needs at least one step")
    if len(raw_steps) > MAX_STEPS:
        raise fail(f"steps: {len(raw_steps)} steps; the limit is {MAX_STEPS}")
    steps = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_steps):
        where = f"steps[{i}]"
        if not isinstance(raw, dict):
            raise fail(f"{where}: a step must be an object, not {_kind(raw)}")
        unknown = sorted(str(k)[:40] for k in raw if k not in STEP_KEYS)
        if unknown:
            raise fail(f"{where}: unknown key {unknown[0]!r} (a step has {', '.join(STEP_KEYS)})")
        step_title = raw.get("title")
        if not isinstance(step_title, str):
            raise fail(f"{where}.title: must be a string, not {_kind(step_title)}")
        if problem := check_title(step_title):
            raise fail(f"{where}.title: {problem}")
        key = step_title.strip().casefold()
        if key in seen:
            raise fail(f"{where}.title: duplicate step title {step_title.strip()!r} (also steps[{seen[key]}])")
        seen[key] = i
        body = raw.get("body", "")
        if not isinstance(body, str):
            raise fail(f"{where}.body: must be a string, not {_kind(body)}")
        if problem := check_text(body, "explanation"):
            raise fail(f"{where}.body: {problem}")
        values: dict[str, str | None] = {}
        for name, check in (("command", check_command), ("expect", check_pattern), ("fail", check_pattern)):
            value = raw.get(name)
            if value is not None:
                if not isinstance(value, str):
                    raise fail(f"{where}.{name}: must be a string, not {_kind(value)}")
                if problem := check(value):
                    raise fail(f"{where}.{name}: {problem}")
            values[name] = value
        steps.append(Step(step_title.strip(), body, values["command"], values["expect"], values["fail"]))
    playbook = Playbook(title.strip(), tuple(steps), description, source)
    size = total_size(playbook)
    if size > MAX_TOTAL:
        raise fail(f"the playbook holds {size} bytes of text; the limit is {MAX_TOTAL}")
    compiled = sum(units(p) for step in playbook.steps for p in (step.expect, step.fail) if p)
    if compiled > MAX_PATTERN_UNITS:
        raise fail(f"the playbook's patterns would compile to {compiled} parts; the limit is {MAX_PATTERN_UNITS}")
    return playbook


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )
