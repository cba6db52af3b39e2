"""The relay's TCP connection, opened while the rest of cobrowse imports.

``cobrowse join`` spends ~200 ms starting Python and importing before its first packet;
over a network the TCP connect to the relay (one round trip, plus DNS) can happen in
that time instead of after it. :func:`start` runs first thing in ``main`` (only the
standard library and the pure proxy rules are imported here), in a daemon thread; the
link's first connection takes the socket with :func:`take` and hands it to websockets'
``connect(..., sock=...)``, which does the upgrade (and TLS for ``wss://``) as usual.

The relay is found as the settings find it (``--relay``, ``COBROWSE_RELAY``, the config
file's ``relay``; the file is read in the thread); the early connection is made only when
no proxy applies to it (``--proxy``/``--no-proxy`` are not on the command line, and the
environment's proxy variables, as curl reads them, say "direct"): a proxied relay is
reached exactly as before, and a socket for another URL than the one the settings finally
chose (or when they chose a proxy) is closed unused.
"""

from __future__ import annotations

import concurrent.futures
import socket
import threading
from typing import Mapping, Sequence
from urllib.parse import urlsplit

#: Flags that change where or how the relay is reached, and any abbreviation argparse would
#: accept for them: with one of these the early connection is not attempted.
_PROXY_PREFIXES = ("--pr", "--no-p")
CONNECT_TIMEOUT = 10.0

Early = tuple[str, socket.socket]
_pending: concurrent.futures.Future[Early | None] | None = None


def early_relay(args: Sequence[str], env: Mapping[str, str]) -> str | None:
    """The relay URL the settings will choose (``--relay``, else ``COBROWSE_RELAY``, else the
    config file's ``relay``: cobrowse.cli.config.resolve's order) when no proxy applies to
    it; else None (no relay named, a proxy flag, an abbreviation argparse would expand)."""
    url: str | None = None
    words = list(args)
    for i, word in enumerate(words):
        if word == "--":
            break
        if word.startswith(_PROXY_PREFIXES):
            return None
        if word == "--relay":
            url = words[i + 1] if i + 1 < len(words) else None
        elif word.startswith("--relay="):
            url = word.split("=", 1)[1]
        elif word.startswith("--rel"):
            return None  # an abbreviation: let argparse decide
    url = url or env.get("COBROWSE_RELAY") or _config_relay(env)
    if url is None or not url.startswith(("ws://", "wss://")):
        return None
    from cobrowse.wire.proxy import ProxySettingError, choose_proxy

    try:
        if choose_proxy(url, env).url is not None:
            return None
    except ProxySettingError:
        return None
    return url


def _config_relay(env: Mapping[str, str]) -> str | None:
    """The config file's ``relay`` (the file cobrowse.cli.config.config_path names), if any."""
    from pathlib import Path

    explicit = env.get("COBROWSE_CONFIG")
    if explicit:
        path = Path(explicit)
    else:
        from cobrowse.io.datadir import config_dir

        path = config_dir() / "config.toml"
    try:
        if not path.is_file():
            return None
        import tomllib

        relay = tomllib.loads(path.read_text()).get("relay")
    except (OSError, ValueError):  # the settings report a bad file; no early connection
        return None
    return relay if isinstance(relay, str) else None


def _address(url: str) -> tuple[str, int] | None:
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "wss" else 80)
    except ValueError:
        return None
    return (parts.hostname, port) if parts.hostname else None


def _open(args: Sequence[str], env: Mapping[str, str], future: concurrent.futures.Future[Early | None]) -> None:
    sock: socket.socket | None = None
    try:
        url = early_relay(args, env)
        address = _address(url) if url else None
        if url is not None and address is not None:
            host, port = address
            # an ASCII name as bytes: getaddrinfo would load the IDNA codec (~1-2 ms) to encode it
            sock = socket.create_connection((host.encode("ascii") if host.isascii() else host, port),  # type: ignore[arg-type]
                                            timeout=CONNECT_TIMEOUT)
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException as exc:  # reported by take() as "no socket": the link connects itself
        future.set_exception(exc)
        return
    future.set_result((url, sock) if url is not None and sock is not None else None)


def start(args: Sequence[str], env: Mapping[str, str]) -> None:
    """Find the relay ``args`` (the command's arguments), ``env`` and the config file name and
    connect to it, in a daemon thread (reading the config file happens there too)."""
    global _pending
    future: concurrent.futures.Future[Early | None] = concurrent.futures.Future()
    _pending = future
    threading.Thread(target=_open, args=(list(args), dict(env), future), name="relay-preconnect",
                     daemon=True).start()


async def take(url: str) -> socket.socket | None:
    """The early socket for ``url`` (once), or None: none was started, none applied, it was
    for another URL, or it failed (the caller connects itself and reports its own error)."""
    global _pending
    future, _pending = _pending, None
    if future is None:
        return None
    import asyncio  # here: start() runs before anything heavy is imported

    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            early = await asyncio.wrap_future(future)
    except Exception:  # refused, unreachable, timed out: the link's own connect says so
        future.add_done_callback(_discard)
        return None
    if early is None:
        return None
    early_url, sock = early
    if early_url != url:  # the settings chose another relay after all
        sock.close()
        return None
    return sock


def forget() -> None:
    """Close an early socket nobody took (tests; a command that ended before connecting)."""
    global _pending
    future, _pending = _pending, None
    if future is not None:
        future.add_done_callback(_discard)


def _discard(future: concurrent.futures.Future[Early | None]) -> None:
    if not future.cancelled() and future.exception() is None:
        early = future.result()
        if early is not None:
            early[1].close()
