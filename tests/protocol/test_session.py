"""Two Session machines back to back through an in-memory relay, honest and adversarial."""

from __future__ import annotations

import os
import random
import zlib
from typing import Callable

import pytest

from cobrowse.crypto.channel import ACK, DATA
from cobrowse.crypto.handshake import HANDSHAKE_KINDS
from cobrowse.errors import TamperedFrame, WrongCode
from cobrowse.protocol import messages
from cobrowse.protocol.messages import AppMessage, Chat, Screen
from cobrowse.protocol.session import ACK_DELAY, ACK_RIDE, Integrity, Paired, Received, Session
from cobrowse.wire.code import Code

CODE = Code("42", "71930518")
CANARY = b"CANARY-7f3a9"
SCREEN_CANARY = b"SCREEN-CANARY-c0ffee"


def seeded(seed: int) -> Callable[[int], bytes]:
    rng = random.Random(seed)
    return lambda n: rng.randbytes(n)


class Relay:
    """A relay between two sessions: a list of frames per direction, recording every byte.

    ``hold`` keeps frames in flight; the test decides what to deliver, drop, alter or repeat.
    """

    def __init__(self, a: Session, b: Session) -> None:
        self.a, self.b = a, b
        self.to_b: list[bytes] = []
        self.to_a: list[bytes] = []
        self.recording: list[bytes] = []
        self.events: dict[str, list] = {"a": [], "b": []}

    def collect(self) -> None:
        for frame in self.a.data_to_send():
            self.recording.append(frame)
            self.to_b.append(frame)
        for frame in self.b.data_to_send():
            self.recording.append(frame)
            self.to_a.append(frame)

    def take_to_b(self) -> list[bytes]:
        self.collect()
        out, self.to_b = self.to_b, []
        return out

    def take_to_a(self) -> list[bytes]:
        self.collect()
        out, self.to_a = self.to_a, []
        return out

    def deliver_to_b(self, frame: bytes, now: float) -> None:
        self.b.receive_data(frame, now)
        self.events["b"].extend(self.b.events_received())

    def deliver_to_a(self, frame: bytes, now: float) -> None:
        self.a.receive_data(frame, now)
        self.events["a"].extend(self.a.events_received())

    def pump(self, now: float) -> None:
        """Deliver everything in both directions, in order, until both sides are quiet."""
        for _ in range(50):
            self.collect()
            if not self.to_a and not self.to_b:
                return
            to_b, self.to_b = self.to_b, []
            to_a, self.to_a = self.to_a, []
            for frame in to_b:
                self.deliver_to_b(frame, now)
            for frame in to_a:
                self.deliver_to_a(frame, now)
        raise AssertionError("the sessions did not settle")

    def received(self, side: str) -> list[AppMessage]:
        return [e.message for e in self.events[side] if isinstance(e, Received)]

    def integrity(self, side: str) -> list[str]:
        return [e.kind for e in self.events[side] if isinstance(e, Integrity)]


def paired(now: float = 0.0, *, a_ent=os.urandom, b_ent=os.urandom) -> Relay:
    relay = Relay(Session("agent", CODE, a_ent), Session("customer", CODE, b_ent))
    relay.a.peer_joined(now)
    relay.b.peer_joined(now)
    relay.pump(now)
    assert relay.a.state == relay.b.state == "paired"
    return relay


def chat_texts(msgs: list[AppMessage]) -> list[str]:
    return [m.text for m in msgs if isinstance(m, Chat)]


def test_pairing_gives_both_sides_the_same_sas() -> None:
    relay = paired()
    pa = [e for e in relay.events["a"] if isinstance(e, Paired)]
    pb = [e for e in relay.events["b"] if isinstance(e, Paired)]
    assert len(pa) == len(pb) == 1
    assert pa[0].sas == pb[0].sas == relay.a.sas == relay.b.sas
    assert relay.integrity("a") == relay.integrity("b") == []


