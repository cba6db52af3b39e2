"""`cobrowse guide PLAYBOOK`: a playbook run alone; Ctrl-] ! creates a session for an agent."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from cobrowse.cli.commands import end_on_signals, interactive, say, trusted_orgs
from cobrowse.cli.config import ClientSettings
from cobrowse.errors import CobrowseError
from cobrowse.io.runtime import EXIT_SECURITY, EXIT_USAGE
from cobrowse.plain.keymap import GET_HELP

GUIDE_HELP_KEY = ord(GET_HELP)


def playbook_path(given: str, settings: ClientSettings) -> Path:
    """A file path as given, else the library's playbook of that name (``fix-git-push``)."""
    path = Path(given).expanduser()
    if path.exists() or "/" in given or given.endswith(".md"):
        return path
    from cobrowse.cli.playbooks import catalogue

    return catalogue(settings).find(given).path


async def run_guide(args: argparse.Namespace, settings: ClientSettings) -> int:
    """`cobrowse guide PLAYBOOK`: the playbook alone; Ctrl-] ! creates a session for an agent."""
    from cobrowse.playbook import PlaybookError, load_playbook

    try:
        path = playbook_path(args.playbook, settings)
        playbook = load_playbook(path)
    except PlaybookError as exc:
        print(f"cobrowse: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from cobrowse.cli.playbooks import check_signature  # who signed it, checked against the trust files

    verdict = check_signature(path, trusted_orgs(settings))
    say(verdict.message(path.name))
    if verdict.refused:
        return EXIT_SECURITY
    if not args.plain and interactive():
        from tui.guide_app import GuideApp

        app = GuideApp(settings.relay, playbook, args.command, args.consent_timeout,
                       name=settings.name, reconnect_for=settings.reconnect_for,
                       redact_patterns=settings.redact_patterns, rtc=settings.rtc, trusted=trusted_orgs(settings),
                       proxy=settings.proxy_for(settings.relay))
        await app.run_async()
        return app.return_code or 0
    return await run_guide_plain(args, settings, playbook)


class GuideNotices:
    """Plain guide mode: the customer-side notices, plus the steps as they change."""

    def __init__(self) -> None:
        from cobrowse.cli.customer import PlainNotices

        self.notices = PlainNotices()
        self.statuses: list[str] = []
        self.current: Any = None
        self.finished = False

    def __call__(self, event: dict[str, Any]) -> None:
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
            say("  Ctrl-] a pastes the command (you press Enter) · m done · k skip · ! get help from an agent")
        self.current, self.finished = current, finished


async def run_guide_plain(args: argparse.Namespace, settings: ClientSettings, playbook: Any) -> int:
    """Plain guide: output passes straight through; steps as [cobrowse] lines on stderr."""
    from cobrowse.cli.customer import parse_size
    from cobrowse.io.customer import CustomerRuntime
    from cobrowse.io.keeping import customer_trail
    from cobrowse.io.link import RelayLink
    from cobrowse.io.pty import LocalTerminal, Passthrough, PtyProcess, command_argv
    from cobrowse.io.runtime import EXIT_FAILED

    forced = parse_size(args.size) if args.size else None
    argv = command_argv(args.command)
    terminal = LocalTerminal(raw=sys.stdin.isatty() and sys.stdout.isatty())
    cols, rows = forced or terminal.size()
    link = RelayLink(settings.relay, "customer", None, reconnect_for=settings.reconnect_for,
                     proxy=settings.proxy_for(settings.relay))
    runtime = CustomerRuntime(link, customer_trail(GuideNotices()), cols=cols, rows=rows,
                              consent_timeout=args.consent_timeout, name=settings.name, ask_feedback=True,
                              redact_patterns=settings.redact_patterns, rtc=settings.rtc, trusted=trusted_orgs(settings))
    try:
        process = await PtyProcess.spawn(argv, cols, rows)
    except OSError as exc:
        print(f"cobrowse: {exc}", file=sys.stderr)
        return EXIT_FAILED
    runtime.write_program = process.write
    inputs: asyncio.Queue[bytes] = asyncio.Queue()
    help_wanted = asyncio.Event()
    ended = asyncio.Event()

    def step_command() -> str | None:
        steps = runtime.steps
        if steps is None or steps.finished or steps.current is None:
            return None
        return steps.to_dict()["steps"][steps.current].get("command") or None

    async def handle_inputs() -> None:
        armed = False
        while True:
            data = await inputs.get()
            out = bytearray()
            for byte in data:
                if armed:
                    armed = False
                    alone = runtime.session is None
                    if byte == GUIDE_HELP_KEY:
                        if alone:
                            help_wanted.set()
                        else:
                            say(f"the session code is {runtime.code}: give it to your agent")
                        continue
                    if byte == ord("e") and alone:
                        ended.set()
                        continue
                    if byte == ord("a") and runtime.suggestion is None and step_command():
                        if out:
                            await runtime.local_input(bytes(out))
                            out.clear()
                        runtime.paste_command(step_command() or "", "the step's command")  # it tells the customer
                        continue
                    out += bytes((0x1D, byte))
                elif byte == 0x1D:
                    armed = True
                else:
                    out.append(byte)
            if out:
                await runtime.local_input(bytes(out))

    async def session_when_asked() -> Any:
        while True:
            await help_wanted.wait()
            help_wanted.clear()
            say("creating a session for an agent...")
            try:
                code = await runtime.create()
            except CobrowseError as exc:
                say(f"could not create a session: {exc}. Ctrl-] ! tries again.")
                continue
            print(f"cobrowse code: {code}", file=sys.stderr, flush=True)
            say(f"read this code to your agent: {code.spoken()}. They will see the steps so far.")
            return await runtime.run()

    def summary() -> str:
        steps = runtime.steps
        if steps is None:
            return ""
        counts = steps.summary()
        return (f"{counts.get('done', 0)} done, {counts.get('skipped', 0)} skipped, "
                f"{counts.get('failed', 0)} failed of {counts.get('total', 0)}")

    end_on_signals(runtime, "customer_ended")
    with terminal:
        say("guide: Ctrl-] ! gets help from an agent (creates a session); Ctrl-] ? lists the other commands")
        shared = Passthrough(process, terminal, observer=runtime.program_output,
                             resize_observer=runtime.resize, input_handler=inputs.put_nowait)
        program = asyncio.create_task(shared.run())
        runtime.start_playbook(playbook)
        session = asyncio.create_task(session_when_asked())
        stop = asyncio.create_task(ended.wait())
        keys = asyncio.create_task(handle_inputs())
        try:
            done, _ = await asyncio.wait({program, session, stop}, return_when=asyncio.FIRST_COMPLETED)
            if session in done:
                outcome = session.result()
                await process.terminate()
                program.cancel()
                return outcome.exit_code
            if program in done:
                status = program.result() if not program.cancelled() and program.exception() is None else -1
                if runtime.session is not None:
                    await runtime.program_exited(status)
                    return (await session).exit_code
                say(f"guide ended: the program exited (status {status}); steps: {summary()}")
                return 0
            say(f"guide ended; steps: {summary()}")
            await process.terminate()
            try:
                async with asyncio.timeout(3):
                    await program
            except (TimeoutError, Exception):
                program.cancel()
            return 0
        finally:
            keys.cancel()
            stop.cancel()
            if not session.done():
                session.cancel()
