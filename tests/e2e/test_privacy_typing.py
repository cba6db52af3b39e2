"""Secrets typed slowly into a real shell through a real pty (issue 11, item 5): the agent's
screen events never hold more of a token than its prefix without its last character, nor
any character of a password after ``DB_PASS=``, ``curl -u bob:`` or on the line under a
``Password:`` prompt; every frame the agent received is checked, not just the last one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from harness import Proc, pair

from cobrowse.screen.redact import MASK_CHAR

TOKEN = "ghp_" + "Tq7Zk2Wm9Xv4Rb8Nc3Lp6Hd1Jf5Gs0Ya2Ue7Io"
DB_PASS = "Sl0wTyp3dDbPa55"
CURL_PW = "cUrLpw9Z8y7X"
ANSWER = "Pr0mptAnsw3rQ"


def pieces(secret: str, shown: int = 0, width: int = 5) -> list[str]:
    """What must never appear: the shown prefix plus one character, any ``width`` characters
    of the rest."""
    out = [secret[i:i + width] for i in range(shown, len(secret) - width + 1)]
    return out + ([secret[:shown + 1]] if shown else [])


FORBIDDEN = pieces(TOKEN, 3) + pieces(DB_PASS) + pieces(CURL_PW) + pieces(ANSWER)


@pytest.fixture
async def session(relay_url: str) -> AsyncIterator[tuple[Proc, Proc]]:
    agent, customer, _ = await pair(relay_url)
    try:
        await agent.screen(lambda lines: any(line.startswith("$") for line in lines))
        yield agent, customer
    finally:
        await agent.kill()
        await customer.kill()


async def type_slowly(customer: Proc, text: str) -> None:
    for ch in text:
        await customer.send(ch)
        await asyncio.sleep(0.03)


async def test_secrets_typed_one_key_at_a_time_never_reach_the_agent(session: tuple[Proc, Proc]) -> None:
    agent, customer = session
    await type_slowly(customer, ": echo " + TOKEN)
    await agent.screen(lambda lines: any(line.endswith(": echo " + MASK_CHAR * len(TOKEN)) for line in lines))
    await customer.send("\r")
    await type_slowly(customer, ": export DB_PASS=" + DB_PASS)
    await agent.screen(lambda lines: any(line.endswith("DB_PASS=" + MASK_CHAR * len(DB_PASS)) for line in lines))
    await customer.send("\r")
    await type_slowly(customer, ": curl -u bob:" + CURL_PW + " https://127.0.0.1:9/")
    await agent.screen(lambda lines: any("-u bob:" + MASK_CHAR * len(CURL_PW) + " https" in line for line in lines))
    await customer.send("\r")
    await customer.send("printf 'Password:\\n'; read -r x\r")
    await agent.screen(lambda lines: "Password:" in lines)
    await type_slowly(customer, ANSWER)
    await agent.screen(lambda lines: MASK_CHAR * len(ANSWER) in lines)
    await customer.send("\recho done-$((6*7))\r")
    await agent.screen(lambda lines: any("done-42" in line for line in lines))
    frames = agent.all("screen")
    assert len(frames) > 40  # a frame for (nearly) every key
    text = agent.stdout_raw.decode("utf-8", "replace")
    assert [p for p in FORBIDDEN if p in text] == []
