"""Where cobrowse keeps what it records on this machine (history, recordings, receipts).

``$COBROWSE_DATA_DIR`` when set (tests, several profiles), else the platform's user data
directory (``~/.local/share/cobrowse`` on Linux). Folders are created private (0700):
recordings and receipts describe someone's terminal.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO



def data_dir() -> Path:
    explicit = os.environ.get("COBROWSE_DATA_DIR")
    if explicit:
        return Path(explicit)
    from platformdirs import user_data_dir  # here: platformdirs' import is ~4 ms of `cobrowse join`'s start-up

    return Path(user_data_dir("cobrowse"))


def config_dir() -> Path:
    """platformdirs' user config directory for cobrowse. On Linux with ``$XDG_CONFIG_HOME``
    unset or empty and an absolute ``$HOME``, platformdirs says ``$HOME/.config/cobrowse``
    (every 4.x release; tests/io/test_datadir.py compares): that is answered without
    importing it (~4 ms of ``cobrowse join``'s start-up); anything else asks platformdirs."""
    home = os.environ.get("HOME", "")
    if sys.platform == "linux" and not os.environ.get("XDG_CONFIG_HOME") and home.startswith("/"):
        return Path(home, ".config", "cobrowse")
    from platformdirs import user_config_dir

    return Path(user_config_dir("cobrowse"))


def private_dir(name: str) -> Path:
    """``<data dir>/<name>``, created 0700 if missing."""
    path = data_dir() / name
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def open_private(path: Path, mode: str = "a") -> IO[str]:
    """Open a file readable by its owner only (created 0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC), 0o600)
    return os.fdopen(fd, mode.replace("+", ""), encoding="utf-8")
