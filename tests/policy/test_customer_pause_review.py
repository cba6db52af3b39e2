"""Pause, then resume: what changed on the screen while sharing was paused is shown to the
customer first, who shares it, clears the screen, or stays paused (issue 13). Synchronous."""

from __future__ import annotations

from cobrowse.policy.customer_events import (ClearScreen, ResumeReview, ResyncScreen, ScreenCleared,
                                             SharingChanged)
from cobrowse.protocol import messages as m
from tests.policy.customer_harness import Drive


def paused_then_typed(*lines: str) -> Drive:
    d = Drive()
    d.screen.rows = ["$ ls", "a b", "$ "]
    out = d.command("pause")
    assert SharingChanged(False) in out and m.Sharing(False) in d.sent_in(out)
    d.screen.rows = list(lines)
    return d


def test_nothing_changed_resumes_at_once() -> None:
    d = paused_then_typed("$ ls", "a b", "$ ")
    out = d.command("pause")
    assert ResyncScreen() in out and SharingChanged(True) in out and m.Sharing(True) in d.sent_in(out)
    assert not d.events_in(out, "resume_review")


def test_what_was_typed_while_paused_is_shown_before_anything_is_sent() -> None:
    d = paused_then_typed("$ ls", "a b", "$ mysql -p hunter2", "")
    out = d.command("pause")
    (review,) = d.events_in(out, "resume_review")
    assert review["lines"] == ["$ mysql -p hunter2"]
    assert "1 line(s) changed while paused" in review["message"] and "c: clear" in review["hint"]
    assert not d.sent_in(out) and d.policy.sharing is False and d.policy.reviewing


def test_s_shares_the_screen_as_it_is() -> None:
    d = paused_then_typed("$ secret")
    d.command("pause")
    out = d.keys(b"s")
    assert not any(isinstance(e, ClearScreen) for e in out)
    assert ResyncScreen() in out and m.Sharing(True) in d.sent_in(out) and d.policy.sharing


def test_c_clears_the_screen_then_shares() -> None:
    d = paused_then_typed("$ secret")
    d.command("pause")
    out = d.keys(b"c")
    assert out.index(ClearScreen()) < out.index(ResyncScreen())  # the agent's first frame is the cleared screen
    assert ScreenCleared() in out and d.events_in(out, "screen_cleared")[0]["clear"].startswith("\x1b[H")
    assert m.Sharing(True) in d.sent_in(out)


def test_any_other_key_or_ctrl_bracket_p_stays_paused_and_keys_do_not_reach_the_program() -> None:
    for answer in (b"n", b"\x1b", b"x"):
        d = paused_then_typed("$ secret")
        d.command("pause")
        out = d.keys(answer)
        assert not d.sent_in(out) and not d.policy.sharing and not d.policy.reviewing
        assert "stays paused" in d.events_in(out, "notice")[0]["message"]
        assert not any(type(e).__name__ == "WriteProgram" for e in out)
    d = paused_then_typed("$ secret")
    d.command("pause")
    out = d.command("pause")  # Ctrl-] p again while asked
    assert not d.sent_in(out) and not d.policy.sharing
    out = d.command("pause")  # asked again: still changed since the pause
    assert isinstance(out[0], ResumeReview)


def test_the_apps_answer_with_commands() -> None:
    d = paused_then_typed("$ secret")
    d.command("pause")
    out = d.command("resume_clear")
    assert ClearScreen() in out and d.policy.sharing
    assert d.command("resume_share") == []  # no question pending: nothing happens
    d.command("pause")
    d.screen.rows = ["$ other"]
    d.command("pause")
    out = d.command("resume_stay")
    assert not d.policy.sharing and not d.sent_in(out)


def test_a_front_end_without_the_review_resumes_at_once() -> None:
    d = paused_then_typed("$ secret")
    d.policy.review_resume = False
    out = d.command("pause")
    assert ResyncScreen() in out and d.policy.sharing and not d.events_in(out, "resume_review")
