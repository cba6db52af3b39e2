"""When the other side's cobrowse ends a session ``scared`` (a wrong code, a tampered frame, or
a relay or network replaying more than HOSTILE_INTEGRITY sealed frames in 10 s), this side is
told words true for every cause: they used to say "wrong code or interception" to an agent
whose customer had seen the relay replay frames. The same words from the relay's table
(never shown), the clients' table and the customer's catalogue, in their language."""

from __future__ import annotations

import re

import pytest

from cobrowse.i18n.catalogues import translator
from cobrowse.i18n.ends import PEER_SCARED, ended_text
from cobrowse.i18n.language import Language
from cobrowse.i18n.text import Translated
from cobrowse.wire.envelope import CLOSE_REASONS, describe_close
from relay.rooms import SCARED_MESSAGE


def test_the_words_name_every_cause_and_are_the_same_everywhere() -> None:
    assert describe_close("scared") == CLOSE_REASONS["scared"] == SCARED_MESSAGE == PEER_SCARED
    for cause in ("wrong code", "relay", "network", "altering", "replaying"):
        assert cause in PEER_SCARED
    assert "interception" not in PEER_SCARED  # one cause among several, not the verdict


@pytest.mark.parametrize("lang", [Language.RU, Language.ZH, Language.FA])
def test_the_customer_reads_them_in_their_language(lang: Language) -> None:
    line = ended_text("scared", CLOSE_REASONS["scared"], translator(lang))
    assert isinstance(line, Translated) and line != PEER_SCARED
    assert not re.search(r"\b(other side|security|relay|network|session)\b", line)  # no English left
    assert ended_text("scared", CLOSE_REASONS["scared"], translator(Language.EN)) == PEER_SCARED
