"""What the agent's side reports to its front end: typed events, JSON only at the edge.

Each class's ``KIND`` is the headless ``event`` name and its fields, in order, are the keys
the headless agent printed before these were typed (docs/headless.md), so ``as_json`` gives
the same line byte for byte. The StrEnums serialise to the same strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Mapping

from cobrowse.policy.agent_commands import ConsentLevel
from cobrowse.policy.events import Event, key
from cobrowse.screen.redact import redacted_spans
from cobrowse.screen.state import REDACTED, ScreenState


class Side(StrEnum):
    AGENT = "agent"
    CUSTOMER = "customer"


class RecordingState(StrEnum):
    """The agent's recording: ``OFF``/``REQUESTED``/``ON`` are its own states; the customer
    answers ``DENIED`` or ``STOPPED`` (``GRANTED`` starts it)."""

    OFF = "off"
    REQUESTED = "requested"
    ON = "on"
    GRANTED = "granted"
    DENIED = "denied"
    STOPPED = "stopped"


class SuggestionAnswer(StrEnum):
    PASTED = "pasted"
    DECLINED = "declined"
    REFUSED = "refused"


class FeedbackStatus(StrEnum):
    ANSWERED = "answered"
    SKIPPED = "skipped"
    TIMEOUT = "timeout"
    GONE = "gone"
    NOT_WAITED = "not_waited"


@dataclass(frozen=True)
class FeedbackAnswer:
    """The customer's answer to "was it solved?" (the ``feedback`` of the ``ended`` event)."""

    status: FeedbackStatus
    solved: bool | None = None
    rating: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Unlike events, ``solved`` and ``rating`` stay when unknown: ``null`` says "no answer"."""
        return {"status": self.status.value, "solved": self.solved, "rating": self.rating}


@dataclass(frozen=True)
class ChatMessage(Event):
    """``name``: another agent of the team, whose words the customer's client passed on."""

    KIND = "chat"
    sender: Side = key("from", Side.CUSTOMER)
    text: str = ""
    name: str | None = None


@dataclass(frozen=True)
class ConsentChanged(Event):
    KIND = "consent"
    level: ConsentLevel = ConsentLevel.VIEW


@dataclass(frozen=True)
class SharingChanged(Event):
    KIND = "sharing"
    active: bool = True


@dataclass(frozen=True)
class StepsChanged(Event):
    """The customer's step state, whole, as their client sent it (already cleaned)."""

    KIND = "steps"
    state: Mapping[str, Any] | None = None

    def get(self, name: str, default: Any = None) -> Any:
        return (self.state or {}).get(name, default)

    def to_json(self) -> dict[str, Any]:
        return {"event": self.KIND, **(self.state or {})}


@dataclass(frozen=True)
class SuggestionAnswered(Event):
    KIND = "suggestion"
    id: int = 0
    command: str = ""
    answer: SuggestionAnswer = SuggestionAnswer.DECLINED
    reason: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class RecordingChanged(Event):
    KIND = "recording"
    state: RecordingState = RecordingState.OFF
    by: Side | None = None
    id: str | None = None
    path: str | None = None
    message: str = ""


@dataclass(frozen=True)
class FeedbackWait(Event):
    KIND = "feedback_wait"
    timeout_s: float = 0.0
    message: str = ""


@dataclass(frozen=True)
class IdentityReported(Event):
    """How the customer's client judged this agent (``cobrowse.trust.display``'s fields)."""

    KIND = "identity"
    fields: Mapping[str, Any] | None = None

    @property
    def verified(self) -> bool:
        return bool((self.fields or {}).get("verified"))

    @property
    def message(self) -> str:
        return str((self.fields or {}).get("message", ""))

    def get(self, name: str, default: Any = None) -> Any:
        return (self.fields or {}).get(name, default)

    def to_json(self) -> dict[str, Any]:
        return {"event": self.KIND, **{k: v for k, v in (self.fields or {}).items() if k != "event"}}


