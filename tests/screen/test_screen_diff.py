"""Frames: wire form round trip, hostile input, apply rules."""

import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cobrowse.screen import (
    DEFAULT_STYLE,
    Cursor,
    Emulator,
    Modes,
    Row,
    ScreenFrame,
    ScreenState,
    Style,
    apply,
    diff,
)

sys.path.insert(0, str(Path(__file__).parent))
from streams import sizes, split_stream  # noqa: E402

N = int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "150"))
SETTINGS = settings(max_examples=N, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def through_json(frame: ScreenFrame) -> ScreenFrame:
    return ScreenFrame.from_dict(json.loads(json.dumps(frame.to_dict())))


@SETTINGS
@given(stream=split_stream(), size=sizes)
@example(stream=(b"\xe2\x80\x8d\t ", [b"\xe2\x80\x8d\t "]), size=(2, 1))  # ZWJ, TAB, space: no join
def test_round_trip_is_identity(stream, size):
    data, chunks = stream
    e = Emulator(*size)
    before = e.state()
    for c in chunks:
        e.feed(c)
    after = e.state()
    for frame in (ScreenFrame.of_state(before), ScreenFrame.of_state(after), diff(before, after)):
        assert through_json(frame) == frame
        d = frame.to_dict()
        assert json.loads(json.dumps(d)) == d  # JSON-safe as is


def test_wire_form_is_compact():
    e = Emulator(20, 3)
    e.feed("hi \x1b[1;31mred\x1b[0m 中".encode())
    d = ScreenFrame.of_state(e.state()).to_dict()
    assert d == {
        "t": "s",
        "sz": [20, 3],
        "c": [9, 0, 1],
        "m": 0,
        "r": [[[7], "hi ", 0, "red", 1, " 中", 0], [], []],
        "s": [[1, -1, 1]],
    }
    e.feed(b"\x1b[2;1H\x1b[38;2;1;2;3mx")
    f = diff(apply(None, ScreenFrame.from_dict(d)), e.state())
    assert f.to_dict() == {"t": "d", "sz": [20, 3], "c": [1, 1, 1], "m": 0,
                           "r": [[1, ["x", 1]]], "s": [[(1 << 24) | 0x010203, -1, 0]]}


def test_diff_and_apply_rules():
    a = ScreenState.blank(10, 2)
    b = ScreenState((10, 2), Cursor(1, 1), (a.rows[0], Row.from_runs([("x" * 10, Style(fg=3))])), Modes(True))
    f = diff(a, b)
    assert not f.is_snapshot and [i for i, _ in f.rows] == [1]
    assert apply(a, f) == b
    assert diff(b, b).rows == ()
    assert diff(None, b).is_snapshot
    assert diff(ScreenState.blank(11, 2), b).is_snapshot  # size changed
    with pytest.raises(ValueError, match="before any snapshot"):
        apply(None, f)
    with pytest.raises(ValueError, match="size"):
        apply(ScreenState.blank(10, 3), f)
    assert b.lines() == ["", "xxxxxxxxxx"]


def test_row_values():
    r = Row.from_runs([("ab", DEFAULT_STYLE), ("", Style(fg=1)), ("c", DEFAULT_STYLE), ("d", Style(bg=2))])
    assert r.runs == (("abc", DEFAULT_STYLE), ("d", Style(bg=2)))
    assert r.text == "abcd" and r.width == 4
    assert r == Row.from_runs([("a", DEFAULT_STYLE), ("bc", DEFAULT_STYLE), ("d", Style(bg=2))])
    assert len({r, Row.from_runs([("abc", DEFAULT_STYLE), ("d", Style(bg=2))])}) == 1
    with pytest.raises(AttributeError):
        r.text = "x"


def valid_dict():
    e = Emulator(8, 3)
    e.feed("a\x1b[1;32mb中\x1b[0m\r\n\x1b[48;2;9;9;9mz".encode())
    return ScreenFrame.of_state(e.state()).to_dict()


BAD = [
    None, [], "x", 3,
    {},
    {"t": "x"},
    {"t": "s", "sz": [0, 3], "c": [0, 0, 1], "m": 0, "r": [[], [], []]},
    {"t": "s", "sz": [1001, 3], "c": [0, 0, 1], "m": 0, "r": [[], [], []]},
    {"t": "s", "sz": [8, 1001], "c": [0, 0, 1], "m": 0, "r": [[]] * 1001},
    {"t": "s", "sz": [8, 3], "c": [0, 0, 1], "m": 0, "r": [[], []]},  # missing row
    {"t": "s", "sz": [8, 3], "c": [9, 0, 1], "m": 0, "r": [[], [], []]},  # cursor out
    {"t": "s", "sz": [8, 3], "c": [0, 3, 1], "m": 0, "r": [[], [], []]},
    {"t": "s", "sz": [8, 3], "c": [0, 0, 2], "m": 0, "r": [[], [], []]},
    {"t": "s", "sz": [8, 3], "c": [0, 0, 1], "m": 8, "r": [[], [], []]},
    {"t": "s", "sz": [8, 3], "c": [0, 0, 1], "m": True, "r": [[], [], []]},
    {"t": "s", "sz": [8, 3], "c": [0, 0, 1], "m": 0, "r": [["123456789", 0], [], []]},  # too wide
    {"t": "s", "sz": [8, 3], "c": [0, 0, 1], "m": 0, "r": [[[0, 1, 2, 3], "中文字中文", 0], [], []]},
    {"t": "s", "sz": [8, 3], "c": [0, 0, 1], "m": 0, "r": [[[5], "ab", 0], [], []]},  # wide offset out
    {"t": "s", "sz": [8, 3], "c": [0, 0, 1], "m": 0, "r": [[[1, 0], "ab", 0], [], []]},
    {"t": "s", "sz": [8, 3], "c": [0, 0, 1], "m": 0, "r": [["ab", 1], [], []]},  # unknown style
    {"t": "s", "sz": [8, 3], "c": [0, 0, 1], "m": 0, "r": [["ab"], [], []]},
    {"t": "s", "sz": [8, 3], "c": [0, 0, 1], "m": 0, "r": [["", 0], [], []]},
    {"t": "s", "sz": [8, 3], "c": [0, 0, 1], "m": 0, "r": [["a\x1bb", 0], [], []]},  # control char
    {"t": "s", "sz": [8, 3], "c": [0, 0, 1], "m": 0, "r": [["a\u2028", 0], [], []]},
    {"t": "s", "sz": [8, 3], "c": [0, 0, 1], "m": 0, "r": [["a\ud800", 0], [], []]},
    {"t": "s", "sz": [8, 3], "c": [0, 0, 1], "m": 0, "r": [["a", 1], [], []], "s": [[256, -1, 0]]},
    {"t": "s", "sz": [8, 3], "c": [0, 0, 1], "m": 0, "r": [["a", 1], [], []], "s": [[1, -1, 16384]]},
    {"t": "s", "sz": [8, 3], "c": [0, 0, 1], "m": 0, "r": [["a", 1], [], []], "s": [[1, -1]]},
    {"t": "d", "sz": [8, 3], "c": [0, 0, 1], "m": 0, "r": [[3, []]]},  # index out of range
    {"t": "d", "sz": [8, 3], "c": [0, 0, 1], "m": 0, "r": [[1, []], [1, []]]},  # twice
    {"t": "d", "sz": [8, 3], "c": [0, 0, 1], "m": 0, "r": [[1]]},
    {"t": "d", "sz": [8, 3], "c": [0, 0, 1], "m": 0, "r": [[True, []]]},
    {"t": "d", "sz": [8.0, 3], "c": [0, 0, 1], "m": 0, "r": []},
]


@pytest.mark.parametrize("bad", BAD)
def test_malformed_frames_raise_value_error(bad):
    with pytest.raises(ValueError, match="screen frame"):
        ScreenFrame.from_dict(bad)


def test_valid_dict_decodes():
    f = ScreenFrame.from_dict(valid_dict())
    assert apply(None, f).lines()[0] == "ab中"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=3), children, max_size=6),
    max_leaves=40,
)


