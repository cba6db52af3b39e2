"""A customer's first ``join`` rides out a relay node whose shared store did not answer
(``unavailable``, as relay/nodes.py sends it: an error, then close 1013): it tries again
with back-off, says so each time, and gives up after its bound with a clear message. A
scripted websockets relay on 127.0.0.1 plays the relay (as in tests/relay/test_link_retry.py);
the client is the real CustomerRuntime and RelayLink."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.server import ServerConnection, serve

from cobrowse.errors import RelayRejected
from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.joining import retry_delay
from cobrowse.io.link import RelayLink
from cobrowse.wire.code import Code
from tests.io.test_resume import Recorder

CODE = Code("42", "1234567")


async def scripted_relay(answers: list[str], claims: list[dict[str, str]]) -> tuple[object, str]:
    async def handler(ws: ServerConnection) -> None:
        msg = json.loads(await ws.recv())
        claims.append(msg)
        answer = answers.pop(0) if answers else "unavailable"
        if answer == "unavailable":
            await ws.send(json.dumps({"type": "error", "code": "unavailable", "message": "x", "retry_after": 1}))
            await ws.close(1013, "unavailable")
            return
        await ws.send(json.dumps({"type": "claimed", "nameplate": "42", "side": "c" * 32}))
        await ws.wait_closed()

    server = await serve(handler, "127.0.0.1", 0)
    return server, f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def test_join_tries_again_while_the_relay_cannot_look_the_session_up() -> None:
    claims: list[dict[str, str]] = []
    server, url = await scripted_relay(["unavailable", "unavailable", "claimed"], claims)
    events = Recorder()
    customer = CustomerRuntime(RelayLink(url, "customer", reconnect_for=5), events)
    try:
        async with asyncio.timeout(15):
            await customer.join(CODE)
        assert [c["type"] for c in claims] == ["claim"] * 3 and claims[0]["nameplate"] == "42"
        waits = [e for e in events.of("warning") if e["kind"] == "unavailable"]
        assert [w["attempt"] for w in waits] == [1, 2]
        assert "trying again in" in waits[0]["message"] and waits[0]["retry_in_s"] > 0
        assert customer.session is not None and customer.link.nameplate == "42"
    finally:
        await customer.link.close()
        server.close()  # type: ignore[attr-defined]


async def test_join_gives_up_after_its_bound_and_says_what_to_do() -> None:
    claims: list[dict[str, str]] = []
    server, url = await scripted_relay([], claims)
    events = Recorder()
    customer = CustomerRuntime(RelayLink(url, "customer", reconnect_for=5), events)
    customer.join_retry_for = 2.0
    try:
        with pytest.raises(RelayRejected) as failed:
            async with asyncio.timeout(15):
                await customer.join(CODE)
        assert failed.value.code == "unavailable"
        assert "for 2 s" in failed.value.message and "relay's operator" in failed.value.message
        assert 2 <= len(claims) <= 6  # bounded: a back-off, not a hammering
        assert customer.session is None
    finally:
        server.close()  # type: ignore[attr-defined]


def test_the_back_off_grows_and_is_capped() -> None:
    assert retry_delay("busy", 5, lambda: 0.5) == 2.0
    waits = [retry_delay("unavailable", n, lambda: 0.0) for n in range(1, 12)]
    assert waits[0] == 0.4 and waits == sorted(waits) and max(waits) == 5.0
    assert retry_delay("unavailable", 50, lambda: 0.999) < 10.0
