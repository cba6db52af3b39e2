"""The agent console: `cobrowse agent` in Textual.

One tab per session. Each session pane owns one worker that runs an
:class:`~cobrowse.io.agent.AgentRuntime`; the runtime reports everything through ``emit``
as headless-style dicts, which the pane turns into Textual messages to itself. Widgets
never touch sockets: they call ``runtime.command(...)`` and render what ``emit`` said.

Keys: every app action has a function key (priority bindings, shown in the footer), so
the actions keep working while the agent types into the customer's terminal (typing mode),
where every other key, ctrl+p and ctrl+q included, goes to the customer.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from functools import partial
from pathlib import Path
from typing import Any, Callable, ClassVar

import platformdirs

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    Digits,
    Footer,
    Input,
    Label,
    Markdown,
    OptionList,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets.option_list import Option

import cobrowse

from cobrowse.cli.config import DEFAULT_RELAY
from cobrowse.errors import CobrowseError, InvalidCode, SecurityError
from cobrowse.io.agent import AgentRuntime, CommandError
from cobrowse.io.link import RelayLink
from cobrowse.playbook.library import Library, LibraryEntry
from cobrowse.wire.code import Code, parse_code
from tui.widgets.remote_screen import RemoteScreen

CONSENT_LABELS = {
    "view": "VIEW ONLY",
    "suggest": "SUGGEST",
    "control": "CONTROL GRANTED",
}
TYPING_BANNER = "TYPING INTO CUSTOMER'S TERMINAL — F12 to stop"

#: (title, help, action) of every palette entry; the actions live on AgentApp.
PALETTE: list[tuple[str, str, str]] = [
    ("New session", "Create a session and get a code to read to the customer (F2)", "new_session"),
    ("Join by code", "Join a session the customer created with `cobrowse share` (F3)", "join_code"),
    ("Copy code", "Copy this session's code to the clipboard (F5)", "copy_code"),
    ("Request control", "Ask the customer for control of their terminal (F4)", "request_control"),
    ("Toggle typing", "Type into the customer's terminal, once they granted control (F12)", "toggle_typing"),
    ("End session", "End this session, after a confirmation (F8)", "end_session"),
    ("Next session", "Switch to the next session tab (F7)", "next_session"),
    ("Previous session", "Switch to the previous session tab (F6)", "previous_session"),
    ("Push playbook…", "Pick a playbook from the library and start it in this session (F1)", "push_playbook"),
    ("Step done", "Mark the current step done (F10)", "step_done"),
    ("Skip step", "Mark the current step skipped (F11)", "step_skip"),
    ("Step back", "Go back to the previous step (shift+F10)", "step_back"),
    ("Suggest command…", "Offer a command the customer can paste at their prompt (shift+F2)", "suggest_command"),
    ("Point at…", "Highlight rows or a pattern on the customer's screen (shift+F3)", "point_at"),
    ("Clear pointer", "Remove the highlight from the customer's screen (shift+F4)", "clear_pointer"),
    ("Show steps / chat", "Switch the side panel between the steps and the chat (shift+F1)", "toggle_steps"),
    ("Toggle dark/light theme", "Switch between the dark and the light theme", "toggle_theme"),
]

#: actions that only make sense in a session tab (hidden from the footer elsewhere)
SESSION_ACTIONS = {"push_playbook", "step_done", "step_skip", "step_back", "suggest_command", "point_at",
                   "clear_pointer", "toggle_steps"}

STEP_ICONS = {
    "pending": ("○", "dim"),
    "active": ("▶", "bold yellow"),
    "done": ("✔", "green"),
    "skipped": ("↷", "dim italic"),
    "failed": ("✘", "bold red"),
}


def default_playbook_dir() -> Path:
    """The user's playbook library, else the samples next to the package (a source checkout)."""
    folder = Path(platformdirs.user_data_dir("cobrowse")) / "playbooks"
    if folder.is_dir():
        return folder
    samples = Path(cobrowse.__file__).resolve().parents[1] / "playbooks"
    return samples if samples.is_dir() else folder


