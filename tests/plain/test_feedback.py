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


@pytest.mark.parametrize("keys, answer", [
    ("y۴".encode(), FeedbackAnswer("yes", 4)),  # Persian digits: a Persian keyboard's number row, and what fa's prompt says
    ("n٢".encode(), FeedbackAnswer("no", 2)),  # Arabic-Indic
    ("ｙ３".encode(), FeedbackAnswer("yes", 3)),  # full-width, as a Chinese input method types them
    ("y۶٠۵".encode(), FeedbackAnswer("yes", 5)),  # out of range: ignored as before
])
def test_digits_of_the_customers_own_script_rate(keys: bytes, answer: FeedbackAnswer) -> None:
    """At 80x24 in fa the dialog says "۱-۵" and a Persian layout types those digits: they were
    ignored, so the customer could not rate without switching their keyboard."""
    assert FeedbackPrompt().feed(keys) == answer


def test_a_character_split_across_reads_still_counts() -> None:
    prompt = FeedbackPrompt()
    four = "۴".encode()
    assert prompt.feed(b"y" + four[:1]) is None
    assert prompt.feed(four[1:]) == FeedbackAnswer("yes", 4)
