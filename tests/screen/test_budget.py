"""The CPU budget of agent patterns (screen/budget.py), and its use by the step machine and
the redactor: catastrophic patterns on 300-line bursts of adversarial lines.

Time is asserted through the budget's own accounting, with an injected clock: a fake one
that advances a fixed step per reading (so a call "costs" that step), and a match that
runs out of its timeout is charged the whole timeout whatever the clock says. The regex
engine itself really runs: a catastrophic pattern really times out (after at most
LINE_TIMEOUT, a few ms), which is what bounds the wall time of these tests too.
"""

from __future__ import annotations

import time

import pytest

from cobrowse.playbook import Playbook, Step, StepMachine
from cobrowse.screen.budget import (
    CHEAP_CALL,
    LINE_TIMEOUT,
    MAX_BURST_LINES,
    MAX_LINE,
    PATTERN_BURST,
    SHARE_BURST,
    SHARE_RATE,
    TRUSTED_BURST,
    NoticeKind,
    OffReason,
    PatternBudget,
    costly_shape,
    pieces,
)
from cobrowse.screen.redact import MASK_CHAR, LineRedactor, Redactor


class Clock:
    """Monotonic seconds that move on by ``step`` at every reading."""

    def __init__(self, step: float = 0.0) -> None:
        self.t = 1000.0
        self.step = step
        self.reads = 0

    def __call__(self) -> float:
        now = self.t
        self.t += self.step
        self.reads += 1
        return now


# Catastrophic for the regex engine at run time (not refused by their shape): alternations
# whose branches match the same text, under a repetition.
RUNTIME_CATASTROPHIC = [
    (r"(a|aa)+$", "a" * 40 + "!"),
    (r"(?:x|xx|xxx)+y", "x" * 50),
    (r"(?:(?:a|aa)|(?:aa|a))+!?$", "a" * 40 + "!x"),
]
# Refused by their shape before they ever run: nested repetition.
SHAPE_CATASTROPHIC = [r"(a+)+$", r"(x+x+)+y", r"(.*?,){30}x", r"(\w+\s?)+$", r"((a+)+)+$"]


@pytest.mark.parametrize(("pattern", "line"), RUNTIME_CATASTROPHIC)
def test_a_catastrophic_step_pattern_costs_one_line_timeout_on_a_300_line_burst(pattern: str, line: str) -> None:
    budget = PatternBudget(Clock())
    steps = StepMachine(Playbook("t", (Step("one", expect=pattern), Step("two"))), budget)
    assert not steps.observe([line] * 300, now=1.0)
    assert budget.calls == 1 and budget.skipped == MAX_BURST_LINES - 1  # off on the first line (of the last 256)
    assert LINE_TIMEOUT <= budget.spent < 2 * LINE_TIMEOUT
    (notice,) = budget.take_notices()
    assert (notice.kind, notice.reason, notice.label) == (NoticeKind.SWITCHED_OFF, OffReason.LINE_TIMEOUT,
                                                          "step 1 success pattern (expect:)")
    assert not steps.observe([line] * 300, now=2.0) and budget.calls == 1
    assert budget.take_notices() == []  # told once
    assert steps.mark(0, "done", "customer", 3.0) and steps.current == 1  # by hand still works


@pytest.mark.parametrize("pattern", SHAPE_CATASTROPHIC)
def test_nested_repetition_is_refused_before_it_runs(pattern: str) -> None:
    assert costly_shape(pattern)
    budget = PatternBudget(Clock())
    steps = StepMachine(Playbook("t", (Step("one", fail=pattern),)), budget)
    assert not steps.observe(["a" * 40 + "!", "x" * 60, "a," * 40, "word " * 20 + "!"] * 75, now=1.0)
    assert budget.calls == 0 and budget.spent == 0
    (notice,) = budget.take_notices()
    assert (notice.kind, notice.reason) == (NoticeKind.REFUSED, OffReason.NESTED)
    assert "step 1 failure pattern" in notice.agent_text() and "exponential" in notice.customer_text()


