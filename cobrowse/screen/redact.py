"""Redaction: secrets on the customer's screen reach the agent as a mask, never as text.

Runs on the customer's machine, on the screen state *before* it is diffed and sealed (see
:class:`cobrowse.screen.sync.ScreenSender`), and on the output lines the playbook's
``expect`` patterns are matched against (:class:`~cobrowse.screen.line_redactor.LineRedactor`), so an agent cannot probe a
secret with step patterns either. The customer's own terminal is never touched.

What is masked
--------------
* built-in patterns (:mod:`cobrowse.screen.secret_shapes`): private-key blocks (PEM /
  OpenSSH / PGP; the body rows between ``-----BEGIN ... PRIVATE KEY-----`` and
  ``-----END ...-----``, even when one of the two markers has scrolled off, or the key is
  pasted into a heredoc), common API tokens (AWS, GitHub, GitLab, Slack, Stripe, Google,
  OpenAI / Anthropic, npm, PyPI, JWTs...), the value after a label (``password:``,
  ``DB_PASS=``, ``export X_PWD=``, ``API_KEY=``, ``dbPassword:``), credentials on command
  lines (``curl -u user:pw``, ``--password x``, ``mysql -p'pw'``), passwords in URLs,
  bearer tokens, card numbers that pass the Luhn check, and lone lines of 40+ mixed-case
  base64 (key material, blobs);
* context (:func:`~cobrowse.screen.key_blocks.context_spans`): the line under a password prompt (``Password:``,
  ``[sudo] password for joe:``), the short last line of a key under a blob; and the word
  at the cursor, which is still being typed: a token's known prefix (``ghp_``, ``AKIA``,
  ``eyJ``...) masks it at once, before the whole token is there, and it stays masked when
  the cursor leaves it half typed (:mod:`cobrowse.screen.typed`);
* the customer's own and the organisation's patterns (``redact_patterns`` in the config,
  ``--redact REGEX``): *local* patterns, applied like the built-in ones;
* patterns the agent pushes (``redact`` message): *remote* patterns, matched against the
  text with everything above already masked, so a remote pattern can only add masks and
  can never tell the agent anything about what lies under a mask.

Every match has a time limit (patterns may be pathological); when one runs out of time the
whole line is masked: redaction fails closed. The agent's patterns also run under the
session's :class:`~cobrowse.screen.budget.PatternBudget` (a share of the CPU; a pattern
that goes over is switched off, with a notice to both sides); a line one of them could
not check is masked whole and checked again shortly after (the runtime re-redacts the
screen 100 ms later; see :meth:`Redactor.take_unchecked`). The customer's own and the
built-in patterns share a larger, trusted budget (never switched off; past it a line fails
closed the same way).

Representation
--------------
A masked cell holds :data:`MASK_CHAR` in the style :data:`MASK_STYLE` (default colours and
the :data:`~cobrowse.screen.state.REDACTED` attribute); a wide character that is masked
becomes two masked cells. The mask keeps the secret's length in cells.

Rows the terminal may have wrapped are matched as one logical line (see
:func:`~cobrowse.screen.key_blocks.logical_lines`), and every run of up to 8 of those rows on its own too, since
whether a row wrapped is a guess; the scrollback rows just above the screen are context
(:data:`CONTEXT_ROWS`). So a token split across rows, or whose label scrolled off, is
still found.

Pure: no I/O, no clock; results are cached by line text.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from .budget import PatternBudget
from .key_blocks import BLOB, context_spans, key_blocks, logical_lines
from .line_redactor import LineRedactor
from .mask import MASK_CHAR, MASK_STYLE, Span, col_to_offset, mask_row, mask_text, merge_spans, redacted_spans
from .redact_patterns import (
    MAX_PATTERN_LENGTH,
    Hint,
    MAX_PATTERNS,
    RedactPatternError,
    RemotePatterns,
    Unchecked,
    compile_patterns,
    compile_rules,
    rule_spans,
)
from .secret_shapes import BUILTIN_RULES, Rule, luhn_ok
from .state import Cursor, Row, ScreenState
from .typed import TypedSecrets

__all__ = [
    "MASK_CHAR",
    "MASK_STYLE",
    "MATCH_TIMEOUT",
    "MAX_PATTERNS",
    "MAX_PATTERN_LENGTH",
    "CONTEXT_ROWS",
    "BUILTIN_RULES",
    "Rule",
    "Redactor",
    "LineRedactor",
    "RedactPatternError",
    "compile_patterns",
    "luhn_ok",
    "redacted_spans",
]

#: Seconds a pattern may spend on one line before the line is masked whole.
MATCH_TIMEOUT = 0.05
_CACHE_MAX = 4096
_MAX_SPLIT_ROWS = 8  # a longer run of full rows is matched whole only
#: Scrollback rows above the screen the sender gives as context (see Redactor.redact_rows).
CONTEXT_ROWS = 8
_LONG_RUN = re.compile("[^ ]{40}")  # a piece long enough without a blank to be a blob


class Redactor:
    """Finds what to mask in a line, and masks screen states.

    ``patterns``: local extra patterns (customer, organisation). ``builtin``: use
    :data:`BUILTIN_RULES`. :meth:`add_remote` adds patterns the agent pushed; with a
    ``budget`` (the customer's runtime always gives one) they run under it.
    """

    def __init__(self, patterns: Iterable[str] = (), *, builtin: bool = True,
                 timeout: float = MATCH_TIMEOUT, source: str = "settings",
                 budget: PatternBudget | None = None) -> None:
        self.timeout = timeout
        self.builtin = builtin
        self._rules = compile_rules(BUILTIN_RULES if builtin else ())
        self._local = compile_patterns(patterns, source)
        self._remote = RemotePatterns(budget, timeout)
        self._unchecked = False
        self._unchecked_lines = 0  # lines masked whole so far because a pattern could not check them
        self._cache: dict[str, tuple[Span, ...]] = {}
        #: A logical line's masks that do not depend on the cursor, by (the line above, its rows'
        #: texts): a key echo changes one row, and the other lines cost a look-up, not a match.
        self._lines: dict[tuple[str, tuple[str, ...]], tuple[Span, ...]] = {}
        #: What a logical line's rows alone give (:meth:`_group_spans`), by their texts.
        self._groups: dict[tuple[str, ...], tuple[Span, ...]] = {}
        self._typed = TypedSecrets()

    @property
    def local_patterns(self) -> tuple[str, ...]:
        return tuple(p.pattern for p in self._local)

    @property
    def remote_patterns(self) -> tuple[str, ...]:
        """The agent's patterns, in the order pushed (also those switched off)."""
        return self._remote.sources

    def add_remote(self, patterns: Iterable[str], source: str = "the agent") -> int:
        """Add patterns pushed by the agent (validated; RedactPatternError); returns how
        many new ones apply (one refused by the budget for its shape does not, and the
        budget says so). They apply to text whose other secrets are already masked."""
        added = self._remote.add(patterns, source)
        if added:
            self._cache.clear()
            self._lines.clear()
            self._groups.clear()
        return added

    def take_unchecked(self) -> bool:
        """Whether a line was masked whole since the last call because an agent pattern could
        not check it (its CPU share was used up): the screen should be redacted again later."""
        unchecked, self._unchecked = self._unchecked, False
        return unchecked

    # -- one line ------------------------------------------------------------------------

    def spans(self, text: str, hint: Hint | None = None) -> tuple[Span, ...]:
        """The ``(start, end)`` text offsets to mask in one logical line (merged, sorted).
        ``hint``: the screen's (:class:`~cobrowse.screen.redact_patterns.Hint`), when ``text`` is (a piece of) one
        of its lines; the result is the same, found with fewer checks."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        try:
            found = self._find_within_share(text, hint)
        except TimeoutError:
            found = ((0, len(text)),)  # fail closed
        except Unchecked:
            self._unchecked = True
            self._unchecked_lines += 1
            return ((0, len(text)),)  # fail closed, and check again next time
        self._cache[text] = found
        return found

    def _find_within_share(self, text: str, hint: Hint | None) -> tuple[Span, ...]:
        """:meth:`_find` within the customer's CPU share for patterns, when there is a budget
        (screen/budget.py): past it the line is not matched now (:class:`Unchecked`)."""
        budget = self._remote.budget
        if budget is None:
            return self._find(text, hint)
        ran, found = budget.trusted(lambda: self._find(text, hint))
        if not ran or found is None:
            raise Unchecked
        return found

    def _find(self, text: str, hint: Hint | None = None) -> tuple[Span, ...]:
        spans: list[Span] = []
        stripped = text.strip()
        # A blob is one run of 40+ characters without a blank: most lines fail that first.
        if len(stripped) >= 40 and " " not in stripped and BLOB.match(text, timeout=self.timeout):
            start = text.index(stripped)
            spans.append((start, start + len(stripped)))
        spans.extend(rule_spans(self._rules, text, self.timeout, hint))
        for p in self._local:
            spans.extend(m.span() for m in p.finditer(text, timeout=self.timeout))
        merged = merge_spans(spans)
        if self._remote:
            extra = self._remote.spans(mask_text(text, merged))
            if extra:
                merged = merge_spans(list(merged) + extra)
        return merged

    def mask(self, text: str) -> str:
        """``text`` with what :meth:`spans` finds replaced by :data:`MASK_CHAR`."""
        return mask_text(text, self.spans(text))

    # -- a screen ------------------------------------------------------------------------

    def redact_rows(self, rows: Sequence[Row], above: Sequence[Row] = (),
                    cursor: Cursor | None = None) -> tuple[Row, ...]:
        """The rows with every secret masked (wrapped rows matched as one line; key blocks
        across rows). ``above``: the rows just above the screen (scrollback, oldest first,
        :data:`CONTEXT_ROWS` of them), which may hold the start of the top row's line
        (``password: `` above ``hunter2``, the start of a long token), a key's BEGIN or a
        password prompt. ``cursor`` (on ``rows``): the word there is still being typed,
        so a secret's start masks it (:func:`~cobrowse.screen.secret_shapes.typing_spans`)."""
        if above:
            at = None if cursor is None else Cursor(cursor.col, cursor.row + len(above), cursor.visible)
            return self.redact_rows((*above, *rows), (), at)[len(above):]
        groups = logical_lines(rows)
        texts = [rows[a].text if b == a + 1 else rows[a].text + rows[a + 1].text if b == a + 2
                 else "".join([rows[i].text for i in range(a, b)]) for a, b in groups]
        if any("-----" in t for t in texts):  # a key block: masks reach across lines
            hint = Hint("\n".join(texts))
            spans = [self._group_spans(rows, a, b, t, hint) for (a, b), t in zip(groups, texts)]
            key_blocks(texts, spans)
            context_spans(texts, spans)
        else:
            spans = self._line_spans(rows, groups, texts)
        self._typing_spans(rows, groups, texts, spans, cursor)
        if not any(spans):
            return tuple(rows)
        out = list(rows)
        for (a, b), line_spans in zip(groups, spans):
            if not line_spans:
                continue
            line_spans = list(merge_spans(line_spans))
            offset = 0
            for i in range(a, b):
                row = rows[i]
                n = len(row.text)
                local = [(max(s - offset, 0), min(e - offset, n)) for s, e in line_spans if s < offset + n and e > offset]
                if local:
                    out[i] = mask_row(row, local)
                offset += n
        return tuple(out)

    def _line_spans(self, rows: Sequence[Row], groups: Sequence[tuple[int, int]], texts: Sequence[str]) -> list[list[Span]]:
        """What :meth:`_group_spans` and :func:`~cobrowse.screen.key_blocks.context_spans` find on a screen without key
        markers, line by line: a line's masks then depend only on its own rows and on the line
        above, so they are kept by those texts, and what its rows alone give (:meth:`_group_spans`)
        by its rows' texts: a line seen before under another line (the top of a scrolling screen)
        is not matched again. A line masked whole because a pattern could not check it is not
        kept: it is checked again next time. The lines not kept are matched with the
        :class:`~cobrowse.screen.redact_patterns.Hint` of their texts."""
        memo = self._lines
        own_memo = self._groups
        if len(memo) >= _CACHE_MAX:
            memo.clear()
        if len(own_memo) >= _CACHE_MAX:
            own_memo.clear()
        out: list[list[Span] | None] = []
        keys: list[tuple[str, tuple[str, ...]]] = []
        missed: list[int] = []
        above = ""
        for g, ((a, b), text) in enumerate(zip(groups, texts)):
            key = (above, (text,) if b == a + 1 else (rows[a].text, rows[a + 1].text) if b == a + 2
                   else tuple([rows[i].text for i in range(a, b)]))
            found = memo.get(key)
            if found is None:
                missed.append(g)
                keys.append(key)
                out.append(None)
            else:
                out.append(list(found))
            above = text
        if missed:
            owns: list[tuple[Span, ...] | None] = [own_memo.get(key[1]) for key in keys]
            todo = [g for g, own in zip(missed, owns) if own is None]
            hint = Hint("\n".join(texts[g] for g in todo)) if todo else None
            for g, key, own in zip(missed, keys, owns):
                (a, b), text = groups[g], texts[g]
                unchecked = self._unchecked_lines
                if own is None:
                    own = tuple(self._group_spans(rows, a, b, text, hint))
                    if self._unchecked_lines == unchecked:
                        own_memo[key[1]] = own
                spans: list[list[Span]] = [[], list(own)]
                context_spans([key[0], text], spans)
                found = tuple(spans[1])
                if self._unchecked_lines == unchecked:
                    memo[key] = found
                out[g] = list(found)
        return [found or [] for found in out]

    def _group_spans(self, rows: Sequence[Row], a: int, b: int, text: str, hint: Hint | None = None) -> list[Span]:
        """Spans of a group of rows that may be one wrapped line. Whether a row really wrapped
        is a guess, so every run of up to :data:`_MAX_SPLIT_ROWS` rows in the group is also
        matched as a line of its own (a key line joined to its neighbours is still a key
        line); each distinct text is matched once (cache)."""
        if self._pieces_clear(text, hint):
            return []  # nothing can match the line nor any piece of it: no match run at all
        found = list(self.spans(text, hint))
        n = b - a
        if n == 1:
            return found
        ends = [0]
        for i in range(a, b):
            ends.append(ends[-1] + len(rows[i].text))
        for i in range(n):
            for j in range(i + 1, min(n, i + _MAX_SPLIT_ROWS) + 1):
                if j - i == n:
                    continue  # the whole group: done above
                start = ends[i]
                found.extend((s + start, e + start) for s, e in self.spans(text[start:ends[j]], hint))
        return found

    def _pieces_clear(self, text: str, hint: Hint | None) -> bool:
        """Whether no piece of ``text`` can hold anything to mask, so its rows need not be
        matched on their own (half of the lines matched on a scrolling log): only built-in
        rules apply, the screen passes no needle-less rule's ``maybe``, ``text`` holds none of
        the screen's needles (nor then does any piece of it), and no piece is long enough
        without a blank to be a blob. A piece nothing can match is not charged to the CPU
        budget either (past it, it would have been masked whole until checked)."""
        if hint is None or self._local or self._remote:
            return False
        needles, always = hint.found(self._rules)
        if always:
            return False
        if needles:  # (most screens of output hold none: no lower case of each line then)
            low = text.lower()
            if any(needle in low for needle, _rules in needles):
                return False
        return len(text) < 40 or _LONG_RUN.search(text) is None

    def _typing_spans(self, rows: Sequence[Row], groups: Sequence[tuple[int, int]], texts: Sequence[str],
                      spans: list[list[Span]], cursor: Cursor | None) -> None:
        """The word at the cursor, still being typed, and what was masked there before and
        still stands on the screen (:class:`~cobrowse.screen.typed.TypedSecrets`)."""
        if cursor is not None and 0 <= cursor.row < len(rows):
            for g, (a, b) in enumerate(groups):
                if a <= cursor.row < b:
                    offset = sum(len(rows[i].text) for i in range(a, cursor.row))
                    offset += col_to_offset(rows[cursor.row], cursor.col)
                    spans[g].extend(self._typed.at_cursor(texts[g], offset))
                    break
        if len(self._typed):
            for g, kept in enumerate(self._typed.spans(texts)):
                spans[g].extend(kept)

    def redact_state(self, state: ScreenState, above: Sequence[Row] = ()) -> ScreenState:
        rows = self.redact_rows(state.rows, above, state.cursor)
        if rows is state.rows or rows == state.rows:
            return state
        return ScreenState(state.size, state.cursor, rows, state.modes)

