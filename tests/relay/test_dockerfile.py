"""The Dockerfile, checked without a Docker engine: its CMD and HEALTHCHECK are run here.

The CMD runs with the image's ENV plus settings as `docker run -e` would give them (a free
port, host 127.0.0.1: loopback only in tests); the HEALTHCHECK command must then exit 0
against it, as Docker would run it, with or without TLS, and fail once it stopped.
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


def image_env() -> dict[str, str]:
    """The image's ENV lines (the values the CMD and the health check run with)."""
    env: dict[str, str] = {}
    for word, args in instructions():
        if word == "ENV":
            env.update(dict(re.findall(r"(\w+)=(\S+)", args)))
    return env


def run_image_commands(tmp_path: Path, settings: dict[str, str]) -> None:
    """The CMD as Docker runs it (the image's ENV, then ``settings`` as ``docker run -e``), then
    the HEALTHCHECK against it: healthy while it runs, unhealthy once it stopped."""
    cmd = exec_form(one("CMD"))
    assert cmd[:2] == ["cobrowse", "relay"] and "--host" not in cmd and "--port" not in cmd  # env and file decide
    argv = relay_launcher() + cmd[2:]
    check = healthcheck_argv()
    assert check[0] == "python"
    check[0] = sys.executable  # the image's python is the venv's here
    env = {k: v for k, v in os.environ.items() if not k.startswith("COBROWSE_RELAY")}
    env.update(image_env())
    assert env["COBROWSE_RELAY_HOST"] == "0.0.0.0"
    assert env["COBROWSE_DATA_DIR"] == "/data"  # the volume: the session store is on in the image
    (tmp_path / "data").mkdir(exist_ok=True)
    env["COBROWSE_DATA_DIR"] = str(tmp_path / "data")  # the image's /data, here
    env.update({"COBROWSE_RELAY_HOST": "127.0.0.1", **settings})  # loopback only in tests
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        deadline, said = time.monotonic() + T, []
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            said.append(line)
            if not line or "listening on" in line:
                break
        assert not any("survive a restart" in line for line in said), said  # the store could be opened
        assert list((tmp_path / "data").glob("relay-sessions-*.sqlite3")), "no session store in the data volume"
        assert proc.poll() is None, f"relay exited: {shlex.join(argv)}"
        result = subprocess.run(check, capture_output=True, text=True, timeout=T, env=env, cwd=ROOT)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("healthy: http")
        proc.terminate()
        _, err = proc.communicate(timeout=T)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=T)
    after = subprocess.run(check, capture_output=True, text=True, timeout=T, env=env, cwd=ROOT)
    assert after.returncode != 0 and "unhealthy" in after.stderr


def test_cmd_and_healthcheck_follow_the_port_from_the_environment(tmp_path: Path) -> None:
    run_image_commands(tmp_path, {"COBROWSE_RELAY_PORT": str(free_port())})


def test_cmd_and_healthcheck_follow_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "relay.toml"
    config.write_text(f"[relay]\nport = {free_port()}\n")
    run_image_commands(tmp_path, {"COBROWSE_RELAY_CONFIG": str(config)})


def test_healthcheck_speaks_tls_when_the_relay_does(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (apt-get install openssl)")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=relay.example.com",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True, timeout=60)
    run_image_commands(tmp_path, {"COBROWSE_RELAY_PORT": str(free_port()),
                                  "COBROWSE_RELAY_TLS_CERT": str(tmp_path / "cert.pem"),
                                  "COBROWSE_RELAY_TLS_KEY": str(tmp_path / "key.pem")})


@pytest.mark.parametrize("name", ["CMD", "HEALTHCHECK"])
def test_exec_forms_parse(name: str) -> None:
    assert exec_form(one("CMD")) if name == "CMD" else healthcheck_argv()


def test_the_token_store_is_in_the_data_volume(tmp_path: Path) -> None:
    """`cobrowse relay token create` in the container wrote the store into the container's home
    (COBROWSE_DATA_DIR does not move it), lost with the container; the image's ENV puts it in
    the data volume, where the relay (the same settings) reads it."""
    data, home = tmp_path / "data", tmp_path / "home"
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COBROWSE_RELAY")}
    env.update({k: v.replace("/data", str(data), 1) if v.startswith("/data") else v for k, v in image_env().items()})
    env.update({"HOME": str(home), "XDG_DATA_HOME": str(home / ".local" / "share"), "COBROWSE_CONFIG": os.devnull})
    made = subprocess.run(relay_launcher() + ["token", "create", "--name", "alice"], capture_output=True, text=True,
                          timeout=60, env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert (data / "relay-tokens.json").exists() and not list(home.rglob("relay-tokens.json"))
    assert str(data / "relay-tokens.json") in made.stderr
