"""The relay's sessions on disk: a restarted relay resumes them (SQLite in its data directory).

A support session must outlive a relay restart (``kill -9``, a crash, systemd or Docker
restarting it, a new version). The relay's state is small and changes only when a
session is created, confirmed, released or ended, so one SQLite file holds it: the server
writes a session's record *before* the answer that hands out a resume secret goes out
(``opened``, ``claimed``) and before a pairing's confirmation is acted on, so whatever
a client could have been told survives. On start, the relay takes every record back
(:meth:`relay.rooms.Rooms.restore`): both sides away, each with a fresh grace period to
``resume``.

What the file holds per session: nameplate, id, the sides' roles, the sha256 of each
side's resume secret (never the secret: a copy of the file lets nobody resume a side),
the agent token's name and when it was created; per ended nameplate, when it ended. Never
a key (the relay has none) or any content. The file is created 0600. WAL with ``synchronous=NORMAL``: a killed process
loses nothing (the OS has the pages); a power cut may lose the last few writes, whose
sessions then end as they did before this store.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
from pathlib import Path

from cobrowse.errors import ConfigError
from relay.config import RelayConfig
from relay.rooms import Event, Output, Rooms, SessionRecord

log = logging.getLogger("relay.store")

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    nameplate TEXT NOT NULL,
    creator_role TEXT NOT NULL,
    creator_digest BLOB NOT NULL,
    joiner_role TEXT NOT NULL DEFAULT '',
    joiner_digest BLOB NOT NULL DEFAULT x'',
    agent_token TEXT NOT NULL DEFAULT '',
    created_wall REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS ended (
    nameplate TEXT PRIMARY KEY,
    ended_wall REAL NOT NULL
)
"""


OFF = "off"


def data_dir() -> Path:
    """``$COBROWSE_DATA_DIR``, else platformdirs' user data dir (``~/.local/share/cobrowse``)."""
    from platformdirs import user_data_dir

    return Path(os.environ.get("COBROWSE_DATA_DIR") or user_data_dir("cobrowse"))


def default_session_store(config: RelayConfig) -> str:
    """One file per address the relay listens on, in the data dir: a relay started again with
    the same settings finds its sessions; two relays on one machine never share them. None
    (``off``) for a port picked at random (nothing can come back to it) and for a node of
    several (Redis holds the sessions and another node adopts them)."""
    if config.port == 0 or config.redis:
        return OFF
    safe = "".join(ch if ch.isalnum() or ch in ".-" else "_" for ch in config.host) or "any"
    return str(data_dir() / f"relay-sessions-{safe}-{config.port}.sqlite3")


def writable(path: str) -> bool:
    """Whether the store's folder exists or can be made, and can be written (a service user
    with no home, a read-only image: the relay then runs without a store, and says so)."""
    folder = Path(path).parent
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return False
    return os.access(folder, os.W_OK | os.X_OK)


class SessionStore:
    """Records of this relay's live sessions. Every write is its own committed transaction."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = _lock(self.path)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def load(self) -> list[tuple[SessionRecord, float]]:
        """Every record with its creation time (wall clock, seconds since the epoch)."""
        rows = self._db.execute(
            "SELECT nameplate, id, creator_role, creator_digest, joiner_role, joiner_digest, agent_token, "
            "created_wall FROM sessions ORDER BY created_wall"
        ).fetchall()
        return [(SessionRecord(*row[:7]), float(row[7])) for row in rows]

    def save(self, record: SessionRecord, created_wall: float) -> None:
        """Insert or update one session (its creation time is kept from the first save)."""
        self._db.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "nameplate=excluded.nameplate, creator_role=excluded.creator_role, "
            "creator_digest=excluded.creator_digest, joiner_role=excluded.joiner_role, "
            "joiner_digest=excluded.joiner_digest, agent_token=excluded.agent_token",
            (record.id, record.nameplate, record.creator_role, record.creator_digest, record.joiner_role,
             record.joiner_digest, record.agent_token, created_wall),
        )

    def delete(self, session_id: str) -> None:
        self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def end(self, session_id: str, ended_wall: float) -> None:
        """The session ended: forget it, and remember its nameplate as recently ended."""
        with self._db:
            self._db.execute("BEGIN")
            row = self._db.execute("SELECT nameplate FROM sessions WHERE id = ?", (session_id,)).fetchone()
            self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            if row is not None:
                self._db.execute("INSERT OR REPLACE INTO ended VALUES (?, ?)", (row[0], ended_wall))

    def ended(self, since_wall: float) -> dict[str, float]:
        """Nameplates that ended after ``since_wall``, with when; older ones are dropped."""
        self._db.execute("DELETE FROM ended WHERE ended_wall <= ?", (since_wall,))
        return dict(self._db.execute("SELECT nameplate, ended_wall FROM ended").fetchall())

    def close(self) -> None:
        self._db.close()
        os.close(self._lock)  # the lock goes with it


class StoreInUse(ConfigError):
    pass


def _lock(path: Path) -> int:
    """Hold ``<store>.lock`` for as long as the relay runs: a second relay on the same store
    would take back (and then end) the first one's sessions at its own restart. The kernel
    drops the lock with the process, however it dies (``kill -9`` included)."""
    lock = path.with_name(path.name + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        os.close(fd)
        raise StoreInUse(
            f"the session store {str(path)!r} is in use by another relay"
            + (f" (pid {holder})" if holder.isdigit() else "")
            + ": stop it, or give this one its own session_store (--session-store FILE)"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def restore_sessions(store: SessionStore, rooms: Rooms, now: float, wall: float) -> Output:
    """Give ``rooms`` back the sessions of the previous run (``wall``: the time now, seconds
    since the epoch); records of codes that expired meanwhile are deleted."""
    config = rooms.config
    recent = store.ended(wall - max(config.dead_memory, config.reuse_cooldown))
    rooms.remember_ended({nameplate: wall - when for nameplate, when in recent.items()}, now)
    saved = store.load()
    ages = {record.id: max(0.0, wall - created) for record, created in saved}
    out = rooms.restore([record for record, _ in saved], now, ages)
    restored = {e.session for e in out.events}
    expired = {record.nameplate: 0.0 for record, _ in saved if record.id not in restored}
    for record, _ in saved:
        if record.id not in restored:  # a code nobody used before it expired, while the relay was down
            store.end(record.id, wall)
    rooms.remember_ended(expired, now)
    return out


def persist(store: SessionStore, rooms: Rooms, event: Event, wall: float) -> None:
    """Keep the store in step with the rooms: call before the event's answers go out.
    A failed write is logged; the session goes on (only a restart would lose it)."""
    if event.session is None:
        return
    try:
        if event.kind in ("created", "confirmed"):
            record = rooms.record(event.session)
            if record is not None:
                store.save(record, wall)
        elif event.kind == "ended":
            store.end(event.session, wall)
    except sqlite3.Error as exc:
        log.error("cannot write session %s to the session store: %s", event.session, exc)
