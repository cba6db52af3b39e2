"""The agent console's tabs: the home tab, and one pane per session (its runtime worker,
mirror, SAS, consent, chat, steps and facts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Digits, Input, Markdown, TabbedContent, TabPane

from cobrowse.cli.config import DEFAULT_RELAY
from cobrowse.errors import CobrowseError, SecurityError
from cobrowse.io.agent import AgentRuntime, CommandError
from cobrowse.io.keeping import agent_taps
from cobrowse.io.link import RelayLink
from cobrowse.voice.settings import RtcSettings
from cobrowse.voice.call import describe as describe_voice
from cobrowse.wire.code import Code, parse_code
from cobrowse.wire.proxy import ProxyChoice
from tui.safe import PlainStatic, plain
from tui.widgets.meter import meter_bar
from tui.widgets.remote_screen import RemoteScreen

CONSENT_LABELS = {
    "view": "VIEW ONLY",
    "suggest": "SUGGEST",
    "control": "CONTROL GRANTED",
}
TYPING_BANNER = "TYPING INTO CUSTOMER'S TERMINAL — F12 to stop"

STEP_ICONS = {
    "pending": ("○", "dim"),
    "active": ("▶", "bold yellow"),
    "done": ("✔", "green"),
    "skipped": ("↷", "dim italic"),
    "failed": ("✘", "bold red"),
}


def human_rate(value: float) -> str:
    if value < 1000:
        return f"{value:.0f} B/s"
    if value < 1_000_000:
        return f"{value / 1000:.1f} kB/s"
    return f"{value / 1_000_000:.1f} MB/s"


def human_bytes(value: int) -> str:
    if value < 1000:
        return f"{value} B"
    if value < 1_000_000:
        return f"{value / 1000:.1f} kB"
    return f"{value / 1_000_000:.1f} MB"


class ChatLog(VerticalScroll):
    """Chat and session notes; one PlainStatic per entry, so text reflows when the pane resizes
    (a RichLog wraps at the width it had when written, which is tiny in a hidden tab)."""

    MAX_ENTRIES = 500

    def on_mount(self) -> None:
        self.anchor()

    def write(self, text: Text) -> None:
        entries = self.query(".entry")
        if len(entries) >= self.MAX_ENTRIES:
            entries.first().remove()
        self.mount(PlainStatic(text, classes="entry"))

    def plain(self) -> str:
        """The log as text, one entry a line (tests)."""
        return "\n".join(getattr(e.content, "plain", str(e.content)) for e in self.query(".entry").results(PlainStatic))


# the home tab


class HomePane(TabPane):
    def __init__(self, relay_url: str, relay_note: str | None) -> None:
        super().__init__("Start", id="home")
        self.relay_url = relay_url
        self.relay_note = relay_note

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="home-body"):
            yield PlainStatic("cobrowse agent console", id="home-title")
            if self.relay_note:
                yield PlainStatic(self.relay_note, id="relay-note")
            yield PlainStatic(f"Relay: {self.relay_url}", id="home-relay")
            yield PlainStatic(
                "F2  New session: you get a code; read it to the customer, who types "
                "`cobrowse join CODE`.\n"
                "F3  Join by code: the customer ran `cobrowse share` and reads you their code.\n"
                "You can run several sessions at once; each gets a tab. A ● on a tab means "
                "something happened there.\n"
                "ctrl+p (or F9) opens the command palette with every action.",
                id="home-help",
            )
            with Horizontal(id="home-buttons"):
                yield Button("New session (F2)", variant="primary", id="home-new")
                yield Button("Join by code (F3)", id="home-join")

    @on(Button.Pressed, "#home-new")
    async def _new(self) -> None:
        await self.app.run_action("new_session")

    @on(Button.Pressed, "#home-join")
    async def _join(self) -> None:
        await self.app.run_action("join_code")


# one session


class SessionPane(TabPane):
    """One session: its runtime (in a worker), the mirror, the SAS, consent, chat, facts."""

    class Update(Message):
        """An event the runtime emitted (the headless dict)."""

        bubble = False

        def __init__(self, event: dict[str, Any]) -> None:
            super().__init__()
            self.event = event

    def __init__(self, number: int, relay_url: str, token: str | None, agent_name: str, *,
                 join_code: str | None = None, reconnect_for: float = 60.0, rtc: RtcSettings | None = None,
                 redact_patterns: tuple[str, ...] = (), identity: Any = None, proxy: ProxyChoice | None = None) -> None:
        self.number = number
        self.proxy = proxy
        self.base_title = f"#{number}"
        super().__init__(self.base_title, id=f"session-{number}")
        self.relay_url = relay_url
        self.token = token
        self.agent_name = agent_name
        self.join_code = join_code
        self.reconnect_for = reconnect_for
        self.rtc_settings = rtc
        self.redact_patterns = redact_patterns
        #: This agent's credential (``cobrowse.trust.AgentIdentity``), proved to every customer.
        self.identity = identity
        #: How the customer's client saw this agent (the runtime's ``identity`` event).
        self.seen_as: dict[str, Any] | None = None
        self.runtime: AgentRuntime | None = None
        self.link: RelayLink | None = None
        self.code: Code | None = None
        self.sas: str | None = None
        self.consent = "view"
        self.state = "connecting to the relay…"
        self.link_state = "connecting"
        self.customer_name = ""
        self.ended = False
        self.end_message = ""
        self.attention = False
        self.typing = False
        self.rate_in = 0.0
        self.rate_out = 0.0
        self._last_bytes: tuple[int, int] | None = None
        self._title_core = self.base_title
        self.steps: dict[str, Any] | None = None  # the latest "steps" event

    # layout

    def compose(self) -> ComposeResult:
        yield PlainStatic(TYPING_BANNER, id="typing-bar")
        with Horizontal(id="status"):
            yield PlainStatic(CONSENT_LABELS["view"], id="consent", classes="-view")
            yield PlainStatic("", id="sas")
            yield PlainStatic(self.state, id="state")
        yield PlainStatic("", id="alert")
        with Vertical(id="code-card"):
            yield PlainStatic("Read this code to the customer (F5 copies it):", id="code-intro")
            yield Digits("", id="code-digits")
            yield PlainStatic("", id="code-spoken")
            yield PlainStatic("", id="code-command")
        with Horizontal(id="body"):
            yield RemoteScreen(id="mirror")
            with Vertical(id="side"):
                yield PlainStatic("", id="facts")
                with TabbedContent(id="side-tabs", initial="chat-tab"):
                    with TabPane("Chat", id="chat-tab"):
                        with Vertical(id="chat"):
                            yield ChatLog(id="chat-log")
                            yield Input(placeholder="message to the customer (Enter sends)", id="chat-input",
                                        compact=True)
                    with TabPane("Steps", id="steps-tab"):
                        with VerticalScroll(id="steps"):
                            yield PlainStatic("No playbook yet: F1 pushes one from the library.", id="steps-title")
                            yield PlainStatic("", id="steps-list")
                            yield PlainStatic("", id="step-heading")
                            yield Markdown("", id="step-body", open_links=False)
                            yield PlainStatic("", id="step-command")

    def on_mount(self) -> None:
        self.query_one("#code-card").display = False
        self.query_one("#alert").display = False
        self.mirror.set_placeholder("waiting for the customer to join…")
        self._render_facts()
        self.set_interval(1.0, self._sample)
        self.set_interval(0.1, self._call_meters)
        self._worker = self.run_worker(self._run(), name=f"session-{self.number}", group="sessions",
                                       exclusive=False, exit_on_error=False)

    @property
    def mirror(self) -> RemoteScreen:
        return self.query_one("#mirror", RemoteScreen)

    @property
    def chat_log(self) -> ChatLog:
        return self.query_one("#chat-log", ChatLog)

    # the runtime, in a worker

    def _emit(self, event: dict[str, Any]) -> None:
        self.post_message(self.Update(event))

    async def _run(self) -> None:
        try:
            link = RelayLink(self.relay_url, "agent", self.token, reconnect_for=self.reconnect_for, proxy=self.proxy)
            emit, trail, recordings = agent_taps(self._emit)  # history, audit log, recordings
            runtime = AgentRuntime(link, emit, name=self.agent_name, recordings=recordings, ask_feedback=True,
                                   rtc=self.rtc_settings, redact_patterns=self.redact_patterns, identity=self.identity)
            runtime.on_action = trail.action
            runtime.local_echo = runtime.local_echo if getattr(self.app, "predict", True) else None
            self.link, self.runtime = link, runtime
            if self.join_code is not None:
                code = parse_code(self.join_code)
                self.code = code
                await runtime.join(code)
                self._emit({"event": "joined", "code": str(code)})
            else:
                runtime.customer_command = self.customer_command
                await runtime.create()
                self._emit(runtime.code_event())
        except CobrowseError as exc:
            kind = "security" if isinstance(exc, SecurityError) else "start"
            self._emit({"event": "error", "message": str(exc), "kind": kind})
            self._emit({"event": "ended", "reason": "failed", "message": str(exc)})
            return
        except Exception as exc:  # never a traceback in the console
            self.log.error(f"session {self.number} failed to start: {exc!r}")
            message = f"could not start the session: {exc or type(exc).__name__}"
            self._emit({"event": "error", "message": message, "kind": "start"})
            self._emit({"event": "ended", "reason": "failed", "message": message})
            return
        try:
            await runtime.run()
        except Exception as exc:
            self.log.error(f"session {self.number} failed: {exc!r}")
            message = f"the session stopped after an internal error: {exc or type(exc).__name__}"
            self._emit({"event": "error", "message": message})
            self._emit({"event": "ended", "reason": "failed", "message": message})

    def customer_command(self, code: Code) -> str:
        if self.relay_url.rstrip("/") == DEFAULT_RELAY:
            return f"cobrowse join {code}"
        return f"cobrowse join {code} --relay {self.relay_url}"

    # runtime events

    def on_session_pane_update(self, message: Update) -> None:
        event = message.event
        kind = event.get("event")
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            handler(event)
        if kind in ("recording", "feedback_wait", "receipt"):  # recordings and the end (issue 8)
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

    def _on_screen(self, event: dict[str, Any]) -> None:
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
        who = self.customer_name or "customer"
        self.chat_log.write(Text.assemble((f"{who}: ", "bold magenta"), event.get("text", "")))

    def _on_consent(self, event: dict[str, Any]) -> None:
        level = event.get("level", "view")
        previous, self.consent = self.consent, level
        badge = self.query_one("#consent", PlainStatic)
        badge.update(CONSENT_LABELS.get(level, level.upper()))
        for name in CONSENT_LABELS:
            badge.set_class(name == level, f"-{name}")
        if level != "control" and self.typing:
            self.set_typing(False)
            self.app.notify("The customer took back control: typing stopped.", severity="warning")
        if level != previous:
            if level == "control":
                self._system("the customer granted control: F12 types into their terminal")
                self.app.notify("Control granted: press F12 to type into the customer's terminal.")
            elif previous == "control":
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
        else:
            self._set_state(self._connected())
            self._system("the customer is back")

    def _on_connection(self, event: dict[str, Any]) -> None:
        if event.get("state") == "reconnecting":
            self.link_state = f"reconnecting (attempt {event.get('attempt')})"
            self._set_state("lost the relay; reconnecting…")
        else:
            self.link_state = "connected"
            self._set_state(self._connected() if event.get("peer") else "reconnected; waiting for the customer…")
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
                if status != old and status in ("done", "skipped", "failed"):
                    by = f" by {step['by']}" if step.get("by") else ""
                    self._system(f"step {index + 1} {status}{by}: {step.get('title', '')}")
            if self.steps.get("finished") and not previous.get("finished"):
                self._system("playbook finished")
        self._render_steps()

    def _on_suggestion(self, event: dict[str, Any]) -> None:
        command = event.get("command", "")
        if event.get("answer") == "pasted":
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

    # the steps panel

    def current_step(self) -> int | None:
        state = self.steps
        current = state.get("current") if state else None
        return current if isinstance(current, int) else None

    def _render_steps(self) -> None:
        state = self.steps
        if state is None:
            return
        steps = state.get("steps") or []
        current = self.current_step()
        done = sum(1 for step in steps if step.get("status") in ("done", "skipped"))
        title = Text.assemble((state.get("title", ""), "bold"), (f"  {done}/{len(steps)}", "dim"))
        if state.get("finished"):
            title.append("  finished", style="bold green")
        self.query_one("#steps-title", PlainStatic).update(title)
        lines = Text()
        for index, step in enumerate(steps):
            status = step.get("status", "pending")
            icon, style = STEP_ICONS.get(status, ("?", ""))
            line = Text.assemble((f"{icon} ", style), f"{index + 1}. {step.get('title', '')}")
            if status != "pending":
                by = f" · {step['by']}" if step.get("by") else ""
                line.append(f"  {status}{by}", style="dim" if status != "failed" else "red")
            if index == current:
                line.stylize("bold reverse")
            if index:
                lines.append("\n")
            lines.append_text(line)
        self.query_one("#steps-list", PlainStatic).update(lines)
        heading = self.query_one("#step-heading", PlainStatic)
        body = self.query_one("#step-body", Markdown)
        command = self.query_one("#step-command", PlainStatic)
        if current is not None and 0 <= current < len(steps):
            step = steps[current]
            heading.update(Text(f"Step {current + 1}: {step.get('title', '')}", style="bold"))
            body.update(step.get("body") or "")
            body.display = bool(step.get("body"))
            if step.get("command"):
                command.update(Text.assemble(("command  ", "dim"), (step["command"], "bold"),
                                             ("\n(shift+F2 suggests it to the customer)", "dim")))
                command.display = True
            else:
                command.display = False
            heading.display = True
        else:
            heading.display = body.display = command.display = False

    def show_side(self, tab: str) -> None:
        side = self.query_one("#side-tabs", TabbedContent)
        if side.active != tab:
            focused = self.app.focused
            if focused is not None and side in focused.ancestors:
                self.app.set_focus(None)  # else the focused widget pulls its tab back
            side.active = tab

    @on(TabbedContent.TabActivated, "#side-tabs")
    def _side_switched(self, event: TabbedContent.TabActivated) -> None:
        event.stop()  # not the session tabs' message
        self.set_class(event.pane is not None and event.pane.id == "steps-tab", "-steps-side")

    def toggle_side(self) -> None:
        side = self.query_one("#side-tabs", TabbedContent)
        self.show_side("chat-tab" if side.active == "steps-tab" else "steps-tab")
        if side.active == "chat-tab" and not self.typing:
            chat = self.query_one("#chat-input", Input)
            if not chat.disabled:
                chat.focus()

    # display helpers

    def _set_title(self, core: str) -> None:
        self._title_core = core
        self._apply_title()

    def _apply_title(self) -> None:
        core = self._title_core
        label = f"{self.base_title} {core}" if core != self.base_title else core
        if self.attention:
            label = f"● {label}"
        try:
            tab = self._tab()
        except Exception:
            return
        tab.label = plain(label)  # a str would be parsed as markup: it holds the customer's name
        tab.set_class(self.attention, "-attention")

    def _tab(self) -> Any:
        return self.app.query_one("#sessions", TabbedContent).get_tab(self)

    def flag_attention(self) -> None:
        tabs = self.app.query_one("#sessions", TabbedContent)
        if tabs.active == self.id:
            return
        if not self.attention:
            self.attention = True
            self._apply_title()

    def clear_attention(self) -> None:
        if self.attention:
            self.attention = False
            self._apply_title()

    def _connected(self) -> str:
        """The state line of a live session: a pause outlives reconnects."""
        runtime = self.runtime
        return "paused by the customer" if runtime is not None and not runtime.sharing else "connected"

    def _set_state(self, text: str) -> None:
        self.state = text
        self._render_status_extra()

    def _render_status_extra(self) -> None:
        text = self.state
        try:
            mismatch = self.mirror.size_mismatch
        except Exception:
            mismatch = None
        if mismatch is not None and not self.ended:
            cols, rows = mismatch
            text = f"{text} · customer's terminal is {cols}×{rows}"
        self.query_one("#state", PlainStatic).update(text)

    def _alert(self, text: str) -> None:
        alert = self.query_one("#alert", PlainStatic)
        alert.update(text)
        alert.display = True

    def _system(self, text: str) -> None:
        self.chat_log.write(Text(f"· {text}", style="dim italic"))

    def _sample(self) -> None:
        link = self.link
        if link is None:
            return
        now = (link.bytes_received, link.bytes_sent)
        if self._last_bytes is not None:
            self.rate_in = float(now[0] - self._last_bytes[0])
            self.rate_out = float(now[1] - self._last_bytes[1])
        self._last_bytes = now
        if self.ended:
            self.rate_in = self.rate_out = 0.0
        self._render_facts()

    def facts_text(self) -> str:
        link = self.link
        received = link.bytes_received if link else 0
        sent = link.bytes_sent if link else 0
        lines = [
            f"code      {self.code or '—'}",
            f"customer  {self.customer_name or ('—' if self.sas is None else 'connected')}",
            f"you       {self._seen_text()}",
            f"path      {self._path_text()} · rtt {self._rtt_text()}",
            *self._call_lines(),
            f"relay     {self.relay_url}",
            f"link      {self.link_state}",
            f"in        {human_rate(self.rate_in)} ({human_bytes(received)})",
            f"out       {human_rate(self.rate_out)} ({human_bytes(sent)})",
        ]
        recording = self.runtime.recording_state if self.runtime is not None else "off"
        if recording != "off":
            lines.append("record    ● RECORDING" if recording == "on" else "record    asked the customer…")
        return "\n".join(lines)

    def _path_text(self) -> str:
        rtc = self.runtime.rtc if self.runtime is not None else None
        if rtc is None or rtc.path != "direct":
            return "relay"
        return {"host": "direct", "srflx": "direct (through NAT)", "relay": "direct via TURN"}.get(rtc.route_via, "direct")

    def _call_lines(self) -> list[str]:
        runtime = self.runtime
        if runtime is None or runtime.rtc.call.state == "idle":
            return []
        call = runtime.rtc.call
        lines = [f"call      {call.state}"]
        if call.in_call:
            mine, theirs = runtime.rtc.levels()
            lines.append(f"mic       {meter_bar(mine)}{' muted' if call.muted else ''}")
            lines.append(f"customer  {meter_bar(theirs)}{' muted' if call.remote_muted else ''}")
        return lines

    def _call_meters(self) -> None:
        if self.runtime is not None and self.runtime.rtc.call.in_call:
            self._render_facts()

    async def call(self) -> None:
        await self.command({"cmd": "call"})

    async def hangup(self) -> None:
        await self.command({"cmd": "hangup"})

    async def toggle_mute(self) -> None:
        runtime = self.runtime
        muted = runtime is not None and runtime.rtc.call.muted
        await self.command({"cmd": "mute", "muted": not muted})

    def _seen_text(self) -> str:
        seen = self.seen_as
        if seen is None:
            return "—" if self.sas is None else "identity not reported"
        if seen.get("verified"):
            return f"✓ verified ({seen.get('org')})"
        return f"⚠ UNVERIFIED ({seen.get('status')})"

    def _rtt_text(self) -> str:
        rtt = self.runtime.rtt_ms if self.runtime is not None else None
        return "n/a" if rtt is None else f"{rtt:.1f} ms"

    def _render_facts(self) -> None:
        self.query_one("#facts", PlainStatic).update(self.facts_text())

    def _refresh_bindings(self) -> None:
        if self.app.screen_stack:  # not while the app shuts down
            self.app.refresh_bindings()

    # actions (called by the app)

    def set_typing(self, on: bool) -> None:
        self.typing = on
        mirror = self.mirror
        mirror.control = on
        self.set_class(on, "-typing")
        if on:
            mirror.focus()
        elif mirror.has_focus and not self.query_one("#chat-input", Input).disabled:
            self.query_one("#chat-input", Input).focus()
        self._refresh_bindings()

    async def command(self, cmd: dict[str, Any]) -> bool:
        """Run a runtime command; show why it could not run."""
        runtime = self.runtime
        if runtime is None or self.ended:
            self.app.notify("This session is not running.", severity="warning")
            return False
        try:
            await runtime.command(cmd)
        except CommandError as exc:
            self.app.notify(str(exc), severity="warning")
            return False
        except CobrowseError as exc:
            self.app.notify(str(exc), severity="error")
            return False
        return True

    async def request_control(self) -> None:
        if self.consent == "control":
            self.app.notify("You already have control: F12 types into the customer's terminal.")
            return
        if await self.command({"cmd": "request_control", "level": "control"}):
            self._system("asked the customer for control; waiting for their answer…")

    def toggle_typing(self) -> None:
        if self.typing:
            self.set_typing(False)
            return
        if self.ended:
            self.app.notify("This session has ended.", severity="warning")
            return
        if self.consent != "control":
            self.app.notify("The customer has not granted control: ask first (F4).", severity="warning")
            return
        self.set_typing(True)

    async def push_playbook(self, path: Path) -> None:
        if await self.command({"cmd": "playbook", "path": str(path)}):
            self._system(f"pushed the playbook {path.name}; waiting for the customer's app…")

    async def mark_step(self, status: str) -> None:
        if self.steps is None:
            self.app.notify("No playbook is running here: F1 pushes one.", severity="warning")
            return
        index = self.current_step()
        if index is None:
            self.app.notify("No active step: the playbook is finished (shift+F10 goes back).", severity="warning")
            return
        await self.command({"cmd": "step", "index": index, "status": status})

    async def step_back(self) -> None:
        if self.steps is None:
            self.app.notify("No playbook is running here: F1 pushes one.", severity="warning")
            return
        await self.command({"cmd": "step", "action": "back"})

    def active_command(self) -> str:
        index = self.current_step()
        steps = (self.steps or {}).get("steps") or []
        if index is not None and 0 <= index < len(steps):
            return steps[index].get("command") or ""
        return ""

    async def suggest(self, command: str) -> None:
        if await self.command({"cmd": "suggest", "command": command}):
            self.chat_log.write(Text.assemble(("you suggested: ", "bold cyan"), command))

    async def point(self, cmd: dict[str, Any]) -> None:
        if await self.command(cmd):
            if "rows" in cmd:
                first, last = cmd["rows"]
                where = f"row {first + 1}" if first == last else f"rows {first + 1}-{last + 1}"
            elif cmd.get("pattern"):
                where = f"lines matching {cmd['pattern']!r}"
            else:
                self._system("cleared the pointer")
                return
            self._system(f"pointing at {where} on the customer's screen (shift+F4 clears)")

    async def end(self) -> None:
        if self.ended:
            return
        if self.runtime is None or self.runtime.session is None:
            self._worker.cancel()  # still connecting: stop before a session exists
            self._emit({"event": "ended", "reason": "agent_ended", "message": "you ended the session"})
            return
        # Ending may wait (bounded) for the customer's feedback: in a worker, never blocking the
        # console; ending again meanwhile stops the wait.
        self.run_worker(self.command({"cmd": "end"}), group="end", exit_on_error=False)

    @on(Input.Submitted, "#chat-input")
    async def _send_chat(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        if await self.command({"cmd": "chat", "text": text}):
            event.input.value = ""
            self.chat_log.write(Text.assemble(("you: ", "bold cyan"), text))

    async def on_remote_screen_input(self, message: RemoteScreen.Input) -> None:
        message.stop()
        runtime = self.runtime
        if not self.typing or runtime is None or runtime.consent != "control" or self.ended:
            return  # dropped: not in typing mode, or control was revoked
        try:
            await runtime.command({"cmd": "keys", "data": message.data.decode("utf-8", "surrogateescape")})
        except CommandError as exc:
            self.set_typing(False)
            self.app.notify(str(exc), severity="warning")


def feedback_text(feedback: dict[str, Any]) -> str:
    """The customer's answer at the end, in words."""
    status = feedback.get("status")
    if status != "answered":
        return {"skipped": "the customer skipped the feedback question",
                "timeout": "the customer did not answer the feedback question in time",
                "gone": "the customer left without answering the feedback question"}.get(str(status), "no feedback")
    solved = {True: "solved", False: "NOT solved", None: "solved? (no answer)"}[feedback.get("solved")]
    rating = feedback.get("rating")
    return f"customer feedback: {solved}" + (f", rated {rating}/5 " + "★" * int(rating) if rating else "")