def test_pairing_when_only_one_side_hears_of_the_other() -> None:
    # only the agent is told its peer joined; the customer starts when the PAKE arrives
    relay = Relay(Session("agent", CODE, os.urandom), Session("customer", CODE, os.urandom))
    relay.a.peer_joined(0.0)
    relay.pump(0.0)
    assert relay.a.state == relay.b.state == "paired"


def test_chat_both_ways_in_order_exactly_once() -> None:
    relay = paired()
    now = 1.0
    for i in range(5):
        relay.a.send(Chat(f"a{i}"), now)
        relay.b.send(Chat(f"b{i}"), now)
        if i % 2:
            relay.pump(now)
        now += 0.01
    relay.pump(now)
    assert chat_texts(relay.received("b")) == [f"a{i}" for i in range(5)]
    assert chat_texts(relay.received("a")) == [f"b{i}" for i in range(5)]
    assert relay.integrity("a") == relay.integrity("b") == []


def test_messages_sent_before_pairing_are_queued_then_delivered() -> None:
    now = 500.0
    relay = Relay(Session("agent", CODE, os.urandom), Session("customer", CODE, os.urandom))
    relay.a.send(Chat("early 1"), now)
    relay.a.send(Chat("early 2"), now)
    relay.b.send(Chat("early from customer"), now)
    assert relay.a.data_to_send() == relay.b.data_to_send() == []  # nothing sealed yet
    relay.a.peer_joined(now)
    relay.b.peer_joined(now)
    relay.pump(now)
    assert chat_texts(relay.received("b")) == ["early 1", "early 2"]
    assert chat_texts(relay.received("a")) == ["early from customer"]
    # they count as sent when pairing happened, not at time zero: no spurious retransmission
    for t in (now + 0.01, now + ACK_DELAY, now + 0.1):
        relay.a.tick(t)
        relay.b.tick(t)
        relay.pump(t)
    assert relay.integrity("a") == relay.integrity("b") == []
    assert relay.a.unacked_bytes == relay.b.unacked_bytes == 0


def test_tick_sends_an_ack_after_ack_delay() -> None:
    relay = paired(now=10.0)
    relay.a.send(Chat("hi"), 10.0)
    for frame in relay.take_to_b():
        relay.deliver_to_b(frame, 10.0)
    assert relay.a.unacked_bytes > 0
    assert relay.b.next_deadline() == pytest.approx(10.0 + ACK_DELAY)
    relay.b.tick(10.0 + ACK_DELAY / 2)
    assert relay.take_to_a() == []
    relay.b.tick(10.0 + ACK_DELAY)
    (ack,) = relay.take_to_a()
    assert ack[0] == ACK
    assert relay.b.next_deadline() is None
    relay.deliver_to_a(ack, 10.1)
    assert relay.a.unacked_bytes == 0
    relay.a.tick(100.0)
    relay.b.tick(100.0)
    assert relay.take_to_a() == relay.take_to_b() == []  # nothing to retransmit, nothing to ack


def test_tick_retransmits_a_dropped_frame() -> None:
    relay = paired()
    relay.a.send(Chat("lost"), 1.0)
    assert len(relay.take_to_b()) == 1  # dropped
    relay.a.tick(1.5)
    assert relay.take_to_b() == []
    relay.a.tick(3.0)
    (again,) = relay.take_to_b()
    relay.deliver_to_b(again, 3.0)
    assert chat_texts(relay.received("b")) == ["lost"]


# (a) the relay learns nothing


def contains_canary(blob: bytes, canary: bytes) -> bool:
    """True if the canary is in the bytes, or in anything that zlib-decompresses from them."""
    if canary in blob:
        return True
    for offset in range(len(blob)):
        if blob[offset] not in (0x78, 0x08, 0x18, 0x28, 0x38, 0x48, 0x58, 0x68):  # zlib CMF bytes
            continue
        try:
            inflated = zlib.decompressobj().decompress(blob[offset:], 10 * 1024 * 1024)
        except zlib.error:
            continue
        if canary in inflated:
            return True
    return False


