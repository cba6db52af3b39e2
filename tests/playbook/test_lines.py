"""LineTap: the completed lines a program printed, escape sequences stripped, split-proof."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cobrowse.playbook import MAX_LINE, LineTap


def lines_of(*chunks: bytes) -> tuple[list[str], str]:
    tap = LineTap()
    out: list[str] = []
    for chunk in chunks:
        out += tap.feed(chunk)
    return out, tap.partial()


def test_completed_lines_and_the_partial_one() -> None:
    tap = LineTap()
    assert tap.feed(b"one\r\ntwo\nthr") == ["one", "two"]
    assert tap.partial() == "thr"
    assert tap.feed(b"ee\n$ ") == ["three"]
    assert tap.partial() == "$ "
    assert tap.feed(b"") == []


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (b"\x1b[1;31merror:\x1b[0m bad\n", ["error: bad"]),  # SGR colours
        (b"\x1b[2J\x1b[H\x1b[?1049hfull screen\n", ["full screen"]),  # clear, home, private modes
        (b"\x1b]0;window title\x07prompt\n", ["prompt"]),  # OSC ended by BEL
        (b"\x1b]8;;https://x.example\x1b\\link\x1b]8;;\x1b\\\n", ["link"]),  # OSC 8 hyperlink, ST
        (b"\x1bP+q544e\x1b\\ok\n", ["ok"]),  # DCS
        (b"\x1b_apc\x1b\\\x1b^pm\x1b\\\x1bXsos\x1b\\ok\n", ["ok"]),  # APC, PM, SOS
        (b"\x1b(B\x1b)0\x1b7\x1b8\x1b=\x1bMok\n", ["ok"]),  # charsets, save/restore, keypad, RI
        (b"\x1b[31\x18plain\n", ["plain"]),  # CAN aborts a sequence
        (b"\x1b]0;cut\x1b[1mbold\n", ["bold"]),  # ESC inside an OSC starts a new sequence
        ("\u009b31mC1 csi \u009d0;t\u009cok\n".encode(), ["C1 csi ok"]),  # 8-bit forms
        (b"a\x07b\x00c\x7fd\n", ["abcd"]),  # other controls are dropped
        (b"a\tb\t|\n", ["a       b       |"]),  # tabs to the next multiple of 8
        (b"Downloading 10%\rDownloading 100%\r\n", ["Downloading 100%"]),  # progress bar
        (b"abc\rX\n", ["X"]),  # the text after the last \r, simply
        (b"abc\r\r\n", ["abc"]),  # \r with nothing after it keeps the line
        (b"helo\x08lo\n", ["hello"]),  # backspace
        (b"ab\x08 \x08\x08 \x08xy\n", ["xy"]),  # the shell's erase sequence
        (b"ok   \t \n", ["ok"]),  # trailing whitespace goes
        (b"\n\n", ["", ""]),
        (b"a\x0bb\x0cc\n", ["a", "b", "c"]),  # VT and FF are line feeds
        (b"caf\xe9 \xff\n", ["caf\ufffd \ufffd"]),  # invalid UTF-8 is replaced
    ],
)
def test_cleaning(data: bytes, lines: list[str]) -> None:
    assert lines_of(data)[0] == lines


def test_utf8_split_across_chunks() -> None:
    data = "déjà vu ✓ 🎉\n".encode()
    for cut in range(1, len(data)):
        assert lines_of(data[:cut], data[cut:])[0] == ["déjà vu ✓ 🎉"]


def test_escape_sequences_split_across_chunks() -> None:
    assert lines_of(b"\x1b", b"[", b"3", b"1m", b"red", b"\x1b]0;t", b"itle\x1b", b"\\ok\n") == (["redok"], "")


def test_long_lines_are_cut_into_pieces() -> None:
    out, partial = lines_of(b"x" * (MAX_LINE * 2 + 10) + b"\n")
    assert out == ["x" * MAX_LINE, "x" * MAX_LINE, "x" * 10]
    out, partial = lines_of(b"y" * MAX_LINE + b"\n")
    assert out == ["y" * MAX_LINE]
    out, partial = lines_of(b"z" * (MAX_LINE + 5))
    assert out == ["z" * MAX_LINE] and partial == "zzzzz"


def test_memory_stays_bounded_without_newlines() -> None:
    tap = LineTap()
    for _ in range(100):
        tap.feed(b"\x1b]52;c;" + b"A" * 10_000)  # an endless OSC string is skipped, not kept
    assert tap.partial() == ""
    tap.feed(b"\x07" + b"w" * 100_000)
    assert len(tap.partial()) <= MAX_LINE


STREAM_PIECES = [
    b"hello", b" world", b"\r\n", b"\n", b"\r", b"\x08", b"\t", b"\x1b[1;32m", b"\x1b[0m",
    b"\x1b]0;title\x07", b"\x1b]8;;u\x1b\\", b"\x1bP1$r\x1b\\", b"\x1b(B", b"\x1b", b"[", b"]",
    "é✓🎉".encode(), b"\xff", b"\xe2\x9c", b"\x00", "\u009b1m".encode(), b"\x18", b"y" * 50,
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(STREAM_PIECES), max_size=40), st.data())
def test_any_split_gives_the_same_lines(pieces: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(pieces)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)])]
    assert lines_of(*chunks) == lines_of(stream)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.data())
def test_random_bytes_any_split(stream: bytes, data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)])]
    whole = lines_of(stream)
    assert lines_of(*chunks) == whole
    for line in [*whole[0], whole[1]]:
        assert len(line) <= MAX_LINE
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in line)
