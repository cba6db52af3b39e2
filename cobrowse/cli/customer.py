"""`cobrowse join` and `cobrowse share`: the customer's side, in plain mode.

Plain mode is the only customer mode until the Textual app lands: the shared program's
output passes straight through, cobrowse's own lines go to stderr prefixed ``[cobrowse]``,
and the prefix key Ctrl-] reaches cobrowse (see ``cobrowse.plain.prefix``).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from typing import Any, Callable

from cobrowse.cli.commands import ENDING_GRACE, end_on_signals, say, trusted_orgs
from cobrowse.cli.guide import GuideNotices
from cobrowse.cli.config import ClientSettings
from cobrowse.io.keeping import customer_trail
from cobrowse.errors import CobrowseError, ConfigError
from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.link import RelayLink
from cobrowse.io.pty import LocalTerminal, Passthrough, PtyProcess, command_argv
from cobrowse.io.runtime import EXIT_FAILED, Outcome, exit_code_for
from cobrowse.plain.prefix import HELP
from cobrowse.voice.call import describe as describe_voice
from cobrowse.wire.code import parse_code

#: When a piped stdin ends, the program gets an EOF character (as under ``script``); if it is
#: still running this long after, the session ends: nobody can type into it any more.
STDIN_EOF_GRACE = 3.0

LEVELS = {"view": "view only", "suggest": "suggest (the agent may propose commands)", "control": "CONTROL (the agent can type in your terminal)"}


def parse_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{1,4})\s*[xX]\s*(\d{1,4})\s*", text)
    if not match or not (2 <= int(match[1]) <= 1000 and 2 <= int(match[2]) <= 1000):
        raise ConfigError(f"--size {text!r}: expected COLSxROWS like 120x40 (2..1000 each)")
    return int(match[1]), int(match[2])


class PlainNotices:
    """Renders customer-side events as `[cobrowse] ...` lines on stderr."""

    def __init__(self) -> None:
        self.agent = "the agent"

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "paired":
            say(f"connected. Compare these words with the agent: {event['sas']}")
        elif kind == "hello":
            self.agent = event.get("name") or "the agent"
            say(f"Your terminal is visible to {self.agent} (view only). Press Ctrl-] ? for cobrowse commands.")
        elif kind == "chat":
            say(f"{self.agent}: {event['text']}")
        elif kind == "consent":
            say(f"consent: {LEVELS.get(event['level'], event['level'])}")
        elif kind == "sharing":
            say("sharing resumed" if event["active"] else "sharing paused: the agent sees nothing until you press Ctrl-] p")
        elif kind == "connection":
            if event["state"] == "reconnecting":
                say(f"connection lost; reconnecting (attempt {event['attempt']})")
            else:
                say("reconnected")
        elif kind == "peer":
            say("the agent's connection dropped; waiting for them to come back" if event["state"] == "left" else "the agent is back")
        elif kind == "voice":
            say(describe_voice(event, self.agent, "customer"))
        elif kind == "path":
            say("direct connection to the agent" if event["path"] == "direct" else f"via the relay: {event['reason']}")
        elif kind == "code" and event.get("renewed"):  # `share`: too many wrong codes were tried
            print(f"cobrowse code: {event['code']}", file=sys.stderr, flush=True)
            say(str(event["message"]))
        elif kind in ("warning", "error"):
            say(f"{kind}: {event['message']}")
        elif kind == "ended":
            say(f"session ended: {event['message']}")
        elif "message" in event:
            say(str(event["message"]))


async def run_customer(args: argparse.Namespace, settings: ClientSettings) -> int:
    trusted = trusted_orgs(settings)  # a bad trust file fails before any network
    emit = customer_trail(GuideNotices())  # the usual notices, the guide's steps, and the receipt
    link = RelayLink(settings.relay, "customer", None, reconnect_for=settings.reconnect_for,
                     proxy=settings.proxy_for(settings.relay))
    forced = parse_size(args.size) if args.size else None
    terminal = LocalTerminal(raw=sys.stdin.isatty() and sys.stdout.isatty())
    cols, rows = forced or terminal.size()
    runtime = CustomerRuntime(link, emit, cols=cols, rows=rows, consent_timeout=args.consent_timeout, rtc=settings.rtc,
                              redact_patterns=settings.redact_patterns, ask_feedback=True, trusted=trusted)
    runtime.emit = _quiet_when_gone(runtime.emit)
    try:
        if args.command_name == "share":
            code = await runtime.create()
            print(f"cobrowse code: {code}", file=sys.stderr, flush=True)
            say(f"read this code to your agent: {code.spoken()}. Waiting for them to join...")
        else:
            code = parse_code(args.code)
            await runtime.join(code)
            say("joined; checking the code with the agent...")
        argv = command_argv(args.command)
        process = await PtyProcess.spawn(argv, cols, rows)
    except (CobrowseError, OSError) as exc:
        print(f"cobrowse: {exc}", file=sys.stderr)
        await link.close("ended")
        return exit_code_for(exc) if isinstance(exc, CobrowseError) else EXIT_FAILED
    runtime.write_program = process.write
    inputs: asyncio.Queue[bytes] = asyncio.Queue()

    async def handle_inputs() -> None:
        while True:
            await runtime.local_input(await inputs.get())

    gone = end_on_signals(runtime, "customer_ended")
    loop = asyncio.get_running_loop()

    def input_ended(tty: bool) -> None:
        if tty:  # EOF or EIO from a terminal: it hung up
            gone.trigger("the customer's terminal hung up")
        else:  # a pipe ran out: the program got an EOF character and may still finish on its own
            loop.call_later(STDIN_EOF_GRACE, gone.trigger, "the customer's input ended (stdin closed)")

    outcome: Outcome | None = None
    with terminal:
        say(HELP)
        shared = Passthrough(process, terminal, observer=runtime.program_output, resize_observer=runtime.resize,
                             input_handler=inputs.put_nowait, input_eof_observer=input_ended)
        program = asyncio.create_task(shared.run())
        session = asyncio.create_task(runtime.run())
        keys = asyncio.create_task(handle_inputs())
        hung_up = asyncio.create_task(gone.event.wait())
        try:
            done, _ = await asyncio.wait({program, session, hung_up}, return_when=asyncio.FIRST_COMPLETED)
            if program in done:
                status = program.result() if not program.cancelled() and program.exception() is None else -1
                await runtime.program_exited(status)
                outcome = await session
            else:
                if session not in done:  # the terminal went away: end the session, bounded
                    await runtime.end("customer_ended", gone.message)
                    async with asyncio.timeout(ENDING_GRACE):
                        outcome = await session
                else:
                    outcome = session.result()
        except asyncio.CancelledError:
            if not gone.is_set():
                raise
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()  # cancelled by end_on_signals: stop, but tidily (below)
        except TimeoutError:
            pass
        finally:
            keys.cancel()
            hung_up.cancel()
            if not program.done():
                await process.terminate()
                try:
                    async with asyncio.timeout(3):
                        await program
                except (TimeoutError, Exception):
                    program.cancel()
            if not session.done():
                session.cancel()
                await asyncio.gather(session, return_exceptions=True)
    return outcome.exit_code if outcome is not None else EXIT_FAILED


def _quiet_when_gone(emit: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    """Plain mode's notices go to stderr; once the terminal hung up, writing there fails
    (EIO), and that must not stop the session from ending properly."""

    def quiet(event: dict[str, Any]) -> None:
        try:
            emit(event)
        except OSError:
            pass

    return quiet
