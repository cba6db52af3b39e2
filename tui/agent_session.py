"""One session tab of the agent console: its runtime in a worker, the layout, and the
actions the app calls (typed commands to the runtime). What it shows is built up in
tui/agent_facts.py (status and facts), tui/agent_panels.py (chat and steps) and
tui/agent_updates.py (the runtime's events)."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any, Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Digits, Input, Markdown, TabbedContent, TabPane

from cobrowse.errors import CobrowseError, SecurityError
from cobrowse.io.agent import AgentRuntime, CommandError
from cobrowse.io.keeping import agent_taps
from cobrowse.io.link import RelayLink
from cobrowse.policy import agent_commands as c
from cobrowse.policy.agent_commands import AgentCommand
from cobrowse.policy.agent_events import AgentError, IdentityReported, Joined
from cobrowse.policy.events import Event
from cobrowse.policy.session_events import EndReason, SessionEnded
from cobrowse.voice.settings import RtcSettings
from cobrowse.wire.code import Code, parse_code
from cobrowse.wire.proxy import ProxyChoice
from tui.agent_facts import CONSENT_LABELS, ChatLog, human_bytes, human_rate
from tui.agent_home import HomePane
from tui.agent_panels import STEP_ICONS
from tui.agent_updates import SessionUpdates
from tui.agent_keys import told
from tui.safe import PlainStatic
from tui.widgets.remote_screen import RemoteScreen

__all__ = ["CONSENT_LABELS", "STEP_ICONS", "TYPING_BANNER", "ChatLog", "HomePane", "SessionPane", "human_bytes",
           "human_rate"]

TYPING_BANNER = "TYPING INTO CUSTOMER'S TERMINAL — F12 to stop"


class SessionPane(SessionUpdates):
    """One session: its runtime (in a worker), the mirror, the SAS, consent, chat, facts."""

    class Update(Message):
        """An event the runtime emitted (typed: the console matches on its class)."""

        bubble = False

        def __init__(self, event: Event) -> None:
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
        self.seen_as: IdentityReported | None = None
        self.runtime: AgentRuntime | None = None
        self.link: RelayLink | None = None
        self.code: Code | None = None
        self.sas: str | None = None
        self.consent = "view"
        self.state = "connecting to the relay…"
        self.link_state = "connecting"
        self.customer_name = ""
        self.ended = False
        self.left = False
        self.end_message = ""
        self.attention = False
        self.typing = False
        self.rate_in = 0.0
        self.rate_out = 0.0
        self._last_bytes: tuple[int, int] | None = None
        self._title_core = self.base_title
        self.steps: dict[str, Any] | None = None  # the latest "steps" event
        self.team_setup()  # tui/agent_team.py

    def compose(self) -> ComposeResult:
        yield PlainStatic(told(TYPING_BANNER), id="typing-bar")
        with Horizontal(id="status"):
            yield PlainStatic(CONSENT_LABELS["view"], id="consent", classes="-view")
            yield PlainStatic("", id="sas")
            yield PlainStatic(self.state, id="state")
        yield PlainStatic("", id="sas-line")  # the SAS words when the status row cannot hold them whole
        yield PlainStatic("", id="alert")
        with Vertical(id="code-card"):
            yield PlainStatic(told("Read this code to the customer (F5 copies it):"), id="code-intro")
            with Horizontal(id="code-row"):  # beside the digits: no row taken from the screen at 80×24
                yield Digits("", id="code-digits")
                yield PlainStatic("", id="code-asked")
            yield PlainStatic("", id="code-spoken")
            yield PlainStatic("", id="code-command")
        with Horizontal(id="body"):
            with Container(id="mirror-box"):  # the customer's real size, centred (issue 14)
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
                            yield PlainStatic(told("No playbook yet: F1 pushes one from the library."), id="steps-title")
                            yield PlainStatic("", id="steps-list")
                            yield PlainStatic("", id="step-heading")
                            yield Markdown("", id="step-body", open_links=False)
                            yield PlainStatic("", id="step-command")
                    with TabPane("Team", id="team-tab"):
                        with VerticalScroll(id="team"):
                            yield PlainStatic("", id="team-list")

    def on_mount(self) -> None:
        if not self.query("#mirror"):
            return  # the console closed while this tab mounted (F2 then Ctrl-Q): its parts are gone
        self.query_one("#code-card").display = False
        self.query_one("#alert").display = False
        self.mirror.set_placeholder("waiting for the customer to join…")
        self._render_facts()
        self.set_interval(1.0, self._sample)
        self.set_interval(1.0, lambda: self.team_tick(self.team_clock()))
        self.render_team()
        self.set_interval(0.1, self._call_meters)
        self._worker = self.run_worker(self._run(), name=f"session-{self.number}", group="sessions",
                                       exclusive=False, exit_on_error=False)

    def on_unmount(self) -> None:
        gc.unfreeze()  # what the first screen froze (tui/agent_updates.py) is the collector's again

    def on_session_pane_update(self, message: Update) -> None:
        self.show_event(message.event)

    def _emit(self, event: Event) -> None:
        self.post_message(self.Update(event))

    async def _run(self) -> None:
        try:
            link = self.make_link()
            emit, trail, recordings = agent_taps(self._emit)  # history, audit log, recordings
            runtime = AgentRuntime(link, emit, name=self.agent_name, recordings=recordings, ask_feedback=True,
                                   rtc=self.rtc_settings, redact_patterns=self.redact_patterns, identity=self.identity)
            runtime.on_action = trail.action
            runtime.policy.colleague_command = self.colleague_command
            runtime.local_echo = runtime.local_echo if getattr(self.app, "predict", True) else None
            self.link, self.runtime = link, runtime
            await self.start(runtime)
        except CobrowseError as exc:
            kind = "security" if isinstance(exc, SecurityError) else "start"
            self._emit(AgentError(str(exc), kind))
            self._emit(SessionEnded("failed", str(exc)))
            return
        except Exception as exc:  # never a traceback in the console
            self.log.error(f"session {self.number} failed to start: {exc!r}")
            message = f"could not start the session: {exc or type(exc).__name__}"
            self._emit(AgentError(message, "start"))
            self._emit(SessionEnded("failed", message))
            return
        try:
            await runtime.run()
        except Exception as exc:
            self.log.error(f"session {self.number} failed: {exc!r}")
            message = f"the session stopped after an internal error: {exc or type(exc).__name__}"
            self._emit(AgentError(message))
            self._emit(SessionEnded("failed", message))

    def make_link(self) -> RelayLink:
        """This session's link to the relay (a picked customer's carries its ticket: tui/agent_queue.py)."""
        return RelayLink(self.relay_url, "agent", self.token, reconnect_for=self.reconnect_for, proxy=self.proxy)

    async def start(self, runtime: AgentRuntime) -> None:
        """Join the code, or create a session and show its code."""
        if self.join_code is not None:
            code = parse_code(self.join_code)
            self.code = code
            await runtime.join(code)
            self._emit(Joined(str(code)))
        else:
            runtime.customer_command = self.customer_command
            await runtime.create()
            self._emit(runtime.code_event())

    async def call(self) -> None:
        await self.command(c.Call())

    async def hangup(self) -> None:
        await self.command(c.Hangup())

    async def toggle_mute(self) -> None:
        runtime = self.runtime
        muted = runtime is not None and runtime.rtc.call.muted
        await self.command(c.Mute(not muted))


    async def command(self, cmd: AgentCommand | Callable[[], AgentCommand]) -> bool:
        """Run a command (or make it first: its own checks may refuse it); show why it could not run."""
        runtime = self.runtime
        if runtime is None or self.ended:
            self.app.notify("This session is not running.", severity="warning")
            return False
        try:
            await runtime.command(cmd if isinstance(cmd, c.Command) else cmd())
        except CommandError as exc:
            self.app.notify(str(exc), severity="warning")
            return False
        except CobrowseError as exc:
            self.app.notify(str(exc), severity="error")
            return False
        return True

    async def request_control(self) -> None:
        if self.ended:
            self.app.notify("This session has ended.", severity="warning")
            return
        if self.consent == c.ConsentLevel.CONTROL:
            self.app.notify(told("You already have control: F12 types into the customer's terminal."))
            return
        if await self.command(c.RequestControl(c.ConsentLevel.CONTROL)):
            self._system("asked the customer for control; waiting for their answer…")

    def toggle_typing(self) -> None:
        if self.typing:
            self.set_typing(False)
            return
        if self.ended:
            self.app.notify("This session has ended.", severity="warning")
            return
        if self.consent != c.ConsentLevel.CONTROL:
            self.app.notify(told("The customer has not granted control: ask first (F4)."), severity="warning")
            return
        self.set_typing(True)

    async def push_playbook(self, path: Path) -> None:
        if await self.command(c.PushPlaybook(str(path))):
            self._system(f"pushed the playbook {path.name}; waiting for the customer's app…")

    async def mark_step(self, status: c.StepStatus) -> None:
        if self.steps is None:
            self.app.notify(told("No playbook is running here: F1 pushes one."), severity="warning")
            return
        index = self.current_step()
        if index is None:
            self.app.notify(told("No active step: the playbook is finished (shift+F10 goes back)."), severity="warning")
            return
        await self.command(c.Step.mark(index, status))

    async def step_back(self) -> None:
        if self.steps is None:
            self.app.notify(told("No playbook is running here: F1 pushes one."), severity="warning")
            return
        await self.command(c.Step.back())

    async def suggest(self, command: str) -> None:
        if await self.command(lambda: c.Suggest(command)):
            self.chat_log.write(Text.assemble(("you suggested: ", "bold cyan"), command))

    async def point(self, cmd: c.Point) -> None:
        if await self.command(cmd):
            if cmd.rows is not None:
                first, last = cmd.rows
                where = f"row {first + 1}" if first == last else f"rows {first + 1}-{last + 1}"
            elif cmd.pattern:
                where = f"lines matching {cmd.pattern!r}"
            else:
                self._system("cleared the pointer")
                return
            self._system(f"pointing at {where} on the customer's screen ({told('shift+F4')} clears)")

    async def end(self) -> None:
        if self.ended:
            return
        if self.runtime is None or self.runtime.session is None:
            self._worker.cancel()  # still connecting: stop before a session exists
            self._emit(SessionEnded(EndReason.AGENT_ENDED, "you ended the session"))
            return
        # Ending may wait (bounded) for the customer's feedback: in a worker, never blocking the
        # console; ending again meanwhile stops the wait.
        self.run_worker(self.command(c.End()), group="end", exit_on_error=False)

    @on(Input.Submitted, "#chat-input")
    async def _send_chat(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        if await self.command(lambda: c.Chat(text)):
            event.input.value = ""
            self.chat_log.write(Text.assemble(("you: ", "bold cyan"), text))

    async def on_remote_screen_input(self, message: RemoteScreen.Input) -> None:
        message.stop()
        runtime = self.runtime
        if not self.typing or runtime is None or runtime.consent is not c.ConsentLevel.CONTROL or self.ended:
            return  # dropped: not in typing mode, or control was revoked
        try:
            await runtime.command(c.Keys(message.data.decode("utf-8", "surrogateescape")))
        except CommandError as exc:
            self.set_typing(False)
            self.app.notify(str(exc), severity="warning")
