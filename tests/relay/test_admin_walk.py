"""What the admin who runs the relay meets (qa9's walk): real relay processes on 127.0.0.1,
a real redis-server, the CLI as a subprocess."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import urllib.request
from pathlib import Path


from tests.relay.listening import wait_until_listening
from tests.relay.test_cli import free_port, start

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
            if line.startswith(name + " ") or line.startswith(name + "{"):
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
