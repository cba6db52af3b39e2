"""Bounded work for the patterns an agent sends: the customer's terminal must never freeze.

Playbook ``expect``/``fail`` patterns, pushed redaction patterns and the pointer's pattern
come from the agent and run on the customer's machine, on the same event loop that echoes
the customer's keys. A pattern with catastrophic backtracking (``(a|aa)+$``,
``(.*?,){30}x``) costs seconds per line; a per-call timeout alone still lets a few hundred
lines cost many seconds. So every agent pattern runs under one :class:`PatternBudget`:

* **per line**: one pattern on one line may run :data:`LINE_TIMEOUT` (the ``regex``
  package's ``timeout=``); a pattern that runs out of it is switched off;
* **per window** (a token bucket, i.e. a sliding-window bound): all agent patterns together
  may spend :data:`SHARE_BURST` plus :data:`SHARE_RATE` of the wall time, i.e. at most
  20 ms in any 100 ms. Beyond that, lines are *not checked* until the share refills (a
  flood of cheap matches is throttled, never blamed on one pattern);
* **per pattern**: what a call costs above :data:`CHEAP_CALL` is charged to the pattern's
  own bucket (:data:`PATTERN_BURST`, :data:`PATTERN_RATE`); a pattern that keeps costing
  more than a simple pattern does, or that spends :data:`PATTERN_TOTAL` in all, is
  switched off;
* **per line and burst**: patterns see at most :data:`MAX_LINE` characters at a time
  (longer lines in overlapping pieces) and consumers match at most :data:`MAX_BURST_LINES`
  lines of one burst of output (the last ones);
* **at compile time**: nested repetition of something that can itself repeat (``(a+)+``,
  ``(\\w*\\s?){20}``), the classic exponential shape, is refused before it ever runs.

A pattern switched off (or refused) produces one :class:`PatternNotice`, taken with
:meth:`PatternBudget.take_notices`, which the runtime shows the customer and sends the
agent. The first throttled line produces one notice too.

The customer's own patterns (``--redact``, the built-in ones, a guide they run themselves)
are trusted: never switched off, each match keeps its own time limit, but together they
get a share too (:meth:`PatternBudget.trusted`, :data:`TRUSTED_RATE` of the wall time
after a :data:`TRUSTED_BURST`), so even a pathological ``--redact`` cannot stall the
terminal for as long as output flows: past it, a line is masked whole (redaction fails
closed) or not matched (steps) until the share refills, and the customer is told once.

Sans-I/O: the clock is a callable passed in (``time.perf_counter`` in the runtime, a fake
in tests); no other state than the accounting here. Only agent patterns use this: the
customer's own patterns and the built-in ones are trusted (per-line timeouts, fail closed).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any, TypeVar

__all__ = [
    "CHEAP_CALL",
    "LINE_TIMEOUT",
    "MAX_BURST_LINES",
    "MAX_LINE",
    "PATTERN_BURST",
    "PATTERN_RATE",
    "PATTERN_TOTAL",
    "SHARE_BURST",
    "SHARE_RATE",
    "TRUSTED_BURST",
    "TRUSTED_RATE",
    "AgentPattern",
    "NoticeKind",
    "OffReason",
    "PatternBudget",
    "PatternNotice",
    "costly_shape",
    "pieces",
]

#: Seconds one agent pattern may spend on one line (piece) before it is switched off.
LINE_TIMEOUT = 0.002  # a simple pattern on a full line costs ~2 µs: a thousand times that is a stall
#: The share of wall time all agent patterns together may spend, and the burst allowed.
SHARE_RATE = 0.1
SHARE_BURST = 0.010
#: A call costing up to this is "cheap" (a simple pattern on a full line costs ~2 µs).
CHEAP_CALL = 20e-6
#: Per pattern: cost above CHEAP_CALL refills at this rate, up to this burst.
PATTERN_RATE = 0.05
PATTERN_BURST = 0.010
#: The customer's own and the built-in patterns: their share of the wall time, and burst.
TRUSTED_RATE = 0.5
TRUSTED_BURST = 0.25
#: Seconds one pattern may spend in all, over a session.
PATTERN_TOTAL = 2.0
#: Characters a pattern sees at once; longer lines are matched in pieces overlapping by OVERLAP.
MAX_LINE = 1024
OVERLAP = 128
#: Lines of one burst of output given to agent patterns (the last ones).
MAX_BURST_LINES = 256
#: Below this much credit a call is not started (the regex timeout cannot be that short).
_MIN_CALL = 50e-6
#: Repeat counts above this make a nested repetition exponential in practice.
_NESTED_LIMIT = 10
_SHOWN = 60

T = TypeVar("T")
Span = tuple[int, int]


class NoticeKind(StrEnum):
    SWITCHED_OFF = "switched_off"
    REFUSED = "refused"
    THROTTLED = "throttled"
    TRUSTED_THROTTLED = "trusted_throttled"


class OffReason(StrEnum):
    LINE_TIMEOUT = "line_timeout"
    SHARE = "share"
    TOTAL = "total"
    NESTED = "nested_repetition"
    INVALID = "invalid"


_WHY = {
    OffReason.LINE_TIMEOUT: f"it took more than {LINE_TIMEOUT * 1000:.0f} ms on one line",
    OffReason.SHARE: (f"it kept taking more CPU than a simple pattern (more than {PATTERN_RATE * 100:.0f}% "
                      "of the time)"),
    OffReason.TOTAL: f"it used its {PATTERN_TOTAL:.0f} s of matching for this session",
    OffReason.NESTED: "it nests repetitions, such as (a+)+, which can take exponential time",
    OffReason.INVALID: "it is not a valid regular expression",
}


@dataclass(frozen=True)
class PatternNotice:
    """One pattern switched off or refused, or the first throttled line. ``label`` says
    what the pattern is for (``"step 3 success pattern"``); ``pattern`` is the agent's text
    (show it escaped: :meth:`shown`)."""

    kind: NoticeKind
    label: str
    pattern: str = ""
    reason: OffReason | None = None

    def shown(self) -> str:
        """The pattern, escaped and cut, for display: never markup, never a control byte."""
        text = self.pattern if len(self.pattern) <= _SHOWN else self.pattern[:_SHOWN] + "…"
        return repr(text)

    def why(self) -> str:
        return _WHY[self.reason] if self.reason is not None else ""

    def customer_text(self) -> str:
        if self.kind is NoticeKind.TRUSTED_THROTTLED:
            return (f"your own patterns (redaction, or the guide's steps) used {TRUSTED_RATE * 100:.0f}% of the CPU: "
                    "some lines were masked whole for the agent or not checked. A --redact pattern may be too slow")
        if self.kind is NoticeKind.THROTTLED:
            return ("the agent's patterns used their share of your CPU: some lines of output were not checked "
                    "(your terminal is not slowed down)")
        verb = "refused" if self.kind is NoticeKind.REFUSED else "switched off"
        return (f"the agent's {self.label} {self.shown()} was {verb}: {self.why()}. Your terminal is not "
                "affected; nothing else changes")

    def agent_text(self) -> str:
        """What the agent is told; empty when it is none of the agent's business."""
        if self.kind is NoticeKind.TRUSTED_THROTTLED:
            return ""
        if self.kind is NoticeKind.THROTTLED:
            return (f"the customer's cobrowse did not check some lines against your patterns: agent patterns "
                    f"may use {SHARE_RATE * 100:.0f}% of the customer's CPU (output came too fast)")
        verb = "refused" if self.kind is NoticeKind.REFUSED else "switched off"
        return (f"the customer's cobrowse {verb} your {self.label} {self.shown()}: {self.why()} (limits: "
                f"{LINE_TIMEOUT * 1000:.0f} ms a line, {SHARE_RATE * 100:.0f}% of the CPU for all your patterns, "
                f"{PATTERN_TOTAL:.0f} s per pattern). Use a simpler pattern")


