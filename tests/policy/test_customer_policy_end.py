"""Every ordering of the end of a session with feedback, on the customer's side, synchronously:
the customer ends first, the agent ends first (with or without the question), the answer
before or after the agent's End, the agent gone meanwhile, nobody answering in time.

The path (relay or direct) does not reach the policy: what it decides is the same on both,
and the runtime waits for the last frames to be acknowledged on either (tests/e2e/test_session_end.py)."""

from __future__ import annotations

import pytest

from cobrowse.policy.customer_events import (CloseSession, EndSession, FeedbackSent, GiveFeedback, PeerEnded,
                                             WriteProgram)
from cobrowse.protocol import messages as m
from tests.policy.customer_harness import Drive

ASKS = m.End("agent_ended", "the agent ended the session", feedback=True)


def ended(d: Drive, end: m.End = ASKS) -> list[object]:
    return list(d.take(d.policy.agent_ended(end, d.clock)))


def test_the_agent_ends_and_the_customer_answers_with_two_keys() -> None:
    d = Drive(ask_feedback=True)
    out = ended(d)
    (prompt,) = d.events_in(out, "feedback_prompt")  # type: ignore[arg-type]
    assert prompt["timeout_s"] == 45.0 and "Was your problem solved?" in prompt["message"]
    assert d.keys(b"y") == []
    assert d.keys(b"4") == [GiveFeedback("yes", 4)]
    out2 = d.take(d.policy.give_feedback("yes", 4))
    assert out2 == [m.Feedback("yes", 4), FeedbackSent("yes", 4, "thank you: your answer was sent to the agent"),
                    CloseSession("agent_ended", "the agent ended the session")]
    assert d.events_in(out2, "feedback_sent") == [
        {"event": "feedback_sent", "solved": "yes", "rating": 4, "message": "thank you: your answer was sent to the agent"}]


def test_keys_while_asked_never_reach_the_program_nor_do_the_agents() -> None:
    d = Drive(ask_feedback=True)
    d.policy.desk.consent.grant("control")
    ended(d)
    assert not any(isinstance(e, WriteProgram) for e in d.keys(b"ls\r") + d.agent(m.Keys("rm -rf ~\r")))


def test_nobody_answers_and_the_question_is_skipped_at_its_deadline() -> None:
    d = Drive(ask_feedback=True, feedback_answer=45.0)
    ended(d)
    assert d.policy.next_deadline() == d.clock + 45.0
    d.later(44.9)
    assert GiveFeedback() not in d.tick()
    d.later(0.2)
    assert GiveFeedback() in d.tick()
    out = d.take(d.policy.give_feedback("", 0))
    assert m.Feedback("", 0) in out and d.events_in(out, "feedback_sent")[0] == {  # type: ignore[arg-type]
        "event": "feedback_sent", "solved": None, "rating": None, "message": "feedback skipped"}
    assert d.take(d.policy.give_feedback("yes", 5)) == []  # a late answer: nothing more is sent


def test_escape_skips_both_questions() -> None:
    d = Drive(ask_feedback=True)
    ended(d)
    assert d.keys(b"\x1b") == [GiveFeedback("", 0)]


def test_an_end_without_the_question_closes_at_once() -> None:
    d = Drive(ask_feedback=True)
    assert ended(d, m.End("agent_ended", "bye")) == [PeerEnded()]


def test_a_front_end_that_cannot_ask_closes_at_once() -> None:
    d = Drive(ask_feedback=False)
    assert ended(d) == [PeerEnded()]


def test_feedback_before_the_agents_end_is_nothing() -> None:
    d = Drive(ask_feedback=True)
    assert d.take(d.policy.give_feedback("yes", 5)) == []
    assert d.keys(b"y5") == [WriteProgram(b"y5")]  # not asked: keys are the program's
    assert d.events_in(ended(d), "feedback_prompt")  # type: ignore[arg-type]


def test_a_second_end_while_asking_closes_without_an_answer() -> None:
    d = Drive(ask_feedback=True)
    ended(d)
    assert ended(d) == [PeerEnded()]


def test_the_customer_ends_first_and_a_crossing_end_from_the_agent_asks_nothing() -> None:
    d = Drive(ask_feedback=True)
    d.command("end")
    assert d.command("end") == [EndSession()]
    assert ended(d) == [PeerEnded()]


def test_the_agent_gone_before_the_answer_sends_nothing_and_still_closes() -> None:
    d = Drive(ask_feedback=True)
    ended(d)
    d.policy.paired = False  # the session closed under us (the agent's side went away)
    out = d.take(d.policy.give_feedback("no", 2))
    assert not d.sent_in(out) and isinstance(out[-1], CloseSession)
    assert d.events_in(out, "feedback_sent")[0]["solved"] == "no"  # type: ignore[arg-type]


def test_a_recording_stops_when_the_agent_ends() -> None:
    d = Drive(ask_feedback=True)
    d.policy.desk.recording.request(d.clock)
    d.policy.desk.recording.answer(True)
    out = ended(d)
    assert d.events_in(out, "recording")[0]["state"] == "stopped"  # type: ignore[arg-type]
    assert d.events_in(out, "recording")[0]["by"] == "agent"  # type: ignore[arg-type]


def test_a_bad_answer_from_a_front_end_is_refused_and_the_question_stays() -> None:
    d = Drive(ask_feedback=True)
    ended(d)
    with pytest.raises(ValueError):
        d.policy.give_feedback("maybe", 9)
    assert d.policy.ending is not None


@pytest.mark.parametrize("language, start", [("ru", "специалист завершил сеанс. "), ("zh", "客服人员结束了会话。")])
def test_the_question_says_the_stock_end_in_the_customers_language(language: str, start: str) -> None:
    """Seen in tmux (`--lang zh`, plain and the app): "the agent ended the session。" in English."""
    from cobrowse.i18n.catalogues import translator
    from cobrowse.i18n.language import Language

    d = Drive(ask_feedback=True, tr=translator(Language(language)))
    (prompt,) = d.events_in(ended(d), "feedback_prompt")  # type: ignore[arg-type]
    assert prompt["message"].startswith(start), prompt["message"]
    (own,) = d.events_in(list(Drive(ask_feedback=True, tr=translator(Language(language))).policy.agent_ended(
        m.End("agent_ended", "all fixed, bye", feedback=True), 0.0)), "feedback_prompt")
    assert own["message"].startswith("all fixed, bye")  # the agent's own words: shown as they came
