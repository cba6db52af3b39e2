"""The shapes of secrets the customer's cobrowse masks on its own (the built-in patterns).

Three kinds of knowledge, used by :class:`cobrowse.screen.redact.Redactor`:

* :data:`BUILTIN_RULES`: what a *whole* secret looks like on one line (a full token, the
  value after a label, a card number that passes the Luhn check). Strict on purpose: they
  run on every line of output, so they must not mask ordinary text.
* :func:`typing_spans`: what a secret *being typed* looks like. The word at the cursor is
  still growing, so the strict shapes would match only once it is complete and every
  frame before would show most of it; at the cursor a known token prefix (``ghp_``,
  ``AKIA``, ``eyJ``...), a URL's password before its ``@``, a value after ``Bearer`` or a
  run of digits as long as a card's first seven is enough to mask the whole word at once.
* :func:`is_password_prompt`: a line that asks for a password (``Password:``,
  ``[sudo] password for joe:``, ``Enter passphrase:``); the screen logic masks the line
  below it, where a program that echoes shows the answer.

Pure and linear: every pattern here is matched in time proportional to the line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .lazy_re import LazyPattern

__all__ = ["BUILTIN_RULES", "PEM_BEGIN", "PEM_END", "Rule", "could_be_token", "is_password_prompt", "luhn_ok",
           "starts_like_token", "typing_spans"]

Span = tuple[int, int]


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


_IDS = LazyPattern(r"\d+:\d+")


def _not_ids(text: str) -> bool:
    """``-u 1000:1000`` (docker, a uid:gid) is not ``-u user:password`` (curl)."""
    import regex  # on first use: the join's first screen compiles none (~7 ms of imports)

    arg = regex.split(r"[\s=]", text.strip())[-1].strip("'\"")
    return _IDS.fullmatch(arg) is None


def _has_option(text: str) -> bool:
    """Whether ``text`` holds a long option's ``--``, which every match of ``cli_password``
    starts with: a log line that only says "token" runs no match (each ~3 µs, and two reads
    of the process's CPU clock for its timeout: system calls)."""
    return "--" in text


# Digits as "d", blanks and dashes as "-", the rest as "x": card shapes become substrings.
_CARD_SHAPE = bytes(ord("d") if 48 <= c <= 57 else ord("-") if c in (32, 45) else ord("x") for c in range(256))


def _card_maybe(text: str) -> bool:
    """Whether ``text`` holds 13 digits together or 4-4-4 / 4-6 groups: what every card
    shape starts with (1 us where the pattern takes ~17 us on a line of output)."""
    if not text.isascii():
        return True  # other digits (\d is Unicode): let the pattern decide
    shape = text.encode("ascii").translate(_CARD_SHAPE)
    return b"ddddddddddddd" in shape or b"dddd-dddd-dddd" in shape or b"dddd-dddddd" in shape


@dataclass(frozen=True)
class Rule:
    """A built-in pattern. ``pattern`` may hold groups named ``v``: only they are masked.
    ``check`` (optional) must accept the matched text (e.g. the Luhn check). ``needles``
    (lower case): the pattern cannot match a line that holds none of them, so it is not
    run there (a substring test costs a fraction of starting a match)."""

    name: str
    pattern: str
    check: Callable[[str], bool] | None = None
    needles: tuple[str, ...] = ()
    #: A cheap necessary condition on the line (None: always try), for rules without needles.
    #: It must hold on any text that contains a text it holds on (it is also asked once of a
    #: whole screen's lines joined by line feeds: see redact_patterns.Hint).
    maybe: Callable[[str], bool] | None = None
    #: A cheap necessary condition on the line that several rules share (checked once a line
    #: for all of them, after their needles).
    near: Callable[[str], bool] | None = None


def _word(words: str, before: str) -> str:
    """``words`` where ``before`` holds just before them. Written as a lookbehind *after* the
    words, so that the engine scans for the words (fast) instead of trying ``before`` at
    every position (ten times slower on a screen of output)."""
    return f"(?:{words})(?<={before}(?:{words}))"


_NOT_ALNUM = r"(?:^|(?<![A-Za-z0-9]))"  # a word starts here; "_" may come before (DB_PASS)
_KEYWORDS = (r"(?i:password|passphrase|secret|token|credentials?|api[_ -]?key|apikey|(?:access|secret)[ ]key"
             r"|(?:access|secret|private|auth|signing|encryption|master)[_-]?key|client[_-]?secret)")

# The label's last word only (DB_PASSWORD matches at PASSWORD): a leading [\w.-]* would
# cost ten times more per line. Each is a rule of its own: an alternation of them would
# be tried at every position (the engine scans fast for one set of words only).
_LABEL_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # ... or at a camelCase hump: dbPassword
    (_word(_KEYWORDS, r"(?:^|(?<![A-Za-z0-9])|(?<=[a-z])(?=[A-Z]))"), ("pass", "secret", "token", "credential", "key")),
    (_word(r"(?i:pass|pwd|passwd)", "_"), ("_pass", "_pwd")),  # DB_PASS=, export X_PWD=, db_passwd:
    (_word(r"(?i:passwd|pass)", _NOT_ALNUM) + r"(?=\s*=)", ("pass",)),  # passwd=x (not "passwd: files", nsswitch.conf)
    (_word(r"(?i:pwd)", _NOT_ALNUM) + r"(?=[\"']?\s*[:=]\s*[\"']?[^/~\s\"'])", ("pwd",)),  # Pwd=x, not PWD=/home/joe
    (_word(r"PASSWORD|PASSWD|SECRET|TOKEN", "[A-Z0-9]") + "(?==)", ("passw", "secret", "token")),  # PGPASSWORD=
    (_word("KEY", _NOT_ALNUM), ("key",)),  # API_KEY=, SSH_KEY= (env style, upper case only: sort_key= is not one)
)
_LABEL_WORD = "(?:" + "|".join(word for word, _ in _LABEL_WORDS) + ")"
_SEP = r"[\"']?\s*(?:\[[^\]]{0,40}\]\s*)?(?::=|=>|[:=])\s*"  # [None]: aws configure's default

