"""Plain mode's one-line feedback prompt at the end of a session (pure: keys in, answer out).

    Was your problem solved? y/n, then a rating 1-5 (Enter or Esc skips)

The first key answers the question (``y``/``n``; Enter skips it), the second gives the
rating (``1``..``5``; Enter skips it); Esc or Ctrl-C skips everything. Any other key is
ignored, so a stray keystroke cannot send a wrong answer. A digit of any script counts as
its value and a full-width letter as its ASCII one: fa's prompt says "۱-۵", which a Persian
keyboard types, and a Chinese input method types ``ｙ``/``３`` in full-width mode.
"""

from __future__ import annotations

import codecs
import unicodedata

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
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="ignore")

    def feed(self, data: bytes) -> FeedbackAnswer | None:
        """Feed keys; return the answer once complete (then ignore further keys)."""
        for char in self._decoder.decode(data):
            if self.answer is not None:
                break
            key = unicodedata.normalize("NFKC", char)[:1]
            digit = unicodedata.decimal(char, 0)
            if key in ("\x1b", "\x03"):
                self.answer = FeedbackAnswer(self.solved or "", 0)
            elif self.solved is None:
                if key in ("y", "Y"):
                    self.solved = "yes"
                elif key in ("n", "N"):
                    self.solved = "no"
                elif key in ("\r", "\n"):
                    self.solved = ""
            elif 1 <= digit <= 5:
                self.answer = FeedbackAnswer(self.solved, digit)
            elif key in ("\r", "\n"):
                self.answer = FeedbackAnswer(self.solved, 0)
        return self.answer
