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
from collections import deque
from typing import Any, Callable, Sequence

from cobrowse.errors import AudioUnavailable
from cobrowse.io.customer_seat import TeamSeat
from cobrowse.io.runtime import SessionRuntime
from cobrowse.playbook import Playbook, StepMachine
from cobrowse.policy.customer import END_CONFIRM, FEEDBACK_ANSWER, CustomerPolicy, Effect
from cobrowse.policy.customer_consent import HELLO_WAIT
from cobrowse.policy.customer_events import (CLEAR_SCREEN, ClearScreen, CloseSession, EndGuide, Level, EndSession, Expedite, GetHelp, GiveFeedback,
                                             Notice, PeerEnded, RedactionChanged, Report, ResyncScreen, TeamAnswer, TeamRequest, Voice, WriteProgram)
from cobrowse.policy.events import Event, as_json
from cobrowse.protocol import messages as m
from cobrowse.protocol.consent import ConsentMachine
from cobrowse.protocol.inbound import NoticeTally, RateLimits
from cobrowse.protocol.prompts import ARMING, PromptQueue
from cobrowse.protocol.recording import RecordingConsent
from cobrowse.screen.redact import CONTEXT_ROWS, Redactor
from cobrowse.screen.skip import SkipAhead
from cobrowse.screen.state import REDACTED, Modes
from cobrowse.screen.sync import ScreenSender
from cobrowse.screen.budget import PatternBudget  # after sync: keeps merges apart
from cobrowse.voice.call import CallError
from cobrowse.trust import ControlGate, OrgTrust, Verdict
from cobrowse.trust.tripwire import COOLDOWN

__all__ = ["CustomerRuntime", "END_CONFIRM", "FEEDBACK_ANSWER", "HELLO_WAIT"]

