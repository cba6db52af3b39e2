"""The agent's patterns on the customer's machine, for ``CustomerPolicy``: the pointer (rows or
a pattern, with the text it covers now) and the notices of patterns switched off, refused or
throttled under their CPU budget (``cobrowse.screen.budget``). A mixin: the state is the
policy's own (``patterns``, ``pointer``, ``_pointer_patterns``, ``_pattern_errors``)."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Protocol

from cobrowse.i18n.text import Translator
from cobrowse.policy.customer_events import Notice, NoticeKind, PointerShown
from cobrowse.protocol import messages as m
from cobrowse.screen.budget import AgentPattern, PatternBudget
from cobrowse.screen.state import Modes

if TYPE_CHECKING:
    from cobrowse.policy.customer import Effect

#: Pattern notices waiting for the agent while sharing is paused (each pattern is told once).
MAX_PATTERN_ERRORS = 32
#: Pointer patterns kept compiled (each is compiled once, and stays off once switched off).
MAX_POINTER_PATTERNS = 64


class ScreenView(Protocol):
    """What the policy reads of the customer's screen (the runtime feeds pending output first)."""

    def lines(self) -> list[str]: ...

    def modes(self) -> Modes: ...


class AgentPatterns:
    tr: Translator
    patterns: PatternBudget
    pointer: m.Pointer | None
    told_masked: bool
    _pointer_patterns: dict[str, AgentPattern]
    _pattern_errors: deque[str]

    if TYPE_CHECKING:  # provided by CustomerPolicy, the class this mixes into
        @property
        def paired(self) -> bool: ...

    def pointer_effects(self, view: ScreenView) -> list[Effect]:
        """What the agent points at, with the text it covers now (for plain mode and the app),
        after the notices of a pointer pattern that ran out of time."""
        pointer = self.pointer
        if pointer is None:
            return [PointerShown(self.tr("the agent cleared the highlight"), cleared=True)]
        lines = view.lines()
        if pointer.pattern:
            pattern = self._pointer_patterns.get(pointer.pattern)
            if pattern is None:
                if len(self._pointer_patterns) >= MAX_POINTER_PATTERNS:
                    del self._pointer_patterns[next(iter(self._pointer_patterns))]
                pattern = self.patterns.compile(pointer.pattern, "pointer pattern", literal_if_invalid=True)
                self._pointer_patterns[pointer.pattern] = pattern
            rows = [i for i, line in enumerate(lines) if self.patterns.search(pattern, line)]
            out = self.pattern_notices()
            active = pattern.active
        else:
            out = []
            rows = list(range(pointer.first, min(pointer.last, len(lines) - 1) + 1))
        shown = " | ".join(lines[i].strip() for i in rows[:3]) or self.tr("(nothing there now)")
        tr = self.tr
        if pointer.pattern:
            quoted = repr(pointer.pattern[:60])
            said = (tr("the agent points at lines matching {pattern}: {text}", pattern=quoted, text=shown)
                    if active else
                    tr("the agent points at lines matching {pattern} (switched off: too slow): {text}",
                       pattern=quoted, text=shown))
        elif pointer.last > pointer.first:
            said = tr("the agent points at rows {first}-{last}: {text}", first=pointer.first + 1, last=pointer.last + 1,
                      text=shown)
        else:
            said = tr("the agent points at row {row}: {text}", row=pointer.first + 1, text=shown)
        return [*out, PointerShown(said, rows=tuple(rows), pattern=pointer.pattern)]

    # the agent's patterns, under their CPU budget

    def pattern_notices(self) -> list[Effect]:
        """An agent pattern switched off (or refused, or throttled): the customer is told at
        once; the agent with the next frame (``frame_upkeep``: never while sharing is paused)."""
        out: list[Effect] = []
        for notice in self.patterns.take_notices():
            out.append(Notice(notice.customer_text(), kind=NoticeKind.AGENT_PATTERN, state=str(notice.kind),
                              label=notice.label, pattern=notice.pattern,
                              reason=None if notice.reason is None else str(notice.reason)))
            text = notice.agent_text()
            if text and len(self._pattern_errors) < MAX_PATTERN_ERRORS:
                self._pattern_errors.append(text)
        return out

    def frame_upkeep(self) -> list[Effect]:
        """Before each frame (only while sharing): the agent's pattern notices so far."""
        out = self.pattern_notices()
        while self._pattern_errors and self.paired:
            out.append(m.Steps({"error": self._pattern_errors.popleft()}))
        return out

    def frame_masked(self) -> list[Effect]:
        """A frame masked something that looked like a secret: the customer hears it once."""
        if self.told_masked:
            return []
        self.told_masked = True
        return [Notice("something on your screen looked like a secret: the agent sees it masked (░░░), you see it as it is")]
