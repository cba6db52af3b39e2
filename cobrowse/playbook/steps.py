"""The step machine: where a playbook run stands, changed by either side or by the output.

The customer's machine holds the authoritative ``StepMachine``: the agent's requests and
the customer's keys call ``mark``/``back``/``goto``, the shared program's output goes to
``observe`` (auto-advance), and after every change the whole state (``to_dict()``) goes to
the agent, who shows it. Self-service (``cobrowse guide``) runs the same machine alone.

Statuses: ``pending`` → ``active`` → ``done`` | ``skipped`` | ``failed``. ``current`` is the
index of the step being worked on: it is ``active``, or ``failed`` when its failure pattern
matched or someone marked it failed — a failed current step stays current and watched, so
a retry that prints the success pattern still completes it. ``current`` is None once no
step is left to do (``finished``), or after someone set the current step back to pending.

Patterns from the agent (a pushed playbook) run under the session's
:class:`~cobrowse.screen.budget.PatternBudget` (pass ``budget``): per-line timeout, a share
of the CPU, and a pattern that goes over is switched off (the step can still be marked by
hand) with a notice the runtime shows both sides. The customer's own playbook
(self-service, ``trusted``) keeps a per-line time limit per match and, with a budget,
only the budget's trusted share bounds the total (past it lines are not matched until it
refills). Either way at most
:data:`~cobrowse.screen.budget.MAX_BURST_LINES` lines of one burst are matched (the last).

Every step remembers who changed it last (``by``: agent, customer or auto) and when
(``at``: the ``now`` passed in; the machine reads no clock). Each method returns whether
anything changed; a bad index, status or actor raises ``ValueError``.
"""

from __future__ import annotations

import math
from typing import Any

from cobrowse.playbook.lines import MAX_LINE
from cobrowse.playbook.model import Playbook, Step
from cobrowse.screen.budget import MAX_BURST_LINES, AgentPattern, PatternBudget
from cobrowse.wire.frozen import frozen

#: Seconds one pattern may spend on one line.
MATCH_TIMEOUT = 0.05

STATUSES = ("pending", "active", "done", "skipped", "failed")
ACTORS = ("agent", "customer", "auto")


@frozen
class StepState:
    status: str = "pending"
    by: str | None = None
    at: float | None = None


