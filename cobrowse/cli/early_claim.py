"""``cobrowse join CODE``: the claim out before the session's imports, which load meanwhile.

Before this, ``join CODE`` imported everything its session uses (~360 modules) before its
first packet; ~80 of them (the screen and redaction, the pty, the runtime, the customer's
policy, the plain front end: ~30 ms of CPU here) are needed only once the agent has answered. Now the command reads
its settings (flags, environment, config file, trust files: what can refuse the command
before any network, as before), sends the claim with its SPAKE2 message
(``cobrowse.io.joining.claim_early``) and, once it left, imports the rest while the relay
and the agent answer (their frames wait in the socket's buffer); the session's runtime then
takes the link and the handshake over. Over a network that hides the imports in the round
trips (docs/benchmarks.md, "join9": −48 ms at 40 ms to the relay); on loopback the agent
answers sooner than the imports end. Nothing
sent or checked changes, only when the claim leaves. When anything before the session fails,
the claim is given up as a join that stops at once gives it up.

Only for a code given on the command line without ``--size`` (its check lives with the plain
front end), in plain mode: the customer app opens its session before importing Textual
already (cobrowse.io.early_join), and with the claim first its own first drawing came later
in 6 of 7 A/B runs (+5 to +75 ms; the agent's first screen unchanged: ratio median 0.98); the
code typed at the prompt has its own early work (cobrowse.cli.code_prompt).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from typing import TYPE_CHECKING

from cobrowse.errors import CobrowseError

if TYPE_CHECKING:
    from cobrowse.io.joining import EarlyClaim

#: What the session needs beyond the claim (imported once the claim left, while the relay and the agent answer).
REST = ("cobrowse.cli.commands", "cobrowse.io.customer_session", "cobrowse.cli.customer")
#: How long the imports wait for the claim to leave (polled): the relay's answer to the upgrade.
SENT_STEP = 0.001
SENT_TURNS = 200


def applies(args: argparse.Namespace) -> bool:
    """A ``join`` with its code, no ``--size``, in plain mode (see the module's docstring)."""
    return (args.command_name == "join" and args.code is not None and getattr(args, "size", None) is None
            and (bool(args.plain) or not (sys.stdin.isatty() and sys.stdout.isatty())))


async def run(args: argparse.Namespace) -> int:
    """``commands.run(args)``, with the claim sent first when the settings allow it."""
    from cobrowse.io import joining

    try:
        early = _start(args)
        if early is not None:
            await _sent(early)
            _import(REST)
        from cobrowse.cli import commands

        return await commands.run(args)
    finally:
        await joining.drop_early()


def _start(args: argparse.Namespace) -> EarlyClaim | None:
    """Send the claim, if the settings and the code are good; else the command reports them as before."""
    from cobrowse.cli.config import settings_of
    from cobrowse.cli.org import load_trusted
    from cobrowse.io import joining
    from cobrowse.io.link import RelayLink
    from cobrowse.wire.code import parse_code

    try:
        code = parse_code(args.code)
        settings = settings_of(args)
        load_trusted(settings.trusted_orgs)
        relay = settings.relay
        link = RelayLink(relay, "customer", None, reconnect_for=settings.reconnect_for, proxy=settings.proxy_for(relay))
    except CobrowseError:
        return None
    return joining.claim_early(link, code)


async def _sent(early: EarlyClaim) -> None:
    """Until the claim and its SPAKE2 message left (the upgrade's answer came: a round trip to
    the relay), or the claim ended (refused, unreachable: reported by the join), bounded."""
    wanted = sum(map(len, early.frames))
    for _ in range(SENT_TURNS):
        if early.task.done() or early.link.bytes_sent >= wanted:
            return
        await asyncio.wait({early.task}, timeout=SENT_STEP)


def _import(names: tuple[str, ...]) -> None:
    """Here, with the loop blocked: the relay's and the agent's answers wait in the socket's
    buffer meanwhile (a thread would share the interpreter with the loop for nothing: the loop
    has nothing to do until they are read)."""
    import importlib

    for name in names:
        importlib.import_module(name)
