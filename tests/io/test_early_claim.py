"""The claim `cobrowse join CODE` sends before its session's imports (cobrowse.io.joining's
``claim_early``): taken over only by a link built for the same relay, proxy and reconnect
span; given up when nobody takes it; a passing refusal (``busy``) tried again as a join's
first claim is, with the same SPAKE2 message. Against a stand-in relay on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator

import pytest
from websockets.asyncio.server import ServerConnection, serve

from cobrowse.io import joining
from cobrowse.io.link import RelayLink
from cobrowse.policy.session_events import SessionWarning
from cobrowse.wire.code import parse_code
from cobrowse.wire.envelope import Claimed, Error
from cobrowse.wire.proxy import ProxyChoice

DIRECT = ProxyChoice(None, "--no-proxy")
CODE = parse_code("42-7193-0518")
WAIT = 10.0


class StandIn:
    """Answers each connection's claim from ``answers`` (in turn; the last one repeats) and
    records what every connection sent."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = answers
        self.connections: list[list[Any]] = []
        self.changed = asyncio.Event()

    async def handler(self, ws: ServerConnection) -> None:
        seen: list[Any] = []
        self.connections.append(seen)
        answer = self.answers[min(len(self.connections), len(self.answers)) - 1]
        async for message in ws:
            seen.append(json.loads(message) if isinstance(message, str) else message)
            self.changed.set()
            if isinstance(message, bytes) and answer == "busy":
                await ws.send(Error.of("busy", "retry within 15 s").encode())
                await ws.close()
                return
            if isinstance(message, bytes) and len([m for m in seen if isinstance(m, bytes)]) == 1:
                await ws.send(Claimed("42", "side-token").encode())

    async def until(self, check: Any) -> None:
        async with asyncio.timeout(WAIT):
            while not check():
                self.changed.clear()
                await self.changed.wait()


async def _relay(answers: list[str]) -> AsyncIterator[tuple[str, StandIn]]:
    stand_in = StandIn(answers)
    async with serve(stand_in.handler, "127.0.0.1", 0, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}", stand_in


@pytest.fixture
async def relay() -> AsyncIterator[tuple[str, StandIn]]:
    async for pair in _relay(["claimed"]):
        yield pair


@pytest.fixture(autouse=True)
async def no_early_left() -> AsyncIterator[None]:
    yield
    await joining.drop_early()


def _link(url: str, reconnect_for: float = 60.0) -> RelayLink:
    return RelayLink(url, "customer", None, reconnect_for=reconnect_for, proxy=DIRECT)


async def test_the_link_is_taken_over_only_with_the_same_settings(relay: tuple[str, StandIn]) -> None:
    url, _ = relay
    link = _link(url)
    early = joining.claim_early(link, CODE)
    await early.task
    assert joining.early_link(url + "/", DIRECT, 60.0) is None
    assert joining.early_link(url, ProxyChoice("http://proxy:3128", "--proxy"), 60.0) is None
    assert joining.early_link(url, None, 60.0) is None
    assert joining.early_link(url, DIRECT, 30.0) is None
    assert joining.early_link(url, DIRECT, 60.0) is link
    assert joining._take_early(parse_code("43-7193-0518"), link) is None  # another code
    assert joining._take_early(CODE, _link(url)) is None  # another link
    assert joining._take_early(CODE, link) is early
    assert joining._take_early(CODE, link) is None  # once
    assert joining.early_link(url, DIRECT, 60.0) is None


async def test_the_early_claim_carries_the_sessions_pake_message(relay: tuple[str, StandIn]) -> None:
    url, stand_in = relay
    link = _link(url)
    early = joining.claim_early(link, CODE)
    await early.task
    (seen,) = stand_in.connections
    assert seen[0]["type"] == "claim" and seen[0]["nameplate"] == "42"
    assert seen[1:] == list(early.frames) and early.session.state == "handshaking"
    assert link.nameplate == "42" and link.connected.is_set()


async def test_an_early_claim_nobody_took_is_given_up(relay: tuple[str, StandIn]) -> None:
    url, stand_in = relay
    early = joining.claim_early(_link(url), CODE)
    await early.task
    await joining.drop_early()
    (seen,) = stand_in.connections
    await stand_in.until(lambda: len(seen) >= 3)
    assert seen[2] == {"type": "close", "reason": "ended"}
    assert joining.early_link(url, DIRECT, 60.0) is None


async def test_an_early_claim_taken_over_is_not_given_up(relay: tuple[str, StandIn]) -> None:
    url, stand_in = relay
    link = _link(url)
    early = joining.claim_early(link, CODE)
    await early.task
    assert joining._take_early(CODE, link) is early
    await joining.drop_early()
    await asyncio.sleep(0.05)
    (seen,) = stand_in.connections
    assert [m for m in seen if isinstance(m, dict) and m.get("type") == "close"] == []
    await link.close()


async def test_a_busy_early_claim_is_tried_again_with_the_same_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(joining, "BUSY_RETRY_EVERY", 0.05)
    async for url, stand_in in _relay(["busy", "claimed"]):
        link = _link(url)
        early = joining.claim_early(link, CODE)
        warnings: list[Any] = []
        taken = joining._take_early(CODE, link)
        assert taken is early
        async with asyncio.timeout(WAIT):
            await joining.claim_retrying(link, CODE.nameplate, warnings.append, 5.0, early.frames, early.task)
        assert [w.kind for w in warnings if isinstance(w, SessionWarning)] == ["busy"]
        first, second = stand_in.connections
        assert first[1:] == second[1:] == list(early.frames)
        assert link.connected.is_set()
        await link.close()


async def test_a_refused_early_claim_is_raised_by_the_join(monkeypatch: pytest.MonkeyPatch) -> None:
    from cobrowse.errors import RelayRejected

    async def relay(ws: ServerConnection) -> None:
        async for message in ws:
            if isinstance(message, bytes):
                await ws.send(Error.of("unknown_nameplate").encode())
                await ws.close()
                return

    async with serve(relay, "127.0.0.1", 0, compression=None) as server:
        url = f"ws://127.0.0.1:{next(iter(server.sockets)).getsockname()[1]}"
        link = _link(url)
        early = joining.claim_early(link, CODE)
        assert joining._take_early(CODE, link) is early
        with pytest.raises(RelayRejected) as refused:
            async with asyncio.timeout(WAIT):
                await joining.claim_retrying(link, CODE.nameplate, lambda _: None, 5.0, early.frames, early.task)
        assert refused.value.code == "unknown_nameplate"




@pytest.mark.parametrize(("words", "expected"), [
    (["join", "42-7193-0518", "--plain"], True),
    (["join", "42-7193-0518", "--plain", "--size", "80x24"], False),  # --size is checked by the plain front end
    (["join", "--plain"], False),  # the prompt path
    (["share", "--plain"], False),
])
def test_which_commands_claim_early(words: list[str], expected: bool) -> None:
    from cobrowse.cli.early_claim import applies
    from cobrowse.cli.main import build_parser

    assert applies(build_parser(words[0]).parse_args(words)) is expected
