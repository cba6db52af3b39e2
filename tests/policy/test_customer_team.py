"""The team's decisions on the customer's machine, synchronously (cobrowse.policy.customer_team)."""

from __future__ import annotations

from cobrowse.policy.customer_events import ConsentPrompt, Level, Notice, TeamAnswer, TeamAsk, TeamRequest
from cobrowse.policy.customer_team import (FIRST, MAX_OPEN_INVITES, MAX_REFUSED, PROMPT_BASE, Admit, Dismiss, OpenInvite, Revoke,
                                           TeamOver, TeamPolicy, ToViewer, ViewersShown)
from cobrowse.protocol import messages as m
from cobrowse.protocol.prompts import PromptKind, PromptQueue, answering, newest_shown_at
from tests.policy.customer_harness import Drive, Screen

ARM, TIMEOUT = 1.0, 30.0


def team() -> TeamPolicy:
    policy = TeamPolicy(timeout=TIMEOUT, arming=ARM)
    policy.named(FIRST, "Alice")
    return policy


def invited(policy: TeamPolicy, now: float = 0.0) -> int:
    [opened] = policy.invite(FIRST)
    assert isinstance(opened, OpenInvite) and opened.by == FIRST
    out = policy.invite_opened(opened.viewer, "1234-56789012")
    assert ToViewer(FIRST, m.InviteCode(code="1234-56789012", viewer=opened.viewer)) in out  # the number B will have
    return opened.viewer


def asked(policy: TeamPolicy, now: float = 0.0, name: str = "Bob") -> tuple[int, ConsentPrompt]:
    viewer = invited(policy, now)
    out = policy.joined(viewer, name, "NOT VERIFIED", now)
    [prompt] = [e for e in out if isinstance(e, ConsentPrompt)]
    assert prompt.id > PROMPT_BASE and prompt.kind == "viewer" and f"{name} (agent {viewer})" in prompt.message
    return viewer, prompt


def test_nothing_is_told_in_an_ordinary_session() -> None:
    policy = TeamPolicy()
    assert policy.named(FIRST, "Alice") == []


def test_an_invited_agent_is_admitted_only_when_the_customer_allows() -> None:
    policy = team()
    viewer, prompt = asked(policy)
    assert policy.admitted() == [FIRST]
    assert isinstance(policy.answer(True, None, 0.5)[0], Notice)  # too soon: armed after ARM s
    assert policy.admitted() == [FIRST]
    out = policy.answer(True, prompt.id, 1.5)
    assert Admit(viewer) in out
    assert policy.admitted() == [FIRST, viewer]
    shown = [e for e in out if isinstance(e, ViewersShown)][-1]
    assert "Alice (agent 1), Bob (agent 2)" in shown.message
    lists = {e.viewer: e.message for e in out if isinstance(e, ToViewer)}
    assert set(lists) == {FIRST, viewer}
    assert [v["you"] for v in lists[viewer].viewers] == [False, True]  # type: ignore[attr-defined]


def test_refused_or_unanswered_dismisses_with_a_reason() -> None:
    policy = team()
    viewer, prompt = asked(policy)
    out = policy.answer(False, prompt.id, 2.0)
    assert Dismiss(viewer, "viewer_refused", "the customer did not allow you to see their screen") in out
    assert not any(isinstance(e, Admit) for e in out)
    second, _ = asked(policy)
    assert policy.tick(TIMEOUT - 0.1) == []
    out = policy.tick(TIMEOUT)
    assert [e.reason for e in out if isinstance(e, Dismiss)] == ["viewer_refused"]
    assert policy.admitted() == [FIRST]


def test_an_agent_whose_colleagues_keep_being_refused_invites_no_more() -> None:
    policy = team()
    for n in range(MAX_REFUSED):
        _, prompt = asked(policy, now=10.0 * n)
        policy.answer(False, prompt.id, 10.0 * n + 2)
    [refused] = policy.invite(FIRST)
    assert isinstance(refused, ToViewer) and "no more invitations" in refused.message.error  # type: ignore[attr-defined]


def test_a_stale_answer_answers_nothing() -> None:
    policy = team()
    viewer, prompt = asked(policy)
    out = policy.answer(True, prompt.id + 5, 2.0)
    assert not any(isinstance(e, Admit) for e in out)
    assert policy.admitted() == [FIRST]


