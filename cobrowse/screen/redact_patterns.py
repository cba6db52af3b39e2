"""Compiling and running redaction patterns: the built-in rules (each on its own, behind
cheap needle and shape checks), the customer's own, and the agent's (under the session's
CPU budget; a line one of them could not check raises :class:`Unchecked`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from ahocorasick_rs import AhoCorasick

from .budget import AgentPattern, PatternBudget
from .mask import Span
from .secret_shapes import Rule

if TYPE_CHECKING:
    import regex

MAX_PATTERNS = 100
MAX_PATTERN_LENGTH = 500


class RedactPatternError(ValueError):
    """A redaction pattern that cannot be used (invalid regex, too long, too many)."""


def compile_patterns(patterns: Iterable[str], source: str) -> tuple[regex.Pattern[str], ...]:
    """Compile extra patterns; :class:`RedactPatternError` names the bad one and ``source``
    (e.g. ``"--redact"``, ``"config file"``, ``"the agent"``)."""
    compiled = []
    for i, p in enumerate(patterns, 1):
        import regex  # with the first pattern: none is the usual case, and the join's imports save ~7 ms

        if not isinstance(p, str) or not p:
            raise RedactPatternError(f"redaction pattern #{i} from {source}: must be a non-empty string")
        if len(p) > MAX_PATTERN_LENGTH:
            raise RedactPatternError(f"redaction pattern #{i} from {source}: longer than {MAX_PATTERN_LENGTH} characters")
        try:
            compiled.append(regex.compile(p))
        except regex.error as exc:
            raise RedactPatternError(f"redaction pattern {p!r:.60} from {source}: not a valid regex ({exc})") from None
    if len(compiled) > MAX_PATTERNS:
        raise RedactPatternError(f"too many redaction patterns from {source} ({len(compiled)}, at most {MAX_PATTERNS})")
    return tuple(compiled)


_Compiled = tuple[Rule, "regex.Pattern[str]", bool]


class Hint:
    """What a whole screen's text allows, found once a frame (when a line first misses the
    cache): the needles it holds, and the needle-less rules whose ``maybe`` it passes. A
    needle missing from the screen is missing from each of its lines and from every piece of
    a line (``str.lower`` maps character by character; needles are ASCII), and a ``maybe``
    holds on a text only if it holds on the texts around it, so a line's candidates are
    looked for among these only: 53 substring tests a line (4 µs, half of a log line's
    redaction) become one pass over the screen's text."""

    __slots__ = ("screen", "_found")

    def __init__(self, screen: str) -> None:
        self.screen = screen
        self._found: tuple[tuple[tuple[str, tuple[int, ...]], ...], tuple[int, ...]] | None = None

    def found(self, rules: CompiledRules) -> tuple[tuple[tuple[str, tuple[int, ...]], ...], tuple[int, ...]]:
        """``(needles with their rules, needle-less rules)`` that may match in the screen."""
        if self._found is None:
            self._found = rules.allowed(self.screen)
        return self._found


