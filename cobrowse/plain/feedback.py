"""Plain mode's one-line feedback prompt at the end of a session (pure: keys in, answer out).

    Was your problem solved? y/n, then a rating 1-5 (Enter or Esc skips)

The first key answers the question (``y``/``n``; Enter skips it), the second gives the
rating (``1``..``5``; Enter skips it); Esc or Ctrl-C skips everything. Any other key is
ignored, so a stray keystroke cannot send a wrong answer.
"""

from __future__ import annotations


from cobrowse.i18n.text import N_
from cobrowse.wire.frozen import frozen

#: Translated where it is shown (``tr(QUESTION)``).
QUESTION = N_("Was your problem solved? press y or n, then rate the help 1-5 (Enter skips a question, Esc skips both)")


@frozen
class FeedbackAnswer:
    solved: str  # "yes", "no" or "" (skipped)
    rating: int  # 1..5, 0 skipped


class FeedbackPrompt:
    def __init__(self) -> None:
        self.solved: str | None = None
        self.answer: FeedbackAnswer | None = None

    def feed(self, data: bytes) -> FeedbackAnswer | None:
        """Feed keys; return the answer once complete (then ignore further keys)."""
        for byte in data:
            if self.answer is not None:
                break
            if byte in (0x1B, 0x03):
                self.answer = FeedbackAnswer(self.solved or "", 0)
            elif self.solved is None:
                if byte in (ord("y"), ord("Y")):
                    self.solved = "yes"
                elif byte in (ord("n"), ord("N")):
                    self.solved = "no"
                elif byte in (0x0D, 0x0A):
                    self.solved = ""
            elif ord("1") <= byte <= ord("5"):
                self.answer = FeedbackAnswer(self.solved, byte - ord("0"))
            elif byte in (0x0D, 0x0A):
                self.answer = FeedbackAnswer(self.solved, 0)
        return self.answer
