"""The translation function: our sentences only, values put in safely, isolated in Persian."""

from __future__ import annotations

import pytest

from cobrowse.i18n.catalogues import translator
from cobrowse.i18n.language import Language
from cobrowse.i18n.text import ENGLISH, FSI, PDI, Translator, current, fill, install, placeholders
from cobrowse.protocol.untrusted import Field, SafeText, clean

RU, ZH, FA = translator(Language.RU), translator(Language.ZH), translator(Language.FA)
GATE = ("not yet: wait {n} more second, then press {keys} again to give control",
        "not yet: wait {n} more seconds, then press {keys} again to give control")


def test_peer_text_is_never_a_msgid() -> None:
    peer = clean("the agent ended the session", Field.MESSAGE)
    assert isinstance(peer, SafeText)
    for tr in (ENGLISH, RU):
        with pytest.raises(TypeError, match="peer text is a value"):
            tr(peer)
        with pytest.raises(TypeError):
            tr.plural(peer, "x", 2)


def test_values_are_data_never_formats() -> None:
    hostile = "{0.__class__} {agent} {{x}} %s"
    out = RU("Verified: {agent} from {org}", agent=hostile, org="Acme")
    assert out == f"Подтверждено: {hostile} из Acme"
    assert fill("{a} {{b}}", {"a": "{b}"}) == "{b} {b}"
    assert fill("{a.__class__}", {"a": 1}) == "{a.__class__}"  # not a field: left as it is


def test_a_translation_that_lost_a_value_falls_back_to_english() -> None:
    import gettext

    class Broken(gettext.NullTranslations):
        def gettext(self, message: str) -> str:
            return "сломано {missing}"

    assert Translator(Language.RU, Broken())("Verified: {agent} from {org}", agent="A", org="B") == "Verified: A from B"


def test_plural_forms_follow_each_language() -> None:
    assert [RU.plural(*GATE, n, keys="K").split()[5] for n in (1, 2, 5, 11, 21, 22)] == \
        ["секунду,", "секунды,", "секунд,", "секунд,", "секунду,", "секунды,"]
    assert ENGLISH.plural(*GATE, 1, keys="K").startswith("not yet: wait 1 more second,")
    assert "5 秒" in ZH.plural(*GATE, 5, keys="K")
    assert FA.plural(*GATE, 1, keys="K") == FA.plural(*GATE, 1, keys="K")


def test_persian_isolates_every_value_and_others_do_not() -> None:
    out = FA("Verified: {agent} from {org}", agent="Alice", org="Acme")
    assert f"{FSI}Alice{PDI}" in out and f"{FSI}Acme{PDI}" in out
    assert FSI not in RU("Verified: {agent} from {org}", agent="Alice", org="Acme")
    assert ENGLISH("Verified: {agent} from {org}", agent="A", org="B") == "Verified: A from B"


def test_placeholders() -> None:
    assert placeholders("a {x} {{y}} {z_1}") == {"x", "z_1"}


def test_the_process_translator_is_english_until_installed() -> None:
    assert current() is ENGLISH
    install(RU)
    try:
        assert current() is RU
    finally:
        install(ENGLISH)


def test_sentences_are_translated_and_can_go_without_isolates() -> None:
    from cobrowse.i18n.text import LRI, Translated

    assert type(RU("Verified: {agent} from {org}", agent="A", org="B")) is Translated
    assert type(ENGLISH.plural(*GATE, 2, keys="K")) is Translated
    plain = translator(Language.FA, isolate=False)
    recording = "lets the agent RECORD this session (Ctrl-] x stops a recording at any time)"
    assert LRI in FA(recording) and not set(FSI + LRI + PDI) & set(plain(recording))
    assert plain("Verified: {agent} from {org}", agent="Alice", org="Acme") == "تأییدشده: Alice از Acme"


def test_a_value_never_brings_its_own_bidi_controls() -> None:
    """Even a raw (uncleaned) peer value: the only isolates in a sentence are the translator's."""
    from cobrowse.protocol.untrusted import visible

    out = FA("Verified: {agent} from {org}", agent="\u2066evil\u2069\u202e", org="Acme")
    assert "\\u2066evil\\u2069\\u202e" in out
    assert visible(out).count(FSI) == 2 and "\u2066" not in visible(out) and "\u202e" not in visible(out)
