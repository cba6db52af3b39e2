"""The customer's side of a session as a pure machine: what the agent may do here, what the
customer is asked and told, and how the session ends (the feedback question included).

Inputs are typed: the agent's decoded messages, the customer's commands, keys and answers,
the program's output (for guide steps), and ticks, each with ``now``. Outputs are effects in
order: app messages to send, typed events for the front ends (``customer_events``) and the
few things only the runtime can do (write to the program, resync the screen, close). The
runtime (``cobrowse.io.customer``) is glue: it feeds this machine and carries out its effects.

The screen itself (emulator, frame pacing, redaction of frames) stays in the runtime: it is
mechanics, not decisions. What the policy reads of it comes through ``ScreenView``.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Sequence

from cobrowse.i18n.ends import ended_text
from cobrowse.i18n.text import N_, Translator, current
from cobrowse.playbook import LineTap, Playbook, PlaybookError, StepMachine, playbook_from_dict
from cobrowse.plain.feedback import QUESTION, FeedbackPrompt as FeedbackKeys
from cobrowse.plain.keymap import Front, hint
from cobrowse.plain.prefix import Command, Draft, Echo, PrefixParser, ToProgram
from cobrowse.policy.customer_consent import ConsentDesk
from cobrowse.policy.customer_patterns import AgentPatterns, ScreenView
from cobrowse.policy.customer_events import (ChatReceived, ClearScreen, CloseSession, ControlKeys, EndGuide, EndSession, Expedite,
                                             FeedbackPrompt, FeedbackSent, GetHelp, GiveFeedback, Level, Notice,
                                             NoticeKind,
                                             PeerEnded, RedactionChanged, Report, Reported, ResumeChoice,
                                             ResumeReview, Role, ResyncScreen, ScreenCleared, SharingChanged, StepsChanged, SuggestionShown,
                                             TeamAnswer, TeamAsk, TeamRequest, Voice, WriteProgram)
from cobrowse.policy.events import Event
from cobrowse.protocol import messages as m
from cobrowse.protocol.inbound import RateLimits
from cobrowse.protocol.pattern_size import too_large
from cobrowse.protocol.prompts import ARMING
from cobrowse.protocol.suggestion import Paste, check_suggestion, plan_paste
from cobrowse.screen.budget import AgentPattern, PatternBudget
from cobrowse.screen.redact import LineRedactor, RedactPatternError, Redactor
from cobrowse.trust import OrgTrust
from cobrowse.trust.tripwire import COOLDOWN
from cobrowse.policy.risky_command import RISK_TEXT, command_risk

#: Ending a paired session takes Ctrl-] e twice within this many seconds.
END_CONFIRM = 5.0
#: How long the end-of-session question waits for the customer (the agent waits 60 s).
FEEDBACK_ANSWER = 45.0

#: Plain mode's answers to "sharing would show this" (``ResumeReview.hint``): any other key
#: stays paused.
#: Prompt ids from here up belong to the team's other pairings (``customer_team.PROMPT_STRIDE``).
TEAM_PROMPTS = 10_000

REVIEW_KEYS = {b"s": ResumeChoice.SHARE, b"\r": ResumeChoice.SHARE, b"c": ResumeChoice.CLEAR}

Effect = (m.AppMessage | Event | WriteProgram | Expedite | ResyncScreen | ClearScreen | RedactionChanged | EndSession
          | CloseSession | PeerEnded | Voice | Report | GiveFeedback | GetHelp | EndGuide | TeamRequest | TeamAnswer)


#: A paste that did not happen, and one that did, by what was pasted (one sentence each).
NOT_PASTED = {"the step's command": N_("the step's command was not pasted: {reason}"),
              "the agent's suggestion": N_("the agent's suggestion was not pasted: {reason}")}
PASTED = {"the step's command": N_("pasted the step's command: check it, edit it if needed, and press Enter to run it"),
          "the agent's suggestion": N_("pasted the agent's suggestion: check it, edit it if needed, and press Enter "
                                       "to run it")}

class CustomerPolicy(AgentPatterns):
    def __init__(self, *, patterns: PatternBudget, redactor: Redactor, consent_timeout: float = 30.0,
                 prompt_arming: float = ARMING, control_cooldown: float = COOLDOWN,
                 trusted: Sequence[OrgTrust] = (), ask_feedback: bool = False,
                 feedback_answer: float = FEEDBACK_ANSWER, guide: bool = False, tr: Translator | None = None) -> None:
        #: The customer's language (the process's translator unless one is given).
        self.tr = tr = tr or current()
        #: Consent, prompts, recording, identity and the tripwire (``customer_consent``).
        self.desk = ConsentDesk(consent_timeout=consent_timeout, prompt_arming=prompt_arming,
                                control_cooldown=control_cooldown, trusted=trusted, tr=tr)
        #: What the agent may send, and how fast (protocol/inbound.py).
        self.limits = RateLimits()
        #: Whether the front end can ask the customer "was it solved?" (it shows the question).
        self.ask_feedback = ask_feedback
        self.feedback_answer = feedback_answer
        #: The agent's End while the customer is asked "was it solved?" (None otherwise).
        self.ending: m.End | None = None
        self.feedback_deadline = 0.0
        self._feedback_keys = FeedbackKeys()
        self._end_asked_at = -math.inf
        #: The customer ended the session (the runtime is closing it): no question any more.
        self.closing = False
        #: Guide mode (``cobrowse guide``): Ctrl-] ! gets help; ``alone`` until a session exists.
        self.guide = guide
        self.alone = guide
        self.prefix = PrefixParser(guide=guide)
        #: Ctrl-] ? in plain mode: every key (``plain.keymap``).
        self.help = hint(Front.PLAIN, guide=guide, every=True, tr=tr)
        #: The CPU the agent's patterns (steps, redaction, pointer) may use here.
        self.patterns = patterns
        self.redactor = redactor
        self._pointer_patterns: dict[str, AgentPattern] = {}
        self._pattern_errors: deque[str] = deque()  # notices for the agent, sent with the next frame
        self.suggestion: m.Suggest | None = None
        self.pointer: m.Pointer | None = None
        self.steps: StepMachine | None = None
        self._tap = LineTap()
        self._tap_redactor = LineRedactor(redactor)
        self._steps_dirty = False
        self.sharing = True
        #: The screen when sharing was paused; on resume, what changed is shown first.
        self._paused_lines: list[str] = []
        #: Asked whether to share what changed while paused (``ResumeReview``): no answer yet.
        self.reviewing = False
        #: Whether the front end shows ``ResumeReview`` (else resuming shares at once, as before).
        self.review_resume = True
        self.reported = False
        #: The customer heard that a secret was masked (told once).
        self.told_masked = False
        self._paired = False
        #: Other agents' questions may be on screen (a team: ``cobrowse.policy.customer_team``):
        #: Ctrl-] y / n answer this desk's question first, then the team's.
        self.in_team = False

    @property
    def paired(self) -> bool:
        return self._paired

    @paired.setter
    def paired(self, value: bool) -> None:
        self._paired = self.desk.paired = value

    def _send(self, out: list[Effect], message: m.AppMessage) -> None:
        if self._paired:
            out.append(message)

    # the session's course

    def paired_now(self, now: float) -> list[Effect]:
        self.paired = True
        self.desk.paired_now(now)
        self._steps_dirty = self.steps is not None
        out: list[Effect] = [ResyncScreen(), m.Consent(self.desk.consent.level)]
        if not self.sharing:
            out.append(m.Sharing(False))
        return out

    def peer_back(self) -> list[Effect]:
        self._steps_dirty = self.steps is not None
        return [ResyncScreen()]

    def hello(self, message: m.Hello) -> list[Effect]:
        return list(self.desk.hello(message.name)) if message.role == Role.AGENT else []

    def tick(self, now: float) -> list[Effect]:
        out: list[Effect] = list(self.desk.tick(now))
        if self.ending is not None and now >= self.feedback_deadline:
            out.append(GiveFeedback())
        return out

    def next_deadline(self) -> float | None:
        if self.ending is not None:
            return self.feedback_deadline
        return self.desk.next_deadline()

    # the customer

    def local_input(self, data: bytes, now: float, view: ScreenView) -> list[Effect]:
        if self.ending is not None:  # the session is over: keys answer the feedback question
            answer = self._feedback_keys.feed(data)
            return [] if answer is None else [GiveFeedback(answer.solved, answer.rating)]
        if self.reviewing and data:  # one key answers "share what changed while paused?"
            return self.review_answer(REVIEW_KEYS.get(data[:1].lower(), ResumeChoice.STAY))
        out: list[Effect] = []
        for action in self.prefix.feed(data):
            if isinstance(action, ToProgram):
                out.append(WriteProgram(action.data))
            elif isinstance(action, Echo):
                out.append(Notice(action.text))
            elif isinstance(action, Draft):
                out.append(Notice(action.text or "", kind=NoticeKind.CHAT_DRAFT,
                                  state="typing" if action.text is not None else "done"))
            elif isinstance(action, Command):
                out += self.command(action.name, action.text, now, view)
        return out

    def command(self, name: str, text: str, now: float, view: ScreenView) -> list[Effect]:
        """A cobrowse command (``plain.keymap``'s names), from a key or a button."""
        desk = self.desk
        if name == "help":  # in a team, who sees the screen now follows (plain mode has no status bar)
            return [Notice(self.help), *([TeamRequest(TeamAsk.WHO)] if self.in_team else [])]
        if name == "get_help":
            return [GetHelp()] if self.guide else [Notice(self.help)]
        if name == "end":
            if self.alone:
                return [EndGuide()]
            if self._paired and now - self._end_asked_at > END_CONFIRM:
                self._end_asked_at = now  # a stray key must not end a session in the middle of help
                return [Notice(self.tr("press Ctrl-] e again within {seconds} s to end the session",
                                       seconds=f"{END_CONFIRM:.0f}"),
                               kind=NoticeKind.CONFIRM_END)]
            self.closing = True
            return [EndSession()]
        if name == "chat":
            if not self._paired:
                return [Notice(self.tr("not connected to an agent yet: chat not sent"))]
            return [m.Chat(text), Notice(self.tr("you: {text}", text=text))]
        if name in ("allow", "deny"):
            return self.answer(name == "allow", int(text) if text.isdigit() else None, now)
        if name in ("grant_control", "grant_suggest"):
            return list(desk.grant(Level.CONTROL if name == "grant_control" else Level.SUGGEST, now))
        if name == "revoke":
            return [*desk.revoke(now), *([TeamRequest(TeamAsk.REVOKE_ALL)] if self.in_team else [])]
        if name == "drop_viewer":  # an agent's number as the viewers line shows it; none: the latest to join
            return [TeamRequest(TeamAsk.DROP, int(text) if text.isdigit() else 0)]
        if name == "report":
            return [Report()]
        if name in ("paste_suggestion", "decline_suggestion"):
            if self.in_team:  # in a team the newest suggestion shown, whichever agent made it (the team decides)
                return [TeamRequest(TeamAsk.PASTE if name == "paste_suggestion" else TeamAsk.DECLINE)]
            return self.answer_suggestion(name == "paste_suggestion", view)
        if name in ("step_done", "step_skip"):
            try:
                out = self.change_step("mark", -1, "done" if name == "step_done" else "skipped", "customer", now)
            except ValueError as exc:
                out = [Notice(str(exc))]
            return out + self.take_steps()
        if name in ("call", "hangup", "mute"):
            return [Voice(name)]
        if name == "stop_recording":  # in a team, every agent's recording (the team decides)
            return [TeamRequest(TeamAsk.STOP_RECORDING)] if self.in_team else list(desk.stop_recording(now))
        if name == "pause":
            return self._pause(view)
        if name in ("resume_share", "resume_clear", "resume_stay"):
            return self.review_answer(ResumeChoice(name.removeprefix("resume_")))
        return []

    def answer(self, allow: bool, prompt_id: int | None, now: float) -> list[Effect]:
        """An answer to the question on screen. In a team several pairings may ask at once: an
        answer naming no prompt goes to the newest one shown, whichever asks (the team decides)."""
        if self.in_team and (prompt_id is None or prompt_id >= TEAM_PROMPTS):
            return [TeamAnswer(allow, prompt_id)]
        return list(self.desk.answer(allow, prompt_id, now))

    def _pause(self, view: ScreenView) -> list[Effect]:
        """Pause, or resume: if the screen changed while paused (what the customer typed, what
        a program printed), show what would become visible and let them choose first."""
        if self.reviewing:
            return self.review_answer(ResumeChoice.STAY)
        lines = view.lines()
        if self.sharing:
            self._paused_lines = lines
            return self._set_sharing(False)
        changed = tuple(line for i, line in enumerate(lines)
                        if line.strip() and (i >= len(self._paused_lines) or self._paused_lines[i] != line))
        if not changed or not self.review_resume:
            return self._set_sharing(True)
        self.reviewing = True
        return [ResumeReview(changed, f"sharing again shows the agent your screen as it is now; "
                                      f"{len(changed)} line(s) changed while paused:")]

    def review_answer(self, choice: ResumeChoice) -> list[Effect]:
        """The customer's answer to ``ResumeReview``."""
        if not self.reviewing:
            return []
        self.reviewing = False
        if choice is ResumeChoice.STAY:
            return [Notice("sharing stays paused: the agent sees nothing until you press Ctrl-] p")]
        out: list[Effect] = [ClearScreen(), ScreenCleared()] if choice is ResumeChoice.CLEAR else []
        return out + self._set_sharing(True)

    def _set_sharing(self, sharing: bool) -> list[Effect]:
        self.sharing = sharing
        out: list[Effect] = [ResyncScreen()] if self.sharing else []
        out.append(SharingChanged(self.sharing))
        if self._paired:
            out.append(m.Sharing(self.sharing))
            out += self.take_steps()
        return out

    def report_result(self, nameplate: str | None, sent: bool, when: str) -> list[Effect]:
        """How reporting went (the runtime asked the relay; ``when``: the time, for people)."""
        if nameplate is None:
            return [Notice(self.tr("no session to report yet"))]
        if not sent:
            return [Notice(self.tr("not connected to the relay right now: the report was not sent; try again"))]
        self.reported = True
        return [Reported(nameplate, self.tr("reported session {session} to the relay's operator at {when} (only the "
                                            "session number and the time; nothing you shared). Ctrl-] e ends the "
                                            "session; Ctrl-] r takes back control.", session=nameplate, when=when))]

    # the agent

    def message(self, message: m.AppMessage, now: float, view: ScreenView, *,
                binding: bytes | None = None, wall: int = 0) -> list[Effect]:
        """An application message from the agent (``binding``/``wall``: for identity proofs)."""
        desk = self.desk
        if not self.limits.admit(message.t, now):
            return list(desk.ignored_notice(f"rate:{message.t}", now))
        if isinstance(message, m.Chat):
            return [ChatReceived(message.text)]
        if isinstance(message, m.Invite):
            return [TeamRequest(TeamAsk.INVITE, voids=message.voids)]
        if isinstance(message, m.Leave):
            return [TeamRequest(TeamAsk.LEAVE)]
        if isinstance(message, m.AgentProof):
            return list(desk.agent_proof(message, binding, wall))
        if isinstance(message, m.RequestControl):
            return list(desk.request_control(message, now))
        if isinstance(message, m.Keys):
            if desk.consent.allows_keys() and self.ending is None:
                data = message.data.encode("utf-8", "surrogateescape")
                return [Expedite(), WriteProgram(data), ControlKeys(len(data))]
            return list(desk.ignored_notice("keys", now))
        if isinstance(message, m.PushPlaybook):
            try:
                playbook = playbook_from_dict(message.playbook)
            except PlaybookError as exc:
                return [m.Steps({"error": f"the customer's cobrowse refused the playbook: {exc}"})]
            out: list[Effect] = [Notice(self.tr("the agent started a guide: {title}", title=playbook.title))]
            return out + self.start_playbook(playbook, by_agent=True) + self.take_steps()
        if isinstance(message, m.StepRequest):
            try:
                out = self.change_step(message.action, message.index, message.status, "agent", now)
            except ValueError as exc:
                out = [m.Steps({"error": str(exc)})]
            return out + self.take_steps()
        if isinstance(message, m.Pointer):
            if message.pattern and (problem := too_large(message.pattern)):  # before regex compiles it
                return [m.Chat(f"[cobrowse] pointer pattern refused: {problem}"[:m.MAX_TEXT])]
            self.pointer = message if (message.first >= 0 or message.pattern) else None
            return self.pointer_effects(view)
        if isinstance(message, m.Suggest):
            return self._suggested(message)
        if isinstance(message, m.Redact):
            return self._add_redactions(message.patterns)
        if isinstance(message, m.Resync):
            return [ResyncScreen()]
        if isinstance(message, m.RecordRequest):
            return list(desk.record_request(message, now))
        return []

    def _suggested(self, message: m.Suggest) -> list[Effect]:
        reason = check_suggestion(message.command)
        if reason is not None:
            return [Notice(self.tr("refused a command the agent suggested: {reason}", reason=reason), kind=NoticeKind.SUGGESTION_REFUSED,
                           id=message.id),
                    m.SuggestAnswer(message.id, "refused", reason[:m.MAX_REASON])]
        self.suggestion = message
        text = self.tr("the agent suggests: {command}   (Ctrl-] a to paste it at your prompt, "
                       "where you can edit it and press Enter; Ctrl-] d to decline)", command=message.command)
        risk = command_risk(message.command)
        if risk is not None:  # said before the keys, so a short toast or line keeps it
            text = self.tr("{warning} · {suggestion}", warning=self.tr(RISK_TEXT[risk]), suggestion=text)
        return [SuggestionShown(message.id, message.command, text)]

    def _add_redactions(self, patterns: list[str]) -> list[Effect]:
        """Patterns the agent's organisation masks: they can only hide more (they run on text
        whose secrets are already masked), so they apply without asking."""
        try:
            for pattern in patterns:  # before regex compiles it (``pattern_size``)
                if isinstance(pattern, str) and (problem := too_large(pattern)):
                    raise RedactPatternError(f"redaction pattern {pattern[:60]!r} from the agent: {problem}")
            added = self.redactor.add_remote(patterns)
        except RedactPatternError as exc:
            return [Notice(self.tr("ignored the agent's redaction patterns: {error}", error=str(exc))),
                    m.Chat(f"[cobrowse] redaction patterns refused: {exc}"[:m.MAX_TEXT])]
        if not added:
            return []
        return [RedactionChanged(), Notice(self.tr.plural("the agent's organisation masks {n} more pattern on what it sees",
                                                            "the agent's organisation masks {n} more patterns on what it sees",
                                                            added))]

    # the end of a session: was the problem solved? (bounded; skippable)

    def agent_ended(self, message: m.End, now: float) -> list[Effect]:
        """The agent ended: ask whether it was solved (if it asked and a front end can), or close."""
        if not (message.feedback and self.ask_feedback) or self.ending is not None or self.closing:
            return [PeerEnded()]
        self.ending = message
        self.feedback_deadline = now + self.feedback_answer
        out: list[Effect] = list(self.desk.recording_stopped_by_end())
        out.append(FeedbackPrompt(self.feedback_answer,
                                  self.tr("{message}. {question}", message=ended_text(message.reason, message.message, self.tr)
                                          or self.tr("the agent ended the session"), question=self.tr(QUESTION))))
        return out

    def give_feedback(self, solved: str, rating: int) -> list[Effect]:
        """The answer (empty and 0: skipped), sealed to the agent, then the session closes."""
        end, self.ending = self.ending, None
        if end is None:
            return []
        if solved not in m.FEEDBACK_SOLVED or not 0 <= rating <= 5:
            self.ending = end
            raise ValueError("solved must be 'yes', 'no' or '' and rating 0-5")
        out: list[Effect] = []
        self._send(out, m.Feedback(solved, rating))
        answered = bool(solved or rating)
        out.append(FeedbackSent(solved or None, rating or None,
                                self.tr("thank you: your answer was sent to the agent") if answered
                                else self.tr("feedback skipped")))
        out.append(CloseSession(end.reason, end.message or self.tr("the agent ended the session")))
        return out

    # guide steps

    def program_output(self, data: bytes, now: float) -> list[Effect]:
        """The program's output: a running guide's patterns watch it (never a secret in it)."""
        steps = self.steps
        out: list[Effect] = []
        if steps is not None and not steps.finished:
            lines = self._tap.feed(data)
            if lines:  # the agent's patterns never see a secret: it could probe it step by step
                lines = self._tap_redactor.feed(lines)
            if lines and steps.observe(lines, now):
                out.append(self._steps_changed(steps))
            if self.patterns.pending:
                out += self.pattern_notices()
        return out

    def start_playbook(self, playbook: Playbook, *, by_agent: bool = False) -> list[Effect]:
        """Run a playbook here (pushed by the agent, or self-service): steps start from the first.
        The agent's patterns run under the CPU budget; the customer's own are trusted."""
        self.steps = StepMachine(playbook, self.patterns, trusted=not by_agent)
        self._tap = LineTap()
        self._tap_redactor = LineRedactor(self.redactor)
        return [self._steps_changed(self.steps)]

    def _steps_changed(self, steps: StepMachine) -> Event:
        self._steps_dirty = True
        return StepsChanged(steps.to_dict())

    def take_steps(self) -> list[Effect]:
        """The step state for the agent if it changed since it was last sent. Not while sharing
        is paused: step progress tells what the program printed (it goes on resume)."""
        if self._steps_dirty and self._paired and self.steps is not None and self.sharing:
            self._steps_dirty = False
            return [m.Steps(self.steps.to_dict())]
        return []

    def change_step(self, action: str, index: int, status: str, by: str, now: float) -> list[Effect]:
        """A step change from either side; raise ValueError if it makes no sense."""
        steps = self.steps
        if steps is None:
            raise ValueError("no playbook is running")
        if action == "back":
            changed = steps.back(by, now)
        elif action == "goto":
            changed = steps.goto(index, by, now)
        else:
            changed = steps.mark(steps.current if index < 0 and steps.current is not None else index, status, by, now)
        return [self._steps_changed(steps)] if changed else []

    # suggestions, pastes, the pointer

    def answer_suggestion(self, paste: bool, view: ScreenView) -> list[Effect]:
        """Paste the suggested command at the prompt (the customer still presses Enter), or decline."""
        suggestion = self.suggestion
        if suggestion is None:
            command = self.step_command()
            if paste and command:  # no suggestion from an agent: the guide step's command
                return self.paste_command(command, "the step's command", view)
            return [Notice(self.tr("no suggested command to answer"))]
        out: list[Effect] = []
        if paste:
            out = self.paste_command(suggestion.command, "the agent's suggestion", view)
            if not any(isinstance(effect, WriteProgram) for effect in out):
                return out  # kept: the customer may paste it once back at their prompt, or decline it
        self.suggestion = None
        self._send(out, m.SuggestAnswer(suggestion.id, "pasted" if paste else "declined"))
        return out

    def step_command(self) -> str | None:
        """The current guide step's command, if it has one."""
        steps = self.steps
        if steps is None or steps.finished or steps.current is None:
            return None
        command = steps.to_dict()["steps"][steps.current].get("command")
        return str(command) if command else None

    def paste_command(self, command: str, what: str, view: ScreenView) -> list[Effect]:
        """Paste a one-line command at the program's prompt, never with a byte that could run
        it: the customer presses Enter. Without a ``WriteProgram``: not pasted (a notice says why)."""
        plan = plan_paste(command, view.modes())
        if not isinstance(plan, Paste):
            sentence = NOT_PASTED.get(what)
            return [Notice(self.tr(sentence, reason=plan.reason) if sentence else f"{what} was not pasted: {plan.reason}")]
        sentence = PASTED.get(what)
        return [WriteProgram(plan.data),
                Notice(self.tr(sentence) if sentence else f"pasted {what}: check it, edit it if needed, and press Enter to run it")]
