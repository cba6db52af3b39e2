"""The customer app's modal screens: the prefix-key help, "what the agent sees", what
resuming would share, and the end of a failed session. Apart from the app so it stays
about the session itself."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.events import Key, Resize
from textual.screen import ModalScreen

from cobrowse.io.runtime import EXIT_OK
from cobrowse.screen.state import ScreenState
from cobrowse.i18n.notices import resume_review_title
from cobrowse.i18n.text import Translated, Translator, current, joined
from cobrowse.plain.keymap import Front, help_text, rewrite
from rich.cells import cell_len
from rich.text import Text

from tui.customer_texts import NO_ISOLATES, wrapped_rows
from tui.safe import PlainStatic, plain
from tui.widgets.remote_screen import RemoteScreen

if TYPE_CHECKING:
    from tui.customer_app import CustomerApp
    from tui.customer_view import CustomerView

#: How often the "what the agent sees" preview looks for a newer sent frame.
PREVIEW_INTERVAL = 0.1
_UNSET = object()

def prefix_help(tr: Translator | None = None) -> str:
    """The help screen's text: every Ctrl-] key, and how to close it."""
    tr = tr or current()
    return tr("{keys} Press any key to close this help.", keys=help_text(Front.APP, tr=tr))


#: An item's key column: the spaces before the key, the key, the spaces (and isolates) after it.
_KEY_COLUMN = re.compile("^ +[^ ]+[ \u2066-\u2069]*")
#: The help box's columns beside its text: border, padding, scrollbar.
HELP_FRAME = 5


def hanging(text: str, width: int) -> str:
    """``text`` with each key's line wrapped under its description, not under the key: wrapped
    at the left edge, "(Enter sends; Escape goes back to" read like another key's line
    (seen at 80x24, worse at 40x10). Only spaces and line breaks are added, so a ``Translated``
    text keeps its isolates balanced."""
    out: list[str] = []
    for line in text.split("\n"):
        column = _KEY_COLUMN.match(line)
        indent = len(column[0].translate(NO_ISOLATES)) if column else 0
        if column is None or cell_len(line) <= width or not 0 < indent <= width // 2:
            out.append(line)
            continue
        rows = wrapped_rows(line[column.end():], width - indent)
        out += [column[0] + rows[0], *(" " * indent + row for row in rows[1:])]
    wrapped = "\n".join(out)
    return Translated(wrapped) if isinstance(text, Translated) else wrapped


#: Keys that scroll the help (it is longer than a 24-row window); any other key closes it.
HELP_SCROLL = {"up": "scroll_up", "down": "scroll_down", "pageup": "scroll_page_up",
               "pagedown": "scroll_page_down", "home": "scroll_home", "end": "scroll_end"}


class HelpScreen(ModalScreen[None]):
    def compose(self) -> ComposeResult:
        tr = current()
        with VerticalScroll(id="help-box") as box:
            box.border_title = tr("cobrowse keys")
            box.border_subtitle = tr("↑↓ scroll · any other key closes")
            yield PlainStatic(hanging(prefix_help(tr), self.app.size.width - HELP_FRAME), id="help-text")

    def on_resize(self, event: Resize) -> None:
        width = min(event.size.width, 96) - HELP_FRAME  # #help-box: 96 wide at most
        self.query_one("#help-text", PlainStatic).update(hanging(prefix_help(), width))

    closing = False

    def on_key(self, event: Key) -> None:
        event.stop()
        scroll = HELP_SCROLL.get(event.key)
        if scroll is not None:
            getattr(self.query_one("#help-box", VerticalScroll), scroll)(animate=False)
            return
        self._close()

    def on_click(self) -> None:
        self._close()

    def _close(self) -> None:
        """Once: two keys at once (a terminal sends Ctrl-] y together) would pop the app's own
        screen on the second, and Textual stops the app (ScreenStackError)."""
        if not self.closing:
            self.closing = True
            self.dismiss()