@pytest.mark.parametrize(("pattern", "want"), [
    (r"v\d+(\.\d+)*", False), (r"(\d+\.){2}\d+", False), (r"(-\w+)*", False), (r"([^,]*,)+x", False),
    (r"(?:[a-z]+\s)+", False), (r"(?i)^(error|unauthori[sz]ed|forbidden)", False),
    (r"^\s*(\+\s*)?[0-9a-f]{7,}\.\.\.?[0-9a-f]{7,}\s+\S+ -> \S+", False), (r"\p{L}+ (?r)x", False),
    (r"(.*,)+x", True), (r"(?:\w+\W?)+", True), (r"(?i)(x\w+)+", True), (r"(a*)*b", True),
])
def test_the_shape_check_refuses_only_ambiguous_nesting(pattern: str, want: bool) -> None:
    assert costly_shape(pattern) is want


def test_every_shipped_playbook_pattern_passes_the_shape_check() -> None:
    from pathlib import Path

    from cobrowse.playbook import load_playbook

    root = Path(__file__).resolve().parents[2]
    files = sorted({*root.glob("playbooks/*.md"), *root.glob("cobrowse/playbook/samples/*.md")})
    patterns = [p for f in files for s in load_playbook(f).steps for p in (s.expect, s.fail) if p]
    assert patterns and not [p for p in patterns if costly_shape(p)]


@pytest.mark.parametrize(("pattern", "line"), RUNTIME_CATASTROPHIC)
def test_a_catastrophic_redaction_pattern_is_switched_off_and_fails_closed(pattern: str, line: str) -> None:
    budget = PatternBudget(Clock())
    redactor = Redactor(budget=budget)
    assert redactor.add_remote([pattern, "ACME-[0-9]{4}"]) == 2
    burst = [f"{line} {i}" for i in range(300)]
    masked = LineRedactor(redactor).feed(burst)
    lines = burst[-MAX_BURST_LINES:]  # what step patterns look at
    assert masked[0] == MASK_CHAR * len(lines[0])  # the line it could not check: masked whole
    assert masked[1:] == lines[1:]  # then it is off; nothing else to mask
    assert budget.calls == MAX_BURST_LINES  # one timeout (the line is masked), then the cheap pattern alone
    assert budget.spent < 2 * LINE_TIMEOUT + MAX_BURST_LINES * CHEAP_CALL
    (notice,) = budget.take_notices()
    assert (notice.reason, notice.label) == (OffReason.LINE_TIMEOUT, "redaction pattern")
    assert redactor.mask("id ACME-1234") == "id " + MASK_CHAR * 9  # the other pattern still works
    assert redactor.remote_patterns == (pattern, "ACME-[0-9]{4}")
    assert redactor.add_remote([pattern]) == 0  # pushing it again does not switch it on


def test_a_redaction_pattern_refused_by_its_shape_does_not_count_as_added() -> None:
    budget = PatternBudget(Clock())
    redactor = Redactor(budget=budget)
    assert redactor.add_remote([r"(a+)+$", r"ok\d"]) == 1
    assert redactor.mask("aaaa ok1") == "aaaa " + MASK_CHAR * 3
    assert [n.kind for n in budget.take_notices()] == [NoticeKind.REFUSED]


def test_the_pointer_path_falls_back_to_literal_text_for_an_invalid_pattern() -> None:
    budget = PatternBudget(Clock())
    pattern = budget.compile("(unclosed", "pointer pattern", literal_if_invalid=True)
    assert pattern.active and budget.search(pattern, "see (unclosed here") and not budget.take_notices()
    refused = budget.compile("(unclosed", "step 1 success pattern")
    assert not refused.active and budget.take_notices()[0].reason is OffReason.INVALID


