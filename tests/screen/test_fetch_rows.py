"""Rows fetched by what moved (Emulator.fetch) and the sender built on it: after every frame
the agent's screen is the customer's screen redacted afresh (a second Redactor with no memo,
given the emulator's own rows and scrollback, called exactly when the sender's redacts), and
a scrolled screen reuses the Rows that only moved instead of building them again."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Sequence

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cobrowse.screen import Emulator, ScreenFrame, ScreenMirror, ScreenSender
from cobrowse.screen.redact import CONTEXT_ROWS, MASK_CHAR, Redactor
from cobrowse.screen.state import Cursor, Row
from cobrowse.screen.sync import redact_clustered

sys.path.insert(0, str(Path(__file__).parent))
from streams import sizes, split_stream  # noqa: E402

SETTINGS = settings(max_examples=int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "150")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
GITHUB = "ghp_" + "Canary0123456789abcdefghijklmnopqrstu"
AWS = "AKIAIOSFODNN7CANARY1"


class Twin(Redactor):
    """A Redactor that counts the screens it redacts (its caller is the sender): every outer
    call, with scrollback above or not (redact_rows calls itself once with the scrollback
    joined on; that inner call is not another screen). A screen redacted before anything
    scrolled off counts too: the word typed at the cursor there is remembered
    (cobrowse/screen/typed.py) and masked later, so the reference must see that screen."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self._depth = 0

    def redact_rows(self, rows: Sequence[Row], above: Sequence[Row] = (), cursor: Cursor | None = None) -> tuple[Row, ...]:
        self.calls += self._depth == 0
        self._depth += 1
        try:
            return super().redact_rows(rows, above, cursor)
        finally:
            self._depth -= 1


class Checked:
    """A sender with redaction and scroll ops, its mirror through the wire form, and the
    reference: the emulator's rows and scrollback redacted by a Redactor without memos."""

    def __init__(self, cols: int, rows: int) -> None:
        self.redactor = Twin()
        self.sender = ScreenSender(cols, rows, fps=1000.0, redactor=self.redactor)
        self.sender.scroll_ops = True
        self.mirror = ScreenMirror()
        self.reference = Redactor()
        self.now = 0.0
        self.frames: list[ScreenFrame] = []

    def step(self, data: bytes | str) -> ScreenFrame | None:
        self.sender.feed(data.encode() if isinstance(data, str) else data)
        self.now += 0.01
        calls = self.redactor.calls
        frame = self.sender.poll(self.now)
        if frame is not None:
            self.frames.append(frame)
            self.mirror.apply(ScreenFrame.from_dict(json.loads(json.dumps(frame.to_dict()))))
            assert self.mirror.state == self.sender.sent
        emu = self.sender.emulator
        truth = emu.state()
        view = self.sender._view
        assert view is not None and view.rows == truth.rows  # the rows fetched are the emulator's
        if self.redactor.calls != calls:  # the sender redacted: so does the reference, afresh
            self.reference._lines.clear()
            self.reference._groups.clear()
            self.reference._cache.clear()
            expected = redact_clustered(self.reference, truth.rows, emu.scrollback(CONTEXT_ROWS), truth.cursor)
            assert self.sender.sent is not None and self.sender.sent.rows == expected
            # What was typed before only adds masks: every cell a Redactor with no memory at
            # all masks, the frame masks too (on rows whose masks kept their length).
            fresh = redact_clustered(Redactor(), truth.rows, emu.scrollback(CONTEXT_ROWS), truth.cursor)
            for f, s, t in zip(fresh, expected, truth.rows):
                if len(f.text) == len(s.text) == len(t.text):
                    assert not any(fc == MASK_CHAR != sc and tc != MASK_CHAR for fc, sc, tc in zip(f.text, s.text, t.text))
        return frame

    def text(self) -> str:
        assert self.mirror.state is not None
        return "\n".join(r.text for r in self.mirror.state.rows)


def _log(n: int, start: int = 0) -> str:
    return "".join(f"line {i:04d} \x1b[3{i % 8}mcolour {i}\x1b[0m tail\r\n" for i in range(start, start + n))


