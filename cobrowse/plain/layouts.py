"""The letter key the customer pressed, whatever keyboard layout is on: Ctrl-] н is Ctrl-] y.

A terminal sends characters, not key positions: with a Russian layout the key marked y sends
``н``, with a Persian one ``غ``. Ctrl-] then answered with the help instead of allowing. This
table maps each common layout's unshifted letter back to the US key in the same place, so the
key the customer presses is the key the help names.

Only letter keys are mapped (the keys Ctrl-] uses, and any a config file may pick). A character
two layouts put on different keys (Persian ``د`` is n, Arabic ``د`` is ]) means nothing, unless
the customer's language names the layout (``language``); nothing else can become a key, so no
other key can answer "allow" by accident. Pure: data only.
"""

from __future__ import annotations

from typing import Mapping

#: Each layout's unshifted characters on the US keys of ``_ROWS`` (XKB's and Windows' standard
#: layouts agree on these); NUL where the key gives ASCII, a dead key or two characters. The
#: punctuation keys are here so that a letter another layout puts there is known to be ambiguous.
_ROWS = "qwertyuiop[]" "asdfghjkl;'" "zxcvbnm,./" "`"
LAYOUTS: Mapping[str, str] = {
    "ru": "йцукенгшщзхъ" "фывапролджэ" "ячсмитьбю\0" "ё",
    "uk": "йцукенгшщзхї" "фівапролджє" "ячсмитьбю\0" "\0",
    "el": "\0ςερτυθιοπ\0\0" "ασδφγηξκλ\0\0" "ζχψωβνμ\0\0\0" "\0",
    "he": "\0\0קראטוןםפ\0\0" "שדגכעיחלךף\0" "זסבהנמצתץ\0" "\0",
    "fa": "ضصثقفغعهخحجچ" "شسیبلاتنمکگ" "ظطزرذدپو\0\0" "\0",
    "ar": "ضصثقفغعهخحجد" "شسيبلاتنمكط" "ئءؤر\0ىةوزظ" "ذ",
}
#: The layouts a language's speakers use (the languages cobrowse speaks and a layout here).
BY_LANGUAGE: Mapping[str, tuple[str, ...]] = {"ru": ("ru",), "fa": ("fa",)}


def _positions() -> dict[str, dict[str, str]]:
    """Character → {layout: US key}; every row lines up with ``_ROWS``."""
    out: dict[str, dict[str, str]] = {}
    for name, row in LAYOUTS.items():
        if len(row) != len(_ROWS):
            raise ValueError(f"layout {name}: {len(row)} keys, not {len(_ROWS)}")
        for char, us in zip(row, _ROWS):
            if char != "\0":
                out.setdefault(char, {})[name] = us
    return out


_AT = _positions()
#: Characters every layout that has them puts on one letter key.
UNAMBIGUOUS: Mapping[str, str] = {c: us for c, w in _AT.items() if len(set(w.values())) == 1
                                  and (us := next(iter(w.values()))).isalpha()}


def us_key(char: str, language: str = "") -> str | None:
    """The US letter key that sends ``char`` in a common layout (``н`` → ``y``); None for a
    character no layout here sends, or one two layouts place apart and ``language`` does not
    settle."""
    if char in UNAMBIGUOUS:
        return UNAMBIGUOUS[char]
    where = _AT.get(char, {})
    keys = {where[name] for name in BY_LANGUAGE.get(language, ()) if name in where}
    return keys.pop() if len(keys) == 1 and next(iter(keys)).isalpha() else None