def test_one_question_at_a_time() -> None:
    policy = team()
    first, prompt = asked(policy)
    second = invited(policy)
    out = policy.joined(second, "Carol", "NOT VERIFIED", 0.0)
    assert not any(isinstance(e, ConsentPrompt) for e in out)  # waits behind the first
    out = policy.answer(True, prompt.id, 2.0)
    [next_prompt] = [e for e in out if isinstance(e, ConsentPrompt)]
    assert "Carol" in next_prompt.message and next_prompt.id != prompt.id
    assert policy.answer(True, next_prompt.id, 2.5)[0] == Notice(
        "ignored that answer: the question on screen is new (it asks who may see your screen); read it, then answer")


def test_only_admitted_agents_invite_and_invitations_are_bounded() -> None:
    policy = team()
    viewer, _ = asked(policy)
    assert policy.invite(viewer) == []  # not admitted yet: asks nothing
    opened = [policy.invite(FIRST) for _ in range(MAX_OPEN_INVITES)]
    assert all(isinstance(o[0], OpenInvite) for o in opened)
    [refused] = policy.invite(FIRST)
    assert isinstance(refused, ToViewer) and isinstance(refused.message, m.InviteCode) and refused.message.error


def test_control_belongs_to_one_agent() -> None:
    policy = team()
    viewer, prompt = asked(policy)
    policy.answer(True, prompt.id, 2.0)
    assert policy.consent_changed(FIRST, Level.CONTROL)[0] == ViewersShown(
        ({"id": 1, "name": "Alice", "state": "admitted", "control": True, "verified": False},
         {"id": 2, "name": "Bob", "state": "admitted", "control": False, "verified": False}),
        "2 agents see your screen: Alice (agent 1) with CONTROL, Bob (agent 2)")
    out = policy.consent_changed(viewer, Level.CONTROL)
    assert Revoke(FIRST) in out
    assert [v.id for v in policy.viewers.values() if v.control] == [viewer]
    assert policy.revoke_all() == [Revoke(viewer)]
    policy.left(FIRST, 3.0)
    assert policy.consent_changed(FIRST, Level.CONTROL) == []  # the first agent left: its old desk counts for nothing


def test_leaving_hands_over_and_the_last_one_ends_it() -> None:
    policy = team()
    viewer, prompt = asked(policy)
    policy.answer(True, prompt.id, 2.0)
    out = policy.left(FIRST, 3.0)
    assert not any(isinstance(e, TeamOver) for e in out)
    assert policy.admitted() == [viewer]
    out = policy.left(viewer, 4.0)
    assert any(isinstance(e, TeamOver) for e in out)


def test_the_last_agent_leaving_dismisses_one_still_waiting() -> None:
    policy = team()
    viewer, _ = asked(policy)
    out = policy.left(FIRST, 1.0)
    assert Dismiss(viewer, "agent_ended", "the agents who invited you left the session") in out
    assert any(isinstance(e, TeamOver) for e in out)
    assert policy.question is None


def test_the_customer_removes_an_agent_but_not_the_last() -> None:
    policy = team()
    viewer, prompt = asked(policy)
    policy.answer(True, prompt.id, 2.0)
    out = policy.remove(viewer, 3.0)
    assert Dismiss(viewer, "viewer_removed", "the customer removed you from the session") in out
    assert policy.remove(FIRST, 3.0) == [Notice("that is the only agent left: Ctrl-] e ends the session")]


def test_dropping_with_no_number_offers_the_latest_to_join_first() -> None:
    policy = team()
    viewer, prompt = asked(policy)
    policy.answer(True, prompt.id, 2.0)
    [asking] = policy.remove(0, 3.0)  # two to choose from: the first agent may go too
    assert isinstance(asking, Notice) and "Ctrl-] y removes Bob (agent 2)" in asking.message
    assert Dismiss(viewer, "viewer_removed", "the customer removed you from the session") in policy.pick_answer(True, 3.5)
    assert policy.remove(0, 4.0) == [Notice("that is the only agent left: Ctrl-] e ends the session")]
    customer = Drive().policy
    assert customer.command("drop_viewer", "", 1.0, Screen()) == [TeamRequest(TeamAsk.DROP, 0)]
    assert customer.command("drop_viewer", "2", 1.0, Screen()) == [TeamRequest(TeamAsk.DROP, 2)]


def test_an_unused_invitation_that_ends_is_told() -> None:
    policy = team()
    viewer = invited(policy)
    out = policy.left(viewer, 1.0)
    assert [e.message for e in out if isinstance(e, Notice)] == [
        "the invitation by Alice (agent 1) was not used: it no longer works"]
    assert policy.admitted() == [FIRST]


