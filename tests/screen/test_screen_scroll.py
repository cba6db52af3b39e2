"""Scroll ops (frame format 2) and the work a scrolling screen no longer costs."""

import json
import os
import random
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cobrowse.screen import Emulator, ScreenFrame, ScreenMirror, ScreenSender, apply
from cobrowse.screen.diff import find_scroll, scroll_diff
from cobrowse.screen.emulator import _row_from_line
from cobrowse.screen.redact import CONTEXT_ROWS, Redactor
from cobrowse.screen.sync import redact_clustered

sys.path.insert(0, str(Path(__file__).parent))
from streams import sizes, split_stream  # noqa: E402
from redaction_truth import assert_redacts_as_the_scrollback  # noqa: E402

SETTINGS = settings(max_examples=int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "100")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def wire(frame: ScreenFrame) -> ScreenFrame:
    return ScreenFrame.from_dict(json.loads(json.dumps(frame.to_dict())))


@SETTINGS
@given(stream=split_stream(), size=sizes, redact=st.booleans())
def test_mirror_with_scroll_ops_converges_to_sender(stream, size, redact):
    _, chunks = stream
    sender = ScreenSender(*size, fps=1000.0, redactor=Redactor() if redact else None)
    sender.scroll_ops = True
    mirror = ScreenMirror()
    now = 0.0
    for chunk in chunks:
        sender.feed(chunk)
        now += 1.0
        frame = sender.poll(now)
        if frame is not None:
            assert mirror.apply(wire(frame)) == sender.sent
    now += 1.0
    frame = sender.poll(now)
    if frame is not None:
        mirror.apply(wire(frame))
    assert sender.next_deadline(now) is None
    assert mirror.state == sender.sent
    if not redact:
        assert mirror.state == sender.state()


def test_scrolling_text_sends_only_the_new_rows():
    sender, mirror = ScreenSender(80, 24, fps=1000.0, redactor=Redactor()), ScreenMirror()
    sender.scroll_ops = True
    sender.feed(b"".join(b"line %d of the build log\r\n" % i for i in range(40)))
    mirror.apply(wire(sender.poll(0.0)))
    for i in range(40, 80):
        sender.feed(b"line %d of the build log\r\n" % i)
        frame = sender.poll(float(i))
        assert frame is not None and frame.scroll == 1
        assert [r for r, _ in frame.rows] == [22], frame  # the line just written; row 23 is blank
        assert mirror.apply(wire(frame)).lines()[-2] == f"line {i} of the build log"
    assert mirror.state == sender.state()


def test_without_scroll_ops_frames_stay_format_1():
    sender = ScreenSender(80, 24, fps=1000.0)
    sender.feed(b"".join(b"row %d\r\n" % i for i in range(30)))
    sender.poll(0.0)
    sender.feed(b"one more\r\n")
    frame = sender.poll(1.0)
    assert frame is not None and frame.scroll == 0 and "sc" not in frame.to_dict()
    assert len(frame.rows) == 23


def test_scroll_wire_form_and_its_checks():
    e = Emulator(10, 4)
    e.feed(b"a\r\nb\r\nc\r\nd")
    old = e.state()
    e.feed(b"\r\ne\r\nf")
    new = e.state()
    frame = scroll_diff(old, new)
    assert frame.scroll == 2 and [i for i, _ in frame.rows] == [2, 3]
    d = frame.to_dict()
    assert d["sc"] == 2
    assert apply(old, ScreenFrame.from_dict(d)) == new
    for bad in (0, 4, -1, "2", 2.0, True):
        with pytest.raises(ValueError):
            ScreenFrame.from_dict({**d, "sc": bad})
    snap = ScreenFrame.of_state(new).to_dict()
    with pytest.raises(ValueError, match="snapshot cannot scroll"):
        ScreenFrame.from_dict({**snap, "sc": 1})
    old_format = dict(d)
    del old_format["sc"]
    assert ScreenFrame.from_dict(old_format).scroll == 0


def test_find_scroll_prefers_the_move_that_keeps_most_rows():
    e = Emulator(20, 6)
    e.feed(b"\r\n".join(b"r%d" % i for i in range(6)))
    before = e.state().rows
    e.feed(b"\r\nr6\r\nr7 half")
    after = e.state().rows
    assert find_scroll(before, after) == (2, 4)
    assert find_scroll(before, before) == (0, 6)


@SETTINGS
@given(stream=split_stream(), size=sizes)
def test_reused_rows_equal_rows_built_afresh(stream, size):
    _, chunks = stream
    e = Emulator(*size)
    for chunk in chunks:
        e.feed(chunk)
        tokens = e._filter.tokens
        assert list(e.state().rows) == [_row_from_line(line, tokens) for line in e._vt.view()]


