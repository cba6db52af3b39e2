"""The customer app's reading of the runtime's events: typed events (``cobrowse.policy``'s
classes) are matched by class; the few the runtime still emits as dicts (code, paired, hello,
connection, peer, path, voice, warning, error, ended) by their headless name, whether they
come as dicts or as typed events this module does not know yet (``as_json``). Every line is
the customer's language: ``cobrowse.i18n.notices`` for what plain mode says too, the app's
own titles here. Presentation only."""

from __future__ import annotations

import logging
from typing import Any

from textual.css.query import NoMatches
from textual.notifications import Notification

from cobrowse.crypto.sas import localize
from cobrowse.i18n.ends import relay_text, wrong_code_text
from cobrowse.i18n.notices import agent_name, customer_line, message_of, repeated_attempt, voice_line, warning_message
from cobrowse.i18n.text import current
from cobrowse.io.customer import END_CONFIRM
from cobrowse.policy.customer_events import (ChatReceived, ConsentChanged, ConsentPrompt, ControlConfirm,
                                             FeedbackPrompt, FeedbackSent, IdentityShown, Notice, NoticeKind,
                                             PointerShown, RecordingChanged, RecordingPrompt, Reported, ResumeReview,
                                             SharingChanged, StepsChanged, SuggestionShown)
from cobrowse.policy.customer_team import PICK_WAIT
from cobrowse.policy.events import Event, as_json
from cobrowse.trust.display import WHY_UNVERIFIED
from tui.customer_screens import review_resume
from tui.customer_steps import CustomerSteps
from tui.customer_texts import CONFIRM_CONTROL, REMOVE_WHICH, SUGGESTED
from tui.customer_view import Phase
from tui.safe import PlainStatic

logger = logging.getLogger(__name__)
NOTHING = ""


