"""Which language the customer gets: --lang, COBROWSE_LANG, LC_ALL, LC_MESSAGES, LANG."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cobrowse.i18n.language import Language, choose_language, parse_language


def test_the_flag_wins_over_every_variable() -> None:
    env = {"COBROWSE_LANG": "zh", "LC_ALL": "fa_IR.UTF-8", "LANG": "en_US.UTF-8"}
    choice = choose_language("ru", env)
    assert (choice.language, choice.source, choice.notice) == (Language.RU, "--lang", None)


def test_variables_in_order_the_first_set_decides() -> None:
    assert choose_language(None, {"COBROWSE_LANG": "fa", "LC_ALL": "ru_RU.UTF-8"}).language is Language.FA
    assert choose_language(None, {"LC_ALL": "ru_RU.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}).source == "LC_ALL"
    assert choose_language(None, {"LC_MESSAGES": "zh_CN.UTF-8", "LANG": "ru_RU"}).language is Language.ZH
    assert choose_language(None, {"LANG": "fa_IR.UTF-8"}).language is Language.FA
    assert choose_language(None, {"LC_ALL": "", "LANG": "ru_RU.UTF-8"}).language is Language.RU  # empty = unset


def test_c_and_posix_mean_english_silently() -> None:
    for value in ("C", "POSIX", "C.UTF-8"):
        choice = choose_language(None, {"LC_ALL": value, "LANG": "ru_RU.UTF-8"})
        assert (choice.language, choice.notice) == (Language.EN, None)
    assert choose_language(None, {}) .language is Language.EN


def test_an_unknown_language_is_english_and_said_once() -> None:
    choice = choose_language(None, {"LANG": "de_DE.UTF-8"})
    assert choice.language is Language.EN
    assert choice.notice is not None and "de_DE.UTF-8" in choice.notice and "LANG" in choice.notice
    assert "en, ru, zh, fa" in choice.notice
    flagged = choose_language("klingon", {})
    assert flagged.language is Language.EN and flagged.notice is not None and "--lang" in flagged.notice


def test_locale_spellings() -> None:
    for value, expected in [("ru", Language.RU), ("ru_RU.UTF-8", Language.RU), ("zh-Hans-CN", Language.ZH),
                            ("zh_TW.UTF-8", Language.ZH), ("fa_IR@calendar=persian", Language.FA), ("EN_gb", Language.EN),
                            ("de", None), ("", None), ("r", None), ("ru\x1b[31m", None), ("ru" + "x" * 40, None)]:
        assert parse_language(value) is expected, value
    assert parse_language(7) is None


@given(st.text(max_size=60))
def test_parsing_anything_a_peer_sends_never_fails(value: str) -> None:
    assert parse_language(value) in (None, *Language)
