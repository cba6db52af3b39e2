"""The headless agent: JSON lines out on stdout, JSON lines in on stdin (HEADLESS.md)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, TextIO

from cobrowse.io.agent import AgentRuntime, CommandError


class JsonLines:
    """Writes one JSON object a line and flushes, so a pipe reader sees each at once."""

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self.stream = stream

    def __call__(self, event: dict[str, Any]) -> None:
        try:
            self.stream.write(json.dumps(event, ensure_ascii=False) + "\n")
            self.stream.flush()
        except (BrokenPipeError, ValueError):
            pass


async def stdin_lines() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def serve_commands(runtime: AgentRuntime, reader: asyncio.StreamReader) -> None:
    """Apply each command line; a bad one answers with an error event and changes nothing."""
    while True:
        try:
            line = await reader.readline()
        except ValueError:
            runtime.emit({"event": "error", "message": "a command line was longer than 1 MiB; ignored"})
            continue
        if not line:
            return
        if not line.strip():
            continue
        try:
            cmd = json.loads(line)
        except ValueError as exc:
            runtime.emit({"event": "error", "message": f"not a JSON command ({exc}): one JSON object a line"})
            continue
        if not isinstance(cmd, dict):
            runtime.emit({"event": "error", "message": "a command must be a JSON object"})
            continue
        try:
            await runtime.command(cmd)
        except CommandError as exc:
            runtime.emit({"event": "error", "message": str(exc), "cmd": cmd.get("cmd")})
