"""The help's width without ``shutil`` (cobrowse.cli.help_format.terminal_columns): the same
columns ``shutil.get_terminal_size`` gives, from ``$COLUMNS``, a terminal, or the fallback."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = ("import json, shutil, sys\n"
         "from cobrowse.cli.help_format import terminal_columns\n"
         "print(json.dumps([terminal_columns(), shutil.get_terminal_size().columns]))")


def columns(env: dict[str, str], *, on_a_terminal: bool, size: tuple[int, int] = (100, 30)) -> list[int]:
    full = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")} | env
    if not on_a_terminal:
        out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=full, capture_output=True, text=True,
                             timeout=30, check=True)
        return json.loads(out.stdout)
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    err_r, err_w = os.pipe()
    try:
        proc = subprocess.Popen([sys.executable, "-c", PROBE], cwd=ROOT, env=full, stdin=slave, stdout=slave,
                                stderr=err_w)
        os.close(slave)
        os.close(err_w)
        text = b""
        while b"]" not in text:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            text += chunk
        assert proc.wait(timeout=30) == 0, os.read(err_r, 65536)
    finally:
        os.close(master)
        os.close(err_r)
    return json.loads(text.decode().strip().splitlines()[-1])


@pytest.mark.parametrize("env", [{}, {"COLUMNS": "120"}, {"COLUMNS": "0"}, {"COLUMNS": "wide"}, {"COLUMNS": "-5"},
                                 {"COLUMNS": "57", "LINES": "10"}])
@pytest.mark.parametrize("on_a_terminal", [False, True])
def test_the_same_columns_as_shutil(env: dict[str, str], on_a_terminal: bool) -> None:
    ours, theirs = columns(env, on_a_terminal=on_a_terminal)
    assert ours == theirs
    if on_a_terminal and not env.get("COLUMNS", "").isdigit():
        assert ours == 100  # the terminal's own width was read


def test_the_help_is_as_wide_as_argparse_made_it() -> None:
    from cobrowse.cli.help_format import HelpFormatter

    assert HelpFormatter("cobrowse")._width == columns({}, on_a_terminal=False)[0] - 2
    assert HelpFormatter("cobrowse", width=50)._width == 50
