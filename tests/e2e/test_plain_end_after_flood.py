"""Plain mode: the line saying why the session ended is the last thing the customer sees, even
when the shared program was flooding the terminal. It was said when the agent's end came, then
the rest of the flood (the pty's buffer, and what the program wrote until it was stopped) was
copied under it: ~8,000 lines of `yes` buried the reason (qa7). Real relay, headless agent, pty."""

from __future__ import annotations

import asyncio
import os

from tests.e2e.harness import start_agent
from tests.e2e.pty_join import PtyProc

FLOOD = "yes flood-line"


async def test_the_end_line_comes_after_the_flood(relay_url: str) -> None:
    agent = await start_agent(relay_url)
    code = (await agent.event("code"))["code"]
    customer = await PtyProc.start("join", code, "--plain", "--relay", relay_url, "--command", FLOOD, size=(80, 24))
    try:
        await agent.event("paired")
        await agent.screen(lambda lines: any("flood-line" in line for line in lines))
        await customer.until("flood-line")
        await agent.send({"cmd": "end"})
        await customer.wait()
        await _drain(customer)
        text = customer.text()
        ended = text.rfind("session ended")
        assert ended >= 0, text[-2000:]
        assert text.rfind("flood-line") < ended, text[-2000:]
    finally:
        await agent.kill()
        await customer.close()


async def _drain(customer: PtyProc) -> None:
    """What the exited process left in the pty (its reader may not have read it all yet; the
    kernel hands the last writes to the master a moment later): until EIO, bounded."""
    try:
        asyncio.get_running_loop().remove_reader(customer.master)
    except (ValueError, OSError):
        pass
    for _ in range(3000):  # bounded: ~3 s of waits at most
        try:
            data = os.read(customer.master, 65536)
        except BlockingIOError:
            await asyncio.sleep(0.001)
            continue
        except OSError:  # EIO: every byte read, the other end closed
            return
        if not data:
            return
        customer.output.extend(data)
