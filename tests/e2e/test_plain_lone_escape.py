"""Plain mode asks the customer's terminal where its cursor is (the notice lane) and holds a
lone ESC typed meanwhile: it may be the answer's first byte. A terminal that never answers
(this pty of ours does not) must not keep that ESC from the program until the next key."""

from __future__ import annotations

import asyncio

from cobrowse.plain.notice_lane import ASK_CURSOR
from tests.e2e.harness import start_agent
from tests.e2e.pty_join import PtyProc


async def test_a_lone_escape_reaches_the_program_when_the_terminal_never_answers(relay_url: str) -> None:
    agent = await start_agent(relay_url)
    code = (await agent.event("code"))["code"]
    customer = await PtyProc.start("join", code, "--relay", relay_url, "--command", "cat", "--plain")
    try:
        for _ in range(400):  # bounded: the lane asks as the shared session starts
            if ASK_CURSOR in customer.output:
                break
            await asyncio.sleep(0.025)
        assert ASK_CURSOR in customer.output
        await customer.type(b"\x1b")  # asked, never answered: held as a report's possible start
        await customer.until("Compare these words")
        await customer.until("^[", timeout=10)  # cat's pty echoes it once cat has it
        await agent.send({"cmd": "end"})
        assert await customer.wait() == 0
    finally:
        await agent.kill()
        await customer.close()
