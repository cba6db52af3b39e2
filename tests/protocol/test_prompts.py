"""One question at a time: every ordering of requests, repeats, denials, expiry and arming."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cobrowse.protocol.prompts import (
    Answered,
    AutoRefused,
    Coalesced,
    NothingAsked,
    Prompt,
    PromptKind,
    PromptQueue,
    Queued,
    Shown,
    Stale,
    TooSoon,
)

CONTROL, SUGGEST, RECORDING = PromptKind.CONTROL, PromptKind.SUGGEST, PromptKind.RECORDING


def shown(events: list[object]) -> Prompt:
    (event,) = [e for e in events if isinstance(e, Shown)]
    assert isinstance(event, Shown)
    return event.prompt


def answered(events: list[object]) -> Answered:
    (event,) = [e for e in events if isinstance(e, Answered)]
    assert isinstance(event, Answered)
    return event


@pytest.mark.parametrize(("first", "second"), [(CONTROL, RECORDING), (RECORDING, CONTROL), (SUGGEST, CONTROL),
                                               (CONTROL, SUGGEST), (SUGGEST, RECORDING), (RECORDING, SUGGEST)])
def test_a_second_request_waits_and_a_double_press_answers_only_what_is_on_screen(first: PromptKind,
                                                                                   second: PromptKind) -> None:
    """The scam: ask for control, then to record; the customer presses y twice 'for the recording'."""
    q = PromptQueue(timeout=30, arming=1)
    a = shown(q.request(first, 0.0))
    assert a.kind == first and a.id == 1
    assert q.request(second, 0.5) == [Queued(second, a)]
    assert q.shown == a  # the screen did not change under the customer
    ev = q.answer(None, True, 2.0)  # the first y answers the question on screen: `first`
    assert answered(ev).prompt == a and answered(ev).allow
    b = shown(ev)
    assert b.kind == second and b.id == 2 and b.armed_at == 3.0
    assert q.answer(None, True, 2.2) == [TooSoon(b, pytest.approx(0.8))]  # the second y: too soon, nothing
    assert q.shown == b
    ev = q.answer(None, False, 3.5)
    assert answered(ev) == Answered(b, False, "customer") and q.shown is None


def test_every_order_of_three_requests_shows_them_one_at_a_time_in_order() -> None:
    for order in itertools.permutations([CONTROL, SUGGEST, RECORDING]):
        q = PromptQueue(arming=0)
        seen = [shown(q.request(order[0], 0.0)).kind]
        for kind in order[1:]:
            assert isinstance(q.request(kind, 0.0)[0], Queued)
        now = 1.0
        while q.shown is not None:
            ev = q.answer(None, False, now)
            seen += [e.prompt.kind for e in ev if isinstance(e, Shown)]
            now += 1
        assert tuple(seen) == order


def test_repeats_are_coalesced_shown_or_waiting() -> None:
    q = PromptQueue()
    a = shown(q.request(CONTROL, 0.0))
    q.request(RECORDING, 0.0)
    for i in range(200):
        assert q.request(CONTROL, i / 10) == [Coalesced(CONTROL)]
        assert q.request(RECORDING, i / 10) == [Coalesced(RECORDING)]
    assert q.shown == a and q.waiting == [RECORDING]


def test_an_answer_for_a_prompt_no_longer_on_screen_answers_nothing() -> None:
    q = PromptQueue(arming=1)
    a = shown(q.request(RECORDING, 0.0))
    q.request(CONTROL, 0.1)
    shown(q.answer(a.id, False, 2.0))  # the app's button names the prompt it shows
    b = q.shown
    assert b is not None and b.kind == CONTROL
    assert q.answer(a.id, True, 5.0) == [Stale(a.id, b)]  # a click on a stale bar: nothing granted
    assert q.shown == b
    assert isinstance(q.answer(b.id, True, 5.0)[0], Answered)


def test_nothing_asked() -> None:
    q = PromptQueue()
    assert q.answer(None, True, 0.0) == [NothingAsked()]
    assert q.expire(100.0) == [] and q.next_deadline() is None


def test_unanswered_prompts_are_denied_and_the_next_one_gets_its_full_time() -> None:
    q = PromptQueue(timeout=10, arming=1)
    a = shown(q.request(CONTROL, 0.0))
    q.request(RECORDING, 5.0)
    assert q.next_deadline() == 10.0
    assert q.expire(9.9) == []
    ev = q.expire(10.0)
    assert answered(ev) == Answered(a, False, "timeout")
    b = shown(ev)
    assert (b.shown_at, b.deadline) == (10.0, 20.0)
    assert q.answer(None, True, 25.0)[0] == Answered(b, False, "timeout")  # late: denied, never accepted
    assert q.shown is None


def test_after_repeated_denials_the_customer_is_not_asked_for_a_while() -> None:
    q = PromptQueue(timeout=10, arming=0, max_denials=3, quiet=300)
    now = 0.0
    for i in range(3):
        shown(q.request(CONTROL, now))
        if i == 1:
            q.expire(now + 10)  # a timeout counts as a refusal too
        else:
            q.answer(None, False, now + 1)
        now += 20
    for t in (now, now + 100, now + 259):
        assert q.request(CONTROL, t) == [AutoRefused(CONTROL, 341.0)]  # 300 s after the third refusal
    assert q.shown is None
    assert isinstance(q.request(RECORDING, now)[0], Shown)  # other kinds are still asked
    q.answer(None, False, now + 1)
    assert isinstance(q.request(CONTROL, 341.0)[0], Shown)  # asked again after the quiet period


def test_an_allow_resets_the_count_of_denials() -> None:
    q = PromptQueue(arming=0, max_denials=3)
    for allow in (False, False, True, False, False):
        shown(q.request(SUGGEST, 0.0))
        q.answer(None, allow, 0.0)
    assert isinstance(q.request(SUGGEST, 0.0)[0], Shown)


def test_withdrawn_requests_never_count_and_the_next_one_is_shown() -> None:
    q = PromptQueue(arming=0, max_denials=1)
    a = shown(q.request(SUGGEST, 0.0))
    q.request(CONTROL, 0.0)
    q.request(RECORDING, 0.0)
    assert q.withdraw(RECORDING, 1.0) == [] and q.waiting == [CONTROL]
    ev = q.withdraw(SUGGEST, 1.0)
    assert answered(ev) == Answered(a, False, "withdrawn") and shown(ev).kind == CONTROL
    assert isinstance(q.request(SUGGEST, 2.0)[0], Queued)  # a withdrawal is not a refusal
    assert q.withdraw(RECORDING, 2.0) == []


def test_arming_applies_to_every_newly_shown_prompt_and_ids_never_repeat() -> None:
    q = PromptQueue(arming=1)
    ids = set()
    now = 0.0
    for kind in [CONTROL, RECORDING, SUGGEST] * 5:
        p = shown(q.request(kind, now))
        ids.add(p.id)
        assert isinstance(q.check(None, now + 0.99), TooSoon)
        assert q.check(None, now + 1.0) == p
        q.answer(None, True, now + 1.0)
        now += 2
    assert len(ids) == 15


ops = st.lists(st.tuples(st.sampled_from(["request", "yes", "no", "expire", "withdraw"]),
                         st.sampled_from(list(PromptKind)), st.floats(0, 5), st.booleans()), max_size=60)


@given(ops)
def test_no_sequence_grants_what_was_not_on_screen_armed_and_alive(steps: list[tuple[str, PromptKind, float, bool]]) -> None:
    q = PromptQueue(timeout=10, arming=1, max_denials=3, quiet=30)
    now = 0.0
    for op, kind, dt, by_id in steps:
        now += dt
        before = q.shown
        if op == "request":
            events = q.request(kind, now)
        elif op in ("yes", "no"):
            events = q.answer(before.id if by_id and before else None, op == "yes", now)
        elif op == "expire":
            events = q.expire(now)
        else:
            events = q.withdraw(kind, now)
        for event in events:
            if isinstance(event, Answered) and event.allow:
                assert op == "yes" and event.by == "customer" and event.prompt == before
                assert before.armed_at <= now < before.deadline
        assert len([e for e in events if isinstance(e, Shown)]) <= 1
        assert len(set(q.waiting)) == len(q.waiting) <= len(PromptKind) - 1
        assert q.shown is None or q.shown.kind not in q.waiting
