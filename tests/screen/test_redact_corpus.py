"""The redaction corpus: 133 secrets in 30 shapes (tests/screen/redact_corpus.py), each
printed whole, typed one character at a time with a frame after every keystroke, and printed
in the middle of realistic output in random chunks, through the customer's real emulator,
ScreenSender and Redactor; every frame the agent would receive is decoded from its wire
form and checked: 0 leaks. And the other side of the bargain: how much ordinary output
(ls, git log, compilers, pip, tracebacks, dmesg, JSON, env) is masked for nothing.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cobrowse.screen import Emulator, ScreenFrame, ScreenMirror, ScreenSender
from cobrowse.screen.redact import MASK_CHAR, Redactor
from cobrowse.screen.state import ScreenState

sys.path.insert(0, str(Path(__file__).parent))
from redact_corpus import CASES, Case, ordinary_fixtures

COLS = 80
Pos = tuple[int, int] | None


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


def head(case: Case) -> str:
    """What is on the line before the typing starts: a shell prompt, or the prompt /
    BEGIN marker printed by a program."""
    return case.above + "\n" if case.above else "$ "


def rows_for(case: Case) -> int:
    text = head(case) + case.before + case.secret + case.after
    return 4 + sum(1 + len(line) // COLS for line in text.split("\n"))


def positions(case: Case, rows: int) -> list[Pos]:
    """The cell (row, col) of every character of the secret ("\n": None) on a fresh screen."""
    emu = Emulator(COLS, rows)
    emu.feed(crlf(head(case) + case.before))
    out: list[Pos] = []
    for ch in case.secret:
        if ch == "\n":
            out.append(None)
        else:
            col, row, _ = emu.cursor()
            out.append((row + 1, 0) if col >= COLS else (row, col))
        emu.feed(crlf(ch))
    assert not emu.rows_above(1), "the screen scrolled: positions would be wrong"
    return out


def shows(state: ScreenState, case: Case, where: list[Pos], typed: int) -> list[int]:
    """Indexes of secret characters (beyond what may be shown) that a frame shows unmasked."""
    return [i for i in range(case.shown, typed)
            if where[i] is not None and state.rows[where[i][0]].text[where[i][1]] != MASK_CHAR]


def send(sender: ScreenSender, mirror: ScreenMirror, now: float) -> ScreenState | None:
    """Poll the customer's sender; the frame travels as JSON, as on the wire."""
    frame = sender.poll(now)
    if frame is None:
        return None
    return mirror.apply(ScreenFrame.from_dict(json.loads(json.dumps(frame.to_dict()))))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_printed_whole(case: Case) -> None:
    rows = rows_for(case)
    where = positions(case, rows)
    sender, mirror = ScreenSender(COLS, rows, fps=1000.0, redactor=Redactor()), ScreenMirror()
    sender.feed(crlf(head(case) + case.before + case.secret + case.after + "\n$ "))
    state = send(sender, mirror, 0.0)
    assert state is not None
    assert shows(state, case, where, len(case.secret)) == [], "\n".join(state.lines())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_typed_one_key_at_a_time(case: Case) -> None:
    """The customer types the command (or a program echoes the answer to its prompt) one
    character at a time; the agent gets a frame after every keystroke."""
    rows = rows_for(case)
    where = positions(case, rows)
    sender, mirror = ScreenSender(COLS, rows, fps=1000.0, redactor=Redactor()), ScreenMirror()
    sender.feed(crlf(head(case)))
    now = 0.0
    send(sender, mirror, now)
    typed = 0
    for k, ch in enumerate(case.before + case.secret + case.after):
        sender.feed(crlf(ch))
        if len(case.before) <= k < len(case.before) + len(case.secret):
            typed += 1
        now += 1.0
        state = send(sender, mirror, now)
        if state is not None:
            leaked = shows(state, case, where, typed)
            assert leaked == [], f"after {typed} characters of the secret:\n" + "\n".join(state.lines())
    sender.feed(b"\r\nok\r\n$ ")
    state = send(sender, mirror, now + 1.0)
    assert state is not None and shows(state, case, where, len(case.secret)) == []


def fragments(secret: str, shown: int, width: int = 6) -> set[str]:
    """Pieces of the secret no frame may hold: every ``width`` characters past the shown
    prefix (per line of a key), and the shown prefix plus one character."""
    out: set[str] = set()
    start = 0
    for line in secret.split("\n"):
        lo = max(shown - start, 0)
        for i in range(lo, len(line) - width + 1):
            out.add(line[i:i + width])
        if lo < len(line) < width + lo:
            out.add(line[lo:])
        start += len(line) + 1
    if shown >= 2:
        out.add(secret[:shown + 1])
    return out


