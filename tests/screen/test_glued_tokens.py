"""Tokens with no word boundary before them: glued to the word before (``0ghp_...``, a JSON
string's ``\\nghp_...``) or after a URL escape (``?token%3Dghp_...``, ``Bearer%20eyJ...``).
Every built-in token shape began with a word boundary, so such a token reached the agent
whole, unless the customer had typed it at the cursor earlier (found by hypothesis in
test_fetch_rows.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cobrowse.screen import ScreenSender
from cobrowse.screen.redact import MASK_CHAR, LineRedactor, Redactor

GITHUB = "ghp_" + "Canary0123456789abcdefghijklmnopqrstu"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcdefghijklmnop"

SECRETS = [
    ("out 0{}", GITHUB),
    ("GET /cb?token%3D{} 200", GITHUB),
    ("q=%7B%22access_token%22%3A%22{}%22", GITHUB),
    ('{{"msg":"done\\n{}"}}', GITHUB),
    ("Authorization=Bearer%20{}", JWT),
    ("key%3D{}%26x", "AKIAIOSFODNN7CANARY1"),
    ("k%3D{}", "glpat-abcdefghij0123456789"),
    ("x%3D{}", "sk-proj-abcdefghijklmnopqrstuvwxyz0123"),
    ("hook%3D{}", "xoxb-123456789012-123456789012-abcdefghijklmnopqrstuvwx"),
    ("%3D{}", "AIzaSyA1234567890abcdefghijklmnopqrstuv"),
    ("%3D{}", "npm_abcdefghijklmnopqrstuvwxyz0123456789"),
    ("id_{}", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"),
    ("x{}", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
]


@pytest.mark.parametrize(("line", "secret"), SECRETS)
def test_a_token_without_a_word_boundary_before_it_is_masked(line: str, secret: str) -> None:
    text = line.format(secret)
    masked = Redactor().mask(text)
    at = text.index(secret)
    assert masked[at:at + len(secret)] == MASK_CHAR * len(secret)
    assert masked[:at] == text[:at]  # the word it is glued to stays


@pytest.mark.parametrize("text", [
    "task_live_updates_enabled_for_all_users", "disk_test_results_directory_name_here",
    "benchmark_test_results_2024_linux_x86_64", "laughs_at_2024 highs_and_lows",
    "sigh_of_relief_0123456789", "path%2Fto%2Ffile%3Dvalue", "100%25 done", "x%20y%20sk-short",
])
def test_identifiers_that_hold_a_prefix_stay_readable(text: str) -> None:
    assert Redactor().mask(text) == text


def test_the_sender_masks_a_glued_token_printed_away_from_the_cursor() -> None:
    """Nothing typed: the program prints the token glued to a digit and the cursor is elsewhere
    (before, every cell of it reached the agent)."""
    s = ScreenSender(80, 10, redactor=Redactor())
    s.feed(("build 7" + GITHUB + " done\r\n$ ").encode())
    assert s.poll(1.0) is not None and s.sent is not None
    assert s.sent.rows[0].text.rstrip() == "build 7" + MASK_CHAR * len(GITHUB) + " done"


def test_the_step_patterns_lines_are_masked_too() -> None:
    """The lines a playbook's ``expect`` patterns see are masked line by line with no cursor
    and no memory of what was typed: before, they held the glued token whole (an agent's step
    pattern could probe it)."""
    lines = LineRedactor(Redactor()).feed(["0" + GITHUB, "curl https://api.example/x?token%3D" + GITHUB])
    assert lines == ["0" + MASK_CHAR * len(GITHUB), "curl https://api.example/x?token%3D" + MASK_CHAR * len(GITHUB)]


def test_a_token_typed_after_a_url_escape_is_masked_from_its_prefix() -> None:
    """Typed key by key with a frame after each: from the prefix on, no character of it shows."""
    line = "curl 'https://api.example/cb?token%3D" + GITHUB + "'"
    at = line.index(GITHUB)
    for i, shown in enumerate(_typed(line)):
        if at + 3 <= i < at + len(GITHUB):
            assert shown[at:i + 1] == MASK_CHAR * (i + 1 - at), shown


_ANY_BEFORE = [GITHUB, "glpat-abcdefghij0123456789", "xoxb-123456789012-123456789012-abcdefghijklmnopqrstuvwx",
               "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"]
_AFTER_A_BOUNDARY = ["AKIAIOSFODNN7CANARY1", JWT, "AIzaSyA1234567890abcdefghijklmnopqrstuv",
                     "npm_abcdefghijklmnopqrstuvwxyz0123456789", "sk-proj-abcdefghijklmnopqrstuvwxyz0123"]
_before = st.text(alphabet="abcXYZ019_-=:/?&%\"' \\", max_size=12)
_after = st.sampled_from(["", " ", "\"", "&x=1", "%26y", "' done", ","])


@settings(max_examples=400, deadline=None)
@given(before=_before, secret=st.sampled_from(_ANY_BEFORE), after=_after)
def test_a_strong_prefix_token_is_masked_whatever_comes_before_it(before: str, secret: str, after: str) -> None:
    text = before + secret + after
    masked = Redactor().mask(text)
    assert masked[len(before):len(before) + len(secret)] == MASK_CHAR * len(secret)


@settings(max_examples=400, deadline=None)
@given(before=_before, escape=st.sampled_from(["", " ", "=", "%3D", "%20", "%22", "%3a", ":", "(", "\""]),
       secret=st.sampled_from(_AFTER_A_BOUNDARY), after=_after)
def test_a_token_after_a_boundary_or_a_url_escape_is_masked(before: str, escape: str, secret: str, after: str) -> None:
    if not escape and before and (before[-1].isalnum() or before[-1] == "_"):
        escape = " "  # glued to a word: only the strong prefixes are masked there
    text = before + escape + secret + after
    at = len(before) + len(escape)
    assert Redactor().mask(text)[at:at + len(secret)] == MASK_CHAR * len(secret)


@pytest.mark.parametrize("glued_to", ["0", "x", "7\\n"])
@pytest.mark.parametrize(("secret", "prefix"), [(GITHUB, "ghp_"), ("glpat-abcdefghij0123456789", "glpat-"),
                                                ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_")])
def test_a_glued_token_typed_key_by_key_shows_nothing_past_its_prefix(glued_to: str, secret: str, prefix: str) -> None:
    """``echo 0ghp_...`` typed one key at a time: the cursor's word starts with the ``0``, so
    the typing rule (a prefix after a word boundary) missed it and the agent saw
    ``0ghp_Canary012345`` until the whole shape matched (qa11, a headless agent's screen
    events). At most the prefix without its last character shows, as after a boundary."""
    if prefix == "sk_live_" and glued_to == "x":
        glued_to = "9"  # task_live_...: only after a digit (next test)
    line = "$ echo " + glued_to + secret
    at = line.index(secret)
    for i, shown in enumerate(_typed(line)):
        assert shown[:min(i + 1, at)] == line[:min(i + 1, at)], shown
        assert all(shown[k] == MASK_CHAR for k in range(at + len(prefix) - 1, i + 1)), shown


@pytest.mark.parametrize("word", ["highs_and_lows", "task_live_updates", "disk_test_results", "my-task-proj-1"])
def test_identifiers_typed_that_end_like_a_prefix_are_readable(word: str) -> None:
    *_, shown = _typed("$ echo " + word + " ")
    assert shown.rstrip() == "$ echo " + word


def _typed(line: str) -> Iterator[str]:
    """``line`` typed key by key with a frame after each: the first row as each frame sent it."""
    s = ScreenSender(120, 5, redactor=Redactor())
    now = 0.0
    for ch in line:
        s.feed(ch.encode())
        now += 1.0
        s.poll(now)
        assert s.sent is not None
        yield s.sent.rows[0].text
