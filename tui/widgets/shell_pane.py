"""The customer app's shell pane and chat input: the customer's own program, always in
control mode, telling its size (the pty follows it), and the chat line that gives the
keyboard back to the shell on Escape."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input

from tui.widgets.remote_screen import RemoteScreen

__all__ = ["ChatInput", "ShellPane"]


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
