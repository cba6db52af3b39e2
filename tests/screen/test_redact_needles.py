"""The flat needle index picks exactly the rules the per-rule needle test picked, and the
blob prefilter never skips a line the blob pattern matches (redaction must find what it
found before the speed-up)."""

from __future__ import annotations

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from cobrowse.screen.key_blocks import BLOB
from cobrowse.screen.redact import Redactor
from cobrowse.screen.redact_patterns import CompiledRules, Hint
from cobrowse.screen.secret_shapes import BUILTIN_RULES, label_near
from cobrowse.screen.state import Row, Style

NEEDLES = sorted({n for rule in BUILTIN_RULES for n in rule.needles})
RULES = CompiledRules(BUILTIN_RULES)

pieces = st.one_of(st.sampled_from(NEEDLES), st.sampled_from([n.upper() for n in NEEDLES]),
                   st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2100), max_size=12))
lines = st.lists(pieces, max_size=10).map("".join)


def per_rule(line: str) -> list[str]:
    low = line.lower()
    return [r.name for r in BUILTIN_RULES
            if (not r.needles or any(n in low for n in r.needles)) and (r.near is None or r.near(line))
            and (r.maybe is None or r.maybe(line))]


@settings(max_examples=400, deadline=None)
@given(lines)
def test_candidates_are_the_rules_whose_needles_the_line_holds(line: str) -> None:
    assert [rule.name for rule, _p, _v in RULES.candidates(line)] == per_rule(line)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=" \t\u00a0\u3000", max_size=3), st.text(alphabet="AbC9z+/xY0", min_size=30, max_size=60),
       st.text(alphabet="= ", max_size=3))
def test_blob_prefilter_keeps_every_blob(before: str, body: str, after: str) -> None:
    line = before + body + after
    masked = Redactor().spans(line)
    if BLOB.match(line):
        stripped = line.strip()
        start = line.index(stripped)
        assert any(s <= start and e >= start + len(stripped) for s, e in masked)


def test_a_realistic_line_runs_few_rules() -> None:
    line = "L12q 2024-05-09T07:33:20.016Z INFO  [api.http] pid=89023 req=157cb16e2d5c flush handler took=24.61ms"
    names = [rule.name for rule, _p, _v in RULES.candidates(line)]
    assert names == per_rule(line)
    assert len(names) < 5


LABELLED = [regex.compile(rule.pattern) for rule in BUILTIN_RULES if rule.near is label_near]
KEYWORDS = ["password", "PASSWORD", "Passphrase", "passwd", "pass", "pwd", "PWD", "secret", "token", "TOKEN",
            "credentials", "api_key", "API KEY", "apikey", "access key", "private_key", "client-secret", "dbPassword",
            "DB_PASS", "X_PWD", "PGPASSWORD", "SSH_KEY", "paſſword", "KEY", "İkey"]
SEPARATORS = ["=", ": ", " = ", ":=", "=>", "'=", '" :', " [None] : ", " [İİİİİİİİİİİİİİİİİİİİİİİİİİİİİİİİİİİİİİİİ]: ", "\t=\t", " ", "\u2003=", ""]
label_lines = st.lists(st.one_of(st.sampled_from(KEYWORDS), st.sampled_from(SEPARATORS),
                                 st.text(alphabet="aZ9_-$'\" {}<>/.:=İſ", max_size=8)), max_size=8).map("".join)


@settings(max_examples=1500, deadline=None)
@given(label_lines)
def test_label_prefilter_keeps_every_labelled_secret(line: str) -> None:
    if any(p.search(line) for p in LABELLED):
        assert label_near(line)


def test_label_prefilter_skips_prose_and_keeps_labels() -> None:
    assert not label_near("l356q info [cache.redis] refresh token handler miss handler token cache took=103.93ms")
    for line in ("password: hunter2", "export DB_PASS=x", 'api_key = "abc"', "token [none] : abc", "dbPassword:x"):
        assert label_near(line), line


digits = st.text(alphabet="0123456789 -", min_size=4, max_size=24)
screen_lines = st.lists(st.one_of(pieces, digits), max_size=8).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(screen_lines, min_size=1, max_size=6), st.data())
def test_a_screen_hint_keeps_every_candidate_of_its_lines_and_their_pieces(texts: list[str], data: st.DataObject) -> None:
    """The screen's :class:`Hint` (found once a frame) picks, for any line of the screen and
    any piece of one (a wrapped line's rows), exactly the rules found without it."""
    hint = Hint("\n".join(texts))
    line = data.draw(st.sampled_from(texts))
    start = data.draw(st.integers(0, len(line)))
    end = data.draw(st.integers(start, len(line)))
    for text in (line, line[start:end]):
        assert RULES.candidates(text, None, hint) == RULES.candidates(text)


def test_a_screen_hint_keeps_a_card_split_across_the_screen_text() -> None:
    card = "4111 1111 1111 1111"
    hint = Hint("\n".join(["nothing here", f"paid with {card} today", "token: x"]))
    names = {rule.name for rule, _p, _v in RULES.candidates(f"paid with {card} today", None, hint)}
    assert names == {rule.name for rule, _p, _v in RULES.candidates(f"paid with {card} today")}
    assert names
    assert RULES.candidates("nothing here", None, Hint("nothing here\nat all")) == RULES.candidates("nothing here")


class _EveryPiece(Redactor):
    """The redactor as before: every piece of a wrapped line matched on its own."""

    def _pieces_clear(self, text: str, hint: Hint | None) -> bool:
        return False


blob = st.text(alphabet="AbC9z+/xY0", min_size=30, max_size=90)
fragments = st.one_of(pieces, digits, blob, st.sampled_from(["password: ", "token=", " ", "  ", "ghp_"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(fragments, max_size=8).map("".join), min_size=1, max_size=12),
       st.integers(8, 30))
def test_wrapped_rows_not_matched_alone_mask_the_same(lines: list[str], cols: int) -> None:
    """Rows of a wrapped line whose pieces nothing can match are not matched on their own;
    the masks are those of matching every piece."""
    rows = []
    for line in lines:
        for start in range(0, max(len(line), 1), cols):
            rows.append(Row.from_runs([(line[start:start + cols].ljust(cols), Style())]))
    assert Redactor().redact_rows(rows) == _EveryPiece().redact_rows(rows)


def test_a_blob_in_the_rows_of_a_longer_line_is_still_masked() -> None:
    key = "AbC9z+/xY0" * 6
    rows = [Row.from_runs([(text, Style())]) for text in ("see the value ", *(key[i:i + 20] for i in range(0, 60, 20)))]
    rows[0] = Row.from_runs([("see the value here: ", Style())])
    masked = Redactor().redact_rows(rows)
    assert masked == _EveryPiece().redact_rows(rows)
    assert all(key[i:i + 20] not in row.text for i, row in zip(range(0, 60, 20), masked[1:]))
