"""`cobrowse join CODE` sends its claim before importing the session's modules
(cobrowse.cli.early_claim), and only once its settings passed.

A stand-in relay takes the claim and its SPAKE2 message and looks at a marker file that the
customer's process writes when it starts importing ``cobrowse.io.customer_session`` (a
``sys.meta_path`` observer: it finds nothing itself, so imports are unchanged). The claim
must have arrived first; the relay then refuses the code, as a real relay does for an
unknown one, and the customer reports that as before."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from harness import WAIT, Proc
from websockets.asyncio.server import ServerConnection, serve

from cobrowse.crypto.handshake import PAKE
from cobrowse.wire.envelope import Error

#: The CLI as the console script runs it (``main()`` with the real ``sys.argv``), with the observer.
OBSERVED = """
import sys
marker = sys.argv.pop(1)
class Observer:
    def find_spec(self, name, path=None, target=None):
        if name == "cobrowse.io.customer_session":
            open(marker, "w").close()
            sys.meta_path.remove(self)
        return None
sys.meta_path.insert(0, Observer())
sys.argv[0] = "cobrowse"
from cobrowse.cli.main import main
sys.exit(main())
"""


async def _customer(relay: str, marker: Path, *extra: str) -> Proc:
    return await Proc.start(str(marker), "join", "42-7193-0518", "--relay", relay, "--command", "sleep 60", *extra,
                            name="customer", cli=[sys.executable, "-c", OBSERVED])


async def test_the_claim_and_its_pake_message_leave_before_the_session_modules_load(tmp_path: Path) -> None:
    marker = tmp_path / "session-imported"
    seen: list[str | bytes] = []
    imported_at_pake: list[bool] = []
    got_frame = asyncio.Event()

    async def relay(ws: ServerConnection) -> None:
        async for message in ws:
            seen.append(message)
            if isinstance(message, bytes):
                imported_at_pake.append(marker.exists())
                got_frame.set()
                break
        await ws.send(Error.of("unknown_nameplate").encode())
        await ws.close()

    async with serve(relay, "127.0.0.1", 0, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        customer = await _customer(f"ws://127.0.0.1:{port}", marker)
        try:
            async with asyncio.timeout(WAIT):
                await got_frame.wait()
            assert json.loads(seen[0])["type"] == "claim"
            assert isinstance(seen[1], bytes) and seen[1][0] == PAKE
            assert imported_at_pake == [False]
            assert await customer.wait() == 4
            await customer.stderr_line("no session with that code")
            assert marker.exists()  # the session's modules did load, after the claim
        finally:
            await customer.kill()


async def test_a_bad_trust_file_ends_the_join_before_any_claim(tmp_path: Path) -> None:
    """Settings that refuse the command refuse it before anything reaches the relay, as before:
    an early claim given up afterwards would cost the agent's session one of its guesses."""
    seen: list[str | bytes] = []

    async def relay(ws: ServerConnection) -> None:
        async for message in ws:
            seen.append(message)

    async with serve(relay, "127.0.0.1", 0, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        customer = await _customer(f"ws://127.0.0.1:{port}", tmp_path / "marker", "--org", str(tmp_path / "missing.json"))
        try:
            assert await customer.wait() == 2
            await customer.stderr_line("missing.json")
            assert seen == []
        finally:
            await customer.kill()
