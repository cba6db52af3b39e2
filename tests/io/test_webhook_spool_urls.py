"""Several agent processes with different webhook URLs share one spool (one data directory).
A summary spooled for an old URL (its receiver was down) must never be posted to it by a
process configured with another URL, nor signed with that process's secret: each process
posts only the files of its own URL, the others wait for theirs, and anything still spooled
after ``max_age`` is moved to ``expired/``, not posted. Real HTTP receivers on 127.0.0.1."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from cobrowse.helpdesk.summary import SessionSummary
from cobrowse.io.webhook import MAX_AGE, Spool, Webhook
from cobrowse.policy.events import as_json
from tests.helpdesk_receiver import Receiver, free_port
from tests.waiting import until

FAST = (0.05, 0.1, 0.2)


def summary(session: str) -> SessionSummary:
    return SessionSummary(session=session, agent="Alice", started=1_764_979_200.0, ended=1_764_979_260.0, paired=True,
                          end_reason="agent_ended", solved=True, rating=5, playbook=None, steps=(), ticket=None)


def warnings(events: list[dict[str, Any]]) -> list[str]:
    return [e["message"] for e in events if e.get("kind") == "webhook"]


async def test_a_summary_spooled_for_an_old_url_is_not_posted_there_with_the_new_secret(tmp_path: Path) -> None:
    old_port = free_port()
    old_url = f"http://127.0.0.1:{old_port}/old"
    first = Webhook(old_url, "old-secret", spool=Spool(tmp_path / "webhooks"), steps=(5.0,))
    first.queue(summary("for-the-old-url"))  # the old receiver is down: it stays in the spool
    await first.settle(0.3)
    assert len(Spool(tmp_path / "webhooks").pending()) == 1

    # The old endpoint is up again (and would even take the new secret); the agent now runs with another URL.
    old = Receiver("new-secret", old_port)
    new = Receiver("new-secret")
    events: list[dict[str, Any]] = []
    try:
        second = Webhook(new.url, "new-secret", spool=Spool(tmp_path / "webhooks"), steps=FAST)
        second.tap(lambda event: events.append(as_json(event)))
        second.queue(summary("for-the-new-url"))
        await until(lambda: new.accepted, "the new URL's own summary")
        await second.settle(5)
        assert second._task is not None and second._task.done()  # it does not spin on the other's file
        assert [b["session"] for b in new.accepted] == ["for-the-new-url"]
        assert old.accepted == [] and old.refused == 0  # nothing reached the old URL
        left = Spool(tmp_path / "webhooks").pending()
        assert [Spool.read(p).session for p in left] == ["for-the-old-url"]
        [told] = [m for m in warnings(events) if "another webhook URL" in m]
        assert "1 session summary" in told and "expired" in told

        third = Webhook(old_url, "new-secret", spool=Spool(tmp_path / "webhooks"), steps=FAST)
        third.kick()  # the process configured with the old URL posts its own
        await until(lambda: old.accepted, "the old URL's summary, by its own process")
        await third.settle(5)
        assert [b["session"] for b in old.accepted] == ["for-the-old-url"] and new.accepted[1:] == []
        assert Spool(tmp_path / "webhooks").pending() == []
    finally:
        old.close()
        new.close()


async def test_summaries_left_longer_than_the_limit_expire_whoever_they_were_for(tmp_path: Path) -> None:
    receiver = Receiver("s3cret")
    spool = Spool(tmp_path / "webhooks")
    try:
        stale = [spool.put(receiver.url, summary("mine-stale")), spool.put("http://127.0.0.1:9/gone", summary("theirs-stale"))]
        for path in stale:  # spooled eight days ago
            old_name = path.with_name(f"{time.time_ns() - int(8 * 86400 * 1e9)}-{path.name.split('-', 1)[1]}")
            os.replace(path, old_name)
        spool.put("http://127.0.0.1:9/gone", summary("theirs-fresh"))
        spool.put(receiver.url, summary("mine-fresh"))
        events: list[dict[str, Any]] = []
        hook = Webhook(receiver.url, "s3cret", spool=Spool(tmp_path / "webhooks"), steps=FAST)
        hook.tap(lambda event: events.append(as_json(event)))
        hook.kick()
        await until(lambda: receiver.accepted, "the fresh own summary")
        await hook.settle(5)
        assert [b["session"] for b in receiver.accepted] == ["mine-fresh"]
        assert sorted(Spool.read(p).session for p in (tmp_path / "webhooks" / "expired").glob("*.json")) == [
            "mine-stale", "theirs-stale"]
        assert [Spool.read(p).session for p in spool.pending()] == ["theirs-fresh"]
        [told] = [m for m in warnings(events) if "longer than" in m]
        assert "2 session summaries" in told and f"{MAX_AGE / 86400:g} days" in told and "not posted" in told
    finally:
        receiver.close()
