"""Rows cut from avt's dump (dump_rows.py) are the rows built from avt's cells: any stream
(SGR of every kind, wide and combining characters, erases with colours, wraps, scroll regions,
the alternate screen, modes), any size, rows asked for in any order."""

import os
import random

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cobrowse.screen import Emulator
from cobrowse.screen.dump_rows import rows_from_dump, tail_from_dump
from cobrowse.screen.state import DEFAULT_STYLE, Row, Style

from .streams import sizes, split_stream

SETTINGS = settings(max_examples=int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "150")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def reference(data: list[bytes], cols: int, rows: int) -> tuple[Row, ...]:
    """The rows as built from avt's cells (a fresh emulator: nothing cut from a dump)."""
    e = Emulator(cols, rows)
    for chunk in data:
        e.feed(chunk)
    return e.state().rows


@SETTINGS
@given(stream=split_stream(), size=sizes, order=st.randoms(use_true_random=False))
def test_rows_asked_at_once_are_the_rows_built_from_cells(stream, size, order):
    _, chunks = stream
    cols, rows = size
    e = Emulator(cols, rows)
    for chunk in chunks:
        e.feed(chunk)
    want = reference(chunks, cols, rows)
    asked = list(range(rows))
    order.shuffle(asked)
    got = e.rows(asked)
    assert list(got) == asked  # in the order asked
    assert [got[i] for i in range(rows)] == list(want)
    assert e.state().rows == want  # and what was kept for reuse is right too


@SETTINGS
@given(stream=split_stream(), cols=st.integers(2, 30), rows=st.integers(4, 10),
       more=st.lists(st.binary(max_size=40), max_size=4))
def test_rows_after_more_output_are_the_rows_built_from_cells(stream, cols, rows, more):
    """Rows kept from one cut are reused only where the line is the same."""
    _, chunks = stream
    e = Emulator(cols, rows)
    fed: list[bytes] = []
    for chunk in [*chunks, *more]:
        e.feed(chunk)
        fed.append(chunk)
        assert [e.rows(range(rows))[i] for i in range(rows)] == list(reference(fed, cols, rows))


COLOURS = ["\x1b[0m", "\x1b[1;31m", "\x1b[2m", "\x1b[33m", "\x1b[7m", "\x1b[5;9m", "\x1b[3;4m",
           "\x1b[38;2;1;2;3m", "\x1b[48;5;200m", "\x1b[41m\x1b[K", "\x1b[44m\x1b[2K", "\x1b[22;23;24;25;27;29m"]


@SETTINGS
@given(seed=st.integers(0, 2**32), cols=st.integers(2, 120), rows=st.integers(1, 40))
def test_a_coloured_log_scrolling_is_cut_exactly(seed, cols, rows):
    """The case the cut is for: lines of log, coloured, some wrapping, scrolling on."""
    rng = random.Random(seed)
    e = Emulator(cols, rows)
    fed = []
    for _ in range(rng.randint(1, 6)):
        chunk = "".join(rng.choice(COLOURS) + "w" * rng.randint(0, 2 * cols) + rng.choice(COLOURS)
                        + " " * rng.randint(0, 3) + rng.choice(["\r\n", "\r\n", "", "\t"])
                        for _ in range(rng.randint(1, 3 * rows))).encode()
        e.feed(chunk)
        fed.append(chunk)
        assert [e.rows(range(rows))[i] for i in range(rows)] == list(reference(fed, cols, rows))


def test_a_scrolling_log_is_cut_from_the_dump():
    """The fast path is taken (not only correct by falling back)."""
    e = Emulator(40, 6)
    e.feed(b"".join(b"\x1b[1;31mline %d\x1b[0m " % i + b"x" * (i * 7 % 60) + b"\r\n" for i in range(30)))
    view = e._vt.view()
    cut = rows_from_dump(e._vt.dump(), [line.text for line in view], 40, e._sgr_style)
    assert None not in cut
    assert cut == list(reference([b"".join(b"\x1b[1;31mline %d\x1b[0m " % i + b"x" * (i * 7 % 60) + b"\r\n"
                                           for i in range(30))], 40, 6))


def style(params: str) -> Style:
    return {"0": DEFAULT_STYLE, "": DEFAULT_STYLE}.get(params, Style(1, None, 0))


