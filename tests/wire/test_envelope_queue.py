"""The help queue's control messages: bounded and strict, whoever sends them."""

from __future__ import annotations

import pytest

from cobrowse.wire.envelope import FATAL_ERROR_CODES, MalformedMessage, decode_client, decode_relay

ORG = "0123456789abcdef"


@pytest.mark.parametrize("text", [
    '{"type":"enqueue","org":"ACME","topic":"x"}',
    '{"type":"enqueue","org":"%s","topic":"%s"}' % (ORG, "x" * 201),
    '{"type":"enqueue","org":"%s","topic":"x","lang":"%s"}' % (ORG, "x" * 17),
    '{"type":"watch","org":"%s"}' % ORG,
    '{"type":"pick","id":"../etc"}',
    '{"type":"pick","id":""}',
])
def test_bad_client_queue_messages_are_refused(text: str) -> None:
    with pytest.raises(MalformedMessage):
        decode_client(text)


@pytest.mark.parametrize("text", [
    '{"type":"queued","id":"q1","position":-1}',
    '{"type":"queued","id":"q1","position":1,"estimate_s":1e12}',
    '{"type":"queue","org":"%s","waiting":"x"}' % ORG,
    '{"type":"queue","org":"%s","waiting":[{"topic":"no id"}]}' % ORG,
    '{"type":"queue","org":"%s","waiting":[{"id":"a","topic":3}]}' % ORG,
    '{"type":"queue","org":"%s","waiting":[{"id":"a","waiting_s":true}]}' % ORG,
    '{"type":"queue","org":"%s","waiting":[%s]}' % (ORG, ",".join(['{"id":"a"}'] * 51)),
    '{"type":"picked","id":"q 1","nameplate":"42","ticket":"t"}',
])
def test_bad_relay_queue_messages_are_refused(text: str) -> None:
    with pytest.raises(MalformedMessage):
        decode_relay(text)


def test_a_lost_race_for_a_pick_is_not_fatal() -> None:
    assert "picked" not in FATAL_ERROR_CODES and "not_queued" not in FATAL_ERROR_CODES
