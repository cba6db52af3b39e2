"""Agent and admin tokens: made here, shown once, kept only as sha256 digests.

A token is a random string an admin hands to an agent (``COBROWSE_TOKEN``). The relay
keeps ``sha256(token)`` with the name the admin gave it and when it was made, in a JSON
token store (by default ``relay-tokens.json`` in the relay's data directory), and never the
token itself: a leaked store lets nobody in. ``cobrowse relay token create/list/revoke``
edits the store; a running relay reloads it when it changes (and on SIGHUP).

The pure part (parse, add, remove, serialise) is separate from the file part (read, atomic
write with mode 0600) so it is tested without a disk.

Store format (version 1)::

    {"version": 1, "tokens": [{"name": "alice", "sha256": "<64 hex>", "created": "2025-...Z"}],
     "revoked": [{"name": "carol", "sha256": "<64 hex>", "created": "2025-...Z"}]}

``revoked`` (optional, the last ``REVOKED_KEPT``) keeps the digests of revoked tokens so the
relay's log can say an agent was refused for a revoked token rather than a mistyped one.
Older relays ignore it; a damaged ``revoked`` list is dropped, never fatal: it only names.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from cobrowse.errors import ConfigError

STORE_VERSION = 1
STORE_FILENAME = "relay-tokens.json"
AGENT_PREFIX = "cbt_"  # easy to recognise in a leaked paste (secret scanners), as GitHub does
ADMIN_PREFIX = "cba_"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
_HEX = re.compile(r"[0-9a-f]{64}")
REVOKED_KEPT = 256  # tombstones kept in the store: enough for an organisation's turnover


@dataclass(frozen=True)
class TokenRecord:
    name: str
    sha256: str
    created: str  # ISO 8601, UTC


def digest(token: str) -> str:
    """The sha256 hex digest a token is stored and compared as."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(prefix: str = AGENT_PREFIX) -> str:
    """A fresh random token: 256 bits from the OS CSPRNG, URL-safe."""
    return prefix + secrets.token_urlsafe(32)


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(
            f"invalid token name {name!r}: use 1-64 letters, digits and . _ @ + - (starting with a letter or digit)"
        )
    return name


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- pure: records in, records out ----


def parse_store(text: str, where: str = "token store") -> tuple[TokenRecord, ...]:
    """Records from the store's JSON text; ConfigError naming ``where`` if it is damaged."""
    if not text.strip():
        return ()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{where} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != STORE_VERSION or not isinstance(data.get("tokens"), list):
        raise ConfigError(f"{where} is not a cobrowse token store (version {STORE_VERSION})")
    out: list[TokenRecord] = []
    seen: set[str] = set()
    for item in data["tokens"]:
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: every token entry must be an object")
        name, hexd, created = item.get("name"), item.get("sha256"), item.get("created", "")
        if not isinstance(name, str) or not _NAME.fullmatch(name) or name in seen:
            raise ConfigError(f"{where}: bad or duplicate token name {name!r}")
        if not isinstance(hexd, str) or not _HEX.fullmatch(hexd):
            raise ConfigError(f"{where}: token {name!r} has no valid sha256 digest")
        seen.add(name)
        out.append(TokenRecord(name, hexd, created if isinstance(created, str) else ""))
    return tuple(out)


def parse_revoked(text: str) -> tuple[TokenRecord, ...]:
    """The store's revoked tokens (name and digest); whatever is damaged there is skipped."""
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        return ()
    items = data.get("revoked") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return ()
    out: list[TokenRecord] = []
    for item in items[-REVOKED_KEPT:]:
        if not isinstance(item, dict):
            continue
        name, hexd, created = item.get("name"), item.get("sha256"), item.get("created", "")
        if isinstance(name, str) and _NAME.fullmatch(name) and isinstance(hexd, str) and _HEX.fullmatch(hexd):
            out.append(TokenRecord(name, hexd, created if isinstance(created, str) else ""))
    return tuple(out)


def dump_store(records: Iterable[TokenRecord], revoked: Iterable[TokenRecord] = ()) -> str:
    body: dict[str, object] = {"version": STORE_VERSION, "tokens": [asdict(r) for r in records]}
    gone = list(revoked)[-REVOKED_KEPT:]
    if gone:
        body["revoked"] = [asdict(r) for r in gone]
    return json.dumps(body, indent=2) + "\n"


