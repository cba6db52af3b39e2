"""Admission limits against a real `cobrowse relay` process on 127.0.0.1, as an attacker would
try them: one address opening sessions in a loop, then 99 source addresses (127.0.0.2 ...
127.0.0.100, all loopback) holding as many sockets as the relay lets them.

The relay runs with RLIMIT_NOFILE lowered to 600, so its limits are the ones it sizes from the
machine (no limit is set by hand): the global caps are reached quickly and for real. Every wait
is bounded; nothing is timed (bench/relay_attack.py measures the latency figures).
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import json
import os
import resource
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from cobrowse.errors import RelayRejected
from cobrowse.io.link import RelayLink
from cobrowse.wire.envelope import Claim, Open
from tests.relay.listening import wait_until_listening

ROOT = Path(__file__).resolve().parents[2]
T = 10.0
NOFILE = 1000
TOKEN = "cbt_admission-agent-token"
CLI = [sys.executable, "-c", "import sys; from cobrowse.cli.main import main; sys.exit(main())", "relay"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def low_nofile() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, hard))


class RelayProcess:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("COBROWSE_RELAY", "COBROWSE_ADMIN"))}
        env["XDG_DATA_HOME"] = str(tmp / "data")
        env["COBROWSE_RELAY_AGENT_TOKENS"] = hashlib.sha256(TOKEN.encode()).hexdigest()
        self.proc = subprocess.Popen(
            [*CLI, "--host", "127.0.0.1", "--port", str(self.port)], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=low_nofile,
        )
        self.lines: list[str] = []
        wait_until_listening(self.proc, self.lines, T)
        stderr = self.proc.stderr
        assert stderr is not None
        threading.Thread(target=lambda: self.lines.extend(stderr), daemon=True).start()  # never a full pipe
        self.url = f"ws://127.0.0.1:{self.port}"

    def health(self, source: str = "127.0.0.1") -> dict[str, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=T, source_address=(source, 0))
        try:
            conn.request("GET", "/healthz")
            reply = conn.getresponse()
            assert reply.status == 200, (reply.status, reply.read())
            return dict(json.loads(reply.read()))
        finally:
            conn.close()

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.communicate(timeout=T)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@pytest.fixture
def relay_process(tmp_path: Path) -> Iterator[RelayProcess]:
    relay = RelayProcess(tmp_path)
    try:
        yield relay
    finally:
        relay.stop()


async def dial(url: str, source: str) -> ClientConnection:
    return await asyncio.wait_for(
        connect(url, compression=None, local_addr=(source, 0), open_timeout=T, proxy=None), T
    )


async def request(ws: ClientConnection, msg: Any) -> dict[str, Any]:
    await ws.send(msg.encode())
    return dict(json.loads(await asyncio.wait_for(ws.recv(), T)))


async def open_session(url: str, source: str, role: str = "agent", token: str | None = TOKEN) -> tuple[ClientConnection, dict[str, Any]]:
    ws = await dial(url, source)
    return ws, await request(ws, Open(role, 1, token))


async def paired(url: str, agent_source: str, customer_source: str) -> tuple[ClientConnection, ClientConnection]:
    agent, opened = await open_session(url, agent_source)
    assert opened["type"] == "opened", opened
    customer = await dial(url, customer_source)
    claimed = await request(customer, Claim("customer", 1, opened["nameplate"]))
    assert claimed["type"] == "claimed", claimed
    return agent, customer


async def frame_crosses(a: ClientConnection, b: ClientConnection, payload: bytes) -> None:
    await a.send(payload)
    async with asyncio.timeout(T):
        while True:  # peer notices (text) may come first
            got = await b.recv()
            if isinstance(got, bytes):
                assert got == payload
                return


async def test_one_address_opening_in_a_loop_is_refused_while_another_still_pairs(relay_process: RelayProcess) -> None:
    url = relay_process.url
    codes: list[str] = []
    retry_after: list[int] = []
    for _ in range(80):  # far past the per-address limits, bounded
        try:
            ws, reply = await open_session(url, "127.0.0.1", role="customer", token=None)
        except InvalidStatus as exc:  # refused as it connected: 429 and Retry-After
            codes.append("rate_limited")
            retry_after.append(int(exc.response.headers["Retry-After"]))
            assert exc.response.status_code == 429
            continue
        codes.append(reply.get("code", reply["type"]))
        if reply["type"] == "error":
            retry_after.append(reply["retry_after"])
        await ws.close()  # the session stays, waiting for a claim (the creator may resume)
    opened = codes.count("opened")
    assert 1 <= opened <= 30, codes  # the connection burst (16 here), unpaired_per_address (20), open_burst (30)
    # Each answer is one of the two, and the refusals start once the burst is used; a slow
    # loop (a loaded machine) may see a connection token refill and one more open among them.
    assert codes.count("rate_limited") == 80 - opened and codes[0] == "opened", codes
    assert codes[-1] == "rate_limited", codes
    assert retry_after and all(r >= 1 for r in retry_after)
    # what the person sees: an actionable message, not "cannot reach the relay"
    with pytest.raises(RelayRejected) as refused:
        await RelayLink(url, "customer").open()
    assert refused.value.code == "rate_limited"
    assert "limiting this address" in refused.value.message and "try again in" in refused.value.message
    # another address's agent still opens, and its customer pairs with it
    agent, customer = await paired(url, "127.0.0.3", "127.0.0.4")
    await frame_crosses(agent, customer, b"still works")
    assert relay_process.health("127.0.0.5")["status"] == "ok"
    await agent.close()
    await customer.close()


async def hold(url: str, source: str, per_address: int, held: list[ClientConnection], outcomes: dict[str, int]) -> None:
    """One attacking address: open sessions, then hold idle sockets, as many as it is let."""
    for i in range(per_address + 4):
        try:
            ws = await dial(url, source)
        except InvalidStatus as exc:
            outcomes[f"http {exc.response.status_code}"] = outcomes.get(f"http {exc.response.status_code}", 0) + 1
            continue
        except (OSError, TimeoutError, ConnectionClosed):
            outcomes["dropped"] = outcomes.get("dropped", 0) + 1
            continue
        held.append(ws)
        if i % 2 == 0:
            try:
                reply = await request(ws, Open("customer", 1))
                key = reply.get("code", reply["type"])
            except (ConnectionClosed, TimeoutError):
                key = "dropped"
            outcomes[key] = outcomes.get(key, 0) + 1


async def test_many_addresses_holding_sockets_up_to_the_cap(relay_process: RelayProcess) -> None:
    url = relay_process.url
    quiet = relay_process.health()
    limit = quiet["max_sockets"]
    assert limit <= NOFILE - 64 - 6 * 64  # sized from RLIMIT_NOFILE, with headroom for files and accepts
    rss_before = relay_process.rss_mb()
    agent, customer = await paired(url, "127.0.0.1", "127.0.0.1")  # a session from before the attack
    held: list[ClientConnection] = []
    outcomes: dict[str, int] = {}
    try:
        sources = [f"127.0.0.{i}" for i in range(2, 101)]
        per_address = max(16, limit // 100)
        for start in range(0, len(sources), 20):  # 20 addresses at a time: below the listen backlog
            await asyncio.gather(*(hold(url, s, per_address, held, outcomes) for s in sources[start:start + 20]))
        under_attack = relay_process.health()  # /healthz answers with the table full
        assert under_attack["status"] == "ok"
        assert under_attack["sockets"] <= limit
        assert outcomes.get("opened", 0) > 0 and outcomes.get("full", 0) > 0, outcomes
        # an agent with a token still opens, and a customer still joins it
        late_agent, late_customer = await paired(url, "127.0.0.1", "127.0.0.1")
        await frame_crosses(late_agent, late_customer, b"opened during the attack")
        # the session from before the attack never ended
        await frame_crosses(agent, customer, b"from before")
        await frame_crosses(customer, agent, b"and back")
        assert relay_process.rss_mb() - rss_before < 150, (rss_before, relay_process.rss_mb())
        assert not [line for line in relay_process.lines if "Too many open files" in line]  # never EMFILE
        await late_agent.close()
        await late_customer.close()
    finally:
        await asyncio.gather(*(ws.close() for ws in held), return_exceptions=True)
        await agent.close()
        await customer.close()
