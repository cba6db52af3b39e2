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
import math
import logging
import signal
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

from textual import events, on
from textual.app import ComposeResult, ScreenStackError
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.notifications import Notification, Notify, SeverityLevel
from textual.widgets import Button, Digits, Input, Markdown, RichLog

from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.customer_session import CustomerSession
from cobrowse.io.pty import PtyProcess
from cobrowse.voice.settings import RtcSettings
from cobrowse.io.runtime import Outcome
from cobrowse.playbook import Playbook
from cobrowse.policy.customer_events import Level
from cobrowse.trust.tripwire import COOLDOWN
from cobrowse.wire.code import Code
from cobrowse.wire.proxy import ProxyChoice
from cobrowse.i18n.text import Translated, current
from cobrowse.plain.keymap import Front, command_for, rewrite, unknown_key
from cobrowse.plain.layouts import us_key
from tui.safe import PlainStatic, notify_plain, toast_text
from tui.customer_screens import HelpScreen, PreviewScreen, prefix_help
from tui.widgets.call_bar import CallBar
from tui.widgets.remote_screen import RemoteScreen

from tui.customer_queue import LEAVE_KEYS
from tui.customer_pointer import TeamPointer
from tui.customer_texts import (CONFIRM_CONTROL, CONNECTING, REMOVE_WHICH, SUGGESTED, button_label, fit_toast, level_text,
                                status_hint, wrapped_rows)
from tui.customer_view import (HELP_KEY, MAX_TOASTS, NARROW, PREFIX, PREFIX_KEYS, TOAST_FRAME, TOAST_RACK_BAR, TOAST_ROOM,
                               TOAST_WIDTH, Phase)
from tui.widgets.shell_pane import ChatInput, ShellPane

if TYPE_CHECKING:
    from cobrowse.cli.help import HelpRequest, QueueWait
    from cobrowse.io.early_join import EarlyJoin

__all__ = ["HELP_KEY", "CustomerApp", "ShellPane", "prefix_help"]

logger = logging.getLogger(__name__)


def _key_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return ""


class ChatLogView(RichLog):
    """The chat log: at its end before the window changed size, at its end after (it kept its
    offset, and showed older lines once the window was smaller)."""

    keep_end = False

    def on_resize(self, event: events.Resize) -> None:
        super().on_resize(event)
        if self.keep_end:
            self.keep_end = False
            self.scroll_end(animate=False, immediate=True)


