"""The agent console's modal screens: join by code, confirm, one-line prompts (suggest a
command, point at rows), and the playbook picker; plus the parsers those prompts use."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList
from textual.widgets.option_list import Option

from cobrowse.errors import InvalidCode
from cobrowse.playbook.catalogue import SAMPLES, Catalogue, Match
from cobrowse.playbook.catalogue import Entry as CatalogueEntry
from cobrowse.policy.agent_commands import Point
from cobrowse.cli.code_entry import ascii_digits
from cobrowse.wire.code import parse_code

#: Every line of a dialog wraps inside it (a Label is as wide as its text by default, and
#: the dialog's border cut a long one: "they ran `cobrows"); a tall dialog scrolls at 80×24.
DIALOG_CSS = """
#dialog { max-height: 100%; overflow-y: auto; }
#dialog Label { width: 100%; height: auto; }
"""
#: Rows of the playbook dialog around its list: border, padding, title, library, search, help;
#: the console lets the dialog take 90% of the window.
CHROME = 13

def parse_point(text: str) -> Point:
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
        return Point(rows=(first - 1, last - 1))
    if len(text) > 500:
        raise ValueError("a pattern is at most 500 characters")
    try:
        re.compile(text)
    except re.error as exc:
        raise ValueError(f"not a valid regex: {exc}") from None
    return Point(pattern=text)


class JoinDialog(ModalScreen[str | None]):
    """Ask for the code a customer read out (they ran `cobrowse share`)."""

    DEFAULT_CSS = DIALOG_CSS

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Join a customer's session", classes="dialog-title")
            yield Label("Type the code the customer reads to you (they ran `cobrowse share`):")
            yield Input(placeholder="42-7193-0518", id="join-input")
            yield Label("", id="join-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Join", variant="primary", id="join-ok")
                yield Button("Cancel", id="join-cancel")

    def on_mount(self) -> None:
        self.query_one("#join-input", Input).focus()

    def _submit(self) -> None:
        text = self.query_one("#join-input", Input).value
        try:
            code = parse_code(ascii_digits(text))  # ۴۲ or ４２ typed: the digits they are
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

    DEFAULT_CSS = DIALOG_CSS

    BINDINGS = [Binding("escape,n", "no", "No"), Binding("y", "yes", "Yes")]

    def __init__(self, question: str, yes: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question, classes="dialog-title", markup=False)
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

    DEFAULT_CSS = DIALOG_CSS

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
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield Label(self.help_text, markup=False)
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input")
            yield Label("", id="prompt-error", markup=False)
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

    DEFAULT_CSS = DIALOG_CSS

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "move(1)", "Down", show=False),
        Binding("up", "move(-1)", "Up", show=False),
    ]

    def __init__(self, library: Catalogue, suggested: Sequence[Match] = ()) -> None:
        super().__init__()
        self.library = library
        self.suggested = tuple(suggested)  # suggest_playbooks: listed first while the search is empty
        #: What each option picks: a playbook file, or None (an invalid file, a note).
        self.choices: list[tuple[Path | None, str | None]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="-wide"):
            yield Label("Push a playbook to the customer", classes="dialog-title")
            folders = " · ".join("samples" if f == SAMPLES else str(f) for f in self.library.folders)
            yield Label(Text(f"Library: {folders}"), id="playbook-folder")
            yield Input(placeholder="search: an error, a command, words; or a path to a .md file",
                        id="playbook-search")
            yield OptionList(id="playbook-list")
            yield Label("Enter pushes the highlighted playbook · Esc cancels", id="playbook-help")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#playbook-search", Input).focus()
        self._fit_list()

    def on_resize(self) -> None:
        self._fit_list()

    def _fit_list(self) -> None:
        """The list takes what the window leaves (at 80×24 the title would scroll away)."""
        self.query_one("#playbook-list", OptionList).styles.max_height = max(3, min(14, self.size.height * 9 // 10 - CHROME))

    def _fill(self, query: str) -> None:
        options = self.query_one("#playbook-list", OptionList)
        options.clear_options()
        self.choices = []
        typed = Path(query.strip()).expanduser() if query.strip() else None
        if typed is not None and typed.suffix.lower() == ".md" and typed.is_file():
            self._add(options, Text.assemble(("Open the file ", "bold"), str(typed)), typed, None)
        try:
            if query.strip():
                for match in self.library.search(query):
                    self._add(options, self._line(match.entry), match.entry.path, None)
            else:
                for match in self.suggested:
                    self._add(options, Text.assemble(("suggested  ", "bold green"), self._line(match.entry)), match.entry.path, None)
                for entry in self.library.entries():
                    self._add(options, self._line(entry), entry.path, entry.entry.error)
        except OSError as exc:
            self.app.notify(f"cannot read the playbook library: {exc}", severity="error")
        if not self.choices:
            empty = "no playbook matches" if query.strip() else "the library is empty: type a path to a playbook file"
            options.add_option(Option(Text(empty, style="dim italic"), disabled=True))
        self._first_valid()

    def _add(self, options: OptionList, prompt: Text, path: Path | None, error: str | None) -> None:
        options.add_option(Option(prompt, id=str(len(self.choices)), disabled=error is not None))
        self.choices.append((path, error))

    @staticmethod
    def _line(entry: CatalogueEntry) -> Text:
        item = entry.entry
        if not item.valid:
            return Text.assemble((f"{item.path.name}  invalid: ", "bold red"), (item.error or "", "red"))
        steps = "1 step" if item.steps == 1 else f"{item.steps} steps"
        where = "samples" if entry.folder == SAMPLES else item.path.name
        return Text.assemble((item.title, "bold"), f"  ({steps}) ", (where, "dim"))

    def _first_valid(self) -> None:
        options = self.query_one("#playbook-list", OptionList)
        for index, (path, error) in enumerate(self.choices):
            if path is not None and error is None:
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
        if index is None or not 0 <= index < len(self.choices):
            self.app.notify("No playbook to push here: pick a valid one.", severity="warning")
            return
        path, error = self.choices[index]
        if path is None or error is not None:
            self.app.notify(f"This playbook is invalid: {error}", severity="warning")
            return
        self.dismiss(path)

    @on(Input.Submitted, "#playbook-search")
    def _submitted(self) -> None:
        self._pick(self.query_one("#playbook-list", OptionList).highlighted)

    @on(OptionList.OptionSelected, "#playbook-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(event.option_index)

    def action_cancel(self) -> None:
        self.dismiss(None)