@dataclass
class _Bucket:
    """Credit (seconds of matching) refilling at ``rate`` per second of wall time, up to
    ``capacity``: over any interval T at most ``capacity + rate * T`` is spent."""

    capacity: float
    rate: float
    credit: float = -1.0
    at: float | None = None

    def __post_init__(self) -> None:
        if self.credit < 0:
            self.credit = self.capacity

    def refill(self, now: float) -> None:
        if self.at is not None and now > self.at:
            self.credit = min(self.capacity, self.credit + (now - self.at) * self.rate)
        self.at = now if self.at is None else max(self.at, now)


@dataclass(eq=False)
class AgentPattern:
    """An agent's compiled pattern and its accounting. ``compiled`` is None when refused."""

    source: str
    label: str
    compiled: Any
    off: OffReason | None = None
    spent: float = 0.0
    calls: int = 0
    bucket: _Bucket = field(default_factory=lambda: _Bucket(PATTERN_BURST, PATTERN_RATE))

    @property
    def active(self) -> bool:
        return self.off is None


class PatternBudget:
    """The budget all of one session's agent patterns share (see the module docstring).

    ``clock``: monotonic seconds; read before and after every match (the cost) and for
    the refill of the window. ``cpu`` (the runtime gives ``time.thread_time``): the seconds
    of CPU this thread used, read around an agent pattern's match instead, so that the
    cost charged is the work done, not the time the operating system gave other programs
    meanwhile: on a busy machine a simple pattern preempted mid-match looked costly and was
    switched off, and the agent then saw what it had asked to be masked. A match that ran
    out of its (wall-time) limit having used less than half of it in CPU was preempted: its
    line is not checked now (masked whole, checked again), and the pattern stays on.
    Accounting, for tests and benchmarks: :attr:`spent` (seconds charged), :attr:`calls`
    (matches run), :attr:`skipped` (matches not run: pattern off or share used up)."""

    def __init__(self, clock: Callable[[], float], *, cpu: Callable[[], float] | None = None,
                 line_timeout: float = LINE_TIMEOUT,
                 share_rate: float = SHARE_RATE, share_burst: float = SHARE_BURST,
                 pattern_total: float = PATTERN_TOTAL, trusted_rate: float = TRUSTED_RATE,
                 trusted_burst: float = TRUSTED_BURST) -> None:
        self._clock = clock
        self._cpu = cpu
        self.line_timeout = line_timeout
        self.pattern_total = pattern_total
        self._share = _Bucket(share_burst, share_rate)
        self._trusted = _Bucket(trusted_burst, trusted_rate)
        self._told_trusted = False
        #: Seconds the customer's own (trusted) patterns spent, and the times they were held back.
        self.trusted_spent = 0.0
        self.trusted_skipped = 0
        self._notices: list[PatternNotice] = []
        self._told_throttled = False
        self.spent = 0.0
        self.calls = 0
        self.skipped = 0

    # --- patterns ---------------------------------------------------------------------------

    def compile(self, source: str, label: str, *, literal_if_invalid: bool = False) -> AgentPattern:
        """Compile an agent's pattern. One that is invalid (unless ``literal_if_invalid``:
        then it is searched as plain text) or too costly by its shape comes back switched
        off, with a notice; it never raises."""
        import regex  # type: ignore[import-untyped, unused-ignore]  # on first use: the join's first screen compiles none (~7 ms of imports)

        reason = OffReason.NESTED if costly_shape(source) else None
        compiled: Any = None
        if reason is None:
            try:
                compiled = regex.compile(source)
            except (regex.error, RecursionError, OverflowError, ValueError):
                if literal_if_invalid:
                    compiled = regex.compile(regex.escape(source))
                else:
                    reason = OffReason.INVALID
        pattern = AgentPattern(source, label, compiled, reason)
        if reason is not None:
            self._notices.append(PatternNotice(NoticeKind.REFUSED, label, source, reason))
        return pattern

    def search(self, pattern: AgentPattern, line: str) -> bool | None:
        """Whether ``pattern`` matches in ``line`` (in pieces of :data:`MAX_LINE`); None
        when it could not be checked (switched off now or before, or the share is used up)."""
        for start, end in pieces(len(line)):
            found = self._run(pattern, partial(_search, pattern.compiled, line, start, end))
            if found is None:
                return None
            if found:
                return True
        return False

    def spans(self, pattern: AgentPattern, text: str) -> list[Span] | None:
        """The ``(start, end)`` of every match in ``text`` (in pieces); None when it could
        not be checked."""
        out: list[Span] = []
        for start, end in pieces(len(text)):
            found = self._run(pattern, partial(_spans, pattern.compiled, text, start, end))
            if found is None:
                return None
            out.extend(found)
        return out

    def trusted(self, work: Callable[[], T]) -> tuple[bool, T | None]:
        """Run trusted work (the customer's own or built-in patterns; they keep their own
        per-match limits) if the trusted share allows: ``(True, result)``; else
        ``(False, None)`` without running it (the caller fails closed). Its time is charged
        even when it raises."""
        now = self._clock()
        self._trusted.refill(now)
        if self._trusted.credit <= 0:
            self.trusted_skipped += 1
            if not self._told_trusted:
                self._told_trusted = True
                self._notices.append(PatternNotice(NoticeKind.TRUSTED_THROTTLED, "own patterns"))
            return False, None
        try:
            return True, work()
        finally:
            cost = max(self._clock() - now, 0.0)
            self.trusted_spent += cost
            self._trusted.credit -= cost

    def take_notices(self) -> list[PatternNotice]:
        """Notices since the last call, oldest first (each pattern is switched off once)."""
        notices, self._notices = self._notices, []
        return notices

    @property
    def pending(self) -> bool:
        return bool(self._notices)

    # --- accounting -------------------------------------------------------------------------

    def _run(self, pattern: AgentPattern, match: Callable[[float], T]) -> T | None:
        if pattern.off is not None:
            self.skipped += 1
            return None
        now = self._clock()
        self._share.refill(now)
        pattern.bucket.refill(now)
        left = self.pattern_total - pattern.spent
        allowance = min(self.line_timeout, self._share.credit, left)
        if allowance < _MIN_CALL:
            self._throttled() if left >= _MIN_CALL else self._switch_off(pattern, OffReason.TOTAL)
            self.skipped += 1
            return None
        cpu = self._cpu
        started = now if cpu is None else cpu()
        result: T | None
        try:
            result = match(allowance)
            timed_out = False
        except TimeoutError:
            result, timed_out = None, True
        cost = max((self._clock() if cpu is None else cpu()) - started, 0.0)
        preempted = False
        if timed_out:
            if cpu is None or cost >= allowance / 2:
                cost = max(cost, allowance)  # it ran that long, whatever a test's clock says
            else:
                preempted = True
        self.spent += cost
        self.calls += 1
        pattern.spent += cost
        pattern.calls += 1
        self._share.credit -= cost
        pattern.bucket.credit -= max(cost - CHEAP_CALL, 0.0)
        if pattern.spent >= self.pattern_total:
            self._switch_off(pattern, OffReason.TOTAL)
        elif timed_out and allowance >= self.line_timeout and not preempted:
            self._switch_off(pattern, OffReason.LINE_TIMEOUT)
        elif pattern.bucket.credit < 0:
            self._switch_off(pattern, OffReason.SHARE)
        elif timed_out and not preempted:
            self._throttled()
        return None if timed_out else result

    def _switch_off(self, pattern: AgentPattern, reason: OffReason) -> None:
        if pattern.off is None:
            pattern.off = reason
            self._notices.append(PatternNotice(NoticeKind.SWITCHED_OFF, pattern.label, pattern.source, reason))

    def _throttled(self) -> None:
        if not self._told_throttled:
            self._told_throttled = True
            self._notices.append(PatternNotice(NoticeKind.THROTTLED, "patterns"))


