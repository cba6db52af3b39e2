"""The customer's receipt in a team names the agent on each per-agent line (fix8): with two
agents and control changing hands, the consent lines say whose level changed, so the receipt
does not read as one level flipping back and forth. Real processes, a real relay on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.e2e.test_records import cli
from tests.e2e.test_team import answer, team
from tests.e2e.test_team_control import control_to_a_then_b


async def test_consent_lines_name_the_agent_whose_level_changed(relay_url: str, data_dir: Path) -> None:
    async with team(relay_url) as (a, b, customer, procs):
        await control_to_a_then_b(a, b, customer)
        await b.send({"cmd": "keys", "data": "echo b-typed\r"})
        await a.screen(lambda lines: any("b-typed" in line for line in lines))
        await customer.send(b"\x1dr")  # the customer takes control back from everyone
        await b.event("consent", level="view")
        await _receipt_holds(data_dir, "consent", 4)  # written after it was sent: B can know first (SIGKILL next)

    [receipt] = sorted((data_dir / "receipts").glob("*.jsonl"))
    entries = [json.loads(line) for line in receipt.read_text().splitlines()]
    consent = [(e.get("agent"), e.get("agent_name"), e["level"]) for e in entries if e["event"] == "consent"]
    assert consent == [(1, "Alice", "control"), (2, "Bob", "control"), (1, "Alice", "view"), (2, "Bob", "view")]
    asked = [(e.get("agent"), e["level"]) for e in entries if e["event"] == "consent_asked"]
    assert asked == [(2, "view"), (1, "control"), (2, "control")]  # B's admission, then each control request
    rosters = [[(v["agent"], v["state"], v["control"]) for v in e["viewers"]] for e in entries if e["event"] == "viewers"]
    assert [(1, "admitted", False), (2, "admitted", True)] in rosters  # who was let in, who holds control
    keys = [e for e in entries if e["event"] == "control_keys"]
    assert keys and {(e["agent"], e["agent_name"]) for e in keys} == {(2, "Bob")}
    code, out, _ = await cli("receipts", "verify", str(receipt))
    assert code == 0 and out.startswith("OK:")


async def test_an_invited_agents_recording_is_shown_named_kept_and_stopped_by_ctrl_x(relay_url: str, data_dir: Path) -> None:
    """B's recording: the customer was asked (named) but never read the answer, the receipt did
    not keep it, and Ctrl-] x stopped only the first agent's recording (B kept recording)."""
    async with team(relay_url) as (a, b, customer, procs):
        await b.send({"cmd": "record", "on": True})
        await customer.stderr_line("Bob (agent 2): the agent asks")
        await answer(customer, b"y")
        await b.event("recording", state="on")
        await customer.stderr_line("Bob (agent 2): RECORDING")
        await customer.send(b"\x1dx")
        async with asyncio.timeout(10):
            while b.all("recording")[-1]["state"] == "on":
                await asyncio.sleep(0.05)
        await customer.stderr_line("Bob (agent 2): recording stopped")

    [receipt] = sorted((data_dir / "receipts").glob("*.jsonl"))
    entries = [json.loads(line) for line in receipt.read_text().splitlines()]
    recording = [(e["event"], e.get("agent"), e.get("state")) for e in entries if e["event"].startswith("recording")]
    assert recording == [("recording_asked", 2, None), ("recording", 2, "granted"), ("recording", 2, "stopped")]


async def _receipt_holds(data_dir: Path, event: str, count: int) -> None:
    """The customer's receipt has ``count`` lines of ``event`` (bounded: 10 s)."""
    async with asyncio.timeout(10):
        while True:
            seen = 0
            for receipt in (data_dir / "receipts").glob("*.jsonl"):
                for line in receipt.read_text().splitlines():
                    try:
                        seen += json.loads(line).get("event") == event
                    except ValueError:
                        pass  # the line being written
            if seen >= count:
                return
            await asyncio.sleep(0.05)
