"""What the customer's policy decides, as values: typed events for the front ends and the
effects the runtime carries out (write to the program, resync the screen, close the session).

Events serialise (``to_json``) to the dicts the customer's front ends have always read, so
plain mode, the app and the taps see the same shapes; the StrEnums' values are today's strings.
"""

from __future__ import annotations

from dataclasses import fields, replace
from enum import StrEnum
from typing import Any, ClassVar, Mapping

from cobrowse.policy.events import Event, key
from cobrowse.wire.frozen import frozen


class Level(StrEnum):
    """What the agent may do in the customer's terminal (``protocol.messages.CONSENT_LEVELS``)."""

    VIEW = "view"
    SUGGEST = "suggest"
    CONTROL = "control"


class RecordingState(StrEnum):
    GRANTED = "granted"
    DENIED = "denied"
    STOPPED = "stopped"


class By(StrEnum):
    """Who decided (a recording change, a prompt's answer)."""

    CUSTOMER = "customer"
    AGENT = "agent"
    TIMEOUT = "timeout"
    WITHDRAWN = "withdrawn"  # the request went away (``prompts.Answered``)


class Role(StrEnum):
    AGENT = "agent"
    CUSTOMER = "customer"


class NoticeKind(StrEnum):
    CONFIRM_END = "confirm_end"
    IGNORED = "ignored"
    SUGGESTION_REFUSED = "suggestion_refused"
    AGENT_PATTERN = "agent_pattern"
    REMOVE_WHICH = "remove_which"  # a team: which agent Ctrl-] y would remove (docs/team.md)
    CHAT_DRAFT = "chat_draft"  # plain mode: the chat line as typed so far (state "done": sent or cancelled)


@frozen
class Notice(Event):
    """A line for the customer; ``kind`` (and the other fields) for front ends that act on it."""

    KIND: ClassVar[str] = "notice"
    message: str
    kind: NoticeKind | None = None
    id: int | None = None
    count: int | None = None
    state: str | None = None
    label: str | None = None
    pattern: str | None = None
    reason: str | None = None


@frozen
class ConsentChanged(Event):
    KIND: ClassVar[str] = "consent"
    level: Level
    agent: int | None = None  # whose pairing (docs/team.md): set by the team, for the receipt
    agent_name: str | None = None


@frozen
class ConsentPrompt(Event):
    KIND: ClassVar[str] = "consent_prompt"
    id: int
    kind: str
    level: str
    timeout_s: float
    confirm_twice: bool
    message: str
    agent: int | None = None
    agent_name: str | None = None


@frozen
class RecordingPrompt(Event):
    KIND: ClassVar[str] = "recording_prompt"
    id: int
    kind: str
    timeout_s: float
    message: str
    agent: int | None = None
    agent_name: str | None = None


@frozen
class RecordingChanged(Event):
    KIND: ClassVar[str] = "recording"
    state: RecordingState
    by: str
    message: str
    agent: int | None = None
    agent_name: str | None = None


@frozen
class FeedbackPrompt(Event):
    KIND: ClassVar[str] = "feedback_prompt"
    timeout_s: float
    message: str


@frozen
class FeedbackSent(Event):
    """``solved``/``rating`` are JSON ``null`` when skipped (as they always were)."""

    KIND: ClassVar[str] = "feedback_sent"
    solved: str | None
    rating: int | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"event": self.KIND, "solved": self.solved, "rating": self.rating, "message": self.message}


@frozen
class ChatReceived(Event):
    KIND: ClassVar[str] = "chat"
    text: str
    sender: str = key("from", "agent")


@frozen
class ControlKeys(Event):
    KIND: ClassVar[str] = "control_keys"
    bytes: int
    agent: int | None = None
    agent_name: str | None = None


@frozen
class StepsChanged(Event):
    """The step machine's state (``StepMachine.to_dict``), its keys at the top level."""

    KIND: ClassVar[str] = "steps"
    state: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"event": self.KIND, **self.state}


@frozen
class SuggestionShown(Event):
    KIND: ClassVar[str] = "suggestion"
    id: int
    command: str
    message: str
    agent: int | None = None
    agent_name: str | None = None


@frozen
class PointerShown(Event):
    """The agent's highlight: ``rows`` on screen now, or ``cleared``."""

    KIND: ClassVar[str] = "pointer"
    message: str
    rows: tuple[int, ...] | None = None
    pattern: str | None = None
    cleared: bool | None = None


@frozen
class SharingChanged(Event):
    KIND: ClassVar[str] = "sharing"
    active: bool


class ResumeChoice(StrEnum):
    """What the customer does when sharing would reveal what changed while it was paused."""

    SHARE = "share"  # resume: the agent sees the screen as it is
    CLEAR = "clear"  # clear the screen, then resume
    STAY = "stay"  # stay paused


#: What clears a screen and its scrollback (written to the customer's terminal and fed to
#: the emulator the agent's frames come from, so both stay alike).
CLEAR_SCREEN = "\x1b[H\x1b[2J\x1b[3J"


@frozen
class ResumeReview(Event):
    """Sharing is to resume, but the screen changed while it was paused: ``lines`` are what
    would become visible (the changed lines of the screen as it is now). The front end shows
    them and answers with a ``ResumeChoice`` (commands ``resume_share``, ``resume_clear``,
    ``resume_stay``; plain mode's keys s, c, n); sharing stays paused until then."""

    KIND: ClassVar[str] = "resume_review"
    lines: tuple[str, ...]
    message: str
    hint: str = "s (or Enter): share it   c: clear your screen, then share   n: stay paused"


