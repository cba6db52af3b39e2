"""A malicious relay that floods one client (tests/e2e/adversary.py's ``flood``), with real
processes: a valid sealed frame replayed thousands of times, garbage binary frames,
maximum-size frames, and the relay's own JSON (unknown kinds, huge fields, endless ``peer``
changes). The client stays bounded in memory (its peak RSS), reports each kind of trouble a
few times at most (never once per frame), and a plainly hostile relay ends the session with
words that name the relay.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import AsyncIterator

import pytest
from adversary import Adversary
from harness import Proc
from test_adversarial import A2C, C2A, chat_from_customer, chats, paired_quietly, settle

from cobrowse.io.link import MAX_FRAME, MAX_PEER_CHANGES

REPLAYS = 4096
#: Peak RSS growth a flood may cost the client (a 8 MiB frame is read, held and opened a few
#: times over on its way, and the interpreter keeps what it once held).
RSS_BOUND = 160 * 1024 * 1024


@pytest.fixture
async def adversary(relay_url: str) -> AsyncIterator[Adversary]:
    async with Adversary(relay_url) as adv:
        yield adv


def peak_rss(proc: Proc) -> int:
    """The process's peak resident set (VmHWM), in bytes (0 once it exited)."""
    try:
        text = Path(f"/proc/{proc.proc.pid}/status").read_text()
    except OSError:
        return 0
    line = next(line for line in text.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def cpu_s(proc: Proc) -> float:
    """User + system CPU the process spent so far (0 once it exited)."""
    try:
        fields = Path(f"/proc/{proc.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PeakWatch:
    """The process's peak RSS, read every 20 ms while a test floods it (VmHWM is gone with
    the process, and a hostile flood may end it)."""

    def __init__(self, proc: Proc) -> None:
        self.proc = proc
        self.start = peak_rss(proc)
        self.peak = self.start
        self.cpu_start = self.cpu = cpu_s(proc)
        self._task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while self.proc.proc.returncode is None:
            self.peak = max(self.peak, peak_rss(self.proc))
            self.cpu = max(self.cpu, cpu_s(self.proc))
            await asyncio.sleep(0.02)

    async def grown(self) -> int:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self.peak = max(self.peak, peak_rss(self.proc))
        return self.peak - self.start


def warnings(proc: Proc, kind: str) -> list[dict]:
    return [e for e in proc.all("warning") if e.get("kind") == kind]


async def test_a_replay_flood_is_reported_once_and_ends_the_session(adversary: Adversary) -> None:
    agent, customer, _ = await paired_quietly(adversary)
    try:
        await chat_from_customer(customer, "first")
        await agent.event("chat", text="first")
        await settle(adversary, C2A)
        watch = PeakWatch(agent)
        frame = adversary.last_data(C2A)
        await adversary.flood("agent", frame, REPLAYS)
        error = await agent.event("error")
        assert error.get("kind") == "security"
        assert "the relay" in error["message"] and "replayed" in error["message"]
        assert await agent.wait() == 5
        assert len(warnings(agent, "duplicate")) <= 4  # 3, then one that says more are not shown
        assert chats(agent) == ["first"]
        grown = await watch.grown()
        print(f"replay flood: agent peak RSS +{grown / 2**20:.1f} MiB, CPU {watch.cpu - watch.cpu_start:.2f} s, "
              f"warnings {len(agent.all('warning'))}")
        assert grown < RSS_BOUND
        ended = agent.all("ended")
        assert ended and ended[-1]["reason"] == "scared"
        await customer.wait()
    finally:
        await agent.kill()
        await customer.kill()


async def test_a_short_burst_of_replays_is_only_reported(adversary: Adversary) -> None:
    """Fewer than the hostile threshold: counted, a few warnings, the session goes on."""
    agent, customer, _ = await paired_quietly(adversary)
    try:
        await chat_from_customer(customer, "first")
        await agent.event("chat", text="first")
        await settle(adversary, C2A)
        await adversary.flood("agent", adversary.last_data(C2A), 200)
        await chat_from_customer(customer, "second")
        await agent.event("chat", text="second")
        assert 1 <= len(warnings(agent, "duplicate")) <= 4
        assert chats(agent) == ["first", "second"]
        assert not agent.all("error") and agent.proc.returncode is None
    finally:
        await agent.kill()
        await customer.kill()


async def test_garbage_frames_end_the_session_at_the_first(adversary: Adversary) -> None:
    agent, customer, _ = await paired_quietly(adversary)
    try:
        frame = adversary.last_data(A2C)
        garbage = frame[:9] + os.urandom(max(64, len(frame) - 9))  # a DATA header, then noise
        await adversary.flood("customer", garbage, REPLAYS)
        assert await customer.wait() == 5
        await customer.stderr_line("altered in transit")
        lines = [line for line in customer.stderr_lines if "altered" in line]
        assert len(lines) <= 2
        ended = await agent.event("ended")
        assert ended["reason"] == "scared"
    finally:
        await agent.kill()
        await customer.kill()


async def test_maximum_size_frames_keep_memory_bounded(adversary: Adversary) -> None:
    agent, customer, _ = await paired_quietly(adversary)
    try:
        watch = PeakWatch(agent)
        big = adversary.last_data(C2A)[:9] + bytes(MAX_FRAME - 9 - 64)
        sent = await adversary.flood("agent", big, 48)
        assert await agent.wait() == 5
        assert len(agent.all("error")) == 1
        grown = await watch.grown()
        print(f"max-size flood: {sent} frames sent, agent peak RSS +{grown / 2**20:.0f} MiB")
        assert grown < RSS_BOUND
    finally:
        await agent.kill()
        await customer.kill()


async def test_a_flood_of_peer_changes_ends_the_session_and_names_the_relay(adversary: Adversary) -> None:
    agent, customer, _ = await paired_quietly(adversary)
    try:
        changes = [json.dumps({"type": "peer", "state": s}) for s in ("left", "back")]
        for _ in range(1000):
            for text in changes:
                await adversary.flood("agent", text, 1)
        ended = await agent.event("ended")
        assert ended["reason"] == "relay_misbehaved"
        assert "the relay" in ended["message"]
        print(f"peer flood: {len(agent.all('peer'))} peer events")
        assert len(agent.all("peer")) <= MAX_PEER_CHANGES
        assert await agent.wait() == 4
    finally:
        await agent.kill()
        await customer.kill()


async def test_unknown_and_huge_relay_messages_are_bounded(adversary: Adversary) -> None:
    agent, customer, _ = await paired_quietly(adversary)
    try:
        watch = PeakWatch(agent)
        await adversary.flood("agent", json.dumps({"type": "surprise", "x": 1}), REPLAYS)
        await adversary.flood("agent", json.dumps({"type": "peer", "state": "x" * (4 << 20)}), 8)
        ended = await agent.event("ended")
        assert ended["reason"] == "relay_misbehaved"
        assert "the relay" in ended["message"]
        assert len(agent.stderr_lines) < 50
        grown = await watch.grown()
        print(f"relay JSON flood: agent peak RSS +{grown / 2**20:.0f} MiB, stderr lines {len(agent.stderr_lines)}")
        assert grown < RSS_BOUND
    finally:
        await agent.kill()
        await customer.kill()


async def test_the_customer_is_told_the_relay_misbehaved(adversary: Adversary) -> None:
    """The customer's side of the same floods: its plain notices name the relay, once."""
    agent, customer, _ = await paired_quietly(adversary)
    try:
        changes = [json.dumps({"type": "peer", "state": s}) for s in ("left", "back")]
        for _ in range(100):
            for text in changes:
                await adversary.flood("customer", text, 1)
        assert await customer.wait() == 4
        line = await customer.stderr_line("the relay misbehaved")
        assert "the other side are fine" in line
        assert sum("misbehaved" in line for line in customer.stderr_lines) == 1
        print(f"customer, peer flood: {len(customer.stderr_lines)} stderr lines")
        assert len(customer.stderr_lines) <= 2 * MAX_PEER_CHANGES + 10
        # The agent is told why at once (the customer's close), not after a 5-minute grace.
        ended = await agent.event("ended")
        assert ended["reason"] == "relay_misbehaved"
        assert ended["message"].startswith("the other side saw the relay misbehave")
        assert await agent.wait() == 4
    finally:
        await agent.kill()
        await customer.kill()


async def test_the_customer_ends_a_replay_flood_naming_the_relay(adversary: Adversary) -> None:
    agent, customer, _ = await paired_quietly(adversary)
    try:
        await agent.send({"cmd": "chat", "text": "hello"})
        await customer.stderr_line("hello")
        await settle(adversary, A2C)
        await adversary.flood("customer", adversary.last_data(A2C), REPLAYS)
        assert await customer.wait() == 5
        await customer.stderr_line("the relay misbehaved")
        print(f"customer, replay flood: {len(customer.stderr_lines)} stderr lines")
        assert len(customer.stderr_lines) < 40
        ended = await agent.event("ended")
        assert ended["reason"] == "scared"
        # the agent is not told "wrong code or interception": the relay replaying is one of the causes named
        assert "the relay or the network altering or replaying" in ended["message"], ended
        assert "interception" not in ended["message"]
    finally:
        await agent.kill()
        await customer.kill()
