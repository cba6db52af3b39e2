"""Skip-ahead (screen/skip.py): feeding a shortened batch ends exactly as feeding it whole."""

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from cobrowse.screen import Emulator
from cobrowse.screen.redact import CONTEXT_ROWS, Redactor
from cobrowse.screen.skip import SkipAhead, needed_lines
from cobrowse.screen.sync import ScreenSender

sys.path.insert(0, str(Path(__file__).parent))
from streams import token  # noqa: E402

SETTINGS = settings(max_examples=int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "150")), deadline=None,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_word = st.text(alphabet="abcdefghij XYZ0123456789-_|=:/", min_size=0, max_size=20)
_wide = st.sampled_from(["é", "中", "文字", "🙂", "e\u0301", "\u200b", "\u200d", "\ufffd", "\u2764\ufe0f", "\t"])
_safe_seq = st.sampled_from(["\x1b[m", "\x1b[0m", "\x1b[1m", "\x1b[31m", "\x1b[0;32m", "\x1b[38;5;208m",
                             "\x1b[48;2;10;20;30m", "\x1b[8m", "\x1b[1;2m", "\x1b[4:3m", "\x1b[K", "\x1b[2K",
                             "\x1b[1K", "\x1b[0K", "\x1b[5K", "\x1b[1;2K", "\x1b[0;1K", "\x7f", "\x1b[?25l", "\x1b[?25h", "\xff".encode("latin-1").decode("latin-1")])
# What programs print around floods, and what ends a safe run.
_unsafe = st.sampled_from(["\x1b]0;title\x07", "\x1b]0;open title", "\x1b]8;;http://x\x1b\\", "\x1bP1$r",
                           "\x1b[2;5r", "\x1b[r", "\x1b[?1049h", "\x1b[?1049l", "\x07", "\b", "\x1b[A", "\x1b[5;1H",
                           "\x1b[3", "\x1b", "\x18", "\x9b1A", "\x0e", "\x0f", "\x1b(0", "\x1b(B", "\x1b[4h",
                           "\x1b[20h", "\x1b[20l", "\x1b[?7l", "\x1b[?7h", "\x1bH", "\x1b[3g", "\x1b[?45h",
                           "\x1b[?25;7l", "\x1b[?2l", "\x1b[?251h"])


@st.composite
def _line(draw):
    parts = draw(st.lists(st.one_of(_word, _word, _wide, _safe_seq), max_size=6))
    end = draw(st.sampled_from(["\r\n"] * 8 + ["\r", "\n", "\r\r\n"]))
    long = draw(st.integers(0, 8)) == 0  # a line that wraps
    return "".join(parts) * (6 if long else 1) + end


@st.composite
def floods(draw):
    """Random output, then a flood of lines (with a few odd tokens in it), then more output."""
    pieces: list[str] = draw(st.lists(token, max_size=12))
    for _ in range(draw(st.integers(1, 3))):
        pieces += draw(st.lists(_line(), min_size=30, max_size=80))
        pieces += draw(st.lists(st.one_of(_unsafe, token, _line()), max_size=3))
    pieces += draw(st.lists(st.one_of(token, _line()), max_size=8))
    data = "".join(pieces).encode("utf-8", "surrogatepass")
    cuts = sorted(set(draw(st.lists(st.integers(0, len(data)), max_size=8))))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)])]


def _feed_skipping(emu: Emulator, skip: SkipAhead, batch: bytes) -> None:
    cols, rows = emu.size
    emu.feed(skip.shorten(batch, rows, emu.scrolls_whole()))


@SETTINGS
@given(batches=floods(), size=st.tuples(st.integers(2, 40), st.integers(1, 12)), margin=st.integers(0, 5))
def test_skipping_ends_as_feeding_everything(batches, size, margin):
    whole, short = Emulator(*size), Emulator(*size)
    skip = SkipAhead(margin, min_skip=16)
    for batch in batches:
        whole.feed(batch)
        _feed_skipping(short, skip, batch)
        assert short.state() == whole.state()
        assert short.scrollback(margin) == whole.scrollback(margin)
    event(f"skipped {min(skip.skips, 3)} times")
    for em in (whole, short):  # the pen too: what it writes next looks the same
        em.feed(b"Z\x1b[KZ")
    assert short.state() == whole.state()


def test_a_flood_is_shortened_to_the_last_lines():
    emu, skip = Emulator(80, 24), SkipAhead(CONTEXT_ROWS)
    flood = b"".join(b"\x1b[32mINFO\x1b[0m line %d of the build log\r\n" % i for i in range(20000))
    fed = skip.shorten(flood, 24, emu.scrolls_whole())
    assert len(fed) < 8000 and fed.count(b"\n") == needed_lines(24, CONTEXT_ROWS)
    emu.feed(fed)
    assert emu.lines()[-2] == "INFO line 19999 of the build log"
    assert skip.skipped_bytes == len(flood) - len(fed)


def test_no_skip_under_a_scroll_region_or_an_open_string():
    emu, skip = Emulator(80, 24), SkipAhead(CONTEXT_ROWS)
    flood = b"".join(b"line %d\r\n" % i for i in range(5000))
    emu.feed(b"\x1b[1;10r")
    assert not emu.scrolls_whole()
    assert skip.shorten(flood, 24, emu.scrolls_whole()) == flood
    skip = SkipAhead(CONTEXT_ROWS)
    assert skip.shorten(b"\x1b]0;a title left open", 24, True) == b"\x1b]0;a title left open"
    assert not skip.ground
    assert skip.shorten(flood, 24, True) == flood  # text that may be the title's: fed whole
    assert skip.shorten(b"\x1b[m" + flood, 24, True) != b"\x1b[m" + flood  # ESC ends the string


PEM = (b"-----BEGIN OPENSSH PRIVATE KEY-----\r\n"
       + b"".join(b"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABlwAAAAdzc2gtcn%02d\r\n" % i
                  for i in range(30))
       + b"-----END OPENSSH PRIVATE KEY-----\r\n$ ")


def test_a_flood_ending_in_a_private_key_shows_it_masked():
    """The key's BEGIN line is above the screen: redaction still masks its lines (its context
    rows are kept)."""
    flood = b"".join(b"log line %d\r\n" % i for i in range(5000)) + PEM
    whole = ScreenSender(80, 24, redactor=Redactor())
    short = ScreenSender(80, 24, redactor=Redactor())
    skip = SkipAhead(CONTEXT_ROWS + 24)
    whole.feed(flood)
    short.feed(skip.shorten(flood, 24, True))
    assert skip.skipped_bytes > 40000
    seen = short.poll(0.0)
    assert seen is not None and whole.poll(0.0) == seen
    text = "\n".join(short.sent.lines())
    assert "b3BlbnNzaC1rZXkt" not in text and "END OPENSSH PRIVATE KEY" in text