def parse_point(text: str) -> dict[str, Any]:
    """'3-5' or '3' (1-based rows, as people count) -> a point command with 0-based rows;
    anything else is a regex. Raise ValueError with a readable reason."""
    text = text.strip()
    if not text:
        raise ValueError("type a row range like 3-5, a row like 7, or a pattern")
    match = re.fullmatch(r"(\d+)\s*(?:-\s*(\d+))?", text)
    if match:
        first = int(match[1])
        last = int(match[2]) if match[2] else first
        if first < 1 or last < 1:
            raise ValueError("rows count from 1 (the top row of the customer's screen)")
        if first > 1000 or last > 1000:
            raise ValueError("rows go up to 1000")
        first, last = min(first, last), max(first, last)
        return {"cmd": "point", "rows": [first - 1, last - 1]}
    if len(text) > 500:
        raise ValueError("a pattern is at most 500 characters")
    try:
        re.compile(text)
    except re.error as exc:
        raise ValueError(f"not a valid regex: {exc}") from None
    return {"cmd": "point", "pattern": text}


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


class AgentCommands(Provider):
    """Command palette entries for every console action."""

    async def discover(self) -> Hits:
        for title, help_text, action in PALETTE:
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in PALETTE:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self.app.run_action, action), help=help_text)


class ChatLog(VerticalScroll):
    """Chat and session notes; one Static per entry, so text reflows when the pane resizes
    (a RichLog wraps at the width it had when written, which is tiny in a hidden tab)."""

    MAX_ENTRIES = 500

    def on_mount(self) -> None:
        self.anchor()

    def write(self, text: Text) -> None:
        entries = self.query(".entry")
        if len(entries) >= self.MAX_ENTRIES:
            entries.first().remove()
        self.mount(Static(text, classes="entry"))

    def plain(self) -> str:
        """The log as text, one entry a line (tests)."""
        return "\n".join(getattr(e.content, "plain", str(e.content)) for e in self.query(".entry").results(Static))


# dialogs


class JoinDialog(ModalScreen[str | None]):
    """Ask for the code a customer read out (they ran `cobrowse share`)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Join a customer's session", classes="dialog-title")
            yield Label("Type the code the customer reads to you (they ran `cobrowse share`):")
            yield Input(placeholder="42-7193-0518", id="join-input")
            yield Label("", id="join-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Join", variant="primary", id="join-ok")
                yield Button("Cancel", id="join-cancel")

    def on_mount(self) -> None:
        self.query_one("#join-input", Input).focus()

    def _submit(self) -> None:
        text = self.query_one("#join-input", Input).value
        try:
            code = parse_code(text)
        except InvalidCode as exc:
            self.query_one("#join-error", Label).update(str(exc))
            return
        self.dismiss(str(code))

    @on(Input.Submitted, "#join-input")
    def _submitted(self) -> None:
        self._submit()

    @on(Button.Pressed, "#join-ok")
    def _ok(self) -> None:
        self._submit()

    @on(Button.Pressed, "#join-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question; Escape and "n" answer no."""

    BINDINGS = [Binding("escape,n", "no", "No"), Binding("y", "yes", "Yes")]

    def __init__(self, question: str, yes: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question, classes="dialog-title")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (y)", variant="error", id="confirm-yes")
                yield Button("Cancel (n)", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed, "#confirm-yes")
    def action_yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def action_no(self) -> None:
        self.dismiss(False)


