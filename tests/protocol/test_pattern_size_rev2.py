"""Patterns from the other side are judged by what they compile to before ``regex`` compiles
them (rev2): a counted repetition is unrolled at compile time, so ``a{4294967294}`` (13
characters) took gigabytes and ``(?:a{1000}){1000}`` 277 MB and 0.4 s."""

from __future__ import annotations

import resource

import pytest
from hypothesis import given, settings, strategies as st

from cobrowse.playbook import PlaybookError, playbook_from_dict
from cobrowse.playbook.model import MAX_PATTERN_UNITS, check_pattern
from cobrowse.protocol.pattern_size import MAX_UNITS, too_large, units

HUGE = ["a{4294967294}", "(?:a{1000}){1000}", "(?:(?:(?:a{30}){30}){30})", "a{1001}", r"\p{L}{1001}", "a{10000}",
        r"(?P<x>a)(?(x)b{99999}|c)", "(?=a{20000})", "[ab]{1000,}x{11}", "(a|bb|ccc){900}"]
EVERYDAY = ["error: .*", r"(\d+\.){3}\d+", r"^\$ $", "[a-z]{3,}", r"\p{L}{20}", "(?:foo){e<=1}", "x{,5}",
            r"Permission denied \(publickey\)", r"\b[0-9a-f]{40}\b", "a" * 500, "a{1000}", r"(?:\d{1,3}\.){3}\d{1,3}"]


@pytest.mark.parametrize("pattern", HUGE)
def test_a_pattern_that_would_compile_huge_is_refused_before_it_is_compiled(pattern: str) -> None:
    assert units(pattern) > MAX_UNITS and too_large(pattern)
    assert "too large" in str(check_pattern(pattern))


@pytest.mark.parametrize("pattern", EVERYDAY)
def test_everyday_patterns_pass(pattern: str) -> None:
    assert units(pattern) <= MAX_UNITS and too_large(pattern) is None and check_pattern(pattern) is None


def test_a_pushed_playbook_with_a_huge_pattern_is_refused_and_compiles_nothing() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    steps = [{"title": f"step {i}", "expect": f"(?:a{{1000}}){{{1000 + i}}}"} for i in range(3)]
    with pytest.raises(PlaybookError, match="too large"):
        playbook_from_dict({"title": "pwned", "steps": steps})
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024  # KiB: it was 277 MB a pattern


def test_many_patterns_each_under_the_limit_are_bounded_in_all() -> None:
    n = MAX_PATTERN_UNITS // (2 * MAX_UNITS) + 1
    steps = [{"title": f"step {i}", "expect": f"a{{{MAX_UNITS}}}", "fail": f"b{{{MAX_UNITS}}}"} for i in range(n)]
    with pytest.raises(PlaybookError, match=f"the limit is {MAX_PATTERN_UNITS}"):
        playbook_from_dict({"title": "many", "steps": steps})
    assert playbook_from_dict({"title": "a few", "steps": steps[:n // 2]}).steps


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab(){}|*+?,0123456789\\[]^$.:", max_size=40))
def test_units_never_raises_and_is_positive(pattern: str) -> None:
    assert units(pattern) >= 1
