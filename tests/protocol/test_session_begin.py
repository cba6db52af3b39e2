"""The claimant's SPAKE2 message sent with its claim (``Session.begin``): same handshake,
same checks, one round trip fewer. Pure: frames are carried by hand, in the relay's order."""

from __future__ import annotations

import os

import pytest

from cobrowse.crypto.handshake import CONFIRM, PAKE
from cobrowse.errors import WrongCode
from cobrowse.protocol.messages import Hello
from cobrowse.protocol.session import Paired, Session
from cobrowse.wire.code import Code

CODE = Code("42", "71930518")


def carry(frames: list[bytes], to: Session, now: float = 0.0) -> None:
    for frame in frames:
        to.receive_data(frame, now)


def test_begin_sends_the_pake_message_before_the_claim_is_answered() -> None:
    customer = Session("customer", CODE, os.urandom)
    early = customer.begin()
    assert [f[0] for f in early] == [PAKE]
    assert customer.state == "handshaking"
    customer.peer_joined(0.0)  # the relay's "joined" right after "claimed": nothing to resend
    assert customer.data_to_send() == []


def test_pipelined_claim_pairs_with_the_agents_confirmation_in_one_flight() -> None:
    agent, customer = Session("agent", CODE, os.urandom), Session("customer", CODE, os.urandom)
    early = customer.begin()
    agent.peer_joined(0.0)  # the relay: "joined", then the customer's pipelined frame, in order
    carry(early, agent)
    from_agent = agent.data_to_send()
    assert [f[0] for f in from_agent] == [PAKE, CONFIRM]  # both cross the network together
    customer.peer_joined(0.0)
    customer.send(Hello("customer", "test"), 0.0)
    carry(from_agent, customer)
    assert customer.state == "paired"
    from_customer = customer.data_to_send()
    assert from_customer[0][0] == CONFIRM and len(from_customer) >= 2  # confirmation, then the sealed hello
    carry(from_customer, agent)
    assert agent.state == "paired"
    assert isinstance(agent.events_received()[0], Paired)
    assert agent.sas == customer.sas


def test_a_wrong_code_still_fails_at_key_confirmation_and_burns_the_guess() -> None:
    agent = Session("agent", CODE, os.urandom)
    guesser = Session("customer", Code("42", "00000000"), os.urandom)
    early = guesser.begin()
    agent.peer_joined(0.0)
    carry(early, agent)
    assert agent.peer_tried  # the guess is spent as soon as its SPAKE2 message arrived
    from_agent = agent.data_to_send()
    guesser.peer_joined(0.0)
    with pytest.raises(WrongCode):
        carry(from_agent, guesser)
    assert guesser.state == "scared"
    assert guesser.data_to_send() == []  # the guesser never confirms, never sends a sealed byte


def test_a_later_joined_resends_the_handshake() -> None:
    """The creator was away when the claim landed (the relay dropped the early frame): its
    "back" must bring the SPAKE2 message again."""
    customer = Session("customer", CODE, os.urandom)
    early = customer.begin()
    customer.peer_joined(0.0)
    customer.peer_left()
    customer.peer_joined(1.0)
    assert customer.data_to_send() == early


def test_begin_only_on_a_fresh_attempt_and_reset_forgets_it() -> None:
    customer = Session("customer", CODE, os.urandom)
    first = customer.begin()
    with pytest.raises(ValueError):
        customer.begin()
    customer.reset()
    second = customer.begin()
    assert second != first  # fresh SPAKE2 randomness
    customer.peer_joined(0.0)
    assert customer.data_to_send() == []
