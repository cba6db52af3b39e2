"""The playbook library as people use it: several folders in order, found by name or text.

An agent's library is their own folders (``--playbooks``, ``COBROWSE_PLAYBOOKS``, the
config file), then the user's data directory, then the samples shipped inside the package,
so a fresh ``pip install`` has a library and a team's own playbook of the same name wins.
A playbook's name is its file name without ``.md``; the first folder that has a name
shadows the others. Invalid files are listed with their error, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from cobrowse.i18n.language import Language
from cobrowse.i18n.playbooks import is_translation, translated
from cobrowse.playbook.library import Library, LibraryEntry
from cobrowse.playbook.model import PlaybookError
from cobrowse.playbook.parse import load_playbook
from cobrowse.playbook.rank import document, rank
from cobrowse.playbook.suggest import suggest

#: The sample playbooks shipped as package data.
SAMPLES = Path(__file__).resolve().parent / "samples"


@dataclass(frozen=True)
class Entry:
    name: str
    folder: Path  # which library folder it came from
    entry: LibraryEntry

    @property
    def path(self) -> Path:
        return self.entry.path

    @property
    def title(self) -> str:
        return self.entry.title


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: float


class Catalogue:
    def __init__(self, folders: Sequence[Path | str]) -> None:
        self.folders = tuple(dict.fromkeys(Path(f) for f in folders))
        #: Parsed files by path, kept while their size and mtime stay the same: suggest_playbooks
        #: runs while the console is live, and parsing a large library every time would stall it.
        self._parsed: dict[Path, tuple[tuple[int, int], LibraryEntry, list[str] | None]] = {}

    def entries(self) -> list[Entry]:
        """Every playbook, each name once (the first folder wins), in folder order."""
        seen: set[str] = set()
        out: list[Entry] = []
        for folder in self.folders:
            for path in Library(folder).paths():
                name = path.stem
                if name not in seen and not is_translation(path):  # NAME.ru.md: see find_for
                    seen.add(name)
                    out.append(Entry(name, folder, self._load(path)[0]))
        return out

    def _load(self, path: Path) -> tuple[LibraryEntry, list[str] | None]:
        """The file's library entry and its ranking document (None when invalid), parsed once."""
        try:
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = (-1, -1)
        cached = self._parsed.get(path)
        if cached is not None and cached[0] == stamp and stamp != (-1, -1):
            return cached[1], cached[2]
        try:
            playbook = load_playbook(path)
        except PlaybookError as exc:
            entry, doc = LibraryEntry(path, path.stem, 0, str(exc)), None
        else:
            entry = LibraryEntry(path, playbook.title, len(playbook.steps), None, playbook.description,
                                 tuple(step.title for step in playbook.steps))
            doc = document(playbook, path.stem)
        self._parsed[path] = (stamp, entry, doc)
        return entry, doc

    def find(self, name: str) -> Entry:
        """The playbook called ``name``; a PlaybookError naming the near misses otherwise."""
        entries = self.entries()
        for entry in entries:
            if entry.name == name:
                return entry
        near = [e.name for e in entries if name.casefold() in e.name.casefold()][:5]
        hint = f" (did you mean {', '.join(near)}?)" if near else " (`cobrowse playbooks list` shows the library)"
        raise PlaybookError(f"no playbook called {name!r} in the library{hint}")

    def find_for(self, name: str, language: Language | None) -> Path:
        """The file of ``name`` for a customer of ``language`` (its translation if any: cobrowse.i18n.playbooks)."""
        return translated(self.find(name).path, language)

    def documents(self) -> tuple[list[Entry], list[list[str]]]:
        """The valid playbooks and the bags of words they are ranked by (``rank.document``)."""
        valid: list[Entry] = []
        docs: list[list[str]] = []
        for entry in self.entries():
            doc = self._load(entry.path)[1]
            if doc is not None:
                valid.append(entry)
                docs.append(doc)
        return valid, docs

    def search(self, text: str, limit: int | None = None) -> list[Match]:
        """Valid playbooks ranked by relevance to ``text``, best first."""
        valid, docs = self.documents()
        found = [Match(valid[s.index], s.score) for s in rank(docs, text)]
        return found[:limit] if limit is not None else found

    def suggest(self, screen: Sequence[str], chat: Iterable[tuple[str, str]] = (),
                limit: int | None = None) -> list[Match]:
        """Valid playbooks ranked against a customer's screen and the chat (``suggest``)."""
        valid, docs = self.documents()
        found = [Match(valid[s.index], s.score) for s in suggest(docs, screen, chat)]
        return found[:limit] if limit is not None else found