def test_cheap_patterns_on_a_flood_are_throttled_never_switched_off() -> None:
    """Volume alone is not the pattern's fault: past the shared window, lines are not checked."""
    clock = Clock(step=CHEAP_CALL / 2)
    budget = PatternBudget(clock)
    patterns = [budget.compile(p, f"p{i}") for i, p in enumerate([r"^done", r"error: \w+", r"\d+ passed"])]
    results = [budget.search(p, f"line {i} of the flood") for i in range(20_000) for p in patterns]
    assert all(p.active for p in patterns)
    assert None in results and False in results  # some checked, the rest throttled
    (notice,) = budget.take_notices()
    assert notice.kind is NoticeKind.THROTTLED and "did not check" in notice.agent_text()
    wall = clock.t - 1000.0
    assert budget.spent <= SHARE_BURST + SHARE_RATE * wall + CHEAP_CALL


def test_a_pattern_that_keeps_costing_more_than_a_simple_one_is_switched_off() -> None:
    clock = Clock(step=0.001)  # every match "costs" 1 ms: under the line limit, far above a simple pattern
    budget = PatternBudget(clock)
    pattern = budget.compile(r"slow", "redaction pattern")
    checked = [budget.search(pattern, "a line") for _ in range(100)]
    assert pattern.off is OffReason.SHARE
    assert checked.count(None) >= 85 and budget.calls <= PATTERN_BURST / (0.001 - CHEAP_CALL) + 2
    (notice,) = budget.take_notices()
    assert notice.reason is OffReason.SHARE and "more CPU than a simple pattern" in notice.customer_text()


def test_a_simple_pattern_preempted_by_a_busy_machine_stays_on() -> None:
    """Time the operating system gave other programs is not the pattern's cost: with the CPU
    clock (the runtime's ``time.thread_time``) a simple pattern whose matches each took
    20 ms of wall time but 2 µs of CPU keeps masking (with the wall clock alone it was
    switched off: the agent then saw what it had asked to be masked)."""
    wall, cpu = Clock(step=0.02), Clock(step=1e-6)
    budget = PatternBudget(wall, cpu=cpu)
    pattern = budget.compile(r"ACME-\d{4}", "redaction pattern")
    assert [budget.spans(pattern, f"id ACME-123{i}") for i in range(10)] == [[(3, 12)]] * 10
    assert pattern.active and not budget.take_notices() and budget.spent < 1e-4
    alone = PatternBudget(Clock(step=0.02))
    same = alone.compile(r"ACME-\d{4}", "redaction pattern")
    alone.spans(same, "id ACME-1234")
    assert same.off is OffReason.SHARE  # what the wall clock alone made of it


def test_a_match_preempted_past_its_limit_leaves_its_line_unchecked_not_the_pattern_off() -> None:
    """A match that ran out of its wall-time limit having used little CPU was preempted: its
    line is not checked now (the redactor masks it whole and checks it again), no notice."""
    budget = PatternBudget(time.perf_counter, cpu=Clock(step=1e-6))
    pattern, line = budget.compile(*RUNTIME_CATASTROPHIC[0][:1], "redaction pattern"), RUNTIME_CATASTROPHIC[0][1]
    assert budget.spans(pattern, line) is None
    assert pattern.active and not budget.take_notices()


def test_a_catastrophic_pattern_is_still_switched_off_with_the_cpu_clock() -> None:
    budget = PatternBudget(time.perf_counter, cpu=time.thread_time)
    for source, line in RUNTIME_CATASTROPHIC:
        pattern = budget.compile(source, "redaction pattern")
        for _ in range(200):
            if budget.spans(pattern, line) is not None or not pattern.active:
                break
        assert not pattern.active, source
    assert {n.kind for n in budget.take_notices()} <= {NoticeKind.SWITCHED_OFF, NoticeKind.THROTTLED}


def test_a_pattern_has_a_total_for_the_session() -> None:
    clock = Clock(step=CHEAP_CALL / 2)
    budget = PatternBudget(clock, pattern_total=0.001, share_rate=1.0)
    pattern = budget.compile(r"x", "pointer pattern")
    for _ in range(1000):
        budget.search(pattern, "x")
    assert pattern.off is OffReason.TOTAL and pattern.spent <= 0.001 + CHEAP_CALL
    assert [n.reason for n in budget.take_notices()] == [OffReason.TOTAL]


