"""An invitation code voided before its time is up (docs/team.md, "The console"): the customer's
client tells the agent who asked for it, if that agent's ``invite`` said it reads it (newer
agents); an older agent is never sent one (it would take it for a code it did not ask for)."""

from __future__ import annotations

from typing import Any

from cobrowse.policy.agent import AgentPolicy
from cobrowse.policy.agent_commands import Invite
from cobrowse.policy.agent_events import InviteReady
from cobrowse.policy.agent_team import InviteVoided
from cobrowse.policy.customer_events import Notice
from cobrowse.policy.customer_team import FIRST, OpenInvite, TeamPolicy, ToViewer
from cobrowse.policy.events import as_json
from cobrowse.protocol import messages as m
from cobrowse.protocol.team_messages import VoidReason
from tests.policy.test_team_roster import sealed

CODE = "1234-56789012"
SHOWN = "1234-5678-9012"  # as the agent's events write it (the ``invite`` event's too)


def opened(policy: TeamPolicy, *, voids: bool) -> int:
    [effect] = policy.invite(FIRST, voids=voids)
    assert isinstance(effect, OpenInvite)
    policy.invite_opened(effect.viewer, CODE, 300.0)
    return effect.viewer


def told(out: list[Any]) -> list[m.InviteCode]:
    return [e.message for e in out if isinstance(e, ToViewer) and isinstance(e.message, m.InviteCode)]


def team() -> TeamPolicy:
    policy = TeamPolicy(timeout=30.0, arming=1.0)
    policy.named(FIRST, "Alice")
    return policy


def test_a_wrong_guess_voids_the_code_and_its_inviter_is_told_why() -> None:
    policy = team()
    viewer = opened(policy, voids=True)
    out = policy.left(viewer, 1.0, void=VoidReason.WRONG_CODE)
    assert told(out) == [m.InviteCode(code=CODE, viewer=viewer, void="wrong_code")]
    assert any(isinstance(e, Notice) and "was not used" in e.message for e in out)  # the customer reads it, as before
    agent = AgentPolicy()
    agent.command(Invite(), paired=True)
    [ready] = agent.receive(sealed(m.InviteCode(code=CODE, expires_s=300, viewer=viewer)), 0.0).events
    assert isinstance(ready, InviteReady)
    [void] = agent.receive(sealed(told(out)[0]), 0.0).events
    assert isinstance(void, InviteVoided)
    assert as_json(void) == {"event": "invite_void", "code": SHOWN, "reason": "wrong_code", "agent": viewer,
                             "message": f"the invitation code {SHOWN} no longer works: someone entered a wrong code "
                                        "for it (a guess on the relay, or a typo): invite again for a new one"}


def test_the_agent_says_it_reads_voided_codes_and_a_void_is_not_a_new_code() -> None:
    agent = AgentPolicy()
    [sent] = agent.command(Invite(), paired=True).send
    assert sent == m.Invite(voids=True) and sealed(sent) == m.Invite(voids=True)
    [void] = agent.receive(sealed(m.InviteCode(code=CODE, viewer=2, void="expired")), 0.0).events
    assert isinstance(void, InviteVoided) and void.reason == "expired"
    [ready] = agent.receive(sealed(m.InviteCode(code=CODE, viewer=3)), 0.0).events  # the invite asked is still awaited
    assert isinstance(ready, InviteReady)


def test_an_older_agent_is_never_sent_a_void() -> None:
    policy = team()
    viewer = opened(policy, voids=False)  # its invite had no "voids": an older agent
    assert told(policy.left(viewer, 1.0, void=VoidReason.WRONG_CODE)) == []
    assert m.decode(b"\x00" + b'{"t":"invite"}') == m.Invite(voids=False)  # what an older agent sends


def test_an_older_customer_ignores_the_new_key() -> None:
    """An older customer's client decodes with fields it knows and drops the rest (wire.fields)."""
    assert m.decode(m.encode(m.Invite(voids=True))).t == "invite"


def test_a_used_code_is_not_voided_and_nonsense_is_refused() -> None:
    policy = team()
    viewer = opened(policy, voids=True)
    policy.joined(viewer, "Bob", "NOT VERIFIED", 0.5)
    assert told(policy.left(viewer, 1.0, void=VoidReason.CLOSED)) == []  # it was used: Bob was being asked about
    agent = AgentPolicy()
    for bad in ('{"t":"invite_code","code":"1234-56789012","void":"because"}',):
        try:
            m.decode(b"\x00" + bad.encode())
        except m.MalformedPayload:
            continue
        raise AssertionError("an unknown void reason was accepted")
    assert agent.receive(sealed(m.InviteCode(code="not a code", void="expired")), 0.0).events == []


def test_why_an_invitation_ended_unused() -> None:
    from cobrowse.policy.customer_team import void_for

    assert [void_for(r) for r in ("wrong_code", "scared", "expired", "claim_timeout", "agent_ended", "")] == [
        "wrong_code", "wrong_code", "expired", "expired", "closed", "closed"]
