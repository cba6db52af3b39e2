"""Playbook files: Markdown with a small convention (``docs/playbooks.md`` has the full guide).

::

    # Collect diagnostics              the title: the first line that is not blank or a comment
    Optional description.              anything before the first step
    ## Check the CLI version           one step per level-2 heading
    Explanation, in Markdown.          the step's body (### and deeper headings are body too)
    ```sh                              a sh/bash/shell/zsh/... block: the command to suggest
    acme --version                     (one command; lines ending in \\ are joined)
    ```
    expect: `acme \\d+\\.\\d+`           the success pattern (a Python regex), optional
    fail: `(?i)command not found`      the failure pattern, optional

Instead of the block, ``command: `acme --version``` on a line of its own. Key lines start
at column 0; the value is one code span or plain text. A line of the form
``word: `value``` with an unknown lowercase word is an error (a typo must not silently drop a
pattern). Other code blocks (```text, ```console, no language) stay in the body.
HTML comment lines (``<!-- ... -->``) are notes for the authors and are dropped.

Every error says where: ``PlaybookError`` with ``source``, ``line`` and ``message``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from cobrowse.playbook.model import (
    MAX_STEPS,
    MAX_TOTAL,
    Playbook,
    PlaybookError,
    Step,
    check_command,
    check_pattern,
    check_text,
    check_title,
    total_size,
)

SHELL_LANGUAGES = frozenset({"sh", "bash", "shell", "zsh", "fish", "ksh", "powershell", "pwsh", "ps1", "cmd", "bat"})
KEYS = ("command", "expect", "fail")
MAX_FILE = 4 * 1024 * 1024  # bytes: well above any valid playbook (MAX_TOTAL is 1 MiB of text)

_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_CLOSING_HASHES = re.compile(r"(?:^|[ \t]+)#+$")
_FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,})[ \t]*(.*?)[ \t]*$")
_KNOWN_KEY = re.compile(r"^(command|expect|fail)[ \t]*:(.*)$", re.IGNORECASE)
_KEYISH = re.compile(r"^([a-z][a-z0-9_-]*):[ \t]*`.*`[ \t]*$")
_BAD_CHAR = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_SYNONYMS = {
    "run": "command", "cmd": "command", "exec": "command", "shell": "command", "commands": "command",
    "success": "expect", "pattern": "expect", "match": "expect", "matches": "expect", "wait": "expect",
    "until": "expect", "ok": "expect", "expected": "expect", "expects": "expect",
    "error": "fail", "failure": "fail", "fails": "fail", "failed": "fail",
}


@dataclass
class _Fence:
    line: int
    char: str
    length: int
    command: bool
    content: list[str] = field(default_factory=list)


@dataclass
class _Draft:
    title: str
    line: int
    body: list[str | None] = field(default_factory=list)  # None marks a removed line
    values: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)


def load_playbook(path: str | Path) -> Playbook:
    """Read and parse a playbook file (UTF-8); any problem raises ``PlaybookError``."""
    path = Path(path)
    source = str(path)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE + 1)
    except IsADirectoryError:
        raise PlaybookError("is a folder, not a playbook file", source) from None
    except FileNotFoundError:
        raise PlaybookError("no such file", source) from None
    except OSError as exc:
        raise PlaybookError(f"cannot read the file ({exc.strerror or exc})", source) from None
    if len(data) > MAX_FILE:
        raise PlaybookError(f"the file is larger than {MAX_FILE // (1024 * 1024)} MiB: not a playbook", source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PlaybookError("the file is not UTF-8 text; save it as UTF-8", source, line) from None
    return parse_playbook(text, source)


def parse_playbook(text: str, source: str = "<inline>") -> Playbook:
    """Parse the Markdown form of a playbook; any problem raises ``PlaybookError``."""
    return _Parser(source).parse(text)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.title: str | None = None
        self.title_line = 0
        self.description: list[str | None] = []
        self.steps: list[_Draft] = []
        self.seen: dict[str, int] = {}
        self.fence: _Fence | None = None
        self.comment_line: int | None = None

    def error(self, message: str, line: int | None = None) -> PlaybookError:
        return PlaybookError(message, self.source, line)

    def parse(self, text: str) -> Playbook:
        if text.startswith("\ufeff"):
            text = text[1:]
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for number, line in enumerate(lines, 1):
            if bad := _BAD_CHAR.search(line):
                raise self.error(f"a control character (U+{ord(bad.group()):04X}) in the text; remove it", number)
            self.line(number, line)
        if self.fence is not None:
            raise self.error(
                f"this {self.fence.char * 3} block is never closed: add a line {self.fence.char * self.fence.length}",
                self.fence.line,
            )
        if self.comment_line is not None:
            raise self.error("this <!-- comment is never closed: add -->", self.comment_line)
        if self.title is None:
            raise self.error("no title: start the file with a line `# Title`")
        if not self.steps:
            raise self.error("no steps: add a `## Step title` heading for each step", self.title_line)
        return self.build()

    # --- one line at a time -----------------------------------------------------------------

    def line(self, number: int, line: str) -> None:
        if self.comment_line is not None:
            if "-->" in line:
                self.comment_line = None
            return
        if self.fence is not None:
            self.fence_line(number, line)
            return
        stripped = line.strip()
        if stripped.startswith("<!--"):
            if "-->" not in stripped[4:]:
                self.comment_line = number
            return
        heading = _HEADING.match(line)
        level = len(heading.group(1)) if heading else 0
        text = _CLOSING_HASHES.sub("", heading.group(2) or "").strip() if heading else ""
        if self.title is None:
            if not stripped:
                return
            if level != 1:
                hint = " (a space must follow the #)" if re.match(r"#+[^#\s]", stripped) else ""
                raise self.error(f"a playbook starts with its title: a line `# Title`{hint}", number)
            if problem := check_title(text):
                raise self.error(f"title: {problem}", number)
            self.title, self.title_line = text, number
            return
        if level == 1:
            raise self.error(
                f"a second `# ` title (the title is on line {self.title_line}); steps are `## ` headings", number
            )
        if level == 2:
            self.start_step(number, text)
            return
        if re.match(r"##[^#\s]", line):
            raise self.error("not a step heading: put a space after the ## (`## Step title`)", number)
        fence = _FENCE.match(line)
        if fence and not (fence.group(2)[0] == "`" and "`" in fence.group(3)):
            self.open_fence(number, line, fence)
            return
        key = _KNOWN_KEY.match(line)
        if key:
            self.key_line(number, key.group(1).lower(), key.group(2))
            return
        keyish = _KEYISH.match(line)
        if keyish:
            word = keyish.group(1)
            guess = _SYNONYMS.get(word) or next(iter(difflib.get_close_matches(word, KEYS, n=1, cutoff=0.6)), None)
            hint = f"; did you mean `{guess}:`?" if guess else ""
            raise self.error(
                f"unknown key `{word}:` (the keys are `command:`, `expect:` and `fail:`){hint} "
                f"For a line of text, start it with a capital letter",
                number,
            )
        self.target().append(line)

    def target(self) -> list[str | None]:
        return self.steps[-1].body if self.steps else self.description

    def start_step(self, number: int, title: str) -> None:
        if not title:
            raise self.error("a step heading without a title: write `## What to do`", number)
        if problem := check_title(title):
            raise self.error(f"step title: {problem}", number)
        if len(self.steps) >= MAX_STEPS:
            raise self.error(f"too many steps: the limit is {MAX_STEPS}; split the playbook", number)
        folded = title.casefold()
        if folded in self.seen:
            raise self.error(
                f"duplicate step title {title!r} (also on line {self.seen[folded]}); step titles must differ",
                number,
            )
        self.seen[folded] = number
        self.steps.append(_Draft(title, number))

    def open_fence(self, number: int, line: str, match: re.Match[str]) -> None:
        marks = match.group(2)
        words = match.group(3).split()
        language = words[0].lower().strip("{}.") if words else ""
        command = bool(self.steps) and language in SHELL_LANGUAGES
        if command:
            step = self.steps[-1]
            if "command" in step.lines:
                raise self.error(
                    f"more than one command in step {step.title!r} (the first is on line {step.lines['command']}); "
                    "a step suggests one command: split the step, or mark other blocks ```text",
                    number,
                )
            step.lines["command"] = number
            step.body.append(None)
        else:
            self.target().append(line)
        self.fence = _Fence(number, marks[0], len(marks), command)

    def fence_line(self, number: int, line: str) -> None:
        fence = self.fence
        assert fence is not None
        stripped = line.strip()
        closes = (
            len(stripped) >= fence.length
            and stripped == fence.char * len(stripped)
        )
        if not closes:
            if fence.command:
                fence.content.append(line)
            else:
                self.target().append(line)
            return
        self.fence = None
        if not fence.command:
            self.target().append(line)
            return
        step = self.steps[-1]
        step.values["command"] = self.command_from_block(fence)

    def command_from_block(self, fence: _Fence) -> str:
        commands: list[str] = []
        pending = ""
        for raw in fence.content:
            text = raw.strip()
            if pending:
                text = f"{pending} {text}".strip()
                pending = ""
            if text.endswith("\\"):
                pending = text[:-1].rstrip()
                continue
            if text:
                commands.append(text)
        if pending:
            commands.append(pending)
        if not commands:
            raise self.error("this command block is empty", fence.line)
        if len(commands) > 1:
            raise self.error(
                f"a command block holds one command, this one has {len(commands)}: join them with `&&`, "
                "end a line with \\ to continue it, or split the step",
                fence.line,
            )
        command = _strip_prompt(commands[0])
        if problem := check_command(command):
            raise self.error(problem, fence.line)
        return command

    def key_line(self, number: int, key: str, raw: str) -> None:
        if not self.steps:
            raise self.error(f"`{key}:` belongs to a step: put it under a `## Step title` heading", number)
        step = self.steps[-1]
        if key in step.lines:
            what = "a command" if key == "command" else f"`{key}:`"
            raise self.error(
                f"{what} given twice in step {step.title!r} (first on line {step.lines[key]})", number
            )
        value = self.key_value(number, key, raw)
        if key == "command":
            value = _strip_prompt(value)
            problem = check_command(value)
        else:
            problem = check_pattern(value)
        if problem:
            raise self.error(f"{key}: {problem}", number)
        step.lines[key] = number
        step.values[key] = value
        step.body.append(None)

    def key_value(self, number: int, key: str, raw: str) -> str:
        value = raw.strip()
        if not value:
            example = "`acme --version`" if key == "command" else "`pattern`"
            raise self.error(f"`{key}:` has no value: write `{key}: {example}`", number)
        if not value.startswith("`"):
            return value
        ticks = len(value) - len(value.lstrip("`"))
        fence = "`" * ticks
        inner = value[ticks:-ticks] if len(value) > 2 * ticks else ""
        runs = re.findall(r"`+", inner)
        if not (value.endswith(fence) and not value.endswith("`" + fence) and inner and fence not in runs):
            raise self.error(
                f"`{key}:` expects one code span such as {key}: `value` "
                "(use ``double backticks`` if the value holds a backtick)",
                number,
            )
        if inner.startswith(" ") and inner.endswith(" ") and inner.strip(" "):
            inner = inner[1:-1]
        return inner

    # --- the result -------------------------------------------------------------------------

    def build(self) -> Playbook:
        assert self.title is not None
        description = _join(self.description)
        if problem := check_text(description, "description"):
            raise self.error(problem, self.title_line)
        steps = []
        for draft in self.steps:
            body = _join(draft.body)
            if problem := check_text(body, "explanation"):
                raise self.error(f"step {draft.title!r}: {problem}", draft.line)
            steps.append(
                Step(draft.title, body, draft.values.get("command"), draft.values.get("expect"), draft.values.get("fail"))
            )
        playbook = Playbook(self.title, tuple(steps), description, self.source)
        size = total_size(playbook)
        if size > MAX_TOTAL:
            raise self.error(f"the playbook holds {size} bytes of text; the limit is {MAX_TOTAL}")
        return playbook


def _strip_prompt(command: str) -> str:
    return command[2:].lstrip() if command.startswith("$ ") else command


def _join(lines: list[str | None]) -> str:
    """Join body lines; where a line was taken out, do not leave two blank lines in a row."""
    out: list[str] = []
    removed = False
    for line in lines:
        if line is None:
            removed = True
            continue
        if not line.strip():
            if removed and out and not out[-1].strip():
                continue
        else:
            removed = False
        out.append(line)
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)
