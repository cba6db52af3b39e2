"""ICE servers from the relay: the pure credential code, the wire field, and a real coturn.

The coturn test runs `turnserver` on a free loopback port with use-auth-secret, takes the
credentials a real relay hands both sides of a real session (through RelayLink, as the
voice code will) and allocates with them using aioice's TURN client, then relays a datagram
between the two allocations; credentials made with a wrong secret or already expired are
refused. It skips only when `turnserver` is not installed.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest

from cobrowse.errors import ConfigError
from cobrowse.io.link import RelayLink, Resumed
from cobrowse.wire.envelope import Claimed, MalformedMessage, Opened, Resumed as ResumedMsg, decode_relay
from relay.config import RelayConfig, load_config
from relay.rooms import Rooms
from relay.server import RelayServer, serve_relay
from relay.turn import ice_servers, turn_credentials

SECRET = "test-turn-secret-0123456789abcdef"
T = 10.0


# ---- pure ----


def test_credentials_follow_the_turn_rest_convention() -> None:
    username, credential = turn_credentials(SECRET, "abc123-agent", 1_700_000_000)
    assert username == "1700000000:abc123-agent"
    expected = hmac.new(SECRET.encode(), username.encode(), hashlib.sha1).digest()
    assert base64.b64decode(credential) == expected
    assert len(base64.b64decode(credential)) == 20  # SHA-1


def test_label_cannot_hold_the_separator() -> None:
    with pytest.raises(ValueError, match="':'"):
        turn_credentials(SECRET, "a:b", 1)


def test_ice_servers_shape() -> None:
    assert ice_servers((), (), "", 3600, "s-agent", 1000.0) == []
    only_stun = ice_servers(("stun:h:3478",), (), SECRET, 3600, "s-agent", 1000.0)
    assert only_stun == [{"urls": ["stun:h:3478"]}]
    both = ice_servers(("stun:h:3478",), ("turn:h:3478?transport=udp", "turns:h:5349"), SECRET, 600, "s-agent", 1000.5)
    assert both[0] == {"urls": ["stun:h:3478"]}
    assert both[1]["urls"] == ["turn:h:3478?transport=udp", "turns:h:5349"]
    assert both[1]["username"] == "1600:s-agent"
    assert both[1]["credential"] == turn_credentials(SECRET, "s-agent", 1600)[1]
    bare = ice_servers((), ("turn:h:3478",), "", 600, "s-agent", 1000.0)
    assert bare == [{"urls": ["turn:h:3478"]}]


def test_config_validates_ice_settings() -> None:
    cfg = load_config(env={
        "COBROWSE_RELAY_STUN_URLS": "stun:turn.example.com:3478",
        "COBROWSE_RELAY_TURN_URLS": "turn:turn.example.com:3478?transport=udp,turns:turn.example.com:5349",
        "COBROWSE_RELAY_TURN_SECRET": SECRET,
        "COBROWSE_RELAY_TURN_TTL": "600",
    })
    assert cfg.stun_urls == ("stun:turn.example.com:3478",)
    assert cfg.turn_urls == ("turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349")
    assert cfg.turn_ttl == 600.0 and cfg.turn_secret == SECRET
    assert RelayConfig().turn_ttl == 3600.0 and not RelayConfig().ice_configured
    with pytest.raises(ConfigError, match="'stun_urls' from environment variable COBROWSE_RELAY_STUN_URLS.*stun:"):
        load_config(env={"COBROWSE_RELAY_STUN_URLS": "turn:h:3478"})
    with pytest.raises(ConfigError, match="turn_urls.*turn/turns"):
        RelayConfig(turn_urls=("http://h",))
    with pytest.raises(ConfigError, match="at most 8"):
        RelayConfig(stun_urls=tuple(f"stun:h{i}:3478" for i in range(9)))
    with pytest.raises(ConfigError, match="turn_secret.*16 characters") as info:
        RelayConfig(turn_secret="s3cr3t")
    assert "s3cr3t" not in str(info.value)  # a secret is never echoed
    with pytest.raises(ConfigError, match="turn_ttl"):
        RelayConfig(turn_ttl=1)
    warnings = RelayConfig(turn_urls=("turn:h:3478",)).security_warnings(stored_tokens=1)
    assert any("without turn_secret" in w for w in warnings)


def test_envelope_carries_and_checks_ice_servers() -> None:
    servers = [{"urls": ["stun:h:1"]}, {"urls": "turn:h:1", "username": "1:x", "credential": "c"}]
    for msg in (Opened("4", "s", 30, servers), Claimed("4", "s", servers), ResumedMsg("4", True, servers)):
        assert decode_relay(msg.encode()) == msg
    # absent: an empty list (older relays)
    assert decode_relay('{"type":"claimed","nameplate":"4","side":"s"}') == Claimed("4", "s", [])
    bad = [
        '"stun:h:1"', '[1]', '[{"urls": 5}]', '[{"urls": []}]', '[{"urls": ["stun:h", 3]}]',
        '[{"urls": "turn:h", "username": 1}]', '[{"urls": "turn:h", "credential": null}]', '[{}]',
    ]
    for value in bad:
        with pytest.raises(MalformedMessage, match="(?i)ice"):
            decode_relay('{"type":"claimed","nameplate":"4","side":"s","ice_servers":%s}' % value)


def test_rooms_give_each_side_its_own_servers() -> None:
    asked: list[tuple[str, str]] = []

    def ice_for(session_id: str, role: str) -> list[dict[str, object]]:
        asked.append((session_id, role))
        return [{"urls": [f"turn:{role}"]}]

    import random

    from cobrowse.wire.envelope import Claim, Confirm, Open, Resume

    rooms = Rooms(RelayConfig(), random.Random(1), iter(f"t{i}" for i in range(99)).__next__, ice_for=ice_for)
    rooms.connected("a", "1.1.1.1")
    rooms.connected("c", "2.2.2.2")
    opened = rooms.receive("a", Open("agent", 1), 0).to("a")[0]
    assert isinstance(opened, Opened) and opened.ice_servers == [{"urls": ["turn:agent"]}]
    claimed = rooms.receive("c", Claim("customer", 1, opened.nameplate), 1).to("c")[0]
    assert isinstance(claimed, Claimed) and claimed.ice_servers == [{"urls": ["turn:customer"]}]
    rooms.receive("a", Confirm(), 1)
    rooms.disconnected("c", 2)
    rooms.connected("c2", "2.2.2.2")
    resumed = rooms.receive("c2", Resume(opened.nameplate, claimed.side), 3).to("c2")[0]
    assert isinstance(resumed, ResumedMsg) and resumed.ice_servers == [{"urls": ["turn:customer"]}]
    assert [role for _, role in asked] == ["agent", "customer", "customer"]
    assert len({sid for sid, _ in asked}) == 1


async def test_relay_without_ice_settings_sends_an_empty_list(relay: RelayServer, relay_url: str) -> None:
    agent = RelayLink(relay_url, "agent")
    await agent.open()
    try:
        assert agent.ice_servers == []
    finally:
        await agent.close()


# ---- against a real coturn ----


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[int]:
    """A real coturn on a free loopback port, use-auth-secret with SECRET; yields its port."""
    binary = shutil.which("turnserver")
    if binary is None:
        pytest.skip("coturn's turnserver is not installed (apt-get install coturn; .ci/run does it)")
    port = _free_udp_port()
    relay_lo = 50000 + port % 10000
    log = tmp_path / "turn.log"
    proc = subprocess.Popen(
        [binary, "-n", "--listening-ip=127.0.0.1", f"--listening-port={port}", "--relay-ip=127.0.0.1",
         "--use-auth-secret", f"--static-auth-secret={SECRET}", "--realm=cobrowse", "--no-cli",
         "--no-tls", "--no-dtls", f"--min-port={relay_lo}", f"--max-port={relay_lo + 20}",
         "--allow-loopback-peers", "--fingerprint", f"--pidfile={tmp_path / 'turn.pid'}",
         f"--userdb={tmp_path / 'turndb'}", f"--log-file={log}", "--simple-log", "--no-stdout-log"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + T
        while time.monotonic() < deadline:
            if log.exists() and "turn server id=0 created" in log.read_text(errors="replace"):
                break
            if proc.poll() is not None:
                pytest.fail(f"turnserver exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)
        else:
            pytest.fail("turnserver did not start within 10 s")
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture
async def turn_relay(coturn: int) -> AsyncIterator[RelayServer]:
    server = await serve_relay(RelayConfig(
        host="127.0.0.1", port=0, grace=5.0,
        stun_urls=(f"stun:127.0.0.1:{coturn}",),
        turn_urls=(f"turn:127.0.0.1:{coturn}?transport=udp",),
        turn_secret=SECRET, turn_ttl=600,
    ))
    try:
        yield server
    finally:
        server.close()
        await server.wait_closed()


class _Inbox(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.got: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.got.put_nowait((data, addr))


async def _allocate(port: int, username: str, credential: str) -> tuple[object, _Inbox]:
    from aioice.turn import create_turn_endpoint

    async with asyncio.timeout(T):
        return await create_turn_endpoint(_Inbox, ("127.0.0.1", port), username, credential, lifetime=60)


def _turn_entry(servers: list[dict[str, object]]) -> dict[str, object]:
    entries = [s for s in servers if any(str(u).startswith("turn:") for u in s["urls"])]  # type: ignore[attr-defined]
    assert len(entries) == 1, servers
    return entries[0]


async def test_coturn_accepts_the_relays_credentials_and_relays_between_sides(
    coturn: int, turn_relay: RelayServer
) -> None:
    url = f"ws://127.0.0.1:{turn_relay.port}"
    agent, customer = RelayLink(url, "agent"), RelayLink(url, "customer")
    nameplate = await agent.open()
    await customer.claim(nameplate)
    await agent.confirm()  # as the agent's client does once the handshake succeeded
    runs = [asyncio.create_task(agent.run()), asyncio.create_task(customer.run())]
    transports = []
    try:
        assert agent.ice_servers[0] == {"urls": [f"stun:127.0.0.1:{coturn}"]}
        a_turn, c_turn = _turn_entry(agent.ice_servers), _turn_entry(customer.ice_servers)
        assert a_turn["username"] != c_turn["username"]  # one per side
        expiry = int(str(a_turn["username"]).split(":")[0])
        assert 590 <= expiry - time.time() <= 601

        (ta, inbox_a), (tc, inbox_c) = [
            await _allocate(coturn, str(e["username"]), str(e["credential"])) for e in (a_turn, c_turn)
        ]
        transports += [ta, tc]
        addr_a, addr_c = ta.get_extra_info("sockname"), tc.get_extra_info("sockname")  # relayed addresses
        assert addr_a[0] == "127.0.0.1" and addr_a != addr_c
        # each side permits the other (a send installs the permission), then data flows both ways
        got = None
        async with asyncio.timeout(T):
            while got is None:
                ta.sendto(b"hello from the agent", addr_c)
                tc.sendto(b"hello from the customer", addr_a)
                try:
                    async with asyncio.timeout(0.5):
                        got = await inbox_c.got.get()
                except TimeoutError:
                    pass
        assert got == (b"hello from the agent", addr_a)

        # a resume brings fresh credentials
        customer.abort()
        async with asyncio.timeout(T):
            while not isinstance(await customer.items.get(), Resumed):
                pass
        assert _turn_entry(customer.ice_servers)["username"].endswith(  # type: ignore[union-attr]
            str(c_turn["username"]).split(":", 1)[1]
        )
        t3, _ = await _allocate(coturn, str(_turn_entry(customer.ice_servers)["username"]),
                                str(_turn_entry(customer.ice_servers)["credential"]))
        transports.append(t3)
    finally:
        for t in transports:
            t.close()  # type: ignore[attr-defined]
        await agent.close()
        for task in runs:
            task.cancel()
        await asyncio.gather(*runs, return_exceptions=True)


async def test_coturn_refuses_a_wrong_secret_and_expired_credentials(coturn: int) -> None:
    from aioice.stun import TransactionFailed

    wrong = turn_credentials("another-secret-0123456789", "s1-agent", int(time.time()) + 600)
    expired = turn_credentials(SECRET, "s1-agent", int(time.time()) - 5)
    for username, credential in (wrong, expired):
        with pytest.raises(TransactionFailed) as info:
            await _allocate(coturn, username, credential)
        assert info.value.response.attributes["ERROR-CODE"][0] == 401
    good = turn_credentials(SECRET, "s1-agent", int(time.time()) + 600)
    transport, _ = await _allocate(coturn, *good)
    transport.close()  # type: ignore[attr-defined]


def test_compose_runs_coturn_with_the_relays_secret() -> None:
    """docker-compose.yml: coturn's static-auth-secret is the relay's turn_secret, same port."""
    compose = (Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text()
    relay_part, coturn_part = compose.split("\n  coturn:", 1)
    assert '"--use-auth-secret"' in coturn_part and '"--listening-port=3478"' in coturn_part
    assert '"--static-auth-secret=${TURN_SECRET:?' in coturn_part
    assert 'COBROWSE_RELAY_TURN_SECRET: "${TURN_SECRET:?' in relay_part
    assert "COBROWSE_RELAY_TURN_URLS: \"turn:${TURN_HOST}:3478?transport=udp" in relay_part
    assert "COBROWSE_RELAY_STUN_URLS: \"stun:${TURN_HOST:?" in relay_part


def _compose_coturn_args() -> list[str]:
    """The coturn command of docker-compose.yml, as a list of its arguments."""
    compose = (Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text()
    block = compose.split("\n  coturn:", 1)[1].split("\n    command:\n", 1)[1]
    args = []
    for line in block.splitlines():
        stripped = line.strip()
        if not stripped.startswith('- "'):
            if stripped and not stripped.startswith("#"):
                break
            continue
        args.append(stripped[3:stripped.index('"', 3)])
    return args


@pytest.mark.parametrize("deny_list", [True, False], ids=["compose", "control-without-its-deny-list"])
async def test_the_compose_coturn_command_runs_and_denies_private_peers(tmp_path: Path, deny_list: bool) -> None:
    """docker-compose.yml's own coturn arguments on a real coturn (ports, addresses, files moved
    to this test's): it starts with TLS, allocates for the relay's credentials, and refuses to
    relay to a peer in its deny list (SSRF through TURN). coturn denies loopback peers by
    itself, so both runs allow them and only the compose file's list stands in the way: the
    control run, without that list, does relay."""
    binary = shutil.which("turnserver")
    if binary is None:
        pytest.skip("coturn's turnserver is not installed (apt-get install coturn; .ci/run does it)")
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (apt-get install openssl)")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=turn.test",
                    "-keyout", str(tmp_path / "privkey.pem"), "-out", str(tmp_path / "fullchain.pem")],
                   check=True, capture_output=True, timeout=60)
    port, tls_port = _free_udp_port(), _free_udp_port()
    relay_lo = 50000 + port % 10000
    moved = {"--listening-port": str(port), "--tls-listening-port": str(tls_port), "--min-port": str(relay_lo),
             "--max-port": str(relay_lo + 20), "--cert": str(tmp_path / "fullchain.pem"),
             "--pkey": str(tmp_path / "privkey.pem"), "--log-file": str(tmp_path / "turn.log"),
             "--static-auth-secret": SECRET, "--realm": "cobrowse", "--external-ip": "127.0.0.1"}
    args = []
    for arg in _compose_coturn_args():
        name = arg.split("=", 1)[0]
        args.append(f"{name}={moved[name]}" if name in moved else arg)
    assert any(a.startswith("--denied-peer-ip=127.0.0.0") for a in args) and "--no-tlsv1" in args
    if not deny_list:
        args = [a for a in args if not a.startswith("--denied-peer-ip=")]
    args.append("--allow-loopback-peers")
    log = tmp_path / "turn.log"
    proc = subprocess.Popen([binary, *args, "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", "--simple-log",
                             "--no-stdout-log", f"--pidfile={tmp_path / 'turn.pid'}", f"--userdb={tmp_path / 'turndb'}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peer = None
    try:
        async with asyncio.timeout(T):
            while not (log.exists() and "turn server id=0 created" in log.read_text(errors="replace")):
                assert proc.poll() is None, f"turnserver exited: {log.read_text(errors='replace')[-2000:]}"
                await asyncio.sleep(0.05)
        text = log.read_text(errors="replace")
        assert "TLS" in text and "Bad configuration" not in text
        transport, _ = await _allocate(port, *turn_credentials(SECRET, "s1-agent", int(time.time()) + 600))
        loop = asyncio.get_running_loop()
        peer, inbox = await loop.create_datagram_endpoint(_Inbox, local_addr=("127.0.0.1", 0))
        target = peer.get_extra_info("sockname")
        for _ in range(5):
            transport.sendto(b"to a loopback peer", target)  # type: ignore[attr-defined]
            await asyncio.sleep(0.1)
        if deny_list:
            await asyncio.sleep(0.5)
            assert inbox.got.empty(), "coturn relayed to a denied (loopback) peer"
        else:
            async with asyncio.timeout(T):
                assert (await inbox.got.get())[0] == b"to a loopback peer"
        transport.close()  # type: ignore[attr-defined]
    finally:
        if peer is not None:
            peer.close()
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