@dataclass(frozen=True)
class ScreenChanged(Event):
    """The mirrored screen changed; its JSON (rows, modes, masked cells, optionally each row's
    style runs) is built only when a JSON reader asks: the console draws ``state`` itself."""

    KIND = "screen"
    state: ScreenState | None = None
    styles: bool = False
    #: The local echo's cells and cursor, when some are shown (docs/headless.md).
    predicted: dict[str, object] | None = None
    #: The frame's echo ack, for the local echo only (not in the JSON; m.Screen.ack).
    ack: int | None = None
    #: The frame changed nothing and came for its ack: shown only if the local echo changed.
    ack_only: bool = False

    def to_json(self) -> dict[str, Any]:
        assert self.state is not None
        return screen_json(self.state, styles=self.styles, predicted=self.predicted)


def screen_json(state: ScreenState, *, styles: bool = False, predicted: dict[str, object] | None = None) -> dict[str, Any]:
    """The headless ``screen`` event (HEADLESS.md), plus the modes as extra keys; with
    ``styles``, each row's non-default style runs (``Row.style_runs``, docs/headless.md);
    ``predicted``: the local echo's overlay, when some is shown."""
    cols, rows = state.size
    event: dict[str, Any] = {
        "event": ScreenChanged.KIND,
        "size": [cols, rows],
        "cursor": [state.cursor.col, state.cursor.row],
        "lines": state.lines(),
        "cursor_visible": state.cursor.visible,
        "alt_screen": state.modes.alt_screen,
        "app_cursor": state.modes.app_cursor,
        "bracketed_paste": state.modes.bracketed_paste,
        # Cells the customer's cobrowse masked: [row, first_col, end_col) (docs/privacy.md).
        "redacted": _redacted(state),
    }
    if styles:
        event["styles"] = [row.style_runs() for row in state.rows]
    if predicted is not None:
        event["predicted"] = predicted
    return event


def _redacted(state: ScreenState) -> list[list[int]]:
    """``[row, first_col, end_col)`` of every masked cell; a row's style runs are looked at
    first (a key's echo sends this event for an unchanged screen of unmasked rows)."""
    out: list[list[int]] = []
    for i, row in enumerate(state.rows):
        for _text, style in row.runs:
            if style.attrs & REDACTED:
                out.extend([i, a, b] for a, b in redacted_spans(row))
                break
    return out


@dataclass(frozen=True)
class Joined(Event):
    KIND = "joined"
    code: str = ""


@dataclass(frozen=True)
class AgentWarning(Event):
    KIND = "warning"
    kind: str = ""
    message: str = ""


@dataclass(frozen=True)
class AgentError(Event):
    KIND = "error"
    message: str = ""
    kind: str | None = None
    cmd: str | None = None


@dataclass(frozen=True)
class UnnamedCommandError(Event):
    """A command refused whose ``cmd`` was missing or not a string: the headless line
    carries ``cmd`` as it was sent, ``null`` included (the shape it always had)."""

    KIND = "error"
    message: str = ""
    cmd: Any = None

    def to_json(self) -> dict[str, Any]:
        return {"event": self.KIND, "message": self.message, "cmd": self.cmd}


@dataclass(frozen=True)
class InviteReady(Event):
    """The code a second agent joins this session with (``cobrowse agent --join CODE``)."""

    KIND = "invite"
    code: str = ""
    message: str = ""
    #: Seconds until the code lapses unused, as the customer's client said (None: it did not).
    expires_s: int | None = None
    #: The number the colleague joining with it will have (``viewers`` ids; None: not said).
    agent: int | None = None


@dataclass(frozen=True)
class ViewersChanged(Event):
    """Who can see the customer's screen now, as the customer's client says (docs/team.md)."""

    KIND = "viewers"
    viewers: tuple[dict[str, Any], ...] = ()
    message: str = ""
    #: Agents the customer is being asked about (None: the customer's client did not say).
    waiting: tuple[dict[str, Any], ...] | None = None
