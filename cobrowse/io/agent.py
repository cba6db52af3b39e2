"""The agent's side of a session: glue between ``AgentPolicy`` and the relay link.

``cobrowse.policy.agent.AgentPolicy`` decides (what each command sends, what each message
from the customer means, recording consent, the feedback wait, the identity proof); this
runtime feeds it, sends what it says, emits its typed events, and owns what needs I/O or
time: reading playbook files, the recorder's files, the call, the bounded feedback wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from pathlib import Path
from typing import Any, Callable, Mapping

from cobrowse.errors import AudioUnavailable
from cobrowse.i18n.playbooks import for_peer
from cobrowse.io.headless import parsed
from cobrowse.io.recorder import Recorder
from cobrowse.io.local_echo import LocalEcho
from cobrowse.io.runtime import EXIT_REJECTED, Later, SessionRuntime
from cobrowse.helpdesk.summary import TicketLinked
from cobrowse.playbook.suggest_session import Suggester
from cobrowse.playbook import PlaybookError, load_playbook
from cobrowse.playbook.steps import StepKey, on_agent_clock
from cobrowse.policy import agent_commands as c
from cobrowse.policy.agent import (
    FEEDBACK_WAIT,
    NOTED_KINDS,
    AgentPolicy,
    FeedbackCame,
    Plan,
    StartRecorder,
    StopRecorder,
)
from cobrowse.policy.agent_commands import AgentCommand, CommandError, ConsentLevel, StepStatus
from cobrowse.policy.agent_events import ChatMessage, RecordingState, ScreenChanged, Side, screen_json
from cobrowse.policy.events import Event, kind_of
from cobrowse.protocol import messages as m
from cobrowse.screen.state import ScreenState
from cobrowse.trust import AgentIdentity
from cobrowse.voice.call import CallError

__all__ = ["FEEDBACK_WAIT", "STEP_STATUSES", "AgentRuntime", "CommandError", "action_summary", "screen_event"]

STEP_STATUSES = tuple(status.value for status in StepStatus)
#: How the customer's client turns an invited agent away (docs/team.md).
REFUSED = frozenset({"viewer_refused", "viewer_removed"})


#: What the agent's front ends and taps take: typed events (JSON only at the edge).
AgentEmit = Callable[[Event], None]


class AgentRuntime(SessionRuntime):
    role = "agent"
    emit: AgentEmit

    def __init__(self, *args: Any, identity: AgentIdentity | None = None, redact_patterns: tuple[str, ...] = (),
                 recordings: Path | None = None,
                 ask_feedback: bool = False, feedback_timeout: float = FEEDBACK_WAIT, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policy = AgentPolicy(redact_patterns=redact_patterns, ask_feedback=ask_feedback)
        #: Where recordings go (None: recording is not available in this client).
        self.recordings = recordings
        self.feedback_timeout = feedback_timeout
        self._feedback_asked = False
        self._feedback_came = asyncio.Event()
        self.recorder: Recorder | None = None
        #: Called with a summary of every command that ran (the agent's audit log).
        self.on_action: Callable[[dict[str, Any]], None] = lambda action: None
        self._emit_out = self.emit
        self.emit = self._emit_noting
        #: This agent's organisation credential and key (``cobrowse org issue-agent``), if any.
        self.identity = identity
        if identity is not None and not self.name:
            self.name = identity.credential.agent  # the name the organisation vouches for
        self.suggester = Suggester()  # suggest_playbooks: the library (set by the CLI) and the chat
        #: Predictive local echo of control-mode keys (None: off, --no-predict / predict = false).
        self.local_echo: LocalEcho | None = LocalEcho(lambda: self.now, self._emit_screen)
        #: When this side paired (its clock): steps' ``at`` count from here (docs/headless.md).
        self.started_at: float | None = None
        self._step_times: dict[StepKey, float] = {}

    # the policy's state, as front ends and tests read it

    @property
    def recordings(self) -> Path | None:
        return self._recordings

    @recordings.setter
    def recordings(self, folder: Path | None) -> None:
        self._recordings = folder
        self.policy.can_record = folder is not None

    @property
    def ending(self) -> bool:
        return self._ending

    @property
    def consent(self) -> ConsentLevel:
        return self.policy.consent

    @property
    def sharing(self) -> bool:
        return self.policy.sharing

    @property
    def mirror(self) -> Any:
        return self.policy.mirror

    @property
    def screen_frames(self) -> int:
        return self.policy.screen_frames

    @property
    def steps_state(self) -> Mapping[str, Any] | None:
        return self.policy.steps_state

    @property
    def recording_state(self) -> RecordingState:
        return self.policy.recording

    @property
    def ask_feedback(self) -> bool:
        return self.policy.ask_feedback

    @ask_feedback.setter
    def ask_feedback(self, value: bool) -> None:
        self.policy.ask_feedback = value

    @property
    def styles(self) -> bool:
        return self.policy.styles

    @styles.setter
    def styles(self, value: bool) -> None:
        self.policy.styles = value

    def traffic(self) -> tuple[int, int]:
        """Bytes in and out of this session so far, on the relay and the direct path alike (the
        link's own counters stop once a direct path carries the frames)."""
        session = self.session
        return (session.bytes_received, session.bytes_sent) if session is not None else (0, 0)

    @property
    def _suggested(self) -> dict[int, str]:
        return self.policy.suggested

    # carrying out a plan

    async def carry_out(self, plan: Plan) -> None:
        self._effects(plan)
        for message in plan.send:
            await self.send(message)
        self._events(plan)

    def _effects(self, plan: Plan) -> None:
        for effect in plan.effects:
            if isinstance(effect, StopRecorder):
                self._stop_recorder(effect.reason)
            elif isinstance(effect, StartRecorder):
                self._start_recorder()
            elif isinstance(effect, FeedbackCame):
                self._feedback_came.set()

    def _events(self, plan: Plan) -> None:
        for event in plan.events:
            if isinstance(event, ScreenChanged) and event.state is not None and event.ack_only:
                # an echo ack alone: the screen is as it was, the predictions may move on
                if self.local_echo is not None and self.local_echo.screen(event.state, event.ack):
                    self.emit(ScreenChanged(event.state, event.styles, self.local_echo.predicted()))
                continue
            if isinstance(event, ScreenChanged) and event.state is not None:
                if self.recorder is not None and not self.recorder.closed:
                    self.recorder.frame(event.state, self.now)
                if self.local_echo is not None:
                    self.local_echo.screen(event.state, event.ack)
                    event = ScreenChanged(event.state, event.styles, self.local_echo.predicted())
            self.emit(event)

    def _emit_screen(self) -> None:
        """What the agent sees changed without a frame (a key predicted, a prediction taken back)."""
        state = self.mirror.state
        if state is not None and self.outcome is None:  # a late local-echo timer: no screen after "ended"
            predicted = self.local_echo.predicted() if self.local_echo is not None else None
            self.emit(ScreenChanged(state, self.styles, predicted))

    # the session runtime's hooks

    def before_hello(self) -> list[m.AppMessage]:
        session = self.session
        return self.policy.proof(self.identity, session.binding if session is not None else None)

    async def on_message(self, message: m.AppMessage) -> None:
        await self.carry_out(self._receive(message))

    def message_now(self, message: m.AppMessage) -> Later | None:
        """A message the policy answers without sending (the customer's screen, most often: a
        key's echo) is carried out from the link's read callback; one that sends, in a task."""
        plan = self._receive(message)
        if plan.send:
            return self.carry_out(plan)
        self._effects(plan)
        self._events(plan)
        return None

    def _receive(self, message: m.AppMessage) -> Plan:
        if isinstance(message, m.Chat):
            self.suggester.heard("customer", message.text)
        elif isinstance(message, m.Steps) and "error" not in message.state:
            elapsed = self.now - (self.started_at if self.started_at is not None else self.now)
            state, self._step_times = on_agent_clock(dict(message.state), self._step_times, elapsed)
            message = dataclasses.replace(message, state=state)
        return self.policy.receive(message, self.now)

    async def on_peer(self, present: bool) -> None:
        await self.carry_out(self.policy.on_peer(present, paired=self.paired))

    async def on_paired(self) -> None:
        if self.started_at is None:
            self.started_at = self.now
        await self.carry_out(self.policy.on_paired())

    def end_summary(self) -> dict[str, Any]:
        recording = self.recorder.id if self.recorder is not None else None
        self._stop_recorder("ended")
        return self.policy.end_summary(recording)

    async def shutdown(self) -> None:
        self._stop_recorder("ended")  # however the session stopped, the files are finished

    # the end of a session: ask the customer whether it was solved, wait a bounded time

    async def end(self, reason: str, message: str = "", *, feedback: bool = False) -> None:
        """End the session; with ``feedback`` (and a customer present) ask them first whether
        it was solved, waiting at most ``feedback_timeout`` s. Signals and quitting end at once."""
        self._feedback_asked = feedback
        self.policy.ending = True
        await super().end(reason, message)

    async def on_end(self, message: m.End) -> None:
        """An invited agent the customer did not allow, or removed, ends refused (exit status 4)."""
        if message.reason in REFUSED:
            await self.link.close(str(message.reason))
            self.finish(str(message.reason), str(message.message or message.reason), EXIT_REJECTED)
            return
        await super().on_end(message)

    async def leave(self) -> None:
        """Leave without ending the session for the customer and the other agents (a team,
        docs/team.md): the customer's client hears ``leave`` first, acknowledged, then this
        side's relay session closes. The last agent leaving ends the session for the customer."""
        if self.outcome is not None or self._ending:
            return
        self._ending = True
        last = self.policy.alone()
        if self.paired:
            await self.send(m.Leave())
            await self.settle()
        await self.link.close("agent_ended")
        self.finish("left", "you left the session" + (
            ": you were the last agent, so the session is over for the customer" if last
            else ": it goes on for the customer and the other agents"), 0)

    def wants_feedback(self, reason: str) -> bool:
        session = self.session
        present = self.peer is not None and session is not None and session.peer_present
        return self.policy.wants_feedback(reason, asked=self._feedback_asked, peer_present=present)

    async def await_feedback(self) -> None:
        self.emit(self.policy.feedback_wait(self.feedback_timeout))
        waits = [asyncio.ensure_future(self._feedback_came.wait()), asyncio.ensure_future(self.link_gone.wait())]
        try:
            await asyncio.wait(waits, timeout=self.feedback_timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        grace = self.policy.feedback_grace(link_gone=self.link_gone.is_set(), direct=self.rtc.path == "direct")
        if grace:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace):
                    await self._feedback_came.wait()
        self.policy.feedback_over(link_gone=self.link_gone.is_set())

    def skip_feedback_wait(self) -> None:
        """Stop waiting for the customer's answer (the agent pressed end again)."""
        self._feedback_came.set()
        self.policy.skip_feedback()

    # recording: only after the customer's "granted", stopped by either side

    def _start_recorder(self) -> None:
        assert self.recordings is not None
        customer = self.peer.name if self.peer else ""
        self.recorder = Recorder(self.recordings, self.now, {
            "customer": customer, "agent": self.name,
            "title": f"cobrowse session with {customer or 'a customer'}"})
        if self.mirror.state is not None:
            self.recorder.frame(self.mirror.state, self.now)
        self.emit(self.policy.recording_on(self.recorder.id, str(self.recorder.cast_path)))

    def _stop_recorder(self, reason: str) -> None:
        if self.recorder is not None and not self.recorder.closed:
            self.recorder.close(self.now, reason)

    def _emit_noting(self, event: Event) -> None:
        """Every event goes out; a recording also notes steps, chat and consent changes."""
        recorder = self.recorder
        if recorder is not None and not recorder.closed:
            if kind_of(event) in NOTED_KINDS:
                recorder.note_event(event, self.now)
        self._emit_out(event)

    # commands

    async def command(self, cmd: AgentCommand | Mapping[str, Any]) -> None:
        """Run one command; raise CommandError (and change nothing) if it cannot run. A mapping
        is a headless command object (in-process integrations and tests): parsed as stdin's are."""
        if not isinstance(cmd, c.Command):
            cmd = parsed(self, cmd)
        if isinstance(cmd, c.Leave):
            self.policy.check(cmd, paired=self.paired)
            self.on_action(cmd.summary())
            await self.leave()
            return
        if isinstance(cmd, c.End):
            if self._ending:
                self.skip_feedback_wait()
                return
            feedback = self.policy.end_feedback(cmd.feedback)
            self.on_action({"cmd": "end", "feedback": feedback})
            await self.end("agent_ended", feedback=feedback)
            return
        self.policy.check(cmd, paired=self.paired)
        if isinstance(cmd, (c.Call, c.Hangup, c.Mute)):
            await self.voice_command(cmd)
        elif isinstance(cmd, c.PushPlaybook):
            try:
                path = cmd.path or self.suggester.path_of(cmd.name)
                playbook = load_playbook(for_peer(path, self.peer.lang if self.peer else ""))  # in their language
            except PlaybookError as exc:
                raise CommandError(str(exc)) from None
            await self.carry_out(self.policy.push(playbook))
        elif isinstance(cmd, c.Ticket):
            self.emit(TicketLinked(cmd.id))
        elif isinstance(cmd, c.SuggestPlaybooks):
            state = self.mirror.state
            try:
                self.emit(self.suggester.answer({"limit": cmd.limit}, state.lines() if state is not None else None))
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        else:
            await self.carry_out(self._plan(cmd))
        self.on_action(cmd.summary())
        if isinstance(cmd, c.Chat):
            self.suggester.heard("agent", cmd.text)
        if isinstance(cmd, c.Chat) and self.recorder is not None and not self.recorder.closed:
            self.recorder.note_event(ChatMessage(Side.AGENT, cmd.text), self.now)

    def command_now(self, cmd: AgentCommand) -> bool:
        """``command`` for a key from stdin's read callback (io/headless.py), when it can be
        carried out without awaiting: paired, the socket taking a frame at once. The same
        checks, plan, actions and local echo; False: nothing done, ``command`` will run it.
        CommandError as ``command`` raises it, before anything is done."""
        if not isinstance(cmd, c.Keys) or self.session is None or self._ending or not self.link.ready_now():
            return False
        self.policy.check(cmd, paired=self.paired)
        plan = self._plan(cmd)
        self._effects(plan)
        session, now = self.session, self.now
        for message in plan.send:
            session.send(message, now)
        self.send_ready(session)
        self._events(plan)
        self.on_action(cmd.summary())
        return True

    def _plan(self, cmd: AgentCommand) -> Plan:
        """The policy's plan; keys are predicted first, so their message can ask for the echo
        ack the predictions wait for (``m.Keys.want_ack``)."""
        plan = self.policy.command(cmd, paired=self.paired)
        if isinstance(cmd, c.Keys) and self.local_echo is not None and self.local_echo.keys(cmd.data):
            plan.send = [dataclasses.replace(s, want_ack=True) if isinstance(s, m.Keys) else s for s in plan.send]
        return plan

    async def voice_command(self, cmd: c.Call | c.Hangup | c.Mute) -> None:
        try:
            if isinstance(cmd, c.Call):
                await self.rtc.start_call()
            elif isinstance(cmd, c.Hangup):
                if self.rtc.call.state == "ringing":
                    await self.rtc.decline_call()
                else:
                    await self.rtc.hangup()
            else:
                await self.rtc.set_muted(cmd.muted)
        except (CallError, AudioUnavailable) as exc:
            raise CommandError(str(exc)) from None


def action_summary(cmd: AgentCommand) -> dict[str, Any]:
    """What the agent's audit log keeps of a command: never the keys typed, only their count."""
    return cmd.summary()


def screen_event(state: ScreenState, *, styles: bool = False, predicted: dict[str, object] | None = None) -> dict[str, Any]:
    """The headless ``screen`` event (HEADLESS.md), plus the modes as extra keys; with
    ``styles``, each row's non-default style runs (``Row.style_runs``, docs/headless.md)."""
    return screen_json(state, styles=styles, predicted=predicted)
