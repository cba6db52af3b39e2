"""The help desk's pure parts: the session summary from the agent's events, its signature,
tickets, and when a delivery is tried again."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from cobrowse.helpdesk.delivery import Outcome, check_url, outcome, refusal_hint, retry_delay
from cobrowse.helpdesk.signature import sign, verify
from cobrowse.helpdesk.summary import SessionLedger, TicketError, TicketLinked, check_ticket
from cobrowse.policy.agent_events import FeedbackAnswer, FeedbackStatus, StepsChanged
from cobrowse.policy.events import Event
from cobrowse.policy.session_events import CodeShown, EndReason, PeerHello, SessionEnded, SessionPaired

T0 = 1_764_979_200.0  # 2025-12-06T00:00:00Z


def session_events() -> list[Event]:
    """What the agent's runtime emits over a session, in order (``AgentRuntime``'s events)."""
    return [
        CodeShown("42-7193-0518", "four two", "cobrowse join 42-7193-0518", "ws://127.0.0.1:1"),
        SessionPaired("apple banana"),
        PeerHello("customer", "Bob", "cobrowse 1.0"),
        TicketLinked("ZD-1234"),
        StepsChanged({"title": "Fix a failing git push", "current": 1,
                      "steps": [{"title": "See where your branch stands", "status": "done"},
                                {"title": "Check the remote URL", "status": "skipped"},
                                {"title": "Push again", "status": "failed"}]}),
        SessionEnded(EndReason.AGENT_ENDED, "the agent ended the session",
                     {"feedback": FeedbackAnswer(FeedbackStatus.ANSWERED, True, 4).as_dict(),
                      "recording": "20251206-000000-ab12"}),
    ]


def test_the_summary_holds_what_a_help_desk_needs() -> None:
    ledger = SessionLedger(session="s1", agent="Alice")
    summaries = [ledger.feed(e, T0 + i * 10) for i, e in enumerate(session_events())]
    assert summaries[:-1] == [None] * 5
    summary = summaries[-1]
    assert summary is not None
    body = json.loads(summary.body())
    assert body == {
        "event": "session.ended", "version": 1, "session": "s1", "agent": "Alice", "customer": "Bob",
        "started": "2025-12-06T00:00:10Z", "ended": "2025-12-06T00:00:50Z", "duration_s": 40.0, "paired": True,
        "end_reason": "agent_ended", "solved": True, "rating": 4, "feedback": "answered",
        "playbook": "Fix a failing git push",
        "steps": [{"title": "See where your branch stands", "status": "done"},
                  {"title": "Check the remote URL", "status": "skipped"}, {"title": "Push again", "status": "failed"}],
        "steps_done": 1, "steps_total": 3, "ticket": "ZD-1234", "recording": "20251206-000000-ab12"}
    assert set(body) >= {"session", "agent", "started", "ended", "duration_s", "end_reason", "solved", "rating",
                         "playbook", "steps", "ticket"}
    # the ledger starts afresh for the console's next session
    again = ledger.feed(SessionEnded(EndReason.PEER_TIMEOUT, "the customer did not come back"), T0 + 100)
    assert again is not None and again.ticket is None and again.playbook is None and not again.paired
    assert json.loads(again.body())["solved"] is None and again.started == T0 + 100


def test_an_unpaired_session_is_summarised_from_its_first_event() -> None:
    ledger = SessionLedger(session="s2", agent="Alice", ticket="INC0012345")
    ledger.feed(CodeShown("1-2345-6789"), T0)
    # a rating out of range or a "solved" of the wrong type is dropped, whoever built the event
    summary = ledger.feed(SessionEnded(EndReason.EXPIRED, "m", {"feedback": {"rating": 9, "solved": "yes"}}), T0 + 600)
    assert summary is not None
    assert (summary.paired, summary.started, summary.ticket, summary.rating, summary.solved) == (False, T0, "INC0012345", None, None)


def test_the_signature_is_githubs_scheme() -> None:
    # GitHub's documented test vector for X-Hub-Signature-256
    assert sign("It's a Secret to Everybody", b"Hello, World!") == \
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    body = b'{"session":"s1"}'
    header = "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert verify("k", body, header)
    assert not verify("wrong", body, header)
    assert not verify("k", body + b" ", header)
    assert not verify("k", body, header.removeprefix("sha256="))
    assert not verify("k", body, None)


def test_tickets() -> None:
    assert check_ticket("ZD-1234") == "ZD-1234"
    assert check_ticket("https://acme.zendesk.com/agent/tickets/1234") .endswith("1234")
    for bad in ("", None, 12, "ZD 1234", "ZD-1\x1b[31m", "x" * 129):
        with pytest.raises(TicketError):
            check_ticket(bad)
    assert TicketLinked("ZD-1").to_json() == {"event": "ticket", "id": "ZD-1"}


def test_what_a_receiver_answer_means_and_the_waits() -> None:
    assert outcome(200) is Outcome.DELIVERED and outcome(204) is Outcome.DELIVERED
    assert {outcome(s) for s in (None, 500, 502, 503, 408, 429)} == {Outcome.RETRY}
    assert {outcome(s) for s in (400, 401, 403, 404, 301)} == {Outcome.REFUSED}
    assert "secret" in refusal_hint(401) and "endpoint" in refusal_hint(404)
    assert retry_delay(0, lambda: 0.0) == 0.5 and retry_delay(0, lambda: 0.999) < 1.0
    assert retry_delay(100, lambda: 0.0) == 150.0
    assert check_url("https://helpdesk.example.com/hooks") and check_url("http://127.0.0.1:9/x")
    for bad in ("ftp://x/y", "https://", "helpdesk.example.com"):
        with pytest.raises(ValueError):
            check_url(bad)
