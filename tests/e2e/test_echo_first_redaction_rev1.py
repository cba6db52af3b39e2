"""Review of keys5 (rev1): a key's output taken before the customer's terminal (``echo_first``)
is redacted as all output is: a pattern the agent set masks a secret that is a key's own echo
(a readline macro bound by the customer: checked by hand to go through ``echo_first``) or that
the program prints right after a key, in every screen the agent gets, while the customer's own
terminal shows every byte. Real agent, customer (plain mode, bash in a pty)
and relay on 127.0.0.1; waits bounded; no timing asserted."""

from __future__ import annotations

import asyncio

from cobrowse.trust.tripwire import COOLDOWN
from tests.e2e.harness import pair


async def test_output_right_after_a_key_is_redacted_before_it_leaves(relay_url: str) -> None:
    agent, customer, _ = await pair(relay_url)
    try:
        await customer.send(b"\x1dg")  # an unverified agent: the first press only warns
        await asyncio.sleep(COOLDOWN + 0.2)
        await customer.send(b"\x1dg")
        await agent.event("consent", level="control")
        await agent.screen(lambda lines: lines[0] == "$")
        await agent.send({"cmd": "redact", "patterns": ["tok-[0-9]+"]})
        await asyncio.sleep(0.3)
        await customer.send(b"S=tok-; N=4242\r")  # the secret never crosses as typed keys
        await agent.screen(lambda lines: any("N=4242" in line for line in lines))
        for i in range(5):
            await agent.send({"cmd": "keys", "data": f"printf '%s%s{i}\\n' $S $N\r"})
            await agent.screen(lambda lines, i=i: sum(line == "\u2591" * 9 for line in lines) > i)  # masked
        await customer.send(b"bind '\"\\C-t\": \"tok-4242x\"'\r")  # a key whose echo itself is the secret
        await agent.screen(lambda lines: any(line.startswith("$ bind") for line in lines))
        await agent.send({"cmd": "keys", "data": "\x14"})
        await agent.screen(lambda lines: any(line.startswith("$ \u2591") and line.endswith("x") for line in lines))
        async with asyncio.timeout(10):
            while bytes(customer.stdout_raw).count(b"tok-4242") < 6:
                await asyncio.sleep(0.05)
        raw = bytes(customer.stdout_raw)
        assert all(f"tok-4242{i}\r\n".encode() in raw for i in range(5))
        screens = agent.all("screen")
        leaked = [line for event in screens for line in event["lines"] if "tok-4" in line]
        assert leaked == []
    finally:
        await agent.kill()
        await customer.kill()