# What a label's keyword ends with (each keyword is one of these and at most six letters:
# "password", "credentials", "api_key"), and what may follow it before _SEP's ":" or "=",
# matched on the case-folded line (what (?i) compares: "paſſword" is "password"): looser
# than _SEP (case folding makes a character up to 3; re's \s holds more than regex's).
_LABEL_ENDS = ("pass", "pwd", "secret", "token", "credential", "key")
_LABEL_TAIL = re.compile(r"\w{0,18}[\"']?\s*(?:\[[^\]]{0,120}\]\s*)?[:=]")


def label_near(text: str) -> bool:
    """Whether the line has a label's keyword followed by its separator: a line of output
    that only says "token" (most do, in prose) skips the label rules (~7 µs each, 90 on a
    line with three)."""
    low = text.casefold()
    tail = _LABEL_TAIL.match
    for key in _LABEL_ENDS:
        i = low.find(key)
        while i >= 0:
            if tail(low, i + len(key)) is not None:
                return True
            i = low.find(key, i + 1)
    return False



def _value(first: str = "") -> str:
    """A value: quoted (to the closing quote, or the end of the line while it is typed),
    else up to a blank or a delimiter. ``first``: a lookahead its first character must pass."""
    return (r"(?:\"(?P<v>[^\"]*)(?:\"|$)|'(?P<v>[^']*)(?:'|$)|(?P<v>" + first + r"[^\s\"',;]+))")


# What follows a label without being a secret: a placeholder or a variable (${DB_PASS},
# {token}, <password>), a type annotation (password: str = ...), a key's BEGIN marker
# (the private_key rule masks the key).
_NOT_A_VALUE = (r"(?![${<]|-----|(?:str|bytes|int|bool|string|String|SecretStr|Optional\[str\]|None|null)"
                r"\s*(?:[=,)\]]|->))")
# Code: "password = getpass(...)", "token = secrets.token_urlsafe(32)" (after " = " only: a
# shell assignment has no blanks around its "=").
_CODE_VALUE = r"(?<!\s=\s+)|(?![A-Za-z_][\w.]*\()"

PEM_BEGIN = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
PEM_END = r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"

# Prefixes that only ever start a secret: with 10 more token characters they are masked
# anywhere ("ghp_short" in prose stays readable), and at the cursor at once.
_STRONG_PREFIX = (r"gh[pousr]_|github_pat_|glpat-|glptt-|gldt-|glrt-|xox[abposr]-|xapp-"
                  r"|(?:sk|rk)_(?:live|test)_|whsec_|sk-ant-|sk-proj-")
