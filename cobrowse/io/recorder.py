"""Writing a recording: the agent's mirrored screen as an asciicast v2 file, plus a JSON
side file of steps, chat and consent changes with their times.

Only ``AgentRuntime`` starts one, and only after the customer's ``granted`` answer (see
``cobrowse.protocol.recording``). Files live in ``<data dir>/recordings`` as ``ID.cast``
and ``ID.json``, readable by their owner only.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import IO, Any

from cobrowse.audit.cast import CastEncoder, header
from cobrowse.io.datadir import open_private
from cobrowse.policy.events import Event, as_json, kind_of
from cobrowse.screen.state import ScreenState


#: Notes (steps, chat, consent changes) a recording keeps in memory for its side file: the
#: customer's chat is the other side's to send, at the relay's pace, for the session's length.
MAX_NOTES = 20_000


def new_recording_id(wall: float) -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime(wall)) + "-" + secrets.token_hex(2)


class Recorder:
    """One recording in progress; ``now`` values are the runtime's loop clock (seconds)."""

    def __init__(self, directory: Path, now: float, meta: dict[str, Any], wall: float | None = None) -> None:
        self.wall = time.time() if wall is None else wall
        self.id = new_recording_id(self.wall)
        self.directory = directory
        self.cast_path = directory / f"{self.id}.cast"
        self.side_path = directory / f"{self.id}.json"
        self.started = now
        self.meta = meta
        self.events: list[dict[str, Any]] = []
        self.dropped = 0  # notes past MAX_NOTES: counted in the side file, not kept
        self.frames = 0
        self._encoder = CastEncoder()
        self._cast: IO[str] | None = None
        self.closed = False

    def _seconds(self, now: float) -> float:
        return max(0.0, now - self.started)

    def frame(self, state: ScreenState, now: float) -> None:
        """Append what changed on the mirrored screen since the previous frame."""
        if self.closed:
            return
        if self._cast is None:
            self._open(state.cols, state.row_count)
        assert self._cast is not None
        lines = self._encoder.frame(self._seconds(now), state)
        if lines:
            self._cast.write("\n".join(lines) + "\n")
            self._cast.flush()
            self.frames += 1

    def _open(self, cols: int, rows: int) -> None:
        self._cast = cast = open_private(self.cast_path, "w")
        cast.write(header(cols, rows, int(self.wall), self.meta.get("title", "")) + "\n")

    def note(self, kind: str, now: float, **fields: Any) -> None:
        """A step, chat or consent change for the side file."""
        if self.closed:
            return
        if len(self.events) >= MAX_NOTES and kind != "stopped":
            self.dropped += 1
            return
        self.events.append({"t": round(self._seconds(now), 3), "kind": kind, **fields})

    def note_event(self, event: Event, now: float) -> None:
        """An event for the side file: its headless fields under its kind."""
        fields = as_json(event)
        self.note(kind_of(event), now, **{k: v for k, v in fields.items() if k != "event"})

    def close(self, now: float, reason: str) -> None:
        """Finish both files (the cast gets a valid header even if no frame came)."""
        if self.closed:
            return
        self.note("stopped", now, reason=reason)
        self.closed = True
        if self._cast is None:
            self._open(80, 24)
        assert self._cast is not None
        self._cast.close()
        side = {"id": self.id, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.wall)),
                "duration_s": round(self._seconds(now), 3), "cast": self.cast_path.name, "frames": self.frames,
                **self.meta, "events": self.events, **({"events_dropped": self.dropped} if self.dropped else {})}
        tmp = self.side_path.with_suffix(".json.tmp")
        with open_private(tmp, "w") as out:
            json.dump(side, out, ensure_ascii=False, indent=1)
        os.replace(tmp, self.side_path)


def list_recordings(directory: Path) -> list[dict[str, Any]]:
    """The side files' summaries, newest first (a damaged side file is listed as such)."""
    found: list[dict[str, Any]] = []
    if not directory.is_dir():
        return found
    for cast in sorted(directory.glob("*.cast"), reverse=True):
        side = cast.with_suffix(".json")
        info: dict[str, Any] = {"id": cast.stem, "cast": str(cast)}
        try:
            data = json.loads(side.read_text(encoding="utf-8"))
            info.update({k: data.get(k) for k in ("started", "duration_s", "customer", "agent", "frames")})
            info["events"] = len(data.get("events", []))
        except (OSError, ValueError):
            info["note"] = "no side file (the recording did not finish)"
        found.append(info)
    return found


def find_recording(directory: Path, wanted: str) -> Path:
    """The cast for an ID (or a unique prefix of one, or a path); FileNotFoundError names the choices."""
    path = Path(wanted)
    if path.suffix == ".cast" and path.is_file():
        return path
    matches = sorted(directory.glob(f"{wanted}*.cast")) if directory.is_dir() and "/" not in wanted else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise FileNotFoundError(f"no recording {wanted!r} in {directory}: `cobrowse recordings list` shows the IDs")
    raise FileNotFoundError(f"{wanted!r} matches {len(matches)} recordings: give more of the ID")
