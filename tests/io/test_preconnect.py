"""The relay's TCP connection opened while cobrowse imports (cobrowse.io.preconnect): only
when the command line or the environment alone name the relay and no proxy applies, and the
socket serves only the URL it was opened for."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from cobrowse.io import preconnect
from cobrowse.io.link import RelayLink
from cobrowse.io.preconnect import early_relay


URL = "ws://relay.example.net:8765"


@pytest.mark.parametrize(("args", "env", "expected"), [
    (["CODE", "--relay", URL], {}, URL),
    (["CODE", f"--relay={URL}"], {}, URL),
    (["CODE"], {"COBROWSE_RELAY": URL}, URL),
    (["CODE", "--relay", URL], {"COBROWSE_RELAY": "ws://other:1"}, URL),
    (["CODE"], {"COBROWSE_CONFIG": os.devnull}, None),  # the default relay: no early connection
    (["CODE", "--relay", "http://x"], {}, None),
    (["CODE", "--relay", URL, "--proxy", "http://proxy:3128"], {}, None),
    (["CODE", "--relay", URL, "--pro", "http://proxy:3128"], {}, None),  # an abbreviation argparse takes
    (["CODE", "--relay", URL, "--no-proxy"], {}, None),
    (["CODE", "--rel", URL], {}, None),
    (["CODE", "--relay", URL], {"HTTP_PROXY": "http://proxy:3128"}, None),
    (["CODE", "--relay", URL], {"http_proxy": "http://proxy:3128"}, None),
    (["CODE", "--relay", "wss://relay.example.net"], {"HTTPS_PROXY": "http://proxy:3128"}, None),
    (["CODE", "--relay", URL], {"HTTPS_PROXY": "http://proxy:3128"}, URL),  # curl's rules: not for ws://
    (["CODE", "--relay", URL], {"ALL_PROXY": "socks5://proxy:1080"}, None),
    (["CODE", "--relay", URL], {"HTTP_PROXY": "http://proxy:3128", "NO_PROXY": "relay.example.net"}, URL),
    (["CODE", "--relay", "ws://127.0.0.1:9"], {"HTTPS_PROXY": "http://proxy:3128"}, "ws://127.0.0.1:9"),
    (["CODE", "--relay", URL], {"HTTP_PROXY": "ftp://not a proxy::"}, None),
    (["CODE", "--command", "curl --proxy x", "--relay", URL], {}, URL),  # a value, not a flag
])
def test_early_relay_only_when_args_and_env_decide_and_no_proxy_applies(args: list[str], env: dict[str, str],
                                                                        expected: str | None) -> None:
    assert early_relay(args, env) == expected


async def test_the_link_takes_the_early_socket_and_only_for_its_url(relay_url: str) -> None:
    port = int(relay_url.rsplit(":", 1)[1])
    preconnect.start(["CODE", "--relay", relay_url], {})
    other = await preconnect.take("ws://127.0.0.1:1")
    assert other is None  # another URL: not handed out (and closed)
    preconnect.start(["CODE", "--relay", relay_url], {})
    sock = await preconnect.take(relay_url)
    assert isinstance(sock, socket.socket) and sock.getpeername()[1] == port
    sock.close()
    assert await preconnect.take(relay_url) is None  # once


async def test_a_joined_link_uses_the_early_socket(relay_url: str) -> None:
    preconnect.start(["CODE", "--relay", relay_url], {})
    link = RelayLink(relay_url, "agent")
    nameplate = await link.open()
    try:
        assert nameplate
        ws = link._ws
        assert ws is not None and preconnect._pending is None
    finally:
        await link.close()


async def test_a_failed_early_connect_leaves_the_links_own_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    url = f"ws://127.0.0.1:{port}"
    preconnect.start(["CODE", "--relay", url], {})
    link = RelayLink(url, "customer")
    with pytest.raises(Exception) as caught:
        await link.claim("42")
    assert f"cannot reach the relay at {url}" in str(caught.value)
    await asyncio.sleep(0)


def test_the_config_files_relay_as_the_settings_read_it(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('relay = "ws://relay.example.net:8765"\nname = "Ann"\n')
    env = {"COBROWSE_CONFIG": str(config)}
    assert early_relay(["CODE"], env) == URL
    assert early_relay(["CODE"], {**env, "COBROWSE_RELAY": "ws://other.example.net"}) == "ws://other.example.net"
    assert early_relay(["CODE"], {**env, "HTTP_PROXY": "http://proxy:3128"}) is None
    config.write_text("relay = [not toml")
    assert early_relay(["CODE"], env) is None  # the settings report it; no early connection
    assert early_relay(["CODE"], {"COBROWSE_CONFIG": str(tmp_path / "missing.toml")}) is None


def test_an_ascii_relay_name_is_resolved_without_the_idna_codec() -> None:
    """An ASCII host (a name or an address) goes to getaddrinfo as bytes: the IDNA codec (and
    stringprep) stay out of a join's start-up; the connection is the same."""
    import json
    import subprocess
    import sys

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        code = ("import asyncio, json, os, sys\n"
                "from cobrowse.io import preconnect\n"
                f"url = 'ws://127.0.0.1:{port}/'\n"
                "preconnect.start(['--relay', url], {'PATH': os.environ.get('PATH', '')})\n"
                "sock = asyncio.run(preconnect.take(url))\n"
                "print(json.dumps({'connected': sock is not None and sock.getpeername()[1] == %d,\n"
                "                  'idna': 'encodings.idna' in sys.modules}))" % port)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True,
                             cwd=Path(__file__).resolve().parents[2])
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"connected": True, "idna": False}
