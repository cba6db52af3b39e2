"""The relay's control envelope: round trips and strict rejection of anything malformed."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cobrowse.wire.envelope import (
    CLIENT_MESSAGES,
    ERROR_CODES,
    FATAL_ERROR_CODES,
    MAX_CONTROL_BYTES,
    RELAY_MESSAGES,
    Claim,
    Claimed,
    Close,
    Closed,
    Confirm,
    Error,
    MalformedMessage,
    Message,
    Open,
    Opened,
    Peer,
    Ping,
    Pong,
    Release,
    Released,
    Report,
    Reported,
    Resume,
    Resumed,
    decode_client,
    decode_relay,
)
from cobrowse.wire.envelope import Enqueue, Pick, Picked, Queued, QueueList, Watch

CLIENT_SAMPLES: list[Message] = [
    Open("agent", 1),
    Open("customer", 1, token="tok-123"),
    Claim("customer", 1, "42"),
    Claim("agent", 2, "999999", token="t"),
    Resume("42", "side-secret"),
    Close(),
    Close("customer ended"),
    Ping(),
    Report(),
    Confirm(),
    Release(),
    Release(2),
    Claim("agent", 1, "42", ticket="t1"),
    Enqueue("0123456789abcdef", "git push rejected", "ru"),
    Watch("0123456789abcdef", 1, "tok"),
    Pick("q1"),
]
RELAY_SAMPLES: list[Message] = [
    Opened("42", "side-secret", 600.0),
    Opened("42", "side-secret", 0.5),
    Claimed("42", "other-side"),
    Resumed("42", True),
    Resumed("42", False),
    Peer("joined"),
    Peer("left"),
    Peer("back"),
    Closed("ended"),
    Closed("expired", "the session expired"),
    Error.of("taken"),
    Error.of("too_large", "70000 bytes"),
    Error("custom", ""),
    Pong(),
    Reported("42"),
    Released("failed", 1),
    Released("timeout"),
    Queued("q1", 2, 60.0, 1),
    QueueList("0123456789abcdef", [{"id": "q1", "topic": "t", "lang": "", "waiting_s": 1.5}], 1),
    Picked("q1", "42", "ticket"),
]


@pytest.mark.parametrize("text", [
    '{"type":"released","reason":"bogus","failures":1}',
    '{"type":"released","reason":"failed","failures":-1}',
    '{"type":"released","reason":"failed","failures":"1"}',
])
def test_released_is_strict(text: str) -> None:
    with pytest.raises(MalformedMessage):
        decode_relay(text)


def test_samples_cover_every_message_type() -> None:
    assert {type(m) for m in CLIENT_SAMPLES} == set(CLIENT_MESSAGES.values())
    assert {type(m) for m in RELAY_SAMPLES} == set(RELAY_MESSAGES.values())


@pytest.mark.parametrize("message", CLIENT_SAMPLES, ids=repr)
def test_client_round_trip(message: Message) -> None:
    text = message.encode()
    assert json.loads(text)["type"] == message.type
    assert decode_client(text) == message
    assert decode_client(text.encode()) == message
    with pytest.raises(MalformedMessage, match="unknown message type"):
        decode_relay(text)  # a client message is not a relay message


@pytest.mark.parametrize("message", RELAY_SAMPLES, ids=repr)
def test_relay_round_trip(message: Message) -> None:
    text = message.encode()
    assert decode_relay(text) == message
    assert decode_relay(text.encode()) == message
    with pytest.raises(MalformedMessage):
        decode_client(text)


def test_optional_none_is_omitted_and_null_accepted() -> None:
    assert "token" not in json.loads(Open("agent", 1).encode())
    assert decode_client('{"type":"open","role":"agent","version":1,"token":null}') == Open("agent", 1)


def test_defaults_and_extra_fields() -> None:
    assert decode_client('{"type":"close"}') == Close("ended")
    assert decode_relay('{"type":"pong","future":[1,2]}') == Pong()
    assert decode_relay('{"type":"opened","nameplate":"4","side":"s","ttl":30}') == Opened("4", "s", 30)


def test_error_of_uses_the_human_text() -> None:
    assert Error.of("taken").message == ERROR_CODES["taken"]
    assert Error.of("taken", "x").message == f"{ERROR_CODES['taken']} (x)"
    assert Error.of("weird").message == "weird"
    assert "not_in_session" not in FATAL_ERROR_CODES
    assert "unauthorized" in FATAL_ERROR_CODES


MALFORMED_CLIENT = [
    "not json",
    "{",
    b"\xff\xfe\x00",
    "",
    "[1, 2]",
    '"open"',
    "null",
    "42",
    "{}",
    '{"type": 1}',
    '{"type": null}',
    '{"type": "nope"}',
    '{"type": "opened", "nameplate": "4", "side": "s", "ttl": 1}',  # relay message to the relay
    '{"type": "open", "version": 1}',  # missing role
    '{"type": "open", "role": "agent"}',  # missing version
    '{"type": "open", "role": "agent", "version": "1"}',
    '{"type": "open", "role": "agent", "version": 1.0}',
    '{"type": "open", "role": "agent", "version": true}',  # bool is not an int
    '{"type": "open", "role": "agent", "version": null}',
    '{"type": "open", "role": null, "version": 1}',
    '{"type": "open", "role": 7, "version": 1}',
    '{"type": "open", "role": "admin", "version": 1}',
    '{"type": "open", "role": "Agent", "version": 1}',
    '{"type": "open", "role": "agent", "version": 1, "token": 5}',
    '{"type": "claim", "role": "customer", "version": 1, "nameplate": 42}',
    '{"type": "claim", "role": "relay", "version": 1, "nameplate": "42"}',
    '{"type": "resume", "nameplate": "42"}',
    '{"type": "resume", "nameplate": "42", "side": ["x"]}',
    '{"type": "close", "reason": false}',
    '{"type": "ping"' + " " * MAX_CONTROL_BYTES + "}",  # oversize
    "[" * 3000 + "]" * 1000,  # nesting deep enough to blow the recursion limit, still small
]

MALFORMED_RELAY = [
    '{"type": "ping"}',  # client message to a client
    '{"type": "opened", "nameplate": "42", "side": "s"}',
    '{"type": "opened", "nameplate": "42", "side": "s", "ttl": "600"}',
    '{"type": "opened", "nameplate": "42", "side": "s", "ttl": true}',  # bool is not a number
    '{"type": "resumed", "nameplate": "42", "peer": 1}',  # int is not a bool
    '{"type": "resumed", "nameplate": "42", "peer": "true"}',
    '{"type": "peer", "state": "gone"}',
    '{"type": "peer", "state": null}',
    '{"type": "peer"}',
    '{"type": "error", "message": "x"}',
    '{"type": "error", "code": 429}',
    '{"type": "closed", "reason": "x", "message": {}}',
    '{"type": "pong", "x": "' + "a" * MAX_CONTROL_BYTES + '"}',
    b'{"type": "pong", "x": "' + b"a" * MAX_CONTROL_BYTES + b'"}',
    '{"type": "pong", "x": ' + "[" * 2000 + "]" * 2000 + "}",
]


@pytest.mark.parametrize("text", MALFORMED_CLIENT, ids=lambda t: repr(t)[:60])
def test_malformed_client_messages(text: str | bytes) -> None:
    with pytest.raises(MalformedMessage):
        decode_client(text)


@pytest.mark.parametrize("text", MALFORMED_RELAY, ids=lambda t: repr(t)[:60])
def test_malformed_relay_messages(text: str | bytes) -> None:
    with pytest.raises(MalformedMessage):
        decode_relay(text)


def test_size_limit_boundary() -> None:
    base = '{"type":"ping","pad":""}'
    exactly = base.replace('""', '"' + "x" * (MAX_CONTROL_BYTES - len(base)) + '"')
    assert len(exactly) == MAX_CONTROL_BYTES
    assert decode_client(exactly) == Ping()
    with pytest.raises(MalformedMessage, match="over"):
        decode_client(exactly.replace('"x', '"xx'))


def test_malformed_is_a_value_error_with_a_reason() -> None:
    with pytest.raises(ValueError, match="missing 'role'"):
        decode_client('{"type":"open","version":1}')


_ALL_TYPES = sorted(set(CLIENT_MESSAGES) | set(RELAY_MESSAGES))
_FIELDS = sorted({"role", "version", "token", "nameplate", "side", "reason", "ttl", "peer", "state", "code", "message"})
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
_field_values = st.none() | st.booleans() | st.integers(-2, 700) | st.floats(allow_nan=False) | st.sampled_from(
    ["agent", "customer", "joined", "left", "back", "42", ""]
) | _json


@st.composite
def _envelopes(draw: st.DrawFn) -> str:
    obj = draw(st.dictionaries(st.sampled_from(_FIELDS), _field_values, max_size=5))
    obj["type"] = draw(st.sampled_from(_ALL_TYPES) | _field_values)
    return json.dumps(obj)


@settings(max_examples=300)
@given(st.text() | st.binary() | _envelopes())
def test_fuzz_decode_raises_only_malformed(text: str | bytes) -> None:
    for decode in (decode_client, decode_relay):
        try:
            message = decode(text)
        except MalformedMessage:
            continue
        assert isinstance(message, Message)
        assert decode(message.encode()) == message  # whatever is accepted round-trips


def test_clients_describe_relay_reasons_in_their_own_words() -> None:
    """A hostile relay cannot put its own text in front of the user."""
    from cobrowse.wire.envelope import describe_close, describe_error

    assert describe_close("peer_timeout") == (
        "the other side's connection dropped and they did not come back in time: the session is over")
    assert describe_error("expired") == "that session code has expired: ask for a new code"
    phishing = "Your bank account is locked! Call +1 555 0100 now"
    assert describe_close(phishing) == "the relay ended the session (unknown)"
    assert describe_close("maintenance_window: call 555") == "the relay ended the session (maintenance_window)"
    assert "555" not in describe_error("x Call +1 555") and "Call" not in describe_error("x Call +1 555")
