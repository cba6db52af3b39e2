"""The customer app: the customer's shell embedded in Textual, shared with the agent.

``cobrowse join CODE`` / ``cobrowse share`` on a terminal. The shared program runs on a pty
sized to the main pane and is drawn from the customer's own emulator (the very one whose
frames the agent receives), in a :class:`RemoteScreen` whose ``control`` is always on: every
key and paste goes to the program, Ctrl-C, Ctrl-Q and Escape included. The one exception is
the prefix key **Ctrl-]** (as in plain mode): the next key picks a cobrowse action::

    c chat · y / n answer the agent's request · g grant control · s grant suggest
    r revoke (view only, at once) · p pause / resume sharing · e end the session
    f flag: report this session to the relay's operator (a suspected scam)
    b show / hide the side panel · v what the agent sees · ? help · Ctrl-] a literal Ctrl-]
    a paste the suggested command (or the current guide step's) · m / k step done / skip
    ! (``cobrowse guide`` only) get help: create a session and show its code

A playbook the agent pushes (or ``cobrowse guide``'s) shows in the side panel: the steps with
the current one highlighted, its command and its explanation (notifications while the panel
is collapsed). What the agent points at is highlighted in the shell pane until cleared.

Consent is decided by :class:`~cobrowse.io.customer.CustomerRuntime` on this machine; this
app only shows it and forwards the customer's answers. A request is answered with
Ctrl-] y / Ctrl-] n or the bar's buttons, never with a bare key, so a customer who is typing
when the request pops up cannot grant anything by accident; nobody answering means denied.

Presentation only: the session lives in one worker (``_run_session``) that owns the relay
link, the runtime and the pty; the runtime's events (the headless event dicts) are rendered
by ``_on_event``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from enum import StrEnum
from typing import Any, ClassVar, Sequence

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.widgets import Button, Digits, Input, Markdown, RichLog

from cobrowse.errors import CobrowseError
from cobrowse.io.customer import END_CONFIRM, CustomerRuntime
from cobrowse.io.customer_session import CustomerOptions, CustomerSession, GuideHooks
from cobrowse.cli.commands import ENDING_GRACE, SIGNAL_MESSAGES
from cobrowse.io.pty import PtyProcess, command_argv, terminal_hung_up
from cobrowse.voice.settings import RtcSettings
from cobrowse.io.runtime import EXIT_FAILED, EXIT_OK, Outcome, exit_code_for
from cobrowse.playbook import Playbook
from cobrowse.policy.customer_events import Level
from cobrowse.policy.events import Event, LegacyEvent, as_json
from cobrowse.protocol.prompts import ASKS, GIVES, PromptKind
from cobrowse.voice.call import describe as describe_voice
from cobrowse.trust.tripwire import COOLDOWN
from cobrowse.wire.code import Code, parse_code
from cobrowse.wire.proxy import ProxyChoice
from cobrowse.plain.keymap import GET_HELP, Front, guide_hint, keys_for, step_hint, unknown_key
from cobrowse.plain.keymap import hint as keymap_hint
from tui.safe import PlainStatic, notify_plain, plain
from tui.customer_screens import PREFIX_HELP, HelpScreen, PreviewScreen, SessionOverScreen
from tui.widgets.call_bar import CallBar
from tui.widgets.remote_screen import RemoteScreen

__all__ = ["CustomerApp", "PREFIX_HELP"]

logger = logging.getLogger(__name__)

PREFIX = b"\x1d"


class Phase(StrEnum):
    """Where the customer's session is (the banner and the bars follow it)."""

    CONNECTING = "connecting"
    WAITING = "waiting"
    CHECKING = "checking"
    PAIRED = "paired"
    ENDED = "ended"
    GUIDE = "guide"  # guide mode, alone: no session yet

#: The customer's own pane is redrawn at most this often while output floods (the agent gets
#: ScreenSender's rate, whatever this is)...
PANE_FPS = 60.0
#: ... and at most every SMALL_INTERVAL s while the output since the last frame is small (an
#: echo, a prompt): typing must feel local.
SMALL_OUTPUT = 4096
SMALL_INTERVAL = 0.004
#: Below this many columns the app keeps one status line (the banner, in short) and no more.
NARROW = 80
#: Notifications on screen at once (the oldest goes first).
MAX_TOASTS = 2
#: After the program exited, how long to wait for whatever it left behind to close the pty.
EXIT_IDLE = 0.5
#: A pattern pointer's rows are looked for again at most this often while the screen changes.
POINTER_INTERVAL = 0.25
#: The prefix key that asks an agent for help in guide mode (``cobrowse guide``).
HELP_KEY = GET_HELP

STEP_MARKS = {"pending": "·", "active": "▶", "done": "✓", "skipped": "↷", "failed": "✗"}
STEP_STYLES = {"pending": "", "active": "bold reverse", "done": "green", "skipped": "dim", "failed": "bold red"}
#: At most this many steps are listed (a window around the current one).
STEPS_SHOWN = 6
STEP_HINT = step_hint(Front.APP)

LEVEL_TEXT = {
    Level.VIEW: "VIEW ONLY: the agent can see, not type",
    Level.SUGGEST: "SUGGEST: the agent may propose commands",
    Level.CONTROL: "CONTROL: the agent can type in your terminal",
}
#: The key after Ctrl-] → a runtime command; the app itself reads c, b, v, ? and ! (keymap.py).
PREFIX_KEYS = {k.key: k.command for k in keys_for(Front.APP, guide=True) if k.key not in ("c", "b", "v", "?")}
SHELL_TAG = " your terminal · Ctrl-] ? for cobrowse "
#: The Allow button names what it gives (the bar's text says it in full).
BUTTON = {PromptKind.CONTROL: "control", PromptKind.SUGGEST: "suggestions", PromptKind.RECORDING: "recording"}
STATUS_HINT = keymap_hint(Front.APP)
GUIDE_HINT = guide_hint(Front.APP)
ARMED_HINT = keymap_hint(Front.APP, lead="prefix: press a key…", every=True).replace("Ctrl-] literal Ctrl-]", "Esc cancel")


