"""`cobrowse org`: an organisation's signing key on disk, and the files agents and customers load.

The organisation key lives in ``<config dir>/org/org-key.json`` (or ``--dir`` /
``$COBROWSE_ORG_DIR``), mode 0600: it signs agent credentials and holds the book of what was
issued and revoked. ``issue-agent`` writes an agent's credential file (the credential plus
the agent's private key: secret, 0600, for that agent only); ``publish`` writes the public
trust file customers load with ``--org`` or ``trusted_orgs``. The cryptography is
``cobrowse.trust``; this module only reads and writes files.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from cobrowse.cli.config import config_path
from cobrowse.errors import ConfigError
from cobrowse.trust import AgentIdentity, OrgKey, OrgTrust, TrustFileError

KEY_FILE = "org-key.json"


def org_dir(flag: str | None) -> Path:
    explicit = flag or os.environ.get("COBROWSE_ORG_DIR")
    return Path(explicit).expanduser() if explicit else config_path().parent / "org"


#: What to do about a damaged file, by what it is (a JSON error alone said nothing of it).
DAMAGED = {
    "the organisation key": ("restore it from your backup; `cobrowse org init --force` makes a new key, and every "
                             "credential issued with the old one stops verifying"),
    "the agent credential file": "ask your organisation's admin for a new one (`cobrowse org issue-agent`)",
    "the organisation trust file": "get the organisation's trust file again from where you got it",
}


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist") from None
    except (ValueError, UnicodeDecodeError) as exc:
        fix = DAMAGED.get(what, "")
        raise ConfigError(f"{what} {path} is damaged (not JSON: {exc})" + (f": {fix}" if fix else "")) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def write_secret(path: Path, data: dict[str, Any], *, replace: bool = True) -> None:
    """Write a JSON file only its owner can read (0600 from the start, never world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(tmp, flags, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps(data, indent=2) + "\n")
    os.chmod(tmp, 0o600)
    if not replace and path.exists():
        tmp.unlink()
        raise ConfigError(f"{path} already exists (use --force to replace it: agents issued with the old key "
                          "will no longer verify)")
    os.replace(tmp, path)


def load_org(directory: Path) -> OrgKey:
    path = directory / KEY_FILE
    if not path.exists():
        raise ConfigError(f"no organisation key in {directory}: create one with `cobrowse org init --name NAME`")
    try:
        return OrgKey.from_dict(_read_json(path, "the organisation key"))
    except TrustFileError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def load_identity(path: str) -> AgentIdentity:
    """An agent's credential file (``--credential``, ``credential`` in the config)."""
    file = Path(path).expanduser()
    try:
        return AgentIdentity.from_dict(_read_json(file, "the agent credential file"))
    except TrustFileError as exc:
        raise ConfigError(f"{file}: {exc} (issue one with `cobrowse org issue-agent NAME --out FILE`)") from None


def load_trusted(paths: Sequence[str]) -> list[OrgTrust]:
    """The trust files a customer gave (``--org``, ``trusted_orgs``); a bad one is an error, not ignored."""
    trusted = []
    for path in paths:
        file = Path(path).expanduser()
        try:
            trusted.append(OrgTrust.from_dict(_read_json(file, "the organisation trust file")))
        except TrustFileError as exc:
            raise ConfigError(f"{file}: {exc} (the organisation makes it with `cobrowse org publish`)") from None
    return trusted


def _output(data: dict[str, Any], out: str | None, secret: bool) -> str:
    if out is None or out == "-":
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return "standard output"
    path = Path(out).expanduser()
    if secret:
        write_secret(path, data)
    else:
        path.write_text(json.dumps(data, indent=2) + "\n")
    return str(path)


def run(args: argparse.Namespace) -> int:
    """`cobrowse org ACTION`; errors are one line on stderr and exit status 2."""
    try:
        return _run(args)
    except (ConfigError, TrustFileError, OSError) as exc:
        print(f"cobrowse org: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    directory = org_dir(args.dir)
    now = int(time.time())
    action = args.org_action
    if action == "init":
        book = OrgKey.generate(args.name, os.urandom)
        write_secret(directory / KEY_FILE, book.to_dict(), replace=args.force)
        print(f"created the signing key of {book.name} (key id {book.key_id}) in {directory / KEY_FILE} (mode 0600). "
              f"Next: `cobrowse org issue-agent NAME --out FILE` for each agent, and `cobrowse org publish --out FILE` "
              f"for customers.", file=sys.stderr)
        return 0
    book = load_org(directory)
    if action == "issue-agent":
        book, identity = book.issue(args.agent, now, args.days, os.urandom)
        where = _output(identity.to_dict(), args.out, secret=True)
        write_secret(directory / KEY_FILE, book.to_dict())
        cred = identity.credential
        print(f"issued credential {cred.id} to {cred.agent} of {book.name}, valid until "
              f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(cred.expires))}, written to {where}. It holds the agent's "
              f"private key: give it to {cred.agent} only (they use `cobrowse agent --credential FILE`).", file=sys.stderr)
    elif action == "revoke":
        book = book.revoke(args.id)
        write_secret(directory / KEY_FILE, book.to_dict())
        print(f"revoked {args.id}. Customers refuse it once they load a trust file published from now on: "
              f"run `cobrowse org publish --out FILE` and hand it out again.", file=sys.stderr)
    elif action == "publish":
        trust = book.trust(now)
        where = _output(trust.to_dict(), args.out, secret=False)
        print(f"wrote the trust file of {book.name} (key id {trust.key_id}, {len(trust.revoked)} revoked) to {where}. "
              f"Customers use it with `cobrowse join CODE --org FILE` or `trusted_orgs` in their config.", file=sys.stderr)
    elif action == "sign-playbook":
        from cobrowse.cli.playbooks import sign_playbooks

        sign_playbooks(book, args.files, now)
    elif action == "list":
        print(f"{book.name} (key id {book.key_id})")
        for item in book.issued:
            state = "revoked" if item.id in book.revoked else ("expired" if item.expires < now else "valid")
            until = time.strftime("%Y-%m-%d", time.gmtime(item.expires))
            print(f"  {item.id}  {item.agent:<24} until {until}  {state}")
    return 0