def frame_text(state: ScreenState) -> str:
    return "".join(row.text for row in state.rows)  # rows run on: a wrapped secret is one string


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_inside_realistic_output(case: Case) -> None:
    """The secret's line in the middle of ordinary output (a fixture), at 80x24, the stream
    cut in random chunks (a frame after each), so frames catch lines half printed."""
    rng = random.Random(case.name)
    fixtures = ordinary_fixtures()
    name = rng.choice(sorted(fixtures))
    lines = fixtures[name]
    cut = rng.randint(len(lines) // 3, len(lines) - 1)
    line = (case.above + "\n" if case.above else "") + case.before + case.secret + case.after
    stream = crlf("\n".join(lines[:cut] + [line] + lines[cut:]) + "\n$ ")
    background = frame_text_of("\n".join(lines))
    forbidden = {f for f in fragments(case.secret, case.shown) if f not in background}
    sender, mirror = ScreenSender(COLS, 24, fps=1000.0, redactor=Redactor()), ScreenMirror()
    pos, now = 0, 0.0
    while pos < len(stream):
        step = rng.randint(1, 300)
        sender.feed(stream[pos:pos + step])
        pos += step
        now += 1.0
        state = send(sender, mirror, now)
        if state is not None:
            text = frame_text(state)
            assert not [f for f in forbidden if f in text], f"{name}:\n" + "\n".join(state.lines())


def frame_text_of(text: str) -> str:
    return text.replace("\n", "")


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 100
    assert len({c.shape for c in CASES}) >= 20
    assert len({c.secret for c in CASES}) == len(CASES)


# -- false positives ------------------------------------------------------------------

#: Masked lines per 1,000 lines of ordinary output may not exceed this (see docs/privacy.md).
MAX_FALSE_POSITIVES_PER_MILLE = 20


def masked_lines(lines: list[str], cols: int = 120) -> list[str]:
    """The lines of ``lines`` (printed on a screen that holds them all, the cursor after a
    prompt below) that come out with a mask."""
    emu = Emulator(cols, len(lines) + 2)
    emu.feed(crlf("\n".join(lines) + "\n$ "))
    state = Redactor().redact_state(emu.state())
    return [line for line in state.lines() if MASK_CHAR in line]


def test_ordinary_output_is_rarely_masked() -> None:
    fixtures = ordinary_fixtures()
    total = sum(len(lines) for lines in fixtures.values())
    masked = {name: masked_lines(lines) for name, lines in fixtures.items()}
    count = sum(len(m) for m in masked.values())
    report = "\n".join(f"{name}: {len(m)}/{len(fixtures[name])} {m}" for name, m in masked.items() if m)
    print(f"\nmasked {count} of {total} lines of ordinary output\n{report}")
    assert total >= 300
    assert count * 1000 <= MAX_FALSE_POSITIVES_PER_MILLE * total, report
    for name in ("ls_l", "git_log", "compiler", "pip", "traceback", "dmesg", "config_json", "env"):
        assert masked[name] == [], f"{name} masked: {masked[name]}"


# -- typing with a line editor ----------------------------------------------------------

_ONE_LINE = [c for c in CASES if "\n" not in c.before + c.secret + c.after and not c.above]


@settings(max_examples=int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "60")), deadline=None)
@given(case=st.sampled_from(_ONE_LINE), data=st.data())
def test_typed_with_edits_at_a_line_editor(case: Case, data: st.DataObject) -> None:
    """The customer types the line with mistakes and corrections, as at a shell: a wrong key
    then Backspace, the cursor moved back into the word and forth again; the shell redraws
    the line after every key (like readline: the line, then the cursor put back). In every
    frame, every character of the secret typed so far (past the allowed prefix; a blank
    between a card's groups tells nothing) is masked."""
    assume(len("$ " + case.before + case.secret + case.after) < COLS)
    sender, mirror = ScreenSender(COLS, 4, fps=1000.0, redactor=Redactor()), ScreenMirror()
    target = case.before + case.secret + case.after
    lo, hi = len(case.before) + case.shown, len(case.before) + len(case.secret)
    buffer: list[tuple[str, int | None]] = []  # (character, its index in target; None: a typo)
    cursor = 0
    now = 0.0

    def redraw() -> None:
        nonlocal now
        col = 2 + cursor
        sender.feed(("\r$ " + "".join(ch for ch, _ in buffer) + f"\x1b[K\x1b[{col + 1}G").encode())
        now += 1.0
        state = send(sender, mirror, now)
        if state is not None:
            shown = state.rows[0].text
            leaked = [i for k, (ch, i) in enumerate(buffer)
                      if i is not None and lo <= i < hi and shown[2 + k] != MASK_CHAR and not ch.isspace()]
            assert leaked == [], f"{case.name}: {state.lines()[0]!r}"

    typed = 0
    while typed < len(target):
        action = data.draw(st.sampled_from(["type"] * 6 + ["typo", "back"]))
        if action == "typo":
            buffer.insert(cursor, ("#", None))
            cursor += 1
            redraw()
            cursor -= 1
            del buffer[cursor]
            redraw()
        elif action == "back" and cursor:
            k = data.draw(st.integers(1, cursor))
            cursor -= k
            redraw()
            cursor += k
        buffer.insert(cursor, (target[typed], typed))
        cursor += 1
        typed += 1
        redraw()
