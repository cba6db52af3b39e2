"""The agent console: `cobrowse agent` in Textual.

One tab per session. Each session pane owns one worker that runs an
:class:`~cobrowse.io.agent.AgentRuntime`; the runtime reports everything through ``emit``
as typed events, which the pane turns into Textual messages to itself. Widgets
never touch sockets: they call ``runtime.command(...)`` and render what ``emit`` said.

Keys: every app action has a function key (priority bindings, shown in the footer), so
the actions keep working while the agent types into the customer's terminal (typing mode),
where every other key, ctrl+p and ctrl+q included, goes to the customer.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar


from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Input, TabbedContent, TabPane, Tabs

from cobrowse.io.datadir import data_dir
from cobrowse.playbook.catalogue import SAMPLES, Catalogue
from cobrowse.voice.settings import RtcSettings
from cobrowse.wire.proxy import ProxyChoice

from tui.agent_dialogs import (
    ConfirmDialog,
    JoinDialog,
    PlaybookDialog,
    PromptDialog,
    parse_point,
    suggestion_text,
)
from tui.agent_actions import SessionActions
from tui.agent_palette import PALETTE, AgentCommands
from tui.agent_queue import PickedSessionPane, QueuePane
from tui.safe import notify_plain, toast_text
from tui.agent_footer import FittedFooter
from tui.agent_tabbar import TabsMark
from tui.agent_keys import NO_SESSION, SESSION_ACTIONS
from tui.agent_keys import bindings as console_bindings
from tui.agent_session import (
    CONSENT_LABELS,
    STEP_ICONS,
    TYPING_BANNER,
    ChatLog,
    HomePane,
    SessionPane,
    human_bytes,
    human_rate,
)

__all__ = [
    "CONSENT_LABELS", "CSS", "PALETTE", "SESSION_ACTIONS", "STEP_ICONS", "TYPING_BANNER",
    "AgentApp", "AgentCommands", "ChatLog", "ConfirmDialog", "HomePane", "JoinDialog",
    "PlaybookDialog", "PromptDialog", "SessionPane", "default_playbook_dir", "human_bytes",
    "human_rate", "parse_point", "suggestion_text",
]

#: actions that only make sense in a session tab (hidden from the footer elsewhere)
#: How long a new session's tab stays in front against late tab messages (not the agent's keys).
NEW_TAB_HOLD = 1.0

#: What Ctrl-Q does, for the palette and the help panel.
QUIT_HELP = "Quit the console (with a session live, it asks first and ends them)"


def default_playbook_dir() -> Catalogue:
    """The user's playbook library, then the samples shipped with cobrowse."""
    return Catalogue([data_dir() / "playbooks", SAMPLES])


# the app