def test_a_scroll_reuses_the_rows_that_moved_and_builds_the_new_ones() -> None:
    emu = Emulator(40, 10)
    changed = emu.feed(_log(12).encode())
    view, k = emu.fetch(changed, None)
    assert k == 0 and view.rows == emu.state().rows
    changed = emu.feed(_log(3, 12).encode())
    after, k = emu.fetch(changed, view)
    assert k == 3
    assert after.rows == emu.state().rows
    assert all(after.rows[i] is view.rows[i + 3] for i in range(6))  # moved, not built
    assert [r.text.rstrip() for r in after.rows[6:9]] == [r.text.rstrip() for r in emu.state().rows[6:9]]


def test_a_scroll_with_changes_in_place_above_the_new_rows() -> None:
    emu = Emulator(40, 10)
    view, _ = emu.fetch(emu.feed(_log(12).encode()), None)
    # three lines scroll in, then row 2 is rewritten in place and the cursor goes back down
    changed = emu.feed((_log(3, 12) + "\x1b7\x1b[3;1H\x1b[1;35mSTATUS\x1b[0m\x1b8").encode())
    after, k = emu.fetch(changed, view)
    truth = emu.state().rows
    assert k == 3 and after.rows == truth
    assert truth[2].text.startswith("STATUS") and after.rows[2] is not view.rows[5]
    assert after.rows[1] is view.rows[4]


def test_a_scroll_past_the_whole_screen_builds_every_row() -> None:
    emu = Emulator(40, 10)
    view, _ = emu.fetch(emu.feed(_log(12).encode()), None)
    after, k = emu.fetch(emu.feed(_log(25, 100).encode()), view)
    assert k == 0 and after.rows == emu.state().rows
    assert not any(a is b for a, b in zip(after.rows, view.rows) if a.text.strip())  # (a blank row may stay)


def test_a_scroll_region_moves_its_rows_only() -> None:
    emu = Emulator(30, 10)
    view, _ = emu.fetch(emu.feed(("TOP BAR\r\n" + _log(8) + "\x1b[7mBOTTOM BAR\x1b[0m").encode()), None)
    # a full-screen program scrolls rows 2..9 (1-based) by two and writes the new rows
    changed = emu.feed(b"\x1b[2;9r\x1b[9;1H\r\nnew one\r\nnew two\x1b[r")
    after, k = emu.fetch(changed, view)
    truth = emu.state().rows
    assert after.rows == truth
    assert truth[0].text.startswith("TOP BAR") and truth[9].text.startswith("BOTTOM BAR")
    assert sum(a is b for a, b in zip(after.rows, view.rows[2:])) >= 4  # the region's rows moved


def test_a_view_of_another_size_is_not_reused() -> None:
    emu = Emulator(40, 10)
    view, _ = emu.fetch(emu.feed(_log(12).encode()), None)
    emu.resize(30, 8)
    after, k = emu.fetch(emu.feed(_log(2, 50).encode()), view)
    assert k == 0 and after.size == (30, 8) and after.rows == emu.state().rows


def test_the_sender_across_resize_and_the_alternate_screen() -> None:
    c = Checked(40, 10)
    c.step(_log(12))
    c.step(_log(4, 12))
    c.sender.resize(30, 8)
    assert c.step(_log(3, 16)) is not None and c.frames[-1].is_snapshot
    c.step(_log(5, 19))
    c.step("\x1b[?1049h\x1b[H\x1b[2Jfull screen\r\n" + _log(3, 30))
    c.step(_log(9, 40))
    c.step("\x1b[?1049l")
    c.step(_log(2, 60))
    assert c.mirror.state == c.sender.sent
    assert any(f.scroll for f in c.frames)


