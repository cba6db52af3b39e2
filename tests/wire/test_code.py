"""Session codes: format, forgiving parse, helpful errors, secrets."""

from __future__ import annotations

import random
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cobrowse.errors import InvalidCode, LocalError
from cobrowse.wire.code import Code, new_secret, parse_code, validate_nameplate


def test_format() -> None:
    assert str(Code("42", "71930518")) == "42-7193-0518"


@pytest.mark.parametrize(
    "typed",
    [
        "42-7193-0518",
        "42 7193 0518",
        "4271930518",
        "42-7193-0518 ",
        "  42 - 7193 - 0518\n",
        "42.7193.0518",
        "42_7193/0518",
        "42\t7193  0518",
        "42–7193–0518",  # en dash: what chat apps and word processors make of "-"
        "42—7193—0518",
        "42−7193−0518",
        "42‐7193‑0518",
    ],
)
def test_forgiving_parse(typed: str) -> None:
    assert parse_code(typed) == Code("42", "71930518")


@pytest.mark.parametrize("typed", ["0042-7193-0518", "042 7193 0518", "00427193 0518"])
def test_leading_zeros_in_nameplate_are_normalised(typed: str) -> None:
    code = parse_code(typed)
    assert code.nameplate == "42"
    assert str(code) == "42-7193-0518"


def test_zero_nameplate_and_leading_zeros_in_secret_are_kept() -> None:
    code = parse_code("000-0000-0007")
    assert code == Code("0", "00000007")
    assert str(code) == "0-0000-0007"


@given(st.integers(0, 999_999), st.integers(0, 10**8 - 1), st.sampled_from(["-", " ", "", " - "]))
def test_round_trip(nameplate: int, secret: int, sep: str) -> None:
    code = Code(str(nameplate), f"{secret:08d}")
    assert parse_code(str(code)) == code
    text = sep.join([code.nameplate, code.secret[:4], code.secret[4:]])
    assert parse_code(text) == code


@pytest.mark.parametrize(
    "typed, hint",
    [
        ("42-71a3-0518", "not a session code"),
        ("forty-two", "not a session code"),
        ("", "not a session code"),
        ("   ", "not a session code"),
        ("42-7193-0518!", "not a session code"),
        ("7193-0518", "too short"),
        ("4-719-0518", "too short"),
        ("42-7193-051", "too short"),  # not 4-2719-3051: another session's nameplate
        ("42 719 0518", "too short"),
        ("42", "too short"),
        ("1234567-7193-0518", "too long"),
        ("12345678901234567890", "too long"),
    ],
)
def test_invalid_codes_raise_with_a_helpful_message(typed: str, hint: str) -> None:
    with pytest.raises(InvalidCode) as info:
        parse_code(typed)
    message = str(info.value)
    assert hint in message
    assert "42-7193-0518" in message  # shows what a code looks like
    assert isinstance(info.value, LocalError)


@pytest.mark.parametrize("typed", ["٤٢-٧١٩٣-٠٥١٨", "²1234567", "42-7193-051²", "4²-7193-0518"])
def test_non_ascii_digits_are_invalid_codes_not_crashes(typed: str) -> None:
    # str.isdigit() accepts these; the PAKE password must be ASCII and int("²") fails
    with pytest.raises(InvalidCode):
        parse_code(typed)


@given(st.text(max_size=40))
def test_parse_raises_only_invalid_code(text: str) -> None:
    try:
        code = parse_code(text)
    except InvalidCode:
        return
    assert code.password.decode("ascii") == str(code)
    assert len(code.secret) == 8 and code.secret.isdigit()


@pytest.mark.parametrize("bad", ["", "abc", "1234567", "-1", " 42"])
def test_validate_nameplate_rejects(bad: str) -> None:
    with pytest.raises(InvalidCode, match="nameplate"):
        validate_nameplate(bad)


def test_validate_nameplate_normalises() -> None:
    assert validate_nameplate("000042") == "42"
    assert validate_nameplate("999999") == "999999"


def test_new_secret_always_eight_digits() -> None:
    asked = []

    def randbelow(n: int) -> int:
        asked.append(n)
        return 0

    assert new_secret(randbelow) == "00000000"
    assert asked == [10**8]
    assert new_secret(lambda n: n - 1) == "99999999"
    assert new_secret(lambda n: 7) == "00000007"
    rng = random.Random(1)
    for _ in range(200):
        for s in (new_secret(secrets.randbelow), new_secret(rng.randrange)):
            assert len(s) == 8 and s.isdigit() and s.isascii()


def test_new_secret_is_random() -> None:
    assert len({new_secret(secrets.randbelow) for _ in range(50)}) > 45


def test_password_binds_nameplate() -> None:
    a = Code("42", "71930518")
    assert a.password == b"42-7193-0518"
    assert Code("43", "71930518").password != a.password
    assert Code("42", "71930519").password != a.password
    assert parse_code("0042 7193 0518").password == a.password


def test_spoken() -> None:
    assert Code("42", "71930518").spoken() == "4 2, 7 1 9 3, 0 5 1 8"
    assert Code("7", "00000000").spoken() == "7, 0 0 0 0, 0 0 0 0"
