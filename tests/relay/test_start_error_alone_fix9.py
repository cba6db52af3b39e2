"""qa9: with a token store, a relay that cannot start printed ``agent tokens: 2 from ...``
before its error (port in use, Redis down): the error is what the admin must see, alone, one
line. The count is said once the relay listens. Real relay processes on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.relay.listening import wait_until_listening


def _env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg"), "COBROWSE_DATA_DIR": str(tmp_path / "data"),
           "COBROWSE_CONFIG": os.devnull, "COBROWSE_RELAY_TOKEN_STORE": str(tmp_path / "tokens.json")}
    env.pop("COBROWSE_RELAY_CONFIG", None)
    for name in ("alice", "bob"):
        made = subprocess.run([sys.executable, "-m", "cobrowse", "relay", "token", "create", "--name", name],
                              capture_output=True, text=True, env=env, timeout=60)
        assert made.returncode == 0, made.stderr
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("cause", ["port in use", "redis down"])
def test_a_start_error_is_the_only_line(tmp_path: Path, cause: str) -> None:
    env = _env(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        if cause == "port in use":
            args = ["--port", str(taken.getsockname()[1])]
        else:
            args = ["--port", str(_free_port()), "--redis", f"redis://127.0.0.1:{_free_port()}/0"]
        out = subprocess.run([sys.executable, "-m", "cobrowse", "relay", "--host", "127.0.0.1", *args],
                             capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "agent tokens" not in out.stderr


def test_the_token_count_is_said_once_listening(tmp_path: Path) -> None:
    env = _env(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "cobrowse", "relay", "--host", "127.0.0.1", "--port", "0"],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    lines: list[str] = []
    try:
        wait_until_listening(proc, lines, 30)
    finally:
        proc.terminate()
        _, rest = proc.communicate(timeout=30)
    said = "".join(lines) + rest
    assert said.count("agent tokens: 2 from") == 1, said
