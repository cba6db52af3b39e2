"""The agent console's history view: past sessions and their statistics (shift+F6).

The same views as `cobrowse agent history` and `cobrowse agent stats`, read from the local
history database (``cobrowse.io.history``), figures by ``cobrowse.audit.stats``.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from cobrowse.audit.stats import compute, format_history, format_stats
from cobrowse.io.history import HistoryError
from cobrowse.io.keeping import saved_sessions
from cobrowse.protocol.untrusted import visible

SHOWN = 50


def history_text() -> str:
    try:
        records = saved_sessions()
    except HistoryError as exc:
        return str(exc)
    if not records:
        return "No sessions recorded yet: each session you run is kept here when it ends."
    lines = format_stats(compute(records)) + ["", f"latest sessions ({min(len(records), SHOWN)} of {len(records)}):"]
    return "\n".join(lines + format_history(records[:SHOWN]))


class HistoryScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss_screen", "Close"), Binding("shift+f6,f18", "dismiss_screen", "Close", show=False)]
    DEFAULT_CSS = """
    HistoryScreen { align: center middle; }
    HistoryScreen > Vertical { width: 90%; height: 85%; border: round $accent; background: $surface; padding: 0 1; }
    HistoryScreen #history-title { text-style: bold; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("History and stats  (Esc closes)", id="history-title")
            with VerticalScroll():
                yield Static(visible(history_text(), multiline=True), id="history-body", markup=False)

    def action_dismiss_screen(self) -> None:
        self.dismiss(None)
