"""What the admin who runs the relay meets (qa9's walk): real relay processes on 127.0.0.1,
a real redis-server, the CLI as a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.relay.listening import wait_until_listening
from tests.relay.test_cli import ROOT, free_port, start

T = 10.0


def _stop(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=T + 15)
    return err


def test_a_second_relay_on_the_same_session_store_is_refused_and_the_first_keeps_it(tmp_path: Path) -> None:
    """Two relays sharing one session store would each take back (and end) the other's
    sessions on a restart; the second must stop at start, say which file and why, exit 2."""
    store = tmp_path / "sessions.sqlite3"
    first = start("--host", "127.0.0.1", "--port", str(free_port()), "--session-store", str(store))
    lines: list[str] = []
    try:
        wait_until_listening(first, lines, T)
        second = start("--host", "127.0.0.1", "--port", str(free_port()), "--session-store", str(store))
        try:
            _, err = second.communicate(timeout=T)
        finally:
            second.kill()
        assert second.returncode == 2, err
        said = err.strip().splitlines()
        assert len(said) == 1, said
        assert str(store) in said[0] and "another relay" in said[0] and "session_store" in said[0]
        assert first.poll() is None
    finally:
        err = _stop(first)
    assert first.returncode == 0, err
    assert "keeping 0 session(s) in" in err
    again = start("--host", "127.0.0.1", "--port", str(free_port()), "--session-store", str(store))
    try:
        wait_until_listening(again, [], T)  # the lock went with the first relay
    finally:
        _stop(again)
    assert again.returncode == 0


async def _pair(url: str) -> None:
    """A claim that fails (a wrong code: the creator releases it), then one that pairs."""
    import websockets

    async with websockets.connect(url) as agent:
        await agent.send(json.dumps({"type": "open", "role": "agent", "version": 1}))
        opened = json.loads(await agent.recv())
        nameplate = opened["nameplate"]
        async with websockets.connect(url) as wrong:
            await wrong.send(json.dumps({"type": "claim", "role": "customer", "version": 1, "nameplate": nameplate}))
            assert json.loads(await wrong.recv())["type"] == "claimed"
            await wrong.send(b"a guess")
            for _ in range(10):
                if json.loads(await agent.recv()).get("type") == "peer":
                    break
            await agent.send(json.dumps({"type": "release"}))
            for _ in range(10):
                msg = await asyncio.wait_for(agent.recv(), T)
                if isinstance(msg, str) and json.loads(msg).get("type") == "released":
                    break
        async with websockets.connect(url) as right:
            await right.send(json.dumps({"type": "claim", "role": "customer", "version": 1, "nameplate": nameplate}))
            assert json.loads(await right.recv())["type"] == "claimed"
            await agent.send(json.dumps({"type": "confirm"}))
            await right.send(b"hello")
            for _ in range(10):
                if await asyncio.wait_for(agent.recv(), T) == b"hello":
                    break


def _metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=T) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith(name + " ") or ("{" not in name and line.startswith(name + "{")):
                return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name}")


def test_a_wrong_code_is_not_counted_as_a_pairing_and_the_audit_log_says_what_happened(tmp_path: Path) -> None:
    """One session, one failed guess and one real pairing: the admin's dashboard shows one
    pairing (not two), and the audit log shows the released claim and the confirmation."""
    port = free_port()
    audit = tmp_path / "audit.jsonl"
    proc = start("--host", "127.0.0.1", "--port", str(port), "--session-store", "off", "--audit-log", str(audit))
    try:
        wait_until_listening(proc, [], T)
        asyncio.run(asyncio.wait_for(_pair(f"ws://127.0.0.1:{port}"), 3 * T))
        assert _metric(port, "cobrowse_relay_sessions_paired_total") == 1.0
    finally:
        err = _stop(proc)
    events = [json.loads(line)["event"] for line in audit.read_text().splitlines()]
    assert events.count("released") == 1 and events.count("confirmed") == 1, events
    assert events.index("released") < events.index("confirmed")
    assert "claimed" in err and "released" in err


def test_every_lifecycle_series_exists_from_the_start() -> None:
    """rate() and alerts need a zero before the first session: created by role, ended by reason."""
    port = free_port()
    proc = start("--host", "127.0.0.1", "--port", str(port), "--session-store", "off")
    try:
        wait_until_listening(proc, [], T)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=T) as resp:
            text = resp.read().decode()
    finally:
        _stop(proc)
    for series in ('cobrowse_relay_sessions_created_total{role="agent"} 0.0',
                   'cobrowse_relay_sessions_created_total{role="customer"} 0.0',
                   'cobrowse_relay_sessions_ended_total{reason="ended"} 0.0'):
        assert series in text


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_redis_down_at_start_says_one_thing() -> None:
    """Redis unreachable at start: one line naming Redis and what to check, exit 2; not a
    line about leaving a cluster it never joined."""
    with_nothing = free_port()
    proc = start("--host", "127.0.0.1", "--port", str(free_port()), "--redis", f"redis://127.0.0.1:{with_nothing}/0")
    _, err = proc.communicate(timeout=3 * T)
    assert proc.returncode == 2
    said = err.strip().splitlines()
    assert len(said) == 1, said
    assert "cannot use Redis" in said[0] and "redis-server" in said[0]


def test_a_misspelled_relay_variable_is_named_at_start() -> None:
    """COBROWSE_RELAY_IDEL_TIMEOUT would otherwise be ignored without a word (a file's unknown
    key stops the relay; the environment is shared with other programs, so a warning)."""
    port = free_port()
    env = {**os.environ, "COBROWSE_RELAY_IDEL_TIMEOUT": "60"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "relay", "--host", "127.0.0.1", "--port", str(port), "--session-store", "off"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    lines: list[str] = []
    try:
        wait_until_listening(proc, lines, T)
    finally:
        _stop(proc)
    said = [line for line in lines if "COBROWSE_RELAY_IDEL_TIMEOUT" in line]
    assert said and "COBROWSE_RELAY_IDLE_TIMEOUT" in said[0], lines


def test_the_relay_help_gives_the_relay_exit_statuses() -> None:
    out = subprocess.run([sys.executable, "-m", "cobrowse", "relay", "--help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=T).stdout
    tail = " ".join(out[out.index("exit status"):].split())
    assert "1 the relay refused an admin request" in tail and "3 relay unreachable" in tail
    assert "code refused" not in tail


def test_an_unreadable_key_is_named(tmp_path: Path) -> None:
    """Which of the two files could not be read, not only 'Permission denied'. Root reads every
    file: a root run starts the relay as nobody (setpriv)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl")
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("needs setpriv (util-linux) to run the relay as nobody")
        with tempfile.TemporaryDirectory() as where:  # pytest's tmp_path is in a folder only root may enter
            os.chmod(where, 0o755)
            _unreadable_key_as_nobody(Path(where))
        return
    cert = tmp_path / "cert.pem"
    key = tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True, timeout=3 * T)
    key.chmod(0)
    proc = start("--port", str(free_port()), "--tls-cert", str(cert), "--tls-key", str(key))
    _, err = proc.communicate(timeout=T)
    assert proc.returncode == 2
    assert f"cannot read the TLS key {str(key)!r}" in err