def test_canary_detector_control() -> None:
    # the detector must see the canary in unsealed payloads, compressed or not
    assert contains_canary(messages.encode(Chat(CANARY.decode())), CANARY)
    payload = messages.encode(Screen({"rows": [SCREEN_CANARY.decode() + " " * 70] * 30}))
    assert payload[0] == messages.ZLIB and SCREEN_CANARY not in payload
    assert contains_canary(b"junk" + payload[1:] + b"junk", SCREEN_CANARY)


def test_relay_recording_holds_no_plaintext() -> None:
    relay = paired(a_ent=seeded(1), b_ent=seeded(2))
    relay.a.send(Chat("secret " + CANARY.decode()), 1.0)
    relay.b.send(Chat(CANARY.decode() * 3), 1.0)
    screen = Screen({"kind": "snapshot", "rows": [f"{SCREEN_CANARY.decode()} row {i}" + " " * 60 for i in range(30)]})
    relay.b.send(screen, 1.0)
    relay.b.send(Screen({"rows": [SCREEN_CANARY.decode()]}), 1.0)  # small: not compressed
    relay.pump(1.0)
    relay.a.tick(2.0)
    relay.b.tick(2.0)
    relay.pump(2.0)
    assert relay.received("a")[-2:] == [screen, Screen({"rows": [SCREEN_CANARY.decode()]})]
    assert chat_texts(relay.received("b")) == ["secret " + CANARY.decode()]
    assert len(relay.recording) >= 8
    everything = b"".join(relay.recording)
    for canary in (CANARY, SCREEN_CANARY, CANARY.lower(), b"secret"):
        assert canary not in everything
        for frame in relay.recording:
            assert not contains_canary(frame, canary)
    assert not contains_canary(everything, SCREEN_CANARY)
    # nor the secret of the code
    assert CODE.secret.encode() not in everything
    assert CODE.password not in everything


# (b) tamper, replay, reorder, drop


@pytest.mark.parametrize("position", [0, 1, 8, 9, 10, -17, -16, -1])
def test_tampered_frame_scares_the_receiver_and_is_never_delivered(position: int) -> None:
    relay = paired()
    relay.a.send(Chat("transfer 10 EUR"), 1.0)
    (frame,) = relay.take_to_b()
    assert frame[0] == DATA
    bad = bytearray(frame)
    bad[position] ^= 0x01
    with pytest.raises(TamperedFrame):
        relay.b.receive_data(bytes(bad), 1.0)
    assert relay.b.state == "scared"
    relay.events["b"].extend(relay.b.events_received())
    assert relay.received("b") == []
    assert relay.b.data_to_send() == []
    # the genuine frame, afterwards: scared is terminal, nothing is delivered
    relay.deliver_to_b(frame, 1.0)
    assert relay.received("b") == []
    relay.b.send(Chat("anything"), 1.0)
    relay.b.tick(10.0)
    assert relay.b.data_to_send() == []


def test_truncated_frame_scares_the_receiver() -> None:
    relay = paired()
    relay.a.send(Chat("x"), 1.0)
    (frame,) = relay.take_to_b()
    with pytest.raises(TamperedFrame):
        relay.b.receive_data(frame[:-1], 1.0)
    assert relay.b.state == "scared"


def test_tampered_ack_scares_the_sender() -> None:
    relay = paired()
    relay.a.send(Chat("x"), 1.0)
    for f in relay.take_to_b():
        relay.deliver_to_b(f, 1.0)
    relay.b.tick(2.0)
    (ack,) = relay.take_to_a()
    with pytest.raises(TamperedFrame):
        relay.a.receive_data(ack[:-1] + bytes([ack[-1] ^ 0x80]), 2.0)
    assert relay.a.state == "scared"


def test_sealed_frame_relabelled_as_handshake_is_dropped_not_delivered() -> None:
    # the relay can always drop a frame; relabelling one as a handshake frame is only that
    relay = paired()
    relay.a.send(Chat("1"), 1.0)
    relay.a.send(Chat("2"), 1.0)
    f1, f2 = relay.take_to_b()
    relay.deliver_to_b(bytes([HANDSHAKE_KINDS[0]]) + f1[1:], 1.0)
    assert relay.received("b") == []
    relay.deliver_to_b(f2, 1.0)
    assert relay.received("b") == [] and relay.integrity("b") == ["gap"]
    relay.pump(1.0)
    assert chat_texts(relay.received("b")) == ["1", "2"]


