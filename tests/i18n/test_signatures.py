"""The signature verdict ``cobrowse guide`` shows: the same English as the library's line,
and the customer's language otherwise."""

from __future__ import annotations

import pytest

from cobrowse.i18n.catalogues import translator
from cobrowse.i18n.language import Language
from cobrowse.i18n.signatures import signature_text
from cobrowse.i18n.text import ENGLISH
from cobrowse.trust.playbook_signature import PlaybookVerdict, SignatureStatus

VERDICTS = [PlaybookVerdict(SignatureStatus.VERIFIED, "Acme"), PlaybookVerdict(SignatureStatus.UNSIGNED),
            PlaybookVerdict(SignatureStatus.UNKNOWN_ORG, "Acme", "no trust file names this key"),
            PlaybookVerdict(SignatureStatus.TAMPERED, "Acme", "the file changed after signing")]


@pytest.mark.parametrize("verdict", VERDICTS, ids=lambda v: str(v.status))
def test_english_is_the_librarys_line(verdict: PlaybookVerdict) -> None:
    assert signature_text(verdict, "fix.md", ENGLISH) == verdict.message("fix.md")


def test_russian() -> None:
    ru = translator(Language.RU)
    assert signature_text(VERDICTS[0], "fix.md", ru) == "fix.md: подписано Acme (проверено по вашему файлу доверия)"
    refused = signature_text(VERDICTS[3], "fix.md", ru)
    assert "ОТКЛОНЕНО" in refused and refused.endswith("the file changed after signing")