class PromptDialog(ModalScreen[Any]):
    """One line of text, checked by ``parse`` (which raises ValueError with the reason);
    dismissed with what ``parse`` returned, or None on Escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, help_text: str, value: str = "", *, placeholder: str = "",
                 ok: str = "OK", parse: Callable[[str], Any] | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.help_text = help_text
        self.value = value
        self.placeholder = placeholder
        self.ok = ok
        self.parse = parse

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Label(self.help_text)
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input")
            yield Label("", id="prompt-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.ok, variant="primary", id="prompt-ok")
                yield Button("Cancel", id="prompt-cancel")

    def on_mount(self) -> None:
        self.query_one("#prompt-input", Input).focus()

    def _submit(self) -> None:
        text = self.query_one("#prompt-input", Input).value
        try:
            result = self.parse(text) if self.parse is not None else text
        except ValueError as exc:
            self.query_one("#prompt-error", Label).update(str(exc))
            return
        self.dismiss(result)

    @on(Input.Submitted, "#prompt-input")
    def _submitted(self) -> None:
        self._submit()

    @on(Button.Pressed, "#prompt-ok")
    def _ok(self) -> None:
        self._submit()

    @on(Button.Pressed, "#prompt-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def suggestion_text(text: str) -> str:
    command = text.strip("\n")
    if not command.strip():
        raise ValueError("type the command to suggest")
    if "\n" in command:
        raise ValueError("one line only: the customer pastes it at their prompt")
    if len(command) > 4096:
        raise ValueError("at most 4096 characters")
    return command


class PlaybookDialog(ModalScreen[Path | None]):
    """The playbook library: search, pick one, Enter pushes it. Invalid files are listed
    with their error so their author sees what to fix, but cannot be picked."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "move(1)", "Down", show=False),
        Binding("up", "move(-1)", "Up", show=False),
    ]

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.library = Library(folder)
        self.entries: list[LibraryEntry] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="-wide"):
            yield Label("Push a playbook to the customer", classes="dialog-title")
            yield Label(f"Library: {self.library.folder}", id="playbook-folder")
            yield Input(placeholder="search titles, steps, file names", id="playbook-search")
            yield OptionList(id="playbook-list")
            yield Label("Enter pushes the highlighted playbook · Esc cancels", id="playbook-help")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#playbook-search", Input).focus()

    def _fill(self, query: str) -> None:
        try:
            self.entries = self.library.search(query)
        except OSError as exc:
            self.entries = []
            self.app.notify(f"cannot read the playbook library: {exc}", severity="error")
        options = self.query_one("#playbook-list", OptionList)
        options.clear_options()
        for index, entry in enumerate(self.entries):
            if entry.valid:
                steps = "1 step" if entry.steps == 1 else f"{entry.steps} steps"
                prompt = Text.assemble((entry.title, "bold"), f"  ({steps}) ", (entry.path.name, "dim"))
            else:
                prompt = Text.assemble((f"{entry.path.name}  invalid: ", "bold red"), (entry.error or "", "red"))
            options.add_option(Option(prompt, id=str(index), disabled=not entry.valid))
        if not self.entries:
            empty = "no playbook matches" if query.strip() else f"no playbooks in {self.library.folder}"
            options.add_option(Option(Text(empty, style="dim italic"), disabled=True))
        self._first_valid()

    def _first_valid(self) -> None:
        options = self.query_one("#playbook-list", OptionList)
        for index, entry in enumerate(self.entries):
            if entry.valid:
                options.highlighted = index
                return
        options.highlighted = None

    @on(Input.Changed, "#playbook-search")
    def _search(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def action_move(self, step: int) -> None:
        options = self.query_one("#playbook-list", OptionList)
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def _pick(self, index: int | None) -> None:
        if index is None or not 0 <= index < len(self.entries):
            self.app.notify("No playbook to push here: pick a valid one.", severity="warning")
            return
        entry = self.entries[index]
        if not entry.valid:
            self.app.notify(f"This playbook is invalid: {entry.error}", severity="warning")
            return
        self.dismiss(entry.path)

    @on(Input.Submitted, "#playbook-search")
    def _submitted(self) -> None:
        self._pick(self.query_one("#playbook-list", OptionList).highlighted)

    @on(OptionList.OptionSelected, "#playbook-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(event.option_index)

    def action_cancel(self) -> None:
        self.dismiss(None)


# the home tab


class HomePane(TabPane):
    def __init__(self, relay_url: str, relay_note: str | None) -> None:
        super().__init__("Start", id="home")
        self.relay_url = relay_url
        self.relay_note = relay_note

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="home-body"):
            yield Static("cobrowse agent console", id="home-title")
            if self.relay_note:
                yield Static(self.relay_note, id="relay-note")
            yield Static(f"Relay: {self.relay_url}", id="home-relay")
            yield Static(
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
                 join_code: str | None = None, reconnect_for: float = 60.0) -> None:
        self.number = number
        self.base_title = f"#{number}"
        super().__init__(self.base_title, id=f"session-{number}")
        self.relay_url = relay_url
        self.token = token
        self.agent_name = agent_name
        self.join_code = join_code
        self.reconnect_for = reconnect_for
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
        yield Static(TYPING_BANNER, id="typing-bar")
        with Horizontal(id="status"):
            yield Static(CONSENT_LABELS["view"], id="consent", classes="-view")
            yield Static("", id="sas")
            yield Static(self.state, id="state")
        yield Static("", id="alert")
        with Vertical(id="code-card"):
            yield Static("Read this code to the customer (F5 copies it):", id="code-intro")
            yield Digits("", id="code-digits")
            yield Static("", id="code-spoken")
            yield Static("", id="code-command")
        with Horizontal(id="body"):
            yield RemoteScreen(id="mirror")
            with Vertical(id="side"):
                yield Static("", id="facts")
                with TabbedContent(id="side-tabs", initial="chat-tab"):
                    with TabPane("Chat", id="chat-tab"):
                        with Vertical(id="chat"):
                            yield ChatLog(id="chat-log")
                            yield Input(placeholder="message to the customer (Enter sends)", id="chat-input",
                                        compact=True)
                    with TabPane("Steps", id="steps-tab"):
                        with VerticalScroll(id="steps"):
                            yield Static("No playbook yet: F1 pushes one from the library.", id="steps-title")
                            yield Static("", id="steps-list")
                            yield Static("", id="step-heading")
                            yield Markdown("", id="step-body")
                            yield Static("", id="step-command")

    def on_mount(self) -> None:
        self.query_one("#code-card").display = False
        self.query_one("#alert").display = False
        self.mirror.set_placeholder("waiting for the customer to join…")
        self._render_facts()
        self.set_interval(1.0, self._sample)
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
            link = RelayLink(self.relay_url, "agent", self.token, reconnect_for=self.reconnect_for)
            runtime = AgentRuntime(link, self._emit, name=self.agent_name)
            self.link, self.runtime = link, runtime
            if self.join_code is not None:
                code = parse_code(self.join_code)
                self.code = code
                await runtime.join(code)
                self._emit({"event": "joined", "code": str(code)})
            else:
                code = await runtime.create()
                self._emit({"event": "code", "code": str(code), "spoken": code.spoken(),
                            "customer_command": self.customer_command(code), "relay": self.relay_url})
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
        if kind in ("chat", "consent", "ended", "paired", "error", "sharing", "peer", "steps", "suggestion"):
            self.flag_attention()

    def _on_code(self, event: dict[str, Any]) -> None:
        code = self.runtime.code if self.runtime else None
        self.code = code
        self.query_one("#code-digits", Digits).update(event["code"])
        self.query_one("#code-spoken", Static).update(f"Say it as: {event['spoken']}")
        self.query_one("#code-command", Static).update(
            Text.assemble("The customer types:  ", (event["customer_command"], "bold")))
        self.query_one("#code-card").display = True
        self._set_title(event["code"])
        self._set_state("waiting for the customer to join…")
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
        self.query_one("#sas", Static).update(Text.assemble("SAS ", (self.sas, "bold")))
        self.mirror.set_placeholder("connected: waiting for the customer's screen…")
        self._set_state("connected: compare the SAS words by voice")
        self._system(f"connected. Compare these words with the customer by voice: {self.sas}")
        self._render_facts()

    def _on_hello(self, event: dict[str, Any]) -> None:
        self.customer_name = event.get("name") or ""
        if self.customer_name:
            self._set_title(f"{self.customer_name}")
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
        self._render_status_extra()

    def _on_chat(self, event: dict[str, Any]) -> None:
        who = self.customer_name or "customer"
        self.chat_log.write(Text.assemble((f"{who}: ", "bold magenta"), event.get("text", "")))

    def _on_consent(self, event: dict[str, Any]) -> None:
        level = event.get("level", "view")
        previous, self.consent = self.consent, level
        badge = self.query_one("#consent", Static)
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
            self._set_state("connected")
            self._system("the customer is back")

    def _on_connection(self, event: dict[str, Any]) -> None:
        if event.get("state") == "reconnecting":
            self.link_state = f"reconnecting (attempt {event.get('attempt')})"
            self._set_state("lost the relay; reconnecting…")
        else:
            self.link_state = "connected"
            self._set_state("connected" if event.get("peer") else "reconnected; waiting for the customer…")
        self._render_facts()

    def _on_warning(self, event: dict[str, Any]) -> None:
        self._system(f"warning: {event.get('message', '')}")

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
        self.query_one("#steps-title", Static).update(title)
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
        self.query_one("#steps-list", Static).update(lines)
        heading = self.query_one("#step-heading", Static)
        body = self.query_one("#step-body", Markdown)
        command = self.query_one("#step-command", Static)
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
        tab.label = label
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
        self.query_one("#state", Static).update(text)

    def _alert(self, text: str) -> None:
        alert = self.query_one("#alert", Static)
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
            f"path      relay · rtt {self._rtt_text()}",
            f"relay     {self.relay_url}",
            f"link      {self.link_state}",
            f"in        {human_rate(self.rate_in)} ({human_bytes(received)})",
            f"out       {human_rate(self.rate_out)} ({human_bytes(sent)})",
        ]
        return "\n".join(lines)

    def _rtt_text(self) -> str:
        rtt = self.runtime.rtt_ms if self.runtime is not None else None
        return "n/a" if rtt is None else f"{rtt:.1f} ms"

    def _render_facts(self) -> None:
        self.query_one("#facts", Static).update(self.facts_text())

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
        await self.command({"cmd": "end"})

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
SessionPane.-ended #state { color: $error; text-style: bold; }
#alert { height: auto; padding: 0 1; background: $error-muted; color: $text; text-style: bold; }
#code-card { height: auto; border: round $primary; padding: 0 1; }
#code-digits { width: auto; color: $accent; }
#body { height: 1fr; }
#mirror { width: 1fr; height: 1fr; }
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
#chat-log { height: 1fr; background: $surface; }
#chat-input { height: 1; }