def test_replay_is_reported_and_not_delivered_twice() -> None:
    relay = paired()
    relay.a.send(Chat("pay once"), 1.0)
    (frame,) = relay.take_to_b()
    relay.deliver_to_b(frame, 1.0)
    relay.deliver_to_b(frame, 1.1)
    relay.deliver_to_b(frame, 5.0)
    assert chat_texts(relay.received("b")) == ["pay once"]
    assert relay.integrity("b") == ["duplicate", "duplicate"]
    assert relay.b.state == "paired"


def test_replayed_ack_is_reported() -> None:
    relay = paired()
    relay.a.send(Chat("x"), 1.0)
    for f in relay.take_to_b():
        relay.deliver_to_b(f, 1.0)
    relay.b.tick(2.0)
    (ack,) = relay.take_to_a()
    relay.deliver_to_a(ack, 2.0)
    relay.deliver_to_a(ack, 2.1)
    assert relay.integrity("a") == ["replayed_ack"]


def test_reorder_is_a_gap_then_recovered_once_in_order() -> None:
    relay = paired()
    for i in range(1, 5):
        relay.a.send(Chat(f"m{i}"), 1.0)
    f1, f2, f3, f4 = relay.take_to_b()
    relay.deliver_to_b(f1, 1.0)
    relay.deliver_to_b(f3, 1.0)
    relay.deliver_to_b(f4, 1.0)
    assert chat_texts(relay.received("b")) == ["m1"]
    assert relay.integrity("b") == ["gap", "gap"]
    resend = relay.take_to_a()
    assert [f[0] for f in resend] == [ACK]  # one RESEND, not one per gap
    relay.deliver_to_b(f2, 1.0)  # the late original arrives first
    relay.deliver_to_a(resend[0], 1.0)
    retransmitted = relay.take_to_b()
    assert retransmitted == [f2, f3, f4]  # byte for byte
    for f in retransmitted:
        relay.deliver_to_b(f, 1.1)
    assert chat_texts(relay.received("b")) == ["m1", "m2", "m3", "m4"]
    assert relay.integrity("b") == ["gap", "gap", "duplicate"]


def test_dropped_frame_recovered_by_resend() -> None:
    relay = paired()
    for i in range(1, 6):
        relay.a.send(Chat(f"m{i}"), 1.0)
    frames = relay.take_to_b()
    del frames[1]  # the relay drops m2
    for f in frames:
        relay.deliver_to_b(f, 1.0)
    assert chat_texts(relay.received("b")) == ["m1"]
    relay.pump(1.0)  # the RESEND goes back, the retransmissions come through
    assert chat_texts(relay.received("b")) == [f"m{i}" for i in range(1, 6)]
    assert relay.integrity("b").count("gap") == 3
    relay.b.tick(2.0)
    relay.pump(2.0)
    assert relay.a.unacked_bytes == 0


def test_frames_lost_while_the_peer_was_away_are_retransmitted_on_return() -> None:
    relay = paired(now=0.0)
    relay.a.send(Chat("before"), 1.0)
    relay.pump(1.0)
    # the customer's connection drops; what the agent sends meanwhile is lost, and vice versa
    relay.a.peer_left()
    relay.b.peer_left()
    relay.a.send(Chat("while away 1"), 1.2)
    relay.a.send(Chat("while away 2"), 1.3)
    relay.b.send(Chat("customer while away"), 1.3)
    relay.a.tick(10.0)  # the peer is away: no retransmission into the void
    relay.take_to_b()
    relay.take_to_a()
    # both are back: each side asks for what it missed
    relay.a.peer_joined(1.5)
    relay.b.peer_joined(1.5)
    hello_again = relay.take_to_b() + relay.take_to_a()
    assert len(hello_again) == 2 and all(f[0] == ACK for f in hello_again)
    relay.to_b.append(hello_again[0])
    relay.to_a.append(hello_again[1])
    relay.pump(1.5)
    assert chat_texts(relay.received("b")) == ["before", "while away 1", "while away 2"]
    assert chat_texts(relay.received("a")) == ["customer while away"]
    assert "duplicate" not in relay.integrity("b")


