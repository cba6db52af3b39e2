"""The lines above the screen when long output has its head fed unfollowed (above.py): only
the last piece of a feed is followed, and what it moves off is the scrollback's."""

import os
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cobrowse.screen import Emulator
from cobrowse.screen.above import NOT_PLAIN, REGION, is_plain, last_region
from cobrowse.screen.redact import CONTEXT_ROWS, Redactor
from cobrowse.screen.sync import redact_clustered

SETTINGS = settings(max_examples=int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "100")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

WORDS = ["alpha", "beta", "token", "\x1b[31mred\x1b[0m", "\x1b[1;33mwarn\x1b[m", "中文", "café", "\t", "x" * 70]


def log(rng: random.Random, n: int, start: int = 0) -> list[bytes]:
    out = []
    for i in range(start, start + n):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 12)))
        out.append(f"L{i} {words}\r\n".encode())
    return out


@SETTINGS
@given(seed=st.integers(0, 2**32), cols=st.integers(2, 120), rows=st.integers(1, 40),
       batches=st.lists(st.integers(1, 200), min_size=1, max_size=8))
def test_lines_above_after_long_batches_are_the_scrollback(seed, cols, rows, batches):
    rng = random.Random(seed)
    e = Emulator(cols, rows)
    at = 0
    for size in batches:
        e.feed(b"".join(log(rng, size, at)))
        at += size
        for n in (1, CONTEXT_ROWS, 16):
            assert e.rows_above(n) == e.scrollback(n)
            assert [r.text for r in e.context_above(n)] == [r.text for r in e.scrollback(n)]


WORDS_SECRET = ["password:", "hunter2", "ghp_" + "a1b2c3d4e5" * 4, "-----BEGIN RSA PRIVATE KEY-----", "MIIEow" * 10,
                "\x1b[1mtoken\x1b[0m =", "4111 1111 1111 1111", "café", "中文", "e\u0301", "x" * 60, "\x1b[33mwarn\x1b[0m"]


@SETTINGS
@given(seed=st.integers(0, 2**32), cols=st.sampled_from([10, 24, 40, 80]), rows=st.integers(2, 12),
       batches=st.lists(st.integers(1, 40), min_size=1, max_size=6))
def test_context_above_redacts_as_the_scrollback(seed, cols, rows, batches):
    """Redaction reads the lines above the screen by their text: the context the frames use
    (plain-text rows for ASCII lines not built yet) masks exactly as the scrollback's rows."""
    rng = random.Random(seed)
    e = Emulator(cols, rows)
    for size in batches:
        e.feed("".join(" ".join(rng.choice(WORDS_SECRET) for _ in range(rng.randint(0, 5))) + "\r\n"
                       for _ in range(size)).encode())
        state = e.state()
        got = redact_clustered(Redactor(), state.rows, e.context_above(CONTEXT_ROWS), state.cursor)
        assert got == redact_clustered(Redactor(), state.rows, e.scrollback(CONTEXT_ROWS), state.cursor)


def test_a_log_in_big_batches_needs_no_copy():
    """1 MB/s of log lines reach the emulator ~100 lines a feed, 7 feeds a frame."""
    rng = random.Random(7)
    e = Emulator(100, 30)
    for frame in range(40):
        for _ in range(7):
            lines = [f"\x1b[{rng.choice((0, 2, 33))}m{rng.randrange(10**6)} {'w' * rng.randint(10, 130)}\x1b[0m\r\n"
                     for _ in range(100)]
            e.feed("".join(lines).encode())
        assert e._off.has(CONTEXT_ROWS)  # known without copying the scrollback
        assert e.rows_above(CONTEXT_ROWS) == e.scrollback(CONTEXT_ROWS)


@SETTINGS
@given(text=st.text(st.sampled_from(["a", " ", "\x1b", "[", "1", ";", ":", "m", "r", "\x9b", "\x85", "é", "\n", "K", "0", "2", "?"]),
                   max_size=60))
def test_fast_scans_agree_with_the_patterns(text):
    assert is_plain(text) == (NOT_PLAIN.search(text) is None)
    matches = [m.group(1) for m in REGION.finditer(text)]
    assert last_region(text) == (matches[-1] if matches else None)