class PreviewScreen(ModalScreen[None]):
    """What the agent sees: the state the ScreenSender last sent (the agent's mirror)."""

    BINDINGS = [
        Binding("escape,q,v,ctrl+right_square_bracket", "close", "close", show=False),
    ]

    def __init__(self, app: CustomerApp) -> None:
        super().__init__()
        self._customer = app
        self._shown: ScreenState | None = None
        self._placeholder: object = _UNSET

    def compose(self) -> ComposeResult:
        with Vertical(id="preview-box"):
            yield PlainStatic("", id="preview-title")
            yield RemoteScreen(id="preview-screen")

    def on_mount(self) -> None:
        self._update()
        self.set_interval(PREVIEW_INTERVAL, self._update)

    def _update(self) -> None:
        tr = current()
        app = self._customer
        runtime = app.runtime
        title = self.query_one("#preview-title", PlainStatic)
        view = self.query_one("#preview-screen", RemoteScreen)
        agent = app.agent_name
        placeholder: str | None = None
        if runtime is None or not runtime.paired:
            placeholder = tr("No agent is connected: nothing is shared.")
            title.update(tr("What the agent sees (Esc closes)"))
        elif not runtime.sharing:
            placeholder = rewrite(tr("Sharing is paused: {agent} sees nothing.\nCtrl-] p resumes.", agent=agent))
            title.update(tr("What {agent} sees: nothing, sharing is paused (Esc closes)", agent=agent))
        else:
            title.update(tr("What {agent} sees, frame by frame as it was sent (Esc closes)", agent=agent))
            sent = runtime.screen.sent
            if sent is None:
                placeholder = tr("Nothing sent yet.")
            elif sent is not self._shown:
                self._shown = sent
                view.set_state(sent)
        if placeholder != self._placeholder:
            self._placeholder = placeholder
            view.set_placeholder(placeholder)

    def action_close(self) -> None:
        self.dismiss()


class ResumeReviewScreen(ModalScreen[str]):
    """Sharing is about to resume and the screen changed while it was paused: these lines
    would become visible. s / Enter shares them, c clears the screen first, n / Esc keeps
    sharing paused (docs/privacy.md). The lines are the customer's own screen: shown as
    plain text, never markup."""

    BINDINGS = [
        Binding("s,enter", "choose('share')", "share", show=False),
        Binding("c", "choose('clear')", "clear, then share", show=False),
        Binding("n,escape,ctrl+right_square_bracket", "choose('stay')", "stay paused", show=False),
    ]

    def __init__(self, message: str, lines: list[str], hint: str) -> None:
        super().__init__()
        self._message, self._lines, self._hint = message, lines, hint

    def compose(self) -> ComposeResult:
        with Vertical(id="review-box"):
            yield PlainStatic(self._message, id="review-title")
            with VerticalScroll(id="review-lines"):
                yield PlainStatic("\n".join(self._lines) or " ")
            yield PlainStatic(self._hint, id="review-hint")

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)


def review_resume(app: CustomerView, changed: Sequence[str]) -> None:
    """The screen changed while paused: show what would become visible; the customer shares,
    clears first, or stays paused (sharing stays paused until they answer)."""
    commands = {"share": "resume_share", "clear": "resume_clear", "stay": "resume_stay"}

    async def answered(choice: str | None) -> None:
        runtime = app.runtime
        if runtime is not None:
            await runtime.run_command(commands.get(choice or "stay", "resume_stay"))

    tr = current()
    hint = tr("s or Enter: share it · c: clear your screen, then share · n or Esc: stay paused")
    lines = [str(line) for line in changed]
    title = resume_review_title(len(lines), tr, app.agent_name)
    app.push_screen(ResumeReviewScreen(title, lines, hint), answered)


class SessionOverScreen(ModalScreen[None]):
    """A failure, in words; any key closes the app with the outcome's exit code."""

    def __init__(self, title: str, message: str, exit_code: int, receipt: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.exit_code = exit_code
        self.receipt = receipt  # said after the app closes, as a normal end says it: the log is gone
        self.closing = False

    def compose(self) -> ComposeResult:
        with Vertical(id="over-box", classes="ok" if self.exit_code == EXIT_OK else ""):
            yield PlainStatic(self.title_text, id="over-title")
            yield PlainStatic(self.message, id="over-message")
            tr = current()
            yield PlainStatic(tr("Press any key to close."), id="over-hint")

    def on_key(self, event: Key) -> None:
        event.stop()
        self._close()

    def on_click(self) -> None:
        self._close()

    def _close(self) -> None:
        """Once: keys pressed while the app closes each added the line again (Textual then
        printed "NOTE: 1 of 6 errors shown ...")."""
        if self.closing:
            return
        self.closing = True
        said = [plain(prefixed(line)) for line in (self.message, self.receipt) if line]
        self.app.exit(return_code=self.exit_code, message=Text("\n").join(said))


def prefixed(line: str) -> str:
    """``cobrowse: line``, the exit line on stderr; a translated line stays ``Translated``."""
    return joined("", [Translated("cobrowse: "), line]) if isinstance(line, Translated) else f"cobrowse: {line}"
