"""The check that redaction's context, followed as output scrolls, is the truth: the frames a
sender sends equal redaction with avt's own scrollback as context (a label or a token's start
that scrolled off still masks). Shared by the followers' property tests."""

from __future__ import annotations

from collections.abc import Iterable

from cobrowse.screen import ScreenSender
from cobrowse.screen.redact import CONTEXT_ROWS, Redactor
from cobrowse.screen.sync import redact_clustered


def assert_redacts_as_the_scrollback(size: tuple[int, int], chunks: Iterable[bytes], cursor: bool = False) -> None:
    """Feed ``chunks`` one by one, a frame after each; every frame sent is redacted as with the
    scrollback as context (and, with ``cursor``, carries the emulator's cursor)."""
    sender = ScreenSender(*size, fps=1000.0, redactor=Redactor())
    sender.scroll_ops = True
    truth = Redactor()
    now = 0.0
    for chunk in chunks:
        sender.feed(chunk)
        now += 1.0
        if sender.poll(now) is None:
            continue
        emu = sender.emulator
        raw = emu.state()
        expected = redact_clustered(truth, raw.rows, emu.scrollback(CONTEXT_ROWS), raw.cursor)
        assert sender.sent is not None and sender.sent.rows == expected
        if cursor:
            assert sender.sent.cursor == raw.cursor
