"""``cobrowse relay``'s flags and admin actions, apart from running them: every ``cobrowse``
start builds the relay's parser (``--help`` lists it), and this loads none of the relay."""

from __future__ import annotations

import argparse

# flag -> (metavar, help). Every setting has a flag except the digest lists (file or env).
_SETTINGS: dict[str, tuple[str, str]] = {
    "host": ("H", "address to listen on (default 127.0.0.1; 0.0.0.0 for all)"),
    "port": ("P", "port to listen on (default 8765; 0 picks a free one)"),
    "grace": ("S", "seconds a dropped side may come back (default 300)"),
    "unclaimed_ttl": ("S", "seconds a code waits to be used (default 600)"),
    "max_frame_bytes": ("N", "largest frame forwarded (default 262144)"),
    "token_store": ("FILE", "agent token store (default: relay-tokens.json in the platform data dir, ~/.local/share/cobrowse; COBROWSE_DATA_DIR does not move it)"),
    "session_store": ("FILE", "live sessions kept for a restart (default: relay-sessions-HOST-PORT.sqlite3 in the data dir; 'off' keeps none)"),
    "customers_may_create": ("BOOL", "whether customers may create sessions (default true)"),
    "max_sessions": ("N", "live sessions on this relay (default 100000)"),
    "max_sessions_per_token": ("N", "live sessions per agent token (default 0: no limit)"),
    "max_bytes_per_s": ("N", "bytes per second per connection (default 0: no limit)"),
    "handshake_timeout": ("S", "close sockets that do not open/claim/resume within S (default 10; 0 off)"),
    "idle_timeout": ("S", "end paired sessions with no frames for S (default 0: never)"),
    "send_buffer_bytes": ("N", "per receiver send buffer; the sender waits past it (default 262144)"),
    "slow_consumer_timeout": ("S", "close a receiver stuck over its buffer for S (default 15)"),
    "max_connections": ("N", "client sockets in all (default 0: RLIMIT_NOFILE - 448, sized to memory)"),
    "reserved_connections": ("N", "sockets kept for /healthz, admins and first requests (default 0: 1/16)"),
    "connections_per_address": ("N", "sockets one address may hold (default 0: max(16, max-connections/100))"),
    "connect_rate": ("R", "new connections per second one address may make after the burst (default 5)"),
    "connect_burst": ("N", "new connections one address may make at once (default 0: connections-per-address)"),
    "open_rate": ("R", "sessions one address may open per second after the burst (default 1)"),
    "open_burst": ("N", "sessions one address may open at once (default 30)"),
    "unpaired_per_address": ("N", "sessions one address may hold waiting for the other side (default 20)"),
    "max_unpaired": ("N", "waiting sessions opened without an agent token (default 0: half the sockets)"),
    "token_limit_factor": ("N", "agents with a valid token get N x the per-address limits (default 10)"),
    "rate_limit": ("N", "failed claims per address per window before a block (default 10)"),
    "rate_window": ("S", "the claim rate window and first block (default 60)"),
    "rate_backoff_max": ("S", "the longest block (default 3600)"),
    "drain_timeout": ("S", "on SIGTERM, seconds clients get to take the notice (default 10)"),
    "tls_cert": ("FILE", "PEM certificate chain: serve wss:// directly (with --tls-key)"),
    "tls_key": ("FILE", "PEM private key of --tls-cert"),
    "trust_proxy": ("BOOL", "take client addresses from X-Forwarded-For (only behind your proxy)"),
    "metrics": ("BOOL", "serve GET /metrics (default true)"),
    "audit_log": ("FILE", "append session events as JSON lines to FILE"),
    "log_format": ("FMT", "human (default) or json: one JSON object a line on stderr"),
    "log_level": ("LEVEL", "debug, info (default), warning or error"),
    "stun_urls": ("URLS", "STUN servers handed to clients, comma-separated (stun:host:3478)"),
    "turn_urls": ("URLS", "TURN servers handed to clients, comma-separated (turn:host:3478?transport=udp)"),
    "turn_ttl": ("S", "lifetime of the TURN credentials the relay makes (default 3600)"),
    "redis": ("URL", "redis://host:6379/0: run as one of several nodes sharing sessions"),
    "node_id": ("NAME", "this node's name among the others (default hostname-pid-random)"),
}
_BOOLS = {"customers_may_create", "trust_proxy", "metrics"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The relay's flags (validated by load_config, not argparse) and its admin actions."""
    parser.add_argument("--config", metavar="FILE", help="TOML file with a [relay] table (or COBROWSE_RELAY_CONFIG)")
    for name, (metavar, text) in _SETTINGS.items():
        flag = "--" + name.replace("_", "-")
        if name in _BOOLS:
            parser.add_argument(flag, dest=name, metavar=metavar, nargs="?", const="true", help=text)
        else:
            parser.add_argument(flag, dest=name, metavar=metavar, help=text)
    sub = parser.add_subparsers(dest="relay_action", metavar="ACTION", title="admin actions (default: run the relay)")

    def config_flag(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help="the relay's TOML file")

    def store_flag(p: argparse.ArgumentParser) -> None:
        p.add_argument("--store", metavar="FILE", help="token store (default: the config's token_store, else the data dir)")
        config_flag(p)

    token = sub.add_parser("token", help="agent tokens: create, list, revoke", description="Manage agent tokens.")
    tsub = token.add_subparsers(dest="token_action", metavar="create|list|revoke", required=True)
    create = tsub.add_parser("create", help="make a token and print it once")
    create.add_argument("--name", required=True, help="who or what it is for (shown in logs and listings)")
    store_flag(create)
    listing = tsub.add_parser("list", help="names and creation times (never the tokens)")
    listing.add_argument("--json", action="store_true", help="JSON instead of a table")
    store_flag(listing)
    revoke = tsub.add_parser("revoke", help="delete a token; a running relay refuses it within a second")
    revoke.add_argument("name", metavar="NAME")
    store_flag(revoke)

    admin_token = sub.add_parser("admin-token", help="make an admin token", description="Make an admin token.")
    asub = admin_token.add_subparsers(dest="admin_token_action", metavar="create", required=True)
    asub.add_parser("create", help="print a new admin token and the digest to configure")

    def client_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--url", help="the relay (default $COBROWSE_RELAY_ADMIN_URL, else from the config's port)")
        p.add_argument("--admin-token", dest="admin_token", help="admin token (default $COBROWSE_ADMIN_TOKEN)")
        p.add_argument("--cafile", metavar="FILE", help="CA bundle for an https:// relay with a private CA")
        config_flag(p)

    sessions = sub.add_parser("sessions", help="list live sessions", description="List the relay's live sessions.")
    sessions.add_argument("--json", action="store_true", help="the endpoint's JSON instead of a table")
    client_flags(sessions)
    kill = sub.add_parser("kill", help="end a session (both sides are told: killed)", description="End a session.")
    kill.add_argument("session_id", metavar="ID", help="the session id from `cobrowse relay sessions`")
    client_flags(kill)
