"""The queue's typed events: the relay's and the customers' words through the untrusted door,
the customer's line, the agent told why a pick was refused."""

from __future__ import annotations


from cobrowse.policy.events import Event, as_json
from cobrowse.policy.session_events import EndReason, ErrorKind, SessionEnded, SessionError, SessionWarning, WarningKind
from cobrowse.queue.events import REFUSED_AGENT, QueuePosition, queue_changed, refusal_explained


def test_queue_events_clean_what_customers_typed() -> None:
    event = queue_changed("Acme", [{"id": "q1", "topic": "\x1b]52;c;ZWNobw==\x07[b]x[/b]", "lang": "ru\x1b",
                                    "waiting_s": 3.21}], 0)
    shape = event.to_json()
    assert shape["event"] == "queue" and shape["total"] == 1 and shape["org"] == "Acme"
    (entry,) = shape["waiting"]
    assert "\x1b" not in entry["topic"] and "\x07" not in entry["topic"] and "[b]x[/b]" in entry["topic"]
    assert entry["lang"].isprintable() and entry["waiting_s"] == 3.21 and entry["id"] == "q1"


def test_the_customer_line_says_place_estimate_and_who_is_online() -> None:
    assert "you are next, about 2 min" in QueuePosition(1, 95.0, 2, "Acme").text()
    assert "number 3 in the queue, about 1 min" in QueuePosition(3, 10.0, 1, "Acme").text()
    assert "no agent is online" in QueuePosition(2, None, 0, "Acme").text()


def test_a_refused_pick_is_explained_to_the_agent() -> None:
    seen: list[Event] = []
    emit = refusal_explained(seen.append, "Acme")
    emit(SessionEnded(EndReason.WRONG_CODE, "wrong code: check the digits"))
    emit(SessionWarning(WarningKind.WRONG_CODE, attempt=1, limit=3, message="wrong code"))
    emit(SessionError("wrong code", ErrorKind.WRONG_CODE))
    emit(SessionEnded(EndReason.AGENT_ENDED, "you ended the session"))
    for refused in seen[:3]:
        assert "refused your credential" in as_json(refused)["message"] and "Acme" in as_json(refused)["message"]
    assert as_json(seen[1]) == {"event": "warning", "kind": "wrong_code", "attempt": 1, "of": 3,
                                "message": REFUSED_AGENT.format(org="Acme")}
    assert list(as_json(seen[0])) == ["event", "reason", "message"]  # the key order of the dict it replaced
    assert seen[3] == SessionEnded(EndReason.AGENT_ENDED, "you ended the session")