def test_a_secret_across_the_shift_boundary_is_masked() -> None:
    c = Checked(30, 8)
    c.step(_log(10))
    # the token wraps: its start on the screen's last old row, its end on a new row
    c.step("deploy with " + GITHUB + " now\r\n" + _log(2, 10))
    assert GITHUB[:12] not in c.text().replace("\n", "") and MASK_CHAR in c.text()
    c.step(_log(3, 20))  # and stays masked while it scrolls up
    assert "Canary0123" not in c.text().replace("\n", "")
    c.step(AWS[:10])
    c.step(AWS[10:] + "\r\n" + _log(1, 30))
    assert "CANARY1" not in c.text()


def test_a_password_prompt_scrolled_up_one_row_with_its_answer_below() -> None:
    c = Checked(30, 8)
    c.step(_log(10))
    c.step("Password:")
    c.step("\r\n")  # the prompt moves up a row: the answer's row is new
    c.step("hunter2xyz")
    assert "hunter2xyz" not in c.text()
    c.step("\r\n" + _log(1, 40))
    assert "hunter2xyz" not in c.text()
    assert any(f.scroll == 1 for f in c.frames)


def _glued_run() -> Checked:
    """The screen hypothesis found (random seed) where the frame and the reference disagreed:
    a token typed at the cursor (its line fills two rows exactly, so the cursor on the row
    below is still on its line) before anything scrolled off, then the same token glued to a
    ``0``. Replayed by :func:`test_every_frame_shows_the_screen_redacted_afresh` too."""
    c = Checked(21, 7)
    for piece in _GLUED_PIECES:
        c.step(piece)
    return c


_PW = "password: hunter2xyz\r\n"
_GLUED_CHUNKS = [b"", "0é文字\x1b[0".encode(), b"A\x1b[1J", b"\x1b[0B0"]
_GLUED_SECRETS = [_PW, _PW, GITHUB + "\r\n", GITHUB + "\r\n"]
_GLUED_PIECES = [p for pair in zip(_GLUED_CHUNKS, [s.encode() for s in _GLUED_SECRETS]) for p in pair]


def test_a_token_glued_to_a_digit_is_masked_by_a_fresh_redaction_too() -> None:
    """The sender masked ``0ghp_...`` only because it remembered the token typed at the cursor
    earlier; a Redactor without that memory (and the reference, which had not seen that
    screen: it went out before any scrollback) masked 10 of its cells. The token's own shape
    masks it now, wherever it is glued."""
    c = _glued_run()
    text = c.text().replace("\n", "")
    assert "Canary" not in text and "abcdefghijklmnopqrstu" not in text
    emu = c.sender.emulator
    truth = emu.state()
    fresh = redact_clustered(Redactor(), truth.rows, emu.scrollback(CONTEXT_ROWS), None)
    assert [r.text for r in fresh] == [r.text for r in c.sender.sent.rows]
    assert fresh[4].text == "0" + MASK_CHAR * 20 and fresh[5].text == MASK_CHAR * 21


@SETTINGS
@example(stream=(b"".join(_GLUED_CHUNKS), _GLUED_CHUNKS), size=(21, 7), secrets=_GLUED_SECRETS, resize=None)
@given(stream=split_stream(), size=sizes, secrets=st.lists(st.sampled_from(
    ["password: hunter2xyz\r\n", "Password:\r\nhunter2xyz\r\n", GITHUB + "\r\n", "key " + AWS,
     "\r\n".join(f"log {i} \x1b[32mok\x1b[0m" for i in range(12)) + "\r\n"]), max_size=4),
    resize=st.one_of(st.none(), sizes))
def test_every_frame_shows_the_screen_redacted_afresh(stream, size, secrets, resize) -> None:
    """Any output (regions, the alternate screen, wide characters, scrolls of any size) with
    secrets and logs between, a resize on the way: after every poll the agent holds what
    redacting the emulator's own rows without memos gives."""
    _, chunks = stream
    c = Checked(*size)
    mixed = [piece for pair in zip(chunks, [s.encode() for s in secrets] + [b""] * len(chunks)) for piece in pair]
    for i, piece in enumerate(mixed):
        if resize is not None and i == len(mixed) // 2:
            c.sender.resize(*resize)
        c.step(piece)
