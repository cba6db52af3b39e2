"""How a session pane shows what its runtime reports: one handler per event class."""

from __future__ import annotations

import dataclasses
import gc

from rich.text import Text
from textual.widgets import Digits, Input

from cobrowse.policy.agent_commands import ConsentLevel, StepStatus
from cobrowse.policy.agent_team import InviteVoided
from cobrowse.policy.agent_events import (
    AgentError,
    AgentWarning,
    ChatMessage,
    ConsentChanged,
    FeedbackWait,
    IdentityReported,
    InviteReady,
    Joined,
    RecordingChanged,
    ScreenChanged,
    SharingChanged,
    StepsChanged,
    SuggestionAnswer,
    SuggestionAnswered,
    ViewersChanged,
)
from cobrowse.policy.events import Event
from cobrowse.policy.keeping_events import KeepingWarning, ReceiptWritten
from cobrowse.policy.session_events import (
    CodeShown,
    DataPath,
    PathChanged,
    PeerBack,
    PeerHello,
    PeerLeft,
    Reconnecting,
    Resumed,
    SessionEnded,
    SessionError,
    SessionPaired,
    SessionWarning,
    VoiceChanged,
)
from cobrowse.queue.events import QueueRefused
from cobrowse.voice.call import describe as describe_voice
from tui.agent_facts import CONSENT_LABELS
from tui.agent_panels import feedback_text
from tui.agent_team import TeamView
from tui.agent_keys import told
from tui.safe import PlainStatic

#: What marks a session's tab when it is not the one in front.
NOTEWORTHY = (ChatMessage, ConsentChanged, SessionEnded, SessionPaired, SessionError, AgentError, SharingChanged,
              PeerLeft, PeerBack, StepsChanged, SuggestionAnswered, VoiceChanged)


def freeze_long_lived() -> None:
    """Take what exists now out of the collector's full scans (``gc.freeze``), once a session's
    first screen is drawn: the console's widgets, styles and modules are built by then and live
    as long as the session. With a 200x50 screen under 1 MB/s a full collection walking their ~200,000
    objects held the console's loop 125-260 ms (issue 17); the strips and frames made after are
    collected as before. ``SessionPane.on_unmount`` gives them back."""
    gc.freeze()


