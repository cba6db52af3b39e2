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
from typing import Sequence

from cobrowse.i18n.language import Language
from cobrowse.i18n.playbooks import is_translation, translated
from cobrowse.playbook.library import Library, LibraryEntry
from cobrowse.playbook.model import PlaybookError
from cobrowse.playbook.parse import load_playbook
from cobrowse.playbook.rank import document, rank

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

    def entries(self) -> list[Entry]:
        """Every playbook, each name once (the first folder wins), in folder order."""
        seen: set[str] = set()
        out: list[Entry] = []
        for folder in self.folders:
            for item in Library(folder).entries():
                name = item.path.stem
                if name not in seen and not is_translation(item.path):  # NAME.ru.md: see find_for
                    seen.add(name)
                    out.append(Entry(name, folder, item))
        return out

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

    def search(self, text: str, limit: int | None = None) -> list[Match]:
        """Valid playbooks ranked by relevance to ``text``, best first."""
        valid: list[Entry] = []
        docs: list[list[str]] = []
        for entry in self.entries():
            if not entry.entry.valid:
                continue
            try:
                playbook = load_playbook(entry.path)
            except PlaybookError:
                continue
            valid.append(entry)
            docs.append(document(playbook, entry.name))
        found = [Match(valid[s.index], s.score) for s in rank(docs, text)]
        return found[:limit] if limit is not None else found
