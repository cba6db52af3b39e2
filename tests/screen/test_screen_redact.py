"""Redaction (cobrowse/screen/redact.py): what is masked, what is not, and how masks travel."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cobrowse.screen import Emulator, ScreenFrame, ScreenMirror, ScreenSender
from cobrowse.screen.sync import redact_clustered
from cobrowse.screen.redact import (
    CONTEXT_ROWS,
    MASK_CHAR,
    MASK_STYLE,
    LineRedactor,
    RedactPatternError,
    Redactor,
    luhn_ok,
    redacted_spans,
)
from cobrowse.screen.state import REDACTED, Row, Style

sys.path.insert(0, str(Path(__file__).parent))
from streams import split_stream  # noqa: E402

AWS = "AKIAIOSFODNN7CANARY1"
GITHUB = "ghp_" + "Canary0123456789abcdefghijklmnopqrstu"
GITHUB_PAT = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzCANARY"
SLACK = "xoxb-123456789012-canarytoken"
STRIPE = "sk_live_CanaryCanary0123456789"
GOOGLE = "AIzaSyA-canary1234567890abcdefghijklmno"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlLWNhbmFyeS0xMjM"
CARD = "4111 1111 1111 1111"  # Luhn-valid (a well-known test number)
CARD_DASHES = "5500-0000-0000-0004"
CARD_BAD = "4111 1111 1111 1112"  # one digit off: fails the Luhn check
PEM_BODY = [
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
    "QyNTUxOQAAACBDYW5hcnlDYW5hcnlDYW5hcnlDYW5hcnlDYW5hcnkAAAAAAAAAAAAAAA",
    "Q2FuYXJ5Cg==",
]
PEM = ["-----BEGIN OPENSSH PRIVATE KEY-----", *PEM_BODY, "-----END OPENSSH PRIVATE KEY-----"]


def masked(text: str, secret: str) -> str:
    return text.replace(secret, MASK_CHAR * len(secret))


@pytest.mark.parametrize("secret", [AWS, GITHUB, GITHUB_PAT, SLACK, STRIPE, GOOGLE, JWT, CARD, CARD_DASHES,
                                    "4111111111111111", "3782 822463 10005",
                                    "sk-proj-Canary0123456789abcdefghij", "glpat-Canary0123456789abcd",
                                    "npm_" + "C" * 36, "ya29.Canary0123456789abcdefghij"])
def test_builtin_token_formats_are_masked_whole(secret: str) -> None:
    line = f"$ echo {secret} done"
    assert Redactor().mask(line) == masked(line, secret)


@pytest.mark.parametrize("line, secret", [
    ("password: hunter2xyz", "hunter2xyz"),
    ("Password:hunter2xyz", "hunter2xyz"),
    ("DB_PASSWORD=hunter2xyz ./run", "hunter2xyz"),
    ("passwd=hunter2xyz", "hunter2xyz"),
    ("client_secret: s3cr3t-value", "s3cr3t-value"),
    ("secret: topsecret", "topsecret"),
    ('{"password": "hunter2xyz", "user": "bob"}', "hunter2xyz"),
    ("GITHUB_TOKEN=abc123", "abc123"),
    ("api_key = 1234abcd", "1234abcd"),
    ("export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("Authorization: Bearer abcdefghijklmnop", "abcdefghijklmnop"),
    ("postgres://bob:hunter2xyz@db.example.com/app", "hunter2xyz"),
])
def test_the_value_after_a_secret_label_is_masked_not_the_label(line: str, secret: str) -> None:
    assert Redactor().mask(line) == masked(line, secret)


@pytest.mark.parametrize("line", [
    "[sudo] password for joe:",
    "Password:",
    "max_tokens=100",
    "compass: north",
    "bypass: on",
    CARD_BAD,
    "4111111111111112",
    "commit 3f2a9c1d3f2a9c1d3f2a9c1d3f2a9c1d3f2a9c1d",
    "2026-12-01 21:25:12 pid 4242 took 1234567890123 ns",
    "-rw-r--r-- 1 joe joe 4096 Dec  1 21:25 notes.txt",
    "ghp_short",
    "see https://example.com/docs?id=123",
    "1 2 3 4 5 6 7 8 9 1 2 3 4 5 6 7 8 9 0",  # digits, not grouped like a card
])
def test_ordinary_output_is_left_alone(line: str) -> None:
    assert Redactor().mask(line) == line


def test_luhn() -> None:
    assert luhn_ok("4111111111111111") and luhn_ok("79927398713")
    assert not luhn_ok("4111111111111112") and not luhn_ok("79927398710")


def test_custom_patterns_are_masked_and_bad_ones_are_named() -> None:
    r = Redactor([r"ACME-\d{6}"])
    assert r.mask("ticket ACME-123456 open") == f"ticket {MASK_CHAR * 11} open"
    with pytest.raises(RedactPatternError, match=r"from --redact: not a valid regex"):
        Redactor(["(unclosed"], source="--redact")
    with pytest.raises(RedactPatternError, match="longer than 500"):
        Redactor(["x" * 501])


def test_remote_patterns_only_see_text_already_masked() -> None:
    """A pattern from the agent cannot tell it anything about what lies under a mask: it is
    matched against the masked text, so one that would match only with the secret does not."""
    r = Redactor()
    line = "password: hunter2xyz and more"
    assert r.add_remote(["hunter2xyz and", r"password: h\w+ and"]) == 2
    assert r.mask(line) == masked(line, "hunter2xyz")  # no extra mask: nothing to learn
    r.add_remote(["more"])
    assert r.mask(line) == masked(masked(line, "hunter2xyz"), "more")
    assert r.add_remote(["more"]) == 0  # already there
    with pytest.raises(RedactPatternError, match="the agent"):
        r.add_remote(["(bad"])


def test_a_pattern_that_runs_out_of_time_masks_the_whole_line() -> None:
    r = Redactor([r"(a|aa)+$"], timeout=0.01)
    line = "a" * 40 + "!"
    assert r.mask(line) == MASK_CHAR * len(line)  # fail closed


def screen_of(lines: list[str], cols: int = 80, rows: int = 12) -> Emulator:
    emu = Emulator(cols, rows)
    emu.feed("\r\n".join(lines).encode())
    return emu


def test_a_private_key_block_is_masked_between_its_markers() -> None:
    emu = screen_of(["$ cat ~/.ssh/id_ed25519", *PEM, "$ "])
    lines = Redactor().redact_state(emu.state()).lines()
    assert lines[1] == PEM[0] and lines[5] == PEM[-1]  # the markers say what was there
    for i, body in enumerate(PEM_BODY, start=2):
        assert lines[i] == MASK_CHAR * len(body)
    assert lines[6] == "$"


def test_a_key_body_is_masked_when_one_marker_is_off_screen() -> None:
    # BEGIN scrolled off: the base64 rows above the END marker are masked.
    lines = Redactor().redact_state(screen_of(PEM_BODY[1:] + PEM[-1:] + ["$ "]).state()).lines()
    assert lines[:2] == [MASK_CHAR * len(b) for b in PEM_BODY[1:]]
    # END not printed yet (still scrolling, or a pager): everything after BEGIN is masked.
    lines = Redactor().redact_state(screen_of(["$ less key", *PEM[:3]]).state()).lines()
    assert lines[2:4] == [MASK_CHAR * len(b) for b in PEM_BODY[:2]]
    # A key on one line (JSON, an env var) is masked after its BEGIN marker.
    one = "KEY=" + PEM[0] + "\\n" + PEM_BODY[0] + "\\n" + PEM[-1]
    assert PEM_BODY[0] not in Redactor().mask(one)


def test_a_token_wrapped_over_two_rows_is_masked_on_both() -> None:
    emu = screen_of(["$ export A=" + AWS + " B=" + GITHUB], cols=20)
    state = Redactor().redact_state(emu.state())
    text = "".join(r.text for r in state.rows)
    assert AWS not in text and GITHUB not in text
    for part in (AWS[:9], AWS[9:], GITHUB[:10], GITHUB[-10:]):
        assert part not in text


def test_masked_cells_carry_the_mask_style_and_wide_chars_become_two_masks() -> None:
    emu = screen_of(["password: 秘密xy tail"], cols=30, rows=2)
    state = Redactor().redact_state(emu.state())
    row = state.rows[0]
    assert row.width == 30 and row.wide == ()
    assert row.text.startswith("password: " + MASK_CHAR * 6 + " tail")
    assert [s for t, s in row.runs if MASK_CHAR in t] == [MASK_STYLE]
    assert redacted_spans(row) == [(10, 16)]
    assert redacted_spans(state.rows[1]) == []
    plain = Row.from_runs([("a", Style()), ("b", Style(1, None, REDACTED))])
    assert redacted_spans(plain) == [(1, 2)]


def test_frames_carry_the_mask_and_never_the_secret() -> None:
    sender = ScreenSender(80, 10, redactor=Redactor([r"ACME-\d{6}"]))
    mirror = ScreenMirror()
    sender.feed(f"password: hunter2xyz\r\n{AWS}\r\n{CARD}\r\n{CARD_BAD}\r\nACME-123456\r\n".encode())
    wire = json.dumps(sender.poll(0.0).to_dict())
    for secret in ("hunter2xyz", AWS, CARD, "ACME-123456"):
        assert secret not in wire
    assert CARD_BAD in wire
    state = mirror.apply(ScreenFrame.from_dict(json.loads(wire)))
    assert state.lines()[0] == "password: " + MASK_CHAR * 10
    assert redacted_spans(state.rows[1]) == [(0, 20)]
    # A diff: the END marker arrives and turns the row above it into a key body (a short
    # last line of base64, harmless alone, was sent as text first).
    sender.feed((PEM_BODY[2] + "\r\n").encode())
    frame = sender.poll(1.0)
    assert frame is not None and not frame.is_snapshot
    state = mirror.apply(ScreenFrame.from_dict(json.loads(json.dumps(frame.to_dict()))))
    assert state.lines()[5] == PEM_BODY[2]
    sender.feed((PEM[-1] + "\r\n").encode())
    frame = sender.poll(2.0)
    wire = json.dumps(frame.to_dict())
    state = mirror.apply(ScreenFrame.from_dict(json.loads(wire)))
    assert {i for i, _ in frame.rows} == {5, 6}  # the body row was re-sent, masked
    assert state.lines()[5] == MASK_CHAR * len(PEM_BODY[2]) and state.lines()[6] == PEM[-1]
    # Patterns added later (the agent's) mask what is already on the screen.
    sender.redactor.add_remote([r"\bCARD\b|4111 1111 1111 1112"])
    sender.redaction_changed()
    frame = sender.poll(3.0)
    state = mirror.apply(ScreenFrame.from_dict(json.loads(json.dumps(frame.to_dict()))))
    assert CARD_BAD not in "\n".join(state.lines())
    assert state.rows == sender.sent.rows


@settings(max_examples=int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "100")), deadline=None)
@given(st.lists(st.sampled_from(["password: hunter2xyz", AWS, CARD, "ls -la", "ok", GITHUB, "x" * 30, JWT,
                                 "$ export T=" + JWT, *PEM]), max_size=30),
       st.integers(10, 90))
def test_no_secret_survives_any_screen(lines: list[str], cols: int) -> None:
    sender = ScreenSender(cols, 8, redactor=Redactor())
    sent = []
    for k, line in enumerate(lines):
        sender.feed((line + "\r\n").encode())
        frame = sender.poll(float(k))
        if frame is not None:
            sent.append(json.dumps(frame.to_dict()))
    for secret in ("hunter2xyz", AWS, CARD, GITHUB[4:20], PEM_BODY[0][:20], PEM_BODY[1][:20], JWT[:20], JWT[-12:]):
        assert all(secret not in w for w in sent)


def test_step_lines_are_redacted_across_a_key_block() -> None:
    lines = LineRedactor(Redactor())
    out = lines.feed(["$ cat key", PEM[0], PEM_BODY[0]]) + lines.feed(PEM_BODY[1:] + [PEM[-1], "password: hunter2xyz", "done"])
    assert out[0] == "$ cat key" and out[1] == PEM[0] and out[-1] == "done"
    assert out[2:5] == [MASK_CHAR * len(b) for b in PEM_BODY]
    assert out[5] == PEM[-1]
    assert out[6] == "password: " + MASK_CHAR * 10


@pytest.mark.parametrize("line", [
    "4" * 4000,
    "4 " * 2000,
    "password=" * 500,
    "-----BEGIN RSA PRIVATE KEY-----" * 100,
    "eyJ" + "a" * 4000 + ".eyJ",
    "a:" * 2000 + "@",
    " " * 3999 + "x",
])
def test_hostile_lines_cost_little(line: str) -> None:
    """Built-in patterns are linear: a 4,000-character line of near-misses is matched in
    milliseconds (the time limit would mask it whole, which this also rules out)."""
    import time

    r = Redactor()
    start = time.perf_counter()
    out = r.mask(line)
    assert time.perf_counter() - start < 0.05
    assert len(out) == len(line)
    if line.startswith("4 "):
        assert out == line  # 2,000 digits are not a card number


@settings(max_examples=int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "100")), deadline=None)
@given(stream=st.data(), cols=st.integers(2, 40), rows=st.integers(1, 10))
def test_the_mirror_converges_to_the_redacted_screen(stream, cols: int, rows: int) -> None:
    """Whatever the output (escape sequences, scrolling, secrets), once output settles the
    agent's mirror equals the customer's screen with its secrets masked, frame by frame."""
    _, chunks = stream.draw(split_stream())
    secrets = stream.draw(st.lists(st.sampled_from(["password: hunter2xyz\r\n", AWS + "\r\n", CARD + " ",
                                                    "\r\n".join(PEM) + "\r\n"]), max_size=4))
    chunks = [c for pair in zip(chunks, [s.encode() for s in secrets] + [b""] * len(chunks)) for c in pair]
    redactor = Redactor()
    sender = ScreenSender(cols, rows, fps=1000.0, redactor=redactor)
    mirror = ScreenMirror()
    now = 0.0
    for chunk in chunks:
        sender.feed(chunk)
        now += 0.01
        frame = sender.poll(now)
        if frame is not None:
            mirror.apply(ScreenFrame.from_dict(json.loads(json.dumps(frame.to_dict()))))
    frame = sender.poll(now + 1)
    if frame is not None:
        mirror.apply(ScreenFrame.from_dict(json.loads(json.dumps(frame.to_dict()))))
    emu = sender.emulator
    truth = emu.state()
    # cells may hold grapheme clusters: a mask covers columns, not code points
    expected = redact_clustered(redactor, truth.rows, emu.rows_above(CONTEXT_ROWS), truth.cursor)
    assert mirror.state == sender.sent
    assert mirror.state.rows == expected and mirror.state.cursor == truth.cursor
