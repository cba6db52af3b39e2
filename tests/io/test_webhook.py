"""The webhook's delivery against a real HTTP receiver on 127.0.0.1: signed, retried while
the receiver is down, kept in the spool across runs, set aside when refused."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from cobrowse.helpdesk.summary import SessionSummary
from cobrowse.io.webhook import Spool, Webhook, with_ticket
from cobrowse.policy.agent_events import FeedbackAnswer, FeedbackStatus
from cobrowse.policy.events import as_json
from cobrowse.policy.session_events import CodeShown, EndReason, SessionEnded, SessionPaired
from tests.helpdesk_receiver import Receiver, free_port
from tests.waiting import until

FAST = (0.05, 0.1, 0.2)


def summary(session: str = "s1", ticket: str | None = "ZD-1234") -> SessionSummary:
    return SessionSummary(session=session, agent="Alice", started=1_764_979_200.0, ended=1_764_979_260.0, paired=True,
                          end_reason="agent_ended", solved=True, rating=5, playbook="Fix a failing git push",
                          steps=(("Push again", "done"),), ticket=ticket)


async def test_a_session_is_posted_signed_through_the_tap(tmp_path: Path) -> None:
    receiver = Receiver("s3cret")
    events: list[dict[str, Any]] = []
    hook = Webhook(receiver.url, "s3cret", agent="Alice", spool=Spool(tmp_path / "webhooks"), steps=FAST)
    try:
        emit = with_ticket(hook.tap(lambda event: events.append(as_json(event))), "ZD-77")
        for event in (CodeShown("1-2345-6789", "one", "cobrowse join 1-2345-6789", "ws://127.0.0.1:1"), SessionPaired("x"),
                      SessionEnded(EndReason.AGENT_ENDED, "the agent ended the session",
                                   {"feedback": FeedbackAnswer(FeedbackStatus.SKIPPED).as_dict()})):
            emit(event)
        await until(lambda: receiver.accepted, "the delivery")
        await hook.settle(5)
        body = receiver.accepted[0]
        assert (body["agent"], body["ticket"], body["end_reason"], body["paired"]) == ("Alice", "ZD-77", "agent_ended", True)
        headers = receiver.headers[0]
        assert headers["X-Cobrowse-Delivery"] == body["session"] and headers["Content-Type"] == "application/json"
        assert headers["X-Cobrowse-Signature"].startswith("sha256=")
        kinds = [(e["event"], e.get("state")) for e in events]
        assert ("ticket", None) in kinds and ("webhook", "queued") in kinds and ("webhook", "delivered") in kinds
        assert Spool(tmp_path / "webhooks").pending() == []
    finally:
        receiver.close()


async def test_a_receiver_that_is_down_gets_it_once_it_is_up(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks/cobrowse"
    events: list[dict[str, Any]] = []
    hook = Webhook(url, "s3cret", spool=Spool(tmp_path / "webhooks"), steps=FAST)
    hook.notify = lambda event: events.append(as_json(event))
    hook.queue(summary())
    await until(lambda: any(e.get("kind") == "webhook" for e in events), "the warning")
    warning = next(e for e in events if e.get("kind") == "webhook")
    assert "not taking the session summary (no answer)" in warning["message"] and url in warning["message"]
    assert len(Spool(tmp_path / "webhooks").pending()) == 1
    receiver = Receiver("s3cret", port)
    try:
        await until(lambda: receiver.accepted, "the retried delivery")
        await hook.settle(5)
        assert [b["session"] for b in receiver.accepted] == ["s1"] and receiver.refused == 0
        assert Spool(tmp_path / "webhooks").pending() == []
        assert sum(1 for e in events if e.get("kind") == "webhook") == 1  # told once, not at every retry
    finally:
        receiver.close()


async def test_the_spool_survives_the_process_and_the_next_run_posts_it(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/h"
    first = Webhook(url, "s3cret", spool=Spool(tmp_path / "webhooks"), steps=(5.0,))
    first.queue(summary("left-behind"))
    await first.settle(0.5)  # the process exits while the receiver is down
    left = Spool(tmp_path / "webhooks").pending()
    assert len(left) == 1 and oct(left[0].stat().st_mode & 0o777) == "0o600"
    assert "s3cret" not in left[0].read_text()  # the secret never goes to disk
    receiver = Receiver("s3cret", port)
    try:
        second = Webhook(url, "s3cret", spool=Spool(tmp_path / "webhooks"), steps=FAST)  # the next run
        second.kick()
        await until(lambda: receiver.accepted, "the next run's delivery")
        await second.settle(5)
        assert receiver.accepted[0]["session"] == "left-behind" and receiver.accepted[0]["ticket"] == "ZD-1234"
    finally:
        receiver.close()


async def test_a_wrong_secret_is_refused_set_aside_and_told(tmp_path: Path) -> None:
    receiver = Receiver("the-receivers-secret")
    events: list[dict[str, Any]] = []
    hook = Webhook(receiver.url, "not-the-secret", spool=Spool(tmp_path / "webhooks"), steps=FAST)
    hook.notify = lambda event: events.append(as_json(event))
    try:
        hook.queue(summary())
        await until(lambda: any(e.get("kind") == "webhook" for e in events), "the refusal")
        await hook.settle(5)
        assert receiver.accepted == [] and receiver.refused == 1  # not retried: it cannot succeed by itself
        message = next(e for e in events if e.get("kind") == "webhook")["message"]
        assert "HTTP 401" in message and "COBROWSE_WEBHOOK_SECRET" in message
        assert Spool(tmp_path / "webhooks").pending() == []
        assert len(list((tmp_path / "webhooks" / "refused").glob("*.json"))) == 1
    finally:
        receiver.close()


async def test_two_processes_sharing_a_spool_post_each_summary_once(tmp_path: Path) -> None:
    receiver = Receiver("s3cret")
    spool = Spool(tmp_path / "webhooks")
    try:
        for i in range(6):
            spool.put(receiver.url, summary(f"s{i}"))
        a = Webhook(receiver.url, "s3cret", spool=Spool(tmp_path / "webhooks"), steps=FAST)
        b = Webhook(receiver.url, "s3cret", spool=Spool(tmp_path / "webhooks"), steps=FAST)
        a.kick()
        b.kick()
        await until(lambda: len(receiver.accepted) >= 6 and not spool.pending(), "all deliveries")
        await asyncio.gather(a.settle(5), b.settle(5))
        assert sorted(x["session"] for x in receiver.accepted) == [f"s{i}" for i in range(6)]
    finally:
        receiver.close()


async def test_a_redirect_is_refused_not_followed(tmp_path: Path) -> None:
    """urllib would follow a 302 with a GET without the body and call it delivered."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import threading

    gets: list[str] = []

    class Redirecting(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802
            gets.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    events: list[dict[str, Any]] = []
    hook = Webhook(f"http://127.0.0.1:{server.server_address[1]}/h", "s3cret", spool=Spool(tmp_path / "webhooks"), steps=FAST)
    hook.notify = lambda event: events.append(as_json(event))
    try:
        hook.queue(summary())
        await until(lambda: any(e.get("kind") == "webhook" for e in events), "the refusal")
        await hook.settle(5)
        assert gets == [] and "HTTP 302" in next(e for e in events if e.get("kind") == "webhook")["message"]
        assert not any(e.get("state") == "delivered" for e in events)
    finally:
        server.shutdown()
        server.server_close()
