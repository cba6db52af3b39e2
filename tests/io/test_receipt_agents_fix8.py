"""The customer's receipt names the agent on each per-agent line (fix8, docs/team.md): several
agents' levels are kept apart, a hostile name is escaped, and a receipt written before (no
``agent``) still verifies."""

from __future__ import annotations

import json
from pathlib import Path

from cobrowse.audit.receipt import ReceiptChain, verify
from cobrowse.io.receipts import AuditTrail
from cobrowse.policy.customer_events import (ConsentChanged, ConsentPrompt, ControlKeys, Level, SuggestionShown,
                                             with_agent)
from cobrowse.policy.customer_team import ViewersShown
from cobrowse.policy.events import Event
from cobrowse.policy.session_events import EndReason, SessionEnded, SessionPaired
from tests.io.test_records_io import Clock


def run(tmp_path: Path, events: list[Event]) -> list[dict[str, object]]:
    clock = Clock()
    trail = AuditTrail(lambda event: None, tmp_path, "customer", clock)
    for event in [SessionPaired("a b c"), *events, SessionEnded(EndReason.AGENT_ENDED, "bye")]:
        clock.now += 1
        trail(event)
    assert trail.path is not None and verify(trail.path.read_bytes()).ok
    return [json.loads(line) for line in trail.path.read_text().splitlines()]


def test_two_agents_levels_are_kept_apart_and_named(tmp_path: Path) -> None:
    alice = lambda e: with_agent(e, 1, "Alice")  # noqa: E731
    bob = lambda e: with_agent(e, 2, "Bob")  # noqa: E731
    entries = run(tmp_path, [alice(ConsentChanged(Level.CONTROL)), alice(ControlKeys(3)),
                             bob(ConsentChanged(Level.CONTROL)),  # was dropped as "no change" before: the same level
                             alice(ConsentChanged(Level.VIEW)), bob(ControlKeys(2)), bob(ControlKeys(1)),
                             bob(SuggestionShown(7, "ls", "Bob (agent 2): ls"))])
    lines = [(e["event"], e.get("agent"), e.get("agent_name"), e.get("level", e.get("bytes"))) for e in entries[1:-1]]
    assert lines == [("consent", 1, "Alice", "control"), ("control_keys", 1, "Alice", 3),
                     ("consent", 2, "Bob", "control"), ("consent", 1, "Alice", "view"),
                     ("control_keys", 2, "Bob", 3), ("suggestion", 2, "Bob", None)]


def test_keys_from_two_agents_in_a_row_are_two_lines(tmp_path: Path) -> None:
    entries = run(tmp_path, [with_agent(ControlKeys(3), 1, "Alice"), with_agent(ControlKeys(4), 2, "Bob")])
    assert [(e["agent"], e["bytes"]) for e in entries if e["event"] == "control_keys"] == [(1, 3), (2, 4)]


def test_a_hostile_agent_name_is_escaped_and_short(tmp_path: Path) -> None:
    name = "\x1b]0;pwned\x07\u202eecilA\u009b2J" + "x" * 5000
    entries = run(tmp_path, [with_agent(ConsentPrompt(3, "control", "control", 30.0, True, "asks"), 2, name)])
    [asked] = [e for e in entries if e["event"] == "consent_asked"]
    text = (tmp_path / next(iter(tmp_path.iterdir())).name).read_text()
    assert asked["agent"] == 2 and str(asked["agent_name"]).startswith("\\x1b]0;pwned\\x07\\u202eecilA\\x9b2J")
    assert len(str(asked["agent_name"])) <= 64
    assert not any(ch in text for ch in "\x1b\x07\u202e\u009b")


def test_a_single_agent_session_and_an_old_receipt_still_read(tmp_path: Path) -> None:
    entries = run(tmp_path, [ConsentChanged(Level.CONTROL), ConsentChanged(Level.CONTROL), ConsentChanged(Level.VIEW)])
    assert [(e.get("agent"), e["level"]) for e in entries if e["event"] == "consent"] == [(None, "control"), (None, "view")]
    chain = ReceiptChain()  # as written before agents were named
    old = b"".join(chain.append(fields) for fields in ({"event": "paired"}, {"event": "consent", "level": "control"},
                                                       {"event": "ended", "reason": "agent_ended"}))
    assert verify(old).ok and verify(old).last_event == "ended"


def test_the_team_roster_is_kept_when_it_changes(tmp_path: Path) -> None:
    row = {"id": 2, "name": "Bob\x1b[2J", "state": "asking", "control": False, "verified": False}
    first = {"id": 1, "name": "Alice", "state": "admitted", "control": True, "verified": False}
    entries = run(tmp_path, [ViewersShown((first, row), "asking"), ViewersShown((first, row), "again"),
                             ViewersShown((first, {**row, "state": "admitted"}), "admitted")])
    rosters = [e["viewers"] for e in entries if e["event"] == "viewers"]
    assert rosters == [[{"agent": 1, "agent_name": "Alice", "state": "admitted", "control": True},
                        {"agent": 2, "agent_name": "Bob\\x1b[2J", "state": "asking", "control": False}],
                       [{"agent": 1, "agent_name": "Alice", "state": "admitted", "control": True},
                        {"agent": 2, "agent_name": "Bob\\x1b[2J", "state": "admitted", "control": False}]]
