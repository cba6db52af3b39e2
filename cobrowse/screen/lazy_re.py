"""Patterns compiled on first use, not at import.

Compiling the screen's and redaction's patterns cost ~80 ms of the customer's start-up
(the ``regex`` module parses each pattern in Python), on the path from ``join`` to the
agent's first screen; most of them (key blocks, token prefixes being typed, password
prompts, most built-in rules) are not needed until a line shows one of their needles,
and many never are in a session.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    import regex

__all__ = ["LazyPattern", "LazyRe"]


class LazyPattern:
    """A :mod:`regex` pattern compiled the first time it is matched (same methods and
    arguments as a compiled one for what the screen uses)."""

    __slots__ = ("source", "flags", "_compiled")

    def __init__(self, source: str, flags: int = 0) -> None:
        self.source = source
        self.flags = flags
        self._compiled: regex.Pattern[str] | None = None

    @property
    def compiled(self) -> regex.Pattern[str]:
        compiled = self._compiled
        if compiled is None:
            import regex  # here: the join's first screen compiles none of these (~7 ms of imports)

            compiled = self._compiled = regex.compile(self.source, self.flags)
        return compiled

    @property
    def pattern(self) -> str:
        return self.source

    def match(self, string: str, *args: Any, **kwargs: Any) -> regex.Match[str] | None:
        return self.compiled.match(string, *args, **kwargs)

    def search(self, string: str, *args: Any, **kwargs: Any) -> regex.Match[str] | None:
        return self.compiled.search(string, *args, **kwargs)

    def fullmatch(self, string: str, *args: Any, **kwargs: Any) -> regex.Match[str] | None:
        return self.compiled.fullmatch(string, *args, **kwargs)

    def finditer(self, string: str, *args: Any, **kwargs: Any) -> Iterator[regex.Match[str]]:
        return self.compiled.finditer(string, *args, **kwargs)


class LazyRe:
    """A :mod:`re` pattern (str) compiled the first time it is used: the cluster patterns'
    classes of every zero-width character cost ~10 ms to compile, for non-ASCII output only."""

    __slots__ = ("source", "flags", "_compiled")

    def __init__(self, source: str, flags: int = 0) -> None:
        self.source = source
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self.source, self.flags)
        return compiled

    @property
    def pattern(self) -> str:
        return self.source

    def match(self, string: str, *args: Any) -> re.Match[str] | None:
        return self.compiled.match(string, *args)

    def search(self, string: str, *args: Any) -> re.Match[str] | None:
        return self.compiled.search(string, *args)

    def findall(self, string: str, *args: Any) -> list[Any]:
        return self.compiled.findall(string, *args)

    def finditer(self, string: str, *args: Any) -> Iterator[re.Match[str]]:
        return self.compiled.finditer(string, *args)