def test_the_window_bounds_spending_over_any_interval() -> None:
    """Token bucket: over any interval T, at most SHARE_BURST + SHARE_RATE * T is spent."""
    clock = Clock()
    budget = PatternBudget(clock, pattern_total=1e9)
    patterns = [budget.compile(f"p{i}", f"p{i}") for i in range(50)]  # many patterns share one window
    log: list[tuple[float, float]] = []
    for i in range(5000):
        clock.step = [5e-6, 15e-6, 2e-6][i % 3]  # cheap, so none is switched off
        before = budget.spent
        at = clock.t
        budget.search(patterns[i % 50], "text")
        log.append((at, budget.spent - before))
    assert all(p.active for p in patterns)
    for i in range(0, len(log), 97):
        for j in range(i + 1, len(log), 211):
            spent = sum(cost for _, cost in log[i:j + 1])
            assert spent <= SHARE_BURST + SHARE_RATE * (log[j][0] - log[i][0]) + 20e-6


def test_long_lines_are_matched_in_overlapping_pieces() -> None:
    assert list(pieces(10)) == [(0, 10)]
    cuts = list(pieces(5000))
    assert cuts[0][0] == 0 and cuts[-1][1] == 5000
    assert all(b - a <= MAX_LINE + 128 for a, b in cuts) and all(cuts[k + 1][0] < cuts[k][1] for k in range(len(cuts) - 1))
    budget = PatternBudget(Clock())
    token = budget.compile(r"TOKEN-\d{6}", "redaction pattern")
    line = "x" * (MAX_LINE - 3) + "TOKEN-123456" + "y" * 3000
    assert budget.spans(token, line) == [(MAX_LINE - 3, MAX_LINE + 9)]
    anchored = budget.compile(r"^y", "step 1 success pattern")
    assert budget.search(anchored, line) is False  # ^ still means the start of the line


def test_step_patterns_see_the_last_lines_of_a_burst() -> None:
    budget = PatternBudget(Clock())
    steps = StepMachine(Playbook("t", (Step("one", expect=r"^first$"), Step("two", expect=r"^last$"))), budget)
    burst = ["first"] + ["noise"] * (MAX_BURST_LINES + 10) + ["last"]
    assert not steps.observe(burst, now=1.0)  # "first" scrolled past in the flood
    assert steps.observe(["first"], now=2.0) and steps.current == 1
    assert budget.calls <= MAX_BURST_LINES + 1


def test_the_line_redactor_masks_only_what_step_patterns_will_see_and_keeps_key_state() -> None:
    tap = LineRedactor(Redactor(), keep=2)
    assert tap.feed(["-----BEGIN RSA PRIVATE KEY-----", "MIIEow" + "A" * 58, "B" * 64, "C" * 64]) == [MASK_CHAR * 64] * 2
    assert tap.feed(["D" * 64, "-----END RSA PRIVATE KEY-----", "ok"]) == ["-----END RSA PRIVATE KEY-----", "ok"]
    assert tap.feed(["BBBB"]) == ["BBBB"]  # the block ended


def test_notices_show_the_agents_pattern_escaped_and_cut() -> None:
    budget = PatternBudget(Clock())
    budget.compile("\x1b]52;c;Zm9v\x07(a+)+" + "z" * 200, "pointer pattern")
    (notice,) = budget.take_notices()
    for text in (notice.customer_text(), notice.agent_text()):
        assert "\x1b" not in text and "\x07" not in text and "\\x1b" in text
        assert len(text) < 500 and "z" * 100 not in text


