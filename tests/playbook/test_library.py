"""The playbook library: a folder listed (invalid files included, with their error) and searched."""

from __future__ import annotations

from pathlib import Path

import pytest

from cobrowse.playbook import Library, LibraryEntry


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "git").mkdir()
    (tmp_path / "git" / "fix-push.md").write_text(
        "# Fix a failing git push\nWhen the remote rejects you.\n## Check the remote\n## Push again\n"
    )
    (tmp_path / "diagnostics.md").write_text("# Collect diagnostics\n## Check the clock\n## Proxy settings\n")
    (tmp_path / "broken.md").write_text("# Broken\n## Step\nexpect: `(`\n")
    (tmp_path / "README.md").write_text("# About this folder\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD.md").write_text("# hidden\n## S\n")
    (tmp_path / "notes.txt").write_text("# not markdown\n## S\n")
    return tmp_path


def test_entries_list_valid_and_invalid_files(folder: Path) -> None:
    entries = Library(folder).entries()
    assert [e.path.relative_to(folder).as_posix() for e in entries] == [
        "broken.md",
        "diagnostics.md",
        "git/fix-push.md",
    ]
    broken, diagnostics, push = entries
    assert not broken.valid
    assert broken.title == "broken" and broken.steps == 0
    assert broken.error == f"{folder / 'broken.md'}:3: expect: invalid regex (missing ) at position 1)"
    assert diagnostics == LibraryEntry(
        folder / "diagnostics.md", "Collect diagnostics", 2, None, "", ("Check the clock", "Proxy settings")
    )
    assert push.valid and push.description == "When the remote rejects you."


def test_search_is_case_insensitive_over_title_description_and_steps(folder: Path) -> None:
    library = Library(folder)

    def titles(query: str) -> list[str]:
        return [e.title for e in library.search(query)]

    assert titles("GIT") == ["Fix a failing git push"]
    assert titles("rejects") == ["Fix a failing git push"]  # description
    assert titles("clock") == ["Collect diagnostics"]  # step title
    assert titles("check") == ["Collect diagnostics", "Fix a failing git push"]
    assert titles("push remote") == ["Fix a failing git push"]  # every word, anywhere
    assert titles("push clock") == []
    assert titles("broken") == ["broken"]  # invalid files can be found by name
    assert titles("  ") == ["broken", "Collect diagnostics", "Fix a failing git push"]


def test_title_matches_come_first(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Reset things\n## Check the proxy\n")
    (tmp_path / "b.md").write_text("# Proxy settings\n## S\n")
    assert [e.title for e in Library(tmp_path).search("proxy")] == ["Proxy settings", "Reset things"]


def test_a_missing_folder_is_an_empty_library(tmp_path: Path) -> None:
    assert Library(tmp_path / "nope").entries() == []
    assert Library(str(tmp_path / "nope")).search("x") == []
