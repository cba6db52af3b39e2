"""The runtime's typed events print the headless lines they printed as dicts, byte for byte."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cobrowse.io.headless import json_line
from cobrowse.policy.events import Event, as_json, kind_of
from cobrowse.policy.session_events import (
    CodeShown,
    ConnectionState,
    DataPath,
    EndReason,
    ErrorKind,
    PathChanged,
    PeerBack,
    PeerHello,
    PeerLeft,
    Reconnecting,
    Resumed,
    SessionEnded,
    SessionError,
    SessionPaired,
    SessionWarning,
    VoiceChanged,
    WarningKind,
)

#: Each typed event with the dict the runtime emitted before (key order included).
CASES: list[tuple[Event, dict[str, Any]]] = [
    (CodeShown("123-4567-8901", "one two", "cobrowse join 123-4567-8901", "ws://127.0.0.1:1"),
     {"event": "code", "code": "123-4567-8901", "spoken": "one two", "customer_command": "cobrowse join 123-4567-8901",
      "relay": "ws://127.0.0.1:1"}),
    (CodeShown("1", "s", "c", "r", renewed=True, message="the new code is 1"),
     {"event": "code", "code": "1", "spoken": "s", "customer_command": "c", "relay": "r", "renewed": True,
      "message": "the new code is 1"}),
    (SessionPaired("apple pear"), {"event": "paired", "sas": "apple pear"}),
    (PeerHello("customer", "Bob", "cobrowse 1.0"),
     {"event": "hello", "role": "customer", "name": "Bob", "client": "cobrowse 1.0"}),
    (PeerHello("customer", "", "c", "ru", "яблоко (yabloko)"),
     {"event": "hello", "role": "customer", "name": "", "client": "c", "lang": "ru", "sas_words": "яблоко (yabloko)"}),
    (SessionEnded(EndReason.AGENT_ENDED, "the agent ended the session"),
     {"event": "ended", "reason": "agent_ended", "message": "the agent ended the session"}),
    (SessionEnded("customer_ended", "bye", {"feedback": {"status": "answered", "solved": True, "rating": None},
                                            "recording": "rec-1"}),
     {"event": "ended", "reason": "customer_ended", "message": "bye",
      "feedback": {"status": "answered", "solved": True, "rating": None}, "recording": "rec-1"}),
    (SessionError("bad", ErrorKind.SECURITY), {"event": "error", "message": "bad", "kind": "security"}),
    (SessionError("no relay"), {"event": "error", "message": "no relay"}),
    (SessionWarning("duplicate", message="frame #8 again"), {"event": "warning", "kind": "duplicate", "message": "frame #8 again"}),
    (SessionWarning("gap", coalesced=True, message="more"),
     {"event": "warning", "kind": "gap", "coalesced": True, "message": "more"}),
    (SessionWarning(WarningKind.WRONG_CODE, attempt=1, limit=3, message="m"),
     {"event": "warning", "kind": "wrong_code", "attempt": 1, "of": 3, "message": "m"}),
    (SessionWarning(WarningKind.BUSY, retry_in_s=2.0, attempt=1, message="m"),
     {"event": "warning", "kind": "busy", "retry_in_s": 2.0, "attempt": 1, "message": "m"}),
    (SessionWarning(WarningKind.RECLAIM, message="m"), {"event": "warning", "kind": "reclaim", "message": "m"}),
    (PeerLeft(message="gone", direct=False, grace_s=300.0),
     {"event": "peer", "state": "left", "message": "gone", "direct": False, "grace_s": 300.0}),
    (PeerLeft(message="gone", direct=True), {"event": "peer", "state": "left", "message": "gone", "direct": True}),
    (PeerBack(), {"event": "peer", "state": "back"}),
    (Reconnecting(attempt=2, retry_in_s=0.35, cause="relay_down", give_up_in_s=299, direct=False, message="m"),
     {"event": "connection", "state": "reconnecting", "attempt": 2, "retry_in_s": 0.35, "cause": "relay_down",
      "give_up_in_s": 299, "direct": False, "message": "m"}),
    (Resumed(peer=True, message="m"), {"event": "connection", "state": "resumed", "peer": True, "message": "m"}),
    (PathChanged(DataPath.DIRECT, "connected", "host/udp"),
     {"event": "path", "path": "direct", "reason": "connected", "via": "host/udp"}),
    (PathChanged(DataPath.RELAY, "failed"), {"event": "path", "path": "relay", "reason": "failed"}),
    (VoiceChanged("active", False, True), {"event": "voice", "state": "active", "muted": False, "remote_muted": True}),
    (VoiceChanged("idle", False, False, "declined"),
     {"event": "voice", "state": "idle", "muted": False, "remote_muted": False, "reason": "declined"}),
]


@pytest.mark.parametrize(("typed", "legacy"), CASES, ids=[f"{t.KIND}-{i}" for i, (t, _) in enumerate(CASES)])
def test_each_runtime_event_prints_the_line_it_printed_as_a_dict(typed: Event, legacy: dict[str, Any]) -> None:
    assert json.dumps(as_json(typed), ensure_ascii=False) == json.dumps(legacy, ensure_ascii=False)
    assert json_line(typed) == json.dumps(legacy, ensure_ascii=False)  # the headless printer's line
    assert kind_of(typed) == legacy["event"]


def test_two_shapes_of_one_event_are_two_classes() -> None:
    assert PeerLeft.KIND == PeerBack.KIND == "peer" and Reconnecting.KIND == Resumed.KIND == "connection"
    assert Reconnecting().state is ConnectionState.RECONNECTING and Resumed().state is ConnectionState.RESUMED


def test_the_end_reads_its_summary() -> None:
    ended = SessionEnded("agent_ended", "m", {"recording": "rec-1"})
    assert ended.get("recording") == "rec-1" and ended.get("feedback") is None
