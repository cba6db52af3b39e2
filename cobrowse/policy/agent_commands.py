"""What an agent can ask its session to do: one frozen dataclass per headless command.

The headless adapter (``cobrowse.io.headless``) is the only place that turns JSON into these;
the console calls the runtime with them directly, so no front end builds JSON in-process.
Each command checks its own fields on construction (``CommandError`` with the message the
headless ``error`` event carries); what depends on the session (paired, consent, a running
playbook) is checked by ``cobrowse.policy.agent.AgentPolicy``. ``NAME`` is the headless
``cmd`` string; ``summary()`` is what the agent's audit log keeps (never the keys typed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Union

from cobrowse.helpdesk.summary import TicketError, check_ticket
from cobrowse.playbook.suggest import DEFAULT_LIMIT
from cobrowse.playbook.suggest_session import MAX_LIMIT
from cobrowse.protocol.messages import MAX_TEXT
from cobrowse.protocol.suggestion import check_suggestion
from cobrowse.screen.redact import RedactPatternError, compile_patterns


class CommandError(ValueError):
    """A command that is invalid or not allowed now; nothing was changed."""


class ConsentLevel(StrEnum):
    VIEW = "view"
    SUGGEST = "suggest"
    CONTROL = "control"


class StepStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


class StepAction(StrEnum):
    MARK = "mark"
    BACK = "back"
    GOTO = "goto"


#: The longest pointer pattern an agent may send (the customer's side bounds its CPU too).
MAX_POINT_PATTERN = 500
#: The last screen row a pointer may name.
MAX_POINT_ROW = 1000


#: Lone surrogates: a str may hold them (JSON's \\ud800, surrogateescape), UTF-8 cannot.
_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate_at(value: object) -> str | None:
    """Where a lone surrogate is in ``value`` (strings in nested lists, tuples and dict keys and
    values, walked without recursion, each container once), or None."""
    stack: list[tuple[object, str]] = [(value, "")]
    seen: set[int] = set()
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            found = _SURROGATE.search(item)
            if found is not None:
                return f"{where.lstrip('.')}, character {found.start() + 1}" if where else f"character {found.start() + 1}"
        elif isinstance(item, (list, tuple, dict)):
            if id(item) in seen:
                continue
            seen.add(id(item))
            if isinstance(item, dict):
                stack.extend((k, where) for k in item)
                stack.extend((v, f"{where}.{k}" if isinstance(k, str) else where) for k, v in item.items())
            else:
                stack.extend((v, where) for v in item)
    return None


def _refuse_lone_surrogates(cmd: Command) -> None:
    for name, value in vars(cmd).items():  # (a key's path: one ASCII str, checked in ~0.3 µs)
        if value is None or isinstance(value, (bool, int)) or (isinstance(value, str) and value.isascii()):
            continue
        where = lone_surrogate_at(value)
        if where is not None:
            raise CommandError(f'{cmd.NAME} "{name}" holds a lone surrogate (U+D800-U+DFFF, at {where}): '
                               "it has no UTF-8, so nothing was sent")


@dataclass(frozen=True)
class Command:
    """Base of the agent's commands. Every command's strings are checked for lone surrogates
    before its own checks (from any entry point: stdin, ``agent.command``, the console)."""

    NAME: ClassVar[str] = ""
    #: Whether the command needs a paired session (only ``end`` does not).
    NEEDS_PAIRING: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _refuse_lone_surrogates(self)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("__post_init__")
        if own is None:
            return  # the inherited one checks

        def __post_init__(self: Command) -> None:
            _refuse_lone_surrogates(self)
            own(self)

        cls.__post_init__ = __post_init__  # type: ignore[method-assign]

    def summary(self) -> dict[str, Any]:
        """What the agent's audit log keeps of this command."""
        return {"cmd": self.NAME}


@dataclass(frozen=True)
class Chat(Command):
    NAME: ClassVar[str] = "chat"
    text: str

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise CommandError('chat needs a non-empty "text"')
        if len(self.text) > MAX_TEXT:
            raise CommandError(f"chat text is longer than {MAX_TEXT} characters")


