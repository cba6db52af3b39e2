"""The pairing handshake: SPAKE2 on the code, key confirmation, and every way it must fail."""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cobrowse.crypto.handshake import CONFIRM, PAKE, Confirmed, Handshake
from cobrowse.crypto.sas import WORDS
from cobrowse.errors import SecurityError, WrongCode
from cobrowse.wire.code import Code

CODE = Code("42", "71930518")


def seeded(seed: int):
    rng = random.Random(seed)
    return lambda n: rng.randbytes(n)


def exchange(a: Handshake, b: Handshake) -> dict[str, list[Exception]]:
    """Deliver every frame each side sends to the other until both are silent.

    A side that raises still gets the other's frames delivered (so both sides learn).
    Returns the errors each side raised, keyed by role.
    """
    errors: dict[str, list[Exception]] = {a.role: [], b.role: []}
    for _ in range(10):
        a_out, b_out = a.data_to_send(), b.data_to_send()
        if not a_out and not b_out:
            return errors
        for src, dst, frames in ((a, b, a_out), (b, a, b_out)):
            for frame in frames:
                try:
                    dst.receive_data(frame)
                except WrongCode as exc:
                    errors[dst.role].append(exc)
    raise AssertionError("the handshake did not settle")


def pair(a_code: Code = CODE, b_code: Code = CODE, *, a_ent=os.urandom, b_ent=os.urandom):
    a = Handshake("agent", a_code, a_ent)
    b = Handshake("customer", b_code, b_ent)
    return a, b, exchange(a, b)


def only_confirmed(h: Handshake) -> Confirmed:
    events = h.events_received()
    assert len(events) == 1 and isinstance(events[0], Confirmed)
    assert h.events_received() == []
    return events[0]


def test_same_code_pairs_with_same_keys_and_sas() -> None:
    a, b, errors = pair()
    assert errors == {"agent": [], "customer": []}
    assert a.state == b.state == "confirmed"
    ea, eb = only_confirmed(a), only_confirmed(b)
    assert ea.keys == eb.keys
    assert ea.sas == eb.sas
    words = ea.sas.split(" ")
    assert len(words) == 3 and all(w in WORDS for w in words)
    # the directions cross over
    assert ea.keys.sending("agent") == eb.keys.receiving("customer")
    assert ea.keys.receiving("agent") == eb.keys.sending("customer")
    k = ea.keys
    assert len({k.agent_to_customer, k.customer_to_agent, k.confirm}) == 3
    assert all(len(x) == 32 for x in (k.agent_to_customer, k.customer_to_agent, k.confirm))


def test_frames_sent_are_one_pake_then_one_confirm() -> None:
    a = Handshake("agent", CODE, os.urandom)
    b = Handshake("customer", CODE, os.urandom)
    (pa,), (pb,) = a.data_to_send(), b.data_to_send()
    assert pa[0] == pb[0] == PAKE
    assert a.state == "know_code"
    a.receive_data(pb)
    assert a.state == "know_key"
    (ca,) = a.data_to_send()
    assert ca[0] == CONFIRM
    b.receive_data(pa)
    b.receive_data(ca)
    assert b.state == "confirmed"
    (cb,) = b.data_to_send()
    a.receive_data(cb)
    assert a.state == "confirmed"
    assert a.data_to_send() == b.data_to_send() == []


def test_order_of_start_does_not_matter() -> None:
    a = Handshake("agent", CODE, os.urandom)
    b = Handshake("customer", CODE, os.urandom)
    errors = exchange(b, a)
    assert errors == {"agent": [], "customer": []}
    assert only_confirmed(a).keys == only_confirmed(b).keys


def test_deterministic_entropy_gives_deterministic_keys_and_fresh_entropy_fresh_keys() -> None:
    a1, b1, _ = pair(a_ent=seeded(1), b_ent=seeded(2))
    a2, b2, _ = pair(a_ent=seeded(1), b_ent=seeded(2))
    a3, b3, _ = pair()
    a4, b4, _ = pair()
    k1, k2, k3, k4 = (only_confirmed(h).keys for h in (a1, a2, a3, a4))
    assert k1 == k2
    assert len({k1.agent_to_customer, k3.agent_to_customer, k4.agent_to_customer}) == 3
    assert len({k1.confirm, k3.confirm, k4.confirm}) == 3
    for h in (b1, b2, b3, b4):
        only_confirmed(h)


def assert_scared_both(a: Handshake, b: Handshake, errors: dict[str, list[Exception]]) -> None:
    assert len(errors["agent"]) == 1 and len(errors["customer"]) == 1
    assert isinstance(errors["agent"][0], SecurityError)
    assert "wrong code" in str(errors["agent"][0])
    assert a.state == b.state == "scared"
    assert a.events_received() == b.events_received() == []
    assert a.data_to_send() == b.data_to_send() == []


