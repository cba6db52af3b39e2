"""What the agent's side decides, without I/O: ``AgentPolicy``.

It takes typed commands (``cobrowse.policy.agent_commands``) and the customer's messages,
and returns a ``Plan``: the messages to send, the typed events to report
(``cobrowse.policy.agent_events``) and the few effects only the runtime can carry out
(start or stop the recorder, wake the feedback wait). ``cobrowse.io.agent.AgentRuntime`` is
the glue: it feeds the policy, sends, emits, and owns the clocks, files and the call.
Tested synchronously in tests/policy/test_agent_policy*.py.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Union

from cobrowse.playbook import Playbook, PlaybookError, playbook_from_dict, playbook_to_dict
from cobrowse.policy.agent_commands import (
    AgentCommand,
    Chat,
    Command,
    CommandError,
    ConsentLevel,
    Invite,
    Keys,
    Point,
    PushSteps,
    Record,
    Redact,
    RequestControl,
    Step,
    StepStatus,
    Suggest,
)
from cobrowse.policy.agent_events import (
    AgentError,
    AgentWarning,
    ChatMessage,
    ConsentChanged,
    FeedbackAnswer,
    FeedbackStatus,
    FeedbackWait,
    IdentityReported,
    InviteReady,
    RecordingChanged,
    RecordingState,
    ScreenChanged,
    SharingChanged,
    Side,
    StepsChanged,
    SuggestionAnswer,
    SuggestionAnswered,
    ViewersChanged,
)
from cobrowse.policy.agent_team import invite_voided
from cobrowse.policy.events import Event
from cobrowse.protocol import messages as m
from cobrowse.protocol.inbound import Budget, Notice, NoticeTally, RateLimits
from cobrowse.screen.sync import ScreenMirror
from cobrowse.trust import AgentIdentity
from cobrowse.trust.display import agent_identity_event
from cobrowse.errors import InvalidCode
from cobrowse.wire.code import parse_code

#: How long the agent waits, after ending, for the customer's answer to "was it solved?".
FEEDBACK_WAIT = 60.0
#: How long an answer may still be on the direct path once the relay said the customer left.
DIRECT_PATH_GRACE = 2.0
#: The events a recording keeps next to the frames (docs/records.md).
NOTED_KINDS = frozenset({"chat", "consent", "steps", "suggestion", "sharing", "recording", "feedback_wait"})
#: The longest error text taken from the customer's step state.
MAX_STEP_ERROR = 500


@dataclass(frozen=True)
class StartRecorder:
    """The customer agreed: the runtime opens the recording files and calls ``recording_on``."""


@dataclass(frozen=True)
class StopRecorder:
    reason: str


@dataclass(frozen=True)
class FeedbackCame:
    """The customer's answer arrived while the runtime waits for it."""


Effect = Union[StartRecorder, StopRecorder, FeedbackCame]


@dataclass
class Plan:
    """What to do after an input: send these, report these, carry out these effects."""

    send: list[m.AppMessage] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)


#: Customer → agent kinds a person produces, with budgets far above what one does; others
#: (the screen, the session's bookkeeping) are paced by the customer's client or cost nothing.
FROM_CUSTOMER_BUDGETS: dict[str, Budget] = {
    "chat": Budget(10.0, 100.0),  # a backlog held up by an outage arrives at once
    "steps": Budget(10.0, 30.0),
    "consent": Budget(2.0, 10.0),
    "sharing": Budget(2.0, 10.0),
    "identity_seen": Budget(0.5, 5.0),
    "recording": Budget(2.0, 10.0),
    "suggest_answer": Budget(5.0, 20.0),
    "viewers": Budget(2.0, 10.0),
    "invite_code": Budget(1.0, 5.0),
    "unknown": Budget(2.0, 10.0),
}


def _flood_warning(notice: Notice) -> AgentWarning:
    if notice.first:
        text = f"ignored a {notice.kind!r} message from the customer: it sends too many, too fast"
    else:
        text = f"ignored {notice.count} more {notice.kind!r} message(s) from the customer: too many, too fast"
    return AgentWarning("flood", text)


