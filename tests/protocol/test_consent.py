"""Consent: view by default, grants only in time, revocation at once."""

from __future__ import annotations

import pytest

from cobrowse.protocol.consent import PROMPT_TIMEOUT, ConsentMachine, Prompt


def test_default_is_view_only() -> None:
    c = ConsentMachine()
    assert c.level == "view"
    assert c.prompt is None
    assert not c.allows_keys()
    assert c.allows_suggestions()


def test_request_gives_a_prompt_with_a_deadline() -> None:
    c = ConsentMachine()
    prompt = c.request("control", now=100.0)
    assert prompt == Prompt("control", 100.0 + PROMPT_TIMEOUT)
    assert c.prompt == prompt
    assert c.level == "view"  # asking changes nothing
    assert not c.allows_keys()


@pytest.mark.parametrize("at", [100.0, 105.0, 110.0])
def test_grant_in_time_raises_the_level(at: float) -> None:
    c = ConsentMachine(prompt_timeout=10.0)
    c.request("control", now=100.0)
    assert c.answer(True, now=at) is True
    assert c.level == "control"
    assert c.allows_keys()
    assert c.prompt is None


def test_answer_after_deadline_does_not_grant() -> None:
    c = ConsentMachine(prompt_timeout=10.0)
    c.request("control", now=100.0)
    assert c.answer(True, now=110.001) is False
    assert c.level == "view"
    assert c.prompt is None
    assert not c.allows_keys()


def test_deny_keeps_the_level() -> None:
    c = ConsentMachine()
    c.request("suggest", now=0.0)
    assert c.answer(False, now=1.0) is False
    assert c.level == "view"
    assert c.prompt is None


def test_answer_without_prompt_changes_nothing() -> None:
    c = ConsentMachine()
    assert c.answer(True, now=0.0) is False
    assert c.level == "view"
    c.request("control", 0.0)
    c.answer(True, 1.0)
    assert c.answer(True, 2.0) is False  # the prompt was used up


def test_expire_denies_an_unanswered_prompt() -> None:
    c = ConsentMachine(prompt_timeout=10.0)
    c.request("control", now=0.0)
    assert c.expire(now=5.0) is False
    assert c.prompt is not None
    assert c.expire(now=10.0) is False
    assert c.expire(now=10.5) is True
    assert c.prompt is None
    assert c.level == "view"
    assert c.answer(True, now=10.6) is False  # a late "yes" after expiry grants nothing
    assert c.level == "view"
    assert c.expire(now=11.0) is False


def test_revoke_at_once() -> None:
    c = ConsentMachine()
    c.request("control", 0.0)
    c.answer(True, 1.0)
    assert c.revoke() is True
    assert c.level == "view"
    assert not c.allows_keys()
    assert c.revoke() is False


def test_revoke_also_drops_a_pending_prompt() -> None:
    c = ConsentMachine()
    c.request("suggest", 0.0)
    assert c.revoke() is True
    assert c.prompt is None
    assert c.answer(True, 1.0) is False
    assert c.level == "view"


def test_request_at_or_below_current_level_gives_no_prompt() -> None:
    c = ConsentMachine()
    assert c.request("view", 0.0) is None
    assert c.prompt is None
    c.grant("suggest")
    assert c.request("view", 0.0) is None
    assert c.request("suggest", 0.0) is None
    assert c.prompt is None
    assert c.request("control", 0.0) is not None
    c.answer(True, 1.0)
    for level in ("view", "suggest", "control"):
        assert c.request(level, 2.0) is None
    assert c.level == "control"


def test_grant_on_own_initiative() -> None:
    c = ConsentMachine()
    assert c.grant("control") is True
    assert c.allows_keys()
    assert c.grant("control") is False
    assert c.grant("suggest") is True
    assert c.level == "suggest"
    assert not c.allows_keys()


def test_unknown_levels_raise() -> None:
    c = ConsentMachine()
    with pytest.raises(ValueError):
        c.request("root", 0.0)
    with pytest.raises(ValueError):
        c.grant("admin")
    with pytest.raises(ValueError):
        c.grant("")
    assert c.level == "view"
    assert c.prompt is None