def _search(compiled: Any, text: str, start: int, end: int, timeout: float) -> bool:
    return compiled.search(text, start, end, timeout=timeout) is not None


def _spans(compiled: Any, text: str, start: int, end: int, timeout: float) -> list[Span]:
    return [m.span() for m in compiled.finditer(text, start, end, timeout=timeout)]


def pieces(length: int) -> Iterator[Span]:
    """``(start, end)`` positions that cover a line of ``length`` characters in pieces of
    at most :data:`MAX_LINE` + :data:`OVERLAP`, each overlapping the next by :data:`OVERLAP`
    (a match of up to OVERLAP characters across a cut is still found). A line fitting in
    one piece is one piece."""
    if length <= MAX_LINE + OVERLAP:
        yield 0, length
        return
    start = 0
    while start < length:
        end = min(start + MAX_LINE + OVERLAP, length)
        yield start, end
        if end == length:
            return
        start += MAX_LINE


# --- the shape check ------------------------------------------------------------------------

_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
#: Characters tried against a character class that cuts a repeated part (a heuristic: the
#: runtime budget is the real guard; this only refuses the obvious).
_PROBES = " \t.,:;-/_=@|+#aZ0"
_CATEGORIES: dict[str, Callable[[str], bool]] = {
    "CATEGORY_DIGIT": str.isdigit, "CATEGORY_NOT_DIGIT": lambda c: not c.isdigit(),
    "CATEGORY_SPACE": str.isspace, "CATEGORY_NOT_SPACE": lambda c: not c.isspace(),
    "CATEGORY_WORD": lambda c: c.isalnum() or c == "_", "CATEGORY_NOT_WORD": lambda c: not (c.isalnum() or c == "_"),
}


