"""The headless agent: JSON lines out on stdout, JSON lines in on stdin (HEADLESS.md)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, TextIO

from cobrowse.io.agent import AgentRuntime, CommandError
from cobrowse.protocol.untrusted import dangerous


def json_line(event: dict[str, Any]) -> str:
    """One event as a JSON line that is safe to show on a terminal: JSON escapes C0 controls
    itself; DEL, C1, bidi and zero-width controls, separators and lone surrogates (peer text
    is cleaned before it gets here; this is the last guard) become JSON escapes too, so a
    reader gets the same values and a terminal printing the stream no escape sequence."""
    text = json.dumps(event, ensure_ascii=False)
    if text.isprintable():
        return text
    return "".join(json.dumps(ch)[1:-1] if dangerous(ch) else ch for ch in text)


class JsonLines:
    """Writes one JSON object a line and flushes, so a pipe reader sees each at once."""

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self.stream = stream

    def __call__(self, event: dict[str, Any]) -> None:
        try:
            self.stream.write(json_line(event) + "\n")
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
