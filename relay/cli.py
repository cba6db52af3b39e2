"""``cobrowse relay``: run a relay until SIGINT/SIGTERM.

Exit status is what service managers and scripts read: 0 after a signal (a normal stop),
2 with one line on stderr when the relay cannot start (bad settings, port in use).
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import signal
import sys

from cobrowse.errors import ConfigError
from relay.config import RelayConfig, load_config

_FLAGS = ("host", "port", "grace", "unclaimed_ttl", "max_frame_bytes")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the relay's flags (values are validated by load_config, not argparse)."""
    parser.add_argument("--host", metavar="H", help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    parser.add_argument("--port", metavar="P", help="port to listen on (default 8765; 0 picks a free one)")
    parser.add_argument("--config", metavar="FILE", help="TOML file with a [relay] table (or COBROWSE_RELAY_CONFIG)")
    parser.add_argument("--grace", metavar="S", help="seconds a dropped side may come back (default 60)")
    parser.add_argument(
        "--unclaimed-ttl", dest="unclaimed_ttl", metavar="S", help="seconds a code waits to be used (default 600)"
    )
    parser.add_argument(
        "--max-frame-bytes", dest="max_frame_bytes", metavar="N", help="largest frame forwarded (default 262144)"
    )


def config_from_args(args: argparse.Namespace) -> RelayConfig:
    """Flags > COBROWSE_RELAY_* env > config file > defaults."""
    flags = {name: getattr(args, name, None) for name in _FLAGS}
    return load_config(path=getattr(args, "config", None), flags=flags)


def _setup_logging() -> None:
    logger = logging.getLogger("relay")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("cobrowse relay: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    logging.getLogger("relay.websockets").setLevel(logging.WARNING)


def _bind_error(config: RelayConfig, exc: OSError) -> str:
    where = f"{config.host}:{config.port}"
    if exc.errno == errno.EADDRINUSE:
        why = "the port is already in use (is another relay running?)"
    elif exc.errno == errno.EACCES:
        why = "permission denied (ports below 1024 need privileges)"
    elif exc.errno == errno.EADDRNOTAVAIL:
        why = "this machine has no such address"
    else:
        why = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return f"cobrowse relay: cannot listen on {where}: {why}"


async def _serve(config: RelayConfig) -> int:
    from relay.server import serve_relay

    try:
        server = await serve_relay(config)
    except OSError as exc:
        print(_bind_error(config, exc), file=sys.stderr)
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not on the main thread
            pass
    http = server.url.replace("ws://", "http://", 1)
    print(f"cobrowse relay listening on {server.url} (health: {http}/healthz)", file=sys.stderr, flush=True)
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the relay with the parsed flags; return the exit status."""
    try:
        config = config_from_args(args)
    except ConfigError as exc:
        print(f"cobrowse relay: {exc}", file=sys.stderr)
        return 2
    _setup_logging()
    try:
        return asyncio.run(_serve(config))
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        return 0