@frozen
class ScreenCleared(Event):
    """The customer chose to clear the screen before sharing resumed: front ends that show
    the terminal write ``clear`` to it (the runtime clears what the agent sees)."""

    KIND: ClassVar[str] = "screen_cleared"
    clear: str = CLEAR_SCREEN


@frozen
class Reported(Event):
    KIND: ClassVar[str] = "reported"
    nameplate: str
    message: str


@frozen
class IdentityWarning(Event):
    KIND: ClassVar[str] = "warning"
    message: str
    kind: str = "identity"


@frozen
class IdentityShown(Event):
    """How this client judged the agent (built by ``trust.display.customer_identity_event``)."""

    KIND: ClassVar[str] = "identity"
    status: str
    verified: bool
    agent: str
    org: str
    detail: str
    message: str
    extra: Mapping[str, Any] | None = None  # keys the helper added that this class does not name

    def to_json(self) -> dict[str, Any]:
        return _with_extra(super().to_json(), self.extra)


@frozen
class ControlConfirm(Event):
    """The tripwire's answer to an early grant of control (``trust.display.control_gate_event``)."""

    KIND: ClassVar[str] = "control_confirm"
    state: str
    wait_s: float
    message: str
    extra: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return _with_extra(super().to_json(), self.extra)


def _with_extra(out: dict[str, Any], extra: Mapping[str, Any] | None) -> dict[str, Any]:
    out.pop("extra", None)
    return {**out, **(extra or {})}


def from_shape(cls: type[IdentityShown] | type[ControlConfirm], body: Mapping[str, Any]) -> Event:
    """A typed event from a pure helper's headless dict: its keys are the fields, and keys
    the class does not name (a helper that grew one) travel on in ``extra``."""
    names = {f.name for f in fields(cls)} - {"extra"}
    known = {k: v for k, v in body.items() if k in names}
    extra = {k: v for k, v in body.items() if k not in names and k != "event"}
    return cls(**known, extra=extra or None)


# effects: what the runtime does for the policy (the policy never touches the program or the link)


@frozen
class WriteProgram:
    """Bytes for the shared program (the customer's keys, a pasted command, the agent's keys)."""

    data: bytes


@frozen
class Expedite:
    """The agent typed: echo the next frame at once instead of on the next tick."""


@frozen
class ResyncScreen:
    """Send the whole screen next (sharing resumed, the agent asked)."""


@frozen
class ClearScreen:
    """Clear what the agent will see (the emulator), before sharing resumes."""


@frozen
class RedactionChanged:
    """More patterns mask what the agent sees: redraw what was sent."""


@frozen
class EndSession:
    """The customer ends the session (confirmed)."""

    reason: str = "customer_ended"


@frozen
class CloseSession:
    """The feedback was given (or skipped): close with the agent's reason."""

    reason: str
    message: str


@frozen
class PeerEnded:
    """The agent ended and no question is asked: close as the agent said."""


@frozen
class Voice:
    """A call key: ``call``, ``hangup`` or ``mute``."""

    name: str


@frozen
class Report:
    """Report this session to the relay's operator (``CustomerPolicy.report_result`` says how it went)."""


@frozen
class GiveFeedback:
    """Nobody answered the end-of-session question in time: skip it."""

    solved: str = ""
    rating: int = 0


@frozen
class GetHelp:
    """Guide mode's Ctrl-] !: create a session for an agent (or show its code again)."""


@frozen
class EndGuide:
    """Guide mode, no session yet: Ctrl-] e just stops the guide."""


class TeamAsk(StrEnum):
    """What an agent or the customer asks of the team (``cobrowse.policy.customer_team``)."""

    INVITE = "invite"  # the agent wants a code for a colleague
    LEAVE = "leave"  # the agent leaves; the session goes on for the others
    REVOKE_ALL = "revoke_all"  # Ctrl-] r: control back from every agent
    DROP = "drop"  # the customer removes agent ``viewer``
    WHO = "who"  # the customer asks who sees their screen now (Ctrl-] ?, the help)
    PASTE = "paste"  # Ctrl-] a: paste the newest suggestion shown, whichever agent suggested it
    DECLINE = "decline"  # Ctrl-] d: decline it
    STOP_RECORDING = "stop_recording"  # Ctrl-] x: every agent's recording stops


@frozen
class TeamRequest:
    """For the team's glue (``cobrowse.io.customer_team``): this runtime's agent, or the customer, asks."""

    what: TeamAsk
    viewer: int = 0
    #: ``invite``: the agent reads voided codes (``Invite.voids``, docs/team.md).
    voids: bool = False


@frozen
class TeamAnswer:
    """Ctrl-] y / n answered a question another pairing of the team put on screen."""

    allow: bool
    prompt_id: int | None


#: What the team names with the agent whose pairing it came from (``with_agent``).
NAMED_BY_AGENT = (ConsentChanged, ConsentPrompt, RecordingPrompt, RecordingChanged, ControlKeys, SuggestionShown)


def with_agent(event: Event, agent: int, name: str) -> Event:
    """The event naming the agent of its pairing (its number, its name as its hello said), so
    the customer's receipt tells several agents apart; other events pass as they are."""
    if not isinstance(event, NAMED_BY_AGENT):
        return event
    return replace(event, agent=agent, agent_name=name or None)
