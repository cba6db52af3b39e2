"""Redaction of a stream of output lines (what the playbook's step patterns see)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from .budget import MAX_BURST_LINES
from .key_blocks import BEGIN, END, KEY_BODY
from .mask import MASK_CHAR
from .secret_shapes import is_password_prompt

if TYPE_CHECKING:
    from .redact import Redactor


class LineRedactor:
    """Masks secrets in a stream of output lines (what step patterns are matched against),
    remembering across lines whether a private-key block is open.

    Step patterns look at most at the last ``keep`` lines of a burst
    (:data:`~cobrowse.screen.budget.MAX_BURST_LINES`), so only those are masked and
    returned: the earlier ones only move the key-block state on (cheap), which keeps a
    flood from costing a redaction per line."""

    def __init__(self, redactor: Redactor, keep: int = MAX_BURST_LINES) -> None:
        self.redactor = redactor
        self.keep = keep
        self._in_key = False
        self._after_prompt = False  # the previous line asked for a password

    def feed(self, lines: Sequence[str]) -> list[str]:
        out = []
        first = len(lines) - self.keep
        for i, line in enumerate(lines):
            wanted = i >= first
            answer, self._after_prompt = self._after_prompt, is_password_prompt(line)
            if answer and not self._after_prompt:  # what was typed (or echoed) after a password prompt
                if wanted:
                    out.append(MASK_CHAR * len(line))
                continue
            if self._in_key:
                end = END.search(line)
                if end is not None:
                    self._in_key = False
                    line = MASK_CHAR * end.start() + line[end.start():]
                elif KEY_BODY.match(line):
                    if wanted:
                        out.append(MASK_CHAR * len(line))
                    continue
                else:
                    self._in_key = False
            begin = BEGIN.search(line)
            if begin is not None and END.search(line, begin.end()) is None:
                self._in_key = True
            if wanted:
                out.append(self.redactor.mask(line))
        return out
