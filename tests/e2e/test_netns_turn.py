"""A call across two hosts that cannot reach each other: network namespaces joined through a
third (the relay's) whose firewall drops forwarded traffic, with a real coturn beside the
relay. The relay hands out TURN REST credentials; the direct path comes up through TURN;
chat and a tone cross it."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import wave
from pathlib import Path
from typing import Iterator

import pytest

import netns
from cobrowse.voice.level import dominant_frequency, level_db
from harness import Proc

REASON = netns.unavailable() or (None if shutil.which("turnserver") else "coturn's turnserver is not installed")
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")

SECRET = "netns-turn-secret-5a7c"
RELAY_A, AGENT = "10.201.1.1", "10.201.1.2"
RELAY_C, CUSTOMER = "10.201.2.1", "10.201.2.2"


@pytest.fixture
def hosts() -> Iterator[netns.Hosts]:
    made = netns.Hosts()
    try:
        made.link("r", "a", "10.201.1")
        made.link("r", "c", "10.201.2")
        made.exec("a", "ip", "route", "add", "default", "via", RELAY_A)
        made.exec("c", "ip", "route", "add", "default", "via", RELAY_C)
        # The relay's host routes between the two networks, except that its firewall drops
        # everything it would forward: agent and customer can reach the relay, never each other.
        made.exec("r", "sysctl", "-qw", "net.ipv4.ip_forward=1")
        made.exec("r", "nft", "add table inet cobrowse_test")
        made.exec("r", "nft", "add chain inet cobrowse_test no_forwarding { type filter hook forward priority 0 ; policy drop ; }")
        yield made
    finally:
        made.close()


def reachable(hosts: netns.Hosts, host: str, addr: str, port: int) -> bool:
    probe = f"import socket; socket.create_connection(({addr!r}, {port}), timeout=1).close()"
    return subprocess.run([*hosts.prefix(host), "python3", "-c", probe], capture_output=True, timeout=10).returncode == 0


def start_coturn(hosts: netns.Hosts, tmp: Path) -> subprocess.Popen[bytes]:
    log = tmp / "turn.log"
    proc = subprocess.Popen(
        [*hosts.prefix("r"), "turnserver", "-n", f"--listening-ip={RELAY_A}", "--listening-port=3478",
         f"--relay-ip={RELAY_A}", "--use-auth-secret", f"--static-auth-secret={SECRET}", "--realm=cobrowse",
         "--no-cli", "--no-tls", "--no-dtls", "--min-port=49160", "--max-port=49200", "--fingerprint",
         f"--pidfile={tmp / 'turn.pid'}", f"--userdb={tmp / 'turndb'}", f"--log-file={log}", "--simple-log",
         "--no-stdout-log"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if log.exists() and "turn server id=0 created" in log.read_text(errors="replace"):
            return proc
        if proc.poll() is not None:
            raise AssertionError(f"turnserver exited: {log.read_text(errors='replace')[-1500:]}")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("turnserver did not start in 10 s")


async def test_call_through_turn_when_the_hosts_cannot_reach_each_other(hosts: netns.Hosts, tmp_path: Path) -> None:
    coturn = start_coturn(hosts, tmp_path)
    relay = await Proc.start("relay", "--host", "0.0.0.0", "--port", "8765", name="relay", prefix=hosts.prefix("r"),
                             env={"COBROWSE_RELAY_TURN_URLS": f"turn:{RELAY_A}:3478?transport=udp",
                                  "COBROWSE_RELAY_TURN_SECRET": SECRET})
    agent = customer = None
    heard = tmp_path / "heard.wav"
    try:
        await relay.stderr_line("listening")
        assert reachable(hosts, "a", RELAY_A, 8765) and reachable(hosts, "c", RELAY_C, 8765)
        listener = subprocess.Popen([*hosts.prefix("a"), "python3", "-c",
                                     "import socket,time; s=socket.create_server(('0.0.0.0', 9999)); time.sleep(30)"])
        try:
            time.sleep(0.3)
            assert reachable(hosts, "r", AGENT, 9999), "the agent's host answers its neighbour"
            assert not reachable(hosts, "c", AGENT, 9999), "the firewall must keep the customer from the agent"
        finally:
            listener.kill()
            listener.wait(5)
        base = {"COBROWSE_DIRECT": "1"}
        agent = await Proc.start("agent", "--headless", "--relay", f"ws://{RELAY_A}:8765", "--mic", "none",
                                 "--speaker", f"wav:{heard}", name="agent", prefix=hosts.prefix("a"),
                                 env={**base, "COBROWSE_ICE_HOSTS": AGENT})
        code = (await agent.event("code"))["code"]
        customer = await Proc.start("join", code, "--relay", f"ws://{RELAY_C}:8765", "--command", "sleep 600",
                                    "--mic", "tone:440", "--speaker", "none", name="customer",
                                    prefix=hosts.prefix("c"), env={**base, "COBROWSE_ICE_HOSTS": CUSTOMER, "PS1": "$ "})
        await agent.event("paired")
        path = await agent.event("path", timeout=30)
        assert path["path"] == "direct", f"no direct path through TURN: {path}"
        assert path["via"] == "relay", f"the two hosts cannot reach each other, so the pair must use TURN: {path}"
        await agent.send({"cmd": "chat", "text": "through TURN"})
        await customer.stderr_line("through TURN")

        await agent.send({"cmd": "call"})
        await customer.stderr_line("is calling you")
        await customer.send(b"\x1dt")
        await agent.event("voice", state="active", timeout=30)
        await asyncio.sleep(2.0)
        await agent.send({"cmd": "hangup"})
        await customer.stderr_line("call ended")
        await agent.send({"cmd": "end"})
        assert await agent.wait() == 0
    finally:
        for proc in (agent, customer, relay):
            if proc is not None:
                await proc.kill()
        coturn.terminate()
        coturn.wait(5)
    with wave.open(str(heard)) as wav:
        pcm = wav.readframes(wav.getnframes())
    tail = pcm[-48000:]  # the last half second before hanging up
    assert level_db(tail) > -20 and abs(dominant_frequency(tail, 48000) - 440) < 20