CSS = """
Screen { layout: vertical; }
#sessions { height: 1fr; }
#sessions > ContentSwitcher { height: 1fr; }
TabPane { padding: 0; height: 1fr; }
Tab.-attention { color: $warning; text-style: bold; }

#home-body { padding: 1 2; }
#home-title { text-style: bold; color: $accent; margin-bottom: 1; }
#relay-note { color: $warning; margin-bottom: 1; }
#home-relay { margin-bottom: 1; }
#home-help { margin-bottom: 1; }
#home-buttons { height: auto; }
#home-buttons Button { margin-right: 2; }

SessionPane { layout: vertical; }
#typing-bar {
    display: none; height: 1; width: 1fr;
    background: $error; color: $text; text-style: bold; content-align: center middle;
}
SessionPane.-typing #typing-bar { display: block; }
#status { height: 1; }
#consent { width: auto; padding: 0 1; text-style: bold; }
#consent.-view { background: $success-muted; color: $text; }
#consent.-suggest { background: $warning; color: $background; }
#consent.-control { background: $error; color: $text; }
#sas { width: auto; padding: 0 1; color: $accent; }
#state { width: 1fr; padding: 0 1; color: $text-muted; }
#sas-line { display: none; height: auto; padding: 0 1; color: $accent; }
SessionPane.-sas-line #sas-line { display: block; }
SessionPane.-sas-line #sas { display: none; }
SessionPane.-ended #state { color: $error; text-style: bold; }
#alert { height: auto; padding: 0 1; background: $error-muted; color: $text; text-style: bold; }
#code-card { height: auto; border: round $primary; padding: 0 1; }
#code-row { height: auto; }
#code-digits { width: auto; color: $accent; }
#code-asked { width: 1fr; height: auto; margin-left: 3; color: $text-muted; }
#body { height: 1fr; }
#mirror-box { width: 1fr; height: 1fr; align: center middle; }
#mirror { width: auto; height: auto; max-width: 100%; max-height: 100%; }
SessionPane.-typing #mirror { border: heavy $error; }
#side { width: 40; height: 1fr; }
#facts { height: auto; border: round $panel-lighten-2; padding: 0 1; color: $text-muted; }
#side-tabs { height: 1fr; }
#side-tabs > ContentSwitcher { height: 1fr; }
#chat { height: 1fr; border: round $panel-lighten-2; }
#steps { height: 1fr; border: round $panel-lighten-2; padding: 0 1; background: $surface; }
#steps-title { margin-bottom: 1; }
#steps-list { height: auto; }
#step-heading { margin-top: 1; color: $accent; }
#step-body { height: auto; margin: 0; padding: 0; background: $surface; }
#step-command { height: auto; }
#team { height: 1fr; border: round $panel-lighten-2; padding: 0 1; background: $surface; }
#team:focus { border: round $accent; }
#team-list { height: auto; }
#chat-log { height: 1fr; background: $surface; }
#chat-input { height: 1; }

Screen.-narrow #body { layout: vertical; }
Screen.-narrow #side { width: 1fr; height: 10; layout: horizontal; }
Screen.-narrow #facts { width: 34; height: 1fr; }
Screen.-narrow #side-tabs { width: 1fr; }
Screen.-narrow #chat { width: 1fr; }
Screen.-narrow SessionPane.-steps-side #facts { display: none; }
Screen.-narrow SessionPane.-team-side #facts { display: none; }
Screen.-narrow #code-card { padding: 0; }
Screen.-low #facts, Screen.-tiny #facts { display: none; }
Screen.-low #side-tabs > ContentTabs, Screen.-tiny #side-tabs > ContentTabs { display: none; }
Screen.-low #chat, Screen.-tiny #chat { border: none; }
Screen.-narrow.-low #side { height: 3; }
Screen.-narrow.-tiny #side { height: 2; }
Screen.-tiny #mirror, Screen.-tiny SessionPane.-typing #mirror { border: none; }
Screen.-low #steps, Screen.-tiny #steps, Screen.-low #team, Screen.-tiny #team { border: none; }
Screen.-narrow.-low SessionPane.-steps-side #side, Screen.-narrow.-low SessionPane.-team-side #side { height: 6; }
Screen.-narrow.-tiny SessionPane.-steps-side #side, Screen.-narrow.-tiny SessionPane.-team-side #side { height: 4; }

JoinDialog, ConfirmDialog, PromptDialog, PlaybookDialog { align: center middle; }
#dialog.-wide { width: 90; max-height: 90%; }
#playbook-list { height: auto; max-height: 14; margin-top: 1; }
#playbook-folder, #playbook-help { color: $text-muted; }
#prompt-error { color: $error; height: auto; }
#dialog {
    width: 64; max-width: 100%; height: auto; padding: 1 2;
    border: thick $primary; background: $surface;
}
.dialog-title { text-style: bold; margin-bottom: 1; }
#join-error { color: $error; height: auto; }
.dialog-buttons { height: auto; margin-top: 1; }
.dialog-buttons Button { margin-right: 2; }
"""


