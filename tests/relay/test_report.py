"""`report`: a customer reports a session; the relay records the nameplate and time, never content."""

from __future__ import annotations

import asyncio
import json
import os
import random
import urllib.request
from itertools import count
from pathlib import Path

from websockets.asyncio.client import connect

from cobrowse.wire.envelope import Claim, Error, Open, Report, Reported, decode_client, decode_relay
from relay.config import RelayConfig
from relay.rooms import Rooms
from relay.server import serve_relay

T = 5.0


def rooms() -> Rooms:
    ids = count(1)
    return Rooms(RelayConfig(), random.Random(7), lambda: f"{next(ids):032x}")


def test_report_is_a_client_message_with_no_fields() -> None:
    assert decode_client('{"type":"report"}') == Report()
    assert decode_relay('{"type":"reported","nameplate":"12"}') == Reported("12")


def test_report_records_one_event_per_side_and_answers_every_time() -> None:
    r = rooms()
    r.connected("a", "1.1.1.1")
    opened = r.receive("a", Open("agent", 1), 0.0).to("a")[0]
    r.connected("c", "2.2.2.2")
    r.receive("c", Claim("customer", 1, opened.nameplate), 1.0)
    out = r.receive("c", Report(), 42.5)
    assert out.to("c") == [Reported(opened.nameplate)]
    assert out.to("a") == []  # the agent is not told
    (event,) = out.events
    assert event.kind == "reported"
    assert event.data["nameplate"] == opened.nameplate and event.data["by"] == "customer"
    assert event.data["age_s"] == 42.5 and event.data["address"] == "2.2.2.2"
    again = r.receive("c", Report(), 50.0)
    assert again.to("c") == [Reported(opened.nameplate)] and again.events == []
    assert not out.close and not again.close  # reporting does not end the session


def test_report_outside_a_session_is_a_recoverable_error() -> None:
    r = rooms()
    r.connected("x", "3.3.3.3")
    out = r.receive("x", Report(), 0.0)
    (error,) = out.to("x")
    assert isinstance(error, Error) and error.code == "not_in_session"
    assert not out.close and not out.events


async def test_a_report_reaches_the_audit_log_and_metrics_without_content(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    relay = await serve_relay(RelayConfig(host="127.0.0.1", port=0, audit_log=str(audit)))
    try:
        agent = await connect(relay.url, open_timeout=T)
        await agent.send(Open("agent", 1).encode())
        opened = json.loads(await asyncio.wait_for(agent.recv(), T))
        customer = await connect(relay.url, open_timeout=T)
        await customer.send(Claim("customer", 1, opened["nameplate"]).encode())
        for _ in range(2):
            await asyncio.wait_for(customer.recv(), T)  # claimed, peer joined
        assert json.loads(await asyncio.wait_for(agent.recv(), T)) == {"type": "peer", "state": "joined"}
        canary = b"CANARY-" + os.urandom(6).hex().encode()
        await customer.send(canary)
        assert await asyncio.wait_for(agent.recv(), T) == canary
        await customer.send(Report().encode())
        answer = json.loads(await asyncio.wait_for(customer.recv(), T))
        assert answer == {"type": "reported", "nameplate": opened["nameplate"]}

        def scrape() -> str:
            with urllib.request.urlopen(relay.http_url + "/metrics", timeout=T) as resp:
                return resp.read().decode()

        metrics = await asyncio.to_thread(scrape)
        assert 'cobrowse_relay_sessions_reported_total{by="customer"} 1.0' in metrics.splitlines()
        await agent.close()
        await customer.close()
    finally:
        relay.close()
        await relay.wait_closed()
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    (report,) = [r for r in records if r["event"] == "reported"]
    assert report["nameplate"] == opened["nameplate"] and report["by"] == "customer"
    assert report["ts"].endswith("Z") and report["session"]
    assert canary.decode() not in audit.read_text()