# the customer's policy: what the agent asks of the team, and whose question a key answers


def test_invite_and_leave_from_the_agent_go_to_the_team() -> None:
    policy = Drive().policy
    assert policy.message(m.Invite(), 0.0, Screen()) == [TeamRequest(TeamAsk.INVITE)]
    assert policy.message(m.Leave(), 0.0, Screen()) == [TeamRequest(TeamAsk.LEAVE)]


def test_in_a_team_every_answer_goes_to_the_team_which_picks_the_newest_question() -> None:
    policy = Drive().policy
    assert not any(isinstance(e, TeamAnswer) for e in policy.command("allow", "", 6.0, Screen()))  # alone
    policy.in_team = True
    assert policy.command("allow", "", 5.0, Screen()) == [TeamAnswer(True, None)]
    assert policy.command("deny", str(PROMPT_BASE + 1), 5.0, Screen()) == [TeamAnswer(False, PROMPT_BASE + 1)]
    assert not any(isinstance(e, TeamAnswer) for e in policy.command("deny", "3", 5.0, Screen()))  # its own id
    team_ = team()
    viewer, prompt = asked(team_, now=4.0)
    first, second = PromptQueue(), PromptQueue(_last_id=20000)
    first.request(PromptKind.CONTROL, 3.0)
    queues = {0: team_.prompts, FIRST: first}
    assert answering(queues, None) == 0  # the team's question came last
    assert newest_shown_at(queues) == 4.0
    second.request(PromptKind.SUGGEST, 4.5)
    queues[viewer] = second
    assert answering(queues, None) == viewer
    assert answering(queues, 1) == FIRST
    assert answering(queues, prompt.id) == 0
    assert answering({}, 77) is None and answering(queues, 77) is None


# the customer removes one agent: Ctrl-] l


def admitted_three() -> tuple[TeamPolicy, int, int]:
    policy = team()
    bob, prompt = asked(policy)
    policy.answer(True, prompt.id, 2.0)
    carol, prompt = asked(policy, now=3.0, name="Carol")
    policy.answer(True, prompt.id, 5.0)
    return policy, bob, carol


def test_with_two_agents_the_key_offers_the_latest_and_tells_the_customer() -> None:
    policy = team()
    viewer, prompt = asked(policy)
    policy.answer(True, prompt.id, 2.0)
    [asking] = policy.remove(0, 3.0)
    assert "2 agents you can remove" in asking.message  # type: ignore[union-attr]
    out = policy.pick_answer(True, 3.5)
    assert out[0] == Dismiss(viewer, "viewer_removed", "the customer removed you from the session")
    notices = [e.message for e in out if isinstance(e, Notice)]
    assert "you removed Bob (agent 2): they no longer see your screen" in notices
    assert [e.message for e in out if isinstance(e, ViewersShown)] == ["can see your screen: Alice (agent 1)"]
    assert policy.admitted() == [FIRST] and not policy.picking(3.5)


def test_with_several_the_customer_picks_which_one() -> None:
    policy, bob, carol = admitted_three()
    [asking] = policy.remove(0, 6.0)
    assert isinstance(asking, Notice) and "Ctrl-] y removes Carol (agent 3)" in asking.message
    assert "3 agents you can remove" in asking.message and policy.picking(6.0)
    [asking] = policy.remove(0, 7.0)  # Ctrl-] l again: the next one
    assert "Ctrl-] y removes Bob (agent 2)" in asking.message
    [asking] = policy.remove(0, 7.5)  # the first agent last
    assert "Ctrl-] y removes Alice (agent 1)" in asking.message
    [asking] = policy.remove(0, 8.0)  # and round again
    assert "Ctrl-] y removes Carol (agent 3)" in asking.message
    out = policy.pick_answer(True, 9.0)
    assert Dismiss(carol, "viewer_removed", "the customer removed you from the session") in out
    assert policy.admitted() == [FIRST, bob] and not policy.picking(9.0)


def test_the_customer_may_keep_everyone_or_let_the_choice_lapse() -> None:
    policy, bob, carol = admitted_three()
    policy.remove(0, 6.0)
    assert policy.pick_answer(False, 7.0) == [Notice("nobody was removed")]
    assert policy.admitted() == [FIRST, bob, carol]
    policy.remove(0, 8.0)
    assert not policy.picking(8.0 + 60)
    assert policy.pick_answer(True, 8.0 + 60) == [Notice("nothing to answer")]
    assert policy.admitted() == [FIRST, bob, carol]