class CustomerApp(TeamPointer, inherit_bindings=False):
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
                 control_cooldown: float = COOLDOWN, proxy: ProxyChoice | None = None,
                 help_request: HelpRequest | None = None, early: EarlyJoin | None = None) -> None:
        super().__init__()
        #: The session already opening (``cobrowse join``/``share``: cobrowse/io/early_join.py), to take over.
        self.early = early
        #: ``cobrowse help``: wait in this organisation's queue instead of using a code.
        self.help_request = help_request
        self.queue_wait: QueueWait | None = None
        self.left_queue: str | None = None
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
        tr = current()
        self.agent_name = tr("the agent")
        self.call_agent = ""  # a team: the agent the call is with, as its voice events name it
        self.phase = Phase.CONNECTING
        self.peer_present = False
        self.viewers: list[dict[str, Any]] = []
        self.team_toasts: list[str] = []
        self.reconnecting = False
        self.reconnecting_direct = False
        self.held_toasts: list[Notification] = []
        #: Below 80 columns (one toast at a time): what waits for the SAS words' toast to go.
        self.after_sas: list[Notification] = []
        self._making_way = False  # older toasts go for a new one (not: their time is up)
        #: Toast titles whose newest toast replaces the one before (a guide's step card).
        self.superseding: set[str] = set()
        #: What the latest toasts show, by their whole text (a cut one is found again to dismiss it).
        self.toasts_shown_as: dict[str, str] = {}
        self.prefix_armed = False
        #: The loop's time of the customer's last key to their program (the pane's pace).
        self.typed_at = -math.inf
        self.outcome: Outcome | None = None
        #: Plain-text copy of the chat/activity log (what the side panel shows).
        self.log_lines: list[str] = []
        self._last_notice: str | None = None
        self._pane_size: tuple[int, int] | None = None
        self._pane_sized = asyncio.Event()
        self._frame_handle: asyncio.TimerHandle | None = None
        self._last_frame = 0.0
        self._unfed = 0
        self._last_output = 0.0
        self._prompt_timer: Any = None
        #: When the tripwire's "not yet" on the consent bar is over (runtime clock), or None.
        self._not_yet_until: float | None = None
        self._prompt_id: int | None = None  # the question the consent bar shows
        self._call_timer: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Why the customer's terminal went away (a signal, a hang-up), once it did.
        self.terminal_gone: str | None = None

    # -- layout --------------------------------------------------------------------------

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every notification is literal text: most quote the agent (tui.safe), cut to the
        rows under the banner (``fit_toast``). Which older toasts make way is decided as each
        one arrives (``_on_notify``): two notices of one moment ("connected", "UNVERIFIED")
        are both still in Textual's queue here."""
        if title in self.superseding:  # a held step card is stale too
            self.held_toasts = [held for held in self.held_toasts if held.title != title]
        if self.has_class("asking") and title != current()(CONFIRM_CONTROL):  # after the question (_asking)
            self.held_toasts = [*self.held_toasts, Notification(message, title, severity, timeout or 5)][-MAX_TOASTS:]
            return
        text_width, room = self._toast_room()
        message = rewrite(message)  # the configured keys
        message = message if isinstance(message, Translated) else toast_text(message)  # what it will show
        key = toast_text(message)
        message = fit_toast(message, text_width, room - TOAST_FRAME[1])
        self.toasts_shown_as = {**dict(list(self.toasts_shown_as.items())[-15:]), key: toast_text(message)}
        notify_plain(self, message, title=title, severity=severity, timeout=timeout)

    def _toast_room(self) -> tuple[int, int]:
        """A toast's text columns, and the rows toasts may take (below the banner, above the
        status line and the rack's margin)."""
        width, height = self.size
        rack = width - TOAST_RACK_BAR
        text_width = (rack if self.has_class("narrow") else min(TOAST_WIDTH, rack // 2)) - TOAST_FRAME[0]
        return text_width - 1, height - TOAST_ROOM  # a spare column

    def _on_notify(self, event: Notify) -> None:
        """At most MAX_TOASTS at once (one below 80 columns), the oldest going first while the
        newest would not fit under the banner: the newest is the one that matters, and a pile
        of old ones must not cover the shell or hide it. A newer step card or pointer replaces
        the one before."""
        new = event.notification
        text_width, room = self._toast_room()

        def rows(notification: Notification) -> int:
            return len(wrapped_rows(str(notification.message), text_width)) + TOAST_FRAME[1]

        shown = list(self._notifications)
        keep = (1 if self.has_class("narrow") else MAX_TOASTS) - 1
        self._making_way = True
        try:
            for old in shown:
                others = list(self._notifications)
                if (old.title == new.title and new.title in self.superseding) or len(others) > keep \
                        or sum(map(rows, others)) + rows(new) > room:
                    self._unnotify(old, refresh=False)
        finally:
            self._making_way = False
        super()._on_notify(event)

    def _unnotify(self, notification: Notification, refresh: bool = True) -> None:
        """A toast that goes (its time is up, or a newer one took its place) is repainted
        away: the shell under it is drawn again whole. Without it, the toast's last picture
        could stay on the customer's screen until something else redrew those cells (seen in
        tmux after a burst of warnings: 'connected' still shown a minute later)."""
        super()._unnotify(notification, refresh)
        self.call_after_refresh(self._repaint_under_toasts)
        if notification.title == current()("connected"):
            self.sas_on_show = False
        if self.after_sas and not self._making_way and not self._notifications:  # gone by itself, none left
            waiting, self.after_sas = self.after_sas, []
            for later in waiting:
                self.notify(later.message, title=later.title, severity=later.severity, timeout=later.timeout)

    def _repaint_under_toasts(self) -> None:
        with contextlib.suppress(ScreenStackError):
            self.screen.refresh(repaint=True)

    def compose(self) -> ComposeResult:
        tr = current()
        yield PlainStatic(tr(CONNECTING), id="banner", classes="waiting")
        yield PlainStatic(status_hint(tr), id="status")
        # The shell owns everything between the two status lines; the rest opens OVER it
        # (the overlay layer) and never resizes the pty.
        yield ShellPane(id="shell", control=True, control_tag=rewrite(tr(" your terminal · Ctrl-] ? for cobrowse ")))
        with Vertical(id="top"):
            with Vertical(id="consent-bar"):
                yield PlainStatic("", id="consent-text")
                with Horizontal(id="consent-buttons"):
                    yield Button(button_label("allow", tr), id="allow", variant="error", compact=True)
                    yield Button(button_label("deny", tr), id="deny", variant="primary", compact=True)
                yield PlainStatic("", id="consent-countdown")  # a row of its own: never cut beside the buttons
            yield CallBar(id="call-bar")
            with Vertical(id="queue"):
                yield PlainStatic("", id="queue-title")
                yield PlainStatic("", id="queue-position")
                yield PlainStatic("", id="queue-topic")
                yield PlainStatic("", id="queue-offers")
                yield PlainStatic("", id="queue-hint")
            with Vertical(id="waiting"):
                yield PlainStatic(tr("Read this code to your agent:"), id="waiting-title")
                yield Digits("", id="code-digits")
                yield PlainStatic("", id="code-spoken")
                yield PlainStatic("", id="code-how")
        with Vertical(id="side", classes="collapsed"):
            with Vertical(id="panel-info"):  # hidden while the chat is open alone
                yield PlainStatic("", id="identity")
                yield PlainStatic(tr("Who is connected"), classes="heading")
                yield PlainStatic(tr("nobody yet"), id="who")
                yield PlainStatic("", id="session-code")
                yield PlainStatic(tr("Compare with the agent"), classes="heading session-only")
                yield PlainStatic(tr("(after connecting)"), id="sas", classes="session-only")
                yield PlainStatic(tr("What the agent may do"), classes="heading session-only")
                yield PlainStatic(level_text(Level.VIEW, tr), id="level", classes="view session-only")
                with Horizontal(classes="button-row first session-only"):
                    yield Button(button_label("grant-control", tr), id="grant-control", compact=True)
                    yield Button(button_label("grant-suggest", tr), id="grant-suggest", compact=True)
                with Horizontal(classes="button-row session-only"):
                    yield Button(button_label("revoke", tr), id="revoke", variant="warning", compact=True)
                    yield Button(button_label("pause", tr), id="pause", compact=True)
                with Horizontal(classes="button-row session-only"):
                    yield Button(button_label("preview", tr), id="preview", compact=True)
                    yield Button(button_label("end", tr), id="end", variant="error", compact=True)
                with Horizontal(classes="button-row session-only"):
                    yield Button(button_label("call", tr), id="call", compact=True)
                with Vertical(id="guide"):
                    yield PlainStatic(tr("Guide"), classes="heading", id="guide-title")
                    yield PlainStatic("", id="steps-list")
                    yield PlainStatic("", id="step-command")
                    with VerticalScroll(id="step-detail"):
                        yield Markdown("", id="step-body", open_links=False)
            yield PlainStatic(tr("Chat"), classes="heading")
            yield ChatLogView(id="chat-log", wrap=True, markup=False, highlight=False, min_width=10)
            yield ChatInput(placeholder=rewrite(tr("message the agent (Ctrl-] c)")), id="chat-input")

    def on_mount(self) -> None:
        self._loop = asyncio.get_running_loop()
        for button in self.query(Button):
            button.can_focus = False  # a click must not take the keyboard from the shell
        self.query_one("#chat-log", RichLog).can_focus = False
        self.set_class(self.size.width < NARROW, "narrow")
        if self.guide is not None:  # no session yet: the session's parts of the panel wait
            self.query_one("#side").add_class("alone")
        self._show_status()
        shell = self.query_one("#shell", ShellPane)
        tr = current()
        shell.set_placeholder(tr("Starting…") if self.guide is not None else tr(CONNECTING))
        shell.focus()
        self._watch_terminal()
        self._run_session()

    def on_resize(self, event: events.Resize) -> None:
        log = self.query_one("#chat-log", ChatLogView)
        log.keep_end = log.scroll_y >= log.max_scroll_y  # at its end (the layout is the old one yet)
        narrow = event.size.width < NARROW
        if narrow != self.has_class("narrow"):
            self.set_class(narrow, "narrow")
        self._refresh_banner(event.size.width)  # the long sentence or the short one, by the width
        self._show_status(event.size.width)
        self._fit_consent_bar(event.size.width, event.size.height)

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
        if data in LEAVE_KEYS and self.leave_queue():
            return
        if self.process is not None:
            self.typed_at = asyncio.get_running_loop().time()
            self.process.write(data)

    def _arm(self, armed: bool) -> None:
        self.prefix_armed = armed
        status = self.query_one("#status", PlainStatic)
        status.set_class(armed, "armed")
        self._show_status()

    async def _prefix_key(self, data: bytes) -> None:
        if data == PREFIX:
            if self.process is not None:
                self.process.write(PREFIX)
            return
        key = _key_text(data)
        if key in ("\x1b", "\x03"):
            return  # cancelled
        key = key.lower() if len(key) == 1 else key
        if len(key) == 1 and not key.isascii():  # a letter of another layout: the key in its place (Ctrl-] н is y)
            key = us_key(key, current().language) or key
        own = command_for(key, Front.APP, guide=True)  # the keys are configurable (plain/keymap.py)
        if own == "end" and self.leave_queue():
            return
        if own == "chat":
            self.action_focus_chat()
        elif own == "toggle_panel":
            self.action_toggle_panel()
        elif own == "preview":
            self.action_preview()
        elif own == "help":
            self.action_help()
        elif key in PREFIX_KEYS:
            await self.run_customer_command(PREFIX_KEYS[key])
        else:
            tr = current()
            self.notify(unknown_key(Front.APP, guide=self.guide is not None), title=tr("unknown cobrowse key"),
                        severity="warning")

    # -- actions -------------------------------------------------------------------------

    async def run_customer_command(self, name: str, text: str = "") -> None:
        """Run a CustomerRuntime command (allow, deny, grant_control, grant_suggest, revoke,
        pause, end, chat); a no-op with a notice before the session exists."""
        runtime = self.runtime
        if runtime is None or self.outcome is not None:
            tr = current()
            self.notify(tr("not connected yet"), severity="warning")
            return
        if name == "hangup":
            self.hung_up_here = True  # the call's end is the customer's own: no toast for it
        await runtime.run_command(name, text)
        if name in ("paste_suggestion", "decline_suggestion"):
            self._dismiss(current()(SUGGESTED))
        elif name in ("allow", "deny"):  # answered the choice of an agent to remove, or a question after it
            self._dismiss(current()(REMOVE_WHICH))
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
