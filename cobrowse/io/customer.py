"""The customer's side of a session, as glue: the program's screen goes to the agent, the
customer's and the agent's inputs go to ``CustomerPolicy``, whose effects are carried out here.

Every decision (consent, the tripwire, prompts, recording, identity, feedback, steps,
suggestions, the pointer, ending) is the policy's (``cobrowse.policy.customer``, pure, tested
without a relay). What stays here is mechanics: feeding the emulator at the pace the machine
allows, sending frames, the relay link and calls. The program itself (a pty) and the
customer's keyboard live outside: their glue calls ``program_output``, ``program_exited``,
``local_input`` and ``resize``, and gives a ``write_program`` callable.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any, Callable, Sequence

from cobrowse.errors import AudioUnavailable
from cobrowse.io.customer_seat import TeamSeat
from cobrowse.io.output_feed import DEFER_BELOW, OutputFeed
from cobrowse.io.runtime import Later, SessionRuntime
from cobrowse.playbook import Playbook, StepMachine
from cobrowse.policy.customer import END_CONFIRM, FEEDBACK_ANSWER, CustomerPolicy, Effect
from cobrowse.policy.customer_consent import HELLO_WAIT
from cobrowse.policy.customer_events import (CLEAR_SCREEN, ClearScreen, CloseSession, ControlKeys, EndGuide, Level, EndSession, Expedite, GetHelp, GiveFeedback,
                                             Notice, PeerEnded, RedactionChanged, Report, ResyncScreen, TeamAnswer, TeamRequest, Voice, WriteProgram)
from cobrowse.policy.events import Event, as_json
from cobrowse.protocol import messages as m
from cobrowse.protocol.consent import ConsentMachine
from cobrowse.protocol.echo_ack import ACK_SETTLE, EchoAcks
from cobrowse.protocol.inbound import RateLimits
from cobrowse.protocol.prompts import ARMING, PromptQueue
from cobrowse.protocol.recording import RecordingConsent
from cobrowse.screen.redact import Redactor
from cobrowse.screen.state import REDACTED, Modes
from cobrowse.screen.diff import ScreenFrame
from cobrowse.screen.sync import ScreenSender
from cobrowse.screen.budget import PatternBudget  # after sync: keeps merges apart
from cobrowse.voice.call import CallError
from cobrowse.trust import OrgTrust, Verdict
from cobrowse.trust.tripwire import COOLDOWN

__all__ = ["ACK_SETTLE", "CustomerRuntime", "END_CONFIRM", "FEEDBACK_ANSWER", "HELLO_WAIT"]

#: Frames that may go at once after a quiet spell: a key the agent types is echoed back
#: at once instead of on the next 1/30 s tick, while floods stay at the frame rate.
ECHO_BURST = 4
#: Output this soon after a key the agent typed, while the frame may go, sends its frame from
#: the pty's read (``echo_frame``): the key's echo, most often. Up to ECHO_BYTES of it, with
#: nothing else waiting to be fed; more (or later) takes the usual way.
ECHO_WAIT = 0.1
ECHO_BYTES = DEFER_BELOW
#: Lines masked whole because the agent's patterns had used their CPU share are redacted
#: again this much later (screen/budget.py).
RECHECK = 0.1
#: How long a program that exited during the handshake waits for the pairing to finish.
PAIRING_WAIT = 5.0


#: Effects that need no ticker pass of their own: a key the agent typed. Its echo wakes the
#: ticker when the pty's output is fed (``screen_fed``); a pass before that finds nothing to
#: send and, run ahead of the pty's read callback, delayed the echo by its length.
_KEY_EFFECTS = (WriteProgram, Expedite, ControlKeys)


def _needs_pass(effects: list[Effect]) -> bool:
    return any(not isinstance(effect, _KEY_EFFECTS) for effect in effects)


class _View:
    """The screen as the policy reads it: pending output fed first."""

    def __init__(self, runtime: CustomerRuntime) -> None:
        self._rt = runtime

    def lines(self) -> list[str]:
        self._rt.feed_pending()
        return self._rt.screen.state().lines()

    def modes(self) -> Modes:
        self._rt.feed_pending()
        return self._rt.screen.emulator.modes()


class CustomerRuntime(TeamSeat, SessionRuntime):
    role = "customer"

    def __init__(self, *args: Any, cols: int = 80, rows: int = 24, consent_timeout: float = 30.0,
                 write_program: Callable[[bytes], None] = lambda data: None,
                 redact_patterns: Sequence[str] = (), ask_feedback: bool = False,
                 trusted: Sequence[OrgTrust] = (), control_cooldown: float = COOLDOWN,
                 prompt_arming: float = ARMING, guide: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The CPU the agent's patterns (steps, redaction, pointer) may use here (screen/budget.py).
        self.patterns = PatternBudget(time.perf_counter, cpu=time.thread_time)
        #: Secrets are masked on this machine before anything is sealed (screen/redact.py).
        self.redactor = Redactor(redact_patterns, budget=self.patterns)
        self.policy = CustomerPolicy(patterns=self.patterns, redactor=self.redactor, consent_timeout=consent_timeout,
                                     prompt_arming=prompt_arming, control_cooldown=control_cooldown,
                                     trusted=trusted, ask_feedback=ask_feedback, feedback_answer=FEEDBACK_ANSWER,
                                     guide=guide)
        #: Guide mode's Ctrl-] ! and Ctrl-] e before a session: the orchestrator's (customer_session.py).
        self.on_guide: Callable[[GetHelp | EndGuide], None] = lambda effect: None
        self.view = _View(self)
        self._recheck: asyncio.TimerHandle | None = None  # redact again lines the patterns could not check
        self.screen = ScreenSender(cols, rows, burst=ECHO_BURST, redactor=self.redactor)
        self.write_program = write_program
        self.frames_sent = 0
        #: The program's output on its way to the emulator (io/output_feed.py).
        self.output = OutputFeed(self._loop, self.screen, self._output_fed)
        self.output.on_due = self._due_frame
        #: When the agent's last key went to the program, until the output after it (``echo_frame``).
        self._keyed_at = -math.inf
        self._echoing = False
        self.echo_acks = EchoAcks()  # m.Screen.ack (protocol/echo_ack.py)
        #: The read ``echo_first`` took before the customer's terminal saw it (``program_output`` skips it then).
        self._taken: bytes | None = None

    # the policy's state, for front ends (read-only views of its machines)

    @property
    def consent(self) -> ConsentMachine:
        return self.policy.desk.consent

    @property
    def level(self) -> Level:
        """What the agent may do here now (view, suggest, control)."""
        return self.policy.desk.level

    @property
    def recording(self) -> RecordingConsent:
        return self.policy.desk.recording

    @property
    def prompts(self) -> PromptQueue:
        return self.policy.desk.prompts

    @property
    def identity(self) -> Verdict | None:
        return self.policy.desk.identity

    @property
    def steps(self) -> StepMachine | None:
        return self.policy.steps

    @property
    def suggestion(self) -> m.Suggest | None:
        return self.policy.suggestion

    @property
    def pointer(self) -> m.Pointer | None:
        return self.policy.pointer

    @property
    def sharing(self) -> bool:
        return self.policy.sharing

    @property
    def reported(self) -> bool:
        return self.policy.reported

    @property
    def ending(self) -> m.End | None:
        return self.policy.ending

    @property
    def ask_feedback(self) -> bool:
        return self.policy.ask_feedback

    @ask_feedback.setter
    def ask_feedback(self, value: bool) -> None:
        self.policy.ask_feedback = value

    @property
    def limits(self) -> RateLimits:
        return self.policy.limits

    @limits.setter
    def limits(self, value: RateLimits) -> None:
        self.policy.limits = value

    # carrying out the policy's effects

    def _decide(self) -> CustomerPolicy:
        policy = self.policy
        policy.paired = self.paired
        policy.alone = policy.guide and self.session is None
        return policy

    def _apply_now(self, effects: list[Effect]) -> None:
        """Effects that need no I/O (events, writes to the program, screen changes)."""
        for effect in effects:
            if isinstance(effect, Event):
                self.emit(effect)  # typed: the headless shape only at the edge (as_json)
            elif isinstance(effect, WriteProgram):
                self.write_program(effect.data)
            elif isinstance(effect, Expedite):
                self.screen.expedite(self.now)
                self._keyed_at = self.now  # its echo's frame may leave from the pty's read (echo_frame)
                if self.output.pending or self.screen.next_deadline(self.now) is not None:
                    self.wake()  # what waited for the frame rate may go now
            elif isinstance(effect, ResyncScreen):
                self.screen.resync()
            elif isinstance(effect, ClearScreen):  # the front end clears the terminal (ScreenCleared)
                self.program_output(CLEAR_SCREEN.encode())
            elif isinstance(effect, RedactionChanged):
                self.screen.redaction_changed()
            else:
                raise AssertionError(f"{effect!r} needs the event loop")  # a policy bug, not the peer's
        if _needs_pass(effects):
            self.wake()

    async def _apply(self, effects: list[Effect]) -> None:
        if all(isinstance(effect, _KEY_EFFECTS) for effect in effects):  # a key the agent typed: straight to the pty
            self._apply_now(effects)
            return
        for effect in effects:
            if isinstance(effect, m.AppMessage):
                if self.paired:
                    await self.send(effect)
                if isinstance(effect, (m.Chat, m.Steps)):
                    self.on_sent(self, effect)
            elif isinstance(effect, (TeamRequest, TeamAnswer)):  # docs/team.md
                await self._team(effect)
            elif isinstance(effect, EndSession):
                await self.end(effect.reason)
            elif isinstance(effect, CloseSession):
                await self.settle()  # acknowledged before the link closes (on the direct path it could be lost)
                await self.link.close(effect.reason)
                self.finish(effect.reason, effect.message, 0)
            elif isinstance(effect, Voice):
                await self.voice_command(effect.name)
            elif isinstance(effect, Report):
                await self.report()
            elif isinstance(effect, GiveFeedback):
                await self.give_feedback(effect.solved, effect.rating)
            elif isinstance(effect, (GetHelp, EndGuide)):
                self.on_guide(effect)
            elif not isinstance(effect, PeerEnded):
                self._apply_now([effect])
        if _needs_pass(effects):
            self.wake()

    # from the glue

    def echo_first(self, data: bytes) -> None:
        """Plain mode's look at a pty read before the customer's terminal write (io/pty_passthrough.py):
        a key's small echo (output within ECHO_WAIT of a key the agent typed, up to ECHO_BYTES) is
        taken here, so its frame leaves before that write and the wake-up of the customer's terminal
        (~70-90 µs of the key's path, and a process competing for the cores); the observer's call
        after the write then skips it. All other output reaches the customer's terminal first."""
        if len(data) <= ECHO_BYTES and self._loop.time() - self._keyed_at <= ECHO_WAIT:
            try:
                self.program_output(data)
            finally:
                self._taken = data  # once: even a failed feed is not fed twice

    def program_output(self, data: bytes) -> None:
        """The program's output, already on the customer's terminal (or about to be: ``echo_first``):
        queue it for the emulator."""
        if data is self._taken:
            self._taken = None
            return
        now = self._loop.time()
        if self.policy.steps is not None:  # only a guide's steps watch the output (a call less a pty read)
            effects = self._decide().program_output(data, now)
            if effects:
                self._apply_now(effects)
        fresh = self.output.queue(data, now)
        if now - self._keyed_at <= ECHO_WAIT:
            self.echo_frame(fresh and len(data) <= ECHO_BYTES)

    def _output_fed(self) -> None:
        self.screen_fed()
        self.followers_changed()

    def feed_pending(self) -> None:
        """Feed the whole backlog now (before a resize, before the last frame)."""
        self.output.feed_pending()

    async def program_exited(self, status: int) -> None:
        await self._let_pairing_finish()
        self.feed_pending()
        await self.flush_screen()
        await self.flush_steps()
        await self.end("command_exited", f"the customer's shared program exited (status {status})")

    async def _let_pairing_finish(self, timeout: float = PAIRING_WAIT) -> None:
        """The program starts before the handshake ends; one that exits that soon must not
        close the link mid-handshake: the relay would count a claimant that guessed and left,
        and the agent, paired on its side, would never hear why the session ended."""
        loop = asyncio.get_running_loop()
        until = loop.time() + timeout
        while (self.session is not None and self.session.state == "handshaking" and self.outcome is None
               and loop.time() < until):
            await asyncio.sleep(0.02)

    async def flush_screen(self) -> None:
        """Send the screen as it is now before the session ends: the program's last output
        would otherwise die with the session if it came after the last frame."""
        for _ in range(5):  # the frame-rate wait is at most 250 ms (screen/pace.py); the ticker may send it first
            if not self._sharing_now():
                return
            deadline = self.screen.next_deadline(self.now)
            if deadline is None:
                return
            if deadline > self.now:
                await asyncio.sleep(deadline - self.now)
            await self._send_frame()

    def resize(self, cols: int, rows: int) -> None:
        self.feed_pending()  # that output was written for the old size
        self.screen.resize(cols, rows)
        self.wake()
        self.followers_changed(resync=True)

    async def local_input(self, data: bytes) -> None:
        await self._apply(self.decide_local_input(data))

    def decide_local_input(self, data: bytes) -> list[Effect]:
        """The policy's answer to the customer's own keys, decided now (from stdin's read
        callback: a revoke takes effect before an agent's key read after it); what it does
        is carried out later, in order, by ``apply_local`` (cobrowse/plain/inputs.py)."""
        return self._decide().local_input(data, self.now, self.view)

    async def apply_local(self, effects: list[Effect]) -> None:
        await self._apply(effects)

    def echo_frame(self, small: bool) -> None:
        """The program's first output after a key the agent typed (its echo, most often): when the
        frame may go now, its frame is sent from this read, without waiting for a loop pass and
        the ticker's (the two were ~0.3 ms of a key's ~2 ms on loopback). It is the frame the
        ticker would send: the same feed, redaction, frame rate and upkeep; only the wait goes.
        A frame that cannot go at once (sharing paused, the window full, the socket busy, much
        output) is left to the ticker, as before."""
        self._keyed_at = -math.inf  # once per key
        if small:
            self._frame_now()

    def _due_frame(self) -> bool:
        """The deferred feed's time came (``OutputFeed.on_due``): the frame the rate now allows
        leaves from this timer, fed, polled and sent as ``echo_frame`` does, instead of the feed
        waking the ticker for a pass of its own (a timer, a task step, a second loop pass and
        the periodic checks, per frame: steady output sends 15 a second). Only a frame with
        nothing else for the ticker to do: no guide's steps to send (``flush_steps``), no
        policy deadline due. Whether it did; if not, the feed and the ticker go as before."""
        if self.policy.steps is not None or self.outcome is not None:
            return False
        due = self.policy.next_deadline()
        if due is not None and due <= self.now:
            return False
        return self._frame_now()

    def _frame_now(self) -> bool:
        """Feed, poll and send the frame from a callback when it may go now; whether it did."""
        session, now = self.session, self.now
        if session is None or not self._sharing_now() or self.screen.ready_at(now) > now:
            return False
        if not self.link.ready_now():  # (even on the direct path: a frame it does not take goes to the relay)
            return False
        for effect in self._decide().frame_upkeep():  # as ``_apply`` carries them out, without awaiting
            if isinstance(effect, m.AppMessage):
                session.send(effect, now)
                if isinstance(effect, (m.Chat, m.Steps)):
                    self.on_sent(self, effect)
            else:
                self._apply_now([effect])
        self._echoing = True  # the echo's feed wakes no ticker pass: this is its frame
        try:
            frame = self._poll_frame()
        finally:
            self._echoing = False
        if frame is not None:
            session.send(self._screen_message(frame, now), now)
        self.send_ready(session)  # ``flush``, without awaiting (the upkeep's messages too)
        if frame is not None:
            self._frame_sent(frame)
        for due in (self.screen.next_deadline(now), session.next_deadline(), session.retransmit_at(), self.policy.next_deadline()):
            if due is not None:  # what the frame did not show (the rate allowed none); a resend
                self.wake_at(due)
        return True

    def wake(self) -> None:
        if not self._echoing:
            super().wake()

    async def run_command(self, name: str, text: str = "") -> None:
        await self._apply(self._decide().command(name, text, self.now, self.view))

    async def voice_command(self, name: str) -> None:
        """Ctrl-] v / x / u and the app's call buttons: the customer's say over calls."""
        call = self.rtc.call
        try:
            if not self.paired:
                raise CallError("not connected to an agent yet")
            if name == "call":
                await self.rtc.start_call()
            elif name == "hangup":
                await (self.rtc.decline_call() if call.state == "ringing" else self.rtc.hangup())
            else:
                await self.rtc.set_muted(not call.muted)
        except (CallError, AudioUnavailable) as exc:
            self.emit(Notice(str(exc)))

    def pointer_event(self) -> dict[str, Any]:
        """What the agent points at, with the text it covers now (for plain mode and the app)."""
        *notices, pointer = self._decide().pointer_effects(self.view)
        self._apply_now(notices)
        assert isinstance(pointer, Event)
        return as_json(pointer)

    def start_playbook(self, playbook: Playbook, *, by_agent: bool = False) -> None:
        """Run a playbook here (pushed by the agent, or self-service): steps start from the first."""
        self._apply_now(self._decide().start_playbook(playbook, by_agent=by_agent))

    async def flush_steps(self) -> None:
        """Send the step state if it changed since it was last sent (not while sharing is paused)."""
        await self._apply(self._decide().take_steps())

    def change_step(self, action: str, index: int, status: str, by: str) -> None:
        """Apply a step change from either side; raise ValueError if it makes no sense."""
        self._apply_now(self._decide().change_step(action, index, status, by, self.now))

    async def answer_suggestion(self, paste: bool) -> None:
        """Paste the suggested command at the prompt (the customer still presses Enter), or decline."""
        await self._apply(self._decide().answer_suggestion(paste, self.view))

    def paste_command(self, command: str, what: str = "the command") -> bool:
        """Paste a one-line command at the program's prompt, never with a byte that could run
        it. False (with a notice saying why) if it was not pasted."""
        effects = self._decide().paste_command(command, what, self.view)
        self._apply_now(effects)
        return any(isinstance(effect, WriteProgram) for effect in effects)

    async def answer_prompt(self, allow: bool, prompt_id: int | None = None) -> None:
        """Ctrl-] y / n (or the app's buttons, which name the ``prompt_id`` they show)."""
        await self._apply(self._decide().answer(allow, prompt_id, self.now))

    async def answer_recording(self, allow: bool) -> None:
        """Answer the recording question, if it is the one on screen."""
        await self._apply(list(self._decide().desk.answer_recording(allow, self.now)))

    async def stop_recording(self) -> None:
        """Stop a recording (or withdraw consent before it starts): effective at once."""
        await self._apply(list(self._decide().desk.stop_recording(self.now)))

    # the end of a session

    async def on_end(self, message: m.End) -> None:
        effects = self._decide().agent_ended(message, self.now)
        if any(isinstance(effect, PeerEnded) for effect in effects):
            await super().on_end(message)
            return
        await self._apply(effects)

    async def give_feedback(self, solved: str, rating: int) -> None:
        """Send the answer (empty and 0: skipped) sealed to the agent, then end the session."""
        if self.policy.ending is None:
            return
        effects = self._decide().give_feedback(solved, rating)  # ValueError: a front end's bug
        self._ending = True
        await self._apply(effects)

    # identity and reports

    def shows_addresses(self) -> bool:
        """A customer who trusts organisations shows an agent they did not verify no network
        address: only TURN candidates (docs/voice.md, "Privacy")."""
        return not self.policy.desk.trusted or self.policy.desk.verified

    async def report(self) -> None:
        """Report this session to the relay's operator: the relay records the nameplate and
        the time, nothing the customer shared (it never has any of it)."""
        nameplate = self.link.nameplate if self.session is not None else None
        sent = nameplate is not None and await self.link.report()
        await self._apply(self._decide().report_result(nameplate, sent, time.strftime("%H:%M UTC", time.gmtime())))

    # session hooks

    async def on_paired(self) -> None:
        await self._apply(self._decide().paired_now(self.now))

    async def on_hello(self, message: m.Hello) -> None:
        self.screen.scroll_ops = message.role == "agent" and message.screen >= 2  # its mirror applies "sc"
        await self._apply(self._decide().hello(message))

    async def on_peer(self, present: bool) -> None:
        if present:
            await self._apply(self._decide().peer_back())

    async def on_message(self, message: m.AppMessage) -> None:
        later = self._message_now(message)
        if later is not None:
            await later

    def message_now(self, message: m.AppMessage) -> Later | None:
        if type(self).on_message is not CustomerRuntime.on_message:  # a seat that filters first (a team's guest)
            return self.on_message(message)
        return self._message_now(message)

    def _message_now(self, message: m.AppMessage) -> Later | None:
        """The policy's answer, carried out at once when it is a key the agent typed (from the
        link's read callback: the key reaches the pty without a task's wake)."""
        if self.detached:  # its agent left (a team): nothing it sends counts any more
            return None
        if isinstance(message, m.Keys) and (due := self.echo_acks.key(message, self.now)) is not None:
            self.wake_at(due)  # its ack's frame, if no other frame says it
        session = self.session
        binding = session.binding if session is not None else None
        effects = self._decide().message(message, self.now, self.view, binding=binding, wall=int(time.time()))
        if all(isinstance(effect, _KEY_EFFECTS) for effect in effects):
            self._apply_now(effects)
            return None
        return self._apply(effects)

    # frames

    def _sharing_now(self) -> bool:
        session = self.session
        return (self.paired and not self.detached and session is not None and session.peer_present and not session.window_full
                and self.policy.sharing and self.policy.ending is None)  # a full window: the screen coalesces

    async def _send_frame(self) -> None:
        await self._apply(self._decide().frame_upkeep())
        frame = self._poll_frame()
        now = self.now
        if frame is not None:
            await self.send(self._screen_message(frame, now))
            self._frame_sent(frame)
        elif self.echo_acks.alone_due(now) and (same := self.screen.unchanged()):
            self.echo_acks.alone_sent += 1
            await self.send(self._screen_message(same, now))  # for the ack alone (not a frame sent: nothing new)

    def _screen_message(self, frame: ScreenFrame, now: float) -> m.Screen:
        return m.Screen(frame.to_dict(), self.echo_acks.take(now))

    def _poll_frame(self) -> ScreenFrame | None:
        """The next frame, if one is due (``_send_frame``'s part without I/O; ``echo_frame``'s too)."""
        if self._recheck is None and self.redactor.take_unchecked():
            self._recheck = self._loop.call_later(RECHECK, self._recheck_redaction)
        self.output.feed_due()
        return self.screen.poll(self.now)

    def _frame_sent(self, frame: ScreenFrame) -> None:
        self.frames_sent += 1
        if not self.policy.told_masked and any(style.attrs & REDACTED for _, row in frame.rows for _, style in row.runs):
            self._apply_now(self.policy.frame_masked())

    def screen_fed(self) -> None:
        """The emulator took output: the ticker's pass is due when the frame rate allows the
        next frame, not at once (a pass per pty read was most of the customer's CPU at 10 KB/s)."""
        due = self.screen.next_deadline(self.now)
        if due is not None:
            self.wake_at(due)

    def rtt_measured(self, seconds: float) -> None:
        """Frames go at most once per half a round trip (screen/pace.py, mosh's SSP): sent
        faster, they pile up in flight and the agent sees none of them sooner."""
        self.screen.link_rtt(seconds)

    def rtt_reset(self) -> None:
        """Frames changed path: the pace follows the new path's first ping (screen/pace.py)."""
        self.screen.link_reset()

    def _recheck_redaction(self) -> None:
        self._recheck = None
        self.screen.redaction_changed()
        self.wake()

    async def on_tick(self) -> float | None:
        now = self.now
        await self._apply(self._decide().tick(now))
        if self.outcome is not None:
            return None
        if self.policy.ending is not None:
            return self.policy.next_deadline()
        await self.flush_steps()
        if not self._sharing_now():
            return None
        await self._send_frame()
        deadlines = [d for d in (self.screen.next_deadline(now), self.policy.next_deadline()) if d is not None]
        if (acking := self.echo_acks.deadline(now)) is not None:
            deadlines.append(acking)  # the frame for an asked echo ack
        screen = self.screen
        if screen.steady and not self.output.deferred and (ready := screen.ready_at(now)) > now:
            # Output streams at the steady rate: the next pass is when the next frame may go
            # (the output read meanwhile waits for it), not an idle one at TICK in between.
            # (Output already waiting for it sends that frame from its own timer: _due_frame.)
            deadlines.append(ready)
        return min(deadlines, default=None)
