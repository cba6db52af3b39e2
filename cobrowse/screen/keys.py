"""Key names (as Textual reports them) to the bytes a real terminal sends.

Follows xterm: cursor keys honour application cursor mode (DECCKM: ``ESC O A``
instead of ``ESC [ A``) when unmodified; modified cursor and function keys use
the ``CSI 1 ; m X`` / ``CSI n ; m ~`` forms with m = 1 + shift + 2*alt + 4*ctrl;
``alt+`` on anything else is an ESC prefix. Unknown names raise ValueError.
"""

from __future__ import annotations

import unicodedata

from .state import Modes

__all__ = ["encode_key", "encode_paste", "PASTE_START", "PASTE_END"]

ESC = "\x1b"
PASTE_START = b"\x1b[200~"
PASTE_END = b"\x1b[201~"

# Final byte of CSI/SS3 cursor-type keys.
_CURSOR = {"up": "A", "down": "B", "right": "C", "left": "D", "home": "H", "end": "F"}
# SS3 function keys F1-F4.
_SS3_F = {"f1": "P", "f2": "Q", "f3": "R", "f4": "S"}
# CSI n ~ keys.
_TILDE = {
    "insert": 2, "delete": 3, "pageup": 5, "pagedown": 6,
    "f5": 15, "f6": 17, "f7": 18, "f8": 19, "f9": 20, "f10": 21, "f11": 23, "f12": 24,
}
_ALIASES = {
    "return": "enter", "ctrl-at": "ctrl+@", "page_up": "pageup", "page_down": "pagedown",
    "esc": "escape", "del": "delete", "ins": "insert", "backtab": "shift+tab",
}
# Textual names printable keys by their Unicode names, with a few renamed.
_PUNCT = {
    "exclamation_mark": "!", "quotation_mark": '"', "number_sign": "#", "dollar_sign": "$",
    "percent_sign": "%", "ampersand": "&", "apostrophe": "'", "left_parenthesis": "(",
    "right_parenthesis": ")", "asterisk": "*", "plus": "+", "plus_sign": "+", "comma": ",",
    "minus": "-", "hyphen_minus": "-", "full_stop": ".", "slash": "/", "solidus": "/",
    "colon": ":", "semicolon": ";", "less_than_sign": "<", "equals_sign": "=",
    "greater_than_sign": ">", "question_mark": "?", "at": "@", "commercial_at": "@",
    "left_square_bracket": "[", "backslash": "\\", "reverse_solidus": "\\",
    "right_square_bracket": "]", "circumflex_accent": "^", "underscore": "_", "low_line": "_",
    "grave_accent": "`", "left_curly_bracket": "{", "vertical_line": "|",
    "right_curly_bracket": "}", "tilde": "~", "space": " ",
}
_SIMPLE = {"enter": "\r", "tab": "\t", "backspace": "\x7f", "escape": ESC, "space": " "}
# ctrl + a character that is not a letter (xterm's legacy table).
_CTRL_OTHER = {
    "@": "\x00", " ": "\x00", "2": "\x00", "[": ESC, "3": ESC, "\\": "\x1c", "4": "\x1c",
    "]": "\x1d", "5": "\x1d", "^": "\x1e", "6": "\x1e", "_": "\x1f", "7": "\x1f", "/": "\x1f",
    "-": "\x1f", "?": "\x7f", "8": "\x7f",
}
_MODS = {"shift": 1, "alt": 2, "meta": 2, "option": 2, "ctrl": 4, "control": 4}


def _char_of(name: str) -> str | None:
    """The character a key name stands for: 'a', 'A', 'full_stop', 'slash', ..."""
    if len(name) == 1:
        return name if name.isprintable() else None
    ch = _PUNCT.get(name)
    if ch is not None:
        return ch
    try:
        ch = unicodedata.lookup(name.replace("_", " ").upper())
    except KeyError:
        return None
    return ch if len(ch) == 1 and ch.isprintable() else None


def _split(key: str) -> tuple[int, str]:
    """(modifier bits, base key name)."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"unknown key {key!r}")
    if len(key) == 1:
        return 0, key
    key = _ALIASES.get(key, key)
    if key.endswith("++"):  # "ctrl++"
        mods_part, base = key[:-2], "+"
        parts = mods_part.split("+") if mods_part else []
    else:
        parts = key.split("+")
        base = parts.pop()
    mods = 0
    for p in parts:
        bit = _MODS.get(p.lower())
        if bit is None:
            raise ValueError(f"unknown key modifier {p!r} in {key!r}")
        mods |= bit
    if not base:
        raise ValueError(f"unknown key {key!r}")
    lowered = base.lower() if len(base) > 1 else base
    return mods, _ALIASES.get(lowered, lowered)


def encode_key(key: str, modes: Modes = Modes()) -> bytes:
    """The bytes a terminal sends for the Textual key name ``key``."""
    mods, base = _split(key)
    shift, alt, ctrl = mods & 1, mods & 2, mods & 4
    param = 1 + mods  # xterm modifier parameter

    # Cursor / editing / function keys: modifiers go into the sequence.
    if base in _CURSOR:
        final = _CURSOR[base]
        if mods:
            return f"{ESC}[1;{param}{final}".encode()
        return f"{ESC}{'O' if modes.app_cursor else '['}{final}".encode()
    if base in _SS3_F:
        final = _SS3_F[base]
        return (f"{ESC}[1;{param}{final}" if mods else f"{ESC}O{final}").encode()
    if base in _TILDE:
        n = _TILDE[base]
        return (f"{ESC}[{n};{param}~" if mods else f"{ESC}[{n}~").encode()
    if base.startswith("f") and base[1:].isdigit() and 13 <= int(base[1:]) <= 24:
        # F13..F24 are xterm's shift+F1..F12.
        return encode_key("+".join(_names(mods | 1) + [f"f{int(base[1:]) - 12}"]), modes)

    prefix = ESC if alt else ""
    if base == "tab":
        return (prefix + (f"{ESC}[Z" if shift else "\t")).encode()
    if base == "backspace":
        return (prefix + ("\x08" if ctrl else "\x7f")).encode()
    if base in ("enter", "escape"):
        return (prefix + _SIMPLE[base]).encode()
    if base == "space":
        return (prefix + ("\x00" if ctrl else " ")).encode()

    ch = _char_of(base)
    if ch is None:
        raise ValueError(f"unknown key {key!r}")
    if shift and len(base) == 1 and ch.isalpha():
        ch = ch.upper()
    if ctrl:
        if ch.isascii() and ch.isalpha():
            ch = chr(ord(ch.upper()) - 64)
        else:
            ch = _CTRL_OTHER.get(ch, ch)
    return (prefix + ch).encode("utf-8")


def _names(mods: int) -> list[str]:
    out = []
    if mods & 4:
        out.append("ctrl")
    if mods & 2:
        out.append("alt")
    if mods & 1:
        out.append("shift")
    return out


def encode_paste(text: str, modes: Modes = Modes()) -> bytes:
    """Bytes for pasting ``text``: newlines become CR (as terminals send them) and,
    in bracketed paste mode, the text is wrapped in ESC[200~ ... ESC[201~ (any
    end marker inside the text is removed so a paste cannot escape the brackets)."""
    text = text.replace("\r\n", "\r").replace("\n", "\r")
    if not modes.bracketed_paste:
        return text.encode("utf-8", "replace")
    body = text.encode("utf-8", "replace")
    while PASTE_END in body:
        body = body.replace(PASTE_END, b"")
    return PASTE_START + body + PASTE_END
