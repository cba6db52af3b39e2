"""asciicast rendering: replaying the cast through our own emulator gives back every screen."""

from __future__ import annotations

import json

import pytest

from cobrowse.audit.cast import CastEncoder, header, parse_cast, render
from cobrowse.screen.emulator import Emulator
from cobrowse.screen.state import ScreenState

SCRIPT = [
    b"\x1b[1;31mred bold\x1b[0m plain \x1b[38;5;200mindexed\x1b[0m \x1b[38;2;10;20;30;48;5;4mrgb on blue\x1b[0m\r\n",
    b"\x1b[3;4;7mitalic underline inverse\x1b[0m \xe4\xb8\xad\xe6\x96\x87 wide\r\n",
    b"\x1b[10;5Hmoved \x1b[9mstruck\x1b[0m\x1b[2;1H",
    b"\x1b[2J\x1b[Hcleared\r\n$ ls\r\n",
    b"\x1b[?25l" + b"".join(b"line %d\r\n" % i for i in range(40)),  # scrolls; cursor hidden
]


def replay(lines: list[str], cols: int, rows: int) -> Emulator:
    emulator = Emulator(cols, rows)
    for line in lines:
        seconds, kind, data = json.loads(line)
        if kind == "o":
            emulator.feed(data.encode())
        elif kind == "r":
            c, r = (int(x) for x in data.split("x"))
            emulator.resize(c, r)
    return emulator


def same_screen(a: ScreenState, b: ScreenState) -> None:
    assert a.size == b.size
    for i, (ra, rb) in enumerate(zip(a.rows, b.rows)):
        assert ra == rb, f"row {i}: {ra!r} != {rb!r}"
    assert (a.cursor.row, a.cursor.visible) == (b.cursor.row, b.cursor.visible)
    assert min(a.cursor.col, a.size[0] - 1) == min(b.cursor.col, b.size[0] - 1)


def test_every_state_replays_exactly() -> None:
    source = Emulator(60, 20)
    encoder = CastEncoder()
    lines: list[str] = []
    for t, chunk in enumerate(SCRIPT):
        source.feed(chunk)
        state = source.state()
        lines += encoder.frame(float(t), state)
        same_screen(replay(lines, 60, 20).state(), state)


def test_only_changed_rows_are_repainted() -> None:
    source = Emulator(40, 10)
    source.feed(b"first\r\nsecond\r\n")
    before = source.state()
    source.feed(b"third")
    after = source.state()
    output = render(before, after)
    assert "third" in output and "first" not in output and "second" not in output
    assert render(after, after) == ""


def test_a_resize_becomes_an_r_event_and_a_full_paint() -> None:
    source = Emulator(40, 10)
    encoder = CastEncoder()
    source.feed(b"hello")
    lines = encoder.frame(0.0, source.state())
    source.resize(50, 12)
    source.feed(b" world")
    new = encoder.frame(1.5, source.state())
    assert json.loads(new[0]) == [1.5, "r", "50x12"]
    assert "hello world" in json.loads(new[1])[2]
    emulator = replay(lines + new, 40, 10)
    same_screen(emulator.state(), source.state())


def test_parse_cast_reads_back_and_names_bad_lines() -> None:
    text = header(80, 24, 1700000000, "t") + "\n" + '[0.5, "o", "hi"]\n'
    head, events = parse_cast(text)
    assert head["width"] == 80 and head["title"] == "t" and events == [(0.5, "o", "hi")]
    with pytest.raises(ValueError, match="line 2"):
        parse_cast(header(80, 24, 0) + "\n{oops\n")
    with pytest.raises(ValueError, match="version"):
        parse_cast('{"version": 1}\n')


def test_a_scrolling_screen_costs_line_feeds_not_a_repaint() -> None:
    source = Emulator(40, 10)
    encoder = CastEncoder()
    lines: list[str] = []
    source.feed(b"".join(b"\x1b[3%dmline %d\x1b[0m\r\n" % (i % 8, i) for i in range(12)))
    lines += encoder.frame(0.0, source.state())
    before = source.state()
    source.feed(b"new one\r\nnew two\r\n")
    output = render(before, source.state())
    assert "\n\n" in output and "line 5" not in output and "new one" in output
    lines += encoder.frame(1.0, source.state())
    same_screen(replay(lines, 40, 10).state(), source.state())


def test_random_streams_replay_exactly() -> None:
    import random

    rng = random.Random(7)
    pieces = [b"word ", b"\r\n", b"\x1b[1;32mgreen\x1b[0m", b"\x1b[2J", b"\x1b[5;3H", b"\x1b[K", b"\x1b[?25l",
              b"\x1b[?25h", b"\xe4\xb8\xad", b"\x1b[7mrev\x1b[27m", b"\x1b[38;2;1;2;3mrgb", b"\x1bM", b"\x1b[3L", b"\x1b[2M"]
    source = Emulator(30, 8)
    encoder = CastEncoder()
    lines: list[str] = []
    for t in range(300):
        source.feed(b"".join(rng.choice(pieces) for _ in range(rng.randrange(1, 12))))
        lines += encoder.frame(t / 10, source.state())
        if t % 25 == 0:
            same_screen(replay(lines, 30, 8).state(), source.state())
    same_screen(replay(lines, 30, 8).state(), source.state())


def test_recordings_keep_the_new_underlines_and_overline() -> None:
    from cobrowse.audit.cast import sgr
    from cobrowse.screen.state import CURLY_UNDERLINE, DOUBLE_UNDERLINE, OVERLINE, Style

    assert sgr(Style(attrs=DOUBLE_UNDERLINE | OVERLINE)) == "\x1b[0;4:2;53m"
    assert "4:3" in sgr(Style(attrs=CURLY_UNDERLINE))