@dataclass(frozen=True)
class RequestControl(Command):
    NAME: ClassVar[str] = "request_control"
    level: ConsentLevel = ConsentLevel.CONTROL

    def __post_init__(self) -> None:
        if self.level not in (ConsentLevel.SUGGEST, ConsentLevel.CONTROL):
            raise CommandError('request_control needs "level": "suggest" or "control"')
        object.__setattr__(self, "level", ConsentLevel(self.level))

    def summary(self) -> dict[str, Any]:
        return {"cmd": self.NAME, "level": self.level.value}


@dataclass(frozen=True)
class Keys(Command):
    NAME: ClassVar[str] = "keys"
    data: str

    def __post_init__(self) -> None:
        if not isinstance(self.data, str) or not self.data:
            raise CommandError('keys needs a non-empty "data" string')

    def summary(self) -> dict[str, Any]:
        return {"cmd": self.NAME, "bytes": len(self.data.encode("utf-8", "surrogateescape"))}


@dataclass(frozen=True)
class Suggest(Command):
    NAME: ClassVar[str] = "suggest"
    command: str

    def __post_init__(self) -> None:
        if not isinstance(self.command, str):
            raise CommandError('suggest needs a "command" string: one printable line')
        reason = check_suggestion(self.command)
        if reason is not None:
            raise CommandError(f"suggest needs one printable line; not sent: {reason}")

    def summary(self) -> dict[str, Any]:
        return {"cmd": self.NAME, "command": self.command}


@dataclass(frozen=True)
class PushPlaybook(Command):
    """Load a playbook on this machine and push it (the runtime reads the file): a ``path``, or
    the ``name`` of one in the agent's library."""

    NAME: ClassVar[str] = "playbook"
    path: str = ""
    name: str = ""

    def __post_init__(self) -> None:
        if not (isinstance(self.path, str) and self.path) and not (isinstance(self.name, str) and self.name):
            raise CommandError('playbook needs a "path" to a playbook file or the "name" of one in the library')

    def summary(self) -> dict[str, Any]:
        return {"cmd": self.NAME, "path": self.path} if self.path else {"cmd": self.NAME, "name": self.name}


@dataclass(frozen=True)
class Ticket(Command):
    """Link the session to a help-desk ticket (history, webhook: docs/helpdesk.md)."""

    NAME: ClassVar[str] = "ticket"
    NEEDS_PAIRING: ClassVar[bool] = False
    id: str

    def __post_init__(self) -> None:
        try:
            check_ticket(self.id)
        except TicketError as exc:
            raise CommandError(str(exc)) from None

    def summary(self) -> dict[str, Any]:
        return {"cmd": self.NAME, "id": self.id}


@dataclass(frozen=True)
class SuggestPlaybooks(Command):
    """Rank the library against the customer's screen and the chat (on this machine)."""

    NAME: ClassVar[str] = "suggest_playbooks"
    NEEDS_PAIRING: ClassVar[bool] = False
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        if not isinstance(self.limit, int) or isinstance(self.limit, bool) or not 1 <= self.limit <= MAX_LIMIT:
            raise CommandError(f'suggest_playbooks "limit" must be a whole number from 1 to {MAX_LIMIT}')


