"""The step machine: every transition, who and when, auto-advance, the wire form."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cobrowse.playbook import ACTORS, STATUSES, Playbook, Step, StepMachine, StepState

PB = Playbook(
    "Fix a push",
    (
        Step("Status", "Look at it.", "git status -sb", r"^## \S+"),
        Step("Remote", "", "git remote -v", r"\(push\)$", r"(?i)^fatal:"),
        Step("Fetch", "", "git pull --rebase", "(?i)successfully rebased", "^CONFLICT"),
        Step("Push", "Push it.", "git push", "Everything up-to-date|-> main"),
    ),
)


def statuses(m: StepMachine) -> list[str]:
    return [s.status for s in m.states]


def test_the_first_step_starts_active() -> None:
    m = StepMachine(PB)
    assert m.current == 0
    assert statuses(m) == ["active", "pending", "pending", "pending"]
    assert m.states[0] == StepState("active", None, None)
    assert m.active_step == PB.steps[0]
    assert not m.finished


def test_mark_done_records_who_and_when_and_activates_the_next() -> None:
    m = StepMachine(PB)
    assert m.mark(0, "done", "customer", 10.0) is True
    assert m.states[0] == StepState("done", "customer", 10.0)
    assert m.states[1] == StepState("active", "customer", 10.0)
    assert m.current == 1
    assert m.mark(0, "done", "agent", 11.0) is False  # nothing changes
    assert m.states[0] == StepState("done", "customer", 10.0)


def test_mark_skipped_advances_and_skips_steps_already_done() -> None:
    m = StepMachine(PB)
    m.mark(1, "done", "agent", 1.0)  # not the current step: no advance
    assert m.current == 0 and statuses(m) == ["active", "done", "pending", "pending"]
    assert m.mark(0, "skipped", "agent", 2.0)
    assert m.current == 2
    assert statuses(m) == ["skipped", "done", "active", "pending"]


def test_advance_wraps_to_an_earlier_pending_step() -> None:
    m = StepMachine(PB)
    m.goto(3, "agent", 1.0)
    assert statuses(m) == ["pending", "pending", "pending", "active"]
    m.mark(3, "done", "customer", 2.0)
    assert m.current == 0 and statuses(m) == ["active", "pending", "pending", "done"]


def test_mark_active_makes_the_step_current() -> None:
    m = StepMachine(PB)
    assert m.mark(2, "active", "agent", 5.0)
    assert m.current == 2
    assert statuses(m) == ["pending", "pending", "active", "pending"]
    assert m.states[0] == StepState("pending", "agent", 5.0)
    assert m.mark(2, "active", "agent", 6.0) is False


def test_mark_failed_keeps_the_step_current() -> None:
    m = StepMachine(PB)
    assert m.mark(0, "failed", "customer", 3.0)
    assert m.current == 0 and m.states[0] == StepState("failed", "customer", 3.0)
    assert m.mark(0, "failed", "agent", 4.0) is False
    assert m.mark(0, "done", "agent", 5.0)
    assert m.current == 1


def test_mark_pending_on_the_current_step_leaves_none_current() -> None:
    m = StepMachine(PB)
    assert m.mark(0, "pending", "agent", 1.0)
    assert m.current is None and not m.finished
    assert statuses(m) == ["pending"] * 4
    assert m.observe(["## main"], 2.0) is False  # nothing is watched
    assert m.goto(0, "agent", 3.0) and m.current == 0


def test_back_reopens_the_previous_step() -> None:
    m = StepMachine(PB)
    m.mark(0, "done", "customer", 1.0)
    m.mark(1, "skipped", "customer", 2.0)
    assert m.back("agent", 3.0)
    assert m.current == 1
    assert m.states[1] == StepState("active", "agent", 3.0)
    assert m.states[2] == StepState("pending", "agent", 3.0)
    assert m.back("agent", 4.0)
    assert m.current == 0 and statuses(m) == ["active", "pending", "pending", "pending"]
    assert m.back("agent", 5.0) is False  # already at the first step


def test_back_from_a_failed_step_and_after_the_end() -> None:
    m = StepMachine(PB)
    m.mark(0, "done", "agent", 1.0)
    m.mark(1, "failed", "auto", 2.0)
    m.back("agent", 3.0)
    assert statuses(m) == ["active", "pending", "pending", "pending"]
    for i in range(4):
        m.mark(i, "done", "customer", 4.0)
    assert m.finished and m.current is None
    assert m.back("agent", 5.0)
    assert m.current == 3 and statuses(m) == ["done", "done", "done", "active"]
    assert not m.finished


def test_goto() -> None:
    m = StepMachine(PB)
    m.mark(0, "failed", "auto", 1.0)
    assert m.goto(2, "agent", 2.0)
    assert statuses(m) == ["failed", "pending", "active", "pending"]  # a failed step stays failed
    assert m.goto(2, "agent", 3.0) is False
    assert m.goto(0, "customer", 4.0)
    assert statuses(m) == ["active", "pending", "pending", "pending"]
    assert m.states[2] == StepState("pending", "customer", 4.0)


def test_finished_and_summary() -> None:
    m = StepMachine(PB)
    m.mark(0, "done", "customer", 1.0)
    m.mark(1, "skipped", "agent", 2.0)
    m.mark(2, "failed", "auto", 3.0)
    assert not m.finished  # the failed step is still current
    m.mark(2, "skipped", "agent", 4.0)
    m.mark(3, "done", "auto", 5.0)
    assert m.finished and m.current is None and m.active_step is None
    assert m.summary() == {
        "title": "Fix a push",
        "total": 4,
        "pending": 0,
        "active": 0,
        "done": 2,
        "skipped": 2,
        "failed": 0,
        "finished": True,
    }


def test_auto_advance_across_several_lines() -> None:
    m = StepMachine(PB)
    lines = [
        "$ git status -sb",
        "## main...origin/main [ahead 1]",  # completes step 0
        "## main",  # step 1 is current now: does not match it
        "origin  git@host:x.git (fetch)",
        "origin  git@host:x.git (push)",  # completes step 1
        "Successfully rebased and updated refs/heads/main.",  # completes step 2
    ]
    assert m.observe(lines, 7.0) is True
    assert statuses(m) == ["done", "done", "done", "active"]
    assert all(s.by == "auto" and s.at == 7.0 for s in m.states)
    assert m.observe(["nothing here"], 8.0) is False
    assert m.observe(["   abc..def  main -> main"], 9.0)
    assert m.finished


def test_a_line_completes_at_most_the_step_current_when_it_was_printed() -> None:
    pb = Playbook("T", (Step("A", expect="ok"), Step("B", expect="ok")))
    m = StepMachine(pb)
    m.observe(["all ok"], 1.0)
    assert statuses(m) == ["done", "active"]
    m.observe(["ok again"], 2.0)
    assert m.finished


def test_fail_pattern_then_a_retry_succeeds() -> None:
    m = StepMachine(PB)
    m.goto(1, "agent", 1.0)
    assert m.observe(["fatal: not a git repository", "fatal: again"], 2.0) is True
    assert m.current == 1 and m.states[1] == StepState("failed", "auto", 2.0)
    assert m.observe(["fatal: still"], 3.0) is False
    assert m.observe(["origin  x (push)"], 4.0) is True
    assert m.states[1] == StepState("done", "auto", 4.0)
    assert m.current == 2


def test_fail_wins_over_expect_on_the_same_line() -> None:
    pb = Playbook("T", (Step("A", expect="push", fail="rejected"),))
    m = StepMachine(pb)
    m.observe(["push rejected"], 1.0)
    assert statuses(m) == ["failed"]


def test_steps_without_patterns_wait_for_a_person() -> None:
    m = StepMachine(Playbook("T", (Step("By hand"),)))
    assert m.observe(["anything"] * 3, 1.0) is False
    assert m.mark(0, "done", "customer", 2.0) and m.finished


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda m: m.mark(4, "done", "agent", 1.0), "no step 4: the playbook has steps 0 to 3"),
        (lambda m: m.mark(-1, "done", "agent", 1.0), "no step -1"),
        (lambda m: m.mark(True, "done", "agent", 1.0), "a step index must be an integer"),
        (lambda m: m.mark("1", "done", "agent", 1.0), "a step index must be an integer"),
        (lambda m: m.mark(0, "finished", "agent", 1.0), "unknown step status 'finished'"),
        (lambda m: m.mark(0, "done", "robot", 1.0), "unknown actor 'robot'"),
        (lambda m: m.goto(9, "agent", 1.0), "no step 9"),
        (lambda m: m.back("nobody", 1.0), "unknown actor"),
    ],
)
def test_invalid_calls_raise_value_error_and_change_nothing(call, words: str) -> None:
    m = StepMachine(PB)
    before = m.to_dict()
    with pytest.raises(ValueError, match=words):
        call(m)
    assert m.to_dict() == before


def test_to_dict_is_the_steps_event_shape() -> None:
    m = StepMachine(PB)
    m.mark(0, "done", "customer", 12.5)
    d = m.to_dict()
    assert d["title"] == "Fix a push" and d["current"] == 1 and d["finished"] is False
    assert d["steps"][0] == {
        "title": "Status",
        "status": "done",
        "by": "customer",
        "at": 12.5,
        "command": "git status -sb",
        "body": "Look at it.",
    }
    assert d["steps"][1] == {"title": "Remote", "status": "active", "by": "customer", "at": 12.5, "command": "git remote -v"}
    assert "body" not in m.to_dict(text=False)["steps"][0]
    json.dumps(d)


def test_from_dict_restores_the_state() -> None:
    m = StepMachine(PB)
    m.mark(0, "skipped", "agent", 1.0)
    m.observe(["fatal: nope"], 2.0)
    again = StepMachine.from_dict(PB, json.loads(json.dumps(m.to_dict())))
    assert again.states == m.states and again.current == m.current == 1
    assert again.observe(["origin x (push)"], 3.0) and again.current == 2


def test_from_dict_restores_a_finished_run() -> None:
    m = StepMachine(PB)
    for i in range(4):
        m.mark(i, "done", "agent", float(i))
    again = StepMachine.from_dict(PB, m.to_dict(text=False))
    assert again.finished and again.summary() == m.summary()


def state(**changes) -> dict:
    d = StepMachine(PB).to_dict()
    d.update(changes)
    return d


def with_step(i: int, **changes) -> dict:
    d = StepMachine(PB).to_dict()
    d["steps"][i].update(changes)
    return d


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ([], "must be an object"),
        (state(title="Other"), "title does not match"),
        (state(steps=[]), "'steps' must be a list of 4 steps"),
        (state(steps=None), "'steps' must be a list of 4 steps"),
        (with_step(1, title="Nope"), "step 1 title does not match the playbook's 'Remote'"),
        (with_step(2, status="weird"), "step 2 has an unknown status"),
        (with_step(2, status=["pending"]), "step 2 has an unknown status"),
        (with_step(0, by="root"), "step 0 has an unknown actor"),
        (with_step(0, at="now"), "step 0 has an invalid time"),
        (with_step(0, at=True), "step 0 has an invalid time"),
        (with_step(0, at=float("nan")), "step 0 has an invalid time"),
        (with_step(0, at=10**400), "step 0 has an invalid time"),
        (state(current=7), "'current' is not a step index"),
        (state(current=True), "'current' is not a step index"),
        (state(current=1), "the current step is neither active nor failed"),
        (state(current=None), "only the current step may be active"),
        (with_step(2, status="active"), "only the current step may be active"),
    ],
)
def test_from_dict_rejects_bad_states(data, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        StepMachine.from_dict(PB, data)


operations = st.lists(
    st.one_of(
        st.tuples(st.just("mark"), st.integers(0, 3), st.sampled_from(STATUSES), st.sampled_from(ACTORS)),
        st.tuples(st.just("goto"), st.integers(0, 3), st.sampled_from(ACTORS)),
        st.tuples(st.just("back"), st.sampled_from(ACTORS)),
        st.tuples(
            st.just("observe"),
            st.lists(st.sampled_from(["## main", "x (push)", "fatal: no", "Successfully rebased", "-> main", "CONFLICT"]), max_size=4),
        ),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(operations)
def test_invariants_hold_and_the_state_always_round_trips(ops) -> None:
    m = StepMachine(PB)
    for now, (name, *args) in enumerate(ops):
        if name == "observe":
            m.observe(args[0], float(now))
        else:
            getattr(m, name)(*args, now=float(now))
        active = [i for i, s in enumerate(m.states) if s.status == "active"]
        assert len(active) <= 1
        if m.current is None:
            assert not active
        else:
            assert m.states[m.current].status in ("active", "failed")
            assert active in ([], [m.current])
        again = StepMachine.from_dict(PB, json.loads(json.dumps(m.to_dict())))
        assert again.states == m.states and again.current == m.current


def test_a_pathological_pattern_cannot_freeze_the_customer() -> None:
    """Patterns come from the agent: catastrophic backtracking is cut off, not waited out."""
    import time

    from cobrowse.playbook import Playbook, Step, StepMachine

    machine = StepMachine(Playbook("t", (Step("s", expect=r"^(a+)+$"),)))
    start = time.monotonic()
    assert machine.observe(["a" * 40 + "!"], 1.0) is False
    assert time.monotonic() - start < 2.0
    assert machine.observe(["a" * 10], 2.0) is True


def test_the_agent_stamps_each_change_on_its_own_clock() -> None:
    """The customer's ``at`` is its monotonic clock (meaningless to an integration): the agent
    stamps a change when it first hears of it, and keeps the stamp while the step is unchanged."""
    from cobrowse.playbook.steps import on_agent_clock

    def state(*steps: tuple[str, str | None, float | None]) -> dict:
        return {"title": "t", "current": 0, "finished": False,
                "steps": [{"title": f"s{i}", "status": st_, "by": by, "at": at} for i, (st_, by, at) in enumerate(steps)]}

    first, seen = on_agent_clock(state(("active", None, None), ("pending", None, None)), {}, 2.0)
    assert [s["at"] for s in first["steps"]] == [None, None]
    second, seen = on_agent_clock(state(("done", "auto", 35001.5), ("active", "auto", 35001.5)), seen, 7.25)
    assert [s["at"] for s in second["steps"]] == [7.25, 7.25]
    third, seen = on_agent_clock(state(("done", "auto", 35001.5), ("skipped", "agent", 35009.0)), seen, 12.5)
    assert [s["at"] for s in third["steps"]] == [7.25, 12.5]
    again, seen = on_agent_clock(state(("done", "auto", 35001.5), ("active", "agent", 35020.0)), seen, 30.0)
    assert [s["at"] for s in again["steps"]] == [7.25, 30.0] and len(seen) == 2
    assert on_agent_clock({"error": "x"}, seen, 1.0) == ({"error": "x"}, seen)


def test_a_hostile_step_state_is_stamped_without_an_error() -> None:
    """The step state is the customer's (untrusted): any JSON where a step's fields should be."""
    from cobrowse.playbook.steps import on_agent_clock

    state = {"steps": [{"title": ["a", {"b": 1}], "status": {"x": []}, "by": [1], "at": [2.5]}, "not a step",
                       {"title": "ok", "status": "done", "by": "auto", "at": 1.0}]}
    out, seen = on_agent_clock(state, {}, 3.0)
    assert [s["at"] if isinstance(s, dict) else s for s in out["steps"]] == [3.0, "not a step", 3.0]
    again, _ = on_agent_clock(state, seen, 9.0)
    assert again == out  # unchanged steps keep their stamps
