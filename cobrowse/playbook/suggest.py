"""Which playbooks fit what the customer sees right now: the screen and the chat, ranked.

An agent looking at a customer's terminal reads the error first, then the command that
produced it, then the rest; a customer's own words in the chat say what they were trying
to do. The query is built the same way: every word of the mirrored screen and the chat,
weighted by where it stands (an error line's words count most, then a command typed at a
prompt, then the customer's chat, then the rest of the screen, later lines a little more
than earlier ones) and ranked by BM25 (``rank.rank_terms``), where rare words such as
``EADDRINUSE`` or ``publickey`` outweigh common ones by themselves.

Pure and bounded: the screen (a few thousand cells, checked by the mirror) and the last
``CHAT_KEPT`` chat messages of at most ``CHAT_CHARS`` characters each are all it reads;
nothing leaves the agent's machine. ``tests/playbook/eval`` holds the evaluation set the
weights were chosen on (docs/helpdesk.md gives the figures).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Iterable, Mapping, Sequence

from cobrowse.playbook.rank import Scored, rank_terms, terms
from cobrowse.policy.events import Event

#: How many chat messages, and how much of each, the ranking reads (the latest ones).
CHAT_KEPT = 20
CHAT_CHARS = 2000
#: How many lines of a screen are read (a mirror never holds more; a bound all the same).
SCREEN_LINES = 500
DEFAULT_LIMIT = 5


class LineKind(StrEnum):
    ERROR = "error"
    COMMAND = "command"
    OUTPUT = "output"


#: How much a word counts, by where it was seen.
WEIGHTS: Mapping[str, float] = {
    LineKind.ERROR: 3.0,
    LineKind.COMMAND: 2.0,
    LineKind.OUTPUT: 1.0,
    "customer": 2.0,
    "agent": 1.0,
}
#: The first error line after a command names the cause more often than the ones after it.
FIRST_ERROR = 2.0
#: A word seen many times (a flood of the same error) counts at most this many times its weight.
REPEAT_CAP = 1.5
#: Words inside paths and URLs (``/var/lib``, ``https://host/x``) count this much of their line's weight.
PATHS = 0.3
#: The earliest line of a screen counts this much of the latest.
OLDEST = 0.6

_ERROR = re.compile(
    r"(?i)(\b(error|errno|fatal|failed|failure|denied|refused|cannot|can't|could not|couldn't|unable|"
    r"not found|no such|timed out|timeout|exception|traceback|invalid|rejected|conflict|unreachable|"
    r"forbidden|unauthori[sz]ed|not permitted|no space|quota|expired|untrusted|warning)\b"
    r"|^\s*(E|W|ERR|ERROR|FATAL):|^\w+(Error|Exception):|\b[45]\d\d\b [A-Z][a-z]|\berr!)"
)
#: A shell prompt and the command after it: ``user@host:~/x$ git push``, ``$ ls``, ``# apt update``,
#: ``PS C:\\> dir``, ``>>> import x``, ``❯ npm i``.
_PROMPT = re.compile(r"^(?:\S*[@:]\S*\s?)?(?:\([^)]*\)\s*)?[^\s$#%>❯]*\s?[$#%>❯]\s+(?P<command>\S.*)$|^PS [^>]*>\s*(?P<ps>\S.*)$")


_PATH = re.compile(r"\S*[/\\]\S*")


def classify(line: str) -> tuple[LineKind, str]:
    """What a screen line is, and the part of it that counts (the command after a prompt)."""
    prompt = _PROMPT.match(line)
    if prompt:
        return LineKind.COMMAND, prompt.group("command") or prompt.group("ps") or ""
    if _ERROR.search(line):
        return LineKind.ERROR, line
    return LineKind.OUTPUT, line


def query_terms(screen: Sequence[str], chat: Iterable[tuple[str, str]] = ()) -> dict[str, float]:
    """The weighted words of a screen and a chat: each word's weights added up, then capped."""
    terms: dict[str, float] = {}
    weights: dict[str, float] = {}
    lines = [line for line in screen[-SCREEN_LINES:] if line.strip()]
    first_error = True
    for position, line in enumerate(lines):
        kind, text = classify(line)
        recency = OLDEST + (1 - OLDEST) * (position + 1) / len(lines)
        weight = WEIGHTS[kind] * recency
        if kind is LineKind.COMMAND:
            first_error = True
        elif kind is LineKind.ERROR and first_error:
            weight *= FIRST_ERROR
            first_error = False
        _add(terms, weights, text, weight)
    for who, text in chat:
        _add(terms, weights, text[:CHAT_CHARS], WEIGHTS.get(who, 1.0))
    return {term: min(total, REPEAT_CAP * weights[term]) for term, total in terms.items()}


def _add(found: dict[str, float], best: dict[str, float], text: str, weight: float) -> None:
    for part, factor in ((_PATH.sub(" ", text), 1.0), (" ".join(_PATH.findall(text)), PATHS)):
        for term in terms(part):
            if len(term) < 2 or term.isdigit():
                continue
            found[term] = found.get(term, 0.0) + weight * factor
            best[term] = max(best.get(term, 0.0), weight * factor)


def suggest(documents: Sequence[Sequence[str]], screen: Sequence[str],
            chat: Iterable[tuple[str, str]] = ()) -> list[Scored]:
    """The documents (``rank.document`` bags) ranked against a screen and a chat, best first."""
    terms = query_terms(screen, chat)
    return rank_terms(documents, terms, scale=max(4.0, sum(terms.values())))


class ChatLog:
    """The last ``CHAT_KEPT`` chat messages of a session, for ``suggest`` (agent and customer)."""

    def __init__(self) -> None:
        self._said: deque[tuple[str, str]] = deque(maxlen=CHAT_KEPT)

    def heard(self, who: str, text: str) -> None:
        self._said.append((who, str(text)[:CHAT_CHARS]))

    def __iter__(self) -> Any:
        return iter(tuple(self._said))


@dataclass(frozen=True)
class PlaybookMatches(Event):
    """``{"event": "playbooks", "matches": [{"name", "title", "score"}, ...]}``, best first."""

    KIND: ClassVar[str] = "playbooks"
    matches: tuple[Mapping[str, Any], ...] = ()
