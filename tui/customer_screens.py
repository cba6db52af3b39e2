"""The customer app's modal screens: the prefix-key help, "what the agent sees", and the
end of a failed session. Apart from the app so it stays about the session itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.events import Key
from textual.screen import ModalScreen

from cobrowse.io.runtime import EXIT_OK
from cobrowse.screen.state import ScreenState
from cobrowse.plain.keymap import Front, help_text
from tui.safe import PlainStatic, plain
from tui.widgets.remote_screen import RemoteScreen

if TYPE_CHECKING:
    from tui.customer_app import CustomerApp

#: How often the "what the agent sees" preview looks for a newer sent frame.
PREVIEW_INTERVAL = 0.1
_UNSET = object()

PREFIX_HELP = help_text(Front.APP) + " Press any key to close this help."


#: Keys that scroll the help (it is longer than a 24-row window); any other key closes it.
HELP_SCROLL = {"up": "scroll_up", "down": "scroll_down", "pageup": "scroll_page_up",
               "pagedown": "scroll_page_down", "home": "scroll_home", "end": "scroll_end"}


class HelpScreen(ModalScreen[None]):
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = "cobrowse keys"
            box.border_subtitle = "↑↓ scroll · any other key closes"
            yield PlainStatic(PREFIX_HELP, id="help-text")

    def on_key(self, event: Key) -> None:
        event.stop()
        scroll = HELP_SCROLL.get(event.key)
        if scroll is not None:
            getattr(self.query_one("#help-box", VerticalScroll), scroll)(animate=False)
            return
        self.dismiss()

    def on_click(self) -> None:
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
        app = self._customer
        runtime = app.runtime
        title = self.query_one("#preview-title", PlainStatic)
        view = self.query_one("#preview-screen", RemoteScreen)
        agent = app.agent_name
        placeholder: str | None = None
        if runtime is None or not runtime.paired:
            placeholder = "No agent is connected: nothing is shared."
            title.update("What the agent sees (Esc closes)")
        elif not runtime.sharing:
            placeholder = f"Sharing is paused: {agent} sees nothing.\nCtrl-] p resumes."
            title.update(f"What {agent} sees: nothing, sharing is paused (Esc closes)")
        else:
            title.update(f"What {agent} sees, frame by frame as it was sent (Esc closes)")
            sent = runtime.screen.sent
            if sent is None:
                placeholder = "Nothing sent yet."
            elif sent is not self._shown:
                self._shown = sent
                view.set_state(sent)
        if placeholder != self._placeholder:
            self._placeholder = placeholder
            view.set_placeholder(placeholder)

    def action_close(self) -> None:
        self.dismiss()


class SessionOverScreen(ModalScreen[None]):
    """A failure, in words; any key closes the app with the outcome's exit code."""

    def __init__(self, title: str, message: str, exit_code: int) -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.exit_code = exit_code

    def compose(self) -> ComposeResult:
        with Vertical(id="over-box", classes="ok" if self.exit_code == EXIT_OK else ""):
            yield PlainStatic(self.title_text, id="over-title")
            yield PlainStatic(self.message, id="over-message")
            yield PlainStatic("Press any key to close.", id="over-hint")

    def on_key(self, event: Key) -> None:
        event.stop()
        self._close()

    def on_click(self) -> None:
        self._close()

    def _close(self) -> None:
        self.app.exit(return_code=self.exit_code, message=plain(f"cobrowse: {self.message}"))
