"""What the agents learn of the team, for the console's team panel (docs/team.md, "The
console"): every admitted agent's verdict, who the customer is being asked about, how long
an invitation code stays open; and that an older peer on either side keeps working."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cobrowse.policy.agent import AgentPolicy
from cobrowse.policy.agent_commands import Invite
from cobrowse.policy.agent_events import InviteReady, ViewersChanged
from cobrowse.policy.customer_team import FIRST, ToViewer
from cobrowse.policy.events import as_json
from cobrowse.protocol import messages as m
from cobrowse.protocol.team_messages import MAX_INVITE_EXPIRY_S
from tests.policy.test_customer_team import asked, invited, team


def sealed(message: m.AppMessage) -> m.AppMessage:
    """The message as the other side's decoder gives it (encoded, decoded: the one door)."""
    return m.decode(m.encode(message))


def lists(out: list[Any]) -> dict[int, m.Viewers]:
    return {e.viewer: e.message for e in out if isinstance(e, ToViewer) and isinstance(e.message, m.Viewers)}


def test_admitted_agents_learn_who_waits_and_who_is_verified() -> None:
    policy = team()
    policy.identified(FIRST, True)
    bob, prompt = asked(policy)
    carol = invited(policy)
    [told] = lists(policy.joined(carol, "Carol", "NOT VERIFIED", 0.5, verified=True)).values()
    assert told.viewers == [{"id": FIRST, "name": "Alice", "control": False, "you": True, "verified": True}]
    assert told.waiting == [{"id": bob, "name": "Bob", "verified": False}, {"id": carol, "name": "Carol", "verified": True}]
    after = lists(policy.answer(True, prompt.id, 1.5))
    assert [v["name"] for v in after[bob].viewers] == ["Alice", "Bob"]
    assert [v["verified"] for v in after[bob].viewers] == [True, False]
    assert [w["name"] for w in after[bob].waiting] == ["Carol"]
    agent = AgentPolicy()
    [event] = agent.receive(sealed(after[bob]), 0.0).events
    assert as_json(event)["waiting"] == [{"id": carol, "name": "Carol", "verified": True}]
    assert not agent.alone()  # Alice; Carol, only waiting, is not counted


def test_the_invitation_code_says_how_long_it_stays_open() -> None:
    policy = team()
    [opened] = policy.invite(FIRST)
    [code, _] = policy.invite_opened(opened.viewer, "1234-56789012", 300.0)  # type: ignore[attr-defined]
    assert code == ToViewer(FIRST, m.InviteCode(code="1234-56789012", expires_s=300, viewer=opened.viewer))
    agent = AgentPolicy()
    agent.command(Invite(), paired=True)
    [event] = agent.receive(sealed(code.message), 0.0).events
    assert isinstance(event, InviteReady) and as_json(event)["expires_s"] == 300
    assert as_json(event)["agent"] == opened.viewer == 2  # the colleague's number, as the roster will list it
    [opened] = policy.invite(FIRST)
    [code, _] = policy.invite_opened(opened.viewer, "1234-56789013", 10.0 ** 9)  # type: ignore[attr-defined]
    assert code.message.expires_s == MAX_INVITE_EXPIRY_S


def test_an_older_customers_messages_still_work_and_add_no_keys() -> None:
    """Before the panel: rows without ``verified``, no ``waiting``, a code without expiry."""
    agent = AgentPolicy()
    old = json.dumps({"t": "viewers", "viewers": [{"id": 1, "name": "Alice", "control": True, "you": True}]})
    [event] = agent.receive(m.decode(_v1(old)), 0.0).events
    assert isinstance(event, ViewersChanged)
    assert as_json(event) == {"event": "viewers", "viewers": [{"id": 1, "name": "Alice", "control": True, "you": True}],
                              "message": "can see the customer's screen: Alice (you) has control"}
    agent.command(Invite(), paired=True)
    [ready] = agent.receive(m.decode(_v1(json.dumps({"t": "invite_code", "code": "1234-5678-9012"}))), 0.0).events
    assert as_json(ready) == {"event": "invite", "code": "1234-5678-9012",
                              "message": "a colleague joins with: cobrowse agent --join 1234-5678-9012 "
                                         "(the customer is asked to allow them)"}


def test_an_older_agent_reads_a_newer_customers_roster() -> None:
    """An older agent's decoder checked each row for id, name, control and you, and rebuilt
    it from those; ``waiting`` is a key it never looks at: what it counted is unchanged."""
    new = m.Viewers([{"id": 1, "name": "Alice", "control": False, "you": True, "verified": True}],
                    [{"id": 2, "name": "Bob", "verified": False}])
    wire = new.to_json()
    assert {k for row in wire["viewers"] for k in ("id", "name", "control", "you")} <= set(wire["viewers"][0])
    assert isinstance(wire["viewers"][0]["control"], bool) and isinstance(wire["viewers"][0]["you"], bool)
    assert sealed(new) == new


@pytest.mark.parametrize("bad", [
    {"waiting": [{"id": True, "name": "x"}]},
    {"waiting": [{"id": 2, "name": "x" * 300}]},
    {"waiting": [{"id": 2, "name": "x", "verified": "yes"}]},
    {"waiting": [{"id": n, "name": "x"} for n in range(9)]},
    {"viewers": [{"id": 1, "name": "A", "control": False, "you": True, "verified": 1}]},
])
def test_a_malformed_roster_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(m.MalformedPayload):
        m.decode(_v1(json.dumps({"t": "viewers", "viewers": [], **bad})))


def test_waiting_names_are_peer_text() -> None:
    message = sealed(m.Viewers([], [{"id": 2, "name": "\u202eevil\x1b[31m", "verified": False}]))
    [row] = message.waiting  # type: ignore[attr-defined]
    assert "\u202e" not in row["name"] and "\x1b" not in row["name"] and "\\u202e" in row["name"]


def test_an_expiry_or_number_out_of_range_is_refused() -> None:
    with pytest.raises(m.MalformedPayload):
        m.decode(_v1(json.dumps({"t": "invite_code", "code": "1", "expires_s": -1})))
    with pytest.raises(m.MalformedPayload):
        m.decode(_v1(json.dumps({"t": "invite_code", "code": "1", "viewer": -2})))


def _v1(text: str) -> bytes:
    """``text`` as an encoded application message (uncompressed, as ``encode`` sends a small one)."""
    return bytes([m.PLAIN]) + text.encode()
