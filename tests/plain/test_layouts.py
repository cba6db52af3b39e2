"""The layouts table: a layout's letter is the US key in its place, and nothing else is a key."""

from __future__ import annotations

import pytest

from cobrowse.plain.keymap import KEYMAP, Front, command_for
from cobrowse.plain.layouts import BY_LANGUAGE, LAYOUTS, UNAMBIGUOUS, _ROWS, us_key

#: The key marked y, as each layout sends it.
WHERE_Y = {"ru": "н", "uk": "н", "el": "υ", "he": "ט", "fa": "غ", "ar": "غ"}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_layout_row_lines_up_with_the_us_keys(layout: str) -> None:
    assert len(LAYOUTS[layout]) == len(_ROWS)
    assert LAYOUTS[layout][_ROWS.index("y")] == WHERE_Y[layout]


@pytest.mark.parametrize("language", ["", "en", "ru", "fa", "zh"])
def test_only_the_key_where_y_is_answers_allow(language: str) -> None:
    """No other character of any layout becomes y, whatever the language."""
    allow = next(k.key for k in KEYMAP if k.command == "allow")
    chars = {c for row in LAYOUTS.values() for c in row if c != "\0"}
    assert {c for c in chars if us_key(c, language) == allow} == set(WHERE_Y.values())


def test_a_character_two_layouts_place_apart_is_no_key_unless_the_language_settles_it() -> None:
    """Persian د is n (deny), Arabic د is ]: an Arabic customer's ] must not deny, a Persian one's n must."""
    assert us_key("د") is None and us_key("د", "ru") is None
    assert us_key("د", "fa") == "n"
    assert us_key("ز", "fa") == "c" and us_key("ز") is None
    assert set(BY_LANGUAGE) <= {"ru", "fa", "zh", "en"}


@pytest.mark.parametrize("char", ["х", "ъ", "ж", "э", "б", "ю", "ё", "ї", "є", "ף", "ת", "ץ", "ج", "چ", "ک", "گ", "و", "ك"])
def test_letters_on_punctuation_keys_are_no_key(char: str) -> None:
    assert us_key(char) is None and us_key(char, "fa") is None and us_key(char, "ru") is None


@pytest.mark.parametrize("char", ["Н", "Υ", "y", "Y", "中", "", "нн", "\0"])
def test_upper_case_ascii_and_others_are_no_key(char: str) -> None:
    assert us_key(char) is None


def test_every_mapped_character_is_a_letter_key_and_not_ascii() -> None:
    assert UNAMBIGUOUS and all(not c.isascii() and us.isascii() and us.isalpha() for c, us in UNAMBIGUOUS.items())


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_each_layout_reaches_every_letter_key_ctrl_bracket_uses(layout: str) -> None:
    """The keys of both front ends (c y n g s r p a d m k t o u x l f e b v, h for help), from
    each layout, in its own language where one settles a shared letter (Persian's n, c, x, b)."""
    language = next((lang for lang, names in BY_LANGUAGE.items() if layout in names), "")
    letters = {k.key for k in KEYMAP if k.key.isalpha()} | {"h"}
    reached = {us_key(c, language) for c in LAYOUTS[layout] if c != "\0"}
    missing = {k for k in letters if k not in reached}
    # Arabic's b sends two characters (lam, alef): the app's panel key is not reached from it
    assert missing == ({"b"} if layout == "ar" else set()), (layout, missing)
    assert command_for(us_key(WHERE_Y[layout], language) or "", Front.PLAIN) == "allow"