class CustomerEvents(CustomerSteps):
    """Renders the customer runtime's events; the attributes are set by CustomerApp."""

    #: The customer hung up or declined the call now ending (set by the app's command).
    hung_up_here = False
    #: The SAS words' toast is on show (or on its way).
    sas_on_show = False
    #: Where this session's receipt is and its chain head (docs/records.md), said again on exit.
    receipt_line = ""

    def _emit(self, event: Event) -> None:
        if not self.is_running or self._exit:
            return  # the app is closing under the session (its last events have no screen)
        try:
            self._on_event(event)
        except NoMatches:
            pass  # the main screen is being torn down
        except Exception:  # a display problem must never break the session
            logger.exception("showing event %r failed", type(event).__name__)

    def _on_event(self, event: Event) -> None:
        if not self._typed(event):
            self._common(as_json(event))
        self._refresh_consent()
        self._refresh_banner()
        self._refresh_side()

    def _typed(self, event: Event) -> bool:
        """The customer policy's typed events; False for anything else."""
        tr = current()
        collapsed = self.query_one("#side").has_class("collapsed")
        match event:
            case IdentityShown():
                self._show_identity(as_json(event))
            case ControlConfirm(message=message, state=state, wait_s=wait_s):
                self._confirm_control(message, state, wait_s)
            case Reported(message=message):
                self._note(message, "bold")
                self.notify(message, title=tr("Session reported"), timeout=15)
            case ChatReceived(text=text):
                self._note(customer_line(as_json(event), tr, self.agent_name) or text, "bold")
                if collapsed:
                    self.notify(text, title=tr("{agent} says", agent=self.agent_name))
            case ConsentChanged():
                self._dismiss(tr(CONFIRM_CONTROL))
                self._note(customer_line(as_json(event), tr) or "", "dim")
            case ConsentPrompt(id=prompt_id, message=message) | RecordingPrompt(id=prompt_id, message=message):
                self._show_prompt(prompt_id, message)
            case RecordingChanged(message=message, state=state):
                self._note(message, "bold" if state == "granted" else "dim")
            case FeedbackSent(message=message):
                self._note(message, "dim")
            case FeedbackPrompt(message=message):
                self.phase = Phase.ENDED  # the agent ended: nothing is streamed while the customer answers
                self._show_status()
                self._ask_feedback(message)
            case SharingChanged():
                self._note(customer_line(as_json(event), tr) or "", "dim")
            case ResumeReview():
                review_resume(self, event.lines)
            case Notice(message=message, kind=kind):
                self._show_notice(message, kind)
            case SuggestionShown(message=message):
                self._note(message, "bold")
                self.notify(message, title=tr(SUGGESTED), timeout=30)
            case StepsChanged(state=state):
                self._show_steps(dict(state))
            case PointerShown():
                self._show_pointer(event)
            case _:
                return False
        return True

    def _confirm_control(self, message: str, state: str = "", wait_s: float = 0.0) -> None:
        """The tripwire's answer to Ctrl-] y goes where the question was: in the consent bar, in
        its place (a toast in the bottom-right corner was missed while the customer read the
        bar). Ctrl-] g with no question on show: a toast, one at a time (a second press's "not
        yet" stacked on the warning grew up over the consent bar's Deny button at 80x24)."""
        title = current()(CONFIRM_CONTROL)
        self._note(message, "bold red")
        self._dismiss(title)
        if self.prompt_visible:
            self._answer_in_bar(message, wait_s if state == "wait" else None)
            return
        self.notify(message, title=title, severity="error", timeout=15)

    def _show_notice(self, message: str, kind: NoticeKind | None) -> None:
        tr = current()
        if kind == NoticeKind.CONFIRM_END:
            self.notify(message, title=tr("End the session?"), severity="warning", timeout=END_CONFIRM)
        elif kind == NoticeKind.REMOVE_WHICH:  # the side panel may be closed (80 columns): a toast, the latest only
            self._note(message, "bold")
            self._dismiss(tr(REMOVE_WHICH))
            self.notify(message, title=tr(REMOVE_WHICH), severity="warning", timeout=PICK_WAIT)
        elif message.startswith(tr("you: {text}", text=NOTHING)):  # the customer's own chat, echoed
            self._note(message, "italic")
        elif message != self._last_notice:
            self._note(message, "dim")
        self._last_notice = message

    def _common(self, event: dict[str, Any]) -> None:
        """The runtime's own events, by their headless name (dicts, or typed ones as JSON)."""
        tr = current()
        kind = event.get("event")
        if kind == "code" and event.get("renewed") and self.runtime is not None and self.runtime.code is not None:
            self.code = self.runtime.code  # too many wrong codes were tried: a fresh one (issue 11)
            self._show_code(self.code)
            self.query_one("#session-code", PlainStatic).update(tr("session {code}", code=str(self.code)))
            self._note(message_of(event), "bold")
        elif kind == "paired":
            self.sas = str(event["sas"])
            self.phase = Phase.PAIRED
            self.peer_present = True
            words = localize(self.sas, tr.language)
            self.query_one("#sas", PlainStatic).update(words)
            self.query_one("#waiting").remove_class("shown")
            self._note(customer_line(event, tr) or "", "dim")
            if self.query_one("#side").has_class("collapsed"):
                self.notify(tr("Compare these words with your agent: {words}", words=words), title=tr("connected"),
                            timeout=30)
                self.sas_on_show = True  # still in Textual's queue: not in _notifications yet
        elif kind == "hello":
            self.agent_name = agent_name(event, tr)
            self._note(customer_line(event, tr, self.agent_name) or "", "dim")
        elif kind == "identity":
            self._show_identity(event)
        elif kind == "control_confirm":
            wait_s = event.get("wait_s")
            self._confirm_control(message_of(event), str(event.get("state", "")),
                                  float(wait_s) if isinstance(wait_s, (int, float)) else 0.0)
        elif kind == "notice":  # the runtime's own (a command that failed)
            self._show_notice(message_of(event), None)
        elif kind == "peer":
            self.peer_present = event.get("state") != "left"
            self._note(customer_line(event, tr, self.agent_name) or "", "dim")
        elif kind == "connection":
            self.reconnecting = event.get("state") == "reconnecting"
            self.reconnecting_direct = self.reconnecting and bool(event.get("direct"))
            self.peer_present = self.peer_present if self.reconnecting else bool(event.get("peer", True))
            if not repeated_attempt(event):
                self._note(customer_line(event, tr, self.agent_name) or "", "dim")  # who dropped (docs/relay.md)
        elif kind == "viewers":  # who can see the screen (a team: docs/team.md)
            self.viewers = [dict(row) for row in event.get("viewers", ()) if isinstance(row, dict)]
            if not any(row.get("state") == "asking" for row in self.viewers):
                self.dismiss_team_questions()  # every question about a colleague answered
            self._note(message_of(event), "bold")
            self._show_status()
        elif kind == "receipt":
            self.receipt_line = customer_line(event, tr) or message_of(event)
            self._note(self.receipt_line, "dim")
        elif kind == "voice":
            self.call_agent = str(event.get("agent") or "")  # a team: the agent this call is with
            line = voice_line(event, tr, self.agent_name)
            self._note(line, "bold" if event.get("state") == "ringing" else "dim")
            if event.get("state") == "ended" and not self.hung_up_here:  # the agent declined or hung up,
                self.notify(line, timeout=10)  # no answer, it failed: the bar just went, the panel is mostly closed
            if event.get("state") in ("ended", "calling", "ringing"):
                self.hung_up_here = False
            self._show_call()
        elif kind == "path":
            if event.get("path") != "direct":
                self.reconnecting_direct = False  # the direct path went too: nothing is shared now
            self._note(customer_line(event, tr) or "", "dim")
        elif kind in ("warning", "error"):
            self._note(customer_line(event, tr) or "", "red")
            wrong = kind == "error" and event.get("kind") == "wrong_code"
            if wrong:
                told = wrong_code_text("customer", tr)
            elif kind == "error":
                told = relay_text(message_of(event), tr) or message_of(event)
            else:
                told = warning_message(event, tr)
            self.notify(told, severity="error" if kind == "error" else "warning")
        elif kind == "ended":
            self.phase = Phase.ENDED
            self._note(customer_line(event, tr) or "", "dim")
            self._show_status()

    def _show_identity(self, event: dict[str, Any]) -> None:
        """The agent's identity, on a line of its own under the banner for the whole session."""
        tr = current()
        self.identity = event
        strip = self.query_one("#identity", PlainStatic)
        self.query_one("#status", PlainStatic).set_class(not event.get("verified"), "unverified")
        self._show_status()
        agent, org, detail = str(event.get("agent", "")), str(event.get("org", "")), str(event.get("detail", ""))
        why = WHY_UNVERIFIED.get(str(event.get("status", "")))
        if why is not None and tr.language != "en":  # the verdict's own detail is English (trust/display.py)
            detail = tr(why)
        if event.get("verified"):
            self.agent_name = f"{agent} ({org})"
            strip.update(tr("✓ Verified: {agent} from {org}", agent=agent, org=org))
            strip.set_classes("verified")
            self._note(message_of(event), "bold green")
            self.notify(message_of(event), title=tr("Agent identity"))
        else:
            strip.update(tr("⚠ UNVERIFIED AGENT: {detail}. Never give control or passwords to someone who called you "
                            "out of the blue · Ctrl-] f reports this session · Ctrl-] e ends it", detail=detail))
            strip.set_classes("unverified")
            self._note(message_of(event), "bold red")
            message = tr("{detail}. See the red line at the bottom; Ctrl-] b shows the details.", detail=detail)
            if self.has_class("narrow") and self.sas_on_show:
                # one toast at a time: this one took the SAS words' place, and they were then nowhere
                # on the screen (the banner says UNVERIFIED already): it comes once no toast is left
                self.after_sas.append(Notification(message, tr("UNVERIFIED AGENT"), severity="error", timeout=10))
            else:
                self.notify(message, title=tr("UNVERIFIED AGENT"), severity="error", timeout=10)

    def _ask_feedback(self, message: str) -> None:
        """The agent ended the session: was it solved? (the runtime gives up on its own in time)."""
        from tui.feedback_dialog import FeedbackDialog

        async def answered(answer: Any) -> None:
            runtime = self.runtime
            if runtime is not None and answer is not None:
                await runtime.give_feedback(answer.solved, answer.rating)

        self.held_toasts = []
        self.clear_notifications()  # the session is over: "connected / compare these words" must not cover the question
        self.push_screen(FeedbackDialog(message, self.agent_name), answered)
