"""``python -m relay`` as a subprocess: listens, answers /healthz, exits 0 on SIGTERM, 2 on errors."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
T = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in (env or os.environ).items() if not k.startswith("COBROWSE_RELAY")}
    return subprocess.Popen(
        [sys.executable, "-m", "relay", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_listening(proc: subprocess.Popen[str]) -> str:
    assert proc.stderr is not None
    deadline = time.monotonic() + T
    lines = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if "listening on" in line:
            return line.strip()
    proc.kill()
    raise AssertionError(f"relay did not start: {lines!r}")


def get_health(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=T) as resp:
        assert resp.status == 200
        return json.loads(resp.read())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_listens_answers_health_and_exits_0_on_signal(sig: signal.Signals) -> None:
    port = free_port()
    proc = start("--host", "127.0.0.1", "--port", str(port), "--grace", "5")
    try:
        line = wait_listening(proc)
        assert line == (
            f"cobrowse relay listening on ws://127.0.0.1:{port} (health: http://127.0.0.1:{port}/healthz)"
        )
        assert get_health(port)["status"] == "ok"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=T)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=T)


def test_port_in_use_exits_2_with_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = start("--host", "127.0.0.1", "--port", str(port))
        _, err = proc.communicate(timeout=T)
    assert proc.returncode == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "already in use" in lines[0] and str(port) in lines[0]


def test_bad_flag_value_exits_2_with_one_line() -> None:
    proc = start("--port", "eighty")
    _, err = proc.communicate(timeout=T)
    assert proc.returncode == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "'port'" in lines[0]


def test_bad_env_value_exits_2() -> None:
    env = dict(os.environ)
    proc = subprocess.Popen(
        [sys.executable, "-m", "relay", "--port", "0"],
        cwd=ROOT, env={**env, "COBROWSE_RELAY_GRACE": "forever"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    _, err = proc.communicate(timeout=T)
    assert proc.returncode == 2 and "COBROWSE_RELAY_GRACE" in err


@pytest.mark.parametrize("fmt", ["human", "json"])
def test_the_stop_line_reads_as_a_sentence_or_keeps_every_field(tmp_path: Path, fmt: str) -> None:
    """A relay stopped with a session store says so in a sentence (it read ``… event=kept count=0``)."""
    port = free_port()
    proc = start("--host", "127.0.0.1", "--port", str(port), "--log-format", fmt,
                 "--session-store", str(tmp_path / "sessions.sqlite3"))
    try:
        if fmt == "human":
            wait_listening(proc)
        else:
            assert proc.stderr is not None
            events: list[str] = []
            while "listening" not in events and len(events) < 5 and (line := proc.stderr.readline()):
                events.append(json.loads(line).get("event", ""))
            assert "listening" in events, events
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=T)
        kept = [line for line in err.splitlines() if "keeping 0 session(s)" in line]
        assert len(kept) == 1, err
        if fmt == "human":
            assert kept[0].startswith("cobrowse relay: keeping 0 session(s) in ") and "=" not in kept[0], kept
        else:
            assert json.loads(kept[0])["event"] == "kept" and json.loads(kept[0])["count"] == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=T)