def _check_decode(d):
    try:
        f = ScreenFrame.from_dict(d)
    except ValueError:
        return
    # Whatever decodes is a well-formed frame.
    state = apply(ScreenState.blank(*f.size), f)
    assert all(r.width == f.size[0] for r in state.rows)
    assert through_json(f) == f


@settings(max_examples=N * 2, deadline=None)
@given(json_values)
def test_random_garbage_raises_only_value_error(d):
    _check_decode(d)


@settings(max_examples=N * 2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_frames_raise_only_value_error(data):
    d = valid_dict()
    # Replace one node somewhere in the tree by a random JSON value.
    node = d
    for _ in range(data.draw(st.integers(0, 4))):
        if isinstance(node, dict) and node:
            key = data.draw(st.sampled_from(sorted(node)))
        elif isinstance(node, list) and node:
            key = data.draw(st.integers(0, len(node) - 1))
        else:
            break
        if isinstance(node[key], (dict, list)) and data.draw(st.booleans()):
            node = node[key]
        else:
            break
    if isinstance(node, dict):
        key = data.draw(st.sampled_from(sorted(node) + ["extra"]))
        node[key] = data.draw(json_values)
    elif node:
        node[data.draw(st.integers(0, len(node) - 1))] = data.draw(json_values)
    _check_decode(d)
