"""The headless agent with stdin that is not a pipe: a file of commands (an integration's
script) or /dev/null (a service with no input). Both crashed or printed a traceback: the loop's
pipe transport refuses a regular file ("Pipe transport is for pipes/sockets only", exit 1)
and epoll refuses /dev/null (a logged PermissionError)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import IO, Any

import pytest

from harness import Proc, start_customer

WAIT = 20.0


async def _events_until(stream: asyncio.StreamReader, kind: str, seen: list[dict[str, Any]]) -> dict[str, Any]:
    async with asyncio.timeout(WAIT):
        while line := await stream.readline():
            event = json.loads(line)
            seen.append(event)
            if event.get("event") == kind:
                return event
    raise AssertionError(f"stdout ended before a {kind!r} event: {seen}")


@pytest.mark.parametrize("stdin", ["file", "devnull"])
async def test_headless_agent_reads_commands_from_a_file_or_nothing(relay_url: str, tmp_path: Path, stdin: str) -> None:
    source: IO[bytes]
    if stdin == "file":
        commands = tmp_path / "commands.jsonl"
        commands.write_text('not json\n{"cmd": "nope"}\n')
        source = commands.open("rb")
    else:
        source = open(os.devnull, "rb")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COBROWSE_CONFIG": os.devnull, "COBROWSE_DATA_DIR": str(tmp_path)}
    env.pop("COBROWSE_RELAY", None)
    with source:
        agent = await asyncio.create_subprocess_exec(sys.executable, "-m", "cobrowse", "agent", "--headless",
                                                     "--relay", relay_url, stdin=source, stdout=asyncio.subprocess.PIPE,
                                                     stderr=asyncio.subprocess.PIPE, env=env)
    customer: Proc | None = None
    try:
        assert agent.stdout is not None and agent.stderr is not None
        seen: list[dict[str, Any]] = []
        code = (await _events_until(agent.stdout, "code", seen))["code"]
        customer = await start_customer(relay_url, code)
        await _events_until(agent.stdout, "paired", seen)
        if stdin == "file":
            errors = [e["message"] for e in seen if e.get("event") == "error"]
            assert errors[0].startswith("not a JSON command") and errors[1] == "unknown command 'nope'", errors
        agent.send_signal(signal.SIGTERM)
        async with asyncio.timeout(WAIT):
            rest, stderr = await agent.communicate()
        assert agent.returncode == 0, stderr
        assert b"Traceback" not in stderr and b"Error" not in stderr, stderr.decode(errors="replace")
        assert b'"event": "ended"' in rest
    finally:
        if agent.returncode is None:
            agent.kill()
            await agent.wait()
        if customer is not None:
            await customer.kill()
