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

from cobrowse.cli.commands import end_on_signals, say, trusted_orgs
from cobrowse.cli.config import ClientSettings
from cobrowse.errors import CobrowseError, ConfigError
from cobrowse.io.customer_session import CustomerOptions, CustomerSession, GuideHooks
from cobrowse.io.pty import LocalTerminal, Passthrough, command_argv
from cobrowse.io.runtime import EXIT_FAILED, Outcome, exit_code_for
from cobrowse.plain.keymap import GET_HELP, Front, guide_hint
from cobrowse.playbook import Playbook
from cobrowse.policy.customer_events import Level
from cobrowse.policy.events import Event, LegacyEvent, as_json
from cobrowse.voice.call import describe as describe_voice
from cobrowse.wire.code import Code, parse_code

#: When a piped stdin ends, the program gets an EOF character (as under ``script``); if it is
#: still running this long after, the session ends: nobody can type into it any more.
STDIN_EOF_GRACE = 3.0

LEVELS = {Level.VIEW: "view only", Level.SUGGEST: "suggest (the agent may propose commands)",
          Level.CONTROL: "CONTROL (the agent can type in your terminal)"}


def parse_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{1,4})\s*[xX]\s*(\d{1,4})\s*", text)
    if not match or not (2 <= int(match[1]) <= 1000 and 2 <= int(match[2]) <= 1000):
        raise ConfigError(f"--size {text!r}: expected COLSxROWS like 120x40 (2..1000 each)")
    return int(match[1]), int(match[2])


class PlainNotices:
    """Renders customer-side events as `[cobrowse] ...` lines on stderr."""

    def __init__(self) -> None:
        self.agent = "the agent"

    def __call__(self, event: Event | LegacyEvent) -> None:
        event = as_json(event)  # typed or not: the same shape
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


class GuideNotices:
    """Plain guide mode: the customer-side notices, plus the steps as they change."""

    def __init__(self) -> None:
        self.notices = PlainNotices()
        self.statuses: list[str] = []
        self.current: Any = None
        self.finished = False

    def __call__(self, event: Event | LegacyEvent) -> None:
        event = as_json(event)  # typed or not: the same shape
        if event.get("event") != "steps":
            self.notices(event)
            return
        if "steps" not in event:
            if event.get("error"):
                say(f"guide: {event['error']}")
            return
        steps = event["steps"]
        total = len(steps)
        if not self.statuses:
            say(f"guide: {event.get('title', '')} ({total} steps)")
            for i, step in enumerate(steps):
                say(f"  {i + 1}. {step.get('title', '')}")
        for i, step in enumerate(steps):
            status = step.get("status")
            before = self.statuses[i] if i < len(self.statuses) else "pending"
            if status != before and status in ("done", "skipped", "failed"):
                by = f" (by {step['by']})" if step.get("by") else ""
                say(f"step {i + 1}/{total} {status}: {step.get('title', '')}{by}")
        self.statuses = [str(step.get("status")) for step in steps]
        current, finished = event.get("current"), bool(event.get("finished"))
        if finished and not self.finished:
            done = self.statuses.count("done")
            say(f"all steps finished: {done} of {total} done. Ctrl-] e ends the guide (or exit the shell).")
        elif not finished and isinstance(current, int) and (current != self.current or self.finished) and 0 <= current < total:
            step = steps[current]
            say(f"step {current + 1}/{total}: {step.get('title', '')}")
            for line in str(step.get("body", "")).splitlines():
                say(f"  {line}")
            if step.get("command"):
                say(f"  $ {step['command']}")
            say(f"  {guide_hint(Front.PLAIN)}")
        self.current, self.finished = current, finished


def customer_options(args: argparse.Namespace, settings: ClientSettings) -> CustomerOptions:
    """The customer's settings for ``CustomerSession`` (a bad trust file fails before any network)."""
    return CustomerOptions(settings.relay, reconnect_for=settings.reconnect_for, proxy=settings.proxy_for(settings.relay),
                           consent_timeout=args.consent_timeout, name=settings.name, rtc=settings.rtc,
                           redact_patterns=settings.redact_patterns, trusted=trusted_orgs(settings))


async def run_customer(args: argparse.Namespace, settings: ClientSettings, guide: Playbook | None = None) -> int:
    """Plain mode: `join`, `share`, and `guide --plain` (with ``guide``)."""
    options = customer_options(args, settings)
    forced = parse_size(args.size) if args.size else None
    terminal = LocalTerminal(raw=sys.stdin.isatty() and sys.stdout.isatty())
    cols, rows = forced or terminal.size()
    hooks = GuideHooks(creating=lambda: say("creating a session for an agent..."),
                       created=_show_guide_code,
                       failed=lambda exc: say(f"could not create a session: {exc}. Ctrl-] {GET_HELP} tries again."),
                       code_again=lambda code: say(f"the session code is {code}: give it to your agent"))
    customer = CustomerSession(options, GuideNotices(), cols, rows, guide=guide, hooks=hooks)
    runtime = customer.runtime
    runtime.emit = _quiet_when_gone(runtime.emit)
    try:
        if guide is None and args.command_name == "share":
            code = await customer.open(None)
            print(f"cobrowse code: {code}", file=sys.stderr, flush=True)
            say(f"read this code to your agent: {code.spoken() if code else ''}. Waiting for them to join...")
        elif guide is None:
            await customer.open(parse_code(args.code))
            say("joined; checking the code with the agent...")
        process = await customer.spawn(command_argv(args.command), cols, rows)
    except (CobrowseError, OSError) as exc:
        print(f"cobrowse: {exc}", file=sys.stderr)
        await customer.abandon()
        return exit_code_for(exc) if isinstance(exc, CobrowseError) else EXIT_FAILED
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

    async def terminal_gone() -> str:
        await gone.event.wait()
        return gone.message

    outcome: Outcome | None = None
    with terminal:
        if guide is not None:
            say(f"guide: {guide_hint(Front.PLAIN)}")
        else:
            say(runtime.policy.help)
        shared = Passthrough(process, terminal, observer=runtime.program_output, resize_observer=runtime.resize,
                             input_handler=inputs.put_nowait, input_eof_observer=input_ended)
        program = asyncio.create_task(shared.run())
        keys = asyncio.create_task(handle_inputs())
        try:
            outcome = await customer.run(program, ended=terminal_gone())
            if guide is not None and runtime.session is None:
                say(f"guide ended: {outcome.message}")
        except asyncio.CancelledError:
            if not gone.is_set():
                raise
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()  # cancelled by end_on_signals: stop, but tidily (below)
        finally:
            keys.cancel()
            if not program.done():
                await customer.close(gone.message if gone.is_set() else "")
                try:
                    async with asyncio.timeout(3):
                        await program
                except (TimeoutError, Exception):
                    program.cancel()
            else:
                await customer.close()
    return outcome.exit_code if outcome is not None else EXIT_FAILED


def _show_guide_code(code: Code) -> None:
    print(f"cobrowse code: {code}", file=sys.stderr, flush=True)
    say(f"read this code to your agent: {code.spoken()}. They will see the steps so far.")


def _quiet_when_gone(emit: Callable[[Any], None]) -> Callable[[Any], None]:
    """Plain mode's notices go to stderr; once the terminal hung up, writing there fails
    (EIO), and that must not stop the session from ending properly."""

    def quiet(event: Any) -> None:
        try:
            emit(event)
        except OSError:
            pass

    return quiet