#: Feeding the emulator costs about 15 ms of CPU per MB (pyavt, holding the GIL), several
#: times what passing the same MB through to the customer's terminal costs: fed inline, a
#: 24 MB flood reached the customer's terminal at ~0.4x its unshared speed (bench/flood.py).
#: So output is queued and fed from the event loop, oldest first, in batches. Up to
#: FEED_SLICE bytes waiting (an echo, a prompt, a redraw) are fed at once, in the next loop
#: iteration. More than that means the program floods its terminal: the terminal comes
#: first, and the emulator catches up once no output came for QUIET s, FEED_SLICE bytes per
#: loop iteration doubling up to MAX_SLICE while it stays quiet (not before: on a busy
#: machine, parsing in the flood's short gaps takes the CPU the program and the terminal
#: need). The lag is bounded: once the oldest queued output is MAX_LAG s old, or more than
#: MAX_BACKLOG bytes wait, the excess is fed inline, so the emulator's speed paces the
#: program as before. Floods up to about MAX_BACKLOG bytes thus reach the customer at full
#: speed; the agent's view of a flood lags by at most MAX_LAG plus the backlog's parse time
#: (~0.5 s for 32 MB); the final screen is exact.
FEED_SLICE = 16 * 1024
#: Frames that may go at once after a quiet spell: a key the agent types is echoed back
#: at once instead of on the next 1/30 s tick, while floods stay at the frame rate.
ECHO_BURST = 4
MAX_SLICE = 256 * 1024
QUIET = 0.010
MAX_LAG = 1.0
#: Output that never pauses for QUIET s is still shown to the agent: once every FOLLOW s the
#: oldest output is fed for up to FOLLOW_SHARE of that time (parsing costs 15-120 ms per MB,
#: by how much Python-side filtering the output needs), so a steady 1 MB/s reaches the agent
#: within about FOLLOW. Past FOLLOW_BACKLOG bytes waiting it is a flood (`cat` of a big file):
#: the terminal comes first, and the view moves every FLOOD_EVERY s with FLOOD_SHARE of it.
FOLLOW = 1 / 30
FOLLOW_SHARE = 0.3
FOLLOW_BACKLOG = 256 * 1024
FLOOD_EVERY = 0.2
FLOOD_SHARE = 0.05
MAX_BACKLOG = 32 * 1024 * 1024
#: Up to this many bytes waiting are fed when the frame rate next allows a frame, not at
#: once (screen_fed: the same frames go, one feed a frame instead of one per pty read).
DEFER_BELOW = 4 * 1024
#: Skip-ahead (screen/skip.py): a flood's backlog is shortened to the lines the screen can
#: still show and fed at once when at most FOLLOW_FEED bytes are left; past TORRENT bytes
#: queued between two follows (~15 MB/s: `cat` of a big file) the view follows every
#: TORRENT_EVERY s, so the agent, the relay and the frames leave the CPU to the program and
#: the customer's terminal. SKIP_GROW: rows kept beyond the screen (redaction's context rows
#: plus what a terminal grown taller pulls back).
FOLLOW_FEED = 128 * 1024
TORRENT = 512 * 1024
TORRENT_EVERY = 0.5
SKIP_GROW = 50
#: Lines masked whole because the agent's patterns had used their CPU share are redacted
#: again this much later (screen/budget.py).
RECHECK = 0.1


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
        self.patterns = PatternBudget(time.perf_counter)
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
        self._backlog: deque[tuple[float, bytes]] = deque()  # (arrival time, output) not yet fed
        self._backlog_bytes = 0
        self._last_output = 0.0  # loop time of the last output
        self._feed_handle: asyncio.Handle | None = None
        self._deferred: asyncio.TimerHandle | None = None  # a feed waiting for the next frame (DEFER_BELOW)
        self._slice = FEED_SLICE
        self._followed = -math.inf  # when the view last followed a flood (FOLLOW)
        #: Lines that scroll through between two frames are not parsed (screen/skip.py).
        self.skip = SkipAhead(CONTEXT_ROWS + SKIP_GROW)
        self._unskipped = 0  # backlog bytes skip-ahead could not shorten enough, last time
        #: Largest backlog seen, in bytes (statistics, tests).
        self.max_backlog = 0

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
    def control_gate(self) -> ControlGate:
        return self.policy.desk.control_gate

    @property
    def ignored(self) -> NoticeTally:
        return self.policy.desk.ignored

    @property
    def identity(self) -> Verdict | None:
        return self.policy.desk.identity

    @property
    def trusted(self) -> tuple[OrgTrust, ...]:
        return self.policy.desk.trusted

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
            elif isinstance(effect, ResyncScreen):
                self.screen.resync()
            elif isinstance(effect, ClearScreen):  # the front end clears the terminal (ScreenCleared)
                self.program_output(CLEAR_SCREEN.encode())
            elif isinstance(effect, RedactionChanged):
                self.screen.redaction_changed()
            else:
                raise AssertionError(f"{effect!r} needs the event loop")  # a policy bug, not the peer's
        if effects:
            self.wake()

    async def _apply(self, effects: list[Effect]) -> None:
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
        if effects:
            self.wake()

    # from the glue

    def program_output(self, data: bytes) -> None:
        """The program's output, already on the customer's terminal: queue it for the emulator."""
        now = self._loop.time()
        effects = self._decide().program_output(data, now)
        if effects:
            self._apply_now(effects)
        self._backlog.append((now, data))
        self._backlog_bytes += len(data)
        self._last_output = now
        if self._backlog_bytes > self.max_backlog:
            self.max_backlog = self._backlog_bytes
        if self._backlog_bytes > MAX_BACKLOG or now - self._backlog[0][0] > MAX_LAG:
            self._feed(FEED_SLICE, older_than=now - MAX_LAG, keep=MAX_BACKLOG)  # the bound: pace the program
        if self._feed_handle is None:
            self._feed_handle = self._loop.call_soon(self._feed_step)

    def _feed_step(self) -> None:
        self._feed_handle = None
        if self._backlog_bytes <= DEFER_BELOW and self._defer_feed():
            return
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None
        if self._backlog_bytes <= FEED_SLICE:
            self._feed(math.inf)
            self._slice = FEED_SLICE
            return
        now = self._loop.time()
        quiet_for = now - self._last_output
        if quiet_for < QUIET:  # flooding: the terminal first, but the agent's view follows
            self._slice = FEED_SLICE
            every = FOLLOW if self._backlog_bytes < TORRENT else TORRENT_EVERY
            follow_at = max(self._backlog[0][0], self._followed) + every
            if now >= follow_at:
                self._followed = now
                if not self._follow():
                    flood = self._backlog_bytes > FOLLOW_BACKLOG
                    every = FLOOD_EVERY if flood else FOLLOW
                    stop = time.perf_counter() + (FLOOD_SHARE if flood else FOLLOW_SHARE) * every
                    while self._backlog and time.perf_counter() < stop:
                        self._feed(FEED_SLICE)
                    self._followed = now + every - FOLLOW
                follow_at = self._followed + FOLLOW
            if self._backlog:
                self._feed_handle = self._loop.call_later(min(QUIET - quiet_for, follow_at - now), self._feed_step)
            return
        if self._follow():
            return
        self._feed(self._slice)
        self._slice = min(2 * self._slice, MAX_SLICE)
        if self._backlog:
            self._feed_handle = self._loop.call_soon(self._feed_step)

    def _feed(self, minimum: float, older_than: float = -math.inf, keep: float = math.inf) -> None:
        """Feed the oldest queued chunks to the emulator in one batch: ``minimum`` bytes (rounded
        up to whole chunks), and more while the oldest arrived before ``older_than`` or more
        than ``keep`` bytes are queued."""
        backlog = self._backlog
        batch: list[bytes] = []
        taken = 0
        while backlog and (taken < minimum or backlog[0][0] < older_than or self._backlog_bytes > keep):
            data = backlog.popleft()[1]
            batch.append(data)
            taken += len(data)
            self._backlog_bytes -= len(data)
        if not backlog:
            self._unskipped = 0
        if batch:
            data = batch[0] if len(batch) == 1 else b"".join(batch)
            emu = self.screen.emulator
            self._fed(self.skip.shorten(data, emu.size[1], emu.scrolls_whole()))

    def _follow(self) -> bool:
        """Feed the whole backlog at once if skip-ahead leaves at most FOLLOW_FEED bytes of it;
        else queue what it left again (in slices, fed within the time budget) and say no."""
        backlog = self._backlog
        if self._backlog_bytes < 2 * self._unskipped:
            return False  # not twice what could not be shortened last time: keeps scans O(output)
        data = backlog[0][1] if len(backlog) == 1 else b"".join(chunk for _, chunk in backlog)
        emu = self.screen.emulator
        out, ground = self.skip.plan(data, emu.size[1], emu.scrolls_whole())
        if len(out) > FOLLOW_FEED:
            if len(out) < len(data):
                first = backlog[0][0]
                backlog.clear()
                backlog.extend((first, out[i : i + FEED_SLICE]) for i in range(0, len(out), FEED_SLICE))
                self._backlog_bytes = len(out)
            self._unskipped = len(out)
            return False
        backlog.clear()
        self._backlog_bytes = self._unskipped = 0
        self.skip.commit(data, out, ground)
        self._fed(out)
        return True

    def _fed(self, data: bytes) -> None:
        self.screen.feed(data)
        self.screen_fed()
        self.followers_changed()

    def feed_pending(self) -> None:
        """Feed the whole backlog now (before a resize, before the last frame)."""
        self._feed(math.inf)

    async def program_exited(self, status: int) -> None:
        self.feed_pending()
        await self.flush_screen()
        await self.flush_steps()
        await self.end("command_exited", f"the customer's shared program exited (status {status})")

    async def flush_screen(self) -> None:
        """Send the screen as it is now before the session ends: the program's last output
        would otherwise die with the session if it came after the last frame."""
        for _ in range(5):  # the frame-rate wait is at most 1/fps; the ticker may send it first
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
        await self._apply(self._decide().local_input(data, self.now, self.view))

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
        return not self.trusted or self.policy.desk.verified

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
        if self.detached:  # its agent left (a team): nothing it sends counts any more
            return
        session = self.session
        binding = session.binding if session is not None else None
        await self._apply(self._decide().message(message, self.now, self.view, binding=binding, wall=int(time.time())))

    # frames

    def _sharing_now(self) -> bool:
        session = self.session
        return (self.paired and not self.detached and session is not None and session.peer_present and not session.window_full
                and self.policy.sharing and self.policy.ending is None)  # a full window: the screen coalesces

    async def _send_frame(self) -> None:
        await self._apply(self._decide().frame_upkeep())
        if self._recheck is None and self.redactor.take_unchecked():
            self._recheck = self._loop.call_later(RECHECK, self._recheck_redaction)
        frame = self.screen.poll(self.now)
        if frame is not None:
            await self.send(m.Screen(frame.to_dict()))
            self.frames_sent += 1
            if not self.policy.told_masked and any(style.attrs & REDACTED for _, row in frame.rows for _, style in row.runs):
                self._apply_now(self.policy.frame_masked())

    def _defer_feed(self) -> bool:
        """Whether the (small) backlog waits for the next frame the rate allows: True with a
        feed planned then. A frame that may go now (an echo, after a pause) is fed at once."""
        now = self._loop.time()
        due = self.screen.ready_at(now)
        if due <= now:
            return False
        if self._deferred is None:
            self._deferred = self._loop.call_at(due, self._feed_deferred)
        return True

    def _feed_deferred(self) -> None:
        self._deferred = None
        if self._backlog and self._feed_handle is None:
            self._feed_step()  # due now: fed at once (or, grown past DEFER_BELOW, as usual)

    def screen_fed(self) -> None:
        """The emulator took output: the ticker's pass is due when the frame rate allows the
        next frame, not at once (a pass per pty read was most of the customer's CPU at 10 KB/s)."""
        due = self.screen.next_deadline(self.now)
        if due is not None:
            self.wake_at(due)

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
        return min(deadlines, default=None)
