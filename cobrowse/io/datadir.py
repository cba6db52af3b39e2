"""Where cobrowse keeps what it records on this machine (history, recordings, receipts).

``$COBROWSE_DATA_DIR`` when set (tests, several profiles), else the platform's user data
directory (``~/.local/share/cobrowse`` on Linux). Folders are created private (0700):
recordings and receipts describe someone's terminal.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from platformdirs import user_data_dir


def data_dir() -> Path:
    explicit = os.environ.get("COBROWSE_DATA_DIR")
    return Path(explicit) if explicit else Path(user_data_dir("cobrowse"))


def private_dir(name: str) -> Path:
    """``<data dir>/<name>``, created 0700 if missing."""
    path = data_dir() / name
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def open_private(path: Path, mode: str = "a") -> IO[str]:
    """Open a file readable by its owner only (created 0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC), 0o600)
    return os.fdopen(fd, mode.replace("+", ""), encoding="utf-8")
