"""Plain mode's end-of-session question: keys in, answer out."""

from __future__ import annotations

import pytest

from cobrowse.plain.feedback import FeedbackAnswer, FeedbackPrompt


@pytest.mark.parametrize("keys, answer", [
    (b"y4", FeedbackAnswer("yes", 4)),
    (b"N1", FeedbackAnswer("no", 1)),
    (b"y\r", FeedbackAnswer("yes", 0)),
    (b"\r5", FeedbackAnswer("", 5)),
    (b"\x1b", FeedbackAnswer("", 0)),
    (b"n\x03", FeedbackAnswer("no", 0)),
    (b"q?7y09 3", FeedbackAnswer("yes", 3)),  # stray keys are ignored
])
def test_answers(keys: bytes, answer: FeedbackAnswer) -> None:
    assert FeedbackPrompt().feed(keys) == answer


def test_answer_arrives_across_feeds_and_later_keys_change_nothing() -> None:
    prompt = FeedbackPrompt()
    assert prompt.feed(b"y") is None
    assert prompt.feed(b"2") == FeedbackAnswer("yes", 2)
    assert prompt.feed(b"n5") == FeedbackAnswer("yes", 2)
