"""Grapheme clusters and extended attributes as single characters avt can hold.

avt (the emulator) gives every character a cell of its own, and its pen has no room for
hidden, double/curly/dotted/dashed underline, overline or bold-and-faint. tmux, our
reference, joins zero-width characters (combining marks, ZWJ, variation selectors, zero-width
spaces; :mod:`.zerowidth`) and the non-ASCII character after a ZWJ to the cell before them, and keeps
those attributes. So, before avt sees a printable run, each cluster (and, while an extended
attribute is on, every character) becomes one *token*: a private character (plane 16 for one
column, unassigned plane 3 for two, which avt measures as wide) that avt moves, scrolls,
erases and copies like any other; building rows maps tokens back to text and attributes.

A character of the input that falls in a token range is itself sent as a token, so the input
can never forge one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from .lazy_re import LazyRe
from .zerowidth import ZERO_WIDTH, ZERO_WIDTH_ASTRAL, ZERO_WIDTH_BMP

__all__ = ["MAX_CLUSTER_BYTES", "NEEDS_TOKEN_ASTRAL_RE", "NEEDS_TOKEN_BMP_RE", "NEEDS_TOKEN_RE", "ZW_RE", "TokenTable", "cell_count", "cluster_split"]

#: tmux keeps at most this many UTF-8 bytes in a cell; what does not fit is dropped.
MAX_CLUSTER_BYTES = 21

_NARROW = (0x100000, 0x10FFFD)
_WIDE = (0x3C000, 0x3FFFD)
_TOKENS = "\U00100000-\U0010fffd\U0003c000-\U0003fffd"
_ZWJ = "\u200d"

ZW_RE = LazyRe(f"[{ZERO_WIDTH}]")
#: A run of printable text that needs tokens: a zero-width character or a token-range one.
NEEDS_TOKEN_RE = LazyRe(f"[{ZERO_WIDTH}{_TOKENS}]")
#: The same, split: BMP characters (a fast bitmap class), and astral ones (search only text
#: that has some: its UTF-8 holds a byte F0..F4).
NEEDS_TOKEN_BMP_RE = LazyRe(f"[{ZERO_WIDTH_BMP}]")
NEEDS_TOKEN_ASTRAL_RE = LazyRe(f"[{ZERO_WIDTH_ASTRAL}{_TOKENS}]")
# One cell: a base and what joins it (zero-width characters, or a non-ASCII character after a
# ZWJ: tmux 3.3a prints ASCII through its collect path, which never joins, so "a<ZWJ> " is two
# cells; a ZWJ stays pending across controls and cursor moves, see :mod:`.prefilter`).
_CLUSTER_RE = LazyRe(f"[^{ZERO_WIDTH}](?:{_ZWJ}[^\\x00-\\x9f]|[{ZERO_WIDTH}])*", re.DOTALL)
#: Zero-width characters (and non-ASCII characters after a ZWJ) at the start of a run: they
#: join the cell left of the cursor.
STRAY_RE = LazyRe(f"(?:{_ZWJ}[^\\x00-\\x9f]|[{ZERO_WIDTH}])+", re.DOTALL)
_JOINED_RE = LazyRe(f"[{ZERO_WIDTH}]|(?<={_ZWJ})[^\\x00-\\x9f{ZERO_WIDTH}]")


def cluster_split(text: str) -> list[str]:
    """The cells of ``text``: a base character and the characters joined to it."""
    return _CLUSTER_RE.findall(text)


def cell_count(text: str) -> int:
    """How many cells ``text`` covers, counting a wide cell once."""
    if text.isascii():
        return len(text)
    return len(text) - len(_JOINED_RE.findall(text))


@lru_cache(maxsize=4096)
def base_width(ch: str) -> int:
    """The columns avt gives ``ch`` (East Asian wide or fullwidth: 2)."""
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def trim_cluster(cluster: str) -> str:
    """tmux's cell size limit, and no trailing ZWJ (it would join the next cell's text)."""
    if len(cluster.encode("utf-8")) > MAX_CLUSTER_BYTES:
        out = ""
        size = 0
        for ch in cluster:
            size += len(ch.encode("utf-8"))
            if size > MAX_CLUSTER_BYTES:
                break
            out += ch
        cluster = out
    return cluster.rstrip(_ZWJ) or cluster[:1]


class TokenTable:
    """Token characters for ``(cluster, ext)`` pairs, bounded; freed by :meth:`collect`."""

    __slots__ = ("_by", "_next", "_of", "_recycled", "full")

    def __init__(self) -> None:
        self._of: dict[tuple[str, int], str] = {}
        self._by: dict[str, tuple[str, int]] = {}
        self._next = {1: _NARROW[0], 2: _WIDE[0]}
        self._recycled: dict[int, list[int]] = {1: [], 2: []}
        self.full = False  # a token was refused: the owner should :meth:`collect`

    def __len__(self) -> int:
        return len(self._by)

    def decode(self, token: str) -> tuple[str, int] | None:
        """``(cluster, ext)`` of a token, or None if ``token`` is not one."""
        return self._by.get(token)

    def token(self, cluster: str, ext: int) -> str | None:
        """The token for ``cluster`` drawn with extended attributes ``ext`` (None: the table
        is full; the caller draws the base character alone)."""
        key = (cluster, ext)
        tok = self._of.get(key)
        if tok is None:
            width = base_width(cluster[0])
            if self._recycled[width]:
                cp = self._recycled[width].pop()
            else:
                cp = self._next[width]
                if cp > (_NARROW if width == 1 else _WIDE)[1]:
                    self.full = True
                    return None
                self._next[width] = cp + 1
            tok = chr(cp)
            self._of[key] = tok
            self._by[tok] = key
        return tok

    def collect(self, in_use: set[str]) -> None:
        """Forget every token not in ``in_use`` (the characters still held by the screen)."""
        self.full = False
        for tok in [t for t in self._by if t not in in_use]:
            del self._of[self._by.pop(tok)]
            cp = ord(tok)
            self._recycled[1 if cp >= _NARROW[0] else 2].append(cp)

    def tokenize(self, run: str, ext: int, translate: Callable[[str], str] | None = None) -> str:
        """A printable run (no controls) with each cluster as one token where needed: every
        cell while ``ext`` is set, else clusters of several characters and token-range
        characters. A zero-width character with no base before it in ``run`` is dropped here
        (the caller joins it to the cell left of the cursor first: :data:`STRAY_RE`)."""
        out: list[str] = []
        for cluster in _CLUSTER_RE.findall(run):
            if ZW_RE.match(cluster):
                continue  # a stray zero-width character (no base in this run)
            if translate is not None and len(cluster) == 1:
                cluster = translate(cluster)
            if len(cluster) == 1 and not ext and not _is_token_range(cluster):
                out.append(cluster)
                continue
            cluster = trim_cluster(cluster)
            tok = self.token(cluster, ext)
            out.append(tok if tok is not None else cluster[0])
        return "".join(out)


def _is_token_range(ch: str) -> bool:
    cp = ord(ch)
    return _NARROW[0] <= cp <= _NARROW[1] or _WIDE[0] <= cp <= _WIDE[1]


def is_token_char(ch: str) -> bool:
    """True if ``ch`` lies in a token range (cheap: no table lookup)."""
    return _is_token_range(ch)