_AWS_PREFIX = r"(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|A3T[A-Z0-9])"
# A token starts after a URL escape too (``?token%3Dghp_...``, ``Bearer%20eyJ...``): the
# escape's last hex digit leaves no word boundary before it.
_ESCAPED = r"(?<=%[0-9A-Fa-f]{2})"
_START = r"(?:\b|" + _ESCAPED + ")"
# A token glued to the word before it (``0ghp_...``, ``\nghp_...`` in a JSON string): only
# the prefixes no word ends with, or a body no identifier has (20+ letters and digits, a
# digit among them: ``benchmark_test_results`` and ``task_live_updates`` stay readable).
# One pattern with the token after a boundary: the prefix is found first, then what lies
# before it is looked at (two rules cost a line half as much again).
_TOKEN_PREFIX = ("(?:" + _STRONG_PREFIX + ")(?:(?<=(?:^|[^A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:" + _STRONG_PREFIX + "))"
                 r"[A-Za-z0-9_-]{10,}|(?<=github_pat_)[A-Za-z0-9_]{22,}|(?<=gl(?:pat|ptt|dt|rt)-)[A-Za-z0-9_-]{20,}"
                 r"|(?<=xox[abposr]-)\d{6,}-[A-Za-z0-9-]{10,}|(?=[A-Za-z]*[0-9])[A-Za-z0-9]{20,})")

BUILTIN_RULES: tuple[Rule, ...] = (
    Rule("private_key", PEM_BEGIN + r"(?P<v>(?:(?!-----END ).)+)", needles=("-----begin",)),
    Rule("aws_access_key_id", _START + _AWS_PREFIX + r"[A-Z0-9]{16}\b",
         needles=("akia", "asia", "agpa", "aida", "aroa", "aipa", "anpa", "anva", "a3t")),
    Rule("token_prefix", _TOKEN_PREFIX,
         needles=("gh", "github_pat_", "glp", "gld", "glr", "xox", "xapp-", "_live_", "_test_", "whsec_", "sk-")),
    Rule("slack_webhook", r"hooks\.slack\.com/services/(?P<v>[A-Za-z0-9/_-]{8,})", needles=("hooks.slack.com",)),
    Rule("stripe_key", _START + r"pk_(?:live|test)_[A-Za-z0-9]{16,}", needles=("pk_",)),
    Rule("google_api_key", _START + r"AIza[0-9A-Za-z_-]{35}", needles=("aiza",)),
    Rule("google_oauth_token", _START + r"ya29\.[0-9A-Za-z_-]{20,}", needles=("ya29.",)),
    Rule("openai_key", _START + r"sk-[A-Za-z0-9_-]{20,}", needles=("sk-",)),
    Rule("npm_token", _START + r"npm_[A-Za-z0-9]{36}", needles=("npm_",)),
    Rule("pypi_token", _START + r"pypi-AgE[A-Za-z0-9_-]{20,}", needles=("pypi-",)),
    Rule("huggingface_token", _START + r"hf_[A-Za-z]{34}\b", needles=("hf_",)),
    Rule("jwt", _START + r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}", needles=("eyj",)),
    # base64 of a JSON object ('{"'): credentials files, .dockerconfigjson, tokens' bodies
    Rule("base64_json", _START + r"eyJ[A-Za-z0-9+/_-]{30,}={0,2}", needles=("eyj",)),
    Rule("cookie", r"(?i:\b(?:set-)?cookie:)\s*(?P<v>\S.*)", needles=("cookie:",)),
    Rule("netrc", r"\bmachine\s+\S+(?:\s+login\s+\S+)?\s+password\s+(?P<v>\S+)|^\s*password\s+(?P<v>\S+)\s*$",
         needles=("password",)),
    Rule("bearer_token", r"(?i:\b(?:bearer|basic)\s+)(?P<v>[A-Za-z0-9._~+/-]{8,}=*)", needles=("bearer", "basic")),
    Rule("url_password", r"://[^\s:/@]*:(?P<v>[^\s/@]+)@", needles=("://",)),
    *(Rule("labelled_secret", word + _SEP + _value(_NOT_A_VALUE + r"(?:" + _CODE_VALUE + ")"), needles=needles,
           near=label_near)
      for word, needles in _LABEL_WORDS),
    Rule("password_for", r"(?i:\bpassword for [^\s:]{1,64}:)[ \t]*(?P<v>\S+)", needles=("password for",)),
    # curl -u user:pw, --user=user:pw (not docker's -u 1000:1000, not rsync -u host:/dir)
    Rule("cli_user_password", r"(?<!\S)(?:-u|--user|--auth)(?:\s+|=)?['\"]?[^\s:'\"]*:(?P<v>(?![/~])[^\s'\"]+)",
         _not_ids, needles=("-u", "--user", "--auth")),
    # --password x, --db-password=x, --token x (not --password-stdin, not --no-password)
    Rule("cli_password", r"(?<!\S)--(?!no-)(?:[A-Za-z0-9]+-)*(?i:password|passwd|passphrase|pass|pwd|secret|token)"
                         r"(?:=|\s+)" + _value(r"(?!-)"), needles=("pass", "pwd", "secret", "token"), maybe=_has_option),
    Rule("cli_quoted_password", r"(?<!\S)-p(?:\"(?P<v>[^\"]*)(?:\"|$)|'(?P<v>[^']*)(?:'|$))",  # mysql -p'pw'
         needles=("-p'", '-p"')),
    Rule("mysql_password", r"\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)\b[^\n]{0,200}?\s-p(?P<v>[^\s'\"]+)",
         needles=("mysql", "mariadb")),
    Rule("sshpass", r"\bsshpass\s+-p\s*" + _value(), needles=("sshpass",)),
    Rule("openssl_pass", r"(?<!\S)-pass(?:in|out)?\s+pass:(?P<v>\S+)", needles=("pass:",)),
    # 13-19 digits together, or grouped as cards print them (4-4-4-4[-3], Amex 4-6-5).
    Rule("card_number", r"(?<![\d-])(?:\d{13,19}|\d{4}[ -]\d{4}[ -]\d{4}[ -]\d{4}(?:[ -]?\d{3})?"
                        r"|\d{4}[ -]\d{6}[ -]\d{5})(?![\d-])", _card_ok, maybe=_card_maybe),
)

