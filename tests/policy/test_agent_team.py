"""The agent's side of a team, synchronously (cobrowse.policy.agent): invite, the code, viewers."""

from __future__ import annotations

from cobrowse.policy.agent import AgentPolicy
from cobrowse.policy.agent_commands import Invite
from cobrowse.policy.agent_events import AgentError, AgentWarning, ChatMessage, InviteReady, Side, ViewersChanged
from cobrowse.policy.events import as_json
from cobrowse.protocol import messages as m


def test_invite_asks_the_customers_client_and_its_code_becomes_the_event() -> None:
    policy = AgentPolicy()
    assert policy.command(Invite(), paired=True).send == [m.Invite(voids=True)]  # it reads voided codes
    [event] = policy.receive(m.InviteCode(code="1234-5678-9012"), 0.0).events
    assert isinstance(event, InviteReady)
    assert as_json(event)["code"] == "1234-5678-9012" and as_json(event)["event"] == "invite"


def test_a_code_nobody_asked_for_is_ignored() -> None:
    policy = AgentPolicy()
    [event] = policy.receive(m.InviteCode(code="1234-5678-9012"), 0.0).events
    assert isinstance(event, AgentWarning)


def test_a_refused_invitation_is_an_error_for_the_invite_command() -> None:
    policy = AgentPolicy()
    policy.command(Invite(), paired=True)
    [event] = policy.receive(m.InviteCode(error="2 invitations are already waiting"), 0.0).events
    assert isinstance(event, AgentError) and event.cmd == "invite" and "already waiting" in event.message


def test_viewers_and_passed_on_chat() -> None:
    policy = AgentPolicy()
    assert policy.alone()
    [event] = policy.receive(m.Viewers([{"id": 1, "name": "Alice", "control": True, "you": True},
                                        {"id": 2, "name": "Bob", "control": False, "you": False}]), 0.0).events
    assert isinstance(event, ViewersChanged) and "Alice (you) has control, Bob" in event.message
    assert not policy.alone()
    [chat] = policy.receive(m.Chat("hi", name="Bob"), 0.0).events
    assert chat == ChatMessage(Side.AGENT, "hi", name="Bob")
    assert as_json(policy.receive(m.Chat("hello"), 0.0).events[0]) == {"event": "chat", "from": "customer", "text": "hello"}


def test_an_invitation_code_that_is_not_a_code_is_refused() -> None:
    policy = AgentPolicy()
    policy.command(Invite(), paired=True)
    [event] = policy.receive(m.InviteCode(code="\x1b[31mrm -rf"), 0.0).events
    assert isinstance(event, AgentError) and "not a code" in event.message
