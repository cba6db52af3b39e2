"""Review of keys5 (rev1): the headless agent's ``keys`` lines give the same events and exit
code whether each line comes in one read (carried out from stdin's read callback), split at
every byte (the serving loop), or two lines a read (the loop): before pairing, bad JSON, bad
data, nested too deeply, without control, then ``end``. A real agent process, customer and
relay on 127.0.0.1; waits bounded."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from harness import Proc, start_customer

WAIT = 20.0
BEFORE = [b'{"cmd": "keys", "data": "x"}', b'{"cmd": "keys", "data": ', b'{"cmd": "keys", "data": 5}',
          b'{"cmd": "keys", "data": "\\udc00"}']
AFTER = [b'{"cmd": "keys", "data": "y"}', b'{"cmd": "keys", "data": [' + b"[" * 3000 + b"]" * 3000 + b"]}",
         b'{"cmd": "keys"}', b'{"cmd": "keys", "data": "z"}', b'{"cmd": "end"}']

PAIRED = '\'keys\' needs a paired session: wait for the "paired" event'
CONTROL = "the customer has not granted control: send request_control first"
SAID = [("error", PAIRED, "keys"),
        ("error", "not a JSON command (Expecting value: line 2 column 1 (char 25)): one JSON object a line", None),
        ("error", PAIRED, "keys"),
        ("error", "not a JSON command (a lone surrogate (\\ud800-\\udfff) has no UTF-8): one JSON object a line", None),
        ("error", CONTROL, "keys"),
        ("error", "not a JSON command (nested too deeply): one JSON object a line", None),
        ("error", 'keys needs a non-empty "data" string', "keys"),
        ("error", CONTROL, "keys"),
        ("ended", "the agent ended the session", None)]


async def _until(stream: asyncio.StreamReader, kind: str, seen: list[dict[str, Any]]) -> None:
    async with asyncio.timeout(WAIT):
        while line := await stream.readline():
            seen.append(json.loads(line))
            if seen[-1].get("event") == kind:
                return
    raise AssertionError(f"no {kind!r}: {seen}")


async def _write(stdin: asyncio.StreamWriter, lines: list[bytes], how: str) -> None:
    data = [line + b"\n" for line in lines]
    if how == "pairs":
        data = [b"".join(data[i:i + 2]) for i in range(0, len(data), 2)]
    for chunk in data:
        parts = [chunk[i:i + 1] for i in range(len(chunk))] if how == "bytes" and len(chunk) < 200 else [chunk]
        for part in parts:
            stdin.write(part)
            await stdin.drain()
            await asyncio.sleep(0.002 if how == "bytes" else 0.05)


def _said(seen: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(e["event"], e.get("message"), e.get("cmd")) for e in seen if e.get("event") in ("error", "ended", "action")]


@pytest.mark.parametrize("how", ["whole", "bytes", "pairs"])
async def test_keys_lines_say_the_same_at_any_read_boundary(relay_url: str, tmp_path: Path, how: str) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COBROWSE_CONFIG": os.devnull, "COBROWSE_DATA_DIR": str(tmp_path)}
    env.pop("COBROWSE_RELAY", None)
    agent = await asyncio.create_subprocess_exec(sys.executable, "-m", "cobrowse", "agent", "--headless", "--relay",
                                                 relay_url, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                 stderr=asyncio.subprocess.PIPE, env=env)
    customer: Proc | None = None
    try:
        assert agent.stdin is not None and agent.stdout is not None
        seen: list[dict[str, Any]] = []
        await _until(agent.stdout, "code", seen)
        await _write(agent.stdin, BEFORE, how)
        customer = await start_customer(relay_url, seen[-1]["code"])
        await _until(agent.stdout, "paired", seen)
        await _write(agent.stdin, AFTER, how)
        await _until(agent.stdout, "ended", seen)
        async with asyncio.timeout(WAIT):
            rest, stderr = await agent.communicate()
        seen += [json.loads(line) for line in rest.splitlines()]
        said = _said(seen)
        assert said == SAID, said
        assert agent.returncode == 0, stderr
        assert b"Traceback" not in stderr, stderr.decode(errors="replace")
    finally:
        if agent.returncode is None:
            agent.kill()
            await agent.wait()
        if customer is not None:
            await customer.kill()
