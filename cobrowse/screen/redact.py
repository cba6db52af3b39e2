"""Redaction: secrets on the customer's screen reach the agent as a mask, never as text.

Runs on the customer's machine, on the screen state *before* it is diffed and sealed (see
:class:`cobrowse.screen.sync.ScreenSender`), and on the output lines the playbook's
``expect`` patterns are matched against (:class:`LineRedactor`), so an agent cannot probe a
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
* context (:func:`_context_spans`): the line under a password prompt (``Password:``,
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
:func:`_logical_lines`), and every run of up to 8 of those rows on its own too, since
whether a row wrapped is a guess; the scrollback rows just above the screen are context
(:data:`CONTEXT_ROWS`). So a token split across rows, or whose label scrolled off, is
still found.

Pure: no I/O, no clock; results are cached by line text.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import regex

from .budget import MAX_BURST_LINES, AgentPattern, PatternBudget
from .secret_shapes import (
    BUILTIN_RULES,
    PEM_BEGIN,
    PEM_END,
    Rule,
    is_password_prompt,
    luhn_ok,
)
from .state import REDACTED, Cursor, Row, ScreenState, Style
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

MASK_CHAR = "\u2591"  # ░ light shade
MASK_STYLE = Style(None, None, REDACTED)
#: Seconds a pattern may spend on one line before the line is masked whole.
MATCH_TIMEOUT = 0.05
MAX_PATTERNS = 100
MAX_PATTERN_LENGTH = 500
_CACHE_MAX = 4096
_MAX_SPLIT_ROWS = 8  # a longer run of full rows is matched whole only
#: Scrollback rows above the screen the sender gives as context (see Redactor.redact_rows).
CONTEXT_ROWS = 8


class RedactPatternError(ValueError):
    """A redaction pattern that cannot be used (invalid regex, too long, too many)."""


# Lines of a private-key block between its markers: base64, the PEM headers of encrypted
# keys ("Proc-Type: 4,ENCRYPTED", "DEK-Info: ..."), blank lines.
_KEY_BODY = regex.compile(r"^\s*(?:> )?(?:[A-Za-z0-9+/=]*|[A-Za-z-]+: .*)\s*$")  # "> ": a heredoc
# A lone blob of base64 (40+ characters, both cases and a digit: not a hex hash).
_BLOB = regex.compile(r"^\s*(?=[^\s]*[A-Z])(?=[^\s]*[a-z])(?=[^\s]*[0-9])[A-Za-z0-9+/]{40,}={0,2}\s*$")
# Above an END marker whose BEGIN scrolled off: base64 lines only.
_KEY_B64 = regex.compile(r"^\s*(?:> )?[A-Za-z0-9+/=]+\s*$")
_BEGIN = regex.compile(PEM_BEGIN)
_END = regex.compile(PEM_END)

Span = tuple[int, int]


def compile_patterns(patterns: Iterable[str], source: str) -> tuple[regex.Pattern[str], ...]:
    """Compile extra patterns; :class:`RedactPatternError` names the bad one and ``source``
    (e.g. ``"--redact"``, ``"config file"``, ``"the agent"``)."""
    compiled = []
    for i, p in enumerate(patterns, 1):
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


def _compile_rules(rules: Sequence[Rule]) -> tuple[tuple[Rule, regex.Pattern[str], bool], ...]:
    """Each rule compiled on its own: one alternation of them all is tried at every position
    of a line (7x slower than scanning for each rule's own start)."""
    out = []
    for rule in rules:
        pattern = regex.compile(rule.pattern)
        out.append((rule, pattern, "v" in pattern.groupindex))
    return tuple(out)


def _rule_spans(rules: Sequence[tuple[Rule, regex.Pattern[str], bool]], text: str, timeout: float) -> list[Span]:
    """What the built-in rules mask in ``text``: a rule's ``v`` groups, else its whole match,
    without the blanks after it (TimeoutError: the caller masks the line whole)."""
    spans: list[Span] = []
    low = text.lower()
    for rule, pattern, has_value in rules:
        if rule.needles and not any(needle in low for needle in rule.needles):
            continue
        if rule.maybe is not None and not rule.maybe(text):
            continue
        for m in pattern.finditer(text, timeout=timeout):
            if rule.check is not None and not rule.check(m.group()):
                continue
            s, e = m.span("v") if has_value else m.span()
            while e > s and text[e - 1].isspace():
                e -= 1
            spans.append((s, e))
    return spans


def _merge(spans: list[Span]) -> tuple[Span, ...]:
    spans = sorted(s for s in spans if s[1] > s[0])
    out: list[Span] = []
    for s, e in spans:
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return tuple(out)


def _mask_text(text: str, spans: Sequence[Span]) -> str:
    if not spans:
        return text
    parts = []
    pos = 0
    for s, e in spans:
        parts.append(text[pos:s])
        parts.append(MASK_CHAR * (e - s))
        pos = e
    parts.append(text[pos:])
    return "".join(parts)


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
        self._rules = _compile_rules(BUILTIN_RULES if builtin else ())
        self._local = compile_patterns(patterns, source)
        self._remote = _RemotePatterns(budget, timeout)
        self._unchecked = False
        self._unchecked_lines = 0  # lines masked whole so far because a pattern could not check them
        self._cache: dict[str, tuple[Span, ...]] = {}
        #: A logical line's masks that do not depend on the cursor, by (the line above, its rows'
        #: texts): a key echo changes one row, and the other lines cost a look-up, not a match.
        self._lines: dict[tuple[str, tuple[str, ...]], tuple[Span, ...]] = {}
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
        return added

    def take_unchecked(self) -> bool:
        """Whether a line was masked whole since the last call because an agent pattern could
        not check it (its CPU share was used up): the screen should be redacted again later."""
        unchecked, self._unchecked = self._unchecked, False
        return unchecked

    # -- one line ------------------------------------------------------------------------

    def spans(self, text: str) -> tuple[Span, ...]:
        """The ``(start, end)`` text offsets to mask in one logical line (merged, sorted)."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        try:
            found = self._find_within_share(text)
        except TimeoutError:
            found = ((0, len(text)),)  # fail closed
        except _Unchecked:
            self._unchecked = True
            self._unchecked_lines += 1
            return ((0, len(text)),)  # fail closed, and check again next time
        self._cache[text] = found
        return found

    def _find_within_share(self, text: str) -> tuple[Span, ...]:
        """:meth:`_find` within the customer's CPU share for patterns, when there is a budget
        (screen/budget.py): past it the line is not matched now (:class:`_Unchecked`)."""
        budget = self._remote.budget
        if budget is None:
            return self._find(text)
        ran, found = budget.trusted(lambda: self._find(text))
        if not ran or found is None:
            raise _Unchecked
        return found

    def _find(self, text: str) -> tuple[Span, ...]:
        spans: list[Span] = []
        if _BLOB.match(text, timeout=self.timeout):
            stripped = text.strip()
            start = text.index(stripped)
            spans.append((start, start + len(stripped)))
        spans.extend(_rule_spans(self._rules, text, self.timeout))
        for p in self._local:
            spans.extend(m.span() for m in p.finditer(text, timeout=self.timeout))
        merged = _merge(spans)
        if self._remote:
            extra = self._remote.spans(_mask_text(text, merged))
            if extra:
                merged = _merge(list(merged) + extra)
        return merged

    def mask(self, text: str) -> str:
        """``text`` with what :meth:`spans` finds replaced by :data:`MASK_CHAR`."""
        return _mask_text(text, self.spans(text))

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
        groups = _logical_lines(rows)
        texts = [rows[a].text if b == a + 1 else "".join(rows[i].text for i in range(a, b)) for a, b in groups]
        if any("-----" in t for t in texts):  # a key block: masks reach across lines
            spans = [self._group_spans(rows, a, b, t) for (a, b), t in zip(groups, texts)]
            _key_blocks(texts, spans)
            _context_spans(texts, spans)
        else:
            spans = self._line_spans(rows, groups, texts)
        self._typing_spans(rows, groups, texts, spans, cursor)
        if not any(spans):
            return tuple(rows)
        out = list(rows)
        for (a, b), line_spans in zip(groups, spans):
            if not line_spans:
                continue
            line_spans = list(_merge(line_spans))
            offset = 0
            for i in range(a, b):
                row = rows[i]
                n = len(row.text)
                local = [(max(s - offset, 0), min(e - offset, n)) for s, e in line_spans if s < offset + n and e > offset]
                if local:
                    out[i] = _mask_row(row, local)
                offset += n
        return tuple(out)

    def _line_spans(self, rows: Sequence[Row], groups: Sequence[tuple[int, int]], texts: Sequence[str]) -> list[list[Span]]:
        """What :meth:`_group_spans` and :func:`_context_spans` find on a screen without key
        markers, line by line: a line's masks then depend only on its own rows and on the line
        above, so they are kept by those texts (a line masked whole because a pattern could not
        check it is not kept: it is checked again next time)."""
        memo = self._lines
        if len(memo) >= _CACHE_MAX:
            memo.clear()
        out: list[list[Span]] = []
        above = ""
        for (a, b), text in zip(groups, texts):
            key = (above, (text,) if b == a + 1 else tuple(rows[i].text for i in range(a, b)))
            found = memo.get(key)
            if found is None:
                unchecked = self._unchecked_lines
                spans = [[], self._group_spans(rows, a, b, text)]
                _context_spans([above, text], spans)
                found = tuple(spans[1])
                if self._unchecked_lines == unchecked:
                    memo[key] = found
            out.append(list(found))
            above = text
        return out

    def _group_spans(self, rows: Sequence[Row], a: int, b: int, text: str) -> list[Span]:
        """Spans of a group of rows that may be one wrapped line. Whether a row really wrapped
        is a guess, so every run of up to :data:`_MAX_SPLIT_ROWS` rows in the group is also
        matched as a line of its own (a key line joined to its neighbours is still a key
        line); each distinct text is matched once (cache)."""
        found = list(self.spans(text))
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
                found.extend((s + start, e + start) for s, e in self.spans(text[start:ends[j]]))
        return found

    def _typing_spans(self, rows: Sequence[Row], groups: Sequence[tuple[int, int]], texts: Sequence[str],
                      spans: list[list[Span]], cursor: Cursor | None) -> None:
        """The word at the cursor, still being typed, and what was masked there before and
        still stands on the screen (:class:`~cobrowse.screen.typed.TypedSecrets`)."""
        if cursor is not None and 0 <= cursor.row < len(rows):
            for g, (a, b) in enumerate(groups):
                if a <= cursor.row < b:
                    offset = sum(len(rows[i].text) for i in range(a, cursor.row))
                    offset += _col_to_offset(rows[cursor.row], cursor.col)
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


def _logical_lines(rows: Sequence[Row]) -> list[tuple[int, int]]:
    """``[start, end)`` row ranges: a row that may have wrapped runs on into the next.

    The emulator does not say which rows wrapped, so a row is taken to run on when its
    last cell is not blank, or only its last cell is (a line that wrapped just after a
    space: ``password: `` / ``4111 1111 ``). Joining two rows that did not wrap costs at
    most a mask on a neighbouring row; missing a wrap would leak."""
    groups = []
    start = 0
    n = len(rows)
    for i, row in enumerate(rows):
        text = row.text
        if i + 1 < n and len(text) >= 2 and text[-2] != " ":
            continue
        groups.append((start, i + 1))
        start = i + 1
    return groups


def _key_blocks(texts: list[str], spans: list[list[Span]]) -> None:
    """Mask the body lines of private-key blocks that span several lines (in place)."""
    n = len(texts)
    i = 0
    while i < n:
        text = texts[i]
        if "-----" not in text:  # no marker: a substring test, not two searches a line per frame
            i += 1
            continue
        begin = _BEGIN.search(text) if "-----BEGIN " in text else None
        if begin is not None and _END.search(text, begin.end()) is None:
            j = i + 1
            while j < n:
                end = _END.search(texts[j])
                if end is not None:
                    if end.start():
                        spans[j].append((0, end.start()))
                    break
                if not _KEY_BODY.match(texts[j]):
                    break
                spans[j].append((0, len(texts[j].rstrip())))
                j += 1
            i = j if j > i else i + 1
            continue
        end = _END.search(text)
        if end is not None and (begin is None or begin.start() > end.start()):
            if end.start():
                spans[i].append((0, end.start()))
            j = i - 1
            while j >= 0 and _KEY_B64.match(texts[j]):
                spans[j].append((0, len(texts[j].rstrip())))
                j -= 1
        i += 1


def _context_spans(texts: Sequence[str], spans: list[list[Span]]) -> None:
    """Masks that depend on a line's neighbours (in place): the line under a password prompt;
    a short base64 line under a blob (a key's last line while its END marker is still to
    come)."""
    above = texts[0].rstrip() if texts else ""
    for j in range(1, len(texts)):
        text = texts[j].rstrip()
        if text:
            if above.endswith(":") and is_password_prompt(above):
                line = text.lstrip()
                if not is_password_prompt(line):  # "New password:" after "Current password:"
                    spans[j].append((len(text) - len(line), len(text)))
            elif not spans[j] and len(above) >= 40 and " " not in text.lstrip() and _BLOB.match(above) \
                    and _KEY_B64.match(text):
                spans[j].append((len(text) - len(text.lstrip()), len(text)))
        above = text


def _col_to_offset(row: Row, col: int) -> int:
    """The text offset of cell column ``col`` of ``row`` (wide characters take two cells)."""
    if not row.wide:
        return min(col, len(row.text))
    for k, (c, _ch, _w, _style) in enumerate(row.cells()):
        if c >= col:
            return k
    return len(row.text)


def _mask_row(row: Row, spans: Sequence[Span]) -> Row:
    """``row`` with the characters at text offsets in ``spans`` masked (a wide one: twice)."""
    masked = [False] * len(row.text)
    for s, e in spans:
        for k in range(s, e):
            masked[k] = True
    wide = set(row.wide)
    runs: list[tuple[str, Style]] = []
    new_wide: list[int] = []
    k = 0
    out_len = 0
    for text, style in row.runs:
        for ch in text:
            if masked[k]:
                w = 2 if k in wide else 1
                runs.append((MASK_CHAR * w, MASK_STYLE))
                out_len += w
            else:
                if k in wide:
                    new_wide.append(out_len)
                runs.append((ch, style))
                out_len += 1
            k += 1
    return Row.from_runs(runs, tuple(new_wide))


def redacted_spans(row: Row) -> list[tuple[int, int]]:
    """``[first_col, end_col)`` cell ranges of the masked cells of ``row`` (agent side)."""
    out: list[tuple[int, int]] = []
    if not any(style.attrs & REDACTED for _text, style in row.runs):
        return out
    for col, _ch, w, style in row.cells():
        if style.attrs & REDACTED:
            if out and out[-1][1] == col:
                out[-1] = (out[-1][0], col + w)
            else:
                out.append((col, col + w))
    return out


class _Unchecked(Exception):
    """An agent pattern could not check a line (switched off, or its CPU share is used up)."""


class _RemotePatterns:
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
        :class:`_Unchecked` when an active pattern could not check it."""
        out: list[Span] = []
        for pattern in self._patterns:
            if not pattern.active:
                continue
            if self.budget is None:
                out.extend(m.span() for m in pattern.compiled.finditer(masked, timeout=self.timeout))
                continue
            found = self.budget.spans(pattern, masked)
            if found is None:
                raise _Unchecked
            out.extend(found)
        return out


class LineRedactor:
    """Masks secrets in a stream of output lines (what step patterns are matched against),
    remembering across lines whether a private-key block is open.

    Step patterns look at most at the last ``keep`` lines of a burst
    (:data:`~cobrowse.screen.budget.MAX_BURST_LINES`), so only those are masked and
    returned: the earlier ones only move the key-block state on (cheap), which keeps a
    flood from costing a redaction per line."""

    def __init__(self, redactor: Redactor, keep: int = MAX_BURST_LINES) -> None:
        self.redactor = redactor
        self.keep = keep
        self._in_key = False
        self._after_prompt = False  # the previous line asked for a password

    def feed(self, lines: Sequence[str]) -> list[str]:
        out = []
        first = len(lines) - self.keep
        for i, line in enumerate(lines):
            wanted = i >= first
            answer, self._after_prompt = self._after_prompt, is_password_prompt(line)
            if answer and not self._after_prompt:  # what was typed (or echoed) after a password prompt
                if wanted:
                    out.append(MASK_CHAR * len(line))
                continue
            if self._in_key:
                end = _END.search(line)
                if end is not None:
                    self._in_key = False
                    line = MASK_CHAR * end.start() + line[end.start():]
                elif _KEY_BODY.match(line):
                    if wanted:
                        out.append(MASK_CHAR * len(line))
                    continue
                else:
                    self._in_key = False
            begin = _BEGIN.search(line)
            if begin is not None and _END.search(line, begin.end()) is None:
                self._in_key = True
            if wanted:
                out.append(self.redactor.mask(line))
        return out