class AgentApp(SessionActions):
    """The agent console."""

    TITLE = "cobrowse agent"
    CSS = CSS
    COMMANDS = App.COMMANDS | {AgentCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    #: Below 20 rows the side panel is the chat's last lines and its input (the facts, the side
    #: tabs' header and the chat's border go; ⇧F1 and the palette still switch the side tabs),
    #: below 13 the mirror loses its border too: at 60×15 the narrow layout's 10-row side panel
    #: left the customer's screen no row at all.
    VERTICAL_BREAKPOINTS = [(0, "-tiny"), (13, "-low"), (20, "-tall")]

    BINDINGS: ClassVar[list[BindingType]] = [
        *console_bindings(),  # tui/agent_keys.py
        # Textual's own, with what the console's quit does (the help panel showed "Quit the app
        # and return to the command prompt", the palette "as soon as possible")
        Binding("ctrl+q", "quit", "Quit", tooltip=QUIT_HELP, show=False, priority=True),
        # Textual's keys panel took 30 of 40 columns and only the palette closed it (fix8)
        Binding("escape", "hide_help_panel", "Close keys", tooltip="Close the keys panel"),
    ]

    #: Predictive local echo in control mode (``--no-predict`` / ``predict = false`` turn it off).
    predict = True

    #: actions that must let their key through to the customer while typing
    KEYS_FOR_THE_CUSTOMER = {"command_palette", "quit", "help_quit", "focus_next", "focus_previous"}

    def __init__(self, relay_url: str, token: str | None, name: str, join_code: str | None = None,
                 relay_note: str | None = None, *, reconnect_for: float = 60.0,
                 playbook_dir: Catalogue | Path | None = None, rtc: RtcSettings | None = None,
                 redact_patterns: tuple[str, ...] = (), identity: Any = None, proxy: ProxyChoice | None = None,
                 queue: bool = False) -> None:
        super().__init__()
        #: Serve the organisation's help queue (a Queue tab: tui/agent_queue.py); needs ``identity``.
        self.queue = queue and identity is not None
        self.proxy = proxy
        self.rtc = rtc
        #: The organisation's redaction patterns, pushed to every customer (docs/privacy.md).
        self.redact_patterns = redact_patterns
        #: The agent's organisation credential (``cobrowse.trust.AgentIdentity``), if configured.
        self.identity = identity
        if isinstance(playbook_dir, Path):
            playbook_dir = Catalogue([playbook_dir])
        #: The playbook library the picker shows (docs/playbooks.md, "The library").
        self.library = playbook_dir if playbook_dir is not None else default_playbook_dir()
        self.relay_url = relay_url
        self.token = token
        self.agent_name = name
        self.join_code = join_code
        self.relay_note = relay_note
        self.reconnect_for = reconnect_for
        self._numbers = itertools.count(1)
        self._new_tab: tuple[str, float] = ("", 0.0)


    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's own "Keys" entry goes: the palette's "Help: keys and shortcuts" opens the
        same panel and is found by "help" too; two entries tied for "keys" came in either order.
        Its "Quit" said "as soon as possible", while ``action_quit`` asks with sessions live."""
        for command in super().get_system_commands(screen):
            if command.title == "Quit":  # Textual's "as soon as possible": this one asks first
                yield command._replace(help=QUIT_HELP)
            elif command.title != "Keys":
                yield command

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every notification is literal text: many quote the customer (tui.safe)."""
        pane = self.current()
        if pane is not None and self._covers_code(pane):
            text = toast_text(f"{title}: {message}" if title else message)
            pane._system(text)  # the code stays readable; escaped as a toast's text is
            if severity != "information":
                self.bell()
            return
        notify_plain(self, message, title=title, severity=severity, timeout=timeout)

    def _covers_code(self, pane: SessionPane) -> bool:
        """Would a toast sit over the code card the agent reads to the customer? Below 20 rows it
        does (at 60×15 the embedded relay's over the digits and "The customer types")."""
        return not pane.screen.has_class("-tall") and bool(pane.query("#code-card")) \
            and pane.query_one("#code-card").display

    def code_shown(self, pane: SessionPane) -> None:
        """A session tab shows its code: toasts already up would cover it on a short console."""
        if pane is self.current() and self._covers_code(pane):
            self.clear_notifications()

    def compose(self) -> ComposeResult:
        with TabbedContent(id="sessions"):
            yield HomePane(self.relay_url, self.relay_note)
            if self.queue:
                yield QueuePane(self.relay_url, self.token, self.identity, self.proxy, self.reconnect_for)
        yield FittedFooter(show_command_palette=False)

    async def on_mount(self) -> None:
        tab_bar = self.tabs.query_children(Tabs).first()
        await tab_bar.mount(TabsMark(tab_bar))
        warning = self.identity.expiry_warning(int(time.time())) if self.identity is not None else None
        if warning:
            self.notify(warning, title="Your credential", severity="warning", timeout=15)
        if self.relay_note:
            title = "Embedded relay" if "started an embedded relay" in self.relay_note else "Relay"
            self.notify(self.relay_note, title=title, timeout=8)
        if self.join_code:
            await self.open_session(join_code=self.join_code)

    # sessions

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one("#sessions", TabbedContent)

    def sessions(self) -> list[SessionPane]:
        return list(self.query(SessionPane))

    def current(self) -> SessionPane | None:
        pane = self.tabs.active_pane
        return pane if isinstance(pane, SessionPane) else None

    async def open_session(self, join_code: str | None = None) -> SessionPane:
        pane = SessionPane(next(self._numbers), self.relay_url, self.token, self.agent_name,
                           join_code=join_code, reconnect_for=self.reconnect_for, rtc=self.rtc,
                           redact_patterns=self.redact_patterns, identity=self.identity, proxy=self.proxy)
        return await self._add_session(pane)

    async def open_picked(self, picked: Any, topic: str) -> SessionPane:
        """A session tab for a customer picked from the help queue."""
        pane = PickedSessionPane(next(self._numbers), self.relay_url, self.token, self.agent_name,
                                 reconnect_for=self.reconnect_for, rtc=self.rtc, redact_patterns=self.redact_patterns,
                                 identity=self.identity, proxy=self.proxy, picked=picked, topic=topic,
                                 org_key_id=self.identity.credential.org_key_id)
        return await self._add_session(pane)

    async def _add_session(self, pane: SessionPane) -> SessionPane:
        await self.tabs.add_pane(pane)
        # Tab messages still queued from mounting (or a focus pulled back to the previous
        # tab) can re-activate another tab on a busy machine: for a moment the new session
        # is where the agent's attention goes, whatever arrives late.
        self._new_tab = (pane.id or "", time.monotonic() + NEW_TAB_HOLD)
        self._bring_forward(pane.id or "")
        self.call_after_refresh(self._show_pane, pane)
        return pane

    def _show_pane(self, pane: SessionPane) -> None:
        if pane.id and pane.is_attached:
            self._bring_forward(pane.id)

    def _bring_forward(self, pane_id: str) -> None:
        """Make ``pane_id`` the front tab, unless the console is closing: a tab added just before
        Ctrl-Q finished mounting after the tab strip was gone, and the exit ended in a traceback."""
        if self.tabs.query_children("ContentTabs"):
            self.tabs.active = pane_id

    def _typing(self) -> bool:
        pane = self.current()
        return pane is not None and pane.typing

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.KEYS_FOR_THE_CUSTOMER and self._typing():
            return False  # the key goes to the customer's terminal
        if action in SESSION_ACTIONS and self.current() is None:
            return False  # not in the footer of the home tab: its key runs NO_SESSION instead
        if action == NO_SESSION:
            return self.current() is None
        if action == "hide_help_panel":  # only while it shows; typing, Escape is the customer's
            return bool(self.screen.query("HelpPanel")) and not self._typing()
        return True

    def action_no_session(self) -> None:
        """A session key pressed with no session in front: say so (the footer does not offer it)."""
        self._need_session()

    @on(TabbedContent.TabActivated, "#sessions")
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        wanted, until = self._new_tab
        if wanted and event.pane is not None and event.pane.id != wanted and time.monotonic() < until:
            self._bring_forward(wanted)  # a late message, not the agent: keep the new session in front
            return
        for pane in self.sessions():
            if pane is not event.pane and pane.typing:
                pane.set_typing(False)  # never type into a session you are not looking at
        focused = self.focused if self.screen_stack else None  # none while the console shuts down
        if focused is not None and event.pane is not None and event.pane not in focused.ancestors:
            # a focused widget in a hidden tab would pull its tab back to the front
            self.set_focus(None)
        if isinstance(event.pane, SessionPane):
            event.pane.clear_attention()
            self.call_after_refresh(self._focus_chat, event.pane)
        if isinstance(event.pane, QueuePane):
            self.call_after_refresh(self._focus_queue, event.pane)
        if self.screen_stack:
            self.refresh_bindings()

    def _focus_queue(self, pane: QueuePane) -> None:
        """On the Queue tab the keys move through the waiting customers and Enter picks (focus
        was nowhere: Down and Enter did nothing until two Tabs reached the list)."""
        if self.tabs.active == pane.id:
            pane.query_one("#queue-list").focus()

    def _focus_chat(self, pane: SessionPane) -> None:
        # Focusing inside a pane activates its tab: only for the tab still active.
        if self.tabs.active != pane.id or pane.typing:
            return
        if pane.query_one("#side-tabs", TabbedContent).active != "chat-tab":
            return  # focusing the chat would switch the side panel away from the steps
        for chat in pane.query("#chat-input").results(Input):
            if chat.disabled:
                pane.mirror.focus()
            else:
                chat.focus()

    # actions

    async def action_new_session(self) -> None:
        await self.open_session()

    def action_join_code(self) -> None:
        async def joined(code: str | None) -> None:
            if code:
                await self.open_session(join_code=code)

        self.push_screen(JoinDialog(), joined)

    def action_show_history(self) -> None:
        """Past sessions and their statistics, from the local history."""
        from tui.history_screen import HistoryScreen

        if not isinstance(self.screen, HistoryScreen):
            self.push_screen(HistoryScreen())

    def _cycle(self, step: int) -> None:
        ids = [pane.id for pane in self.tabs.query(TabPane)
               if pane.id and isinstance(pane, (HomePane, QueuePane, SessionPane))]
        if len(ids) < 2:
            return
        index = ids.index(self.tabs.active) if self.tabs.active in ids else 0
        self._new_tab = ("", 0.0)  # the agent chose a tab
        self.tabs.active = ids[(index + step) % len(ids)]

    def action_next_session(self) -> None:
        self._cycle(1)

    def action_previous_session(self) -> None:
        self._cycle(-1)

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def action_toggle_help_panel(self) -> None:
        """The palette's "Help: keys and shortcuts": the keys panel, shown or hidden."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_help_quit(self) -> None:
        """Ctrl-C: Textual's hint carries markup, which this console's literal notices would show."""
        keys = [key for key, active in self.active_bindings.items() if active.binding.action in ("quit", "app.quit")]
        if keys:
            self.notify(f"Press {keys[0]} to quit the console (it asks first if a session is live).",
                        title="Do you want to quit?")

    def action_open_palette(self) -> None:
        self.action_command_palette()

    async def action_quit(self) -> None:
        live = [pane for pane in self.sessions() if not pane.ended]
        if not live:
            self.exit()
            return

        async def answered(yes: bool | None) -> None:
            if yes:
                await self.end_all()
                self.exit()

        count = "1 live session" if len(live) == 1 else f"{len(live)} live sessions"
        self.push_screen(ConfirmDialog(f"End {count} and quit?", yes="End and quit"), answered)

    async def end_all(self) -> None:
        """Tell every live session's customer we are leaving (bounded)."""
        live = [p.runtime for p in self.sessions() if p.runtime is not None and p.runtime.outcome is None]
        if not live:
            return
        try:
            async with asyncio.timeout(3):
                await asyncio.gather(*(r.end("agent_ended") for r in live), return_exceptions=True)
        except TimeoutError:
            pass
