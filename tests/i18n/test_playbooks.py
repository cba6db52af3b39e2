"""Sample playbooks in the customer's language: NAME.LANG.md next to NAME.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from cobrowse.i18n.language import Language
from cobrowse.i18n.playbooks import translated, translation_language, translations
from cobrowse.playbook.catalogue import SAMPLES, Catalogue
from cobrowse.playbook.parse import load_playbook

TRANSLATIONS = sorted(p for p in SAMPLES.glob("*.md") if translation_language(p) is not None)


def test_translations_are_not_playbooks_of_their_own() -> None:
    names = [entry.name for entry in Catalogue([SAMPLES]).entries()]
    assert {"collect-diagnostics", "fix-git-push", "rotate-api-key"} <= set(names)
    assert not any("." in name for name in names)  # no NAME.LANG
    assert all(m.entry.name in names for m in Catalogue([SAMPLES]).search("git"))


def test_the_customers_language_picks_the_file() -> None:
    catalogue = Catalogue([SAMPLES])
    assert catalogue.find_for("fix-git-push", Language.RU).name == "fix-git-push.ru.md"
    assert catalogue.find_for("fix-git-push", Language.FA).name == "fix-git-push.fa.md"
    assert catalogue.find_for("collect-diagnostics", Language.ZH).name == "collect-diagnostics.zh.md"
    assert catalogue.find_for("collect-diagnostics", Language.FA).name == "collect-diagnostics.fa.md"
    assert catalogue.find_for("rotate-api-key", Language.RU).name == "rotate-api-key.md"  # none yet
    assert catalogue.find_for("fix-git-push", Language.EN).name == "fix-git-push.md"
    assert catalogue.find_for("fix-git-push", None).name == "fix-git-push.md"
    assert translations(SAMPLES / "fix-git-push.md") == [Language.RU, Language.ZH, Language.FA]


def test_names_that_only_look_like_translations(tmp_path: Path) -> None:
    assert translation_language(Path("v1.2.md")) is None
    assert translation_language(Path(".ru.md")) is None
    assert translation_language(Path("notes.de.md")) is None
    (tmp_path / "a.md").write_text("x")
    assert translated(tmp_path / "a.md", Language.RU) == tmp_path / "a.md"


@pytest.mark.parametrize("path", TRANSLATIONS, ids=lambda p: p.name)
def test_a_translation_is_the_same_playbook_in_other_words(path: Path) -> None:
    assert len(TRANSLATIONS) >= 5
    original = load_playbook(path.with_name(path.name.split(".")[0] + ".md"))
    translation = load_playbook(path)
    assert len(translation.steps) == len(original.steps)
    for mine, theirs in zip(translation.steps, original.steps):
        assert (mine.command, mine.expect, mine.fail) == (theirs.command, theirs.expect, theirs.fail)
        assert mine.title != theirs.title
    assert translation.title != original.title
