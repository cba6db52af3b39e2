"""The audit log: one JSON object a line per session event, appended to the ``audit_log`` file.

Events: ``created``, ``paired``, ``resumed``, ``ended`` (with ``reason``), ``killed``,
``reported`` (a customer reported the session as suspicious: nameplate, who, when),
each with the session ``id``, the nameplate, the agent token's *name* (never the token),
roles and addresses; ``ended`` adds the duration and the frames and bytes forwarded. No
content ever reaches the relay, so none can reach this file.

The file is opened in append mode and flushed per line; SIGHUP reopens it (logrotate's
``postrotate``: ``systemctl kill -s HUP cobrowse-relay``). A write that fails is reported
once on the log and does not stop the relay.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import datetime, timezone
from typing import IO, Callable

from cobrowse.errors import ConfigError
from relay.rooms import Event

# adopted: another node took the session over; restored: this relay took it back from its session store
# paired: a claim, still on probation; released: its code was wrong (or it gave up); confirmed: it stands
AUDITED = frozenset({"created", "paired", "released", "confirmed", "resumed", "ended", "killed", "adopted", "restored",
                     "reported"})

log = logging.getLogger("relay")


def record(event: Event, wall: float) -> dict[str, object]:
    """The audit line for ``event`` at wall-clock time ``wall`` (pure)."""
    ts = datetime.fromtimestamp(wall, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"ts": ts, "event": event.kind, "session": event.session, **event.data}


class AuditLog:
    def __init__(self, path: str, wall_clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._wall = wall_clock
        self._fh: IO[str] | None = None
        self._failed = False
        self._open()

    def _open(self) -> None:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            self._fh = os.fdopen(fd, "a", buffering=1, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot open the audit log {self.path!r}: {exc.strerror or exc}") from None

    def write(self, event: Event) -> None:
        if event.kind not in AUDITED or self._fh is None:
            return
        try:
            self._fh.write(json.dumps(record(event, self._wall()), separators=(",", ":")) + "\n")
        except (OSError, ValueError) as exc:
            if not self._failed:
                log.error("cannot write the audit log %s: %s", self.path, exc)
                self._failed = True

    def reopen(self) -> None:
        """After logrotate moved the file: close it and open the path again."""
        self.close()
        try:
            self._open()
            self._failed = False
        except ConfigError as exc:
            log.error("%s", exc)

    def close(self) -> None:
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError:
                pass
            self._fh = None
