"""The argument parsers of `cobrowse agent history|stats`, `recordings` and `receipts`.

Apart from cobrowse.cli.records (which does the work and loads SQLite, the asciicast code
and the screen model) so that building the command line costs nothing.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_arguments(sub: Any, agent: argparse.ArgumentParser) -> None:
    add_agent_views(agent)
    add_record_commands(sub)


def add_agent_views(agent: argparse.ArgumentParser) -> None:
    """`cobrowse agent history|stats`."""
    views = agent.add_subparsers(dest="agent_view", metavar="VIEW",
                                 help="history | stats: what your past sessions show (no session is started)")
    history = views.add_parser("history", help="your past sessions, newest first")
    history.add_argument("--json", action="store_true", help="one JSON object a line")
    history.add_argument("--limit", type=int, default=20, metavar="N", help="show the N newest sessions (default 20; 0: all)")
    stats = views.add_parser("stats", help="sessions per day, median duration, resolution rate, troublesome steps")
    stats.add_argument("--json", action="store_true", help="one JSON object")
    stats.add_argument("--days", type=int, default=0, metavar="N", help="only the last N days (default: all)")


def add_record_commands(sub: Any) -> None:
    """`cobrowse recordings` and `cobrowse receipts`."""
    recordings = sub.add_parser("recordings", help="sessions the agent recorded (with the customer's consent)",
                                description="Recordings are asciicast v2 files (playable with asciinema too) plus a JSON side file of steps, chat and consent changes, in the data directory.")
    rsub = recordings.add_subparsers(dest="recordings_cmd", metavar="ACTION", required=True)
    rlist = rsub.add_parser("list", help="the recordings kept on this machine, newest first")
    rlist.add_argument("--json", action="store_true")
    play = rsub.add_parser("play", help="play a recording in this terminal, with its timing")
    play.add_argument("id", metavar="ID", help="a recording ID from `cobrowse recordings list` (or a unique prefix, or a .cast path)")
    play.add_argument("--speed", type=float, default=1.0, help="playback speed factor (default 1; 2 is twice as fast)")
    play.add_argument("--idle-limit", type=float, default=2.0, metavar="S", help="shorten pauses longer than S seconds (default 2; 0 keeps them)")

    receipts = sub.add_parser("receipts", help="your receipts of past sessions (customers)",
                              description="Each session leaves a hash-chained receipt of who was granted what and when in the data directory.")
    csub = receipts.add_subparsers(dest="receipts_cmd", metavar="ACTION", required=True)
    csub.add_parser("list", help="the receipts kept on this machine")
    check = csub.add_parser("verify", help="check that a receipt was not edited, cut or reordered")
    check.add_argument("file", metavar="FILE")


def wants(args: argparse.Namespace) -> bool:
    return args.command_name in ("recordings", "receipts") or bool(getattr(args, "agent_view", None))
