"""What an agent's session keeps for ``suggest_playbooks``: the library and the chat so far.

The runtime owns one ``Suggester``: it tells it every chat message (``heard``) and, when
the agent asks (the headless ``suggest_playbooks`` command, the console's playbook
picker), hands it the mirrored screen's lines. The ranking itself is ``suggest``; this
only holds the session's part of the input and answers in the headless shape. Also the
library's ``name`` lookup for ``{"cmd": "playbook", "name": ...}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from cobrowse.playbook.catalogue import SAMPLES, Catalogue, Match
from cobrowse.playbook.model import PlaybookError
from cobrowse.playbook.suggest import DEFAULT_LIMIT, ChatLog, PlaybookMatches

#: The most matches one answer holds.
MAX_LIMIT = 50


class Suggester:
    def __init__(self, library: Catalogue | None = None) -> None:
        #: The agent's library (the CLI sets the configured one; the samples alone by default).
        self.library = library if library is not None else Catalogue([SAMPLES])
        self.chat = ChatLog()

    def heard(self, who: str, text: str) -> None:
        """A chat message of this session (``who``: ``customer`` or ``agent``)."""
        self.chat.heard(who, text)

    def matches(self, screen: Sequence[str], limit: int = DEFAULT_LIMIT,
                library: Catalogue | None = None) -> list[Match]:
        return (library or self.library).suggest(screen, self.chat, limit)

    def answer(self, cmd: Mapping[str, Any], screen: Sequence[str] | None) -> PlaybookMatches:
        """The ``playbooks`` event for a ``suggest_playbooks`` command; ValueError (to be told
        to the agent, nothing changed) when its ``limit`` is not a number from 1 to 50."""
        limit = cmd.get("limit", DEFAULT_LIMIT)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f'suggest_playbooks "limit" must be a whole number from 1 to {MAX_LIMIT}')
        try:
            found = self.matches(screen or (), limit)
        except OSError as exc:
            raise ValueError(f"cannot read the playbook library: {exc}") from None
        return PlaybookMatches(tuple({"name": m.entry.name, "title": m.entry.title, "score": round(m.score, 3)}
                                     for m in found))

    def path_of(self, name: object) -> Path:
        """The file of the library's playbook called ``name`` (PlaybookError naming near misses)."""
        if not isinstance(name, str) or not name:
            raise PlaybookError('playbook needs a "path" to a playbook file or the "name" of one in the library')
        return self.library.find(name).path