def test_resend_on_return_duplicates_nothing_when_nothing_was_lost() -> None:
    relay = paired()
    relay.a.send(Chat("one"), 1.0)
    relay.pump(1.0)
    relay.b.peer_left()
    relay.b.peer_joined(2.0)
    relay.pump(2.0)
    assert chat_texts(relay.received("b")) == ["one"]
    assert relay.integrity("b") == []


def test_reconnect_during_handshake_resends_handshake() -> None:
    relay = Relay(Session("agent", CODE, os.urandom), Session("customer", CODE, os.urandom))
    relay.a.peer_joined(0.0)
    relay.take_to_b()  # the agent's PAKE is lost
    relay.b.peer_joined(0.0)
    for f in relay.take_to_a():
        relay.deliver_to_a(f, 0.0)
    relay.take_to_b()  # the agent's CONFIRM is lost too
    relay.a.peer_left()
    relay.a.peer_joined(1.0)
    relay.pump(1.0)
    assert relay.a.state == relay.b.state == "paired"
    assert relay.a.sas == relay.b.sas


def test_sealed_frame_before_pairing_is_ignored() -> None:
    other = paired()
    other.a.send(Chat("stray"), 1.0)
    (stray,) = other.take_to_b()
    fresh = Session("customer", CODE, os.urandom)
    fresh.receive_data(stray, 1.0)
    events = fresh.events_received()
    assert [e.kind for e in events if isinstance(e, Integrity)] == ["early"]
    assert not any(isinstance(e, Received) for e in events)
    assert fresh.state == "know_code"


def test_frame_from_another_session_is_tampered() -> None:
    one, two = paired(), paired()
    one.a.send(Chat("for one"), 1.0)
    (frame,) = one.take_to_b()
    with pytest.raises(TamperedFrame):
        two.b.receive_data(frame, 1.0)
    assert two.b.state == "scared"


# (c) a man in the middle


def test_wrong_code_scares_both_sides() -> None:
    relay = Relay(Session("agent", CODE, os.urandom), Session("customer", Code("42", "71930519"), os.urandom))
    relay.a.peer_joined(0.0)
    relay.b.peer_joined(0.0)
    errors = drive_through_errors(relay)
    assert set(errors) == {"a", "b"}
    assert relay.a.state == relay.b.state == "scared"


def drive_through_errors(relay: Relay) -> dict[str, Exception]:
    errors: dict[str, Exception] = {}
    for _ in range(10):
        relay.collect()
        to_b, relay.to_b = relay.to_b, []
        to_a, relay.to_a = relay.to_a, []
        if not to_a and not to_b:
            break
        for side, deliver, frames in (("b", relay.deliver_to_b, to_b), ("a", relay.deliver_to_a, to_a)):
            for frame in frames:
                try:
                    deliver(frame, 0.0)
                except WrongCode as exc:
                    errors[side] = exc
    return errors