class CompiledRules:
    """The built-in rules, each compiled on its own (one alternation of them all is tried at
    every position of a line: 7x slower than scanning for each rule's own start), and only
    when a line first may need it (compiling all 31 cost ~37 ms of the customer's start-up);
    their needles in one flat list: a line is checked for each distinct needle once, and
    only the rules one of whose needles it holds (and those without needles) are run.
    Checking the needles rule by rule cost 18 µs a log line, most of the redaction."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._compiled: list[_Compiled | None] = [None] * len(self.rules)
        by_needle: dict[str, list[int]] = {}
        self._always: tuple[int, ...] = tuple(i for i, rule in enumerate(self.rules) if not rule.needles)
        for i, rule in enumerate(self.rules):
            for needle in rule.needles:
                by_needle.setdefault(needle, []).append(i)
        self._needles: tuple[tuple[str, tuple[int, ...]], ...] = tuple((n, tuple(ix)) for n, ix in by_needle.items())
        # Every needle in one pass (Aho-Corasick, in Rust; overlapping matches, so a needle
        # inside or across another is found too): 53 substring scans of a frame's new text
        # (~3 KB at 100 KB/s) took 38 µs, this 7.
        self._automaton = AhoCorasick(list(by_needle)) if by_needle else None

    def held(self, low: str) -> set[str]:
        """The needles ``low`` (lower case) holds: exactly those ``needle in low`` finds."""
        if self._automaton is None:
            return set()
        try:
            return set(self._automaton.find_matches_as_strings(low, overlapping=True))
        except UnicodeEncodeError:  # a lone surrogate (not from a terminal: its text is decoded)
            return {needle for needle, _rules in self._needles if needle in low}

    def compiled(self, i: int) -> _Compiled:
        done = self._compiled[i]
        if done is None:
            import regex

            rule = self.rules[i]
            pattern = regex.compile(rule.pattern)
            done = self._compiled[i] = (rule, pattern, "v" in pattern.groupindex)
        return done

    def allowed(self, screen: str) -> tuple[tuple[tuple[str, tuple[int, ...]], ...], tuple[int, ...]]:
        """What :class:`Hint` keeps for ``screen`` (the text of its lines joined by line feeds)."""
        held = self.held(screen.lower())
        rules = self.rules
        return (tuple(item for item in self._needles if item[0] in held),
                tuple(i for i in self._always if (maybe := rules[i].maybe) is None or maybe(screen)))

    def candidates(self, text: str, low: str | None = None, hint: Hint | None = None) -> list[_Compiled]:
        """The rules that may match ``text`` (``low``: its lower case), in rule order: their
        needles, shared checks (``near``) and own checks (``maybe``) pass; compiled now.
        ``hint``: the screen's, when ``text`` is (a piece of) one of its lines."""
        if low is None:
            low = text.lower()
        hit: set[int]
        if hint is None:  # (a line of its own: the playbook's output lines)
            hit = set(self._always)
            if held := self.held(low):
                for needle, indexes in self._needles:
                    if needle in held:
                        hit.update(indexes)
        else:
            needles, always = hint.found(self)
            hit = set(always)
            for needle, indexes in needles:
                if needle in low:
                    hit.update(indexes)
        rules = self.rules
        near: dict[Callable[[str], bool], bool] = {}
        for i in tuple(hit):
            check = rules[i].near
            if check is not None:
                ok = near.get(check)
                if ok is None:
                    ok = near[check] = check(text)
                if not ok:
                    hit.discard(i)
        out = []
        for i in sorted(hit):
            maybe = rules[i].maybe
            if maybe is None or maybe(text):
                out.append(self.compiled(i))
        return out


def compile_rules(rules: Sequence[Rule]) -> CompiledRules:
    return CompiledRules(rules)


def rule_spans(rules: CompiledRules, text: str, timeout: float, hint: Hint | None = None) -> list[Span]:
    """What the built-in rules mask in ``text``: a rule's ``v`` groups, else its whole match,
    without the blanks after it (TimeoutError: the caller masks the line whole)."""
    spans: list[Span] = []
    for rule, pattern, has_value in rules.candidates(text, None, hint):
        for m in pattern.finditer(text, timeout=timeout):
            if rule.check is not None and not rule.check(m.group()):
                continue
            s, e = m.span("v") if has_value else m.span()
            while e > s and text[e - 1].isspace():
                e -= 1
            spans.append((s, e))
    return spans


class Unchecked(Exception):
    """An agent pattern could not check a line (switched off, or its CPU share is used up)."""


class RemotePatterns:
    """The agent's redaction patterns: validated, deduplicated, at most MAX_PATTERNS, and
    run under the session's budget when there is one (else each match has ``timeout``)."""

    def __init__(self, budget: PatternBudget | None, timeout: float) -> None:
        self.budget = budget
        self.timeout = timeout
        self._patterns: list[AgentPattern] = []

    def __bool__(self) -> bool:
        return any(p.active for p in self._patterns)

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(p.source for p in self._patterns)

    def add(self, patterns: Iterable[str], source: str) -> int:
        known = set(self.sources)
        new = []
        for compiled in compile_patterns(patterns, source):
            if compiled.pattern not in known:
                known.add(compiled.pattern)
                new.append(compiled)
        if len(self._patterns) + len(new) > MAX_PATTERNS:
            raise RedactPatternError(f"too many redaction patterns from {source} (at most {MAX_PATTERNS})")
        added = 0
        for compiled in new:
            if self.budget is None:
                pattern = AgentPattern(compiled.pattern, "redaction pattern", compiled)
            else:
                pattern = self.budget.compile(compiled.pattern, "redaction pattern")
            self._patterns.append(pattern)
            added += pattern.active
        return added

    def spans(self, masked: str) -> list[Span]:
        """Every match in ``masked`` (the line with the other secrets masked already);
        :class:`Unchecked` when an active pattern could not check it."""
        out: list[Span] = []
        for pattern in self._patterns:
            if not pattern.active:
                continue
            if self.budget is None:
                out.extend(m.span() for m in pattern.compiled.finditer(masked, timeout=self.timeout))
                continue
            found = self.budget.spans(pattern, masked)
            if found is None:
                raise Unchecked
            out.extend(found)
        return out
