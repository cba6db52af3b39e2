"""The headless agent: JSON lines out on stdout, JSON lines in on stdin (HEADLESS.md)."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from typing import Any, TextIO

from cobrowse.io.agent import AgentRuntime, CommandError


#: Characters JSON may carry raw that a terminal or a text view acts on (DEL, C1, bidi and
#: zero-width controls, line separators, lone surrogates): written as JSON escapes, so
#: whoever reads the stream, or prints it, gets the same values and no escape sequence.
_RAW_UNSAFE = re.compile("[\x7f-\x9f\u00ad\u061c\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u206f"
                         "\ufeff\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]")


def json_line(event: dict[str, Any]) -> str:
    """One event as a JSON line that is safe to show on a terminal (peer text included)."""
    text = json.dumps(event, ensure_ascii=False)
    return _RAW_UNSAFE.sub(lambda m: "\\u%04x" % ord(m[0]) if ord(m[0]) < 0x10000 else json.dumps(m[0])[1:-1], text)


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
