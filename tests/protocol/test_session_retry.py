"""A failed pairing attempt before confirmation: the creator's Session starts over, fresh."""

from __future__ import annotations

import pytest

from cobrowse.crypto.handshake import CONFIRM, PAKE
from cobrowse.errors import SecurityError, TamperedFrame, WrongCode
from cobrowse.protocol.messages import Chat
from cobrowse.protocol.session import Paired, Received, Session
from cobrowse.wire.code import Code
from tests.protocol.test_session import CODE, Relay, seeded

WRONG = Code(CODE.nameplate, "00000000")


def fail_pairing(agent: Session, guesser: Session) -> None:
    """Run the handshake between the agent and a guesser with a wrong code: both fail."""
    agent.peer_joined(0.0)
    guesser.peer_joined(0.0)
    relay = Relay(agent, guesser)
    errors = []
    for _ in range(10):
        relay.collect()
        if not relay.to_a and not relay.to_b:
            break
        to_b, relay.to_b = relay.to_b, []
        to_a, relay.to_a = relay.to_a, []
        for frame, deliver in [(f, relay.deliver_to_b) for f in to_b] + [(f, relay.deliver_to_a) for f in to_a]:
            try:
                deliver(frame, 0.0)
            except WrongCode as exc:
                errors.append(exc)
    assert len(errors) == 2
    assert agent.state == guesser.state == "scared"


def paired(a: Session, b: Session) -> Relay:
    a.peer_joined(0.0)
    b.peer_joined(0.0)
    relay = Relay(a, b)
    relay.pump(0.0)
    assert a.state == b.state == "paired"
    return relay


def test_a_wrong_guess_fails_only_the_attempt_and_the_reset_session_pairs_with_the_right_code() -> None:
    agent = Session("agent", CODE, seeded(1))
    fail_pairing(agent, Session("customer", WRONG, seeded(2)))
    assert agent.retryable and agent.peer_tried
    agent.reset()
    assert agent.state == "know_code" and not agent.peer_present and not agent.retryable
    assert agent.data_to_send() == []
    customer = Session("customer", CODE, seeded(3))
    relay = paired(agent, customer)
    assert [e for e in relay.events["a"] if isinstance(e, Paired)] == [Paired(agent.sas or "")]
    customer.send(Chat("hello"), 0.0)
    relay.pump(0.0)
    assert Received(Chat("hello")) in relay.events["a"]


def test_a_reset_draws_fresh_spake2_randomness_and_keeps_nothing_of_the_failed_attempt() -> None:
    draws: list[int] = []
    source = seeded(7)

    def entropy(n: int) -> bytes:
        draws.append(n)
        return source(n)

    agent = Session("agent", CODE, entropy)
    agent.peer_joined(0.0)
    first = agent.data_to_send()
    guesser = Session("customer", WRONG, seeded(8))
    guesser.peer_joined(0.0)
    guess = guesser.data_to_send()
    agent.receive_data(guess[0], 0.0)
    answer = agent.data_to_send()
    assert answer and answer[0][0] == CONFIRM
    with pytest.raises(WrongCode):
        agent.receive_data(guesser_confirm(guesser, first[0]), 0.0)
    before = len(draws)
    agent.reset()
    assert len(draws) > before, "a fresh SPAKE2 scalar"
    agent.peer_joined(0.0)
    second = agent.data_to_send()
    assert second[0][0] == PAKE and second[0] != first[0]
    # the old guesser's confirmation, replayed into the new attempt, is not accepted
    with pytest.raises(WrongCode):
        agent.receive_data(answer[0][:1] + bytes(32), 0.0)


def guesser_confirm(guesser: Session, agent_pake: bytes) -> bytes:
    guesser.receive_data(agent_pake, 0.0)
    (frame,) = guesser.data_to_send()
    assert frame[0] == CONFIRM
    return frame


def test_a_scared_attempt_ignores_whatever_the_guesser_sends_next() -> None:
    agent = Session("agent", CODE, seeded(1))
    guesser = Session("customer", WRONG, seeded(2))
    fail_pairing(agent, guesser)
    second_guess = Session("customer", Code(CODE.nameplate, "11111111"), seeded(5))
    second_guess.peer_joined(0.0)
    agent.receive_data(second_guess.data_to_send()[0], 0.0)  # a second guess in the same claim
    assert agent.data_to_send() == [], "no confirmation for a second guess before the relay released it"


def test_a_silent_squatter_made_no_guess() -> None:
    agent = Session("agent", CODE, seeded(1))
    agent.peer_joined(0.0)
    assert agent.data_to_send()
    assert not agent.peer_tried and not agent.retryable
    agent.reset()
    assert agent.state == "know_code"


def test_after_pairing_a_failed_check_is_still_scared_and_cannot_be_reset() -> None:
    agent = Session("agent", CODE, seeded(1))
    customer = Session("customer", CODE, seeded(2))
    relay = paired(agent, customer)
    customer.send(Chat("x"), 0.0)
    (frame,) = relay.take_to_a()
    with pytest.raises(TamperedFrame):
        agent.receive_data(frame[:-1] + bytes([frame[-1] ^ 1]), 0.0)
    assert agent.state == "scared" and not agent.retryable
    with pytest.raises(ValueError):
        agent.reset()
    # a late handshake frame does not reopen anything either
    agent.receive_data(bytes([PAKE]) + bytes(33), 0.0)
    assert agent.state == "scared"
    assert issubclass(WrongCode, SecurityError)