def test_mitm_with_its_own_sessions_is_detected_and_learns_nothing() -> None:
    agent = Session("agent", CODE, os.urandom)
    customer = Session("customer", CODE, os.urandom)
    guess = Code("42", "00000000")
    fake_customer = Session("customer", guess, os.urandom)  # faces the agent
    fake_agent = Session("agent", guess, os.urandom)  # faces the customer
    agent.send(Chat(CANARY.decode()), 0.0)
    customer.send(Chat(CANARY.decode()), 0.0)
    left, right = Relay(agent, fake_customer), Relay(fake_agent, customer)
    for side in (agent, customer, fake_agent, fake_customer):
        side.peer_joined(0.0)
    errors_left = drive_through_errors(left)
    errors_right = drive_through_errors(right)
    assert "a" in errors_left and "b" in errors_right  # both real sides raised WrongCode
    assert agent.state == customer.state == "scared"
    assert fake_agent.state == fake_customer.state == "scared"
    for relay in (left, right):
        assert all(e.__class__ is not Paired for e in relay.events["a"] + relay.events["b"])
        assert relay.received("a") == relay.received("b") == []
        # nothing sealed ever went out: only handshake frames
        assert relay.recording and all(f[0] in HANDSHAKE_KINDS for f in relay.recording)
        assert not any(contains_canary(f, CANARY) for f in relay.recording)
    # and after the failure the real sides stay silent
    agent.send(Chat("more"), 1.0)
    agent.peer_joined(1.0)
    agent.tick(5.0)
    assert agent.data_to_send() == []


def test_mitm_control_correct_guess_pairs_with_different_sas() -> None:
    # control for the test above: with the right code, the same harness pairs each side with
    # the MITM, and only comparing the SAS would reveal it
    agent = Session("agent", CODE, seeded(1))
    customer = Session("customer", CODE, seeded(2))
    fake_customer = Session("customer", CODE, seeded(3))
    fake_agent = Session("agent", CODE, seeded(4))
    left, right = Relay(agent, fake_customer), Relay(fake_agent, customer)
    for side in (agent, customer, fake_agent, fake_customer):
        side.peer_joined(0.0)
    assert drive_through_errors(left) == drive_through_errors(right) == {}
    assert agent.state == customer.state == "paired"
    assert agent.sas is not None and customer.sas is not None
    assert agent.sas != customer.sas


def test_an_ack_waiting_long_enough_rides_with_the_next_frame_sent() -> None:
    """No frame of its own (a wake-up on the relay and the peer) when this side sends anyway;
    a younger one still waits, so a reply right after a frame does not double the frames."""
    relay = paired(now=10.0)
    relay.a.send(Chat("key"), 10.0)
    for frame in relay.take_to_b():
        relay.deliver_to_b(frame, 10.0)
    relay.b.send(Chat("echo"), 10.001)  # at once: the acknowledgement waits
    (echo,) = relay.take_to_a()
    assert echo[0] == DATA
    relay.b.send(Chat("later"), 10.0 + ACK_RIDE + 0.001)
    later, ack = relay.take_to_a()
    assert later[0] == DATA and ack[0] == ACK
    assert relay.b.next_deadline() is None
    relay.b.tick(10.0 + ACK_DELAY)
    assert relay.take_to_a() == []  # already acknowledged: the timer has nothing to send
    relay.deliver_to_a(echo, 10.1)
    relay.deliver_to_a(later, 10.1)
    relay.deliver_to_a(ack, 10.1)
    assert relay.a.unacked_bytes == 0
    assert chat_texts(relay.received("a")) == ["echo", "later"]


def test_frames_not_sent_go_first_again_and_arrive_in_order() -> None:
    """A callback that writes frames while the socket takes them (the runtime's ``send_ready``)
    gives the rest back: they go out first at the next ``data_to_send``, ahead of newer ones,
    and the peer gets every message once, in order, with no integrity event."""
    relay = paired()
    a, b = relay.a, relay.b
    sent_before = a.bytes_sent
    for i in range(3):
        a.send(Chat(f"first {i}"), 1.0)
    frames = a.data_to_send()
    a.not_sent(frames[1:])  # only the first could be written
    a.send(Chat("newer"), 1.1)
    again = a.data_to_send()
    assert again[: len(frames) - 1] == frames[1:]
    assert a.bytes_sent == sent_before + sum(map(len, frames)) + sum(map(len, again[len(frames) - 1:]))
    for frame in [frames[0], *again]:
        b.receive_data(frame, 1.2)
    events = b.events_received()
    assert chat_texts([e.message for e in events if isinstance(e, Received)]) == ["first 0", "first 1", "first 2", "newer"]
    assert [e for e in events if isinstance(e, Integrity)] == []
