"""The end of a session, recordings, receipts and history, end to end: real `cobrowse`
processes, a real relay on 127.0.0.1, a real shell in a pty."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from cobrowse.audit.cast import parse_cast
from cobrowse.screen.emulator import Emulator
from tests.e2e.harness import CLI, pair
from cobrowse.protocol.prompts import ARMING

STEPS = {"cmd": "steps", "title": "Fix the printer",
         "steps": [{"title": "Check the queue"}, {"title": "Restart the spooler"}]}


async def cli(*args: str) -> tuple[int, str, str]:
    """Run a short `cobrowse` command (the data dir comes from the environment)."""
    proc = await asyncio.create_subprocess_exec(*CLI, *args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(30):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_the_customer_rates_the_session_and_the_history_keeps_it(relay_url: str, data_dir: Path) -> None:
    agent, customer, _ = await pair(relay_url)
    try:
        await agent.event("hello", role="customer")
        await agent.send(STEPS)
        await agent.event("steps")
        await agent.send({"cmd": "step", "index": 0, "status": "done"})
        await agent.event("steps", current=1)
        await agent.send({"cmd": "end", "feedback": True})
        await agent.event("feedback_wait")
        await customer.stderr_line("Was your problem solved?")
        await customer.send(b"y4")
        assert await customer.wait() == 0
        assert await agent.wait() == 0
        ended = await agent.event("ended")
        assert ended["feedback"] == {"status": "answered", "solved": True, "rating": 4}
        assert ended["reason"] == "agent_ended"
        await customer.stderr_line("thank you")
        receipt_line = await customer.stderr_line("receipt of this session")
    finally:
        await agent.kill()
        await customer.kill()

    code, out, _ = await cli("agent", "history", "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 1
    row = rows[0]
    assert (row["resolved"], row["rating"], row["playbook"], row["steps_done"], row["steps_total"]) == (True, 4, "Fix the printer", 1, 2)
    assert row["end_reason"] == "agent_ended" and row["duration_s"] >= 0
    code, out, _ = await cli("agent", "history")
    assert code == 0 and "Fix the printer" in out and "1/2" in out and "yes" in out and "****" in out
    code, out, _ = await cli("agent", "stats", "--json")
    stats = json.loads(out)
    assert stats["sessions"] == 1 and stats["resolution_rate"] == 1.0 and stats["mean_rating"] == 4.0
    assert stats["step_troubles"] == [{"playbook": "Fix the printer", "step": "Restart the spooler", "failed": 0, "not_done": 1, "seen": 1}]

    # the customer's receipt: intact, and it says who was granted what
    receipts = sorted((data_dir / "receipts").glob("*.jsonl"))
    assert len(receipts) == 1 and str(receipts[0]) in receipt_line
    entries = [json.loads(line) for line in receipts[0].read_text().splitlines()]
    kinds = [e["event"] for e in entries]
    assert kinds[:2] == ["paired", "peer"] and "playbook" in kinds and kinds[-2:] == ["feedback", "ended"]
    code, out, _ = await cli("receipts", "verify", str(receipts[0]))
    assert code == 0 and out.startswith("OK:")
    lines = receipts[0].read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace('"role":"agent"', '"role":"someone else"')
    receipts[0].write_text("".join(lines))
    code, out, _ = await cli("receipts", "verify", str(receipts[0]))
    assert code == 1 and "TAMPERED" in out and "line 3" in out

    # the agent's own log of consent changes and actions
    audit = [json.loads(line) for f in (data_dir / "audit").glob("*.jsonl") for line in f.read_text().splitlines()]
    assert {"event": "agent_action", "cmd": "end", "feedback": True}.items() <= audit[-2].items()


async def test_skipping_the_question_and_ending_without_asking(relay_url: str) -> None:
    agent, customer, _ = await pair(relay_url)
    try:
        await agent.event("hello", role="customer")
        await agent.send({"cmd": "end", "feedback": True})
        await customer.stderr_line("Was your problem solved?")
        await customer.send(b"\x1b")
        assert await agent.wait() == 0
        assert (await agent.event("ended"))["feedback"] == {"status": "skipped", "solved": None, "rating": None}
        await customer.stderr_line("feedback skipped")
    finally:
        await agent.kill()
        await customer.kill()


async def test_the_agent_stops_waiting_when_the_customer_disappears(relay_url: str) -> None:
    agent, customer, _ = await pair(relay_url)
    try:
        await agent.event("hello", role="customer")
        await agent.send({"cmd": "end", "feedback": True})
        await customer.stderr_line("Was your problem solved?")
        started = time.monotonic()
        await customer.kill()
        assert await agent.wait(timeout=30) == 0
        assert (await agent.event("ended"))["feedback"]["status"] in ("gone", "timeout")
        assert time.monotonic() - started < 20  # the relay's grace (3 s here), not the 60 s wait
    finally:
        await agent.kill()
        await customer.kill()


async def test_no_recording_without_the_customers_consent(relay_url: str, data_dir: Path) -> None:
    agent, customer, _ = await pair(relay_url)
    try:
        await agent.event("hello", role="customer")
        await agent.send({"cmd": "record", "on": True})
        await agent.event("recording", state="requested")
        await customer.stderr_line("asks to RECORD")
        await asyncio.sleep(ARMING + 0.1)  # a new prompt ignores keys for ARMING s
        await customer.send(b"echo secret-$((6*7))\r")
        await agent.screen(lambda lines: any("secret-42" in line for line in lines))
        await customer.send(b"\x1dn")
        await agent.event("recording", state="denied")
        await customer.stderr_line("recording refused")
        await customer.send(b"echo more-$((7*7))\r")
        await agent.screen(lambda lines: any("more-49" in line for line in lines))
        await agent.send({"cmd": "record", "on": False})
        await agent.event("error", cmd="record")  # not recording: nothing to stop
        await agent.send({"cmd": "end"})
        assert await agent.wait() == 0
        assert "recording" not in await agent.event("ended")
    finally:
        await agent.kill()
        await customer.kill()
    assert list((data_dir / "recordings").glob("*")) == []


async def test_a_recording_with_consent_until_the_customer_stops_it(relay_url: str, data_dir: Path) -> None:
    agent, customer, _ = await pair(relay_url)
    try:
        await agent.event("hello", role="customer")
        await agent.send({"cmd": "record", "on": True})
        await customer.stderr_line("asks to RECORD")
        await asyncio.sleep(ARMING + 0.1)  # a new prompt ignores keys for ARMING s
        await customer.send(b"\x1dy")
        on = await agent.event("recording", state="on")
        await customer.stderr_line("RECORDING")
        await customer.send(b"echo rec-$((6*7))\r")
        await agent.screen(lambda lines: any("rec-42" in line for line in lines))
        await agent.send({"cmd": "chat", "text": "I can see it"})
        await customer.stderr_line("I can see it")
        await customer.send(b"\x1dx")
        await agent.event("recording", state="stopped", by="customer")
        await customer.send(b"echo after-$((7*7))\r")
        await agent.screen(lambda lines: any("after-49" in line for line in lines))
        await agent.send({"cmd": "end"})
        assert await agent.wait() == 0
        assert (await agent.event("ended"))["recording"] == on["id"]
    finally:
        await agent.kill()
        await customer.kill()

    cast = Path(on["path"])
    assert cast.parent == data_dir / "recordings" and cast.stat().st_mode & 0o077 == 0
    head, events = parse_cast(cast.read_text())
    emulator = Emulator(head["width"], head["height"])
    for _, kind, data in events:
        if kind == "o":
            emulator.feed(data.encode())
    text = "\n".join(emulator.lines())
    assert "rec-42" in text and "after-49" not in text  # what the agent saw, until the customer stopped it
    side = json.loads(cast.with_suffix(".json").read_text())
    kinds = [(e["kind"], e.get("from") or e.get("state")) for e in side["events"]]
    assert kinds[:2] == [("recording", "on"), ("chat", "agent")]
    assert side["events"][-1] == {"t": side["events"][-1]["t"], "kind": "stopped", "reason": "stopped by the customer"}

    code, out, _ = await cli("recordings", "list", "--json")
    assert code == 0 and json.loads(out.splitlines()[0])["id"] == on["id"]
    code, out, _ = await cli("recordings", "play", on["id"][:15], "--speed", "50")
    assert code == 0 and "rec-42" in out
    code, _, err = await cli("recordings", "play", "nope")
    assert code == 2 and "no recording 'nope'" in err