class AgentPolicy:
    """The agent's decisions for one session; pure (the only time it reads is ``receive``'s
    ``now``, for the customer's rate limits)."""

    def __init__(self, *, redact_patterns: tuple[str, ...] = (), can_record: bool = False,
                 ask_feedback: bool = False, styles: bool = False) -> None:
        #: The organisation's redaction patterns, pushed after pairing (and any the agent adds).
        self.redact_patterns = tuple(redact_patterns)
        #: Whether this client can keep recordings (it has a data directory).
        self.can_record = can_record
        #: Whether ``end`` asks the customer for feedback when the command does not say.
        self.ask_feedback = ask_feedback
        #: What a colleague types to join with an invitation code (the front end adds ``--relay``
        #: when its relay is not the default one: without it the code is looked for on 127.0.0.1).
        self.colleague_command: Callable[[str], str] = lambda code: f"cobrowse agent --join {code}"
        #: ``--styles``: screen events carry each row's style runs.
        self.styles = styles
        self.consent = ConsentLevel.VIEW
        self.sharing = True
        self.mirror = ScreenMirror()
        self.screen_frames = 0
        self.steps_state: Mapping[str, Any] | None = None
        self.recording = RecordingState.OFF
        #: Suggestions sent and not yet answered, by id.
        self.suggested: dict[int, str] = {}
        self._suggestions = 0
        #: How the customer's client judged this agent (the last ``identity`` event).
        self.seen_as: IdentityReported | None = None
        #: Set by the runtime once this side started ending (feedback is only taken then).
        self.ending = False
        self.feedback: FeedbackAnswer | None = None
        self._commands: dict[type[Command], Callable[[Any], Plan]] = {
            Chat: self._chat, RequestControl: self._request_control, Keys: self._keys, Suggest: self._suggest,
            PushSteps: self._push_steps, Step: self._step, Point: self._point, Redact: self._redact,
            Record: self._record, Invite: self._invite}
        self._messages: dict[type[m.AppMessage], Callable[[Any], Plan]] = {
            m.Chat: self._chat_received, m.IdentitySeen: self._identity_seen, m.Consent: self._consent,
            m.Sharing: self._sharing, m.Steps: self._steps, m.SuggestAnswer: self._suggestion_answered,
            m.Screen: self._screen, m.Feedback: self._feedback, m.Recording: self._recording,
            m.Unknown: self._unknown, m.InviteCode: self._invite_code, m.Viewers: self._viewers}
        #: Who can see the customer's screen, as the customer's client last said (a team).
        self.viewers: tuple[dict[str, Any], ...] = ()
        self._invites_asked = 0
        self.limits = RateLimits(budgets=dict(FROM_CUSTOMER_BUDGETS))
        self._ignored = NoticeTally()

    # commands

    def check(self, cmd: Command | type[Command], *, paired: bool) -> None:
        """Raise CommandError if ``cmd`` (or any command of its kind) cannot run now."""
        if cmd.NEEDS_PAIRING and not paired:
            raise CommandError(f"{cmd.NAME!r} needs a paired session: wait for the \"paired\" event")

    def command(self, cmd: AgentCommand, *, paired: bool) -> Plan:
        """What one command sends and reports; raises CommandError (nothing changed) if it cannot run.
        ``playbook`` (a file), voice and ``end`` are carried out by the runtime after ``check``."""
        self.check(cmd, paired=paired)
        handler = self._commands.get(type(cmd))
        if handler is None:
            raise CommandError(f"{cmd.NAME!r} is carried out by the runtime (a file, the call or the end)")
        return handler(cmd)

    def _chat(self, cmd: Chat) -> Plan:
        return Plan(send=[m.Chat(cmd.text)])

    def _invite(self, cmd: Invite) -> Plan:
        self._invites_asked += 1
        return Plan(send=[m.Invite(voids=True)])  # tell us if a code is voided early (policy/agent_team.py)

    def _invite_code(self, message: m.InviteCode) -> Plan:
        """The customer's client opened a pairing for a colleague: its code (only if asked);
        or one of our codes no longer works (``void``: asked for by our ``invite``)."""
        if message.void:
            voided = invite_voided(message)
            return Plan(events=[voided] if voided is not None else [])
        if self._invites_asked <= 0:
            return Plan(events=[AgentWarning("invite", "ignored an invitation code nobody asked for")])
        self._invites_asked -= 1
        if message.error or not message.code:
            return Plan(events=[AgentError(f"the customer's cobrowse could not invite: {message.error or 'no code'}",
                                           cmd="invite")])
        try:
            code = str(parse_code(str(message.code)))
        except InvalidCode:
            return Plan(events=[AgentError("the customer's cobrowse sent an invitation code that is not a code",
                                           cmd="invite")])
        return Plan(events=[InviteReady(code, f"a colleague joins with: {self.colleague_command(code)} "
                                              f"(the customer is asked to allow them)", message.expires_s or None,
                                        message.viewer or None)])

    def _viewers(self, message: m.Viewers) -> Plan:
        self.viewers = tuple(message.viewers)
        names = ", ".join(f"{v['name'] or 'an agent'}{' (you)' if v['you'] else ''}"
                          f"{' has control' if v['control'] else ''}" for v in self.viewers)
        return Plan(events=[ViewersChanged(self.viewers, f"can see the customer's screen: {names or 'nobody'}",
                                           tuple(message.waiting) or None)])

    def alone(self) -> bool:
        """Whether this agent is the only one the customer's client lists (leaving ends it)."""
        return sum(1 for v in self.viewers if not v["you"]) == 0

    def _request_control(self, cmd: RequestControl) -> Plan:
        return Plan(send=[m.RequestControl(cmd.level.value)])

    def _keys(self, cmd: Keys) -> Plan:
        if self.consent is not ConsentLevel.CONTROL:
            raise CommandError("the customer has not granted control: send request_control first")
        return Plan(send=[m.Keys(cmd.data)])

    def _suggest(self, cmd: Suggest) -> Plan:
        self._suggestions += 1
        self.suggested[self._suggestions] = cmd.command
        return Plan(send=[m.Suggest(self._suggestions, cmd.command)])

    def _push_steps(self, cmd: PushSteps) -> Plan:
        try:
            playbook = playbook_from_dict(cmd.as_dict(), "inline steps")
        except PlaybookError as exc:
            raise CommandError(str(exc)) from None
        return self.push(playbook)

    def _step(self, cmd: Step) -> Plan:
        if self.steps_state is None:
            raise CommandError("no playbook is running: push one with playbook or steps first")
        return Plan(send=[m.StepRequest(cmd.action.value, cmd.index, str(cmd.status or ""))])

    def _point(self, cmd: Point) -> Plan:
        if cmd.rows is not None:
            return Plan(send=[m.Pointer(*cmd.rows)])
        return Plan(send=[m.Pointer(pattern=cmd.pattern)] if cmd.pattern else [m.Pointer()])

    def _redact(self, cmd: Redact) -> Plan:
        self.redact_patterns = tuple(dict.fromkeys(self.redact_patterns + cmd.patterns))
        return Plan(send=[m.Redact(list(cmd.patterns))])

    def push(self, playbook: Playbook) -> Plan:
        """Push a loaded playbook to the customer's client (which runs the steps)."""
        return Plan(send=[m.PushPlaybook(playbook_to_dict(playbook))])

    def _record(self, cmd: Record) -> Plan:
        if cmd.on:
            if not self.can_record:
                raise CommandError("recording is not available in this client (no data directory)")
            if self.recording is not RecordingState.OFF:
                what = "recording" if self.recording is RecordingState.ON else "waiting for the customer to agree"
                raise CommandError(f"already {what}")
            self.recording = RecordingState.REQUESTED
            return Plan(send=[m.RecordRequest(True)], events=[RecordingChanged(
                RecordingState.REQUESTED, message="asked the customer for consent to record")])
        if self.recording is RecordingState.OFF:
            raise CommandError("not recording")
        self.recording = RecordingState.OFF
        return Plan(send=[m.RecordRequest(False)],
                    events=[RecordingChanged(RecordingState.STOPPED, Side.AGENT, message="recording stopped")],
                    effects=[StopRecorder("stopped by the agent")])

    def end_feedback(self, asked: bool | None) -> bool:
        """Whether an ``end`` command asks for feedback (its own value, else this client's default)."""
        return self.ask_feedback if asked is None else asked

    # the session's moments

    def proof(self, identity: AgentIdentity | None, binding: bytes | None) -> list[m.AppMessage]:
        """Before ``hello``: prove the credential for this session by signing its binding value."""
        if identity is None or binding is None:
            return []
        signature = base64.b64encode(identity.prove(binding)).decode()
        return [m.AgentProof(identity.credential.to_dict(), signature)]

    def on_paired(self) -> Plan:
        return Plan(send=[m.Redact(list(self.redact_patterns))] if self.redact_patterns else [])

    def on_peer(self, present: bool, *, paired: bool) -> Plan:
        """The customer came back: ask for a whole screen (diffs may be missing)."""
        return Plan(send=[m.Resync()] if present and paired else [])

    # what the customer sent

    def receive(self, message: m.AppMessage, now: float) -> Plan:
        """What a message from the customer's client means here (others: nothing to do). A
        hostile customer's flood of the kinds a person produces (chat, answers) is dropped past
        its budget, told once and then counted, as the customer's side does for the agent's."""
        told = self._told(now) if self._ignored.next_deadline() is not None else []
        if message.t in FROM_CUSTOMER_BUDGETS and not self.limits.admit(message.t, now):
            notice = self._ignored.ignored(message.t, now)
            return Plan(events=told + ([] if notice is None else [_flood_warning(notice)]))
        handler = self._messages.get(type(message))
        plan = handler(message) if handler is not None else Plan()
        if told:
            plan.events[:0] = told
        return plan

    def _told(self, now: float) -> list[Event]:
        return [_flood_warning(notice) for notice in self._ignored.due(now)]

    def _chat_received(self, message: m.Chat) -> Plan:
        if message.name:  # another agent's words, passed on by the customer's client
            return Plan(events=[ChatMessage(Side.AGENT, message.text, name=str(message.name))])
        return Plan(events=[ChatMessage(Side.CUSTOMER, message.text)])

    def _identity_seen(self, message: m.IdentitySeen) -> Plan:
        fields = agent_identity_event(message.status, message.agent, message.org, message.detail)
        self.seen_as = IdentityReported(fields)
        return Plan(events=[self.seen_as])

    def _consent(self, message: m.Consent) -> Plan:
        self.consent = ConsentLevel(message.level)
        return Plan(events=[ConsentChanged(self.consent)])

    def _sharing(self, message: m.Sharing) -> Plan:
        self.sharing = message.active
        return Plan(events=[SharingChanged(message.active)])

    def _steps(self, message: m.Steps) -> Plan:
        if "error" in message.state:
            return Plan(events=[AgentError(str(message.state["error"])[:MAX_STEP_ERROR])])
        self.steps_state = message.state
        return Plan(events=[StepsChanged(message.state)])

    def _unknown(self, message: m.Unknown) -> Plan:
        return Plan(events=[AgentWarning("unknown", f"ignored a {message.type!r} message from a newer client")])

    def _suggestion_answered(self, message: m.SuggestAnswer) -> Plan:
        command = self.suggested.pop(message.id, None)
        if command is None:
            return Plan()
        answer = SuggestionAnswer(message.answer)
        if answer is SuggestionAnswer.REFUSED:
            return Plan(events=[SuggestionAnswered(message.id, command, answer, message.reason,
                                                   f"the customer's cobrowse refused suggestion {message.id}: {message.reason}")])
        return Plan(events=[SuggestionAnswered(message.id, command, answer)])

    def _screen(self, message: m.Screen) -> Plan:
        before = self.mirror.state
        try:
            state = self.mirror.apply_dict(message.frame)
        except ValueError as exc:
            return Plan(send=[m.Resync()],
                        events=[AgentWarning("screen", f"bad screen frame ({exc}); asked for a fresh one")])
        self.screen_frames += 1
        ack_only = message.ack is not None and message.frame.get("t") == "d" and not message.frame.get("r") and state == before
        return Plan(events=[ScreenChanged(state, self.styles, ack=message.ack, ack_only=ack_only)])

    def _feedback(self, message: m.Feedback) -> Plan:
        if not self.ending or self.feedback is not None:
            return Plan()
        answered = bool(message.solved or message.rating)
        self.feedback = FeedbackAnswer(FeedbackStatus.ANSWERED if answered else FeedbackStatus.SKIPPED,
                                       {"yes": True, "no": False}.get(message.solved), message.rating or None)
        return Plan(effects=[FeedbackCame()])

    def _recording(self, message: m.Recording) -> Plan:
        state = message.state
        if state == RecordingState.GRANTED:
            if self.recording is RecordingState.REQUESTED and self.can_record:
                return Plan(effects=[StartRecorder()])
            return Plan()
        if state not in (RecordingState.DENIED, RecordingState.STOPPED):
            return Plan()
        was, self.recording = self.recording, RecordingState.OFF
        plan = Plan(effects=[StopRecorder(f"{state} by the customer")])
        if was is not RecordingState.OFF or state == RecordingState.STOPPED:
            said = ("the customer declined to be recorded" if state == RecordingState.DENIED
                    else "the customer stopped the recording")
            plan.events.append(RecordingChanged(RecordingState(state), Side.CUSTOMER, message=said))
        return plan

    def recording_on(self, recording_id: str, path: str) -> RecordingChanged:
        """The runtime opened the recording the customer agreed to."""
        self.recording = RecordingState.ON
        return RecordingChanged(RecordingState.ON, id=recording_id, path=path, message="recording: the customer agreed")

    # the end: feedback and the summary

    def wants_feedback(self, reason: str, *, asked: bool, peer_present: bool) -> bool:
        return reason == "agent_ended" and asked and peer_present

    def feedback_wait(self, timeout: float) -> FeedbackWait:
        return FeedbackWait(timeout, f"asked the customer whether the problem was solved (waiting up to {timeout:.0f} s)")

    def feedback_grace(self, *, link_gone: bool, direct: bool) -> float:
        """How much longer to wait once the wait ended: the customer sends its answer, then
        closes the relay session; on the direct path the answer travels on the data channel
        and the close through the relay, so the close can come first. Only then, a moment
        for what is still on its way (else "gone" for an answered question)."""
        if self.feedback is None and link_gone and direct:
            return DIRECT_PATH_GRACE
        return 0.0

    def feedback_over(self, *, link_gone: bool) -> None:
        """The wait ended (answer, timeout or the link closing): settle what the ``ended`` event says."""
        if self.feedback is None:
            self.feedback = FeedbackAnswer(FeedbackStatus.GONE if link_gone else FeedbackStatus.TIMEOUT)

    def skip_feedback(self) -> Plan:
        """The agent ended again while waiting: stop waiting."""
        if self.feedback is None:
            self.feedback = FeedbackAnswer(FeedbackStatus.NOT_WAITED)
        return Plan(effects=[FeedbackCame()])

    def end_summary(self, recording_id: str | None) -> dict[str, Any]:
        """Extra keys of the ``ended`` event: the feedback, the recording, the steps' outcome."""
        extra: dict[str, Any] = {}
        if self.feedback is not None:
            extra["feedback"] = self.feedback.as_dict()
        if recording_id is not None:
            extra["recording"] = recording_id
        state = self.steps_state
        if not state:
            return extra
        steps = state.get("steps", [])
        counts = {status.value: sum(1 for s in steps if s.get("status") == status) for status in StepStatus}
        return {**extra, "summary": {"playbook": state.get("title"), "steps": counts,
                                     "failed": [s.get("title") for s in steps if s.get("status") == StepStatus.FAILED]}}