# -- typing ---------------------------------------------------------------------------

# Glued to the word before it (``0ghp_``): the prefixes no word ends with, and after a digit
# or a JSON string's escape (``\\n``) those some do (``highs_``, ``task_live_``); a typed
# token showed up to its 20th character otherwise, until the whole glued shape matched.
_GLUED_TYPING = (r"gh[pour]_|github_pat_|gl(?:pat|ptt|dt|rt)-|xox[abposr]-|xapp-|whsec_"
                 r"|(?:(?<=[0-9])|(?<=\\[nrt]))(?:ghs_|(?:sk|rk)_(?:live|test)_|sk-ant-|sk-proj-)")
_TYPING_PREFIX = LazyPattern(r"(?:(?:(?<![A-Za-z0-9_])|" + _ESCAPED + r")(?:" + _STRONG_PREFIX + "|" + _AWS_PREFIX +
                               r"|AIza|ya29\.|sk-|npm_|pypi-|hf_|eyJ)|" + _GLUED_TYPING + ")")
_PREFIX_NEEDLES = ("gh", "github_pat_", "gl", "xox", "xapp-", "sk_", "rk_", "whsec_", "sk-", "akia", "asia", "agpa",
                   "aida", "aroa", "aipa", "anpa", "anva", "a3t", "aiza", "ya29.", "npm_", "pypi-", "hf_", "eyj")
# The whole shapes of the tokens whose prefixes the cursor knows, for partial matching: a
# word that can no longer become one of them ("npm_config_cache") is not a token.
_TOKEN_SHAPES = LazyPattern("|".join(f"(?:{p})" for p in (
    _AWS_PREFIX + r"[A-Z0-9]{16}", r"(?:" + _STRONG_PREFIX + r")[A-Za-z0-9_-]{10,}", r"AIza[0-9A-Za-z_-]{35}",
    r"ya29\.[0-9A-Za-z_-]{20,}", r"sk-[A-Za-z0-9_-]{20,}", r"npm_[A-Za-z0-9]{36}", r"pypi-AgE[A-Za-z0-9_-]{20,}",
    r"hf_[A-Za-z]{34}", r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}", r"eyJ[A-Za-z0-9+/_-]{30,}={0,2}",
)))
_TYPING_URL = LazyPattern(r"://[^\s:/@]*:(?=[^/@]*\Z)")
_TYPING_AFTER = LazyPattern(r"(?i:\b(?:bearer|basic))\s+\Z")
_TYPING_LABEL = LazyPattern(_LABEL_WORD + _SEP + r"[\"']?")
_LABEL_NEEDLES = frozenset(needle for _, needles in _LABEL_WORDS for needle in needles)
_DIGIT_RUN = LazyPattern(r"\d(?:[ -]?\d)*")
_TRAILING = "\"'`,;)]}>"
#: Digits a number being typed may show before it is masked: a card's issuer (6 digits).
CARD_DIGITS_SHOWN = 6


