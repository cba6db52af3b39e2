"""Redaction: secrets on the customer's screen reach the agent as a mask, never as text.

Runs on the customer's machine, on the screen state *before* it is diffed and sealed (see
:class:`cobrowse.screen.sync.ScreenSender`), and on the output lines the playbook's
``expect`` patterns are matched against (:class:`LineRedactor`), so an agent cannot probe a
secret with step patterns either. The customer's own terminal is never touched.

What is masked
--------------
* built-in patterns (:data:`BUILTIN_RULES`): private-key blocks (PEM / OpenSSH / PGP; the
  body rows between ``-----BEGIN ... PRIVATE KEY-----`` and ``-----END ...-----``, even
  when one of the two markers has scrolled off), common API tokens (AWS access key ids,
  GitHub ``ghp_``/``github_pat_``, GitLab, Slack ``xox?-``, Stripe, Google ``AIza``, OpenAI
  / Anthropic ``sk-``, npm, JWTs, bearer tokens, passwords in URLs), the value after a
  ``password:`` / ``passwd=`` / ``secret:`` / ``api_key=``-like label, card numbers that pass
  the Luhn check, and lone lines of 40+ mixed-case base64 (key material, blobs);
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

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import regex

from .budget import MAX_BURST_LINES, AgentPattern, PatternBudget
from .state import REDACTED, Row, ScreenState, Style

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


def luhn_ok(digits: str) -> bool:
    """The Luhn check of a string of digits (card numbers end with a Luhn check digit)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_ok(text: str) -> bool:
    digits = "".join(ch for ch in text if ch.isdigit())
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


@dataclass(frozen=True)
class Rule:
    """A built-in pattern. ``pattern`` may hold a group named ``v``: only it is masked.
    ``check`` (optional) must accept the matched text (e.g. the Luhn check)."""

    name: str
    pattern: str
    check: Callable[[str], bool] | None = None


# The label's last word only (DB_PASSWORD matches at PASSWORD): a leading [\w.-]* would
# cost ten times more per line.
_LABEL = (r"(?i:(?:\bpass\b|password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey"
          r"|access[_-]?key|private[_-]?key|auth[_-]?key|credentials?)[\"']?\s*[:=]\s*[\"']?)")
_PEM_BEGIN = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_PEM_END = r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"

BUILTIN_RULES: tuple[Rule, ...] = (
    Rule("private_key", _PEM_BEGIN + r"(?P<v>(?:(?!-----END ).)+)"),
    Rule("aws_access_key_id", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|A3T[A-Z0-9])[A-Z0-9]{16}\b"),
    Rule("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})"),
    Rule("gitlab_token", r"\bglpat-[A-Za-z0-9_-]{20,}"),
    Rule("slack_token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    Rule("slack_webhook", r"hooks\.slack\.com/services/(?P<v>[A-Za-z0-9/_-]{8,})"),
    Rule("stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}|\bwhsec_[A-Za-z0-9]{16,}"),
    Rule("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}"),
    Rule("google_oauth_token", r"\bya29\.[0-9A-Za-z_-]{20,}"),
    Rule("openai_anthropic_key", r"\bsk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_-]{20,}"),
    Rule("npm_token", r"\bnpm_[A-Za-z0-9]{36}"),
    Rule("jwt", r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}"),
    Rule("bearer_token", r"(?i:\b(?:bearer|basic)\s+)(?P<v>[A-Za-z0-9._~+/-]{8,}=*)"),
    Rule("url_password", r"://[^\s:/@]+:(?P<v>[^\s/@]+)@"),
    Rule("labelled_secret", _LABEL + r"(?P<v>[^\s\"',;]+)"),
    # 13-19 digits together, or grouped as cards print them (4-4-4-4[-3], Amex 4-6-5).
    Rule("card_number", r"(?<![\d-])(?:\d{13,19}|\d{4}[ -]\d{4}[ -]\d{4}[ -]\d{4}(?:[ -]?\d{3})?"
                        r"|\d{4}[ -]\d{6}[ -]\d{5})(?![\d-])", _card_ok),
)

# Lines of a private-key block between its markers: base64, the PEM headers of encrypted
# keys ("Proc-Type: 4,ENCRYPTED", "DEK-Info: ..."), blank lines.
_KEY_BODY = regex.compile(r"^\s*(?:[A-Za-z0-9+/=]*|[A-Za-z-]+: .*)\s*$")
# A lone blob of base64 (40+ characters, both cases and a digit: not a hex hash).
_BLOB = regex.compile(r"^\s*(?=[^\s]*[A-Z])(?=[^\s]*[a-z])(?=[^\s]*[0-9])[A-Za-z0-9+/]{40,}={0,2}\s*$")
# Above an END marker whose BEGIN scrolled off: base64 lines only.
_KEY_B64 = regex.compile(r"^\s*[A-Za-z0-9+/=]+\s*$")
_BEGIN = regex.compile(_PEM_BEGIN)
_END = regex.compile(_PEM_END)

Span = tuple[int, int]


def compile_patterns(patterns: Iterable[str], source: str) -> tuple[regex.Pattern, ...]:
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
        rules = BUILTIN_RULES if builtin else ()
        self._combined = regex.compile("|".join(f"(?P<r{i}>{r.pattern.replace('(?P<v>', f'(?P<v{i}>')})"
                                                 for i, r in enumerate(rules))) if rules else None
        self._rules = rules
        self._local = compile_patterns(patterns, source)
        self._remote = _RemotePatterns(budget, timeout)
        self._unchecked = False
        self._cache: dict[str, tuple[Span, ...]] = {}

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
        if self._combined is not None:
            for m in self._combined.finditer(text, timeout=self.timeout):
                name = m.lastgroup
                if name is None:
                    continue
                i = int(name[1:])
                rule = self._rules[i]
                if rule.check is not None and not rule.check(m.group()):
                    continue
                s, e = m.span(f"v{i}") if f"v{i}" in self._combined.groupindex else m.span()
                while e > s and text[e - 1].isspace():  # the secret, not the blanks after it
                    e -= 1
                spans.append((s, e))
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

    def redact_rows(self, rows: Sequence[Row], above: Sequence[Row] = ()) -> tuple[Row, ...]:
        """The rows with every secret masked (wrapped rows matched as one line; key blocks
        across rows). ``above``: the rows just above the screen (scrollback, oldest first,
        :data:`CONTEXT_ROWS` of them), which may hold the start of the top row's line
        (``password: `` above ``hunter2``, the start of a long token) or a key's BEGIN."""
        if above:
            return self.redact_rows((*above, *rows))[len(above):]
        groups = _logical_lines(rows)
        texts = ["".join(rows[i].text for i in range(a, b)) for a, b in groups]
        spans = [self._group_spans(rows, a, b, t) for (a, b), t in zip(groups, texts)]
        _key_blocks(texts, spans)
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

    def redact_state(self, state: ScreenState, above: Sequence[Row] = ()) -> ScreenState:
        rows = self.redact_rows(state.rows, above)
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
        begin = _BEGIN.search(text)
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
    return Row.from_runs(runs, new_wide)


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

    def feed(self, lines: Sequence[str]) -> list[str]:
        out = []
        first = len(lines) - self.keep
        for i, line in enumerate(lines):
            wanted = i >= first
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
