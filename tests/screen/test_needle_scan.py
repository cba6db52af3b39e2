"""The one-pass needle scan (Aho-Corasick) finds exactly the needles that one substring test
per needle finds, on any text: redaction picks its rules by them, so a needle missed would
leave a secret unmasked."""

from __future__ import annotations

import dataclasses

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from cobrowse.screen.redact import Redactor
from cobrowse.screen.redact_patterns import CompiledRules, Hint
from cobrowse.screen.secret_shapes import BUILTIN_RULES, Rule

RULES = CompiledRules(BUILTIN_RULES)
NEEDLES = [needle for needle, _rules in RULES._needles]

# Needles, their pieces and overlaps ("passwordpass", "-----begin" cut), other case, text
# whose lower case changes length (U+0130), astral characters, blanks and line feeds.
pieces = st.one_of(
    st.sampled_from(NEEDLES),
    st.sampled_from([n.upper() for n in NEEDLES]),
    st.sampled_from(NEEDLES).flatmap(lambda n: st.integers(0, len(n)).map(lambda k: n[:k])),
    st.sampled_from(NEEDLES).flatmap(lambda n: st.integers(0, len(n)).map(lambda k: n[k:])),
    st.text(alphabet=st.characters(min_codepoint=9, max_codepoint=0x1F600), max_size=10),
    st.sampled_from(["\n", " ", "İ", "ſ", "K", "\U0001f511", "café", "-----", "--"]),
)
texts = st.lists(pieces, max_size=40).map("".join)


def by_substring(rules: CompiledRules, screen: str) -> tuple[tuple[tuple[str, tuple[int, ...]], ...], tuple[int, ...]]:
    """What ``allowed`` gave before: each needle looked for on its own."""
    low = screen.lower()
    return (tuple(item for item in rules._needles if item[0] in low),
            tuple(i for i in rules._always if (maybe := rules.rules[i].maybe) is None or maybe(screen)))


@settings(max_examples=1500, deadline=None)
@given(texts)
def test_the_scan_finds_exactly_the_needles_held(text: str) -> None:
    low = text.lower()
    assert RULES.held(low) == {needle for needle in NEEDLES if needle in low}
    assert RULES.allowed(text) == by_substring(RULES, text)
    assert Hint(text).found(RULES) == by_substring(RULES, text)


@settings(max_examples=500, deadline=None)
@given(st.lists(texts, min_size=1, max_size=8), st.data())
def test_a_line_without_a_hint_gets_the_rules_its_needles_pick(lines: list[str], data: st.DataObject) -> None:
    """``candidates`` of a line alone (the playbook's output lines) and of a piece of a
    screen's line with the screen's hint: the same rules either way."""
    line = data.draw(st.sampled_from(lines))
    low = line.lower()
    expected = [i for i, rule in enumerate(BUILTIN_RULES)
                if (not rule.needles or any(n in low for n in rule.needles))
                and (rule.near is None or rule.near(line)) and (rule.maybe is None or rule.maybe(line))]
    assert [RULES.rules.index(rule) for rule, _p, _v in RULES.candidates(line)] == expected
    assert RULES.candidates(line, None, Hint("\n".join(lines))) == RULES.candidates(line)


def test_needles_inside_needles_and_overlaps_are_all_found() -> None:
    # "password for" holds "password", "passw", "pass"; "sk-" ends inside "xapp-"? no: "-u" and
    # "--user" overlap; a needle starting inside another ("akia" in "a3takia").
    assert RULES.held("password for joe:") >= {"password for", "password", "passw", "pass"}
    assert RULES.held("curl --user x") >= {"--user", "-u"}
    assert RULES.held("a3takiax") == {"a3t", "akia"}
    assert RULES.held("nothing here at all") == set()
    assert RULES.held("") == set()


def test_rules_without_needles() -> None:
    rules = CompiledRules([Rule("digits", r"\d{13}", maybe=lambda text: any(c.isdigit() for c in text))])
    assert rules.held("password 4111111111111") == set()
    assert rules.allowed("password 4111111111111") == ((), (0,))
    assert rules.allowed("no digits") == ((), ())
    empty = CompiledRules(())
    assert empty.allowed("password") == ((), ())
    assert empty.candidates("password") == []


CLI_PASSWORD = next(rule for rule in BUILTIN_RULES if rule.name == "cli_password")
options = st.lists(st.one_of(
    st.sampled_from(["--", "-", "--no-", "--db-", "password", "PassWord", "passwd", "pwd", "secret", "TOKEN", "token",
                     "=", " ", "\t", "'", '"', "x", "hunter2", "-p", "pass:", "—", "‐‐"]),
    st.text(alphabet="-=aZ9 _'\"", max_size=6)), max_size=14).map("".join)


def _without_maybe(name: str) -> Redactor:
    """A redactor whose rule ``name`` runs its pattern on every line holding its needles."""
    redactor = Redactor()
    redactor._rules = CompiledRules([dataclasses.replace(rule, maybe=None) if rule.name == name else rule
                                     for rule in BUILTIN_RULES])
    return redactor


@settings(max_examples=1500, deadline=None)
@given(options)
def test_cli_password_runs_only_on_lines_with_an_option_and_masks_the_same(text: str) -> None:
    if regex.search(CLI_PASSWORD.pattern, text):
        assert CLI_PASSWORD.maybe is not None and CLI_PASSWORD.maybe(text)
    assert Redactor().spans(text) == _without_maybe("cli_password").spans(text)


def test_cli_password_still_masks_options() -> None:
    for line in ("mytool --password hunter2", "x --db-token=abc123 y", "run --secret 'a b'"):
        assert Redactor().spans(line), line
    assert Redactor().spans("refresh token handler took=3ms") == ()