class StepMachine:
    def __init__(self, playbook: Playbook, budget: PatternBudget | None = None, *, trusted: bool = False) -> None:
        self.playbook = playbook
        self.budget = budget
        self.trusted = trusted
        self._states = [StepState() for _ in playbook.steps]
        self.current: int | None = None
        if self._states:
            self._states[0] = StepState("active")
            self.current = 0
        agent = None if trusted else budget
        self._expect = [_compile(s.expect, i, "expect", agent) for i, s in enumerate(playbook.steps)]
        self._fail = [_compile(s.fail, i, "fail", agent) for i, s in enumerate(playbook.steps)]

    # --- reading ----------------------------------------------------------------------------

    @property
    def states(self) -> tuple[StepState, ...]:
        return tuple(self._states)

    @property
    def active_step(self) -> Step | None:
        """The step being worked on (active or failed), or None."""
        return None if self.current is None else self.playbook.steps[self.current]

    @property
    def finished(self) -> bool:
        """No step is left to do: every step is done, skipped or failed, and none is current."""
        return self.current is None and all(s.status not in ("pending", "active") for s in self._states)

    def summary(self) -> dict[str, Any]:
        """For the end-of-session summary: the title, counts by status, and whether it finished."""
        counts = {status: 0 for status in STATUSES}
        for state in self._states:
            counts[state.status] += 1
        return {"title": self.playbook.title, "total": len(self._states), **counts, "finished": self.finished}

    # --- changes ----------------------------------------------------------------------------

    def mark(self, index: int, status: str, by: str, now: float) -> bool:
        """Set a step's status. Done or skipped on the current step activates the next pending
        one; active makes the step current (as ``goto``); pending on the current step leaves
        no step current; failed keeps the current step current (still watched)."""
        self._check_index(index)
        if status not in STATUSES:
            raise ValueError(f"unknown step status {status!r}: use one of {', '.join(STATUSES)}")
        _check_actor(by)
        if status == "active":
            return self.goto(index, by, now)
        changed = False
        if self._states[index].status != status:
            self._set(index, status, by, now)
            changed = True
        if index == self.current and status != "failed":
            if status == "pending":
                self.current = None
            else:
                self._advance(index, by, now)
            changed = True
        return changed

    def goto(self, index: int, by: str, now: float) -> bool:
        """Make a step the active, current one; the previous current step, if active, goes
        back to pending (a failed one stays failed)."""
        self._check_index(index)
        _check_actor(by)
        if index == self.current and self._states[index].status == "active":
            return False
        previous = self.current
        if previous is not None and previous != index and self._states[previous].status == "active":
            self._set(previous, "pending", by, now)
        self._set(index, "active", by, now)
        self.current = index
        return True

    def back(self, by: str, now: float) -> bool:
        """The step before the current one becomes active again; the current one goes back to
        pending. When no step is current, the last step is reopened. At the first step: no-op."""
        _check_actor(by)
        if not self._states:
            return False
        if self.current is None:
            return self.goto(len(self._states) - 1, by, now)
        if self.current == 0:
            return False
        self._set(self.current, "pending", by, now)
        self.current -= 1
        self._set(self.current, "active", by, now)
        return True

    def observe(self, lines: list[str], now: float) -> bool:
        """Auto-advance on lines the program printed, in order. Each line is matched against the
        step current when it was printed: its ``fail`` pattern marks it failed (it stays current),
        its ``expect`` pattern marks it done and activates the next pending step, which the
        following lines are matched against. Fail wins when a line matches both. Only the last
        MAX_BURST_LINES lines are matched (a flood's earlier lines scroll past unmatched)."""
        changed = False
        for line in lines[-MAX_BURST_LINES:]:
            index = self.current
            if index is None:
                break
            line = line[:MAX_LINE]
            fail, expect = self._fail[index], self._expect[index]
            if fail is not None and self._matches(fail, line):
                if self._states[index].status != "failed":
                    self._set(index, "failed", "auto", now)
                    changed = True
                continue
            if expect is not None and self._matches(expect, line):
                self._set(index, "done", "auto", now)
                self._advance(index, "auto", now)
                changed = True
        return changed

    # --- the wire form ----------------------------------------------------------------------

    def to_dict(self, *, text: bool = True) -> dict[str, Any]:
        """The headless ``steps`` event shape plus extras::

            {"title", "current", "finished",
             "steps": [{"title", "status", "by", "at", "command"?, "body"?}]}

        ``command`` is there when the step has one; ``body`` when ``text`` and not empty.
        """
        steps = []
        for step, state in zip(self.playbook.steps, self._states):
            item: dict[str, Any] = {"title": step.title, "status": state.status, "by": state.by, "at": state.at}
            if step.command is not None:
                item["command"] = step.command
            if text and step.body:
                item["body"] = step.body
            steps.append(item)
        return {"title": self.playbook.title, "current": self.current, "finished": self.finished, "steps": steps}

    @classmethod
    def from_dict(cls, playbook: Playbook, data: Any, budget: PatternBudget | None = None, *,
                  trusted: bool = False) -> StepMachine:
        """Restore a state sent by ``to_dict`` for this playbook (after a reconnect); the state
        is checked against the playbook and for consistency, else ``ValueError``."""
        if not isinstance(data, dict):
            raise ValueError("step state: must be an object")
        if "title" in data and data["title"] != playbook.title:
            raise ValueError("step state: the title does not match the playbook")
        items = data.get("steps")
        if not isinstance(items, list) or len(items) != len(playbook.steps):
            raise ValueError(f"step state: 'steps' must be a list of {len(playbook.steps)} steps")
        machine = cls(playbook, budget, trusted=trusted)
        states = []
        for i, (step, item) in enumerate(zip(playbook.steps, items)):
            if not isinstance(item, dict):
                raise ValueError(f"step state: step {i} must be an object")
            if "title" in item and item["title"] != step.title:
                raise ValueError(f"step state: step {i} title does not match the playbook's {step.title!r}")
            status, by, at = item.get("status"), item.get("by"), item.get("at")
            if status not in STATUSES:
                raise ValueError(f"step state: step {i} has an unknown status")
            if by is not None and by not in ACTORS:
                raise ValueError(f"step state: step {i} has an unknown actor")
            if at is not None and not _finite_number(at):
                raise ValueError(f"step state: step {i} has an invalid time")
            states.append(StepState(status, by, None if at is None else float(at)))
        current = data.get("current")
        if current is not None:
            if type(current) is not int or not 0 <= current < len(states):
                raise ValueError("step state: 'current' is not a step index")
            if states[current].status not in ("active", "failed"):
                raise ValueError("step state: the current step is neither active nor failed")
        active = [i for i, s in enumerate(states) if s.status == "active"]
        if active and active != [current]:
            raise ValueError("step state: only the current step may be active")
        machine._states, machine.current = states, current
        return machine

    # --- internals --------------------------------------------------------------------------

    def _matches(self, pattern: Any, line: str) -> bool:
        if isinstance(pattern, AgentPattern):
            assert self.budget is not None
            return bool(self.budget.search(pattern, line))  # None: not checked (off, or no CPU share left)
        if self.budget is not None:
            return bool(self.budget.trusted(lambda: _search(pattern, line))[1])
        return _search(pattern, line)

    def _set(self, index: int, status: str, by: str, now: float) -> None:
        self._states[index] = StepState(status, by, now)

    def _advance(self, after: int, by: str, now: float) -> None:
        """Activate the next pending step after ``after`` (wrapping around), or none."""
        count = len(self._states)
        for offset in range(1, count + 1):
            index = (after + offset) % count
            if self._states[index].status == "pending":
                self._set(index, "active", by, now)
                self.current = index
                return
        self.current = None

    def _check_index(self, index: int) -> None:
        if type(index) is not int:
            raise ValueError(f"a step index must be an integer, not {index!r}")
        if not 0 <= index < len(self._states):
            raise ValueError(f"no step {index}: the playbook has steps 0 to {len(self._states) - 1}")


