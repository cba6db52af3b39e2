"""The customer's side of a session: share the program's screen, enforce consent, chat.

The program itself (a pty) and the customer's keyboard live outside: the glue calls
``program_output``, ``program_exited``, ``local_input`` and ``resize``, and gives a
``write_program`` callable. Consent is decided here, on the customer's machine: the agent's
``keys`` reach the program only while the customer has granted control.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
import time
from collections import deque
from typing import Any, Callable, Sequence

from cobrowse.errors import AudioUnavailable
from cobrowse.io.runtime import SessionRuntime
from cobrowse.playbook import LineTap, Playbook, PlaybookError, StepMachine, playbook_from_dict
from cobrowse.plain.feedback import QUESTION, FeedbackPrompt
from cobrowse.plain.prefix import HELP, Command, Echo, PrefixParser, ToProgram
from cobrowse.protocol import messages as m
from cobrowse.protocol.consent import ConsentMachine
from cobrowse.protocol.inbound import NoticeTally, RateLimits
from cobrowse.protocol.prompts import (ARMING, SHORT, Answered, AutoRefused, NothingAsked, Prompt, PromptEvent, PromptKind,
                                       PromptQueue, Queued, Shown, Stale, TooSoon)
from cobrowse.protocol.recording import RecordingConsent
from cobrowse.protocol.suggestion import Paste, check_suggestion, plan_paste
from cobrowse.screen.redact import LineRedactor, RedactPatternError, Redactor
from cobrowse.screen.state import REDACTED
from cobrowse.screen.sync import ScreenSender
from cobrowse.screen.budget import AgentPattern, PatternBudget  # after sync: keeps merges apart
from cobrowse.voice.call import CallError
from cobrowse.trust import ControlGate, OrgTrust, Verdict, no_proof, verify
from cobrowse.trust.display import control_gate_event, customer_identity_event
from cobrowse.trust.tripwire import COOLDOWN

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
MAX_BACKLOG = 32 * 1024 * 1024

#: How ignored or dropped agent messages are told: the first at once, then once per few
#: seconds with a count (``rate:TYPE``: over the rate limit for that message type).
IGNORED = {
    "keys": ("ignored keys from the agent: you have not granted control",
             "ignored {n} more keystroke messages from the agent: you have not granted control"),
    "auto_refused": ("refused a request from the agent without asking you: you refused it several times",
                     "refused {n} more requests from the agent without asking you"),
}
#: Lines masked whole because the agent's patterns had used their CPU share are redacted
#: again this much later (screen/budget.py).
RECHECK = 0.1
#: Pattern notices waiting for the agent while sharing is paused (each pattern is told once).
MAX_PATTERN_ERRORS = 32
#: How long after pairing the agent's hello may take before the customer is shown the
#: identity verdict without it (an agent whose hello is refused stays UNVERIFIED, loudly).
HELLO_WAIT = 3.0
#: Ending a paired session takes Ctrl-] e twice within this many seconds.
END_CONFIRM = 5.0
#: How long the end-of-session question waits for the customer (the agent waits 60 s).
FEEDBACK_ANSWER = 45.0


class CustomerRuntime(SessionRuntime):
    role = "customer"

    def __init__(self, *args: Any, cols: int = 80, rows: int = 24, consent_timeout: float = 30.0,
                 write_program: Callable[[bytes], None] = lambda data: None,
                 redact_patterns: Sequence[str] = (), ask_feedback: bool = False,
                 trusted: Sequence[OrgTrust] = (), control_cooldown: float = COOLDOWN,
                 prompt_arming: float = ARMING, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The organisations whose agents this customer trusts (their published trust files).
        self.trusted = tuple(trusted)
        #: How this client judged the agent, once the agent said hello (None before).
        self.identity: Verdict | None = None
        self._hello_deadline: float | None = None
        self._end_asked_at = -math.inf
        self._proof_verdict: Verdict | None = None
        #: The scam tripwire: control for an unverified agent takes a second, later press.
        self.control_gate = ControlGate(control_cooldown)
        self.reported = False
        self.consent = ConsentMachine(consent_timeout)
        self.recording = RecordingConsent(consent_timeout)
        #: Every question to the customer, one at a time (protocol/prompts.py).
        self.prompts = PromptQueue(timeout=consent_timeout, arming=prompt_arming)
        #: What the agent may send, and how fast (protocol/inbound.py).
        self.limits = RateLimits()
        self.ignored = NoticeTally()
        #: Whether this client can ask the customer "was it solved?" (a UI that shows the question).
        self.ask_feedback = ask_feedback
        #: The agent's End while the customer is asked "was it solved?" (None otherwise).
        self.ending: m.End | None = None
        self._feedback_keys = FeedbackPrompt()
        self._feedback_deadline = 0.0
        #: The CPU the agent's patterns (steps, redaction, pointer) may use here (screen/budget.py).
        self.patterns = PatternBudget(time.perf_counter)
        self._pointer_patterns: dict[str, AgentPattern] = {}
        self._pattern_errors: deque[str] = deque()  # notices for the agent, sent with the next frame
        self._recheck: asyncio.TimerHandle | None = None  # redact again lines the patterns could not check
        #: Secrets are masked on this machine before anything is sealed (screen/redact.py).
        self.redactor = Redactor(redact_patterns, budget=self.patterns)
        self.screen = ScreenSender(cols, rows, burst=ECHO_BURST, redactor=self.redactor)
        self._told_masked = False  # the customer heard that a secret was masked
        self.sharing = True
        self.write_program = write_program
        self.prefix = PrefixParser()
        self.frames_sent = 0
        self.suggestion: m.Suggest | None = None
        self.pointer: m.Pointer | None = None
        self.steps: StepMachine | None = None
        self._tap = LineTap()
        self._tap_redactor = LineRedactor(self.redactor)
        self._steps_dirty = False
        self._backlog: deque[tuple[float, bytes]] = deque()  # (arrival time, output) not yet fed
        self._backlog_bytes = 0
        self._last_output = 0.0  # loop time of the last output
        self._feed_handle: asyncio.Handle | None = None
        self._slice = FEED_SLICE
        #: Largest backlog seen, in bytes (statistics, tests).
        self.max_backlog = 0

    # from the glue

    def program_output(self, data: bytes) -> None:
        """The program's output, already on the customer's terminal: queue it for the emulator."""
        now = self._loop.time()
        steps = self.steps
        if steps is not None and not steps.finished:
            lines = self._tap.feed(data)
            if lines:  # the agent's patterns never see a secret: it could probe it step by step
                lines = self._tap_redactor.feed(lines)
            if lines and steps.observe(lines, now):
                self._steps_changed()
            if self.patterns.pending:
                self._take_pattern_notices()
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
        if self._backlog_bytes <= FEED_SLICE:
            self._feed(math.inf)
            self._slice = FEED_SLICE
            return
        quiet_for = self._loop.time() - self._last_output
        if quiet_for < QUIET:  # flooding: the terminal first
            self._slice = FEED_SLICE
            self._feed_handle = self._loop.call_later(QUIET - quiet_for, self._feed_step)
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
        if batch:
            self.screen.feed(batch[0] if len(batch) == 1 else b"".join(batch))
            self.wake()

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

    async def local_input(self, data: bytes) -> None:
        if self.ending is not None:  # the session is over: keys answer the feedback question
            answer = self._feedback_keys.feed(data)
            if answer is not None:
                await self.give_feedback(answer.solved, answer.rating)
            return
        for action in self.prefix.feed(data):
            if isinstance(action, ToProgram):
                self.write_program(action.data)
            elif isinstance(action, Echo):
                self.emit({"event": "notice", "message": action.text})
            elif isinstance(action, Command):
                await self.run_command(action.name, action.text)

    async def run_command(self, name: str, text: str = "") -> None:
        if name == "help":
            self.emit({"event": "notice", "message": HELP})
        elif name == "end":
            if self.paired and self.now - self._end_asked_at > END_CONFIRM:
                self._end_asked_at = self.now  # a stray key must not end a session in the middle of help
                self.emit({"event": "notice", "kind": "confirm_end",
                           "message": f"press Ctrl-] e again within {END_CONFIRM:.0f} s to end the session"})
                return
            await self.end("customer_ended")
        elif name == "chat":
            if self.paired:
                await self.send(m.Chat(text))
                self.emit({"event": "notice", "message": f"you: {text}"})
            else:
                self.emit({"event": "notice", "message": "not connected to an agent yet: chat not sent"})
        elif name in ("allow", "deny"):
            await self.answer_prompt(name == "allow", int(text) if text.isdigit() else None)
        elif name == "grant_control":
            if self.consent.level != "control" and not self._control_gate_open("Ctrl-] g"):
                return
            await self._consent_changed(self.consent.grant("control"))
            await self._prompt_events(self.prompts.withdraw(PromptKind.CONTROL, self.now)
                                      + self.prompts.withdraw(PromptKind.SUGGEST, self.now))
        elif name == "report":
            await self.report()
        elif name == "grant_suggest":
            await self._consent_changed(self.consent.grant("suggest"))
            await self._prompt_events(self.prompts.withdraw(PromptKind.SUGGEST, self.now))
        elif name == "revoke":
            self.control_gate.reset()
            self.consent.revoke()
            await self._consent_changed(True)
            await self._prompt_events(self.prompts.withdraw(PromptKind.CONTROL, self.now)
                                      + self.prompts.withdraw(PromptKind.SUGGEST, self.now))
        elif name in ("paste_suggestion", "decline_suggestion"):
            await self.answer_suggestion(name == "paste_suggestion")
        elif name in ("step_done", "step_skip"):
            try:
                self.change_step("mark", -1, "done" if name == "step_done" else "skipped", "customer")
            except ValueError as exc:
                self.emit({"event": "notice", "message": str(exc)})
            await self.flush_steps()
        elif name in ("call", "hangup", "mute"):
            await self.voice_command(name)
        elif name == "stop_recording":
            await self.stop_recording()
        elif name == "pause":
            self.sharing = not self.sharing
            if self.sharing:
                self.screen.resync()
            self.emit({"event": "sharing", "active": self.sharing})
            if self.paired:
                await self.send(m.Sharing(self.sharing))
                await self.flush_steps()
            self.wake()

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
            self.emit({"event": "notice", "message": str(exc)})

    def pointer_event(self) -> dict[str, Any]:
        """What the agent points at, with the text it covers now (for plain mode and the app)."""
        pointer = self.pointer
        if pointer is None:
            return {"event": "pointer", "cleared": True, "message": "the agent cleared the highlight"}
        self.feed_pending()
        lines = self.screen.state().lines()
        if pointer.pattern:
            pattern = self._pointer_patterns.get(pointer.pattern)
            if pattern is None:  # each pattern is compiled once, and stays off once switched off
                if len(self._pointer_patterns) >= 64:
                    del self._pointer_patterns[next(iter(self._pointer_patterns))]
                pattern = self.patterns.compile(pointer.pattern, "pointer pattern", literal_if_invalid=True)
                self._pointer_patterns[pointer.pattern] = pattern
            rows = [i for i, line in enumerate(lines) if self.patterns.search(pattern, line)]
            self._take_pattern_notices()
            where = f"lines matching {pointer.pattern[:60]!r}" + ("" if pattern.active else " (switched off: too slow)")
        else:
            rows = list(range(pointer.first, min(pointer.last, len(lines) - 1) + 1))
            where = f"rows {pointer.first + 1}-{pointer.last + 1}" if pointer.last > pointer.first else f"row {pointer.first + 1}"
        shown = " | ".join(lines[i].strip() for i in rows[:3]) or "(nothing there now)"
        return {"event": "pointer", "rows": rows, "pattern": pointer.pattern,
                "message": f"the agent points at {where}: {shown}"}

    def start_playbook(self, playbook: Playbook, *, by_agent: bool = False) -> None:
        """Run a playbook here (pushed by the agent, or self-service): steps start from the first.
        The agent's patterns run under the CPU budget; the customer's own are trusted."""
        self.steps = StepMachine(playbook, self.patterns, trusted=not by_agent)
        self._tap = LineTap()
        self._tap_redactor = LineRedactor(self.redactor)
        self._steps_changed()

    def _steps_changed(self) -> None:
        assert self.steps is not None
        self._steps_dirty = True
        self.emit({"event": "steps", **self.steps.to_dict()})
        self.wake()

    async def flush_steps(self) -> None:
        """Send the step state if it changed since it was last sent. Not while sharing is
        paused: step progress tells what the program printed (it goes on resume)."""
        if self._steps_dirty and self.paired and self.steps is not None and self.sharing:
            self._steps_dirty = False
            await self.send(m.Steps(self.steps.to_dict()))

    def change_step(self, action: str, index: int, status: str, by: str) -> None:
        """Apply a step change from either side; raise ValueError if it makes no sense."""
        steps = self.steps
        if steps is None:
            raise ValueError("no playbook is running")
        now = self.now
        if action == "back":
            changed = steps.back(by, now)
        elif action == "goto":
            changed = steps.goto(index, by, now)
        else:
            changed = steps.mark(steps.current if index < 0 and steps.current is not None else index, status, by, now)
        if changed:
            self._steps_changed()

    async def answer_suggestion(self, paste: bool) -> None:
        """Paste the suggested command at the prompt (the customer still presses Enter), or decline."""
        suggestion = self.suggestion
        if suggestion is None:
            self.emit({"event": "notice", "message": "no suggested command to answer"})
            return
        if paste and not self.paste_command(suggestion.command, "the agent's suggestion"):
            return  # kept: the customer may paste it once back at their prompt, or decline it
        self.suggestion = None
        if self.paired:
            await self.send(m.SuggestAnswer(suggestion.id, "pasted" if paste else "declined"))

    def paste_command(self, command: str, what: str = "the command") -> bool:
        """Paste a one-line command (a suggestion, a guide step's) at the program's prompt,
        never with a byte that could run it: the customer presses Enter. False (with a
        notice saying why) if it was not pasted."""
        self.feed_pending()
        plan = plan_paste(command, self.screen.emulator.modes())
        if not isinstance(plan, Paste):
            self.emit({"event": "notice", "message": f"{what} was not pasted: {plan.reason}"})
            return False
        self.write_program(plan.data)
        self.emit({"event": "notice", "message": f"pasted {what}: check it, edit it if needed, and press Enter to run it"})
        return True

    # recording consent (the agent records only after "granted")

    async def answer_prompt(self, allow: bool, prompt_id: int | None = None) -> None:
        """Ctrl-] y / n (or the app's buttons, which name the ``prompt_id`` they show): answer
        the question on screen, and only it."""
        now = self.now
        verdict = self.prompts.check(prompt_id, now)
        if isinstance(verdict, Prompt) and verdict.kind == PromptKind.CONTROL:
            if not allow:
                self.control_gate.reset()
            elif not self._control_gate_open("Ctrl-] y"):
                return
        await self._prompt_events(self.prompts.answer(prompt_id, allow, now))

    async def answer_recording(self, allow: bool) -> None:
        """Answer the recording question, if it is the one on screen."""
        shown = self.prompts.shown
        if shown is None or shown.kind != PromptKind.RECORDING:
            self.emit({"event": "notice", "message": "the agent is not asking to record right now"})
            return
        await self.answer_prompt(allow, shown.id)

    async def _ask(self, kind: PromptKind) -> None:
        await self._prompt_events(self.prompts.request(kind, self.now))

    async def _prompt_events(self, events: list[PromptEvent]) -> None:
        """Tell the customer (and the agent) what the prompt queue decided."""
        for event in events:
            if isinstance(event, Shown):
                self._show_prompt(event.prompt)
            elif isinstance(event, Answered):
                await self._prompt_answered(event)
            elif isinstance(event, Queued):
                pass  # told when it is shown: a line now could be read as the question on screen
            elif isinstance(event, AutoRefused):
                await self._auto_refused(event)
            elif isinstance(event, TooSoon):
                self.emit({"event": "notice", "message": "ignored that answer: the question on screen is new (it asks "
                                                        f"about {SHORT[event.prompt.kind]}); read it, then answer"})
            elif isinstance(event, Stale):
                self.emit({"event": "notice", "message": "that answer was for a question no longer on screen: "
                                                        "nothing was answered"})
            elif isinstance(event, NothingAsked):
                self.emit({"event": "notice", "message": "nothing to answer"})

    def _show_prompt(self, prompt: Prompt) -> None:
        timeout = prompt.deadline - prompt.shown_at
        if prompt.kind == PromptKind.RECORDING:
            self.emit({"event": "recording_prompt", "id": prompt.id, "kind": str(prompt.kind), "timeout_s": timeout,
                       "message": prompt.question()})
        else:
            unverified = prompt.kind == PromptKind.CONTROL and not (self.identity is not None and self.identity.verified)
            warning = " THIS AGENT IS NOT VERIFIED: you will have to confirm twice." if unverified else ""
            self.emit({"event": "consent_prompt", "id": prompt.id, "kind": str(prompt.kind), "level": str(prompt.kind),
                       "timeout_s": timeout, "confirm_twice": unverified, "message": prompt.question() + "." + warning})
        self.wake()

    async def _prompt_answered(self, event: Answered) -> None:
        kind, what = event.prompt.kind, SHORT[event.prompt.kind]
        if event.by == "withdrawn":  # whoever withdrew it says what changed
            return
        if event.by == "timeout":
            self.emit({"event": "notice", "message": f"no answer: refused {what} (the agent's request was denied)"})
        else:
            self.emit({"event": "notice", "message": f"you {'allowed' if event.allow else 'refused'}: {what}"})
        if kind == PromptKind.RECORDING:
            state = self.recording.answer(event.allow)
            if state is not None:
                await self._recording_changed(state, event.by)
            return
        if not event.allow:
            self.control_gate.reset()
        elif not self.consent.covers(str(kind)):
            self.consent.grant(str(kind))
            if kind == PromptKind.CONTROL:  # control includes suggestions: nothing left to ask
                await self._prompt_events(self.prompts.withdraw(PromptKind.SUGGEST, self.now))
        await self._consent_changed(True)

    async def _auto_refused(self, event: AutoRefused) -> None:
        """A request of a kind the customer kept refusing: refused without asking; both
        sides hear it once per few seconds, not once per request."""
        if event.kind == PromptKind.RECORDING:
            await self.send(m.Recording("denied"))
        else:
            await self.send(m.Consent(self.consent.level))
        notice = self.ignored.ignored("auto_refused", self.now)
        if notice is not None:
            await self._tell_ignored(notice.kind, notice.count, notice.first)
            left = max(0.0, event.until - self.now)
            await self.send(m.Chat(f"[cobrowse] the customer refused {SHORT[event.kind]} several times: further "
                                   f"requests are refused without asking them for {left / 60:.0f} min"))

    async def _tell_ignored(self, kind: str, count: int, first: bool) -> None:
        what = kind.removeprefix("rate:")
        one, many = IGNORED.get(kind) or (f"ignored a {what!r} message from the agent: it sends too many, too fast",
                                          f"ignored {{n}} more {what!r} messages from the agent: too many, too fast")
        self.emit({"event": "notice", "kind": "ignored", "count": count, "message": one if first else many.format(n=count)})
        if kind == "keys" and self.paired:
            await self.send(m.Consent(self.consent.level))

    async def stop_recording(self) -> None:
        """Stop a recording (or withdraw consent before it starts): effective at once."""
        await self._prompt_events(self.prompts.withdraw(PromptKind.RECORDING, self.now))
        state = self.recording.stop()
        if state is None:
            self.emit({"event": "notice", "message": "the session is not being recorded"})
            return
        await self._recording_changed(state, "customer")

    async def _recording_changed(self, state: str, by: str) -> None:
        messages = {"granted": "RECORDING: the agent records this session (Ctrl-] x stops it)",
                    "denied": "recording refused: the agent may not record this session",
                    "stopped": "recording stopped"}
        self.emit({"event": "recording", "state": state, "by": by, "message": messages[state]})
        if self.paired and by != "agent":
            await self.send(m.Recording(state))

    # the end of a session: was the problem solved? (bounded; skippable)

    async def on_end(self, message: m.End) -> None:
        if not (message.feedback and self.ask_feedback) or self.ending is not None:
            await super().on_end(message)
            return
        self.ending = message
        if self.recording.stop():
            self.emit({"event": "recording", "state": "stopped", "by": "agent", "message": "recording stopped"})
        self._feedback_deadline = self.now + FEEDBACK_ANSWER
        self.emit({"event": "feedback_prompt", "timeout_s": FEEDBACK_ANSWER,
                   "message": f"{message.message or 'the agent ended the session'}. {QUESTION}"})
        self.wake()

    async def give_feedback(self, solved: str, rating: int) -> None:
        """Send the answer (empty and 0: skipped) sealed to the agent, then end the session."""
        end, self.ending = self.ending, None
        if end is None:
            return
        if solved not in m.FEEDBACK_SOLVED or not 0 <= rating <= 5:
            raise ValueError("solved must be 'yes', 'no' or '' and rating 0-5")
        self._ending = True
        if self.paired:
            await self.send(m.Feedback(solved, rating))
        answered = bool(solved or rating)
        self.emit({"event": "feedback_sent", "solved": solved or None, "rating": rating or None,
                   "message": "thank you: your answer was sent to the agent" if answered else "feedback skipped"})
        await self.settle()  # acknowledged before the link closes (on the direct path it could be lost)
        await self.link.close(end.reason)
        self.finish(end.reason, end.message or "the agent ended the session", 0)

    # verified identity and the scam tripwire

    def shows_addresses(self) -> bool:
        """A customer who trusts organisations shows an agent they did not verify no network
        address: only TURN candidates (docs/voice.md, "Privacy")."""
        return not self.trusted or (self.identity is not None and self.identity.verified)

    def _control_gate_open(self, keys: str) -> bool:
        """The scam tripwire: True if control may be granted now. A verified agent passes; for
        anyone else the first press only warns, and a second one counts after the cool-down."""
        if self.identity is not None and self.identity.verified:
            return True
        answer = self.control_gate.press(self.now)
        if answer.state == "open":
            return True
        self.emit(control_gate_event(answer, self.identity, keys))
        return False

    async def report(self) -> None:
        """Report this session to the relay's operator: the relay records the nameplate and
        the time, nothing the customer shared (it never has any of it)."""
        nameplate = self.link.nameplate
        if self.session is None or nameplate is None:
            self.emit({"event": "notice", "message": "no session to report yet"})
            return
        if not await self.link.report():
            self.emit({"event": "notice", "message": "not connected to the relay right now: the report was not sent; try again"})
            return
        self.reported = True
        when = time.strftime("%H:%M UTC", time.gmtime())
        self.emit({"event": "reported", "nameplate": nameplate,
                   "message": f"reported session {nameplate} to the relay's operator at {when} (only the session number "
                              "and the time; nothing you shared). Ctrl-] e ends the session; Ctrl-] r takes back control."})

    async def _identity_known(self, verdict: Verdict) -> None:
        self.identity = verdict
        claimed = self.peer.name if self.peer is not None else ""
        self.emit(customer_identity_event(verdict, claimed))
        await self.send(m.IdentitySeen(verdict.status, verdict.agent, verdict.org, verdict.detail[:500]))

    async def on_hello(self, message: m.Hello) -> None:
        if message.role == "agent" and self.identity is None:
            await self._identity_known(self._proof_verdict or no_proof(bool(self.trusted)))

    async def _agent_proof(self, message: m.AgentProof) -> None:
        session = self.session
        if self._proof_verdict is not None or session is None or session.binding is None:
            self.emit({"event": "warning", "kind": "identity", "message": "ignored a second identity proof from the agent"})
            return
        try:
            proof = base64.b64decode(message.proof, validate=True)
        except (binascii.Error, ValueError):
            proof = b""
        self._proof_verdict = verify(message.credential, proof, session.binding, self.trusted, int(time.time()))
        if self.identity is not None:  # it came after the agent's hello: judge again
            await self._identity_known(self._proof_verdict)

    async def _consent_changed(self, changed: bool) -> None:
        self.emit({"event": "consent", "level": self.consent.level})
        if self.paired:
            await self.send(m.Consent(self.consent.level))

    # session hooks

    async def on_paired(self) -> None:
        if self.identity is None:
            self._hello_deadline = self.now + HELLO_WAIT
        self.screen.resync()
        self._steps_dirty = self.steps is not None
        await self.send(m.Consent(self.consent.level))
        if not self.sharing:
            await self.send(m.Sharing(False))
        self.wake()

    async def on_peer(self, present: bool) -> None:
        if present:
            self.screen.resync()
            self._steps_dirty = self.steps is not None
            self.wake()

    async def on_message(self, message: m.AppMessage) -> None:
        if not self.limits.admit(message.t, self.now):
            notice = self.ignored.ignored(f"rate:{message.t}", self.now)
            if notice is not None:
                await self._tell_ignored(notice.kind, notice.count, notice.first)
            return
        if isinstance(message, m.Chat):
            self.emit({"event": "chat", "from": "agent", "text": message.text})
        elif isinstance(message, m.AgentProof):
            await self._agent_proof(message)
        elif isinstance(message, m.RequestControl):
            if self.consent.covers(message.level):
                await self.send(m.Consent(self.consent.level))
                return
            await self._ask(PromptKind(message.level))
        elif isinstance(message, m.Keys):
            if self.consent.allows_keys() and self.ending is None:
                self.screen.expedite(self.now)
                data = message.data.encode("utf-8", "surrogateescape")
                self.write_program(data)
                self.emit({"event": "control_keys", "bytes": len(data)})
            else:
                notice = self.ignored.ignored("keys", self.now)
                if notice is not None:
                    await self._tell_ignored(notice.kind, notice.count, notice.first)
        elif isinstance(message, m.PushPlaybook):
            try:
                playbook = playbook_from_dict(message.playbook)
            except PlaybookError as exc:
                await self.send(m.Steps({"error": f"the customer's cobrowse refused the playbook: {exc}"}))
                return
            self.emit({"event": "notice", "message": f"the agent started a guide: {playbook.title}"})
            self.start_playbook(playbook, by_agent=True)
            await self.flush_steps()
        elif isinstance(message, m.StepRequest):
            try:
                self.change_step(message.action, message.index, message.status, "agent")
            except ValueError as exc:
                await self.send(m.Steps({"error": str(exc)}))
            await self.flush_steps()
        elif isinstance(message, m.Pointer):
            self.pointer = message if (message.first >= 0 or message.pattern) else None
            self.emit(self.pointer_event())
        elif isinstance(message, m.Suggest):
            reason = check_suggestion(message.command)
            if reason is not None:
                self.emit({"event": "notice", "kind": "suggestion_refused", "id": message.id,
                           "message": f"refused a command the agent suggested: {reason}"})
                await self.send(m.SuggestAnswer(message.id, "refused", reason[:m.MAX_REASON]))
                return
            self.suggestion = message
            self.emit({"event": "suggestion", "id": message.id, "command": message.command,
                       "message": f"the agent suggests: {message.command}   (Ctrl-] a to paste it at your "
                                  "prompt, where you can edit it and press Enter; Ctrl-] d to decline)"})
        elif isinstance(message, m.Redact):
            await self._add_redactions(message.patterns)
        elif isinstance(message, m.Resync):
            self.screen.resync()
            self.wake()
        elif isinstance(message, m.RecordRequest):
            if not message.on:
                await self._prompt_events(self.prompts.withdraw(PromptKind.RECORDING, self.now))
                if self.recording.stop():
                    await self._recording_changed("stopped", "agent")
                return
            if self.recording.recording:
                await self.send(m.Recording("granted"))
                return
            events = self.prompts.request(PromptKind.RECORDING, self.now)
            if any(isinstance(event, (Shown, Queued)) for event in events):
                self.recording.request(self.now)
            await self._prompt_events(events)

    async def _add_redactions(self, patterns: list[str]) -> None:
        """Patterns the agent's organisation masks: they can only hide more (they run on text
        whose secrets are already masked), so they apply without asking."""
        try:
            added = self.redactor.add_remote(patterns)
        except RedactPatternError as exc:
            self.emit({"event": "notice", "message": f"ignored the agent's redaction patterns: {exc}"})
            await self.send(m.Chat(f"[cobrowse] redaction patterns refused: {exc}"[:m.MAX_TEXT]))
            return
        if added:
            self.screen.redaction_changed()
            self.emit({"event": "notice", "message": f"the agent's organisation masks {added} more pattern(s) on what it sees"})
            self.wake()

    def _sharing_now(self) -> bool:
        session = self.session
        return (self.paired and session is not None and session.peer_present and not session.window_full
                and self.sharing and self.ending is None)  # a full window: the screen coalesces meanwhile

    async def _send_frame(self) -> None:
        await self._pattern_upkeep()
        frame = self.screen.poll(self.now)
        if frame is not None:
            await self.send(m.Screen(frame.to_dict()))
            self.frames_sent += 1
            if not self._told_masked and any(style.attrs & REDACTED for _, row in frame.rows for _, style in row.runs):
                self._told_masked = True
                self.emit({"event": "notice", "message": "something on your screen looked like a secret: the agent "
                                                        "sees it masked (░░░), you see it as it is"})

    def _take_pattern_notices(self) -> None:
        """An agent pattern switched off (or refused, or throttled): the customer is told at
        once; the agent with the next frame (so never while sharing is paused: when a pattern
        ran out of time says something about the output)."""
        for notice in self.patterns.take_notices():
            self.emit({"event": "notice", "kind": "agent_pattern", "state": str(notice.kind), "label": notice.label,
                       "pattern": notice.pattern, "reason": None if notice.reason is None else str(notice.reason),
                       "message": notice.customer_text()})
            text = notice.agent_text()
            if text and len(self._pattern_errors) < MAX_PATTERN_ERRORS:
                self._pattern_errors.append(text)

    async def _pattern_upkeep(self) -> None:
        """Before each frame (only while sharing): the agent's pattern notices so far, and a
        later redaction of lines the patterns could not check (masked whole meanwhile)."""
        self._take_pattern_notices()
        while self._pattern_errors and self.paired:
            await self.send(m.Steps({"error": self._pattern_errors.popleft()}))
        if self._recheck is None and self.redactor.take_unchecked():
            self._recheck = self._loop.call_later(RECHECK, self._recheck_redaction)

    def _recheck_redaction(self) -> None:
        self._recheck = None
        self.screen.redaction_changed()
        self.wake()

    async def on_tick(self) -> float | None:
        now = self.now
        if self.identity is None and self._hello_deadline is not None and now >= self._hello_deadline:
            # No usable hello (refused as too big, malformed, or never sent): the customer is
            # still told who they are dealing with, never left without the warning.
            self._hello_deadline = None
            await self._identity_known(self._proof_verdict or no_proof(bool(self.trusted)))
        await self._prompt_events(self.prompts.expire(now))
        for notice in self.ignored.due(now):
            await self._tell_ignored(notice.kind, notice.count, notice.first)
        if self.ending is not None:
            if now >= self._feedback_deadline:
                await self.give_feedback("", 0)
                return None
            return self._feedback_deadline
        await self.flush_steps()
        if not self._sharing_now():
            return None
        await self._send_frame()
        deadlines = [d for d in (self.screen.next_deadline(now), self.prompts.next_deadline(),
                                 self.ignored.next_deadline()) if d is not None]
        return min(deadlines, default=None)
