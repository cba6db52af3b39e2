"""Secrets being typed: masked at the cursor, and still masked once the cursor has left.

:func:`~cobrowse.screen.secret_shapes.typing_spans` masks the word at the cursor as soon as
it starts like a secret (``ghp_``, ``DB_PASS=h``, ``https://bob:hu``). But the customer may
move the cursor away before the secret is complete (back to fix a typo earlier on the line,
or to another pane), and the whole-secret shapes do not match a half-typed token: the agent
would see ``ghp_Tq7Zk2`` the moment the cursor moved. :class:`TypedSecrets` remembers what
it masked at the cursor and keeps masking it wherever it still stands on the screen as a
word of its own, until it is gone (typed on, deleted, scrolled away).

Not kept: a word that started with a token prefix but can no longer be the start of that
token (``npm_config_cache`` is no npm token: it is readable once the cursor has left).

Pure; the state is the last few masked words.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from .secret_shapes import could_be_token, starts_like_token, typing_spans

__all__ = ["MAX_TYPED", "TypedSecrets"]

Span = tuple[int, int]

#: Words remembered at most (the most recent); one is forgotten as soon as it is not on screen.
MAX_TYPED = 8
_CONTEXT = 12  # characters before a value kept with it (its label: "DB_PASS=", "bob:")
_ENDS_WORD = frozenset(" \t\"'`,;)]}>")


class TypedSecrets:
    """The words masked at the cursor, kept masked after it left them."""

    def __init__(self) -> None:
        self._words: list[tuple[str, int]] = []  # (text to find, where its mask starts in it)

    def __len__(self) -> int:
        return len(self._words)

    def at_cursor(self, text: str, offset: int) -> list[Span]:
        """The spans to mask at text offset ``offset`` (the cursor) of a line, remembered."""
        found = typing_spans(text, offset)
        for s, e in found:
            word = text[s:e]
            if not word.strip():
                continue
            if starts_like_token(word):
                if could_be_token(word):
                    self._remember(word, 0)
            else:
                start = max(0, s - _CONTEXT)
                self._remember(text[start:e], s - start)
        return found

    def _remember(self, key: str, mask_from: int) -> None:
        self._words = [(k, m) for k, m in self._words if not key.startswith(k) and k != key]
        self._words.append((key, mask_from))
        del self._words[:-MAX_TYPED]

    def spans(self, texts: Sequence[str]) -> list[list[Span]]:
        """Per line of ``texts`` (the screen's lines), where a remembered word still stands as a
        word of its own (what follows it is not more of it); words not found are forgotten."""
        out: list[list[Span]] = [[] for _ in texts]
        if not self._words:
            return out
        screen = "\n".join(texts)
        starts = [0]
        for text in texts[:-1]:
            starts.append(starts[-1] + len(text) + 1)
        kept = []
        for key, mask_from in self._words:
            found = False
            i = screen.find(key)
            while i >= 0:
                end = i + len(key)
                if end == len(screen) or screen[end] == "\n" or screen[end] in _ENDS_WORD:
                    line = bisect_right(starts, i) - 1
                    out[line].append((i - starts[line] + mask_from, end - starts[line]))
                    found = True
                i = screen.find(key, i + 1)
            if found:
                kept.append((key, mask_from))
        self._words = kept
        return out
