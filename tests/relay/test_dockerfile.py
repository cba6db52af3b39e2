"""The Dockerfile, checked without a Docker engine: its CMD and HEALTHCHECK are run here.

The CMD runs with the port swapped for a free one and the host for 127.0.0.1 (loopback
only in tests); the HEALTHCHECK command must then exit 0 against it, as Docker would run it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
T = 10.0


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = DOCKERFILE.read_text()
    logical, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        logical.append(current)
        current = ""
    out = []
    for line in logical:
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def one(name: str) -> str:
    found = [args for word, args in instructions() if word == name]
    assert found, f"the Dockerfile has no {name}"
    return found[-1]


def exec_form(text: str) -> list[str]:
    argv = json.loads(text)
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv)
    return argv


def healthcheck_argv() -> list[str]:
    args = one("HEALTHCHECK")
    match = re.search(r"\bCMD\s+(\[.*\])\s*$", args)
    assert match, f"HEALTHCHECK must use the exec form: {args!r}"
    return exec_form(match.group(1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def relay_launcher() -> list[str]:
    """``cobrowse`` from the venv if it has the relay subcommand, else ``python -m relay``."""
    exe = shutil.which("cobrowse", path=str(Path(sys.executable).parent)) or shutil.which("cobrowse")
    if exe:
        probe = subprocess.run([exe, "relay", "--help"], capture_output=True, timeout=T, cwd=ROOT)
        if probe.returncode == 0:
            return [exe, "relay"]
    return [sys.executable, "-m", "relay"]


def test_static_shape() -> None:
    assert one("FROM") == "python:3.11-slim"
    user = one("USER")
    assert user and user not in ("root", "0")
    assert "8765" in one("EXPOSE").split()
    assert any(word == "RUN" and "--require-hashes --no-deps -r deploy/relay.lock" in args and "pip install --no-deps ." in args
               for word, args in instructions())
    ignore = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignore and ".git" in ignore


def test_cmd_and_healthcheck_work_locally() -> None:
    cmd = exec_form(one("CMD"))
    assert cmd[:2] == ["cobrowse", "relay"]
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0" and cmd[cmd.index("--port") + 1] == "8765"
    port = str(free_port())
    argv = relay_launcher() + cmd[2:]
    argv[argv.index("--port") + 1] = port
    argv[argv.index("--host") + 1] = "127.0.0.1"
    check = [arg.replace("8765", port) for arg in healthcheck_argv()]
    assert check[0] == "python"
    check[0] = sys.executable  # the image's python is the venv's here

    env = {k: v for k, v in os.environ.items() if not k.startswith("COBROWSE_RELAY")}
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + T
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line or "listening on" in line:
                break
        assert proc.poll() is None, f"relay exited: {shlex.join(argv)}"
        result = subprocess.run(check, capture_output=True, text=True, timeout=T)
        assert result.returncode == 0, result.stderr
        proc.terminate()
        _, err = proc.communicate(timeout=T)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=T)
    # and the health check fails once nothing listens there
    assert subprocess.run(check, capture_output=True, timeout=T).returncode != 0


@pytest.mark.parametrize("name", ["CMD", "HEALTHCHECK"])
def test_exec_forms_parse(name: str) -> None:
    assert exec_form(one("CMD")) if name == "CMD" else healthcheck_argv()
