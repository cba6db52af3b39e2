"""``cobrowse relay``: run a relay until SIGTERM/SIGINT, or one admin action.

    cobrowse relay [--host H] [--port P] [--config FILE] [settings...]   run the relay
    cobrowse relay token create --name NAME [--store FILE]               a new agent token
    cobrowse relay token list [--json] | token revoke NAME
    cobrowse relay admin-token create                                    a new admin token
    cobrowse relay sessions [--url URL] [--admin-token T] [--json]       live sessions
    cobrowse relay kill ID [--url URL] [--admin-token T]                 end one session

Exit status is what service managers and scripts read: 0 after a signal (a normal stop) or
a done action, 1 when the relay refused an admin request (bad admin token, no such
session), 2 with one line on stderr for bad settings or usage (or a relay that cannot
start: port in use, unreadable certificate), 3 when the relay cannot be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import errno
import gc
import json
import logging
import os
import signal
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
from http.client import RemoteDisconnected
from typing import Any

from cobrowse.errors import ConfigError
from relay.cli_args import _SETTINGS
from relay.config import FIELD_NAMES, RelayConfig, load_config, unknown_env

log = logging.getLogger("relay")

assert set(_SETTINGS) <= set(FIELD_NAMES)

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


def config_from_args(args: argparse.Namespace) -> RelayConfig:
    """Flags > COBROWSE_RELAY_* env > config file > defaults."""
    flags = {name: getattr(args, name, None) for name in _SETTINGS}
    return load_config(path=getattr(args, "config", None), flags=flags)


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


def tune_gc() -> None:
    """A relay process holds thousands of connections, and under a connection flood each
    refused one leaves cyclic garbage: with CPython's default thresholds full collections
    then ran every few seconds and took up to 500 ms, a stall every client waited through
    (bench/relay_attack.py: p99 of an agent's open under attack 626 → 77-98 ms with these). What exists at
    start (modules, settings) is frozen out of the scans; young collections run less often."""
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


async def _serve(config: RelayConfig) -> int:
    from relay.server import serve_relay

    try:
        server = await serve_relay(config)
    except ConfigError as exc:
        print(f"cobrowse relay: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(_bind_error(config, exc), file=sys.stderr)
        return EXIT_USAGE
    tune_gc()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig, callback in ((signal.SIGINT, stop.set), (signal.SIGTERM, stop.set), (signal.SIGHUP, server.reload)):
        try:
            loop.add_signal_handler(sig, callback)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - a loop off the main thread, or Windows
            pass  # signals need the main thread's loop on Unix; without them the relay serves all the same
    line = f"cobrowse relay listening on {server.url} (health: {server.http_url}/healthz)"
    if config.log_format == "json":
        log.info(line, extra={"ctx": {"event": "listening", "url": server.url}})
    else:
        print(line, file=sys.stderr, flush=True)
    try:
        await stop.wait()
    finally:
        await server.shutdown()
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Run the relay, or the admin action, with the parsed flags; return the exit status."""
    action = getattr(args, "relay_action", None)
    try:
        if action == "token":
            return _token(args)
        if action == "admin-token":
            return _admin_token_create()
        if action in ("sessions", "kill"):
            return _admin_request(args)
        config = config_from_args(args)
        if not config.token_store:
            from relay.tokens import default_store_path

            config = dataclasses.replace(config, token_store=str(default_store_path()))
        if not config.session_store:
            from relay.store import OFF, default_session_store, writable

            path = default_session_store(config)
            if path != OFF and not writable(path):
                print(f"cobrowse relay: WARNING: cannot write the session store {path}: sessions will not "
                      "survive a restart (set session_store to a writable file)", file=sys.stderr)
                path = OFF
            config = dataclasses.replace(config, session_store=path)
    except ConfigError as exc:
        print(f"cobrowse relay: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from relay.logs import setup_logging

    setup_logging(config.log_format, config.log_level)
    for warning in unknown_env(os.environ):
        logging.getLogger("relay").warning("WARNING: %s", warning)
    try:
        return asyncio.run(_serve(config))
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        return EXIT_OK


# ---- token actions ----


def _store_path(args: argparse.Namespace) -> str:
    if getattr(args, "store", None):
        return os.path.expanduser(args.store)
    configured = load_config(path=getattr(args, "config", None)).token_store
    if configured:
        return configured
    from relay.tokens import default_store_path

    return str(default_store_path())


def _token(args: argparse.Namespace) -> int:
    from relay.tokens import TokenStore

    store = TokenStore(_store_path(args))
    if args.token_action == "create":
        token, record = store.create(args.name)
        print(token, flush=True)
        print(
            f"cobrowse relay: created agent token {record.name!r}; only its sha256 is stored, in {store.path}.\n"
            "  This is the only time it is shown: give it to the agent, who uses it as\n"
            "    export COBROWSE_TOKEN=<the token above>    (or: cobrowse agent --token <the token>)\n"
            "  A running relay with this store accepts it within a second (or at once on SIGHUP).",
            file=sys.stderr,
        )
        return EXIT_OK
    if args.token_action == "revoke":
        store.revoke(args.name)
        print(f"cobrowse relay: revoked agent token {args.name!r} in {store.path} "
              "(live sessions go on: `cobrowse relay kill ID` ends one)", file=sys.stderr)
        return EXIT_OK
    records = store.load()
    if args.json:
        print(json.dumps([{"name": r.name, "created": r.created} for r in records], indent=2))
        return EXIT_OK
    if not records:
        print(f"no agent tokens in {store.path} (agents need none until one exists)", file=sys.stderr)
        return EXIT_OK
    width = max(4, *(len(r.name) for r in records))
    print(f"{'NAME':<{width}}  CREATED")
    for r in records:
        print(f"{r.name:<{width}}  {r.created}")
    return EXIT_OK


def _admin_token_create() -> int:
    from relay.tokens import ADMIN_PREFIX, digest, new_token

    token = new_token(ADMIN_PREFIX)
    d = digest(token)
    print(token, flush=True)
    print(
        "cobrowse relay: a new admin token (printed above, once). Configure the relay with its digest:\n"
        f'    admin_tokens = ["{d}"]        (the [relay] table of the config file)\n'
        f"    COBROWSE_RELAY_ADMIN_TOKENS={d}\n"
        "  restart the relay, then: COBROWSE_ADMIN_TOKEN=<the token> cobrowse relay sessions",
        file=sys.stderr,
    )
    return EXIT_OK


# ---- admin client: sessions, kill ----


def _admin_url(args: argparse.Namespace) -> str:
    url = args.url or os.environ.get("COBROWSE_RELAY_ADMIN_URL")
    if not url:
        cfg = load_config(path=getattr(args, "config", None))
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(cfg.host, cfg.host)
        host = f"[{host}]" if ":" in host else host
        url = f"{'https' if cfg.tls else 'http'}://{host}:{cfg.port}"
    url = url.rstrip("/")
    for ws, http in (("ws://", "http://"), ("wss://", "https://")):
        if url.startswith(ws):
            url = http + url[len(ws):]
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"--url must be an http(s):// or ws(s):// URL, got {url!r}")
    return url


def _admin_request(args: argparse.Namespace) -> int:
    token = args.admin_token or os.environ.get("COBROWSE_ADMIN_TOKEN")
    if not token:
        raise ConfigError("an admin token is needed: pass --admin-token or set COBROWSE_ADMIN_TOKEN")
    base = _admin_url(args)
    if args.relay_action == "kill":
        url, method = f"{base}/admin/sessions/{urllib.parse.quote(args.session_id, safe='')}/kill", "POST"
    else:
        url, method = f"{base}/admin/sessions", "GET"
    request = urllib.request.Request(url, method=method, headers={"Authorization": f"Bearer {token}"})
    context = ssl.create_default_context(cafile=args.cafile) if args.cafile else None
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as resp:
            body = json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            print(f"cobrowse relay: {base} refused the admin token (a relay started without admin_tokens refuses "
                  "every one: its log says 'admin endpoint off' at start)", file=sys.stderr)
        elif exc.code == 404 and method == "POST":
            print(f"cobrowse relay: no live session with id {args.session_id!r}", file=sys.stderr)
        else:
            print(f"cobrowse relay: {base} answered {exc.code} {exc.reason}", file=sys.stderr)
        return EXIT_REFUSED
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"cobrowse relay: cannot reach the relay at {base}: {reason}{unreachable_hint(base, reason)}",
              file=sys.stderr)
        return EXIT_UNREACHABLE
    if method == "POST":
        print(f"cobrowse relay: killed session {body.get('killed')} (both sides were told)", file=sys.stderr)
    elif args.json:
        print(json.dumps(body, indent=2))
    else:
        print(format_sessions(body.get("sessions", [])), end="")
    return EXIT_OK


def unreachable_hint(base: str, reason: object) -> str:
    """What to try when the admin endpoint could not be asked (pure): trust the relay's own
    certificate, or speak TLS to a relay that serves it."""
    if isinstance(reason, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(reason):
        return " (a certificate from your own CA or self-signed: pass --cafile FILE)"
    if base.startswith("http://") and isinstance(reason, (ConnectionResetError, RemoteDisconnected)):
        return f" (does it serve TLS? then {'https://' + base[len('http://'):]})"
    return ""


def _age(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return ""  # pragma: no cover


def format_sessions(sessions: list[dict[str, Any]]) -> str:
    """The table `cobrowse relay sessions` prints (pure)."""
    if not sessions:
        return "no live sessions\n"
    header = ("ID", "STATE", "AGE", "AGENT", "CUSTOMER", "BYTES", "TOKEN")
    rows = [header] + [
        (
            str(s.get("id")), str(s.get("state")), _age(float(s.get("age_s", 0))),
            str(s.get("sides", {}).get("agent")), str(s.get("sides", {}).get("customer")),
            _size(int(s.get("bytes", 0))), str(s.get("agent_token") or "-"),
        )
        for s in sessions
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n" for r in rows)