def costly_shape(source: str) -> bool:
    """True for a repetition (unbounded, or more than a few times) of something holding an
    unbounded repetition that can match the same text in several ways (``(a+)+``,
    ``(\\w+\\s?)+``, ``(.*?,){30}``): exponential backtracking on a line that almost
    matches. A repeated part with a character its inner repetitions cannot match
    (``(\\.\\d+)+``, ``(-\\w+)*``) is unambiguous and allowed. Cheap: a parse, no matching;
    syntax only ``regex`` knows is not judged (False)."""
    try:
        parser = importlib.import_module("re._parser")
        constants = importlib.import_module("re._constants")
        tree = parser.parse(source)
        return _Shape(constants).nested(tree, False)
    except Exception:  # noqa: BLE001 - syntax re does not know, absurd nesting: left to regex and the budget
        return False


class _Shape:
    def __init__(self, constants: Any) -> None:
        self.c = constants
        self.unbounded = constants.MAXREPEAT
        self.repeats = {getattr(constants, name) for name in _REPEATS if hasattr(constants, name)}

    def nested(self, items: Any, inside: bool) -> bool:
        for op, arg in items:
            if op in self.repeats:
                _low, high, body = arg
                if inside and high == self.unbounded:
                    return True
                many = high == self.unbounded or high > _NESTED_LIMIT
                if self.nested(body, inside or (many and not self.separated(body))):
                    return True
            elif isinstance(arg, (list, tuple)) and any(self.nested(sub, inside) for sub in _children(arg)):
                return True
        return False

    def separated(self, body: Any) -> bool:
        """Whether ``body`` holds a literal character none of its unbounded repetitions
        can match: then each repetition of the body is cut at that character."""
        cuts = [[chr(arg)] if op == self.c.LITERAL else [ch for ch in _PROBES if self._one((op, arg), ch)]
                for op, arg in self._flat(body) if op in (self.c.LITERAL, self.c.IN)]
        items = list(self._inner_items(body))
        if any(item is None for item in items):
            return False
        return any(chars and not any(self._may_match(item, ch) for item in items for ch in chars) for chars in cuts)

    def _flat(self, body: Any) -> Iterator[tuple[Any, Any]]:
        """The top-level elements of ``body``, groups opened (they are mandatory too)."""
        for op, arg in body:
            if op == self.c.SUBPATTERN:
                yield from self._flat(arg[-1])
            else:
                yield op, arg

    def _inner_items(self, items: Any) -> Iterator[Any]:
        """The single elements repeated without bound inside ``items``; None for one that is
        not a single character class (judged ambiguous)."""
        for op, arg in items:
            if op in self.repeats:
                _low, high, body = arg
                if high == self.unbounded:
                    yield body[0] if len(body) == 1 and body[0][0] != self.c.SUBPATTERN else None
                yield from self._inner_items(body)
            elif isinstance(arg, (list, tuple)):
                for sub in _children(arg):
                    yield from self._inner_items(sub)

    def _may_match(self, item: Any, ch: str) -> bool:
        return any(self._one(item, c) for c in {ch, ch.lower(), ch.upper()})

    def _one(self, item: Any, ch: str) -> bool:
        c = self.c
        op, arg = item
        if op == c.LITERAL:
            return chr(arg) == ch
        if op == c.NOT_LITERAL:
            return chr(arg) != ch
        if op == c.IN:
            negate = bool(arg) and arg[0][0] == c.NEGATE
            hit = False
            for sop, sarg in arg[1:] if negate else arg:
                if sop == c.LITERAL:
                    hit = hit or chr(sarg) == ch
                elif sop == c.RANGE:
                    hit = hit or sarg[0] <= ord(ch) <= sarg[1]
                elif sop == c.CATEGORY and str(sarg) in _CATEGORIES:
                    hit = hit or _CATEGORIES[str(sarg)](ch)
                else:
                    return True
            return hit != negate
        return True  # ANY and everything else: may match


def _children(arg: Any) -> Iterator[Any]:
    """The sub-patterns under a node (groups, branches, lookarounds, conditionals)."""
    for part in arg:
        if hasattr(part, "data"):  # a SubPattern
            yield part
        elif isinstance(part, list):
            for item in part:
                if hasattr(item, "data"):
                    yield item