def typing_spans(text: str, offset: int) -> list[Span]:
    """What to mask of the word at text offset ``offset`` (the cursor) of a line: the
    word is still being typed (or printed), so a secret's start is enough.

    The word is the run of non-blanks the cursor touches, on either side. Masked: from a
    known token prefix to the end of the word; a URL's password before the ``@`` is typed
    (also a port: ``http://host:80`` until its ``/``); the word after ``Bearer``/``Basic``;
    a label's value, whatever it looks like so far (``password = get`` may become anything);
    a run of digits (with single spaces or dashes) of more than :data:`CARD_DIGITS_SHOWN`
    digits, wholly."""
    n = len(text)
    if not 0 <= offset <= n:
        return []
    spans: list[Span] = []
    ws = max(text.rfind(" ", 0, offset), text.rfind("\t", 0, offset)) + 1
    we = min(x for x in (text.find(" ", offset), text.find("\t", offset), n) if x >= 0)
    if ws < we:
        word_end = we
        while word_end > ws and text[word_end - 1] in _TRAILING:
            word_end -= 1
        word = text[ws:word_end].lower()
        if any(needle in word for needle in _PREFIX_NEEDLES):
            m = _TYPING_PREFIX.search(text, ws, word_end)
            if m is not None:
                spans.append((m.start(), word_end))
        if "://" in word:
            m = _TYPING_URL.search(text, ws, word_end)
            if m is not None:
                spans.append((m.end(), word_end))
        if _TYPING_AFTER.search(text, max(0, ws - 16), ws) is not None:
            spans.append((ws, word_end))
        lo = max(0, ws - 48, word_end - 256)  # bounded: this runs at every poll
        window = text[lo:word_end].lower()
        if any(needle in window for needle in _LABEL_NEEDLES):
            for m in _TYPING_LABEL.finditer(text, lo, word_end):
                if m.end() >= ws:  # a label's value, whatever it looks like while typed
                    spans.append((m.end(), word_end))
    # Digits: the runs in the word at the cursor, or just before it ("4111 1111 |": the
    # separator just typed; "4111 111x": a wrong key after them).
    zone = ws if ws < we else offset
    if zone >= 2 and text[zone - 1] in " -" and text[zone - 2].isdigit():
        zone -= 1
    end = max(we, offset)
    if any(ch.isdigit() for ch in text[max(0, zone - 1):end]):
        for m in _DIGIT_RUN.finditer(text, max(0, zone - 40), min(n, end + 40)):
            if m.start() <= end and m.end() >= zone and sum(ch.isdigit() for ch in m.group()) > CARD_DIGITS_SHOWN:
                after = text[m.end()] if m.end() < n else ""
                # the separator just typed, or a dash a wrong key follows ("4111-1111-#")
                stop = m.end() + 1 if (after == "-" or (after == " " and m.end() + 1 == offset)) else m.end()
                spans.append((m.start(), stop))
    return spans


def starts_like_token(word: str) -> bool:
    """Whether ``word`` starts with a token prefix :func:`typing_spans` knows."""
    return _TYPING_PREFIX.match(word) is not None


def could_be_token(word: str) -> bool:
    """Whether ``word`` is a token of a known shape, or the start of one."""
    return _TOKEN_SHAPES.fullmatch(word, partial=True) is not None


# -- password prompts -----------------------------------------------------------------

_PROMPT = LazyPattern(r"\b(?i:password|passphrase|pass phrase|passwd|passcode)(?:\s+for\s+.{1,80}?)?"
                        r"(?:\s*\([^)]{0,64}\))?(?i:\s+again)?\s*:\s*\Z|\bPIN\s*:\s*\Z")


def is_password_prompt(line: str) -> bool:
    """Whether ``line`` ends asking for a password (``Password:``, ``[sudo] password for
    joe:``, ``Enter passphrase (empty for no passphrase):``, ``Enter PIN:``): the next line
    may show the answer (a program that echoes it, a password typed at the wrong time)."""
    stripped = line.rstrip()
    if not stripped.endswith(":"):
        return False
    return _PROMPT.search(stripped, max(0, len(stripped) - 160)) is not None