def test_a_choice_whose_agent_left_is_dropped_and_the_first_agent_may_go_while_others_stay() -> None:
    policy, bob, carol = admitted_three()
    policy.consent_changed(FIRST, Level.CONTROL)
    policy.remove(0, 6.0)
    policy.left(carol, 6.5)
    assert not policy.picking(7.0)
    out = policy.remove(FIRST, 7.0)
    assert out[0] == Dismiss(FIRST, "viewer_removed", "the customer removed you from the session")
    notices = [e.message for e in out if isinstance(e, Notice)]
    assert "you removed Alice (agent 1): they no longer see your screen" in notices
    assert not any("left the session" in n for n in notices)  # told once: "you removed", not "left" too
    assert not any(isinstance(e, TeamOver) for e in out)
    [shown] = [e for e in out if isinstance(e, ViewersShown)]
    assert shown.message == "can see your screen: Bob (agent 2)"  # Alice's control went with her
    assert policy.admitted() == [bob]
    assert policy.remove(bob, 8.0) == [Notice("that is the only agent left: Ctrl-] e ends the session")]


def test_the_viewers_line_names_everyone_and_who_holds_control() -> None:
    policy, bob, carol = admitted_three()
    out = policy.consent_changed(bob, Level.CONTROL)
    [shown] = [e for e in out if isinstance(e, ViewersShown)]
    assert shown.message == "3 agents see your screen: Alice (agent 1), Bob (agent 2) with CONTROL, Carol (agent 3)"
    assert [(r["name"], r["control"]) for r in shown.viewers] == [("Alice", False), ("Bob", True), ("Carol", False)]


def test_a_question_shown_after_the_choice_takes_the_keys_back() -> None:
    policy, bob, carol = admitted_three()
    policy.remove(0, 6.0)
    assert policy.picking(6.5, newest_question=5.0)  # the questions on screen are older
    assert not policy.picking(7.0, newest_question=6.8)  # a new one: y / n answer it, not the choice
    assert policy.pick is None and policy.admitted() == [FIRST, bob, carol]


def test_the_count_shows_once_several_agents_see_the_screen_and_the_help_names_them() -> None:
    policy = team()
    assert policy.viewers_line() == "can see your screen: Alice (agent 1)"
    viewer, prompt = asked(policy)
    assert policy.viewers_line() == "can see your screen: Alice (agent 1); waiting for your answer: Bob (agent 2)"
    policy.answer(True, prompt.id, 1.5)
    assert policy.who(True) == [Notice("2 agents see your screen: Alice (agent 1), Bob (agent 2)")]
    assert policy.who(False) == [Notice("nobody sees your screen: no agent has joined yet")]
    policy.left(viewer, 3.0)
    assert policy.who(True) == [Notice("can see your screen: Alice (agent 1)")]


def test_the_help_key_asks_the_team_who_sees_the_screen() -> None:
    drive = Drive()
    drive.policy.in_team = True
    out = drive.policy.command("help", "", 0.0, Screen())
    assert isinstance(out[0], Notice) and out[1:] == [TeamRequest(TeamAsk.WHO)]
    drive.policy.in_team = False
    assert [type(e) for e in drive.policy.command("help", "", 0.0, Screen())] == [Notice]


def test_refused_colleagues_never_quiet_the_team_s_questions() -> None:
    """The questions are a PromptQueue, but its MAX_DENIALS quiet period is not the team's rule:
    MAX_REFUSED per inviter is (another agent's colleague is still asked)."""
    policy = team()
    bob, prompt = asked(policy)
    policy.answer(True, prompt.id, 2.0)
    now = 3.0
    for _ in range(MAX_REFUSED):
        _, prompt = asked(policy, now, name="Mallory")
        assert isinstance(policy.answer(False, prompt.id, now + 2)[0], Dismiss)
        now += 3
    [refused] = policy.invite(FIRST)
    assert isinstance(refused, ToViewer) and "refused 3" in str(refused.message.error)  # type: ignore[attr-defined]
    [opened] = policy.invite(bob)
    assert isinstance(opened, OpenInvite)
    policy.invite_opened(opened.viewer, "1234-56789012")
    out = policy.joined(opened.viewer, "Carol", "NOT VERIFIED", now)
    [question] = [e for e in out if isinstance(e, ConsentPrompt)]
    assert policy.question is not None and policy.question.id == question.id
    assert Admit(opened.viewer) in policy.answer(True, None, now + 1.5)
