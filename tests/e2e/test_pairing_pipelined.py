"""The customer's SPAKE2 message rides right behind its claim (one round trip fewer over a
network), and a refused claim still ends with the relay's own clear words.

A stand-in relay here takes the claim and answers nothing until the customer's binary frame
has arrived: that frame can only have been sent before any answer (pipelined). It then
refuses the claim as a real relay does for an unknown code."""

from __future__ import annotations

import asyncio
import json

from harness import WAIT, start_customer
from websockets.asyncio.server import ServerConnection, serve

from cobrowse.crypto.handshake import PAKE
from cobrowse.wire.envelope import Error


async def test_the_pake_message_follows_the_claim_before_any_answer() -> None:
    seen: list[str | bytes] = []
    got_frame = asyncio.Event()

    async def relay(ws: ServerConnection) -> None:
        async for message in ws:
            seen.append(message)
            if isinstance(message, bytes):
                got_frame.set()
                break
        await ws.send(Error.of("unknown_nameplate").encode())
        await ws.close()

    async with serve(relay, "127.0.0.1", 0, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        customer = await start_customer(f"ws://127.0.0.1:{port}", "42-7193-0518", command="sleep 60")
        try:
            async with asyncio.timeout(WAIT):
                await got_frame.wait()
            assert json.loads(seen[0])["type"] == "claim"
            assert isinstance(seen[1], bytes) and seen[1][0] == PAKE
            assert await customer.wait() == 4
            await customer.stderr_line("no session with that code")
        finally:
            await customer.kill()
