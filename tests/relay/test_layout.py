"""The relay's modules stay small and talk through public interfaces (issue 12): none over
500 lines, and the parts around the server (one connection, HTTP, the node bridge) use the
RelayHost interface, never the server's private members."""

from __future__ import annotations

import re
from pathlib import Path

RELAY = Path(__file__).resolve().parents[2] / "relay"


def test_no_relay_module_is_over_500_lines() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in RELAY.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 500} == {}


def test_the_parts_around_the_server_use_its_public_interface_only() -> None:
    for name in ("handler.py", "http.py", "nodes.py", "connection.py", "outputs.py"):
        text = (RELAY / name).read_text()
        assert not re.findall(r"server\._[a-z]", text), name
        assert "from relay.server import" not in text and "import relay.server" not in text, name


def test_websockets_internals_are_not_patched() -> None:
    for path in RELAY.glob("*.py"):
        assert "drain_waiters" not in path.read_text(), path.name
