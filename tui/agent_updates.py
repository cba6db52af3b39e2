"""How a session pane shows what its runtime reports: one handler per event kind."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Digits, Input

from cobrowse.policy.agent_commands import ConsentLevel, StepStatus
from cobrowse.policy.agent_events import SuggestionAnswer
from cobrowse.policy.events import Event, LegacyEvent, as_json, kind_of
from cobrowse.voice.call import describe as describe_voice
from tui.safe import PlainStatic
from tui.agent_facts import CONSENT_LABELS
from tui.agent_panels import StepsView, feedback_text


class SessionUpdates(StepsView):
    """The runtime's events, shown in the pane (typed events and dicts alike)."""

    def show_event(self, typed: Event | LegacyEvent) -> None:
        """Show one event: typed or a dict, normalised here (``as_json``) except the screen,
        which is drawn from the runtime's mirror without building its JSON."""
        kind = kind_of(typed)
        if kind == "screen":
            self._on_screen()
            return
        event = as_json(typed)
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            handler(event)
        if kind in ("recording", "feedback_wait", "receipt", "invite", "viewers"):  # recordings, the end, a team
            self._system(str(event.get("message", "")))
            self._render_facts()
        if kind == "ended" and event.get("feedback"):
            self._system(feedback_text(event["feedback"]))
        if kind in ("chat", "consent", "ended", "paired", "error", "sharing", "peer", "steps", "suggestion", "voice"):
            self.flag_attention()

    def _on_voice(self, event: dict[str, Any]) -> None:
        who = self.customer_name or "the customer"
        self._system(describe_voice(event, who, "agent"))
        if event.get("state") == "ringing":
            self.app.notify(f"{who} is calling: ⇧F7 answers, ⇧F8 declines.", title="Incoming call", timeout=30)
        self._render_facts()

    def _on_path(self, event: dict[str, Any]) -> None:
        if event.get("path") == "direct":
            self._system("frames now take a direct path to the customer (the relay only stands by)")
        else:
            self._system(f"frames go through the relay: {event.get('reason', '')}")
        self._render_facts()

    def _on_code(self, event: dict[str, Any]) -> None:
        code = self.runtime.code if self.runtime else None
        self.code = code
        self.query_one("#code-digits", Digits).update(event["code"])
        self.query_one("#code-spoken", PlainStatic).update(f"Say it as: {event['spoken']}")
        self.query_one("#code-command", PlainStatic).update(
            Text.assemble("The customer types:  ", (event["customer_command"], "bold")))
        self.query_one("#code-card").display = True
        self._set_title(event["code"])
        self._set_state("waiting for the customer to join…")
        if event.get("renewed"):
            self._system(str(event.get("message", "")))
            self.app.notify(str(event.get("message", "")), title="New session code", severity="warning", timeout=15)
        self.link_state = "connected"
        self._render_facts()

    def _on_joined(self, event: dict[str, Any]) -> None:
        self._set_title(event["code"])
        self.link_state = "connected"
        self._set_state("joined; checking the code with the customer…")
        self._render_facts()

    def _on_paired(self, event: dict[str, Any]) -> None:
        self.sas = event["sas"]
        self.query_one("#code-card").display = False
        self.query_one("#sas", PlainStatic).update(Text.assemble("SAS ", (self.sas, "bold")))
        self.mirror.set_placeholder("connected: waiting for the customer's screen…")
        self._set_state("connected: compare the SAS words by voice")
        self._system(f"connected. Compare these words with the customer by voice: {self.sas}")
        self._render_facts()

    def _on_hello(self, event: dict[str, Any]) -> None:
        self.customer_name = event.get("name") or ""
        if event.get("sas_words") and event.get("lang") != "en":  # the customer reads these: say them
            self.sas = str(event["sas_words"])
            self.query_one("#sas", PlainStatic).update(Text.assemble("SAS ", (self.sas, "bold")))
            self._system(f"the customer reads the words in their language ({event['lang']}): compare these: {self.sas}")
        if self.customer_name:
            self._set_title(f"{self.customer_name}")
        self._render_facts()

    def _on_identity(self, event: dict[str, Any]) -> None:
        self.seen_as = event
        self._system(str(event.get("message", "")))
        if not event.get("verified"):
            self.app.notify(str(event.get("message", "")), title="The customer sees you UNVERIFIED", severity="warning",
                            timeout=10)
        self._render_facts()

    def _on_screen(self) -> None:
        runtime = self.runtime
        if runtime is None or runtime.mirror.state is None:
            return
        mirror = self.mirror
        if mirror.state is not runtime.mirror.state:
            if runtime.sharing:
                mirror.set_placeholder(None)
            mirror.set_state(runtime.mirror.state)
        mirror.set_prediction(runtime.local_echo.overlay() if runtime.local_echo is not None else None)
        self._render_status_extra()

    def _on_chat(self, event: dict[str, Any]) -> None:
        who = str(event.get("name") or "") or self.customer_name or "customer"  # name: another agent (a team)
        self.chat_log.write(Text.assemble((f"{who}: ", "bold magenta"), event.get("text", "")))

    def _on_consent(self, event: dict[str, Any]) -> None:
        level = event.get("level", "view")
        previous, self.consent = self.consent, level
        badge = self.query_one("#consent", PlainStatic)
        badge.update(CONSENT_LABELS.get(level, level.upper()))
        for name in CONSENT_LABELS:
            badge.set_class(name == level, f"-{name}")
        if level != ConsentLevel.CONTROL and self.typing:
            self.set_typing(False)
            self.app.notify("The customer took back control: typing stopped.", severity="warning")
        if level != previous:
            if level == ConsentLevel.CONTROL:
                self._system("the customer granted control: F12 types into their terminal")
                self.app.notify("Control granted: press F12 to type into the customer's terminal.")
            elif previous == ConsentLevel.CONTROL:
                self._system(f"the customer revoked control (now: {level})")
            else:
                self._system(f"consent is now: {level}")
        self._refresh_bindings()

    def _on_sharing(self, event: dict[str, Any]) -> None:
        if event.get("active"):
            self.mirror.set_placeholder(None)
            self._set_state("connected")
            self._system("the customer resumed sharing")
        else:
            self.mirror.set_placeholder("the customer paused sharing")
            self._set_state("paused by the customer")
            self._system("the customer paused sharing")

    def _on_peer(self, event: dict[str, Any]) -> None:
        if event.get("state") == "left":
            self._set_state("the customer's connection dropped; waiting for them to come back…")
            self._system(str(event.get("message") or "the customer's connection dropped"))
        else:
            self._set_state(self._connected())
            self._system("the customer is back")

    def _on_connection(self, event: dict[str, Any]) -> None:
        message = str(event.get("message") or "")
        if event.get("state") == "reconnecting":
            self.link_state = f"reconnecting (attempt {event.get('attempt')})"
            cause = event.get("cause")
            self._set_state("the relay is restarting; reconnecting…" if cause == "relay_restart" else
                            "the relay is not answering; reconnecting…" if cause == "relay_down" else
                            "lost the relay; reconnecting…")
            if message and event.get("attempt") == 1:  # once per outage, not per attempt
                self._system(message)
        else:
            self.link_state = "connected"
            self._set_state(self._connected() if event.get("peer") else "reconnected; waiting for the customer…")
            if message:
                self._system(message)
        self._render_facts()

    def _on_warning(self, event: dict[str, Any]) -> None:
        self._system(f"warning: {event.get('message', '')}")
        if event.get("kind") == "wrong_code":
            self.app.notify(str(event.get("message", "")), title="Wrong code tried", severity="warning", timeout=8)

    def _on_steps(self, event: dict[str, Any]) -> None:
        previous = self.steps
        self.steps = {k: v for k, v in event.items() if k != "event"}
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

    def _on_suggestion(self, event: dict[str, Any]) -> None:
        command = event.get("command", "")
        if event.get("answer") == SuggestionAnswer.PASTED:
            self.chat_log.write(Text.assemble(("customer pasted: ", "bold green"), command))
        else:
            self.chat_log.write(Text.assemble(("customer declined: ", "bold red"), command))

    def _on_error(self, event: dict[str, Any]) -> None:
        message = event.get("message", "")
        if event.get("kind") == "security":
            text = f"SECURITY CHECK FAILED: {message}"
        else:
            text = f"Error: {message}"
        if event.get("kind") is None and self.sas is not None and not self.ended:
            # a refused step change or playbook: say it, but keep the session's screen space
            self._system(text)
            self.app.notify(message, title="Error", severity="error", timeout=8)
            return
        self._alert(text)
        self._system(text)
        self.app.notify(message, title="Security check failed" if event.get("kind") == "security" else "Error",
                        severity="error", timeout=8)

    def _on_ended(self, event: dict[str, Any]) -> None:
        if self.ended:
            return
        self.ended = True
        self.end_message = event.get("message") or event.get("reason", "")
        if self.typing:
            self.set_typing(False)
        self.add_class("-ended")
        self.query_one("#code-card").display = False
        self.link_state = "closed"
        self._set_state(f"ENDED: {self.end_message}")
        self._system(f"session ended: {self.end_message}")
        if self.mirror.state is None:
            self.mirror.set_placeholder(f"session ended: {self.end_message}")
        self._set_title(self._title_core + " (ended)")
        self.query_one("#chat-input", Input).disabled = True
        self._render_facts()
        self._refresh_bindings()