def _check_actor(by: str) -> None:
    if by not in ACTORS:
        raise ValueError(f"unknown actor {by!r}: use one of {', '.join(ACTORS)}")


def _finite_number(value: Any) -> bool:
    if type(value) not in (int, float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _compile(pattern: str | None, index: int, key: str, budget: PatternBudget | None) -> Any:
    if pattern is None:
        return None
    if budget is not None:  # the agent's: refused or switched off with a notice, never raised
        what = "success" if key == "expect" else "failure"
        return budget.compile(pattern, f"step {index + 1} {what} pattern ({key}:)")
    import regex  # on first use: the join's first screen compiles none (~7 ms of imports)

    try:
        return regex.compile(pattern)
    except regex.error as exc:
        raise ValueError(f"step {index}: {key}: invalid regex ({exc})") from None


def _search(pattern: Any, line: str) -> bool:
    """Patterns come from the agent and run on the customer's machine: a pathological one
    (catastrophic backtracking) must not freeze cobrowse, so each match has a time limit;
    a pattern that runs out of time does not match."""
    try:
        return pattern.search(line, timeout=MATCH_TIMEOUT) is not None
    except TimeoutError:
        return False


#: What the agent remembers of one step to tell a new change from one it already stamped:
#: (index, title, status, by, the customer's ``at``).
StepKey = tuple[int, Any, Any, Any, Any]


def _hashable(value: Any) -> Any:
    """A value from the other side as a part of a key: JSON's lists and objects as their text."""
    return value if value is None or isinstance(value, (str, int, float)) else repr(value)


def on_agent_clock(state: dict[str, Any], seen: dict[StepKey, float],
                   elapsed: float) -> tuple[dict[str, Any], dict[StepKey, float]]:
    """A step state from the customer with each ``at`` on the agent's clock instead.

    The customer stamps steps with its own monotonic clock, which means nothing to an
    integration; the agent's client stamps each change when it first hears of it: ``elapsed``
    is the agent's seconds since its session started. A step the state shows unchanged (same
    status, actor and customer time) keeps the time it got; a step with no time stays None.
    Returns the new state and what to pass as ``seen`` next time (only the current steps, so
    it stays as small as the playbook)."""
    steps = state.get("steps")
    if not isinstance(steps, list):
        return state, seen
    out, kept = [], {}
    for index, step in enumerate(steps):
        if not isinstance(step, dict) or step.get("at") is None:
            out.append(step)
            continue
        key: StepKey = (index, *(_hashable(step.get(name)) for name in ("title", "status", "by", "at")))
        at = kept[key] = seen.get(key, round(max(0.0, elapsed), 3))
        out.append({**step, "at": at})
    return {**state, "steps": out}, kept
