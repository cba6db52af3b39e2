"""CPU the customer spends on a hostile agent's patterns, budgeted, against a baseline.

Diagnostic (no target): the same bursts of output (300 adversarial lines each, a 30-line
screen) go through the customer's real pattern paths (the step machine, the step tap's
line redactor, screen redaction, the pointer search), once with an agent's ordinary
patterns (baseline) and once with catastrophic ones (attacked), each with a fresh
PatternBudget on time.perf_counter. Bursts come every 50 ms of wall time, as a program's
output would. Also estimated: what the attack would cost without the budget (each match
only limited to 50 ms, as before), from a small sample.

Prints progress on stderr and, last on stdout, one JSON object:
``baseline_cpu_ms``, ``attacked_cpu_ms``, ``ratio``, ``attacked_budget_ms``,
``switched_off``, ``refused``, ``unbudgeted_cpu_ms_estimate``, ``bursts``, ``lines_per_burst``.
"""

from __future__ import annotations

import json
import sys
import time

import regex

from cobrowse.playbook import Playbook, Step, StepMachine
from cobrowse.screen.budget import NoticeKind, PatternBudget
from cobrowse.screen.redact import LineRedactor, Redactor

BURSTS = 20
LINES = 300
GAP = 0.05
A_LINE = "a" * 40 + "!"
X_LINE = "x" * 50

ATTACK = {
    "steps": [(r"(a|aa)+$", r"(?:x|xx|xxx)+y"), (r"(a+)+$", r"(?:aa|a)+$")],
    "redact": [r"(a|aa)+$", r"(?:aa|a)+$", r"(?:x|xx|xxx)+y", r"(x+x+)+y"] + [rf"(a|aa)+(?:$|z{{{i}}})" for i in range(1, 17)],
    "point": [rf"(?:aa|a)+(?:$|q{{{i}}})" for i in range(1, 11)],
}
BASELINE = {
    "steps": [(r"^Build \d+ done$", r"(?i)^error:"), (r"^All \d+ checks passed", r"^\d+ checks? failed")],
    "redact": [r"ACME-[0-9]{8}", r"(?i)internal-id: \S+"] + [rf"CUST-{i}-\d{{6}}" for i in range(18)],
    "point": [rf"error {i}" for i in range(10)],
}


def burst(n: int) -> list[str]:
    return [f"{A_LINE if i % 2 else X_LINE} {n}.{i}" for i in range(LINES)]


def run(patterns: dict[str, list], label: str) -> dict[str, float | int]:
    budget = PatternBudget(time.perf_counter, cpu=time.thread_time)
    redactor = Redactor(budget=budget)
    redactor.add_remote(patterns["redact"])
    steps = StepMachine(Playbook("bench", tuple(Step(f"s{i}", expect=e, fail=f) for i, (e, f) in enumerate(patterns["steps"]))),
                        budget)
    tap = LineRedactor(redactor)
    pointers = [budget.compile(p, "pointer pattern", literal_if_invalid=True) for p in patterns["point"]]
    cpu = 0.0
    for n in range(BURSTS):
        lines = burst(n)
        start = time.process_time()
        steps.observe(tap.feed(lines), float(n))
        screen = lines[-30:]
        for line in screen:
            redactor.mask(line)
        if n < len(pointers):
            for line in screen:
                budget.search(pointers[n], line)
        cpu += time.process_time() - start
        time.sleep(GAP)
    notices = budget.take_notices()
    result = {"cpu_ms": round(cpu * 1000, 1), "budget_ms": round(budget.spent * 1000, 1),
              "switched_off": sum(n.kind is NoticeKind.SWITCHED_OFF for n in notices),
              "refused": sum(n.kind is NoticeKind.REFUSED for n in notices)}
    print(f"{label}: {result}", file=sys.stderr)
    return result


def unbudgeted_estimate() -> float:
    """ms of CPU one attacked burst set would cost with only a 50 ms limit per match."""
    sample = 0.0
    lines = burst(0)[:4]
    for p in ATTACK["redact"][:2]:
        compiled = regex.compile(p)
        start = time.process_time()
        for line in lines:
            try:
                compiled.search(line, timeout=0.05)
            except TimeoutError:
                pass
        sample += (time.process_time() - start) / len(lines) / 2
    per_line = sample
    matches = BURSTS * (LINES * (2 + len(ATTACK["redact"])) + 30 * len(ATTACK["redact"]) + 30) / 2  # half the lines are a-lines
    return per_line * matches * 1000


def main() -> None:
    baseline = run(BASELINE, "baseline")
    attacked = run(ATTACK, "attacked")
    estimate = unbudgeted_estimate()
    print(json.dumps({
        "baseline_cpu_ms": baseline["cpu_ms"], "attacked_cpu_ms": attacked["cpu_ms"],
        "ratio": round(attacked["cpu_ms"] / max(baseline["cpu_ms"], 0.1), 2),
        "attacked_budget_ms": attacked["budget_ms"], "switched_off": attacked["switched_off"],
        "refused": attacked["refused"], "unbudgeted_cpu_ms_estimate": round(estimate),
        "bursts": BURSTS, "lines_per_burst": LINES,
    }))


if __name__ == "__main__":
    main()
