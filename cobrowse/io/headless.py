"""The headless agent: JSON lines out on stdout, JSON lines in on stdin (HEADLESS.md).

The only place where the agent's commands are JSON: ``parse_command`` turns one object into
a typed command (``cobrowse.policy.agent_commands``) with the error the ``error`` event
carries, and ``JsonLines`` writes each typed event in its headless shape.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, SupportsIndex, TextIO

from cobrowse.playbook.suggest import DEFAULT_LIMIT
from cobrowse.policy import agent_commands as c
from cobrowse.policy.agent_commands import AgentCommand, CommandError
from cobrowse.policy.agent_events import AgentError, UnnamedCommandError
from cobrowse.policy.events import Event, as_json
from cobrowse.protocol.untrusted import dangerous

if TYPE_CHECKING:
    from cobrowse.io.agent import AgentRuntime


def json_line(event: Event) -> str:
    """One event as a JSON line that is safe to show on a terminal: JSON escapes C0 controls
    itself; DEL, C1, bidi and zero-width controls, separators and lone surrogates (peer text
    is cleaned before it gets here; this is the last guard) become JSON escapes too, so a
    reader gets the same values and a terminal printing the stream no escape sequence."""
    text = json.dumps(as_json(event), ensure_ascii=False)
    if text.isprintable():
        return text
    return "".join(json.dumps(ch)[1:-1] if dangerous(ch) else ch for ch in text)


class JsonLines:
    """Writes one JSON object a line and flushes, so a pipe reader sees each at once."""

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self.stream = stream

    def __call__(self, event: Event) -> None:
        try:
            self.stream.write(json_line(event) + "\n")
            self.stream.flush()
        except (BrokenPipeError, ValueError):
            pass


#: ``pick`` is a command of the queue's waiting room (cobrowse/cli/help.py), not of a session.
ONLY_IN_QUEUE = ("pick works only while serving a help queue, before a session starts "
                 "(cobrowse agent --headless --queue --credential FILE)")


def parse_command(cmd: Mapping[str, Any]) -> AgentCommand:
    """One headless command object as a typed command; CommandError says what is wrong."""
    name = cmd.get("cmd")
    if not isinstance(name, str):
        raise CommandError('a command needs a "cmd" string, e.g. {"cmd": "chat", "text": "hi"}')
    parse = PARSERS.get(name)
    if parse is None:
        raise CommandError(ONLY_IN_QUEUE if name == "pick" else f"unknown command {name!r}")
    return parse(cmd)


def _request_control(cmd: Mapping[str, Any]) -> AgentCommand:
    level = cmd.get("level", "control")
    if level not in (c.ConsentLevel.SUGGEST, c.ConsentLevel.CONTROL):
        raise CommandError('request_control needs "level": "suggest" or "control"')
    return c.RequestControl(c.ConsentLevel(level))


def _point(cmd: Mapping[str, Any]) -> AgentCommand:
    rows, pattern = cmd.get("rows"), cmd.get("pattern", "")
    if rows is not None:
        return c.Point.at_rows(rows)
    if pattern and not isinstance(pattern, str):
        raise CommandError(f'point "pattern" must be a regex of at most {c.MAX_POINT_PATTERN} characters')
    return c.Point(pattern=pattern or "")


def _redact(cmd: Mapping[str, Any]) -> AgentCommand:
    patterns = cmd.get("patterns")
    if not isinstance(patterns, list) or not patterns:
        raise CommandError('redact needs "patterns": a list of regexes for the customer to mask')
    return c.Redact(tuple(patterns))


#: How each command's fields are read (each command then checks their types and values).
PARSERS: dict[str, Callable[[Mapping[str, Any]], AgentCommand]] = {
    "chat": lambda cmd: c.Chat(cmd.get("text")),  # type: ignore[arg-type]
    "request_control": _request_control,
    "keys": lambda cmd: c.Keys(cmd.get("data")),  # type: ignore[arg-type]
    "suggest": lambda cmd: c.Suggest(cmd.get("command")),  # type: ignore[arg-type]
    "playbook": lambda cmd: c.PushPlaybook(cmd.get("path") or "", cmd.get("name") or ""),
    "ticket": lambda cmd: c.Ticket(cmd.get("id")),  # type: ignore[arg-type]
    "suggest_playbooks": lambda cmd: c.SuggestPlaybooks(cmd.get("limit", DEFAULT_LIMIT)),
    "steps": lambda cmd: c.PushSteps(tuple((k, v) for k, v in cmd.items() if k != "cmd")),
    "step": lambda cmd: c.Step(cmd.get("action", "mark"), cmd.get("index", -1), cmd.get("status", "")),
    "point": _point,
    "call": lambda cmd: c.Call(),
    "hangup": lambda cmd: c.Hangup(),
    "mute": lambda cmd: c.Mute(cmd.get("muted", True)),
    "redact": _redact,
    "record": lambda cmd: c.Record(cmd.get("on", True)),
    "end": lambda cmd: c.End(cmd.get("feedback")),
    "invite": lambda cmd: c.Invite(),
    "leave": lambda cmd: c.Leave(),
}


class CommandReader(asyncio.StreamReader):
    """stdin's reader. A read that is one whole line, with nothing before it (no partial line
    buffered, the serving loop waiting for a line: ``idle``), is first offered to ``at_once``
    from the pipe's read callback: a key carried out there skips the serving task's wake
    (~25-30 µs of a key's path); anything it leaves is buffered and served in order."""

    at_once: Callable[[bytes], bool] | None = None
    idle = False

    def feed_data(self, data: Iterable[SupportsIndex]) -> None:
        at_once = self.at_once
        if (at_once is not None and self.idle and isinstance(data, bytes) and data.endswith(b"\n") and data.count(b"\n") == 1
                and not len(getattr(self, "_buffer", b"?")) and at_once(data)):
            return
        super().feed_data(data)


async def stdin_lines() -> asyncio.StreamReader:
    """Commands from stdin: a pipe, a socket or a terminal is watched by the loop; a file or
    /dev/null (an integration's script of commands, a service run with no input) cannot be
    (epoll refuses them), so it is read by a thread, which never blocks on them."""
    loop = asyncio.get_running_loop()
    reader = CommandReader(limit=1 << 20)
    if _pollable(sys.stdin.fileno()):
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    else:
        _FEEDERS.add(feeder := asyncio.create_task(_feed_from_file(sys.stdin.fileno(), reader)))
        feeder.add_done_callback(_FEEDERS.discard)
    return reader


_FEEDERS: set[asyncio.Task[None]] = set()


def _pollable(fd: int) -> bool:
    mode = os.fstat(fd).st_mode
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return True
    return stat.S_ISCHR(mode) and os.isatty(fd)


async def _feed_from_file(fd: int, reader: asyncio.StreamReader) -> None:
    loop = asyncio.get_running_loop()
    while chunk := await loop.run_in_executor(None, os.read, fd, 1 << 16):
        reader.feed_data(chunk)
    reader.feed_eof()


async def serve_commands(runtime: AgentRuntime, reader: asyncio.StreamReader) -> None:
    """Apply each command line; a bad one answers with an error event and changes nothing."""
    if isinstance(reader, CommandReader):
        reader.at_once = lambda line: _key_at_once(runtime, line)
    try:
        await _serve(runtime, reader)
    finally:
        if isinstance(reader, CommandReader):
            reader.at_once = None
            reader.idle = False


def loads(line: bytes) -> Any:
    """One command line's JSON; ValueError for what cannot be a command: nesting deeper than the
    parser's recursion (RecursionError: it ended the serving loop, or was lost in stdin's read
    callback) or a lone surrogate escape (no UTF-8 for it: the frame's encoding failed after
    the command was planned, and that ended the serving loop too)."""
    try:
        cmd = json.loads(line)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if b"\\ud" in line or b"\\uD" in line:  # (cheap: only a line with such an escape is checked)
        try:
            json.dumps(cmd, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise ValueError("a lone surrogate (\\ud800-\\udfff) has no UTF-8") from None
    return cmd


def _key_at_once(runtime: AgentRuntime, line: bytes) -> bool:
    """A ``keys`` line carried out from the read callback (``CommandReader``) when the runtime
    can (``command_now``); whatever else, or a line in error, goes to the serving loop."""
    if b'"keys"' not in line:
        return False
    try:
        cmd = loads(line)
        return isinstance(cmd, dict) and cmd.get("cmd") == "keys" and runtime.command_now(parsed(runtime, cmd))
    except (ValueError, CommandError):  # (nothing was done: the loop parses it again and says why)
        return False


async def _serve(runtime: AgentRuntime, reader: asyncio.StreamReader) -> None:
    commands = reader if isinstance(reader, CommandReader) else None
    while True:
        try:
            if commands is not None:
                commands.idle = True
            line = await reader.readline()
        except ValueError:
            runtime.emit(AgentError("a command line was longer than 1 MiB; ignored"))
            continue
        finally:
            if commands is not None:
                commands.idle = False
        if not line:
            return
        if not line.strip():
            continue
        try:
            cmd = loads(line)
        except ValueError as exc:
            runtime.emit(AgentError(f"not a JSON command ({exc}): one JSON object a line"))
            continue
        if not isinstance(cmd, dict):
            runtime.emit(AgentError("a command must be a JSON object"))
            continue
        try:
            await runtime.command(parsed(runtime, cmd))
        except CommandError as exc:
            name = cmd.get("cmd")
            if name is None or not isinstance(name, str):  # the shape it always had: "cmd" as sent, even null
                runtime.emit(UnnamedCommandError(str(exc), name))
            else:
                runtime.emit(AgentError(str(exc), cmd=name))


def parsed(runtime: AgentRuntime, cmd: Mapping[str, Any]) -> AgentCommand:
    """``parse_command``, with the session's own refusals first, as before commands were typed:
    before pairing any known command is refused as too early, and ``end`` while ending stops
    the feedback wait whatever else it says."""
    name = cmd.get("cmd")
    known = c.COMMANDS.get(name) if isinstance(name, str) else None
    if known is c.End and runtime.ending:
        return c.End()
    try:
        return parse_command(cmd)
    except CommandError:
        if known is not None and known.NEEDS_PAIRING and not runtime.paired:
            runtime.policy.check(known, paired=False)
        raise
