"""An admin's kill (``closed`` ``killed``) is told to the customer as the runtime words it for
them (who ended it, and to call the agent back for a new code), in their language; the agent's
sentence stays English (the console is English), and a peer's look-alike text is never a msgid."""

from __future__ import annotations

import pytest

from cobrowse.i18n.catalogues import translator
from cobrowse.i18n.ends import KILLED_FOR_CUSTOMER, ended_text
from cobrowse.i18n.language import Language
from cobrowse.i18n.text import ENGLISH, Translated
from cobrowse.io.outcome import EXIT_FAILED, FAILED_ENDS, KILLED_MESSAGES, killed_message
from cobrowse.protocol.untrusted import SafeText


def test_the_customers_words_are_the_runtimes() -> None:
    assert KILLED_MESSAGES["customer"] == KILLED_FOR_CUSTOMER == killed_message("customer")
    assert killed_message("agent") != killed_message("customer")
    assert "new session" in killed_message("agent") and "customer" in killed_message("agent")


def test_a_kill_is_a_failed_end() -> None:
    assert "killed" in FAILED_ENDS and EXIT_FAILED == 1


@pytest.mark.parametrize("lang", [Language.RU, Language.ZH, Language.FA])
def test_the_customer_reads_it_in_their_language(lang: Language) -> None:
    line = ended_text("killed", KILLED_FOR_CUSTOMER, translator(lang))
    assert isinstance(line, Translated) and line != KILLED_FOR_CUSTOMER
    assert "agent" not in line and "relay" not in line
    assert ended_text("killed", SafeText(KILLED_FOR_CUSTOMER), translator(lang)) == line
    assert ended_text("killed", KILLED_FOR_CUSTOMER, ENGLISH) == KILLED_FOR_CUSTOMER