def test_anything_but_text_sgr_rep_and_line_breaks_cuts_nothing():
    texts = ["ab", "cd"]
    assert rows_from_dump("ab\r\ncd\x1b[m\x9b2;3H", texts, 2, style) == [Row((("ab", DEFAULT_STYLE),)),
                                                                           Row((("cd", DEFAULT_STYLE),))]
    for dump in ("ab\x1b[2Jcd\x1b[m\x9b1;1H", "ab\x9b1mcd\x1b[m\x9b1;1H", "ab\r\ncd",
                 "\x1b[5bab\r\ncd\x1b[m\x9b1;1H", "a\x1b[99999999bb\x1b[m\x9b1;1H"):
        assert rows_from_dump(dump, texts, 2, style) == [None, None], dump
    assert rows_from_dump("ab\r\ncd\r\nef\x1b[m\x9b1;1H", texts, 2, style) == [Row((("ab", DEFAULT_STYLE),)), Row((("cd", DEFAULT_STYLE),))]


def test_a_row_cut_wrongly_leaves_every_row_after_it_to_the_cells():
    texts = ["ab", "xy", "ef"]
    assert rows_from_dump("ab\r\ncd\r\nef\x1b[m\x9b1;1H", texts, 2, style) == [Row((("ab", DEFAULT_STYLE),)), None, None]



@SETTINGS
@given(stream=split_stream(), size=sizes, first=st.integers(0, 10), more=st.lists(st.binary(max_size=40), max_size=3))
@example(stream=(b"", [b"0\x1b[1m\x1b[?47h000000000000"]), size=(2, 1), first=0, more=[])  # the alternate screen
def test_rows_cut_from_the_dump_s_tail_are_the_rows_built_from_cells(stream, size, first, more):
    """The bottom rows cut without reading the lines above them are the rows built from
    cells, or nothing at all (then the rows are cut from the top)."""
    _, chunks = stream
    cols, rows = size
    e = Emulator(cols, rows)
    for chunk in [*chunks, *more]:
        e.feed(chunk)
    want = reference([*chunks, *more], cols, rows)
    view = e._vt.view()
    texts = [line.text for line in view]
    wanted = set(range(min(first, rows - 1), rows))
    cut = tail_from_dump(e._vt.dump(), texts, cols, e._sgr_style, wanted)
    if cut is not None:
        assert len(cut) == rows
        for i, row in enumerate(cut):
            assert row is None or (i in wanted and row == want[i]), (i, row, want[i])


@SETTINGS
@given(seed=st.integers(0, 2**32), cols=st.integers(2, 120), rows=st.integers(2, 40), frames=st.integers(1, 5))
def test_a_coloured_log_s_new_rows_are_cut_from_the_tail(seed, cols, rows, frames):
    """Frame after frame of a scrolling coloured log, the rows fetched (the new ones cut from
    the dump's tail) are the rows built from cells."""
    rng = random.Random(seed)
    e = Emulator(cols, rows)
    fed = []
    view = None
    for _ in range(frames):
        chunk = "".join(rng.choice(COLOURS) + "w" * rng.randint(0, 2 * cols) + rng.choice(COLOURS)
                        + " " * rng.randint(0, 3) + rng.choice(["\r\n", "\r\n", ""])
                        for _ in range(rng.randint(1, rows))).encode()
        fed.append(chunk)
        view, _ = e.fetch(e.feed(chunk), view)
        assert view.rows == reference(fed, cols, rows)


def test_a_scrolling_log_s_new_rows_are_cut_from_the_tail():
    """The tail is taken (not only correct by giving up): a log scrolled by three lines."""
    e = Emulator(40, 8)
    log = [b"\x1b[1;31mline %d\x1b[0m " % i + b"x" * (i * 7 % 30) + b"\r\n" for i in range(20)]
    e.feed(b"".join(log))
    texts = [line.text for line in e._vt.view()]
    cut = tail_from_dump(e._vt.dump(), texts, 40, e._sgr_style, {4, 5, 6, 7})
    assert cut is not None and cut[4:] == list(reference([b"".join(log)], 40, 8))[4:] and cut[:4] == [None] * 4


def test_the_tail_is_placed_by_the_last_row_with_text():
    """A last line whose text runs on into a blank row (trailing blanks that wrapped), then
    rows the dump leaves out: still cut from the tail."""
    e = Emulator(6, 6)
    data = b"one\r\n\x1b[32mtwo\x1b[0m\r\nthree\r\nabcdef      "
    e.feed(data)
    texts = [line.text for line in e._vt.view()]
    assert texts[3] == "abcdef" and texts[4] == " " * 6
    cut = tail_from_dump(e._vt.dump(), texts, 6, e._sgr_style, {2, 3, 4, 5})
    assert cut is not None and cut[2:] == list(reference([data], 6, 6))[2:]
