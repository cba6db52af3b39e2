"""The customer app's end-of-session question: was the problem solved, and a 1-5 rating.

Shown when the agent ends the session asking for feedback. Keys: ``y``/``n``, then ``1``..``5``
(Enter skips a question, Esc skips both), the same as plain mode's one-line prompt
(``cobrowse.plain.feedback``, which decides the answer); the buttons feed the same keys.
The session is over, so a bare key cannot grant anything here. Dismissed with the
``FeedbackAnswer`` (the runtime also gives up on its own after its bounded wait).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.events import Key
from textual.screen import ModalScreen
from textual.widgets import Button

from cobrowse.i18n.text import FSI, LRI, N_, PDI, current
from cobrowse.plain.feedback import QUESTION, FeedbackAnswer, FeedbackPrompt
from tui.safe import PlainStatic

NO_ISOLATES = str.maketrans("", "", LRI + FSI + PDI + "\u2067")
ANSWERED_YES = N_("Was your problem solved?  → yes")
ANSWERED_NO = N_("Was your problem solved?  → no")
ANSWERED_SKIPPED = N_("Was your problem solved?  → skipped")
KEYS = {"enter": b"\r", "escape": b"\x1b", "ctrl+c": b"\x03"}


class FeedbackDialog(ModalScreen[FeedbackAnswer]):
    DEFAULT_CSS = """
    FeedbackDialog { align: center middle; }
    FeedbackDialog > Vertical { width: 64; height: auto; border: heavy $accent; background: $surface; padding: 1 2;
                                max-width: 100%; max-height: 100%; overflow-y: auto; }
    .narrow FeedbackDialog > Vertical { padding: 0 1; }
    .narrow FeedbackDialog .question, .narrow FeedbackDialog #feedback-hint { margin-top: 0; }
    FeedbackDialog .question { text-style: bold; margin-top: 1; }
    FeedbackDialog Horizontal { height: auto; }
    FeedbackDialog Button { margin-right: 1; min-width: 5; }
    FeedbackDialog #feedback-hint { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, message: str, agent: str = "") -> None:
        super().__init__()
        self.message = message
        tr = current()
        self.agent = agent or tr("the agent")
        self.prompt = FeedbackPrompt()

    def compose(self) -> ComposeResult:
        tr = current()
        # the question has a line of its own; what is left is a value (our isolates dropped)
        said = self.message.translate(NO_ISOLATES).removesuffix(tr(QUESTION).translate(NO_ISOLATES)).rstrip(". 。")
        with Vertical():
            yield PlainStatic(tr("{message}.", message=said), id="feedback-message")
            yield PlainStatic(tr("Was your problem solved?"), classes="question", id="solved-question")
            with Horizontal(id="solved-buttons"):
                yield Button(tr("Yes (y)"), id="fb-y", variant="success", compact=True)
                yield Button(tr("No (n)"), id="fb-n", variant="error", compact=True)
            yield PlainStatic(tr("How would you rate {agent}'s help? 1 (poor) to 5 (great)", agent=self.agent),
                              classes="question", id="rating-question")
            with Horizontal(id="rating-buttons"):
                for n in range(1, 6):
                    yield Button(str(n), id=f"fb-{n}", compact=True)
            with Horizontal():
                yield Button(tr("Skip (Esc)"), id="fb-skip", compact=True)
            yield PlainStatic(tr("y / n, then 1-5 · Enter skips a question · Esc skips both"), id="feedback-hint")

    def on_mount(self) -> None:
        for button in self.query(Button):
            button.can_focus = False
        self._show()

    def _feed(self, data: bytes) -> None:
        answer = self.prompt.feed(data)
        if answer is not None:
            self.dismiss(answer)
        else:
            self._show()

    def _show(self) -> None:
        tr = current()
        solved = self.prompt.solved
        answers = {None: None, "yes": ANSWERED_YES, "no": ANSWERED_NO, "": ANSWERED_SKIPPED}
        answer = answers[solved]
        self.query_one("#solved-question", PlainStatic).update(tr(answer) if answer else tr("Was your problem solved?"))
        self.query_one("#rating-buttons").disabled = solved is None
        self.query_one("#solved-buttons").disabled = solved is not None

    def on_key(self, event: Key) -> None:
        event.stop()
        event.prevent_default()
        data = KEYS.get(event.key) or (event.character.encode() if event.character and len(event.character) == 1 else b"")
        if data:
            self._feed(data)

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        key = (event.button.id or "").removeprefix("fb-")
        self._feed(b"\x1b" if key == "skip" else key.encode())
