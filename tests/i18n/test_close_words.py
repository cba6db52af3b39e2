"""Every way a session can end reaches a ru/zh/fa customer in their language: the relay's close
reasons as the client words them (``CLOSE_REASONS``, never the relay's own text) and the
runtime's own ends. ``shutdown`` and ``claim_timeout`` were worded differently in the two tables,
so their close words were not found in the catalogue and showed in English."""

from __future__ import annotations

import re

import pytest

from cobrowse.i18n.catalogues import translator
from cobrowse.i18n.ends import CLOSE_WORDS, END_REASONS, OWN_ENDS, ended_text
from cobrowse.i18n.language import Language
from cobrowse.i18n.text import ENGLISH, Translated
from cobrowse.io.outcome import END_MESSAGES
from cobrowse.protocol.untrusted import SafeText
from cobrowse.wire.envelope import CLOSE_REASONS

ENGLISH_WORDS = re.compile(r"\b(the|relay|session|code|digits|agent|other side|again|connection)\b")


def test_the_close_words_are_the_clients_own() -> None:
    for reason, words in CLOSE_WORDS.items():
        assert CLOSE_REASONS[reason] == words
    differing = {r for r, words in CLOSE_REASONS.items() if words != END_REASONS.get(r)}
    assert differing <= set(CLOSE_WORDS) | set(OWN_ENDS)


@pytest.mark.parametrize("lang", [Language.RU, Language.ZH, Language.FA])
@pytest.mark.parametrize(("reason", "message"), [*CLOSE_REASONS.items(), *END_MESSAGES.items()])
def test_every_end_is_said_in_the_customers_language(lang: Language, reason: str, message: str) -> None:
    line = ended_text(reason, message, translator(lang))
    assert isinstance(line, Translated) and line != message, (reason, line)
    assert not ENGLISH_WORDS.search(line), (reason, line)
    assert ended_text(reason, message, ENGLISH) == (END_REASONS[reason] if reason in OWN_ENDS else message)


@pytest.mark.parametrize("reason", ["shutdown", "claim_timeout"])
def test_a_peers_words_are_never_taken_for_a_msgid(reason: str) -> None:
    """A peer's text (``SafeText``, which the translator refuses) equal to our words gets our
    own literal's translation; any other words are shown as they came."""
    ru = translator(Language.RU)
    assert ended_text(reason, SafeText(CLOSE_REASONS[reason]), ru) == ended_text(reason, CLOSE_REASONS[reason], ru)
    assert ended_text(reason, SafeText("bye"), ru) == "bye"
