"""The relay's TCP connection, opened while the rest of cobrowse imports.

``cobrowse join`` spends ~200 ms starting Python and importing before its first packet;
over a network the TCP connect to the relay (one round trip, plus DNS) can happen in
that time instead of after it. :func:`start` runs first thing in ``main`` (only the
standard library and the pure proxy rules are imported here), in a daemon thread; the
link's first connection takes the socket with :func:`take` and hands it to websockets'
``connect(..., sock=...)``, which does the upgrade (and TLS for ``wss://``) as usual.

Only when nothing but the command line and the environment decide the relay (``--relay``
or ``COBROWSE_RELAY``) and no proxy applies to it (``--proxy``/``--no-proxy`` are not on
the command line, and the environment's proxy variables, as curl reads them, say
"direct"): a proxied or differently configured relay is reached exactly as before, and a
socket whose URL or proxy does not match what the settings finally chose is closed unused.
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

_pending: tuple[str, concurrent.futures.Future[socket.socket]] | None = None


def early_relay(args: Sequence[str], env: Mapping[str, str]) -> str | None:
    """The relay URL the settings will choose, when the command line or the environment
    decides it alone and no proxy applies; else None."""
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
    url = url or env.get("COBROWSE_RELAY") or None
    if url is None or not url.startswith(("ws://", "wss://")):
        return None
    from cobrowse.wire.proxy import ProxySettingError, choose_proxy

    try:
        if choose_proxy(url, env).url is not None:
            return None
    except ProxySettingError:
        return None
    return url


def _address(url: str) -> tuple[str, int] | None:
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "wss" else 80)
    except ValueError:
        return None
    return (parts.hostname, port) if parts.hostname else None


def _open(address: tuple[str, int], future: concurrent.futures.Future[socket.socket]) -> None:
    try:
        sock = socket.create_connection(address, timeout=CONNECT_TIMEOUT)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException as exc:  # reported by take() as "no socket": the link connects itself
        future.set_exception(exc)
        return
    if not future.set_running_or_notify_cancel():
        sock.close()
        return
    future.set_result(sock)


def start(args: Sequence[str], env: Mapping[str, str]) -> bool:
    """Begin connecting to the relay ``args`` (the command's arguments) and ``env`` name, in
    a daemon thread; False when the early connection does not apply."""
    global _pending
    url = early_relay(args, env)
    address = _address(url) if url else None
    if url is None or address is None:
        return False
    future: concurrent.futures.Future[socket.socket] = concurrent.futures.Future()
    _pending = (url, future)
    threading.Thread(target=_open, args=(address, future), name="relay-preconnect", daemon=True).start()
    return True


async def take(url: str) -> socket.socket | None:
    """The early socket for ``url`` (once), or None: none was started, it was for another
    URL, or it failed (the caller connects itself and reports its own error)."""
    global _pending
    pending, _pending = _pending, None
    if pending is None:
        return None
    import asyncio  # here: start() runs before anything heavy is imported

    early_url, future = pending
    if early_url != url:
        future.add_done_callback(_discard)
        return None
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            return await asyncio.wrap_future(future)
    except Exception:  # refused, unreachable, timed out: the link's own connect says so
        future.add_done_callback(_discard)
        return None


def forget() -> None:
    """Close an early socket nobody took (tests; a command that ended before connecting)."""
    global _pending
    pending, _pending = _pending, None
    if pending is not None:
        pending[1].add_done_callback(_discard)


def _discard(future: concurrent.futures.Future[socket.socket]) -> None:
    if not future.cancelled() and future.exception() is None:
        future.result().close()
