"""The help desk end to end: a real headless agent with --webhook, a real customer, a real
receiver on 127.0.0.1 checking the signature; the ticket in the history; a receiver that
was down gets the summary from the next run."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.e2e.harness import CLI, Proc, start_customer
from tests.helpdesk_receiver import Receiver, free_port
from tests.waiting import until

SECRET = "whsec-test-0123456789"


async def cli(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(*CLI, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(30):
        out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def agent_with_webhook(relay_url: str, url: str, *extra: str) -> Proc:
    return await Proc.start("agent", "--headless", "--relay", relay_url, "--name", "Alice", "--webhook", url, *extra,
                            name="agent", env={"COBROWSE_WEBHOOK_SECRET": SECRET})


async def test_a_session_is_posted_signed_with_its_ticket_and_kept_in_the_history(relay_url: str, data_dir: Path) -> None:
    receiver = Receiver(SECRET)
    agent = await agent_with_webhook(relay_url, receiver.url)
    customer = None
    try:
        code = (await agent.event("code"))["code"]
        customer = await start_customer(relay_url, code)
        await agent.event("paired")
        await agent.send({"cmd": "ticket", "id": "ZD 1234"})
        assert "without spaces" in (await agent.event("error", cmd="ticket"))["message"]
        await agent.send({"cmd": "ticket", "id": "ZD-1234"})
        await agent.event("ticket", id="ZD-1234")
        await agent.send({"cmd": "playbook", "name": "fix-permission-denied"})
        await agent.event("steps")
        await agent.send({"cmd": "step", "index": 0, "status": "done"})
        await agent.event("steps", current=1)
        await agent.send({"cmd": "end", "feedback": True})
        await customer.stderr_line("Was your problem solved?")
        await customer.send(b"y5")
        assert await agent.wait() == 0
        await agent.event("webhook", state="delivered")
    finally:
        await agent.kill()
        if customer is not None:
            await customer.kill()
        receiver.close()
    assert receiver.refused == 0 and len(receiver.accepted) == 1
    body = receiver.accepted[0]
    assert (body["agent"], body["ticket"], body["solved"], body["rating"], body["paired"]) == ("Alice", "ZD-1234", True, 5, True)
    assert body["playbook"] == 'Fix "Permission denied" on a file or a script' and body["end_reason"] == "agent_ended"
    assert body["steps"][0]["status"] == "done" and body["steps_total"] == 3 and body["duration_s"] >= 0
    assert receiver.headers[0]["X-Cobrowse-Delivery"] == body["session"]

    code, out = await cli("agent", "history", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and rows[0]["ticket"] == "ZD-1234"
    code, out = await cli("agent", "stats", "--json")
    stats = json.loads(out)
    assert stats["tickets"] == 1
    assert stats["playbooks"] == [{"playbook": body["playbook"], "sessions": 1, "answered": 1, "solved": 1,
                                   "resolution_rate": 1.0, "completed": 0}]


async def test_a_receiver_that_was_down_gets_the_summary_from_the_next_run(relay_url: str, data_dir: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks"
    first = await agent_with_webhook(relay_url, url, "--ticket", "INC0001")
    try:
        await first.event("code")
        await first.event("ticket", id="INC0001")
        await first.send({"cmd": "end"})
        assert await first.wait() == 0
        warnings = [e for e in first.all("warning") if e.get("kind") == "webhook"]
        assert len(warnings) == 1 and "no answer" in warnings[0]["message"]  # told once, kept for later
    finally:
        await first.kill()
    assert len(list((data_dir / "webhooks").glob("*.json"))) == 1
    receiver = Receiver(SECRET, port)
    second = await agent_with_webhook(relay_url, url)
    try:
        await second.event("code")
        await until(lambda: receiver.accepted, "the spooled summary delivered", 15)
        await second.send({"cmd": "end"})
        assert await second.wait() == 0
    finally:
        await second.kill()
        receiver.close()
    assert receiver.accepted[0]["ticket"] == "INC0001" and receiver.accepted[0]["paired"] is False
    assert receiver.refused == 0


async def test_a_webhook_without_a_secret_is_a_usage_error(relay_url: str) -> None:
    agent = await Proc.start("agent", "--headless", "--relay", relay_url, "--webhook", "http://127.0.0.1:9/x", name="agent",
                             env={"COBROWSE_WEBHOOK_SECRET": ""})
    try:
        assert await agent.wait() == 2
        await agent.stderr_line("a webhook needs a secret")
    finally:
        await agent.kill()
