"""SAS words in the customer's language: same indices on both sides, each list told apart by voice."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cobrowse.crypto.sas import (
    ROMANIZED,
    WORD_LISTS,
    WORDS,
    for_agent,
    indices_of,
    localize,
    romanize_ru,
    sas_indices,
    sas_words,
)
from cobrowse.i18n.language import Language

_DEVOICE = dict(zip("бвгджз", "пфктшс"))


def russian_sound(word: str) -> str:
    """How a Russian word sounds, roughly: unstressed о as а (we do not know the stress),
    ё/э as е, я/ю/ы as а/у/и, soft and hard signs silent, voiced consonants devoiced at the end
    and before voiceless ones, double letters single."""
    for a, b in (("ё", "о"), ("э", "е"), ("о", "а"), ("я", "а"), ("ю", "у"), ("ы", "и"), ("ь", ""), ("ъ", "")):
        word = word.replace(a, b)
    word = re.sub("[бвгджз]$", lambda m: _DEVOICE[m[0]], word)
    word = re.sub("([бвгджз])(?=[пфктшсхцчщ])", lambda m: _DEVOICE[m[1]], word)
    return re.sub(r"(.)\1", r"\1", word)


def mandarin_sound(pinyin: str) -> str:
    """Pinyin without tones, with the mergers many speakers make: zh/z, ch/c, sh/s, ng/n, l/n."""
    plain = "".join(c for c in unicodedata.normalize("NFD", pinyin) if not unicodedata.combining(c)).replace("'", "")
    for a, b in (("zh", "z"), ("ch", "c"), ("sh", "s"), ("ng", "n"), ("l", "n")):
        plain = plain.replace(a, b)
    return plain


_PERSIAN_SAME = {"ط": "ت", "ص": "س", "ث": "س", "ذ": "ز", "ض": "ز", "ظ": "ز", "ح": "ه", "غ": "ق", "ع": "ا", "آ": "ا",
                 "ء": "ا", "أ": "ا", "ئ": "ی", "ؤ": "و", "ة": "ه", "ي": "ی", "ك": "ک"}


def persian_sound(word: str) -> str:
    """Persian letters that are pronounced alike written as one (ت/ط, س/ص/ث, ز/ذ/ض/ظ, ه/ح, ق/غ, ا/ع)."""
    return "".join(_PERSIAN_SAME.get(c, c) for c in word if c not in "\u200c ")


def latin_sound(latin: str) -> str:
    return re.sub(r"(.)\1", r"\1", latin.lower().replace("gh", "q").replace("kh", "x").replace("'", ""))


SOUNDS = {
    Language.RU: lambda i: russian_sound(WORD_LISTS[Language.RU][i]),
    Language.ZH: lambda i: mandarin_sound(ROMANIZED[Language.ZH][i]),
    Language.FA: lambda i: persian_sound(WORD_LISTS[Language.FA][i]) + "|" + latin_sound(ROMANIZED[Language.FA][i]),
}


@pytest.mark.parametrize("lang", list(Language), ids=str)
def test_every_list_has_256_distinct_words(lang: Language) -> None:
    words = WORD_LISTS[lang]
    assert len(words) == len(ROMANIZED[lang]) == 256
    assert len(set(words)) == 256 and len(set(ROMANIZED[lang])) == 256
    assert all(w and w == w.strip() and " " not in w and w.isprintable() for w in words)


@pytest.mark.parametrize("lang", [Language.RU, Language.ZH, Language.FA], ids=str)
def test_no_two_words_sound_alike(lang: Language) -> None:
    by_sound: dict[str, list[str]] = defaultdict(list)
    for i, word in enumerate(WORD_LISTS[lang]):
        for key in SOUNDS[lang](i).split("|"):
            by_sound[key].append(word)
    assert not [words for words in by_sound.values() if len(words) > 1]


def test_each_list_is_written_in_its_script() -> None:
    assert all(re.fullmatch("[а-яё]+", w) for w in WORD_LISTS[Language.RU])
    assert all(len(w) == 2 and all("\u4e00" <= c <= "\u9fff" for c in w) for w in WORD_LISTS[Language.ZH])
    assert all(all("\u0600" <= c <= "\u06ff" for c in w) for w in WORD_LISTS[Language.FA])
    for lang in (Language.RU, Language.ZH, Language.FA):
        assert all(re.fullmatch(r"[a-z'\u0300-\u036f]+", unicodedata.normalize("NFD", r)) for r in ROMANIZED[lang])
    assert romanize_ru("ёжик") == "yozhik" and romanize_ru("щука") == "shchuka"


def test_english_is_unchanged() -> None:
    key = bytes([0, 1, 255, 9])
    assert sas_words(key) == "acorn adobe window" == " ".join(WORDS[b] for b in key[:3])


@given(st.binary(min_size=3, max_size=8))
def test_both_sides_show_the_same_indices_in_the_customers_language(key: bytes) -> None:
    english = sas_words(key)  # what the events carry
    assert indices_of(english) == sas_indices(key)
    for lang in Language:
        customer = localize(english, lang)
        assert customer == sas_words(key, language=lang)
        assert [WORD_LISTS[lang].index(w) for w in customer.split()] == list(key[:3])
        agent = for_agent(english, lang)
        assert all(w in agent for w in customer.split())
        if lang is not Language.EN:
            assert all(f"({ROMANIZED[lang][i]})" in agent for i in key[:3])


def test_not_an_sas_stays_as_it_is() -> None:
    assert indices_of("acorn notaword") is None
    assert localize("acorn notaword", Language.RU) == "acorn notaword"
    assert for_agent("", Language.RU) == ""
