"""`cobrowse playbooks list | search`: the playbook library from the command line.

The same library the agent console's picker and the headless ``playbook`` command by
``name`` use: the agent's folders, the user's data directory, then the shipped samples.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from cobrowse.cli.config import ClientSettings, resolve
from cobrowse.cli.help_format import HelpFormatter
from cobrowse.errors import ConfigError
from cobrowse.io.datadir import data_dir
from cobrowse.playbook.catalogue import SAMPLES, Catalogue
from cobrowse.trust.playbook_signature import SUFFIX, MAX_SIGNATURE_FILE, PlaybookVerdict, sign_playbook, verify_playbook


def catalogue(settings: ClientSettings) -> Catalogue:
    return Catalogue([*settings.playbooks, data_dir() / "playbooks", SAMPLES])


def add_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser], epilog: str) -> None:
    playbooks = sub.add_parser(
        "playbooks", help="list and search the playbook library (agents)",
        description="The playbook library: the folders in --playbooks / $COBROWSE_PLAYBOOKS (separated by :) or "
                    "the config file's playbooks, then <data dir>/playbooks, then the samples shipped with cobrowse. "
                    "A playbook's name is its file name without .md; the first folder with a name wins.",
        epilog=epilog, formatter_class=HelpFormatter)
    actions = playbooks.add_subparsers(dest="playbooks_action", metavar="{list,search,suggest}", required=True)
    listing = actions.add_parser("list", help="every playbook in the library, invalid ones with their error")
    listing.add_argument("--json", action="store_true", help="a JSON array on stdout")
    search = actions.add_parser("search", help="the library ranked by relevance to TEXT, best first")
    search.add_argument("text", metavar="TEXT", nargs="+", help="what to look for: an error message, a command, a few words "
                        "(quoted or not)")
    search.add_argument("--json", action="store_true", help="a JSON array on stdout")
    search.add_argument("--limit", type=int, default=10, metavar="N", help="at most N results (default 10)")
    suggest = actions.add_parser("suggest", help="the library ranked against a terminal screen read from stdin",
                                 description="What suggest_playbooks does in a session, for a screen you have: reads the "
                                 "text of a terminal (e.g. `tmux capture-pane -p`) from standard input and ranks the "
                                 "library against it, error lines and commands weighing most (docs/helpdesk.md).")
    suggest.add_argument("--json", action="store_true", help="a JSON array on stdout")
    suggest.add_argument("--limit", type=int, default=5, metavar="N", help="at most N results (default 5)")
    for parser in (listing, search, suggest):
        add_folder_option(parser)
    listing.add_argument("--org", action="append", metavar="FILE",
                         help="check signatures against this organisation's trust file too (repeatable; added to "
                              "trusted_orgs in the config and $COBROWSE_TRUSTED_ORGS)")


def add_folder_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--playbooks", action="append", metavar="DIR",
                        help="a playbook library folder, searched before the data dir and the samples (repeatable; "
                             "default: $COBROWSE_PLAYBOOKS, then the config file's playbooks)")


def run(args: argparse.Namespace) -> int:
    try:
        settings = resolve(None, playbooks_flags=args.playbooks, org_flags=getattr(args, "org", None))
        if getattr(args, "limit", 1) < 1:
            raise ConfigError("--limit must be at least 1")
    except ConfigError as exc:
        print(f"cobrowse: {exc}", file=sys.stderr)
        return 2
    library = catalogue(settings)
    if args.playbooks_action == "list":
        entries = library.entries()
        try:
            trusted = trusted_orgs(settings)
        except ConfigError as exc:
            print(f"cobrowse: {exc}", file=sys.stderr)
            return 2
        verdicts = {e.name: check_signature(e.path, trusted) for e in entries}
        if args.json:
            print(json.dumps([{"name": e.name, "title": e.title, "path": str(e.path), "steps": e.entry.steps,
                               "folder": str(e.folder), "valid": e.entry.valid, "error": e.entry.error,
                               "signature": verdicts[e.name].to_json()}
                              for e in entries], ensure_ascii=False, indent=1))
            return 0
        if not entries:
            print("the library is empty: add Markdown playbooks to a folder and pass it with --playbooks "
                  "(docs/playbooks.md)")
        width = max((len(e.name) for e in entries), default=0)
        for e in entries:
            what = f"{e.title} ({e.entry.steps} steps)" if e.entry.valid else f"INVALID: {e.entry.error}"
            print(f"{e.name:<{width}}  {what}  [{_where(e.folder)}]{_signed(verdicts[e.name])}")
        return 0
    if args.playbooks_action == "suggest":
        from cobrowse.playbook.suggest import SCREEN_LINES

        screen = sys.stdin.read(1 << 20).splitlines()[-SCREEN_LINES:]
        matches = library.suggest(screen, (), args.limit)
    else:
        matches = library.search(" ".join(args.text), args.limit)
    if args.json:
        print(json.dumps([{"name": m.entry.name, "title": m.entry.title, "path": str(m.entry.path),
                           "score": round(m.score, 3)} for m in matches], ensure_ascii=False, indent=1))
        return 0
    if not matches:
        print(f"no playbook matches {getattr(args, 'text', 'this screen')!r}")
    for m in matches:
        print(f"{m.score:.2f}  {m.entry.name}  {m.entry.title}")
    return 0


def _where(folder: Path) -> str:
    return "samples" if folder == SAMPLES else str(folder)


def _signed(verdict: PlaybookVerdict) -> str:
    if verdict.status == "unsigned":
        return ""
    if verdict.status == "verified":
        return f"  signed by {verdict.org} (verified)"
    return f"  {verdict.message('')[2:]}"


def trusted_orgs(settings: ClientSettings) -> list[Any]:
    from cobrowse.cli.org import load_trusted

    return load_trusted(settings.trusted_orgs)


def check_signature(path: Path, trusted: Sequence[Any]) -> PlaybookVerdict:
    """The verdict on a playbook file and its ``FILE.sig`` (docs/helpdesk.md, "Signed playbooks")."""
    signature = path.with_name(path.name + SUFFIX)
    try:
        with signature.open("rb") as fh:
            sig: bytes | None = fh.read(MAX_SIGNATURE_FILE + 1)
    except FileNotFoundError:
        sig = None
    try:
        content = path.read_bytes()
    except OSError:
        content = b""
    return verify_playbook(content, sig, trusted)


def sign_playbooks(org: Any, files: Sequence[str], now: int) -> None:
    """`cobrowse org sign-playbook FILE...`: each valid playbook gets its FILE.sig."""
    from cobrowse.playbook.model import PlaybookError
    from cobrowse.playbook.parse import load_playbook

    for given in files:
        path = Path(given).expanduser()
        try:
            load_playbook(path)  # never vouch for a file the customer's cobrowse would refuse anyway
        except PlaybookError as exc:
            raise ConfigError(f"not signed: {exc}") from None
        signature = sign_playbook(org, path.read_bytes(), path.name, now)
        target = path.with_name(path.name + SUFFIX)
        target.write_text(json.dumps(signature, indent=1) + "\n", encoding="utf-8")
        print(f"signed {path} as {org.name} (key id {org.key_id}): {target}. Ship both files; sign again after "
              f"every edit.", file=sys.stderr)
