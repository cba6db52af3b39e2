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
    known = _usual_linux("XDG_DATA_HOME", ".local", "share")
    if known is not None:
        return known
    from platformdirs import user_data_dir

    return Path(user_data_dir("cobrowse"))


def config_dir() -> Path:
    """platformdirs' user config directory for cobrowse (see :func:`_usual_linux`)."""
    known = _usual_linux("XDG_CONFIG_HOME", ".config")
    if known is not None:
        return known
    from platformdirs import user_config_dir

    return Path(user_config_dir("cobrowse"))


def _usual_linux(variable: str, *under_home: str) -> Path | None:
    """On Linux with ``variable`` unset or empty and an absolute ``$HOME``, platformdirs says
    ``$HOME/<under_home>/cobrowse`` (every 4.x release; tests/io/test_datadir.py compares):
    answered here without importing it (~4 ms of ``cobrowse join``'s start-up, which reads the
    config file and opens the session's receipt); None for anything else (ask platformdirs)."""
    home = os.environ.get("HOME", "")
    if sys.platform == "linux" and not os.environ.get(variable) and home.startswith("/"):
        return Path(home, *under_home, "cobrowse")
    return None


def private_dir(name: str) -> Path:
    """``<data dir>/<name>``, created 0700 if missing."""
    path = data_dir() / name
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def open_private(path: Path, mode: str = "a") -> IO[str]:
    """Open a file readable by its owner only (created 0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC), 0o600)
    return os.fdopen(fd, mode.replace("+", ""), encoding="utf-8")
