"""The Call machine: ringing, consent to answer, mute, hang-ups and timeouts, without I/O."""

from __future__ import annotations

import pytest

from cobrowse.protocol.messages import Call
from cobrowse.voice.call import CallError, CallMachine


def exchange(a: CallMachine, b: CallMachine, now: float = 0.0) -> None:
    """Deliver every queued message both ways until both are quiet."""
    for _ in range(10):
        moved = False
        for src, dst in ((a, b), (b, a)):
            for message in src.messages_to_send():
                dst.receive(message, now)
                moved = True
        if not moved:
            return


def states(events: list) -> list[str]:
    return [e.state for e in events]


def test_agent_calls_customer_accepts_and_media_connects() -> None:
    agent, customer = CallMachine("agent"), CallMachine("customer")
    agent.invite(0.0)
    exchange(agent, customer)
    assert (agent.state, customer.state) == ("calling", "ringing")
    customer.accept()
    exchange(agent, customer)
    assert agent.state == customer.state == "connecting"
    assert agent.offerer and not customer.offerer
    agent.connected()
    customer.connected()
    assert states(agent.events_received()) == ["calling", "connecting", "active"]
    assert states(customer.events_received()) == ["ringing", "connecting", "active"]


def test_the_customer_must_answer_nothing_connects_by_itself() -> None:
    agent, customer = CallMachine("agent"), CallMachine("customer")
    agent.invite(0.0)
    exchange(agent, customer)
    customer.connected()  # media cannot promote a call nobody accepted
    assert customer.state == "ringing"
    customer.decline()
    exchange(agent, customer)
    assert agent.state == customer.state == "idle"
    assert agent.events_received()[-1].reason == "declined"


def test_a_decline_with_why_keeps_declined_and_says_why() -> None:
    """A team's customer, on a call with another agent, declines with why (docs/team.md): the
    reason stays ``declined`` (the headless shape), the words come as ``detail``."""
    from cobrowse.protocol.messages import Call
    from cobrowse.voice.call import describe

    agent = CallMachine("agent")
    agent.invite(0.0)
    agent.messages_to_send()
    agent.events_received()
    agent.receive(Call("decline", "the customer is on a call with Bob (agent 2)"), 1.0)
    [ended] = agent.events_received()
    assert ended.to_event() == {"event": "voice", "state": "ended", "muted": False, "remote_muted": False,
                                "reason": "declined", "detail": "the customer is on a call with Bob (agent 2)"}
    assert describe(ended.to_event(), "the customer", "agent") == (
        "call ended (declined: the customer is on a call with Bob (agent 2))")
    agent.invite(2.0)
    agent.receive(Call("decline"), 3.0)
    assert "detail" not in agent.events_received()[-1].to_event()  # a plain decline: the shape it always had


def test_ringing_times_out_on_both_sides() -> None:
    agent, customer = CallMachine("agent", ring_timeout=10), CallMachine("customer", ring_timeout=10)
    agent.invite(0.0)
    exchange(agent, customer)
    agent.tick(9.0)
    assert agent.state == "calling"
    agent.tick(10.0)
    customer.tick(10.0)
    exchange(agent, customer)
    assert agent.state == customer.state == "idle"
    assert customer.events_received()[-1].reason == "no answer"


def test_mute_is_seen_by_the_other_side_and_only_in_a_call() -> None:
    agent, customer = CallMachine("agent"), CallMachine("customer")
    with pytest.raises(CallError):
        agent.set_muted(True)
    agent.invite(0.0)
    exchange(agent, customer)
    customer.accept()
    exchange(agent, customer)
    customer.set_muted(True)
    exchange(agent, customer)
    assert customer.muted and agent.remote_muted
    assert agent.events_received()[-1].remote_muted
    customer.set_muted(False)
    exchange(agent, customer)
    assert not agent.remote_muted


def test_crossing_invitations_become_a_call() -> None:
    agent, customer = CallMachine("agent"), CallMachine("customer")
    agent.invite(0.0)
    customer.invite(0.0)
    exchange(agent, customer)
    assert agent.state == customer.state == "connecting"


def test_hangup_from_either_side_and_errors_when_idle() -> None:
    agent, customer = CallMachine("agent"), CallMachine("customer")
    with pytest.raises(CallError):
        agent.hangup()
    with pytest.raises(CallError):
        customer.accept()
    customer.invite(0.0)
    exchange(agent, customer)
    agent.invite(1.0)  # the agent answering a ringing call with "call" accepts it
    exchange(agent, customer)
    assert agent.state == customer.state == "connecting"
    customer.hangup()
    exchange(agent, customer)
    assert agent.state == "idle" and not agent.remote_muted
    agent.invite(2.0)  # and a new call can start
    assert agent.state == "calling"


def test_failure_tells_the_peer_why() -> None:
    agent, customer = CallMachine("agent"), CallMachine("customer")
    agent.invite(0.0)
    exchange(agent, customer)
    customer.accept()
    exchange(agent, customer)
    agent.failed("the audio connection failed")
    exchange(agent, customer)
    assert customer.state == "idle"
    assert customer.events_received()[-1].reason == "the audio connection failed"


def test_stray_messages_change_nothing() -> None:
    machine = CallMachine("customer")
    for action in ("accept", "decline", "hangup", "mute", "unmute"):
        machine.receive(Call(action), 0.0)
    assert machine.state == "idle" and not machine.remote_muted
    assert machine.events_received() == []
