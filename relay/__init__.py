"""The cobrowse relay: pairs the two sides of a session by nameplate and forwards sealed frames.

It never holds a key and never sees plaintext: it imports only ``cobrowse.wire`` and
``cobrowse.errors`` (an import-linter contract checks this). One module, one job:

- ``relay.rooms``: the pure state machine (pairing, grace, expiry, quotas, events)
- ``relay.server``: the websockets layer (forwarding, timeouts, back-pressure, HTTP, TLS)
- ``relay.config``: the settings; ``relay.cli``: the ``cobrowse relay`` command and actions
- ``relay.tokens``: agent/admin tokens and the token store; ``relay.limits``: the byte rate
- ``relay.metrics``: Prometheus; ``relay.audit``: the audit log; ``relay.logs``: log formats
- ``relay.admin``: the ``/admin/`` endpoint

See docs/relay.md for the admin's view.

``serve_relay`` and ``RelayConfig`` are importable from here; they load lazily so that
importing the pure ``relay.rooms`` does not pull in asyncio and websockets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from relay.config import RelayConfig
    from relay.server import RelayServer, serve_relay

__all__ = ["RelayConfig", "RelayServer", "serve_relay"]


def __getattr__(name: str) -> Any:
    if name == "RelayConfig":
        from relay.config import RelayConfig

        return RelayConfig
    if name in ("serve_relay", "RelayServer"):
        from relay import server

        return getattr(server, name)
    raise AttributeError(f"module 'relay' has no attribute {name!r}")
