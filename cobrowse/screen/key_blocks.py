"""Masks that reach across lines: private-key blocks, the answer under a password prompt,
the short last line of a key under a blob; and which screen rows make one logical line.

Matching a line on its own (:mod:`cobrowse.screen.redact`) cannot see these: a key's body
rows are plain base64 between ``-----BEGIN ... PRIVATE KEY-----`` and ``-----END ...-----``
(either marker may have scrolled off), and a typed password is only a secret because of
the prompt on the line above.
"""

from __future__ import annotations

from typing import Sequence

from .lazy_re import LazyPattern
from .mask import Span
from .secret_shapes import PEM_BEGIN, PEM_END, is_password_prompt
from .state import Row

# Lines of a private-key block between its markers: base64, the PEM headers of encrypted
# keys ("Proc-Type: 4,ENCRYPTED", "DEK-Info: ..."), blank lines.
KEY_BODY = LazyPattern(r"^\s*(?:> )?(?:[A-Za-z0-9+/=]*|[A-Za-z-]+: .*)\s*$")  # "> ": a heredoc
# A lone blob of base64 (40+ characters, both cases and a digit: not a hex hash).
BLOB = LazyPattern(r"^\s*(?=[^\s]*[A-Z])(?=[^\s]*[a-z])(?=[^\s]*[0-9])[A-Za-z0-9+/]{40,}={0,2}\s*$")
# Above an END marker whose BEGIN scrolled off: base64 lines only.
KEY_B64 = LazyPattern(r"^\s*(?:> )?[A-Za-z0-9+/=]+\s*$")
BEGIN = LazyPattern(PEM_BEGIN)
END = LazyPattern(PEM_END)



def logical_lines(rows: Sequence[Row]) -> list[tuple[int, int]]:
    """``[start, end)`` row ranges: a row that may have wrapped runs on into the next.

    The emulator does not say which rows wrapped, so a row is taken to run on when its
    last cell is not blank, or only its last cell is (a line that wrapped just after a
    space: ``password: `` / ``4111 1111 ``). Joining two rows that did not wrap costs at
    most a mask on a neighbouring row; missing a wrap would leak."""
    groups = []
    start = 0
    n = len(rows)
    for i, row in enumerate(rows):
        text = row.text
        if i + 1 < n and len(text) >= 2 and text[-2] != " ":
            continue
        groups.append((start, i + 1))
        start = i + 1
    return groups


def key_blocks(texts: list[str], spans: list[list[Span]]) -> None:
    """Mask the body lines of private-key blocks that span several lines (in place)."""
    n = len(texts)
    i = 0
    while i < n:
        text = texts[i]
        if "-----" not in text:  # no marker: a substring test, not two searches a line per frame
            i += 1
            continue
        begin = BEGIN.search(text) if "-----BEGIN " in text else None
        if begin is not None and END.search(text, begin.end()) is None:
            j = i + 1
            while j < n:
                end = END.search(texts[j])
                if end is not None:
                    if end.start():
                        spans[j].append((0, end.start()))
                    break
                if not KEY_BODY.match(texts[j]):
                    break
                spans[j].append((0, len(texts[j].rstrip())))
                j += 1
            i = j if j > i else i + 1
            continue
        end = END.search(text)
        if end is not None and (begin is None or begin.start() > end.start()):
            if end.start():
                spans[i].append((0, end.start()))
            j = i - 1
            while j >= 0 and KEY_B64.match(texts[j]):
                spans[j].append((0, len(texts[j].rstrip())))
                j -= 1
        i += 1


def context_spans(texts: Sequence[str], spans: list[list[Span]]) -> None:
    """Masks that depend on a line's neighbours (in place): the line under a password prompt;
    a short base64 line under a blob (a key's last line while its END marker is still to
    come)."""
    above = texts[0].rstrip() if texts else ""
    for j in range(1, len(texts)):
        text = texts[j].rstrip()
        if text:
            if above.endswith(":") and is_password_prompt(above):
                line = text.lstrip()
                if not is_password_prompt(line):  # "New password:" after "Current password:"
                    spans[j].append((len(text) - len(line), len(text)))
            elif not spans[j] and len(above) >= 40 and " " not in text.lstrip() and BLOB.match(above) \
                    and KEY_B64.match(text):
                spans[j].append((len(text) - len(text.lstrip()), len(text)))
        above = text
