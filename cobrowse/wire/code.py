"""Session codes: ``<nameplate>-<secret>``, made to be read aloud over the phone.

The relay allocates the nameplate; the secret is drawn by the creating client and never
leaves it. Digits only, grouped in fours: ``42-7193-0518``. Parsing is forgiving about
separators because people type what they hear: ``42 7193 0518`` and ``4271930518`` are
the same code (the secret is always the last eight digits).
"""

from __future__ import annotations

import re
from typing import Callable

from cobrowse.errors import InvalidCode
from cobrowse.wire.frozen import frozen

SECRET_DIGITS = 8
MAX_NAMEPLATE_DIGITS = 6
#: Separators people type or paste: dashes of every kind (a chat app turns "-" into "–"), dots, ...
_NON_DIGITS = re.compile(r"[\s.\-_/\u2010-\u2015\u2212]+")


@frozen
class Code:
    nameplate: str
    secret: str

    def __str__(self) -> str:
        return f"{self.nameplate}-{self.secret[:4]}-{self.secret[4:]}"

    @property
    def password(self) -> bytes:
        """The PAKE password: the whole canonical code, so the nameplate is bound too."""
        return str(self).encode("ascii")

    def spoken(self) -> str:
        """How to read it over the phone: digit by digit, in groups."""
        groups = [self.nameplate, self.secret[:4], self.secret[4:]]
        return ", ".join(" ".join(group) for group in groups)


def _ascii_digits(text: str) -> bool:
    # str.isdigit() also accepts '²' (int() rejects it) and other scripts' digits (the
    # password must be ASCII): only 0-9 make a code.
    return text.isascii() and text.isdigit()


def validate_nameplate(nameplate: str) -> str:
    if not _ascii_digits(nameplate) or not 1 <= len(nameplate) <= MAX_NAMEPLATE_DIGITS:
        raise InvalidCode(f"invalid nameplate {nameplate!r}: expected 1-{MAX_NAMEPLATE_DIGITS} digits")
    return str(int(nameplate))


def parse_code(text: str) -> Code:
    """Parse what a person typed; raise InvalidCode with a hint when it cannot be a code."""
    stripped = _NON_DIGITS.sub("", text.strip())
    if not _ascii_digits(stripped):
        raise InvalidCode(
            f"{text!r} is not a session code: a code is digits like 42-7193-0518; "
            "ask the other person to read it again"
        )
    groups = [group for group in _NON_DIGITS.split(text.strip()) if group]
    # Three groups whose last two hold fewer than eight digits lack a digit: taken together they
    # would be cut elsewhere (42-7193-051 read as 4-2719-3051), a guess at another session.
    if len(stripped) <= SECRET_DIGITS or (len(groups) == 3 and len(groups[1]) + len(groups[2]) < SECRET_DIGITS):
        raise InvalidCode(
            f"{text!r} is too short for a session code (like 42-7193-0518): "
            "check that no digits are missing"
        )
    nameplate, secret = stripped[:-SECRET_DIGITS], stripped[-SECRET_DIGITS:]
    if len(nameplate) > MAX_NAMEPLATE_DIGITS:
        raise InvalidCode(f"{text!r} is too long for a session code (like 42-7193-0518)")
    return Code(validate_nameplate(nameplate), secret)


def new_secret(randbelow: Callable[[int], int]) -> str:
    """A fresh secret; pass ``secrets.randbelow`` (the caller owns the randomness)."""
    return f"{randbelow(10**SECRET_DIGITS):0{SECRET_DIGITS}d}"
