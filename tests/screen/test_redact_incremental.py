"""Redaction kept line by line (Redactor._line_spans) masks exactly what redacting every
line afresh masks, frame after frame: a key echo changes one row and the other lines are
looked up, never trusted blindly (a line under a new password prompt, a key block, a blob's
last line, a secret being typed at the cursor)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cobrowse.screen.redact import Redactor
from cobrowse.screen.state import Cursor, Row, Style

from .redact_corpus import build

COLS = 40
DEFAULT = Style(None, None, 0)
CASES = build()
PIECES = [
    "", "$ ", "Password:", "[sudo] password for joe:", "hunter2 ", "ls -l /usr/bin",
    "-----BEGIN OPENSSH PRIVATE KEY-----", "-----END OPENSSH PRIVATE KEY-----",
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
    "QyNTUxOQ", "export DB_PASS=s3cr3t", "ghp_", "AKIA", "curl -u bob:pw https://x",
    "x" * COLS, "y" * (COLS - 1) + " ",
] + [(c.before + c.secret.split("\n")[0] + c.after) for c in CASES[::7]]


def row(text: str) -> Row:
    text = text[:COLS].ljust(COLS)
    return Row.from_runs([(text, DEFAULT)])


screens = st.lists(st.sampled_from(PIECES), min_size=6, max_size=6)
edits = st.lists(st.tuples(st.integers(0, 5), st.sampled_from(PIECES), st.integers(0, 5), st.integers(0, COLS)),
                 min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(screens, edits)
def test_kept_lines_mask_what_a_fresh_pass_masks(start: list[str], changes: list[tuple[int, str, int, int]]) -> None:
    kept, fresh = Redactor(), Redactor()
    rows = [row(t) for t in start]
    for i, text, crow, ccol in changes:
        rows[i] = row(text)
        cursor = Cursor(ccol, crow, True)
        fresh._lines.clear()
        fresh._groups.clear()
        assert kept.redact_rows(rows, (), cursor) == fresh.redact_rows(rows, (), cursor)


def test_a_new_prompt_above_masks_an_unchanged_line_under_it() -> None:
    redactor = Redactor()
    rows = [row("$ echo hi"), row("hunter2"), row("$ ")]
    assert redactor.redact_rows(rows)[1] == rows[1]
    rows[0] = row("Password:")
    assert redactor.redact_rows(rows)[1] != rows[1]


def test_remote_patterns_apply_to_lines_seen_before() -> None:
    redactor = Redactor()
    rows = [row("ticket TK-1234 open"), row("$ ")]
    assert redactor.redact_rows(rows)[0] == rows[0]
    redactor.add_remote([r"TK-\d+"])
    assert redactor.redact_rows(rows)[0] != rows[0]
