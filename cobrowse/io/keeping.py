"""What this machine keeps of each session, wired into a role's event stream: the agent's
history (SQLite) and audit log, the customer's receipt, and where recordings go."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cobrowse.io.datadir import data_dir, private_dir
from cobrowse.io.receipts import AuditTrail, Emit
from cobrowse.policy.keeping_events import Keeper, KeepingWarning

if TYPE_CHECKING:
    from cobrowse.audit.stats import SessionRecord

# The agent's history (SQLite, statistics) and webhook load in the agent's functions: a
# customer's start-up (join -> the agent's first screen) keeps only the receipt.


def history_path() -> Path:
    return data_dir() / "history.sqlite3"


def saved_sessions(limit: int | None = None) -> list[SessionRecord]:
    """The history, newest first; none when no session was ever kept (no database yet).
    Raises HistoryError when the database cannot be read."""
    from cobrowse.io.history import HistoryStore

    path = history_path()
    if not path.exists():
        return []
    store = HistoryStore(path)
    try:
        return store.recent(limit)
    finally:
        store.close()


def recordings_dir() -> Path:
    return data_dir() / "recordings"


def agent_taps(emit: Emit) -> tuple[Emit, AuditTrail, Path]:
    """The agent's event stream through its history and audit log; also the recordings folder.
    Returns (emit for the runtime, the trail for ``on_action``, the recordings folder)."""
    from cobrowse.io import webhook
    from cobrowse.io.history import HistoryError, HistoryStore, HistoryTap

    trail = AuditTrail(emit, data_dir() / "audit", "agent")
    tapped: Emit = trail
    try:
        tapped = HistoryTap(trail, HistoryStore(history_path()))
    except HistoryError as exc:
        emit(KeepingWarning(Keeper.HISTORY, str(exc)))
    tapped = webhook.tap(tapped)  # the help desk: --ticket, and each session's summary posted (docs/helpdesk.md)
    return tapped, trail, private_dir("recordings")


def customer_trail(emit: Emit) -> AuditTrail:
    """The customer's event stream through their hash-chained receipt."""
    return AuditTrail(emit, data_dir() / "receipts", "customer")
