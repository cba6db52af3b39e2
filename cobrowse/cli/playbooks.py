"""`cobrowse playbooks list | search`: the playbook library from the command line.

The same library the agent console's picker and the headless ``playbook`` command by
``name`` use: the agent's folders, the user's data directory, then the shipped samples.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cobrowse.cli.config import ClientSettings, resolve
from cobrowse.errors import ConfigError
from cobrowse.io.datadir import data_dir
from cobrowse.playbook.catalogue import SAMPLES, Catalogue


def catalogue(settings: ClientSettings) -> Catalogue:
    return Catalogue([*settings.playbooks, data_dir() / "playbooks", SAMPLES])


def add_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser], epilog: str) -> None:
    playbooks = sub.add_parser(
        "playbooks", help="list and search the playbook library (agents)",
        description="The playbook library: the folders in --playbooks / $COBROWSE_PLAYBOOKS (separated by :) or "
                    "the config file's playbooks, then <data dir>/playbooks, then the samples shipped with cobrowse. "
                    "A playbook's name is its file name without .md; the first folder with a name wins.",
        epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = playbooks.add_subparsers(dest="playbooks_action", metavar="{list,search}", required=True)
    listing = actions.add_parser("list", help="every playbook in the library, invalid ones with their error")
    listing.add_argument("--json", action="store_true", help="a JSON array on stdout")
    search = actions.add_parser("search", help="the library ranked by relevance to TEXT, best first")
    search.add_argument("text", metavar="TEXT", help="what to look for: an error message, a command, a few words")
    search.add_argument("--json", action="store_true", help="a JSON array on stdout")
    search.add_argument("--limit", type=int, default=10, metavar="N", help="at most N results (default 10)")
    for parser in (listing, search):
        add_folder_option(parser)


def add_folder_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--playbooks", action="append", metavar="DIR",
                        help="a playbook library folder, searched before the data dir and the samples (repeatable; "
                             "default: $COBROWSE_PLAYBOOKS, then the config file's playbooks)")


def run(args: argparse.Namespace) -> int:
    try:
        settings = resolve(None, playbooks_flags=args.playbooks)
        if getattr(args, "limit", 1) < 1:
            raise ConfigError("--limit must be at least 1")
    except ConfigError as exc:
        print(f"cobrowse: {exc}", file=sys.stderr)
        return 2
    library = catalogue(settings)
    if args.playbooks_action == "list":
        entries = library.entries()
        if args.json:
            print(json.dumps([{"name": e.name, "title": e.title, "path": str(e.path), "steps": e.entry.steps,
                               "folder": str(e.folder), "valid": e.entry.valid, "error": e.entry.error}
                              for e in entries], ensure_ascii=False, indent=1))
            return 0
        if not entries:
            print("the library is empty: add Markdown playbooks to a folder and pass it with --playbooks "
                  "(docs/playbooks.md)")
        width = max((len(e.name) for e in entries), default=0)
        for e in entries:
            what = f"{e.title} ({e.entry.steps} steps)" if e.entry.valid else f"INVALID: {e.entry.error}"
            print(f"{e.name:<{width}}  {what}  [{_where(e.folder)}]")
        return 0
    matches = library.search(args.text, args.limit)
    if args.json:
        print(json.dumps([{"name": m.entry.name, "title": m.entry.title, "path": str(m.entry.path),
                           "score": round(m.score, 3)} for m in matches], ensure_ascii=False, indent=1))
        return 0
    if not matches:
        print(f"no playbook matches {args.text!r}")
    for m in matches:
        print(f"{m.score:.2f}  {m.entry.name}  {m.entry.title}")
    return 0


def _where(folder: Path) -> str:
    return "samples" if folder == SAMPLES else str(folder)
