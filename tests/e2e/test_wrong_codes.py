"""A failed code costs the guesser, never the customer: real relay, real processes.

An attacker who guesses gets at most three tries at one code before the agent's client
opens a fresh one on its own; claimants that squat the code from many loopback addresses
are let go by the relay and never end the agent's session.
"""

from __future__ import annotations

import asyncio
import json
from typing import AsyncIterator

import pytest
from harness import Proc, start_agent, start_customer
from test_pairing import wrong_code_warning
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from relay.config import RelayConfig
from relay.server import RelayServer, serve_relay

CLAIM_TIMEOUT = 2.0


@pytest.fixture
async def strict_relay() -> AsyncIterator[str]:
    """A relay that lets squatters go after CLAIM_TIMEOUT s (15 s by default)."""
    server: RelayServer = await serve_relay(RelayConfig(
        host="127.0.0.1", port=0, grace=3.0, unclaimed_ttl=60.0, claim_timeout=CLAIM_TIMEOUT, tick_interval=0.1,
    ))
    try:
        yield f"ws://127.0.0.1:{server.port}"
    finally:
        server.close()
        await server.wait_closed()


def wrong_for(code: str, n: int) -> str:
    nameplate, secret = code.split("-", 1)
    digits = secret.replace("-", "")
    guess = f"{(int(digits) + 1 + n) % 10**8:08d}"
    return f"{nameplate}-{guess[:4]}-{guess[4:]}"


async def test_three_guesses_get_the_agent_a_fresh_code_and_the_customer_pairs_with_it(relay_url: str) -> None:
    agent = await start_agent(relay_url)
    procs: list[Proc] = []
    try:
        first = (await agent.event("code"))["code"]
        for n in range(3):
            guesser = await start_customer(relay_url, wrong_for(first, n), command="sleep 30")
            procs.append(guesser)
            assert await guesser.wait() == 5
            await wrong_code_warning(agent, n + 1)
        renewed = await agent.event("code", renewed=True)
        assert renewed["code"] != first and renewed["code"].split("-", 1)[1] != first.split("-", 1)[1]
        assert "new code" in renewed["message"] and renewed["customer_command"] == f"cobrowse join {renewed['code']} --relay {relay_url}"
        assert agent.proc.returncode is None and not agent.all("ended")
        late = await start_customer(relay_url, first, command="sleep 30")  # the burned code
        procs.append(late)
        assert await late.wait() != 0
        customer = await start_customer(relay_url, renewed["code"])
        procs.append(customer)
        sas = (await agent.event("paired"))["sas"]
        assert sas in await customer.stderr_line("Compare these words")
        await agent.send({"cmd": "end"})
        assert await customer.wait() == 0
        assert await agent.wait() == 0
    finally:
        await agent.kill()
        for proc in procs:
            await proc.kill()


async def squat(url: str, nameplate: str, address: str, hold: float) -> str:
    """Claim ``nameplate`` from ``address`` and hold it without a word; what the relay said."""
    ws: ClientConnection = await connect(url, local_addr=(address, 0), open_timeout=5, proxy=None)
    try:
        await ws.send(json.dumps({"type": "claim", "role": "customer", "version": 1, "nameplate": nameplate}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if reply["type"] != "claimed":
            return reply.get("code", reply["type"])
        async with asyncio.timeout(hold):
            async for raw in ws:
                if isinstance(raw, str) and json.loads(raw)["type"] == "closed":
                    return "released:" + json.loads(raw)["reason"]
        return "held"
    except (ConnectionClosed, TimeoutError):
        return "closed"
    finally:
        await ws.close()


async def test_squatters_from_many_addresses_cannot_end_the_session(strict_relay: str) -> None:
    agent = await start_agent(strict_relay)
    customer = None
    try:
        code = (await agent.event("code"))["code"]
        nameplate = code.split("-", 1)[0]
        addresses = [f"127.0.0.{i}" for i in range(2, 42)]
        results = await asyncio.gather(*(squat(strict_relay, nameplate, a, CLAIM_TIMEOUT + 5) for a in addresses))
        assert results.count("released:claim_timeout") == 1, results
        assert set(results) <= {"released:claim_timeout", "busy"}, results
        # one that claims and says close("scared") only gives up its own claim
        ws = await connect(strict_relay, local_addr=("127.0.0.99", 0), proxy=None)
        await ws.send(json.dumps({"type": "claim", "role": "customer", "version": 1, "nameplate": nameplate}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "claimed"
        await ws.send(json.dumps({"type": "close", "reason": "scared"}))
        await ws.close()
        assert agent.proc.returncode is None and not agent.all("ended")
        customer = await start_customer(strict_relay, code)
        sas = (await agent.event("paired"))["sas"]
        assert sas in await customer.stderr_line("Compare these words")
        assert not agent.all("error")
        await agent.send({"cmd": "end"})
        assert await customer.wait() == 0
        assert await agent.wait() == 0
    finally:
        await agent.kill()
        if customer is not None:
            await customer.kill()


async def test_a_customer_who_finds_the_code_busy_gets_in_once_the_squatter_is_let_go(strict_relay: str) -> None:
    agent = await start_agent(strict_relay)
    customer = None
    try:
        code = (await agent.event("code"))["code"]
        squatter = asyncio.create_task(squat(strict_relay, code.split("-", 1)[0], "127.0.0.7", CLAIM_TIMEOUT + 5))
        await asyncio.sleep(0.3)
        customer = await start_customer(strict_relay, code)
        await customer.stderr_line("someone else is entering a code for this session")
        sas = (await agent.event("paired", timeout=20))["sas"]
        assert sas in await customer.stderr_line("Compare these words")
        assert await squatter == "released:claim_timeout"
        claim_warnings = [w for w in agent.all("warning") if w.get("kind") == "claim"]
        assert claim_warnings and "held the session code" in claim_warnings[0]["message"]
        await agent.send({"cmd": "end"})
        assert await customer.wait() == 0
        assert await agent.wait() == 0
    finally:
        await agent.kill()
        if customer is not None:
            await customer.kill()


async def test_a_customer_created_session_survives_wrong_codes_and_prints_the_fresh_code(relay_url: str) -> None:
    customer = await Proc.start("share", "--relay", relay_url, "--plain", "--command", "sleep 60", name="customer")
    agents: list[Proc] = []
    try:
        first = (await customer.stderr_line("cobrowse code: ")).split("cobrowse code: ", 1)[1].strip()
        for n in range(3):
            guesser = await start_agent(relay_url, "--join", wrong_for(first, n))
            agents.append(guesser)
            assert await guesser.wait() == 5
            (error,) = [e for e in guesser.all("error") if e.get("kind") == "wrong_code"]
            assert "check the digits with the customer" in error["message"]
            await customer.stderr_line(f"attempt {n + 1} of 3")
        await customer.stderr_line("the new code is")
        fresh = [line for line in customer.stderr_lines if line.startswith("cobrowse code: ")]
        assert len(fresh) == 2 and fresh[1] != fresh[0]
        agent = await start_agent(relay_url, "--join", fresh[1].split("cobrowse code: ", 1)[1].strip())
        agents.append(agent)
        sas = (await agent.event("paired"))["sas"]
        assert sas in await customer.stderr_line("Compare these words")
        await agent.send({"cmd": "end"})
        assert await agent.wait() == 0
        assert await customer.wait() == 0
    finally:
        await customer.kill()
        for agent in agents:
            await agent.kill()