Screen.-narrow #body { layout: vertical; }
Screen.-narrow #side { width: 1fr; height: 10; layout: horizontal; }
Screen.-narrow #facts { width: 34; height: 1fr; }
Screen.-narrow #side-tabs { width: 1fr; }
Screen.-narrow #chat { width: 1fr; }
Screen.-narrow SessionPane.-steps-side #facts { display: none; }
Screen.-narrow #code-card { padding: 0; }

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


class AgentApp(App[None]):
    """The agent console."""

    TITLE = "cobrowse agent"
    CSS = CSS
    COMMANDS = App.COMMANDS | {AgentCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "new_session", "New", priority=True),
        Binding("f3", "join_code", "Join", priority=True),
        Binding("f4", "request_control", "Ask control", priority=True),
        Binding("f12", "toggle_typing", "Type", priority=True),
        Binding("f5", "copy_code", "Copy", priority=True),
        Binding("f8", "end_session", "End", priority=True),
        Binding("f9", "open_palette", "Commands", priority=True),
        Binding("f6", "previous_session", "Prev", priority=True, show=False),
        Binding("f7", "next_session", "Next", priority=True, show=False),
        Binding("f1", "push_playbook", "Playbook", priority=True),
        Binding("f10", "step_done", "Done", priority=True),
        Binding("f11", "step_skip", "Skip", priority=True),
        Binding("f22", "step_back", "Back", priority=True, key_display="⇧F10"),
        Binding("f14", "suggest_command", "Suggest", priority=True, key_display="⇧F2"),
        Binding("f15", "point_at", "Point", priority=True, key_display="⇧F3"),
        Binding("f16", "clear_pointer", "Unpoint", priority=True, key_display="⇧F4"),
        Binding("f13", "toggle_steps", "Steps/Chat", priority=True, key_display="⇧F1"),
    ]

    #: actions that must let their key through to the customer while typing
    KEYS_FOR_THE_CUSTOMER = {"command_palette", "quit", "help_quit", "focus_next", "focus_previous"}

    def __init__(self, relay_url: str, token: str | None, name: str, join_code: str | None = None,
                 relay_note: str | None = None, *, reconnect_for: float = 60.0,
                 playbook_dir: Path | None = None) -> None:
        super().__init__()
        self.playbook_dir = playbook_dir if playbook_dir is not None else default_playbook_dir()
        self.relay_url = relay_url
        self.token = token
        self.agent_name = name
        self.join_code = join_code
        self.relay_note = relay_note
        self.reconnect_for = reconnect_for
        self._numbers = itertools.count(1)

    def compose(self) -> ComposeResult:
        with TabbedContent(id="sessions"):
            yield HomePane(self.relay_url, self.relay_note)
        yield Footer(show_command_palette=False)

    async def on_mount(self) -> None:
        if self.relay_note:
            self.notify(self.relay_note, title="Embedded relay", timeout=8)
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
                           join_code=join_code, reconnect_for=self.reconnect_for)
        await self.tabs.add_pane(pane)
        self.tabs.active = pane.id or ""
        return pane

    def _typing(self) -> bool:
        pane = self.current()
        return pane is not None and pane.typing

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.KEYS_FOR_THE_CUSTOMER and self._typing():
            return False  # the key goes to the customer's terminal
        if action in SESSION_ACTIONS and self.current() is None:
            return False  # not in the footer of the home tab
        return True

    @on(TabbedContent.TabActivated, "#sessions")
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        for pane in self.sessions():
            if pane is not event.pane and pane.typing:
                pane.set_typing(False)  # never type into a session you are not looking at
        focused = self.focused
        if focused is not None and event.pane is not None and event.pane not in focused.ancestors:
            # a focused widget in a hidden tab would pull its tab back to the front
            self.set_focus(None)
        if isinstance(event.pane, SessionPane):
            event.pane.clear_attention()
            self.call_after_refresh(self._focus_chat, event.pane)
        if self.screen_stack:
            self.refresh_bindings()

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

    def _need_session(self) -> SessionPane | None:
        pane = self.current()
        if pane is None:
            self.notify("No session here: F2 starts one, F3 joins a customer's code.", severity="warning")
        return pane

    def action_copy_code(self) -> None:
        pane = self._need_session()
        if pane is None:
            return
        if pane.code is None:
            self.notify("This session has no code yet.", severity="warning")
            return
        self.copy_to_clipboard(str(pane.code))
        self.notify(f"Copied {pane.code} to the clipboard.")

    async def action_request_control(self) -> None:
        pane = self._need_session()
        if pane is not None:
            await pane.request_control()

    def action_toggle_typing(self) -> None:
        pane = self._need_session()
        if pane is not None:
            pane.toggle_typing()

    def action_end_session(self) -> None:
        pane = self._need_session()
        if pane is None:
            return
        if pane.ended:
            self.notify("This session has already ended.")
            return
        who = pane.customer_name or "the customer"
        code = f" ({pane.code})" if pane.code else ""

        async def answered(yes: bool | None) -> None:
            if yes:
                await pane.end()

        self.push_screen(ConfirmDialog(f"End the session with {who}{code}?", yes="End session"), answered)

    def _cycle(self, step: int) -> None:
        ids = [pane.id for pane in self.tabs.query(TabPane)
               if pane.id and isinstance(pane, (HomePane, SessionPane))]
        if len(ids) < 2:
            return
        index = ids.index(self.tabs.active) if self.tabs.active in ids else 0
        self.tabs.active = ids[(index + step) % len(ids)]

    def action_next_session(self) -> None:
        self._cycle(1)

    def action_previous_session(self) -> None:
        self._cycle(-1)

    # playbooks and guidance

    def _live_session(self) -> SessionPane | None:
        pane = self._need_session()
        if pane is None:
            return None
        if pane.ended:
            self.notify("This session has ended.", severity="warning")
            return None
        if pane.sas is None:
            self.notify("Wait for the customer to join first.", severity="warning")
            return None
        return pane

    def action_push_playbook(self) -> None:
        pane = self._live_session()
        if pane is None:
            return

        async def picked(path: Path | None) -> None:
            if path is not None:
                await pane.push_playbook(path)

        self.push_screen(PlaybookDialog(self.playbook_dir), picked)

    async def action_step_done(self) -> None:
        pane = self._live_session()
        if pane is not None:
            await pane.mark_step("done")

    async def action_step_skip(self) -> None:
        pane = self._live_session()
        if pane is not None:
            await pane.mark_step("skipped")

    async def action_step_back(self) -> None:
        pane = self._live_session()
        if pane is not None:
            await pane.step_back()

    def action_suggest_command(self) -> None:
        pane = self._live_session()
        if pane is None:
            return

        async def answered(command: str | None) -> None:
            if command:
                await pane.suggest(command)

        self.push_screen(PromptDialog(
            "Suggest a command", "The customer sees it and may paste it at their prompt (it only runs "
            "when they press Enter), edit it, or decline.", pane.active_command(),
            placeholder="git status -sb", ok="Suggest", parse=suggestion_text), answered)

    def action_point_at(self) -> None:
        pane = self._live_session()
        if pane is None:
            return

        async def answered(cmd: dict[str, Any] | None) -> None:
            if cmd:
                await pane.point(cmd)

        self.push_screen(PromptDialog(
            "Point at the customer's screen", "Rows as you count them from the top (3-5, or 7), or a "
            "regex: every line it matches is highlighted.", placeholder="3-5  or  error:.*",
            ok="Point", parse=parse_point), answered)

    async def action_clear_pointer(self) -> None:
        pane = self._live_session()
        if pane is not None:
            await pane.point({"cmd": "point"})

    def action_toggle_steps(self) -> None:
        pane = self._need_session()
        if pane is not None:
            pane.toggle_side()

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

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