WORDS = ["build", "step", "ok", "warning:", "token", "export", "password:", "done", "cache", "--user"]


def log_lines(rng: random.Random, n: int) -> list[bytes]:
    lines = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.1:
            line = "export DB_PASS=" + "".join(rng.choice("abcdefXYZ123") for _ in range(rng.randint(8, 120)))
        elif kind < 0.2:
            line = "key: ghp_" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(36))
        elif kind < 0.25:
            line = "Password:"
        else:
            line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 40)))
        lines.append(line.encode() + b"\r\n")
    return lines


@pytest.mark.parametrize("seed", range(12))
def test_context_of_a_scrolled_screen_is_the_emulators_scrollback(seed):
    """The rows the sender keeps as the screen scrolls (instead of asking the emulator for its
    scrollback) redact exactly as the emulator's scrollback does: never a weaker mask."""
    rng = random.Random(seed)
    cols, rows = rng.choice([(40, 8), (80, 24), (30, 5)])
    sender = ScreenSender(cols, rows, fps=1000.0, redactor=Redactor())
    sender.scroll_ops = True
    truth_redactor = Redactor()
    lines = log_lines(rng, 300)
    now, i = 0.0, 0
    while i < len(lines):
        step = rng.choice([1, 1, 2, 3, rows // 2, rows + 5])
        sender.feed(b"".join(lines[i:i + step]))
        i += step
        now += 1.0
        if sender.poll(now) is None:
            continue
        emu = sender.emulator
        raw = emu.state()
        assert emu.rows_above(CONTEXT_ROWS) == emu.scrollback(CONTEXT_ROWS)
        expected = redact_clustered(truth_redactor, raw.rows, emu.scrollback(CONTEXT_ROWS), raw.cursor)
        assert sender.sent is not None and sender.sent.rows == expected, "\n".join(sender.sent.lines())


@SETTINGS
@given(stream=split_stream(), size=sizes, lines=st.lists(st.sampled_from(["ab", "password:", "x" * 50, "", "\x1b[31mred\x1b[0m"]), max_size=30))
def test_context_followed_through_any_output_redacts_as_the_scrollback(stream, size, lines):
    """Whatever the output (cursor moves, erases, the alternate screen, resizes' absence),
    the sender's redaction equals redaction with the emulator's own scrollback as context."""
    _, chunks = stream
    text = [("\r\n".join(lines[i::3]) + "\r\n").encode() for i in range(3)]
    assert_redacts_as_the_scrollback(size, chunks + text)


@SETTINGS
@given(stream=split_stream(), size=sizes,
       plain=st.lists(st.text("ab \r\n\t\x08\x1b[31m\u4e2d", max_size=120), max_size=8))
@example(stream=(b"\x1b[0M", [b"", b"\x1b", b"[0M"]), size=(2, 4), plain=["", "\r"])  # a CR inside ESC [ M
@example(stream=(b"000000\x1b[?1049h", [b"", *[b"0"] * 6, b"\x1b", b"[?1049h"]), size=(2, 4),
         plain=["", "", "", "", "", "1111", "1", "\r"])  # a CR inside ESC [?1049h: the alternate screen
def test_lines_above_followed_equal_the_scrollback(stream, size, plain):
    """Whatever the output (escapes, scroll regions, the alternate screen, wide characters,
    repeated lines), the lines above the screen the emulator follows are the scrollback's."""
    _, chunks = stream
    e = Emulator(*size)
    for k, chunk in enumerate(chunks):
        e.feed(chunk)
        if k < len(plain):
            e.feed(plain[k].encode())
        assert e.rows_above(CONTEXT_ROWS) == e.scrollback(CONTEXT_ROWS)
    for text in plain:
        e.feed(text.encode())
        assert e.rows_above(CONTEXT_ROWS) == e.scrollback(CONTEXT_ROWS)


def test_a_scrolling_log_needs_no_copy_of_the_scrollback():
    e = Emulator(40, 6)
    for i in range(500):
        e.feed(b"\x1b[32mline %d\x1b[0m\r\n" % i)
        if i % 7 == 0:
            assert e.rows_above(3) == e.scrollback(3)
    assert e._off.known  # followed all along: never copied since the start
    assert [r.text.strip() for r in e.rows_above(3)] == ["line 492", "line 493", "line 494"]
    e.feed(b"\x1b[2J\x1b[H")  # an erase: not followed, copied once at the next ask
    assert not e._off.known
    assert e.rows_above(3) == e.scrollback(3) and e._off.known
    e.feed(b"\x1b[1;4r")  # a scroll region: always copied while it may be set
    assert e.rows_above(3) == e.scrollback(3) and not e._off.known
