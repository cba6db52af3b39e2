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
from cobrowse.errors import ConfigError
from cobrowse.io.datadir import data_dir
from cobrowse.playbook.catalogue import SAMPLES, Catalogue
from cobrowse.trust.playbook_signature import SUFFIX, MAX_SIGNATURE_FILE, PlaybookVerdict, sign_playbook, verify_playbook


def catalogue(settings: ClientSettings) -> Catalogue:
    return Catalogue([*settings.playbooks, data_dir() / "playbooks", SAMPLES])


def run(args: argparse.Namespace) -> int:
    try:
        settings = resolve(None, playbooks_flags=args.playbooks, org_flags=getattr(args, "org", None))
        if getattr(args, "limit", 1) < 1:
            raise ConfigError("--limit must be at least 1")
    except ConfigError as exc:
        print(f"cobrowse: {exc}", file=sys.stderr)
        return 2
    for folder in settings.playbooks:  # a mistyped folder was silently left out of every answer
        if not Path(folder).is_dir():
            what = "is not a folder" if Path(folder).exists() else "does not exist"
            print(f"cobrowse: the playbook folder {folder} {what}, so none of its playbooks are here: check "
                  "--playbooks, $COBROWSE_PLAYBOOKS or the config file's playbooks", file=sys.stderr)
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