class SessionUpdates(TeamView):
    """The runtime's events, shown in the pane: matched on their class."""

    def show_event(self, event: Event) -> None:
        match event:
            case ScreenChanged():
                self._on_screen()
                return
            case CodeShown():
                self._on_code(event)
            case Joined():
                self._on_joined(event)
            case SessionPaired():
                self._on_paired(event)
            case PeerHello():
                self._on_hello(event)
            case IdentityReported():
                self._on_identity(event)
            case ChatMessage():
                self._on_chat(event)
            case ConsentChanged():
                self._on_consent(event)
            case SharingChanged():
                self._on_sharing(event)
            case PeerLeft():
                self._set_state("the customer's connection dropped; waiting for them to come back…")
                self._system(event.message or "the customer's connection dropped")
            case PeerBack():
                self._set_state(self._connected())
                self._system("the customer is back")
            case Reconnecting():
                self._on_reconnecting(event)
            case Resumed():
                self._on_resumed(event)
            case SessionWarning() | AgentWarning() | QueueRefused() | KeepingWarning():
                self._on_warning(str(event.kind), event.message)
            case StepsChanged():
                self._on_steps(event)
            case SuggestionAnswered():
                self._on_suggestion(event)
            case SessionError() | AgentError():
                self._on_error(event.message, None if event.kind is None else str(event.kind))
            case SessionEnded():
                self._on_ended(event)
            case VoiceChanged():
                self._on_voice(event)
            case PathChanged():
                self._on_path(event)
            case InviteReady():
                self._system(event.message)
                self.on_team_invite(event, self.team_clock())
            case InviteVoided():  # a code voided early: it goes from the team tab at once
                self._system(event.message)
                self.on_team_void(event)
            case ViewersChanged():
                self._system(event.message)
                self.on_team_viewers(event)
            case FeedbackWait():  # the session is ending: the customer's answer is awaited, then ENDED
                self._system(event.message)
                self._set_state("ENDING: awaiting the customer's feedback")  # (the log says how long)
                self._render_facts()
            case RecordingChanged() | ReceiptWritten():  # recordings, receipts, the end
                self._system(event.message)
                self._render_facts()
        if isinstance(event, NOTEWORTHY):
            self.flag_attention()

    def _on_voice(self, event: VoiceChanged) -> None:
        who = self.customer_name or "the customer"
        self._system(describe_voice(dataclasses.asdict(event), who, "agent"))
        if event.state == "ringing":
            self.app.notify(f"{who} is calling: {told('⇧F7 answers, ⇧F8 declines.')}", title="Incoming call", timeout=30)
        self._render_facts()

    def _on_path(self, event: PathChanged) -> None:
        if event.path is DataPath.DIRECT:
            self._system("frames now take a direct path to the customer (the relay only stands by)")
        else:
            self._system(f"frames go through the relay: {event.reason}")
        self._render_facts()

    def _on_code(self, event: CodeShown) -> None:
        code = self.runtime.code if self.runtime else None
        self.code = code
        self.query_one("#code-digits", Digits).update(event.code)
        self.query_one("#code-spoken", PlainStatic).update(f"Say it as: {event.spoken}")
        self.query_one("#code-command", PlainStatic).update(
            Text.assemble("The customer types:  ", (event.customer_command, "bold")))
        self.query_one("#code-asked", PlainStatic).update(self.asked_text())
        self.query_one("#code-card").display = True
        getattr(self.app, "code_shown", lambda pane: None)(self)  # toasts up would cover it (fix8)
        self._set_title(event.code)
        self._set_state("waiting for the customer to join…")
        if event.renewed:
            message = event.message or ""
            self._system(message)
            self.app.notify(message, title="New session code", severity="warning", timeout=15)
        self.link_state = "connected"
        self._render_facts()

    def _on_joined(self, event: Joined) -> None:
        self._set_title(event.code)
        self.link_state = "connected"
        self._set_state("joined; checking the code with the customer…")
        self._render_facts()

    def _on_paired(self, event: SessionPaired) -> None:
        self.sas = event.sas
        self.query_one("#code-card").display = False
        self._show_sas()
        self.mirror.set_placeholder("connected: waiting for the customer's screen…")
        self._set_state("connected: compare the SAS words by voice")
        self._system(f"connected. Compare these words with the customer by voice: {self.sas}")
        self._render_facts()

    def _on_hello(self, event: PeerHello) -> None:
        self.customer_name = event.name
        if event.sas_words and event.lang != "en":  # the customer reads these: say them
            self.sas = event.sas_words
            self._show_sas()
            self._system(f"the customer reads the words in their language ({event.lang}): compare these: {self.sas}")
        if self.customer_name:
            self._set_title(f"{self.customer_name}")
        self._render_facts()

    def _on_identity(self, event: IdentityReported) -> None:
        self.seen_as = event
        self._system(event.message)
        if not event.verified:
            self.app.notify(event.message, title="The customer sees you UNVERIFIED", severity="warning", timeout=10)
        self._render_facts()

    def _on_screen(self) -> None:
        runtime = self.runtime
        if runtime is None or runtime.mirror.state is None:
            return
        mirror = self.mirror
        if mirror.state is not runtime.mirror.state:
            if mirror.state is None:
                self.call_after_refresh(freeze_long_lived)  # with what its first paint builds
            if runtime.sharing:
                mirror.set_placeholder(None)
            mirror.set_state(runtime.mirror.state)
        mirror.set_prediction(runtime.local_echo.overlay() if runtime.local_echo is not None else None)
        self._render_status_extra()

    def _on_chat(self, event: ChatMessage) -> None:
        who = event.name or self.customer_name or "customer"  # name: another agent (a team)
        self.chat_log.write(Text.assemble((f"{who}: ", "bold magenta"), event.text))

    def _on_consent(self, event: ConsentChanged) -> None:
        level = event.level
        previous, self.consent = self.consent, level
        badge = self.query_one("#consent", PlainStatic)
        badge.update(CONSENT_LABELS.get(level, level.upper()))
        for name in CONSENT_LABELS:
            badge.set_class(name == level, f"-{name}")
        self._show_sas()
        if level != ConsentLevel.CONTROL and self.typing:
            self.set_typing(False)
            self.app.notify("The customer took back control: typing stopped.", severity="warning")
        if level != previous:
            if level == ConsentLevel.CONTROL:
                self._system(told("the customer granted control: F12 types into their terminal"))
                self.app.notify(told("Control granted: press F12 to type into the customer's terminal."))
            elif previous == ConsentLevel.CONTROL:
                self._system(f"the customer revoked control (now: {level})")
            else:
                self._system(f"consent is now: {level}")
        self._refresh_bindings()

    def _on_sharing(self, event: SharingChanged) -> None:
        if event.active:
            self.mirror.set_placeholder(None)
            self._set_state("connected")
            self._system("the customer resumed sharing")
        elif self.mirror.state is None:  # nothing shown yet: an invited agent waits for the customer's yes
            self.mirror.set_placeholder("nothing shared yet (an invited agent waits for the customer to allow them)")
            self._set_state("waiting for the customer to share")
            self._system("nothing shared yet: an invited agent waits until the customer allows them")
        else:
            self.mirror.set_placeholder("the customer paused sharing")
            self._set_state("paused by the customer")
            self._system("the customer paused sharing")

    def _on_reconnecting(self, event: Reconnecting) -> None:
        self.link_state = f"reconnecting (attempt {event.attempt})"
        self._set_state("the relay is restarting; reconnecting…" if event.cause == "relay_restart" else
                        "the relay is not answering; reconnecting…" if event.cause == "relay_down" else
                        "lost the relay; reconnecting…")
        if event.message and event.attempt == 1:  # once per outage, not per attempt
            self._system(event.message)
        self._render_facts()

    def _on_resumed(self, event: Resumed) -> None:
        self.link_state = "connected"
        self._set_state(self._connected() if event.peer else "reconnected; waiting for the customer…")
        if event.message:
            self._system(event.message)
        self._render_facts()

    def _on_warning(self, kind: str, message: str) -> None:
        self._system(f"warning: {message}")
        if kind == "wrong_code":
            self.app.notify(message, title="Wrong code tried", severity="warning", timeout=8)

    def _on_steps(self, event: StepsChanged) -> None:
        previous = self.steps
        self.steps = {k: v for k, v in (event.state or {}).items() if k != "event"}
        steps = self.steps.get("steps") or []
        if previous is None or previous.get("title") != self.steps.get("title"):
            self._system(f"playbook started: {self.steps.get('title', '')} ({len(steps)} steps)")
            self.show_side("steps-tab")
        else:
            before = previous.get("steps") or []
            for index, step in enumerate(steps):
                old = before[index].get("status") if index < len(before) else None
                status = step.get("status")
                if status != old and status in (StepStatus.DONE, StepStatus.SKIPPED, StepStatus.FAILED):
                    by = f" by {step['by']}" if step.get("by") else ""
                    self._system(f"step {index + 1} {status}{by}: {step.get('title', '')}")
            if self.steps.get("finished") and not previous.get("finished"):
                self._system("playbook finished")
        self._render_steps()

    def _on_suggestion(self, event: SuggestionAnswered) -> None:
        if event.answer is SuggestionAnswer.PASTED:
            self.chat_log.write(Text.assemble(("customer pasted: ", "bold green"), event.command))
        else:
            self.chat_log.write(Text.assemble(("customer declined: ", "bold red"), event.command))

    def _on_error(self, message: str, kind: str | None) -> None:
        text = f"SECURITY CHECK FAILED: {message}" if kind == "security" else f"Error: {message}"
        if kind is None and self.sas is not None and not self.ended:
            # a refused step change or playbook: say it, but keep the session's screen space
            self._system(text)
            self.app.notify(message, title="Error", severity="error", timeout=8)
            return
        self._alert(text)
        self._system(text)
        self.app.notify(message, title="Security check failed" if kind == "security" else "Error",
                        severity="error", timeout=8)

    def _on_ended(self, event: SessionEnded) -> None:
        feedback = event.get("feedback")
        if not self.ended:
            self._close(event)
        if feedback:
            self._system(feedback_text(feedback))

    def _close(self, event: SessionEnded) -> None:
        self.ended = True
        self.left = str(event.reason) == "left"
        self.end_message = event.message or str(event.reason)
        if self.typing:
            self.set_typing(False)
        self.add_class("-ended")
        self.query_one("#consent").display = False  # nothing is granted any more: the state says ENDED
        self.query_one("#code-card").display = False
        self.link_state = "closed"
        self._set_state(f"ENDED: {self.end_message}")
        self._system(f"session ended: {self.end_message}")
        if self.mirror.state is None:
            self.mirror.set_placeholder(f"session ended: {self.end_message}")
        self._set_title(self._title_core + " (ended)")
        self.query_one("#chat-input", Input).disabled = True
        self.render_team()  # and the facts
        self._refresh_bindings()
