"""How large a regular expression from the other side becomes once compiled, judged before it
is compiled. Pure.

The ``regex`` module unrolls counted repetition when it compiles: ``a{1000000}`` costs about
450 ms and 276 MB, ``(?:a{1000}){1000}`` as much, and ``a{4294967294}`` gigabytes, each a
pattern of a few characters that any length limit lets through. An agent's pattern (a pushed
playbook's ``expect``/``fail``, a redaction pattern, the pointer's) must be refused by its
size before ``regex.compile`` sees it: a runtime budget only starts once it is compiled.

``units`` counts what compiling builds, within a small factor: a character or a class is one,
a counted repetition multiplies its body by its lower bound (what ``regex`` unrolls), groups
and alternatives add up. Syntax the standard ``re`` parser does not know (``\\p{L}``, fuzzy
``{e<=1}``) is judged from the text: its length times every counted bound in it, an upper
bound that never lets a large pattern through.
"""

from __future__ import annotations

import importlib
import re
import warnings
from typing import Any, Iterator

#: The most units one pattern from the other side may compile to: ``a{1000}`` is ~140 KB, and
#: ``regex`` keeps its last 500 compiled patterns (an agent changing its pointer pattern five
#: times a second fills that cache: 70 MB at this bound, 700 MB at 10,000).
MAX_UNITS = 1_000
#: A counted bound as written: ``{3}``, ``{3,}``, ``{3,9}`` (``{,9}`` is regex's: lower bound 0).
_COUNTED = re.compile(r"(?<!\\)\{(\d*),?(\d*)\}")


def units(source: str, limit: int = MAX_UNITS) -> int:
    """What compiling ``source`` builds (see the module's docstring); counting stops past
    ``limit`` (the result is then some number above it)."""
    try:
        parser = importlib.import_module("re._parser")
        with warnings.catch_warnings():  # re's FutureWarnings about sets are for its own users
            warnings.simplefilter("ignore")
            tree = parser.parse(source)
    except Exception:  # noqa: BLE001 - syntax only regex knows, or absurd nesting: judged from the text
        return _textual(source, limit)
    repeats = _repeat_ops()
    try:
        return _count(tree, repeats, limit)
    except RecursionError:
        return limit + 1


def too_large(source: str, limit: int = MAX_UNITS) -> str | None:
    """Why ``source`` may not be compiled (None: it may), in words for the agent."""
    if units(source, limit) > limit:
        return (f"it would compile to more than {limit} parts (a counted repetition such as {{1000}} is "
                "unrolled when compiled): use + or * or a smaller count")
    return None


def _textual(source: str, limit: int) -> int:
    total = max(len(source), 1)
    for low, _high in _COUNTED.findall(source):
        total *= max(int(low or 0), 1) if len(low) <= 12 else limit + 1
        if total > limit:
            return limit + 1
    return total


def _repeat_ops() -> set[Any]:
    constants = importlib.import_module("re._constants")
    return {getattr(constants, name) for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
            if hasattr(constants, name)}


def _count(items: Any, repeats: set[Any], limit: int) -> int:
    total = 0
    for op, arg in items:
        if op in repeats:
            low, _high, body = arg
            inner = _count(body, repeats, limit)
            total += inner * max(int(low), 1) if inner <= limit else limit + 1
        elif isinstance(arg, (list, tuple)):
            children = list(_children(arg))
            total += sum(_count(child, repeats, limit) for child in children) if children else 1
        else:
            total += 1
        if total > limit:
            return limit + 1
    return max(total, 1) if items else 1


def _children(arg: Any) -> Iterator[Any]:
    """The sub-patterns under a node (groups, branches, lookarounds, conditionals)."""
    for part in arg:
        if hasattr(part, "data"):
            yield part
        elif isinstance(part, list):
            for item in part:
                if hasattr(item, "data"):
                    yield item