def add_record(records: tuple[TokenRecord, ...], record: TokenRecord) -> tuple[TokenRecord, ...]:
    if any(r.name == record.name for r in records):
        raise ConfigError(f"a token named {record.name!r} already exists: revoke it first or pick another name")
    return (*records, record)


def remove_record(records: tuple[TokenRecord, ...], name: str) -> tuple[TokenRecord, ...]:
    kept = tuple(r for r in records if r.name != name)
    if len(kept) == len(records):
        raise ConfigError(f"no token named {name!r}")
    return kept


def token_names(records: Iterable[TokenRecord], config_digests: Iterable[str] = ()) -> dict[str, str]:
    """digest -> name for every accepted agent token (config digests are named ``config:<8 hex>``)."""
    names = {d: f"config:{d[:8]}" for d in config_digests}
    names.update((r.sha256, r.name) for r in records)
    return names


def revoked_names(revoked: Iterable[TokenRecord], accepted: Iterable[str]) -> dict[str, str]:
    """digest -> name for revoked tokens that are not accepted again (a digest in both is accepted)."""
    live = set(accepted)
    return {r.sha256: r.name for r in revoked if r.sha256 not in live}


def admin_ok(authorization: str | None, digests: Iterable[str]) -> bool:
    """Whether an ``Authorization: Bearer <token>`` header carries one of the admin tokens."""
    if not authorization:
        return False
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    given = digest(token.strip()).encode()
    ok = False
    for d in digests:  # no early exit: the time taken does not say which one matched
        ok |= hmac.compare_digest(given, d.encode())
    return ok


# ---- the file ----


def default_store_path() -> Path:
    """``relay-tokens.json`` in the relay's data directory (platformdirs' user data dir)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("cobrowse")) / STORE_FILENAME


class TokenStore:
    """The token file at ``path``. Every method reads the file afresh (the CLI is short-lived)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> tuple[TokenRecord, ...]:
        return self.load_all()[0]

    def load_all(self) -> tuple[tuple[TokenRecord, ...], tuple[TokenRecord, ...]]:
        """(the accepted tokens, the revoked ones) from one read of the file."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return (), ()
        except OSError as exc:
            raise ConfigError(f"cannot read the token store {str(self.path)!r}: {exc.strerror or exc}") from None
        return parse_store(text, f"the token store {str(self.path)!r}"), parse_revoked(text)

    def stamp(self) -> tuple[int, int, int] | None:
        """What changes when the file changes (inode, size, mtime), None if it does not exist."""
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def create(self, name: str, *, created: str | None = None) -> tuple[str, TokenRecord]:
        """Make a token, store its digest; return (the token, to show once, and its record)."""
        token = new_token()
        record = TokenRecord(check_name(name), digest(token), created or utc_now())
        records, revoked = self.load_all()
        self._save(add_record(records, record), revoked)
        return token, record

    def revoke(self, name: str) -> None:
        """Remove the token; its digest and name stay in ``revoked`` (for the relay's log)."""
        records, revoked = self.load_all()
        kept = remove_record(records, name)
        gone = tuple(r for r in records if r.name == name)
        self._save(kept, (*revoked, *gone))

    def _save(self, records: tuple[TokenRecord, ...], revoked: tuple[TokenRecord, ...] = ()) -> None:
        """Write atomically (a relay reading it sees the old or the new file, never half) as 0600."""
        parent = self.path.parent
        try:
            parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=".relay-tokens.", dir=parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(dump_store(records, revoked))
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp, 0o600)
                if hasattr(os, "geteuid") and os.geteuid() == 0:
                    # root editing a service's store (systemd DynamicUser, a container's
                    # volume): the file stays readable by the directory's owner, the relay
                    st = parent.stat()
                    os.chown(tmp, st.st_uid, st.st_gid)
                os.replace(tmp, self.path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError as exc:
            raise ConfigError(f"cannot write the token store {str(self.path)!r}: {exc.strerror or exc}") from None