def test_wrong_code_fails_on_both_sides() -> None:
    a, b, errors = pair(CODE, Code("42", "71930519"))
    assert_scared_both(a, b, errors)


def test_same_secret_other_nameplate_fails() -> None:
    a, b, errors = pair(CODE, Code("43", CODE.secret))
    assert_scared_both(a, b, errors)


def test_same_role_on_both_sides_fails() -> None:
    a = Handshake("agent", CODE, os.urandom)
    b = Handshake("agent", CODE, os.urandom)
    errors = []
    for _ in range(3):
        a_out, b_out = a.data_to_send(), b.data_to_send()
        for dst, frames in ((b, a_out), (a, b_out)):
            for frame in frames:
                try:
                    dst.receive_data(frame)
                except WrongCode as exc:
                    errors.append((dst, exc))
    assert [d for d, _ in errors] in ([a, b], [b, a])
    assert a.state == b.state == "scared"


def run_mitm(guess: Code):
    """A relay that runs its own handshake with each side, using a guessed code."""
    agent = Handshake("agent", CODE, os.urandom)
    customer = Handshake("customer", CODE, os.urandom)
    fake_customer = Handshake("customer", guess, os.urandom)  # faces the agent
    fake_agent = Handshake("agent", guess, os.urandom)  # faces the customer
    e1 = exchange(agent, fake_customer)
    e2 = exchange(fake_agent, customer)
    return agent, customer, e1["agent"], e2["customer"]


def test_mitm_with_a_guessed_code_is_detected_by_both_sides() -> None:
    agent, customer, agent_errors, customer_errors = run_mitm(Code("42", "12345678"))
    assert len(agent_errors) == 1 and len(customer_errors) == 1
    assert agent.state == customer.state == "scared"
    assert agent.events_received() == customer.events_received() == []


def test_mitm_harness_control_a_correct_guess_would_pair() -> None:
    # the control for the test above: the harness itself lets a correct guess through
    agent, customer, agent_errors, customer_errors = run_mitm(CODE)
    assert agent_errors == customer_errors == []
    assert agent.state == customer.state == "confirmed"
    # the two real sides then hold different keys: only comparing the SAS would catch this
    assert only_confirmed(agent).keys != only_confirmed(customer).keys


def test_reflected_confirm_fails() -> None:
    a = Handshake("agent", CODE, os.urandom)
    b = Handshake("customer", CODE, os.urandom)
    a.data_to_send()
    (pb,) = b.data_to_send()
    a.receive_data(pb)
    (ca,) = a.data_to_send()
    with pytest.raises(WrongCode):
        a.receive_data(ca)  # its own confirmation, reflected by the relay
    assert a.state == "scared"
    assert a.events_received() == []


def test_reflected_pake_fails() -> None:
    a = Handshake("agent", CODE, os.urandom)
    (pa,) = a.data_to_send()
    with pytest.raises(WrongCode):
        a.receive_data(pa)
    assert a.state == "scared"


def test_confirm_before_pake_fails() -> None:
    a = Handshake("agent", CODE, os.urandom)
    with pytest.raises(WrongCode):
        a.receive_data(bytes([CONFIRM]) + bytes(32))
    assert a.state == "scared"


def test_second_different_pake_fails_but_exact_duplicate_is_ignored() -> None:
    a = Handshake("agent", CODE, os.urandom)
    b = Handshake("customer", CODE, os.urandom)
    other = Handshake("customer", CODE, os.urandom)
    a.data_to_send()
    (pb,) = b.data_to_send()
    (po,) = other.data_to_send()
    a.receive_data(pb)
    assert len(a.data_to_send()) == 1
    a.receive_data(pb)  # a resent copy: ignored
    assert a.state == "know_key"
    assert a.data_to_send() == []
    with pytest.raises(WrongCode):
        a.receive_data(po)
    assert a.state == "scared"


def test_resend_after_reconnect_repeats_frames_and_peer_ignores_duplicates() -> None:
    a = Handshake("agent", CODE, os.urandom)
    b = Handshake("customer", CODE, os.urandom)
    (pa,) = a.data_to_send()  # lost: the connection dropped
    (pb,) = b.data_to_send()
    a.receive_data(pb)
    (ca,) = a.data_to_send()  # lost too
    a.resend()
    assert a.data_to_send() == [pa, ca]
    b.resend()
    assert b.data_to_send() == [pb]
    # the reconnected relay now delivers both copies of everything
    for frame in (pa, pa, ca):
        b.receive_data(frame)
    assert b.state == "confirmed"
    (cb,) = b.data_to_send()
    assert b.data_to_send() == []
    a.receive_data(pb)  # duplicate PAKE while know_key
    a.receive_data(cb)
    a.receive_data(cb)  # anything after confirmation is ignored
    assert a.state == "confirmed"
    assert only_confirmed(a).keys == only_confirmed(b).keys
    a.resend()
    b.resend()
    assert a.data_to_send() == b.data_to_send() == []