def _unreadable_key_as_nobody(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True, timeout=3 * T)
    cert.chmod(0o644)
    key.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COBROWSE_RELAY")}
    env["COBROWSE_DATA_DIR"] = str(tmp_path / "data")
    proc = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m", "relay",
         "--port", str(free_port()), "--session-store", "off", "--token-store", str(tmp_path / "t.json"),
         "--tls-cert", str(cert), "--tls-key", str(key)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=T,
    )
    assert proc.returncode == 2, proc.stderr
    said = proc.stderr.strip().splitlines()
    assert len(said) == 1 and f"cannot read the TLS key {str(key)!r}" in said[0], said


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COBROWSE_RELAY") and k != "COBROWSE_ADMIN_TOKEN"}
    return subprocess.run([sys.executable, "-m", "cobrowse", "relay", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=3 * T)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
def test_admin_commands_say_what_to_do_about_tls_and_a_relay_without_admin_tokens(tmp_path: Path) -> None:
    """The admin's first tries against a relay with its own certificate and no admin token
    configured: each failure names the way out (--cafile, https://, admin_tokens)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True, timeout=3 * T)
    port = free_port()
    proc = start("--host", "127.0.0.1", "--port", str(port), "--session-store", "off",
                 "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        wait_until_listening(proc, [], T)
        untrusted = _cli("sessions", "--url", f"https://127.0.0.1:{port}", "--admin-token", "cba_x")
        assert untrusted.returncode == 3 and "--cafile" in untrusted.stderr, untrusted.stderr
        plain = _cli("sessions", "--url", f"http://127.0.0.1:{port}", "--admin-token", "cba_x")
        assert plain.returncode == 3 and f"https://127.0.0.1:{port}" in plain.stderr, plain.stderr
        off = _cli("sessions", "--url", f"https://127.0.0.1:{port}", "--cafile", str(cert), "--admin-token", "cba_x")
        assert off.returncode == 1 and "admin_tokens" in off.stderr, off.stderr
        assert len(off.stderr.strip().splitlines()) == 1
    finally:
        _stop(proc)


async def _watch(url: str) -> None:
    import websockets

    async with websockets.connect(url) as agent:
        await agent.send(json.dumps({"type": "watch", "org": "0123456789abcdef", "version": 1}))
        await asyncio.wait_for(agent.recv(), T)  # the queue as it is (empty)


def test_help_queue_messages_are_timed_like_the_others() -> None:
    """control_seconds{type="watch"} (and enqueue, pick) existed but never counted."""
    port = free_port()
    proc = start("--host", "127.0.0.1", "--port", str(port), "--session-store", "off")
    try:
        wait_until_listening(proc, [], T)
        asyncio.run(_watch(f"ws://127.0.0.1:{port}"))
        assert _metric(port, 'cobrowse_relay_control_seconds_count{type="watch"}') == 1.0
    finally:
        _stop(proc)


async def _guess(url: str, times: int) -> list[str]:
    import websockets

    codes = []
    for i in range(times):
        async with websockets.connect(url) as guesser:
            await guesser.send(json.dumps({"type": "claim", "role": "customer", "version": 1, "nameplate": f"9{i}"}))
            codes.append(json.loads(await asyncio.wait_for(guesser.recv(), T)).get("code", ""))
    return codes


def test_the_log_says_why_and_how_long_an_address_is_blocked() -> None:
    """'refused: rate_limited (from 127.0.0.1)' left the admin to guess which limit and for how long."""
    port = free_port()
    proc = start("--host", "127.0.0.1", "--port", str(port), "--session-store", "off", "--rate-limit", "2",
                 "--rate-window", "90")
    try:
        wait_until_listening(proc, [], T)
        codes = asyncio.run(_guess(f"ws://127.0.0.1:{port}", 3))
    finally:
        err = _stop(proc)
    assert codes == ["unknown_nameplate", "unknown_nameplate", "rate_limited"]
    blocked = [line for line in err.splitlines() if "rate_limited" in line]
    assert blocked and "failed claims" in blocked[0] and "90 s" in blocked[0], blocked


@pytest.mark.parametrize("key", ["agent_tokens", "admin_tokens"])
def test_a_token_pasted_where_its_digest_belongs_is_refused_without_echoing_it(tmp_path: Path, key: str) -> None:
    secret = "cbt_" + "Q" * 40 if key == "agent_tokens" else "cba_" + "Q" * 40
    config = tmp_path / "relay.toml"
    config.write_text(f'[relay]\n{key} = ["{secret}"]\n')
    proc = start("--port", str(free_port()), "--config", str(config))
    _, err = proc.communicate(timeout=T)
    assert proc.returncode == 2
    assert secret not in err and "Q" * 40 not in err
    assert "not its sha256 digest" in err and len(err.strip().splitlines()) == 1


def test_the_redis_password_never_reaches_the_log() -> None:
    """docs/relay.md recommends redis://:password@host: the start and failure lines printed it."""
    proc = start("--port", str(free_port()), "--redis", f"redis://:hunter2secret@127.0.0.1:{free_port()}/0")
    _, err = proc.communicate(timeout=3 * T)
    assert proc.returncode == 2 and "cannot use Redis at redis://:***@127.0.0.1:" in err, err
    assert "hunter2secret" not in err
    typo = start("--port", str(free_port()), "--redis", "http://:hunter2secret@127.0.0.1:6379/0")
    _, err = typo.communicate(timeout=T)
    assert typo.returncode == 2 and "'redis'" in err and "hunter2secret" not in err, err


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_the_redis_password_is_not_in_the_joined_line(tmp_path: Path) -> None:
    redis_port = free_port()
    subprocess.run(["redis-server", "--port", str(redis_port), "--save", "", "--daemonize", "yes",
                    "--requirepass", "hunter2secret", "--pidfile", str(tmp_path / "redis.pid"), "--bind", "127.0.0.1"],
                   check=True, capture_output=True, timeout=T)
    try:
        proc = start("--host", "127.0.0.1", "--port", str(free_port()),
                     "--redis", f"redis://:hunter2secret@127.0.0.1:{redis_port}/0")
        lines: list[str] = []
        try:
            wait_until_listening(proc, lines, T)
        finally:
            err = _stop(proc)
        said = "".join(lines) + err
        assert "joined the cluster on redis://:***@127.0.0.1" in said and "hunter2secret" not in said
    finally:
        for _ in range(50):
            if (tmp_path / "redis.pid").exists():
                break
            time.sleep(0.1)
        os.kill(int((tmp_path / "redis.pid").read_text()), signal.SIGTERM)
