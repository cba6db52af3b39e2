"""Application messages: versioned encode/decode, compression, and strict rejection."""

from __future__ import annotations

from cobrowse.protocol import messages as m

import json
import os
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cobrowse.protocol.untrusted import CAPS, Field
from cobrowse.protocol.messages import (
    COMPRESS_OVER,
    CONSENT_LEVELS,
    MAX_PAYLOAD,
    MAX_TEXT,
    MESSAGES,
    PLAIN,
    ZLIB,
    AgentProof,
    AppMessage,
    IdentitySeen,
    Invite,
    InviteCode,
    Leave,
    Viewers,
    Chat,
    Consent,
    End,
    Feedback,
    Hello,
    Keys,
    MalformedPayload,
    Ping,
    Pointer,
    Pong,
    PushPlaybook,
    Redact,
    StepRequest,
    Steps,
    Suggest,
    SuggestAnswer,
    RecordRequest,
    Recording,
    RequestControl,
    Resync,
    untrusted_text,
    Screen,
    Sharing,
    Unknown,
    decode,
    encode,
)

SAMPLES: list[AppMessage] = [
    Hello("agent", "cobrowse/0.1.0", "Ann at support"),
    Hello("customer", "cobrowse/0.1.0"),
    Chat("hello"),
    Chat("é ñ 日本 🙂 \x1b[31m"),
    Chat(""),
    Screen({"kind": "snapshot", "rows": ["$ ls", "a b c"], "cursor": [1, 5], "alt": False}),
    Screen({}),
    Resync(),
    Sharing(True),
    Sharing(False),
    RequestControl("control"),
    RequestControl("suggest"),
    Consent("view"),
    Consent("control"),
    Keys("ls -la\r\x1b[A"),
    End("customer_ended"),
    End("timeout", "nobody answered"),
    Ping(0),
    Pong(2**31 - 1),
    PushPlaybook({"title": "t", "steps": [{"title": "s"}]}),
    StepRequest("mark", 0, "done"),
    StepRequest("back"),
    Steps({"title": "t", "current": 0, "steps": []}),
    Suggest(1, "ls -la"),
    SuggestAnswer(1, "pasted"),
    Pointer(2, 4),
    Pointer(pattern="error"),
    Pointer(),
    m.Rtc("data", "offer", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"),
    m.Rtc("call", "answer", "v=0\r\n", gen=2),
    m.Call("invite"),
    m.Call("hangup", "no answer"),
    Redact(["ACME-[0-9]{8}", "ticket #\\d+"]),
    # recordings, receipts and the end of a session
    End("agent_ended", "bye", feedback=True),
    Feedback("yes", 5),
    Feedback(),
    RecordRequest(True),
    RecordRequest(False),
    Recording("granted"),
    Recording("stopped"),
    AgentProof({"format": "cobrowse-agent-credential/1", "agent": "Alice"}, "c2lnbmF0dXJl"),
    IdentitySeen("verified", "Alice", "Acme", "Acme vouches for Alice"),
    IdentitySeen("none"),
    Chat("passed on", name="Alice"),
    Invite(), InviteCode(code="1234-56789012"), InviteCode(error="too many"), Leave(),
    Viewers([{"id": 1, "name": "Alice", "control": False, "you": True}]),
]


def raw(obj: object, encoding: int = PLAIN) -> bytes:
    body = json.dumps(obj).encode()
    return bytes([encoding]) + (zlib.compress(body) if encoding == ZLIB else body)


def test_samples_cover_every_message() -> None:
    assert {type(m) for m in SAMPLES} == set(MESSAGES.values())


@pytest.mark.parametrize("message", SAMPLES, ids=repr)
def test_round_trip(message: AppMessage) -> None:
    payload = encode(message)
    assert decode(payload) == untrusted_text(message)  # peer text arrives escaped and capped
    assert json.loads(payload[1:])["t"] == message.t


def test_large_payloads_are_compressed_small_ones_are_not() -> None:
    small = encode(Chat("hi"))
    assert small[0] == PLAIN
    big_msg = Screen({"rows": ["$ " + "x" * 78] * 40})
    big = encode(big_msg)
    assert big[0] == ZLIB
    assert len(big) < len(json.dumps(big_msg.to_json()))
    assert decode(big) == big_msg
    assert b"xxxxxxxx" not in big


def test_compression_threshold() -> None:
    def body_len(m: AppMessage) -> int:
        return len(json.dumps(m.to_json(), separators=(",", ":"), ensure_ascii=False).encode())

    overhead = body_len(Chat(""))
    at = Chat("a" * (COMPRESS_OVER - overhead))
    over = Chat("a" * (COMPRESS_OVER - overhead + 1))
    assert body_len(at) == COMPRESS_OVER
    assert encode(at)[0] == PLAIN
    assert encode(over)[0] == ZLIB


def test_incompressible_large_payload_stays_plain() -> None:
    rng_text = "".join(chr(0x4E00 + b) + chr(0x4E00 + 256 + c) for b, c in zip(os.urandom(600), os.urandom(600)))
    message = Chat(rng_text[:CAPS[Field.CHAT]])
    payload = encode(message)
    assert len(payload) > COMPRESS_OVER
    if payload[0] == PLAIN:  # zlib did not pay
        assert len(zlib.compress(payload[1:], 6)) >= len(payload) - 1
    assert decode(payload) == message


def test_unknown_types_decode_to_unknown() -> None:
    assert decode(raw({"t": "voice_offer", "sdp": "..."})) == Unknown("voice_offer")
    assert decode(raw({"t": "future"}, ZLIB)) == Unknown("future")
    long = decode(raw({"t": "z" * 500}))
    assert isinstance(long, Unknown) and long.type == "z" * 63 + "…"


def test_missing_optional_fields_take_defaults_and_extra_fields_are_ignored() -> None:
    assert decode(raw({"t": "hello", "role": "agent", "client": "x"})) == Hello("agent", "x", "")
    assert decode(raw({"t": "end", "reason": "r", "extra": [1]})) == End("r")


def zip_bomb() -> bytes:
    body = b'{"t":"chat","text":"' + b"a" * (MAX_PAYLOAD + 1024) + b'"}'
    return bytes([ZLIB]) + zlib.compress(body, 9)


MALFORMED = {
    "empty": b"",
    "bad encoding byte": b"\x02" + json.dumps({"t": "chat", "text": "x"}).encode(),
    "encoding 0xff": b"\xff{}",
    "bad zlib": b"\x01this is not zlib",
    "zlib garbage after header": b"\x01\x78\x9c\xff\xff\xff\xff",
    "zip bomb": zip_bomb(),
    "not json": b"\x00not json",
    "not utf-8": b"\x00\xff\xfe\xfd",
    "json array": raw([1, 2]),
    "json string": raw("chat"),
    "no type": raw({"text": "x"}),
    "type not string": raw({"t": 5}),
    "missing field": raw({"t": "chat"}),
    "chat text int": raw({"t": "chat", "text": 5}),
    "chat text null": raw({"t": "chat", "text": None}),
    "sharing int for bool": raw({"t": "sharing", "active": 1}),
    "sharing string": raw({"t": "sharing", "active": "yes"}),
    "screen list": raw({"t": "screen", "frame": []}),
    "keys bytes list": raw({"t": "keys", "data": [104, 105]}),
    "hello name bool": raw({"t": "hello", "role": "agent", "client": "x", "name": True}),
    "hello bad role": raw({"t": "hello", "role": "relay", "client": "x"}),
    "request bad level": raw({"t": "request_control", "level": "root"}),
    "consent bad level": raw({"t": "consent", "level": "CONTROL"}),
    "consent level int": raw({"t": "consent", "level": 2}),
    "chat too long": raw({"t": "chat", "text": "x" * (MAX_TEXT + 1)}),
    "chat too long compressed": raw({"t": "chat", "text": "x" * (MAX_TEXT + 1)}, ZLIB),
    "redact patterns not a list": raw({"t": "redact", "patterns": "ACME-.*"}),
    "redact pattern not a string": raw({"t": "redact", "patterns": ["a", 5]}),
    "redact empty pattern": raw({"t": "redact", "patterns": [""]}),
    "redact pattern too long": raw({"t": "redact", "patterns": ["x" * 501]}),
    "redact too many patterns": raw({"t": "redact", "patterns": ["x"] * 101}),
    "deep nesting": b"\x00" + b"[" * 100_000 + b"]" * 100_000,
    "deep nesting compressed": b"\x01" + zlib.compress(b'{"t":"screen","frame":' + b"[" * 100_000 + b"}"),
}


@pytest.mark.parametrize("payload", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed(payload: bytes) -> None:
    with pytest.raises(MalformedPayload):
        decode(payload)


def test_zip_bomb_is_small_on_the_wire_and_named() -> None:
    bomb = zip_bomb()
    assert len(bomb) < MAX_PAYLOAD // 100
    with pytest.raises(MalformedPayload, match="too large"):
        decode(bomb)


def test_limits_are_inclusive() -> None:
    assert decode(raw({"t": "chat", "text": "x" * MAX_TEXT})) == Chat("x" * (CAPS[Field.CHAT] - 1) + "…")
    for level in CONSENT_LEVELS:
        assert decode(encode(Consent(level))) == Consent(level)
        assert decode(encode(RequestControl(level))) == RequestControl(level)


_texts = st.text(max_size=50)
_messages = st.one_of(
    st.builds(Hello, st.sampled_from(["agent", "customer"]), _texts, _texts),
    st.builds(Chat, st.text(max_size=MAX_TEXT)),
    st.builds(Screen, st.dictionaries(_texts, st.lists(_texts, max_size=5) | st.integers() | st.booleans(), max_size=8)),
    st.just(Resync()),
    st.builds(Sharing, st.booleans()),
    st.builds(RequestControl, st.sampled_from(CONSENT_LEVELS)),
    st.builds(Consent, st.sampled_from(CONSENT_LEVELS)),
    st.builds(Keys, _texts),
    st.builds(End, _texts, _texts),
)


@given(_messages)
def test_fuzz_round_trip(message: AppMessage) -> None:
    assert decode(encode(message)) == untrusted_text(message)


@settings(max_examples=300)
@given(
    st.binary(max_size=300)
    | st.binary(max_size=300).map(lambda b: b"\x00" + b)
    | st.binary(max_size=300).map(lambda b: b"\x01" + zlib.compress(b))
    | st.dictionaries(st.sampled_from(["t", "text", "level", "active", "frame", "role", "client", "data"]),
                      st.none() | st.booleans() | st.integers() | st.text(max_size=8)
                      | st.sampled_from(list(MESSAGES)), max_size=4).map(raw)
)
def test_fuzz_decode_raises_only_malformed(payload: bytes) -> None:
    try:
        message = decode(payload)
    except MalformedPayload:
        return
    assert isinstance(message, AppMessage)


@pytest.mark.parametrize("obj", [
    {"t": "feedback", "solved": "maybe"},
    {"t": "feedback", "solved": "yes", "rating": 6},
    {"t": "feedback", "rating": -1},
    {"t": "feedback", "rating": True},
    {"t": "record"},
    {"t": "record", "on": 1},
    {"t": "recording", "state": "on"},
])
def test_feedback_and_recording_messages_are_checked(obj: dict) -> None:
    with pytest.raises(MalformedPayload):
        decode(raw(obj))


def test_an_older_end_without_feedback_asks_for_none() -> None:
    assert decode(raw({"t": "end", "reason": "agent_ended"})) == End("agent_ended")