@pytest.mark.parametrize(
    "frame",
    [
        b"\x07hello",
        b"\x00",
        b"\xff" + bytes(33),
        bytes([PAKE]),
        bytes([PAKE]) + b"S",
        bytes([PAKE]) + b"A" + bytes(32),
        bytes([PAKE]) + bytes(33),
        bytes([PAKE]) + b"S" + b"\xff" * 32,
    ],
    ids=repr,
)
def test_garbage_frame_raises_wrong_code(frame: bytes) -> None:
    a = Handshake("agent", CODE, os.urandom)
    with pytest.raises(WrongCode):
        a.receive_data(frame)
    assert a.state == "scared"
    assert a.data_to_send() == []


def test_point_not_on_curve_raises_wrong_code() -> None:
    # 'S' || 32 bytes that do not decode to a curve point: spake2 raises NotOnCurve
    rng = random.Random(7)
    hits = 0
    for _ in range(40):
        a = Handshake("agent", CODE, os.urandom)
        body = b"S" + rng.randbytes(32)
        try:
            a.receive_data(bytes([PAKE]) + body)
        except WrongCode:
            hits += 1
            assert a.state == "scared"
        else:
            assert a.state == "know_key"
    assert hits > 10


def test_truncated_pake_raises_wrong_code() -> None:
    a = Handshake("agent", CODE, os.urandom)
    b = Handshake("customer", CODE, os.urandom)
    a.data_to_send()
    (pb,) = b.data_to_send()
    with pytest.raises(WrongCode):
        a.receive_data(pb[:-1])
    assert a.state == "scared"


@pytest.mark.parametrize("cut", [1, 2, 16, 32])
def test_truncated_confirm_raises_wrong_code(cut: int) -> None:
    a = Handshake("agent", CODE, os.urandom)
    b = Handshake("customer", CODE, os.urandom)
    (pa,), (pb,) = a.data_to_send(), b.data_to_send()
    a.receive_data(pb)
    b.receive_data(pa)
    (cb,) = b.data_to_send()
    with pytest.raises(WrongCode):
        a.receive_data(cb[:-cut])
    assert a.state == "scared"
    a.receive_data(cb)  # the genuine one, too late: scared is terminal
    assert a.state == "scared"
    assert a.events_received() == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=70) | st.binary(min_size=32, max_size=32).map(lambda b: b"S" + b))
def test_fuzz_pake_body_raises_only_wrong_code(body: bytes) -> None:
    a = Handshake("agent", CODE, os.urandom)
    b = Handshake("customer", CODE, os.urandom)
    a.data_to_send()
    (pb,) = b.data_to_send()
    try:
        a.receive_data(bytes([PAKE]) + body)
    except WrongCode:
        assert a.state == "scared"
        return
    # a body that happened to be a curve point: the key is wrong, and confirmation says so
    assert a.state == "know_key"
    (ca,) = a.data_to_send()
    b.receive_data(bytes([PAKE]) + body)  # what the injector would show b, were it a point
    with pytest.raises(WrongCode):
        b.receive_data(ca)
    with pytest.raises(WrongCode):
        a.receive_data(bytes([CONFIRM]) + bytes(32))
    assert a.state == "scared"


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=80))
def test_fuzz_confirm_body_raises_only_wrong_code(body: bytes) -> None:
    a = Handshake("agent", CODE, seeded(3))
    b = Handshake("customer", CODE, seeded(4))
    a.data_to_send()
    (pb,) = b.data_to_send()
    a.receive_data(pb)
    with pytest.raises(WrongCode):
        a.receive_data(bytes([CONFIRM]) + body)
    assert a.state == "scared"


def test_empty_frame_is_ignored_and_scared_is_terminal() -> None:
    a = Handshake("agent", CODE, os.urandom)
    a.receive_data(b"")
    assert a.state == "know_code"
    with pytest.raises(WrongCode):
        a.receive_data(b"\x09")
    b = Handshake("customer", CODE, os.urandom)
    a.receive_data(b.data_to_send()[0])  # ignored once scared
    assert a.state == "scared"
    assert a.data_to_send() == []


def test_unknown_role_is_rejected() -> None:
    with pytest.raises(ValueError):
        Handshake("relay", CODE, os.urandom)
