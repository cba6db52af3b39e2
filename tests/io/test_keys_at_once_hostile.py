"""Review of keys5's fast paths (rev1): hostile ``keys`` lines from stdin's read callback must
meet the same fate as on the serving loop (an error event, the loop alive, nothing written).
Real relay and runtimes on 127.0.0.1; waits bounded; no timing asserted."""

from __future__ import annotations

import asyncio
import json

import pytest

from cobrowse.io.headless import CommandReader, serve_commands
from tests.io.test_keys_at_once import _chats, _control
from tests.io.test_resume import paired_runtimes, stop

HOSTILE = [
    b'{"cmd": "keys", "data": "a", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
    b'{"cmd": "keys", "data": "\\ud800"}\n',
    b'{"cmd": "keys", "data": ' + b"[" * 5000 + b"]" * 5000 + b"}\n",
    b'{"cmd": "keys", "data": 1e999999}\n',
    b'{"cmd": "keys", "data": "' + b"9" * 100 + b'", "n": ' + b"9" * 5000 + b"}\n",
]


@pytest.mark.parametrize("fast", [True, False], ids=["read-callback", "serving-loop"])
@pytest.mark.parametrize("line", HOSTILE, ids=[f"hostile{i}" for i in range(len(HOSTILE))])
async def test_a_hostile_keys_line_is_an_error_and_the_loop_goes_on(relay_url: str, line: bytes, fast: bool) -> None:
    agent, agent_events, customer, events, program, tasks = await paired_runtimes(relay_url)
    reader = CommandReader()
    serving = asyncio.create_task(serve_commands(agent, reader))
    loop = asyncio.get_running_loop()
    failures: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: failures.append(context))
    try:
        await _control(agent_events, customer)
        async with asyncio.timeout(5):
            while not reader.idle:
                await asyncio.sleep(0.01)
        errors = len(agent_events.of("error"))
        if not fast:
            reader.idle = False  # as when the loop is busy: the line is buffered for it
        loop.call_soon(reader.feed_data, line)  # from a callback, as the pipe's read is
        await asyncio.sleep(0.05)
        reader.feed_data(json.dumps({"cmd": "keys", "data": "ok"}).encode() + b"\n")
        reader.feed_data(b'{"cmd": "chat", "text": "sync"}\n')
        await events.until(lambda: "sync" in _chats(events), timeout=10)
        assert not serving.done(), serving
        assert failures == []
        assert len(agent_events.of("error")) == errors + 1, agent_events.of("error")[errors:]
        async with asyncio.timeout(10):
            while bytes(program) != b"ok":
                assert len(program) < 2, bytes(program)
                await asyncio.sleep(0.01)
    finally:
        loop.set_exception_handler(None)
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        await stop(tasks, agent, customer)
