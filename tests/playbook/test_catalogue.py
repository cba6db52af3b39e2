"""The library as agents use it: folders in order, names, BM25 ranking, the shipped samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from cobrowse.playbook import PlaybookError
from cobrowse.playbook.catalogue import SAMPLES, Catalogue
from cobrowse.playbook.rank import rank, words


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_samples_ship_inside_the_package() -> None:
    names = {e.name for e in Catalogue([SAMPLES]).entries()}
    assert {"fix-git-push", "collect-diagnostics", "rotate-api-key"} <= names
    assert SAMPLES.is_relative_to(Path(__file__).resolve().parents[2] / "cobrowse")


def test_an_earlier_folder_shadows_a_later_one_by_name(tmp_path: Path) -> None:
    ours = write(tmp_path / "team", "fix-git-push", "# Our own push fix\n## Ask in #git\n")
    entries = Catalogue([tmp_path / "team", tmp_path / "missing", SAMPLES]).entries()
    pushes = [e for e in entries if e.name == "fix-git-push"]
    assert len(pushes) == 1 and pushes[0].path == ours and pushes[0].title == "Our own push fix"
    assert any(e.name == "rotate-api-key" for e in entries)  # the samples still fill in


def test_find_by_name_and_a_helpful_miss(tmp_path: Path) -> None:
    library = Catalogue([SAMPLES])
    assert library.find("fix-git-push").title == "Fix a failing git push"
    with pytest.raises(PlaybookError, match="did you mean fix-git-push"):
        library.find("git")
    with pytest.raises(PlaybookError, match="cobrowse playbooks list"):
        library.find("nothing-like-it")


def test_invalid_files_are_listed_but_never_ranked(tmp_path: Path) -> None:
    write(tmp_path, "broken", "# Broken push\n## Step\nexpect: `(`\n")
    write(tmp_path, "fine", "# Push fixes\n## Push\n")
    library = Catalogue([tmp_path])
    assert {e.name: e.entry.valid for e in library.entries()} == {"broken": False, "fine": True}
    assert [m.entry.name for m in library.search("push")] == ["fine"]


def test_the_samples_answer_what_customers_see() -> None:
    library = Catalogue([SAMPLES])
    cases = {
        "! [rejected] main -> main (non-fast-forward) error: failed to push some refs": "fix-git-push",
        "how do I rotate my api key": "rotate-api-key",
        "collect diagnostics for the support team": "collect-diagnostics",
    }
    for text, expected in cases.items():
        found = library.search(text, limit=3)
        assert found and found[0].entry.name == expected, (text, [(m.entry.name, m.score) for m in found])
        assert all(0 < m.score < 1 for m in found)
        assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)


def test_rare_words_weigh_more_than_common_ones() -> None:
    docs = [words("error network proxy"), words("error disk full"), words("error printer jam")]
    best = rank(docs, "error proxy")
    assert best[0].index == 0 and len(best) == 3
    assert rank(docs, "") == [] and rank([], "x") == []
    assert rank(docs, "unrelated") == []


def test_words_keep_hyphenated_terms_whole_and_split() -> None:
    assert words("non-fast-forward Push") == ["non-fast-forward", "non", "fast", "forward", "push"]