@dataclass(frozen=True)
class PushSteps(Command):
    """An inline playbook (integrations): the fields of the ``steps`` command, as sent."""

    NAME: ClassVar[str] = "steps"
    fields: tuple[tuple[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.fields)

    def summary(self) -> dict[str, Any]:
        fields = self.as_dict()
        return {"cmd": self.NAME, **({"title": fields["title"]} if "title" in fields else {})}


@dataclass(frozen=True)
class Step(Command):
    NAME: ClassVar[str] = "step"
    action: StepAction = StepAction.MARK
    index: int = -1
    status: StepStatus | None = None

    def __post_init__(self) -> None:
        if self.action not in tuple(StepAction) or not isinstance(self.index, int) or isinstance(self.index, bool):
            raise CommandError('step needs "index" (a number) and "status", or "action": "back"')
        object.__setattr__(self, "action", StepAction(self.action))
        if self.action is StepAction.MARK:
            if self.status not in tuple(StepStatus):
                raise CommandError(f'step "status" must be one of {", ".join(StepStatus)}')
            object.__setattr__(self, "status", StepStatus(str(self.status)))
        else:
            object.__setattr__(self, "status", None)

    @classmethod
    def mark(cls, index: int, status: StepStatus) -> Step:
        return cls(StepAction.MARK, index, status)

    @classmethod
    def back(cls) -> Step:
        return cls(StepAction.BACK)

    def summary(self) -> dict[str, Any]:
        if self.action is StepAction.MARK:
            return {"cmd": self.NAME, "index": self.index, "status": str(self.status)}
        if self.action is StepAction.BACK:
            return {"cmd": self.NAME, "action": self.action.value}
        return {"cmd": self.NAME, "index": self.index, "action": self.action.value}


@dataclass(frozen=True)
class Point(Command):
    """Highlight rows ``first``..``last`` (0-based), or the lines matching ``pattern``; neither: clear."""

    NAME: ClassVar[str] = "point"
    rows: tuple[int, int] | None = None
    pattern: str = ""

    def __post_init__(self) -> None:
        if self.rows is not None:
            first, last = self.rows
            object.__setattr__(self, "rows", (min(first, last), max(first, last)))
        elif self.pattern:
            if not isinstance(self.pattern, str) or len(self.pattern) > MAX_POINT_PATTERN:
                raise CommandError(f'point "pattern" must be a regex of at most {MAX_POINT_PATTERN} characters')
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise CommandError(f"point pattern is not a valid regex: {exc}") from None

    @classmethod
    def at_rows(cls, rows: list[Any]) -> Point:
        if (not isinstance(rows, list) or len(rows) not in (1, 2)
                or not all(isinstance(r, int) and not isinstance(r, bool) and 0 <= r <= MAX_POINT_ROW for r in rows)):
            raise CommandError('point "rows" must be [row] or [first, last] (0-based screen rows)')
        return cls(rows=(min(rows), max(rows)))


@dataclass(frozen=True)
class Call(Command):
    NAME: ClassVar[str] = "call"


@dataclass(frozen=True)
class Hangup(Command):
    NAME: ClassVar[str] = "hangup"


@dataclass(frozen=True)
class Mute(Command):
    NAME: ClassVar[str] = "mute"
    muted: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.muted, bool):
            raise CommandError('mute needs "muted": true or false')


@dataclass(frozen=True)
class Redact(Command):
    NAME: ClassVar[str] = "redact"
    patterns: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.patterns:
            raise CommandError('redact needs "patterns": a list of regexes for the customer to mask')
        try:
            compile_patterns(list(self.patterns), "the redact command")
        except RedactPatternError as exc:
            raise CommandError(str(exc)) from None


@dataclass(frozen=True)
class Record(Command):
    NAME: ClassVar[str] = "record"
    on: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.on, bool):
            raise CommandError('record needs "on": true (ask the customer) or false (stop)')

    def summary(self) -> dict[str, Any]:
        return {"cmd": self.NAME, "on": self.on}


@dataclass(frozen=True)
class End(Command):
    """End the session; ``feedback`` None: the client's default (the console asks, headless not)."""

    NAME: ClassVar[str] = "end"
    NEEDS_PAIRING: ClassVar[bool] = False
    feedback: bool | None = None

    def __post_init__(self) -> None:
        if self.feedback is not None and not isinstance(self.feedback, bool):
            raise CommandError('end "feedback" must be true (ask the customer whether it was solved) or false')


@dataclass(frozen=True)
class Invite(Command):
    """Ask the customer's client for a code a second agent joins this session with (docs/team.md)."""

    NAME: ClassVar[str] = "invite"


@dataclass(frozen=True)
class Leave(Command):
    """Leave the session without ending it for the customer and the other agents."""

    NAME: ClassVar[str] = "leave"


AgentCommand = Union[Chat, RequestControl, Keys, Suggest, PushPlaybook, PushSteps, Step, Point, Call, Hangup, Mute,
                     Redact, Record, End, Ticket, SuggestPlaybooks, Invite, Leave]

#: Every command by its headless name.
COMMANDS: dict[str, type[Command]] = {c.NAME: c for c in (Chat, RequestControl, Keys, Suggest, PushPlaybook, PushSteps,
                                                          Step, Point, Call, Hangup, Mute, Redact, Record, End,
                                                          Ticket, SuggestPlaybooks, Invite, Leave)}
