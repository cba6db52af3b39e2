"""The customer's say: consent levels, the questions on screen, recording consent, who the
agent is (identity verdicts) and the unverified-agent tripwire. Pure: ``now`` (and the wall
clock for credentials) is passed in; every decision returns messages to send and events.

Composes the pure machines as they are: ``ConsentMachine`` keeps the level, ``PromptQueue``
asks one question at a time, ``RecordingConsent`` the recording state, ``ControlGate`` the
tripwire, ``NoticeTally`` the coalesced "ignored" notices, ``trust.verify`` the verdicts.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace
from typing import Sequence

from cobrowse.i18n.text import N_, Translator, current
from cobrowse.policy.customer_events import (By, ConsentChanged, ConsentPrompt, ControlConfirm, IdentityShown,
                                             IdentityWarning, Level, Notice, NoticeKind, RecordingChanged,
                                             RecordingPrompt, RecordingState, from_shape)
from cobrowse.policy.events import Event
from cobrowse.protocol import messages as m
from cobrowse.protocol.consent import ConsentMachine
from cobrowse.protocol.inbound import NoticeTally
from cobrowse.protocol.prompts import (SHORT, Answered, AutoRefused, NothingAsked, Prompt, PromptEvent, PromptKind,
                                       PromptQueue, Queued, Shown, Stale, TooSoon)
from cobrowse.protocol.recording import RecordingConsent
from cobrowse.trust import ControlGate, OrgTrust, Verdict, no_proof, verify
from cobrowse.trust.display import control_gate_event, customer_identity_event

#: How long after pairing the agent's hello may take before the customer is shown the
#: identity verdict without it (an agent whose hello is refused stays UNVERIFIED, loudly).
HELLO_WAIT = 3.0

#: How ignored or dropped agent messages are told: the first at once, then once per few
#: seconds with a count (``rate:TYPE``: over the rate limit for that message type).
IGNORED = {
    "keys": (N_("ignored keys from the agent: you have not granted control"),
             N_("ignored {n} more keystroke messages from the agent: you have not granted control")),
    "auto_refused": (N_("refused a request from the agent without asking you: you refused it several times"),
                     N_("refused {n} more requests from the agent without asking you")),
}
RECORDING_TEXT = {RecordingState.GRANTED: N_("RECORDING: the agent records this session (Ctrl-] x stops it)"),
                  RecordingState.DENIED: N_("recording refused: the agent may not record this session"),
                  RecordingState.STOPPED: N_("recording stopped")}

Out = list[m.AppMessage | Event]


class ConsentDesk:
    """Everything the customer is asked, and what the agent is allowed as a result."""

    def __init__(self, *, consent_timeout: float, prompt_arming: float, control_cooldown: float,
                 trusted: Sequence[OrgTrust], tr: Translator | None = None) -> None:
        self.tr = tr or current()
        self.trusted = tuple(trusted)
        self.consent = ConsentMachine(consent_timeout)
        self.recording = RecordingConsent(consent_timeout)
        self.prompts = PromptQueue(timeout=consent_timeout, arming=prompt_arming)
        self.control_gate = ControlGate(control_cooldown)
        self.ignored = NoticeTally()
        #: How this client judged the agent, once the agent said hello (None before).
        self.identity: Verdict | None = None
        self.proof_verdict: Verdict | None = None
        self.hello_deadline: float | None = None
        self.claimed_name = ""
        self.paired = False

    @property
    def level(self) -> Level:
        return Level(self.consent.level)

    def number_prompts_from(self, first: int) -> None:
        """This desk's questions get ids after ``first`` (a team: each pairing its own range,
        so an answer naming one never reaches another's)."""
        self.prompts = replace(self.prompts, _last_id=first)

    @property
    def verified(self) -> bool:
        return self.identity is not None and self.identity.verified

    def _send(self, out: Out, message: m.AppMessage) -> None:
        if self.paired:
            out.append(message)

    # identity

    def paired_now(self, now: float) -> None:
        if self.identity is None:
            self.hello_deadline = now + HELLO_WAIT

    def hello(self, claimed_name: str) -> Out:
        self.claimed_name = claimed_name
        if self.identity is not None:
            return []
        return self._identity_known(self.proof_verdict or no_proof(bool(self.trusted)))

    def agent_proof(self, message: m.AgentProof, binding: bytes | None, wall: int) -> Out:
        """The agent's credential and its proof over this session's binding (``wall``: unix time)."""
        if self.proof_verdict is not None or binding is None:
            return [IdentityWarning(self.tr("ignored a second identity proof from the agent"))]
        try:
            proof = base64.b64decode(message.proof, validate=True)
        except (binascii.Error, ValueError):
            proof = b""
        self.proof_verdict = verify(message.credential, proof, binding, self.trusted, wall)
        if self.identity is not None:  # it came after the agent's hello: judge again
            return self._identity_known(self.proof_verdict)
        return []

    def _identity_known(self, verdict: Verdict) -> Out:
        self.identity = verdict
        out: Out = [from_shape(IdentityShown, customer_identity_event(verdict, self.claimed_name, self.tr))]
        self._send(out, m.IdentitySeen(verdict.status, verdict.agent, verdict.org, verdict.detail[:500]))
        return out

    def gate_open(self, keys: str, now: float, out: Out) -> bool:
        """The scam tripwire: True if control may be granted now. A verified agent passes; for
        anyone else the first press only warns, and a second one counts after the cool-down."""
        if self.verified:
            return True
        answer = self.control_gate.press(now)
        if answer.state == "open":
            return True
        out.append(from_shape(ControlConfirm, control_gate_event(answer, self.identity, keys, self.tr)))
        return False

    # the customer's own decisions

    def grant(self, level: Level, now: float) -> Out:
        """Ctrl-] g / s: the customer gives a level on their own (control past the tripwire)."""
        out: Out = []
        if level == Level.CONTROL and self.consent.level != Level.CONTROL and not self.gate_open("Ctrl-] g", now, out):
            return out
        self.consent.grant(str(level))
        out += self._consent_changed()
        withdrawn = (PromptKind.CONTROL, PromptKind.SUGGEST) if level == Level.CONTROL else (PromptKind.SUGGEST,)
        for kind in withdrawn:
            out += self.prompt_events(self.prompts.withdraw(kind, now), now)
        return out

    def revoke(self, now: float) -> Out:
        self.control_gate.reset()
        self.consent.revoke()
        return (self._consent_changed() + self.prompt_events(self.prompts.withdraw(PromptKind.CONTROL, now), now)
                + self.prompt_events(self.prompts.withdraw(PromptKind.SUGGEST, now), now))

    def answer(self, allow: bool, prompt_id: int | None, now: float) -> Out:
        """Ctrl-] y / n (or a button naming the ``prompt_id`` it shows): the question on screen only."""
        out: Out = []
        verdict = self.prompts.check(prompt_id, now)
        if isinstance(verdict, Prompt) and verdict.kind == PromptKind.CONTROL:
            if not allow:
                self.control_gate.reset()
            elif not self.gate_open("Ctrl-] y", now, out):
                return out
        return out + self.prompt_events(self.prompts.answer(prompt_id, allow, now), now)

    def answer_recording(self, allow: bool, now: float) -> Out:
        shown = self.prompts.shown
        if shown is None or shown.kind != PromptKind.RECORDING:
            return [Notice(self.tr("the agent is not asking to record right now"))]
        return self.answer(allow, shown.id, now)

    def stop_recording(self, now: float) -> Out:
        out = self.prompt_events(self.prompts.withdraw(PromptKind.RECORDING, now), now)
        state = self.recording.stop()
        if state is None:
            return out + [Notice(self.tr("the session is not being recorded"))]
        return out + self._recording_changed(RecordingState(state), By.CUSTOMER)

    def recording_stopped_by_end(self) -> Out:
        """The agent ended the session: a recording stops with it."""
        if self.recording.stop():
            return [RecordingChanged(RecordingState.STOPPED, By.AGENT, self.tr(RECORDING_TEXT[RecordingState.STOPPED]))]
        return []

    # the agent's requests

    def request_control(self, message: m.RequestControl, now: float) -> Out:
        if self.consent.covers(message.level):
            return [m.Consent(self.consent.level)]
        return self.prompt_events(self.prompts.request(PromptKind(message.level), now), now)

    def record_request(self, message: m.RecordRequest, now: float) -> Out:
        if not message.on:
            out = self.prompt_events(self.prompts.withdraw(PromptKind.RECORDING, now), now)
            if self.recording.stop():
                out += self._recording_changed(RecordingState.STOPPED, By.AGENT)
            return out
        if self.recording.recording:
            return [m.Recording(str(RecordingState.GRANTED))]
        events = self.prompts.request(PromptKind.RECORDING, now)
        if any(isinstance(event, (Shown, Queued)) for event in events):
            self.recording.request(now)
        return self.prompt_events(events, now)

    def ignored_notice(self, kind: str, now: float) -> Out:
        notice = self.ignored.ignored(kind, now)
        return [] if notice is None else self.tell_ignored(notice.kind, notice.count, notice.first)

    def tell_ignored(self, kind: str, count: int, first: bool) -> Out:
        what = kind.removeprefix("rate:")
        tr = self.tr
        known = IGNORED.get(kind)
        if known is not None:
            text = tr(known[0]) if first else tr(known[1], n=count)
        elif first:
            text = tr("ignored a {what} message from the agent: it sends too many, too fast", what=repr(what))
        else:
            text = tr.plural("ignored {n} more {what} message from the agent: too many, too fast",
                             "ignored {n} more {what} messages from the agent: too many, too fast", count, what=repr(what))
        out: Out = [Notice(text, kind=NoticeKind.IGNORED, count=count)]
        if kind == "keys":
            self._send(out, m.Consent(self.consent.level))
        return out

    def tick(self, now: float) -> Out:
        out: Out = []
        if self.identity is None and self.hello_deadline is not None and now >= self.hello_deadline:
            # No usable hello (refused as too big, malformed, or never sent): the customer is
            # still told who they are dealing with, never left without the warning.
            self.hello_deadline = None
            out += self._identity_known(self.proof_verdict or no_proof(bool(self.trusted)))
        out += self.prompt_events(self.prompts.expire(now), now)
        for notice in self.ignored.due(now):
            out += self.tell_ignored(notice.kind, notice.count, notice.first)
        return out

    def next_deadline(self) -> float | None:
        hello = self.hello_deadline if self.identity is None else None  # past once the hello came: no spin
        deadlines = [d for d in (self.prompts.next_deadline(), self.ignored.next_deadline(), hello) if d is not None]
        return min(deadlines, default=None)

    # what the prompt queue decided, told to the customer (and the agent)

    def prompt_events(self, events: list[PromptEvent], now: float) -> Out:
        out: Out = []
        for event in events:
            if isinstance(event, Shown):
                out.append(self._show(event.prompt))
            elif isinstance(event, Answered):
                out += self._answered(event, now)
            elif isinstance(event, AutoRefused):
                out += self._auto_refused(event, now)
            elif isinstance(event, TooSoon):
                out.append(Notice(self.tr("ignored that answer: the question on screen is new (it asks "
                                          "about {what}); read it, then answer", what=self.tr(SHORT[event.prompt.kind]))))
            elif isinstance(event, Stale):
                out.append(Notice(self.tr("that answer was for a question no longer on screen: nothing was answered")))
            elif isinstance(event, NothingAsked):
                out.append(Notice(self.tr("nothing to answer")))
            # Queued: told when it is shown (a line now could be read as the question on screen)
        return out

    def _show(self, prompt: Prompt) -> Event:
        timeout = prompt.deadline - prompt.shown_at
        if prompt.kind == PromptKind.RECORDING:
            return RecordingPrompt(prompt.id, str(prompt.kind), timeout, prompt.question(self.tr))
        unverified = prompt.kind == PromptKind.CONTROL and not self.verified
        question = (self.tr("{question}. THIS AGENT IS NOT VERIFIED: you will have to confirm twice.",
                            question=prompt.question(self.tr)) if unverified
                    else self.tr("{question}.", question=prompt.question(self.tr)))
        return ConsentPrompt(prompt.id, str(prompt.kind), str(prompt.kind), timeout, unverified, question)

    def _answered(self, event: Answered, now: float) -> Out:
        kind, what = event.prompt.kind, self.tr(SHORT[event.prompt.kind])
        if event.by == By.WITHDRAWN:  # whoever withdrew it says what changed
            return []
        if event.by == By.TIMEOUT:
            out: Out = [Notice(self.tr("no answer: refused {what} (the agent's request was denied)", what=what))]
        else:
            out = [Notice(self.tr("you allowed: {what}", what=what) if event.allow
                          else self.tr("you refused: {what}", what=what))]
        if kind == PromptKind.RECORDING:
            state = self.recording.answer(event.allow)
            if state is not None:
                out += self._recording_changed(RecordingState(state), event.by)
            return out
        if not event.allow:
            self.control_gate.reset()
        elif not self.consent.covers(str(kind)):
            self.consent.grant(str(kind))
            if kind == PromptKind.CONTROL:  # control includes suggestions: nothing left to ask
                out += self.prompt_events(self.prompts.withdraw(PromptKind.SUGGEST, now), now)
        return out + self._consent_changed()

    def _auto_refused(self, event: AutoRefused, now: float) -> Out:
        """A request of a kind the customer kept refusing: refused without asking; both
        sides hear it once per few seconds, not once per request."""
        out: Out = []
        if event.kind == PromptKind.RECORDING:
            self._send(out, m.Recording(str(RecordingState.DENIED)))
        else:
            self._send(out, m.Consent(self.consent.level))
        notice = self.ignored.ignored("auto_refused", now)
        if notice is not None:
            out += self.tell_ignored(notice.kind, notice.count, notice.first)
            left = max(0.0, event.until - now)
            self._send(out, m.Chat(f"[cobrowse] the customer refused {SHORT[event.kind]} several times: further "
                                   f"requests are refused without asking them for {left / 60:.0f} min"))
        return out

    def _consent_changed(self) -> Out:
        out: Out = [ConsentChanged(self.level)]
        self._send(out, m.Consent(self.consent.level))
        return out

    def _recording_changed(self, state: RecordingState, by: str) -> Out:
        out: Out = [RecordingChanged(state, by, self.tr(RECORDING_TEXT[state]))]
        if by != By.AGENT:
            self._send(out, m.Recording(str(state)))
        return out
