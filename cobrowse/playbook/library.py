"""A playbook library: a folder of ``*.md`` playbooks the agent console lists and searches.

The caller passes the folder (the CLI's configured one, by default
``<user data dir>/cobrowse/playbooks``); nothing here reads the environment or a config.
Subfolders are included; hidden files and folders (``.git``) and ``README.md`` files are
skipped. An invalid playbook is listed with its error, never hidden, so its author sees
what to fix. A missing folder is an empty library.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cobrowse.playbook.model import Playbook, PlaybookError
from cobrowse.playbook.parse import load_playbook


@dataclass(frozen=True)
class LibraryEntry:
    path: Path
    title: str  # the playbook's title, or the file name when the file is invalid
    steps: int  # how many steps (0 when invalid)
    error: str | None = None  # the PlaybookError text, with file and line
    description: str = ""
    step_titles: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return self.error is None


class Library:
    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    def paths(self) -> list[Path]:
        """The playbook files, sorted by their path inside the folder."""
        if not self.folder.is_dir():
            return []
        found: list[Path] = []
        for top, dirs, files in os.walk(self.folder):  # symlinked folders are not followed
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            found += [
                Path(top, name)
                for name in files
                if name.lower().endswith(".md") and not name.startswith(".") and name.lower() != "readme.md"
            ]
        return sorted(found, key=lambda p: [part.lower() for part in p.relative_to(self.folder).parts])

    def entries(self) -> list[LibraryEntry]:
        """Every playbook file, valid or not (read fresh on each call)."""
        return [self._entry(path) for path in self.paths()]

    def search(self, query: str) -> list[LibraryEntry]:
        """Entries holding every word of ``query`` (case-insensitive) in their title, description,
        step titles or file name; title matches first. An empty query lists everything."""
        words = query.casefold().split()
        entries = self.entries()
        if not words:
            return entries
        in_title: list[LibraryEntry] = []
        elsewhere: list[LibraryEntry] = []
        for entry in entries:
            title = f"{entry.title}\n{entry.path.stem}".casefold()
            text = "\n".join((title, entry.description, *entry.step_titles)).casefold()
            if all(word in text for word in words):
                (in_title if all(word in title for word in words) else elsewhere).append(entry)
        return in_title + elsewhere

    def _entry(self, path: Path) -> LibraryEntry:
        try:
            playbook: Playbook = load_playbook(path)
        except PlaybookError as exc:
            return LibraryEntry(path, path.stem, 0, str(exc))
        return LibraryEntry(
            path,
            playbook.title,
            len(playbook.steps),
            None,
            playbook.description,
            tuple(step.title for step in playbook.steps),
        )
