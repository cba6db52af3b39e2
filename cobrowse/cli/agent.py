"""`cobrowse agent`: headless JSON lines, or a line-mode console until the Textual one lands."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from cobrowse.cli.commands import agent_identity, end_on_signals
from cobrowse.cli.config import ClientSettings, colleague_command, join_command
from cobrowse.cli.playbooks import catalogue
from cobrowse.errors import CobrowseError
from cobrowse.io.agent import AgentEmit, AgentRuntime, CommandError
from cobrowse.io.headless import JsonLines, parse_command, serve_commands, stdin_lines
from cobrowse.io.keeping import agent_taps
from cobrowse.io import webhook
from cobrowse.io.link import RelayLink
from cobrowse.io.runtime import exit_code_for
from cobrowse.policy import agent_commands as c
from cobrowse.policy.agent_commands import AgentCommand
from cobrowse.policy.agent_events import AgentError, AgentWarning, Joined, RecordingState
from cobrowse.policy.events import Event, as_json
from cobrowse.protocol.untrusted import visible
from cobrowse.voice.call import describe as describe_voice
from cobrowse.wire.code import parse_code


def agent_runtime(args: argparse.Namespace, settings: ClientSettings, link: RelayLink, emit: AgentEmit,
                  identity: Any) -> AgentRuntime:
    """The agent's runtime on ``link``, with the taps, library and settings of this run."""
    tapped, trail, recordings = agent_taps(emit)
    runtime = AgentRuntime(link, tapped, name=settings.name, recordings=recordings, rtc=settings.rtc,
                           redact_patterns=settings.redact_patterns, ask_feedback=not (args.headless or args.no_feedback),
                           identity=identity)
    runtime.on_action = trail.action
    runtime.customer_command = lambda code: join_command(code, link.url)
    runtime.policy.colleague_command = lambda code: colleague_command(code, link.url)
    runtime.suggester.library = catalogue(settings)  # suggest_playbooks and {"cmd": "playbook", "name"}
    runtime.styles = bool(getattr(args, "styles", False))
    runtime.local_echo = runtime.local_echo if settings.predict else None
    warning = identity.expiry_warning(int(time.time())) if identity is not None else None
    if warning:
        emit(AgentWarning("credential", warning))
    return runtime


async def run_agent(args: argparse.Namespace, settings: ClientSettings, relay_url: str) -> int:
    emit: JsonLines | LineConsole = JsonLines() if args.headless else LineConsole()
    identity = agent_identity(settings)  # a bad credential file fails before any network
    link = RelayLink(relay_url, "agent", settings.token, reconnect_for=settings.reconnect_for,
                     proxy=settings.proxy_for(relay_url))
    runtime = agent_runtime(args, settings, link, emit, identity)
    try:
        if args.join:
            code = parse_code(args.join)
            await runtime.join(code)
            emit(Joined(str(code)))
        else:
            await runtime.create()
            emit(runtime.code_event())
    except CobrowseError as exc:
        emit(AgentError(str(exc)))
        print(f"cobrowse: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    return await serve_session(args, runtime, emit, await stdin_lines())


async def serve_session(args: argparse.Namespace, runtime: AgentRuntime, emit: JsonLines | LineConsole,
                        reader: asyncio.StreamReader) -> int:
    """Run the session with commands from ``reader`` until it ends; the exit status."""
    end_on_signals(runtime, "agent_ended")
    serve = emit.serve if isinstance(emit, LineConsole) else serve_commands
    commands = asyncio.create_task(serve(runtime, reader))
    try:
        outcome = await runtime.run()
    finally:
        commands.cancel()
        await webhook.settle(3.0)  # the session's summary: posted now if the receiver answers, else by the next run
    if outcome.exit_code:
        print(visible(f"cobrowse: {outcome.message}"), file=sys.stderr)
    return outcome.exit_code


def out(text: str) -> None:
    """A console line: the customer's words in it are shown as data, never as escapes."""
    print(visible(str(text), multiline=True))


class LineConsole:
    """A minimal human console on a plain terminal: lines in, lines out."""

    HELP = ("type a line to chat · /control · /suggest · /keys TEXT (\\r for Enter) · /record [off] · /call · /hangup · "
            "/mute · /unmute · /end")

    def __call__(self, typed: Event) -> None:
        event = as_json(typed)
        kind = event.get("event")
        if kind == "code":
            if event.get("renewed"):
                out(f"! {event['message']}")
            out(f"Session code: {event['code']}   (read it as: {event['spoken']})")
            out(f"The customer types:  {event['customer_command']}")
        elif kind == "paired":
            out(f"Connected. Compare these words with the customer: {event['sas']}")
            out(self.HELP)
        elif kind == "hello" and event.get("sas_words") and event.get("lang") != "en":
            out(f"The customer reads the words in their language ({event['lang']}): compare these: {event['sas_words']}")
        elif kind == "screen":
            cols, rows = event["size"]
            out(f"--- customer screen {cols}x{rows} ---")
            out("\n".join(event["lines"]).rstrip("\n"))
            out("---")
        elif kind == "chat":
            out(f"customer: {event['text']}")
        elif kind == "voice":
            out(describe_voice(event, "the customer", "agent"))
        elif kind == "identity":
            out(event["message"])
        elif kind == "ended":
            out(f"Session ended: {event['message']}")
        else:
            out(" ".join(f"{k}={v}" for k, v in event.items()))
        sys.stdout.flush()

    async def serve(self, runtime: AgentRuntime, reader: asyncio.StreamReader) -> None:
        while line := await reader.readline():
            text = line.decode(errors="replace").rstrip("\n")
            if not text.strip():
                continue
            try:
                await runtime.command(line_command(text))
            except CommandError as exc:
                out(f"! {exc}")


def line_command(text: str) -> AgentCommand:
    """A line typed at the line console as a command: ``/name [argument]``, else chat."""
    if not text.startswith("/"):
        return c.Chat(text)
    name, _, rest = text[1:].partition(" ")
    if name in (c.ConsentLevel.CONTROL, c.ConsentLevel.SUGGEST):
        return c.RequestControl(c.ConsentLevel(name))
    if name in ("mute", "unmute"):
        return c.Mute(name == "mute")
    if name == "keys":
        return c.Keys(rest.replace("\\r", "\r").replace("\\n", "\n"))
    if name == "record":
        return c.Record(rest.strip() != RecordingState.OFF)
    return parse_command({"cmd": name})  # call, hangup, end; anything else says what it needs