UNVERIFIED_HINT = ("⚠ UNVERIFIED AGENT: never give control or passwords to someone who called you · "
                   "Ctrl-] f report · Ctrl-] e end · Ctrl-] b details · Ctrl-] ? help")
#: The banner below NARROW columns (the only status line then): what matters first, short
#: enough for 40 columns with the unverified warning in front.
SHORT_LEVEL = {Level.CONTROL: "they can TYPE here", Level.SUGGEST: "they may suggest", Level.VIEW: "they see this"}
SHORT_KEYS = {Level.CONTROL: " · Ctrl-] r revokes", Level.SUGGEST: " · Ctrl-] r revokes", Level.VIEW: " · Ctrl-] e ends"}


def _key_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return ""


class ShellPane(RemoteScreen):
    """The main pane: the customer's program, always in control mode; tells its size."""

    class Resized(Message):
        def __init__(self, cols: int, rows: int) -> None:
            super().__init__()
            self.cols = cols
            self.rows = rows

    def on_resize(self, event: events.Resize) -> None:
        cols, rows = self.content_size
        if cols > 0 and rows > 0:
            self.post_message(self.Resized(cols, rows))


class ChatInput(Input):
    BINDINGS = [Binding("escape", "app.focus_shell", "back to the shell", show=False)]