def test_a_real_clock_bounds_the_real_time_too() -> None:
    """The same attack with the runtime's clocks (the window in wall time, each match's cost
    in this thread's CPU time: with wall time alone, a match preempted by a busy machine was
    charged the time other programs had, and this bound failed under load)."""
    budget = PatternBudget(time.perf_counter, cpu=time.thread_time)
    redactor = Redactor(budget=budget)
    redactor.add_remote([p for p, _ in RUNTIME_CATASTROPHIC])
    start = time.perf_counter()
    for pattern, line in RUNTIME_CATASTROPHIC * 3:
        steps = StepMachine(Playbook("t", (Step("one", expect=pattern),)), budget)
        steps.observe([line] * 300, now=1.0)
        LineRedactor(redactor).feed([line + " " + str(i) for i in range(300)])
    elapsed = time.perf_counter() - start
    # Nine 300-line bursts, twelve catastrophic patterns: what ran is bounded by the window
    # (plus one call's overshoot past its timeout), not by lines x patterns x timeout.
    assert budget.spent <= SHARE_BURST + SHARE_RATE * elapsed + 2 * LINE_TIMEOUT
    notices = budget.take_notices()
    # Each compiled pattern told once at most (the redactor's three, and the nine step
    # machines' own), plus the one throttle notice; how many of the step machines' ran
    # before the share was used up depends on the machine's load.
    assert notices and len(notices) <= len(RUNTIME_CATASTROPHIC) * 4 + 1
    assert sum(n.kind is NoticeKind.THROTTLED for n in notices) <= 1


def test_a_line_the_share_left_unchecked_is_masked_whole_then_checked_again() -> None:
    clock = Clock()
    budget = PatternBudget(clock, share_burst=0.001, share_rate=0.01)
    redactor = Redactor(budget=budget)
    redactor.add_remote([r"ACME-\d{4}"])
    clock.step = 0.001  # one match "costs" the whole share
    assert redactor.mask("id ACME-1234 ok") == "id " + MASK_CHAR * 9 + " ok"
    assert not redactor.take_unchecked()
    clock.step = 0.0
    assert redactor.mask("id ACME-5678 ok") == MASK_CHAR * 15  # fail closed, not cached
    assert redactor.take_unchecked() and not redactor.take_unchecked()
    clock.t += 1.0  # the share refills
    assert redactor.mask("id ACME-5678 ok") == "id " + MASK_CHAR * 9 + " ok"
    assert [n.kind for n in budget.take_notices()] == [NoticeKind.THROTTLED]


def test_the_customers_own_patterns_have_a_share_too_and_fail_closed_past_it() -> None:
    """A slow --redact is never switched off, but cannot hold the loop for as long as output
    flows: past the trusted share lines are masked whole and checked again later."""
    clock = Clock(0.06)  # every match "costs" 60 ms, and as much time passes between two
    budget = PatternBudget(clock, trusted_rate=0.25)  # so the customer's patterns want 50%: over a 25% share
    redactor = Redactor([r"a+!"], builtin=False, budget=budget)
    lines = [f"{'a' * 40}! {i}" for i in range(300)]
    masked = [redactor.mask(line) for line in lines]
    assert all(m.startswith(MASK_CHAR * 41) for m in masked)  # masked, or masked whole: never shown
    assert sum(m == MASK_CHAR * len(line) for m, line in zip(masked, lines)) > 100
    assert budget.trusted_skipped > 100
    assert budget.trusted_spent <= TRUSTED_BURST + 0.06 + 0.25 * (clock.t - 1000.0)
    (notice,) = budget.take_notices()
    assert notice.kind is NoticeKind.TRUSTED_THROTTLED and notice.agent_text() == ""
    assert "your own patterns" in notice.customer_text()
    assert redactor.take_unchecked()
    clock.step = 0.0
    clock.t += 10.0
    assert redactor.mask("aaa! 0") == MASK_CHAR * 4 + " 0"  # checked again once refilled


def test_a_guide_the_customer_runs_is_trusted_but_bounded() -> None:
    clock = Clock(0.06)
    budget = PatternBudget(clock, trusted_rate=0.25)
    steps = StepMachine(Playbook("t", (Step("one", expect=r"^done$"), Step("two"))), budget, trusted=True)
    assert not steps.observe(["not yet"] * 300, now=1.0)
    assert budget.trusted_skipped > 100
    assert budget.take_notices()[0].kind is NoticeKind.TRUSTED_THROTTLED  # never switched off
    clock.step = 0.0
    clock.t += 10.0
    assert steps.observe(["done"], now=2.0) and steps.current == 1  # still on, still matching
