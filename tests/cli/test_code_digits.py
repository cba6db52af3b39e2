"""A code typed with another script's digits is the same code everywhere a person types one:
the `cobrowse join` prompt read ۴۲-۷۱۹۳-۰۵۱۸ (a Persian keyboard) and ４２ (an IME's full-width
digits) as 42-7193-0518, while `cobrowse join CODE`, `cobrowse agent --join CODE` and the
console's Join dialog refused them as "not a session code" (found in the QA pass)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

CODES = ["۴۲-۷۱۹۳-۰۵۱۸", "٤٢-٧١٩٣-٠٥١٨", "４２-７１９３-０５１８"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("words", [["join", "--plain"], ["agent", "--headless", "--join"]], ids=["join", "agent"])
@pytest.mark.parametrize("code", CODES)
def test_the_command_line_reads_other_scripts_digits(words: list[str], code: str) -> None:
    relay = f"ws://127.0.0.1:{closed_port()}"
    env = {**os.environ, "COBROWSE_CONFIG": os.devnull, "COBROWSE_LANG": "en"}
    done = subprocess.run([sys.executable, "-m", "cobrowse", *words, code, "--relay", relay], capture_output=True,
                          text=True, timeout=30, env=env, stdin=subprocess.DEVNULL)
    assert "not a session code" not in done.stderr
    assert done.returncode == 3, done.stderr  # the code was taken; then the relay is down
    assert "cannot reach the relay" in done.stderr