class CustomerApp(App[None], inherit_bindings=False):
    """``cobrowse join CODE`` (``code``) or ``cobrowse share`` (``code=None``) on a terminal.

    ``command`` is the program to share (None: the user's ``$SHELL``). The app exits with the
    session's exit code (``docs/headless.md``); a failure is shown first and printed as one
    ``cobrowse: ...`` line on stderr once the app closed; a normal end exits at once with
    that line.
    """

    CSS_PATH = "customer.tcss"
    TITLE = "cobrowse"
    ENABLE_COMMAND_PALETTE = False
    AUTO_FOCUS = "#shell"
    # No app bindings at all: Ctrl-Q, Ctrl-C and Ctrl-P belong to the customer's shell.
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, relay_url: str, code: str | None, command: str | None, consent_timeout: float = 30.0,
                 *, name: str = "", reconnect_for: float = 60.0, env: dict[str, str] | None = None,
                 guide: Playbook | None = None, rtc: RtcSettings | None = None,
                 redact_patterns: tuple[str, ...] = (), trusted: Sequence[Any] = (),
                 control_cooldown: float = COOLDOWN, proxy: ProxyChoice | None = None) -> None:
        super().__init__()
        #: How connections to the relay go out (None: the environment's proxy settings).
        self.proxy = proxy
        self.rtc = rtc
        #: Extra secrets to mask before anything is shared (on top of the built-in ones).
        self.redact_patterns = redact_patterns
        #: The scam tripwire's cool-down (``cobrowse.trust.tripwire``; tests shorten it).
        self.control_cooldown = control_cooldown
        #: Organisations whose agents are shown verified (``OrgTrust``, from ``--org`` / ``trusted_orgs``).
        self.trusted = tuple(trusted)
        #: The customer's ``identity`` event once the agent said who they are.
        self.identity: dict[str, Any] | None = None
        #: Guide mode (``cobrowse guide``): the playbook runs with no session until Ctrl-] ! asks for help.
        self.guide = guide
        #: The session, wired once for every front end (cobrowse/io/customer_session.py).
        self.customer: CustomerSession | None = None
        self.steps: dict[str, Any] | None = None
        self._steps_seen: tuple[Any, ...] | None = None
        self._pointer_at = 0.0
        self._pointer_handle: asyncio.TimerHandle | None = None
        self.relay_url = relay_url
        self.code_text = code
        self.command = command
        self.consent_timeout = consent_timeout
        self.customer_name = name
        self.reconnect_for = reconnect_for
        self.env = env
        self.runtime: CustomerRuntime | None = None
        self.process: PtyProcess | None = None
        self.code: Code | None = None
        self.sas: str | None = None
        self.agent_name = "the agent"
        self.phase = Phase.CONNECTING
        self.peer_present = False
        self.reconnecting = False
        self.prefix_armed = False
        self.outcome: Outcome | None = None
        #: Plain-text copy of the chat/activity log (what the side panel shows).
        self.log_lines: list[str] = []
        self._last_notice: str | None = None
        self._pane_size: tuple[int, int] | None = None
        self._pane_sized = asyncio.Event()
        self._frame_handle: asyncio.TimerHandle | None = None
        self._last_frame = 0.0
        self._output_since_frame = 0
        self._prompt_timer: Any = None
        self._prompt_id: int | None = None  # the question the consent bar shows
        self._call_timer: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Why the customer's terminal went away (a signal, a hang-up), once it did.
        self.terminal_gone: str | None = None

    # -- layout --------------------------------------------------------------------------

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every notification is literal text: most quote the agent (tui.safe). At most
        MAX_TOASTS at once (one below 80 columns): the newest is the one that matters, and a
        pile of old ones must not cover the shell or hide it."""
        keep = (1 if self.has_class("narrow") else MAX_TOASTS) - 1
        shown = list(self._notifications)
        for old in shown[:max(0, len(shown) - keep)]:
            self._unnotify(old, refresh=False)
        notify_plain(self, message, title=title, severity=severity, timeout=timeout)

    def compose(self) -> ComposeResult:
        yield PlainStatic("Connecting to the relay…", id="banner", classes="waiting")
        yield PlainStatic(STATUS_HINT, id="status")
        # The shell owns everything between the two status lines; the rest opens OVER it
        # (the overlay layer) and never resizes the pty.
        yield ShellPane(id="shell", control=True, control_tag=SHELL_TAG)
        with Vertical(id="top"):
            with Vertical(id="consent-bar"):
                yield PlainStatic("", id="consent-text")
                with Horizontal(id="consent-buttons"):
                    yield Button("Allow (Ctrl-] y)", id="allow", variant="error", compact=True)
                    yield Button("Deny (Ctrl-] n)", id="deny", variant="primary", compact=True)
                    yield PlainStatic("", id="consent-countdown")
            yield CallBar(id="call-bar")
            with Vertical(id="waiting"):
                yield PlainStatic("Read this code to your agent:", id="waiting-title")
                yield Digits("", id="code-digits")
                yield PlainStatic("", id="code-spoken")
                yield PlainStatic("", id="code-how")
        with Vertical(id="side", classes="collapsed"):
            with Vertical(id="panel-info"):  # hidden while the chat is open alone
                yield PlainStatic("", id="identity")
                yield PlainStatic("Who is connected", classes="heading")
                yield PlainStatic("nobody yet", id="who")
                yield PlainStatic("", id="session-code")
                yield PlainStatic("Compare with the agent", classes="heading session-only")
                yield PlainStatic("(after connecting)", id="sas", classes="session-only")
                yield PlainStatic("What the agent may do", classes="heading session-only")
                yield PlainStatic(LEVEL_TEXT[Level.VIEW], id="level", classes="view session-only")
                with Horizontal(classes="button-row first session-only"):
                    yield Button("Control  g", id="grant-control", compact=True)
                    yield Button("Suggest  s", id="grant-suggest", compact=True)
                with Horizontal(classes="button-row session-only"):
                    yield Button("Revoke  r", id="revoke", variant="warning", compact=True)
                    yield Button("Pause  p", id="pause", compact=True)
                with Horizontal(classes="button-row session-only"):
                    yield Button("Preview  v", id="preview", compact=True)
                    yield Button("End  e", id="end", variant="error", compact=True)
                with Horizontal(classes="button-row session-only"):
                    yield Button("Call  t", id="call", compact=True)
                with Vertical(id="guide"):
                    yield PlainStatic("Guide", classes="heading", id="guide-title")
                    yield PlainStatic("", id="steps-list")
                    yield PlainStatic("", id="step-command")
                    with VerticalScroll(id="step-detail"):
                        yield Markdown("", id="step-body", open_links=False)
            yield PlainStatic("Chat", classes="heading")
            yield RichLog(id="chat-log", wrap=True, markup=False, highlight=False, min_width=10)
            yield ChatInput(placeholder="message the agent (Ctrl-] c)", id="chat-input")

    def on_mount(self) -> None:
        self._loop = asyncio.get_running_loop()
        for button in self.query(Button):
            button.can_focus = False  # a click must not take the keyboard from the shell
        self.query_one("#chat-log", RichLog).can_focus = False
        self.set_class(self.size.width < NARROW, "narrow")
        if self.guide is not None:  # no session yet: the session's parts of the panel wait
            self.query_one("#side").add_class("alone")
        self.query_one("#status", PlainStatic).update(self._status_hint)
        shell = self.query_one("#shell", ShellPane)
        shell.set_placeholder("Starting…" if self.guide is not None else "Connecting to the relay…")
        shell.focus()
        self._watch_terminal()
        self._run_session()

    def on_resize(self, event: events.Resize) -> None:
        narrow = event.size.width < NARROW
        if narrow != self.has_class("narrow"):
            self.set_class(narrow, "narrow")
            self._refresh_banner()

    def _watch_terminal(self) -> None:
        """SIGHUP, SIGTERM or a hung-up terminal end the session and close the app: always."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_terminal_gone, SIGNAL_MESSAGES[sig.name])
        if os.isatty(0):
            self.set_interval(1.0, self._check_hangup)
        resume = signal.getsignal(signal.SIGCONT)
        if callable(resume):  # Textual's driver restarts its output on SIGCONT (after Ctrl-Z)

            def on_continue(signum: int, frame: Any) -> None:
                # A hang-up sends SIGCONT too, at any point of the main thread: restarting the
                # output then deadlocked the app (a new writer while the old one's lock was held).
                if not any(terminal_hung_up(fd) for fd in (0, 1)):
                    resume(signum, frame)

            signal.signal(signal.SIGCONT, on_continue)

    def _check_hangup(self) -> None:
        if terminal_hung_up(0):
            self._on_terminal_gone("the customer's terminal hung up")

    def _on_terminal_gone(self, message: str) -> None:
        if self.terminal_gone is not None:  # a second signal: stop now
            self.exit(return_code=EXIT_FAILED)
            return
        self.terminal_gone = message
        if any(terminal_hung_up(fd) for fd in (0, 1, 2)):
            # Textual's writer thread dies on the first EIO and its full queue then blocks the
            # app for ever: point the standard fds at /dev/null so the shutdown completes.
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.close(null)
        last_resort = threading.Timer(2 * ENDING_GRACE, self._hard_exit)
        last_resort.daemon = True
        last_resort.start()
        runtime = self.runtime
        if runtime is None or self.process is None or runtime.outcome is not None or self.phase == Phase.GUIDE:
            self.exit(return_code=EXIT_FAILED if runtime is None or runtime.outcome is None else runtime.outcome.exit_code)
            return
        asyncio.ensure_future(runtime.end("customer_ended", message))
        self.set_timer(ENDING_GRACE, lambda: self.exit(return_code=EXIT_FAILED))

    def _hard_exit(self) -> None:
        """The app did not close in time after its terminal went away: kill the shared
        program and leave (from a timer thread: the event loop may be the one stuck)."""
        process = self.process
        if process is not None:
            with contextlib.suppress(Exception):
                process.send_signal(signal.SIGKILL)
        os._exit(EXIT_FAILED)

    # -- the session worker ----------------------------------------------------------------

    @work(exclusive=True, exit_on_error=False, group="session")
    async def _run_session(self) -> None:
        try:
            outcome = await self._session()
        except CobrowseError as exc:
            outcome = Outcome("error", str(exc), exit_code_for(exc))
        except Exception as exc:  # never a traceback in the customer's face
            logger.exception("customer session failed")
            outcome = Outcome("error", f"unexpected error: {exc or type(exc).__name__}", EXIT_FAILED)
        self.outcome = outcome
        if self.terminal_gone is not None:  # nobody is left to read a failure
            self.exit(return_code=outcome.exit_code)
            return
        self.phase = Phase.ENDED
        self._refresh_banner()
        if outcome.exit_code == EXIT_OK:
            self.exit(return_code=EXIT_OK, message=plain(f"cobrowse: session ended: {outcome.message}"))
        else:
            title = "cobrowse could not start the session" if self.sas is None else "The session ended"
            self.push_screen(SessionOverScreen(title, outcome.message, outcome.exit_code))

    async def _session(self) -> Outcome:
        guide = self.guide
        code = parse_code(self.code_text) if self.code_text is not None and guide is None else None  # InvalidCode: exit 2
        argv = command_argv(self.command)  # ConfigError before any network
        cols, rows = initial = await self._initial_size()
        options = CustomerOptions(self.relay_url, reconnect_for=self.reconnect_for, proxy=self.proxy,
                                  consent_timeout=self.consent_timeout, name=self.customer_name, rtc=self.rtc,
                                  redact_patterns=self.redact_patterns, trusted=self.trusted,
                                  control_cooldown=self.control_cooldown)
        hooks = GuideHooks(creating=self._guide_creating, created=self._guide_created, failed=self._guide_failed,
                           code_again=lambda code: self.notify(f"the session code is {code}: give it to your agent",
                                                               title="help is on the way"))
        customer = self.customer = CustomerSession(options, self._emit, cols, rows, guide=guide, hooks=hooks)
        runtime = self.runtime = customer.runtime
        shell = self.query_one("#shell", ShellPane)
        try:
            self.phase = Phase.GUIDE if guide is not None else Phase.CONNECTING  # guide: no session until asked
            self.code = await customer.open(code)
            if self.code is not None:
                self.phase = Phase.CHECKING if code is not None else Phase.WAITING
                if code is None:
                    self._show_code(self.code)
                self.query_one("#session-code", PlainStatic).update(f"session {self.code}")
            self._refresh_banner()
        except BaseException:
            await customer.abandon()
            raise
        cols, rows = self._pane_size or (cols, rows)
        process = self.process = await customer.spawn(argv, cols, rows, env=self.env)
        if (cols, rows) != initial:  # the pane changed while connecting
            runtime.resize(cols, rows)
        shell.set_placeholder(None)
        self._render_frame()
        process.set_output_handler(self._on_program_output)
        program = asyncio.create_task(self._watch_program(process), name="customer-program")
        try:
            return await customer.run(program)
        finally:
            process.set_output_handler(None)
            program.cancel()
            await customer.close()
            self.process = None
            if self._frame_handle is not None:
                self._frame_handle.cancel()
                self._frame_handle = None

    # guide mode: what the customer sees while Ctrl-] ! creates a session

    def _guide_creating(self) -> None:
        self.phase = Phase.CONNECTING
        self._refresh_banner()

    def _guide_failed(self, exc: CobrowseError) -> None:
        self.phase = Phase.GUIDE
        self._refresh_banner()
        self._note(f"could not create a session: {exc}", "red")
        self.notify(f"{exc}\nCtrl-] {HELP_KEY} tries again.", title="no session", severity="error", timeout=15)

    def _guide_created(self, code: Code) -> None:
        self.code = code
        self.phase = Phase.WAITING
        self._show_code(code)
        self.query_one("#session-code", PlainStatic).update(f"session {code}")
        self._note(f"session created: give the code {code} to your agent", "bold")
        self.query_one("#status", PlainStatic).update(self._status_hint)
        self.query_one("#side").remove_class("alone")
        self._refresh_banner()

    async def _initial_size(self) -> tuple[int, int]:
        try:
            async with asyncio.timeout(2):
                await self._pane_sized.wait()
        except TimeoutError:
            pass
        return self._pane_size or (80, 24)

    async def _watch_program(self, process: PtyProcess) -> int:
        status = await process.wait()
        try:  # let what it left behind on the terminal finish writing
            async with asyncio.timeout(EXIT_IDLE):
                await process.wait_eof()
        except TimeoutError:
            pass
        self._render_frame()
        return status

    # -- the program's screen ----------------------------------------------------------

    def _on_program_output(self, data: bytes) -> None:
        runtime = self.runtime
        if runtime is None:
            return
        runtime.program_output(data)  # what the agent sees (queued, fed by the runtime)
        self._output_since_frame += len(data)
        if self._loop is None:
            return
        interval = SMALL_INTERVAL if self._output_since_frame <= SMALL_OUTPUT else 1.0 / PANE_FPS
        when = max(self._loop.time(), self._last_frame + interval)
        handle = self._frame_handle
        if handle is not None:
            if handle.when() <= when:
                return
            handle.cancel()  # more output came: fall back to the flood rate
        self._frame_handle = self._loop.call_at(when, self._render_frame)

    def _render_frame(self) -> None:
        """Show the customer's own screen: feed what is queued, draw the emulator's state."""
        self._frame_handle = None
        runtime = self.runtime
        if runtime is None or self._loop is None:
            return
        self._last_frame = self._loop.time()
        self._output_since_frame = 0
        runtime.feed_pending()
        state = runtime.screen.state()
        try:
            self.query_one("#shell", ShellPane).set_state(state)
        except Exception:
            logger.debug("pane not available", exc_info=True)
        low = state.cursor.row >= state.size[1] // 2
        if low != self.has_class("toasts-top"):  # notifications stay off the cursor's half
            self.set_class(low, "toasts-top")
        pointer = runtime.pointer
        if pointer is not None and pointer.pattern and self._pointer_handle is None:
            when = max(self._last_frame, self._pointer_at + POINTER_INTERVAL)
            self._pointer_handle = self._loop.call_at(when, self._update_pointer)

    def _update_pointer(self) -> None:
        """Look for a pattern pointer's rows again (the screen changed)."""
        self._pointer_handle = None
        runtime = self.runtime
        if runtime is None or runtime.pointer is None or self._loop is None:
            return
        self._pointer_at = self._loop.time()
        event = runtime.pointer_event()
        try:
            self.query_one("#shell", ShellPane).set_highlight(event.get("rows"))
        except Exception:
            logger.debug("pane not available", exc_info=True)

    @on(ShellPane.Resized)
    def _pane_resized(self, message: ShellPane.Resized) -> None:
        cols, rows = max(2, message.cols), max(2, message.rows)
        if self._pane_size == (cols, rows):
            return
        self._pane_size = (cols, rows)
        self._pane_sized.set()
        process, runtime = self.process, self.runtime
        if process is not None and runtime is not None:
            process.resize(cols, rows)
            runtime.resize(cols, rows)
            self._render_frame()

    # -- keys ----------------------------------------------------------------------------

    @on(RemoteScreen.Input)
    async def _shell_input(self, message: RemoteScreen.Input) -> None:
        message.stop()
        data = message.data
        if self.prefix_armed:
            self._arm(False)
            await self._prefix_key(data)
            return
        if data == PREFIX:
            self._arm(True)
            return
        if self.process is not None:
            self.process.write(data)

    def _arm(self, armed: bool) -> None:
        self.prefix_armed = armed
        status = self.query_one("#status", PlainStatic)
        status.set_class(armed, "armed")
        status.update(ARMED_HINT if armed else self._status_hint)

    async def _prefix_key(self, data: bytes) -> None:
        if data == PREFIX:
            if self.process is not None:
                self.process.write(PREFIX)
            return
        key = _key_text(data)
        if key in ("\x1b", "\x03"):
            return  # cancelled
        key = key.lower() if len(key) == 1 else key
        if key == "c":
            self.action_focus_chat()
        elif key == "b":
            self.action_toggle_panel()
        elif key == "v":
            self.action_preview()
        elif key in ("?", "h"):
            self.action_help()
        elif key in PREFIX_KEYS:
            await self.run_customer_command(PREFIX_KEYS[key])
        else:
            self.notify(unknown_key(Front.APP, guide=self.guide is not None), title="unknown cobrowse key",
                        severity="warning")

    @property
    def unverified(self) -> bool:
        """The agent said who they are and it could not be verified (issue 8): the red line."""
        return self.identity is not None and not self.identity.get("verified")

    @property
    def _status_hint(self) -> str:
        if self.unverified:
            return UNVERIFIED_HINT
        return GUIDE_HINT if self.guide is not None and (self.runtime is None or self.runtime.session is None) else STATUS_HINT

    # -- actions -------------------------------------------------------------------------

    async def run_customer_command(self, name: str, text: str = "") -> None:
        """Run a CustomerRuntime command (allow, deny, grant_control, grant_suggest, revoke,
        pause, end, chat); a no-op with a notice before the session exists."""
        runtime = self.runtime
        if runtime is None or self.outcome is not None:
            self.notify("not connected yet", severity="warning")
            return
        await runtime.run_command(name, text)
        if name in ("paste_suggestion", "decline_suggestion"):
            self._dismiss("Suggested command")
        self._refresh_consent()
        self._refresh_banner()

    def action_get_help(self) -> None:
        """Guide mode: create a session and show its code for an agent (Ctrl-] !)."""
        if self.customer is not None:
            self.customer.ask_for_help()

    def _panel(self, shown: bool, *, chatting: bool = False) -> None:
        """The side panel, over the shell (never resizing it); toasts move to the other side."""
        side = self.query_one("#side")
        side.set_class(not shown, "collapsed")
        side.set_class(shown and chatting, "chatting")
        self.set_class(shown, "panel-open")
        if not shown and not isinstance(self.focused, ShellPane):
            self.query_one("#shell", ShellPane).focus()

    def action_focus_shell(self) -> None:
        """Back to the shell; a chat opened with Ctrl-] c closes itself."""
        if self.query_one("#side").has_class("chatting"):
            self._panel(False)
        self.query_one("#shell", ShellPane).focus()

    def action_focus_chat(self) -> None:
        """The chat alone in the panel (the log gets the panel's height), over the shell."""
        side = self.query_one("#side")
        self._panel(True, chatting=side.has_class("collapsed") or side.has_class("chatting"))
        self.query_one("#chat-input", ChatInput).focus()
        self.query_one("#chat-log", RichLog).scroll_end(animate=False)

    def action_toggle_panel(self) -> None:
        side = self.query_one("#side")
        self._panel(side.has_class("collapsed") or side.has_class("chatting"))

    def action_preview(self) -> None:
        if not isinstance(self.screen, PreviewScreen):
            self.push_screen(PreviewScreen(self))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    @on(Input.Submitted, "#chat-input")
    async def _chat_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        event.input.clear()
        self.action_focus_shell()
        if text:
            await self.run_customer_command("chat", text)

    @on(Button.Pressed)
    async def _button(self, event: Button.Pressed) -> None:
        commands = {"allow": "allow", "deny": "deny", "grant-control": "grant_control",
                    "grant-suggest": "grant_suggest", "revoke": "revoke", "pause": "pause", "end": "end",
                    "call": "call", "call-answer": "call", "call-hangup": "hangup", "call-mute": "mute"}
        button_id = event.button.id or ""
        if button_id in ("allow", "deny") and self._prompt_id is not None:
            await self.run_customer_command(commands[button_id], str(self._prompt_id))  # the prompt on show
        elif button_id in commands:
            await self.run_customer_command(commands[button_id])
        elif button_id == "preview":
            self.action_preview()

    # -- runtime events ------------------------------------------------------------------

    def _emit(self, event: Event | LegacyEvent) -> None:
        if not self.is_running or self._exit:
            return  # the app is closing under the session (its last events have no screen)
        event = as_json(event)  # typed or not: the same shape from here on
        try:
            self._on_event(event)
        except NoMatches:
            pass  # the main screen is being torn down
        except Exception:  # a display problem must never break the session
            logger.exception("showing event %r failed", event.get("event"))

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "code" and event.get("renewed") and self.runtime is not None and self.runtime.code is not None:
            self.code = self.runtime.code  # too many wrong codes were tried: a fresh one (issue 11)
            self._show_code(self.code)
            self.query_one("#session-code", PlainStatic).update(f"session {self.code}")
            self._note(str(event.get("message", "")), "bold")
        elif kind == "paired":
            self.sas = str(event["sas"])
            self.phase = Phase.PAIRED
            self.peer_present = True
            self.query_one("#sas", PlainStatic).update(self.sas)
            self.query_one("#waiting").remove_class("shown")
            self._note(f"connected. Compare these words with the agent: {self.sas}", "dim")
            if self.query_one("#side").has_class("collapsed"):
                self.notify(f"Compare these words with your agent: {self.sas}", title="connected", timeout=30)
        elif kind == "hello":
            self.agent_name = str(event.get("name") or "the agent")
            self._note(f"{self.agent_name} can now see your terminal (view only until you grant more)", "dim")
        elif kind == "identity":
            self._show_identity(event)
        elif kind == "control_confirm":
            message = str(event.get("message", ""))
            self._note(message, "bold red")
            self.notify(message, title="Not verified: confirm control", severity="error", timeout=15)
        elif kind == "reported":
            message = str(event.get("message", ""))
            self._note(message, "bold")
            self.notify(message, title="Session reported", timeout=15)
        elif kind == "chat":
            self._note(f"{self.agent_name}: {event.get('text', '')}", "bold")
            if self.query_one("#side").has_class("collapsed"):
                self.notify(str(event.get("text", "")), title=f"{self.agent_name} says")
        elif kind == "consent":
            self._dismiss("Not verified: confirm control")
            self._note(f"access: {LEVEL_TEXT.get(event['level'], event['level'])}", "dim")
        elif kind in ("consent_prompt", "recording_prompt"):
            self._show_prompt(event)
        elif kind in ("recording", "receipt", "feedback_sent"):
            self._note(str(event.get("message", "")), "bold" if event.get("state") == "granted" else "dim")
        elif kind == "feedback_prompt":
            self._ask_feedback(str(event.get("message", "")))
        elif kind == "sharing":
            self._note("sharing resumed" if event.get("active") else "sharing paused: the agent sees nothing", "dim")
        elif kind == "peer":
            self.peer_present = event.get("state") != "left"
            self._note("the agent's connection dropped; waiting for them to come back" if not self.peer_present
                      else f"{self.agent_name} is back", "dim")
        elif kind == "connection":
            self.reconnecting = event.get("state") == "reconnecting"
            if not self.reconnecting:
                self.peer_present = bool(event.get("peer", True))
            self._note(f"connection lost; reconnecting (attempt {event.get('attempt')})" if self.reconnecting
                      else "reconnected", "dim")
        elif kind == "notice":
            message = str(event.get("message", ""))
            if event.get("kind") == "confirm_end":
                self.notify(message, title="End the session?", severity="warning", timeout=END_CONFIRM)
            elif message.startswith("you: "):
                self._note(message, "italic")
            elif message != self._last_notice:
                self._note(message, "dim")
            self._last_notice = message
        elif kind == "suggestion":
            message = str(event.get("message", ""))
            self._note(message, "bold")
            self.notify(message, title="Suggested command", timeout=30)
        elif kind == "voice":
            self._note(describe_voice(event, self.agent_name, "customer"), "bold" if event.get("state") == "ringing" else "dim")
            self._show_call()
        elif kind == "path":
            self._note("direct connection to the agent" if event.get("path") == "direct"
                      else f"via the relay: {event.get('reason', '')}", "dim")
        elif kind == "steps":
            self._show_steps(event)
        elif kind == "pointer":
            self._show_pointer(event)
        elif kind in ("warning", "error"):
            message = str(event.get("message", ""))
            self._note(f"{kind}: {message}", "red")
            self.notify(message, severity="error" if kind == "error" else "warning")
        elif kind == "ended":
            self.phase = Phase.ENDED
            self._note(f"session ended: {event.get('message', '')}", "dim")
        self._refresh_consent()
        self._refresh_banner()
        self._refresh_side()

    def _dismiss(self, title: str) -> None:
        """A notification whose question was answered goes at once (not at its timeout)."""
        for notification in list(self._notifications):
            if notification.title == title:
                self._unnotify(notification)

    def _show_identity(self, event: dict[str, Any]) -> None:
        """The agent's identity, on a line of its own under the banner for the whole session."""
        self.identity = event
        strip = self.query_one("#identity", PlainStatic)
        self.query_one("#status", PlainStatic).set_class(not event.get("verified"), "unverified")
        if not self.prefix_armed:
            self.query_one("#status", PlainStatic).update(self._status_hint)
        if event.get("verified"):
            self.agent_name = f"{event.get('agent')} ({event.get('org')})"
            strip.update(f"✓ Verified: {event.get('agent')} from {event.get('org')}")
            strip.set_classes("verified")
            self._note(str(event.get("message", "")), "bold green")
            self.notify(str(event.get("message", "")), title="Agent identity")
        else:
            strip.update(f"⚠ UNVERIFIED AGENT: {event.get('detail', '')}. Never give control or passwords to someone "
                         "who called you out of the blue · Ctrl-] f reports this session · Ctrl-] e ends it")
            strip.set_classes("unverified")
            self._note(str(event.get("message", "")), "bold red")
            self.notify(f"{event.get('detail', '')}. See the red line at the bottom; Ctrl-] b shows the details.",
                        title="UNVERIFIED AGENT",
                        severity="error", timeout=10)

    def _note(self, line: str, style: str = "") -> None:
        self.log_lines.append(line)
        self.query_one("#chat-log", RichLog).write(plain(line, style))

    # -- guide steps and the pointer ------------------------------------------------------

    def _show_steps(self, event: dict[str, Any]) -> None:
        if "steps" not in event:
            return
        self.steps = event
        items: list[dict[str, Any]] = list(event.get("steps") or [])
        current = event.get("current")
        finished = bool(event.get("finished"))
        self.query_one("#guide").add_class("shown")
        self.query_one("#guide-title", PlainStatic).update(f"Guide: {event.get('title', '')}")
        listing = Text()
        first, last = 0, len(items)
        if len(items) > STEPS_SHOWN:  # a window around the current step
            focus = current if isinstance(current, int) else len(items) - 1
            first = max(0, min(focus - 2, len(items) - STEPS_SHOWN))
            last = first + STEPS_SHOWN
        lines: list[tuple[str, str]] = []
        if first:
            lines.append((f"  … {first} before", "dim"))
        for i in range(first, last):
            status = str(items[i].get("status", "pending"))
            lines.append((f"{STEP_MARKS.get(status, '?')} {i + 1}. {items[i].get('title', '')}", STEP_STYLES.get(status, "")))
        if last < len(items):
            lines.append((f"  … {len(items) - last} more", "dim"))
        for n, (line, style) in enumerate(lines):
            if n:
                listing.append("\n")
            listing.append(line, style)
        self.query_one("#steps-list", PlainStatic).update(listing)
        body = self.query_one("#step-body", Markdown)
        command_box = self.query_one("#step-command", PlainStatic)
        step = items[current] if isinstance(current, int) and 0 <= current < len(items) else None
        if finished or step is None or current is None:
            done = sum(1 for s in items if s.get("status") == "done")
            body.update(f"**All steps finished**: {done} of {len(items)} done.")
            command_box.update("")
        else:
            body.update(str(step.get("body", "")) or "(no explanation)")
            command = step.get("command")
            text = Text()
            text.append(f"{current + 1}. {step.get('title', '')}\n", "bold underline")
            if command:
                text.append(f"$ {command}\n", "bold")
            text.append(STEP_HINT, "dim")
            command_box.update(text)
        seen = (event.get("title"), current, finished)
        if seen != self._steps_seen:
            self._steps_seen = seen
            if finished:
                message = f"All steps finished ({sum(1 for s in items if s.get('status') == 'done')} of {len(items)} done)."
            elif step is not None and current is not None:
                message = f"Step {current + 1}/{len(items)}: {step.get('title', '')}"
                if step.get("command"):
                    message += f"\n$ {step['command']}\n(Ctrl-] a pastes it, Ctrl-] m done, Ctrl-] k skip)"
            else:
                return
            self._note(message.split("\n")[0], "bold")
            if self.query_one("#side").has_class("collapsed"):
                self.notify(message, title=f"Guide: {event.get('title', '')}", timeout=20)

    def _show_pointer(self, event: dict[str, Any]) -> None:
        shell = self.query_one("#shell", ShellPane)
        if event.get("cleared"):
            shell.set_highlight(None)
        else:
            shell.set_highlight(event.get("rows") or ())
            if self._loop is not None:
                self._pointer_at = self._loop.time()
        message = str(event.get("message", ""))
        self._note(message, "bold" if not event.get("cleared") else "dim")
        if self.query_one("#side").has_class("collapsed") and not event.get("cleared"):
            self.notify(message, title="The agent points", timeout=10)

    def _show_code(self, code: Code) -> None:
        self.query_one("#code-digits", Digits).update(str(code))
        self.query_one("#code-spoken", PlainStatic).update(f"Say it digit by digit: {code.spoken()}")
        self.query_one("#code-how", PlainStatic).update(
            f"Your agent enters it in their console (cobrowse agent --join {code}). Waiting for them to join…")
        self.query_one("#waiting").add_class("shown")

    # -- consent prompt ------------------------------------------------------------------

    def _show_call(self) -> None:
        """The call bar, refreshed 10 times a second during a call for its meters."""
        runtime = self.runtime
        call = runtime.rtc.call if runtime is not None else None
        levels = runtime.rtc.levels() if runtime is not None else (0.0, 0.0)
        self.query_one(CallBar).show(call, levels, self.agent_name)
        if call is not None and call.in_call:
            if self._call_timer is None:
                self._call_timer = self.set_interval(0.1, self._show_call)
        elif self._call_timer is not None:
            self._call_timer.stop()
            self._call_timer = None

    def _ask_feedback(self, message: str) -> None:
        """The agent ended the session: was it solved? (the runtime gives up on its own in time)."""
        from tui.feedback_dialog import FeedbackDialog

        async def answered(answer: Any) -> None:
            runtime = self.runtime
            if runtime is not None and answer is not None:
                await runtime.give_feedback(answer.solved, answer.rating)

        self.push_screen(FeedbackDialog(message, self.agent_name), answered)

    def _active_prompt(self) -> Any:
        """The one question on show (runtime.prompts): Allow/Deny answer it, by its id."""
        runtime = self.runtime
        if runtime is None:
            return None
        return runtime.prompts.shown

    def _show_prompt(self, event: dict[str, Any]) -> None:
        """One question at a time: the bar names what Allow gives, and its buttons answer
        that prompt (by id) and no other."""
        runtime = self.runtime
        prompt = runtime.prompts.shown if runtime is not None else None
        if prompt is None or prompt.id != event.get("id"):
            return  # already answered, or another one is on show
        unverified = prompt.kind == PromptKind.CONTROL and not (self.identity is not None and self.identity.get("verified"))
        warning = " ⚠ NOT VERIFIED: you will have to confirm twice." if unverified else ""
        self._prompt_id = prompt.id
        self.query_one("#consent-text", PlainStatic).update(
            f"{self.agent_name} asks {ASKS[prompt.kind]}. Allow (Ctrl-] y) {GIVES[prompt.kind]}; "
            f"Deny (Ctrl-] n) refuses; nobody answering = denied.{warning}")
        self.query_one("#allow", Button).label = f"Allow {BUTTON[prompt.kind]} (Ctrl-] y)"
        self.query_one("#consent-bar").add_class("shown")
        self._tick_prompt()
        if self._prompt_timer is None:
            self._prompt_timer = self.set_interval(0.2, self._tick_prompt)

    def _tick_prompt(self) -> None:
        runtime = self.runtime
        prompt = self._active_prompt()
        if prompt is None or runtime is None or prompt.id != self._prompt_id:
            self._hide_prompt()
            return
        left = prompt.deadline - runtime.now
        if left <= 0:  # the runtime denies it on its next tick; never looks answerable again
            self._hide_prompt()
            return
        text = f"denied automatically in {left:3.0f} s"
        countdown = self.query_one("#consent-countdown", PlainStatic)
        if str(countdown.content) != text:
            countdown.update(text)

    def _hide_prompt(self) -> None:
        self._prompt_id = None
        self.query_one("#consent-bar").remove_class("shown")
        if self._prompt_timer is not None:
            self._prompt_timer.stop()
            self._prompt_timer = None

    @property
    def prompt_visible(self) -> bool:
        return self.query_one("#consent-bar").has_class("shown")

    def _refresh_consent(self) -> None:
        runtime = self.runtime
        level = runtime.level if runtime is not None else Level.VIEW
        label = self.query_one("#level", PlainStatic)
        label.update(LEVEL_TEXT.get(level, level))
        label.set_classes(f"{level} session-only")
        if runtime is not None and self._active_prompt() is None:
            self._hide_prompt()
        self.query_one("#pause", Button).label = "Resume  p" if runtime is not None and not runtime.sharing else "Pause  p"

    # -- banner and side panel -----------------------------------------------------------

    @property
    def banner_text(self) -> str:
        return str(self.query_one("#banner", PlainStatic).content)

    def _refresh_banner(self) -> None:
        runtime = self.runtime
        agent = self.agent_name
        level = runtime.level if runtime is not None else Level.VIEW
        sharing = runtime.sharing if runtime is not None else True
        classes = "waiting"
        if self.phase == Phase.ENDED:
            text = "Session ended: nothing is shared."
        elif self.phase == Phase.GUIDE:
            text = (f"Guide, alone: nothing is shared · Ctrl-] {HELP_KEY} gets help from an agent · Ctrl-] ? help · "
                    f"{self.guide.title if self.guide else ''}")
        elif self.phase == Phase.CONNECTING:
            text = "Connecting to the relay…"
        elif self.phase == Phase.WAITING:
            text = "Waiting for your agent to join: nothing is shared yet. Ctrl-] ? for help"
        elif self.phase == Phase.CHECKING:
            text = "Checking the code with your agent… Ctrl-] ? for help"
        elif self.reconnecting:
            text, classes = "Connection lost: reconnecting… (nothing is shared meanwhile)", "trouble"
        elif not self.peer_present:
            text, classes = f"{agent}'s connection dropped: waiting for them to come back", "trouble"
        elif not sharing:
            text, classes = f"Sharing paused: {agent} sees nothing · Ctrl-] p resumes", "paused"
        else:
            text = f"Your terminal is visible to {agent}"
            if level == Level.CONTROL:
                text += " · they can TYPE in it · Ctrl-] r revokes"
            elif level == Level.SUGGEST:
                text += " · they may suggest commands · Ctrl-] r revokes"
            else:
                text += " · view only · Ctrl-] p pauses, Ctrl-] e ends"
            classes = level
        narrow = self.has_class("narrow")
        shared = classes == level
        if narrow and shared:
            text = SHORT_LEVEL[level] + ("" if self.unverified else SHORT_KEYS[level])
        if runtime is not None and runtime.recording.recording and self.phase == Phase.PAIRED:
            text = f"● REC · {text}" if narrow else f"● RECORDING (Ctrl-] x stops) · {text}"
        if narrow and shared and self.unverified:
            text, classes = f"⚠ UNVERIFIED · {text}", "unverified"
        banner = self.query_one("#banner", PlainStatic)
        banner.update(text)
        banner.set_classes(classes)

    def _refresh_side(self) -> None:
        who = self.query_one("#who", PlainStatic)
        if self.phase == Phase.PAIRED:
            state = "connected" if self.peer_present and not self.reconnecting else "connection dropped"
            seen = self.identity
            badge = "" if seen is None else (" ✓ verified" if seen.get("verified") else " ⚠ UNVERIFIED")
            who.update(f"{self.agent_name}{badge} ({state})")
        elif self.phase == Phase.ENDED:
            who.update("nobody (session ended)")
        else:
            who.update("nobody yet")

    def on_unmount(self) -> None:
        if self._loop is not None:
            for sig in (signal.SIGHUP, signal.SIGTERM):
                self._loop.remove_signal_handler(sig)
        if self._frame_handle is not None:
            self._frame_handle.cancel()
            self._frame_handle = None
        if self._pointer_handle is not None:
            self._pointer_handle.cancel()
            self._pointer_handle = None
