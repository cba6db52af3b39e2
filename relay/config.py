"""The relay's settings: one frozen dataclass, loaded from defaults < file < env < flags.

An admin sets a relay up once and then forgets about it, so every mistake has to be caught
at start with a message that names the key and where it came from (a flag, an environment
variable or a line of the file), instead of surfacing as odd behaviour under load.

File: a TOML file with a ``[relay]`` table whose keys are the field names below, e.g.::

    [relay]
    host = "0.0.0.0"
    port = 8765
    agent_tokens = ["<sha256 hex of a token>"]

Environment: ``COBROWSE_RELAY_<FIELD>`` in upper case (``COBROWSE_RELAY_PORT=9000``;
lists comma-separated; booleans true/false/1/0/yes/no/on/off), and
``COBROWSE_RELAY_CONFIG`` for the file path. ``COBROWSE_RELAY`` alone is the clients' relay
URL and is not read here.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable, Mapping

from cobrowse.errors import ConfigError

ENV_PREFIX = "COBROWSE_RELAY_"
ENV_CONFIG = "COBROWSE_RELAY_CONFIG"


@dataclass(frozen=True)
class RelayConfig:
    """Everything an admin can tune. Durations are in seconds."""

    host: str = "127.0.0.1"
    port: int = 8765  # 0 picks a free port (tests, the agent console's embedded relay)
    grace: float = 300.0  # how long a dropped side's place is held for ``resume`` (clients retry as long)
    unclaimed_ttl: float = 600.0  # how long a nameplate waits for the other side
    max_frame_bytes: int = 256 * 1024
    agent_tokens: tuple[str, ...] = ()  # sha256 hex digests; empty = agents need no token
    customers_may_create: bool = True
    max_sessions: int = 100_000  # past this, ``open`` answers ``full``
    rate_limit: int = 10  # failed claims per address per ``rate_window`` before a block
    rate_window: float = 60.0  # also the first block's length; each next block doubles
    rate_backoff_max: float = 3600.0  # the longest block; quiet this long forgives an address
    dead_memory: float = 1800.0  # how long an ended nameplate answers ``expired``
    reuse_cooldown: float = 300.0  # an ended nameplate is not handed out again before this
    claim_timeout: float = 15.0  # a claimant that is not confirmed by then is let go (squatting)
    claim_attempts: int = 3  # failed guesses one session takes; then claims answer too_many_attempts
    ping_interval: float = 20.0  # websocket keepalive; 0 turns it off
    ping_timeout: float = 20.0
    tick_interval: float = 1.0  # how often expiry and grace are checked
    # ---- admission: what one address, or many, may hold (relay/admission.py); 0 = sized from the machine ----
    max_connections: int = 0  # client sockets in all; 0 = RLIMIT_NOFILE - 448 (and half the available memory)
    reserved_connections: int = 0  # of those, kept from sessions for /healthz, admins, first requests; 0 = 1/16
    connections_per_address: int = 0  # sockets one address may hold; 0 = max(16, max_connections / 100)
    connect_rate: float = 5.0  # new connections per second per address, after connect_burst
    connect_burst: int = 0  # new connections an address may make at once; 0 = connections_per_address
    open_rate: float = 1.0  # sessions an address may open per second, after open_burst
    open_burst: int = 30  # sessions an address may open at once
    unpaired_per_address: int = 20  # sessions one address may hold waiting for the other side
    max_unpaired: int = 0  # waiting sessions opened without an agent token, in all; 0 = half the session sockets
    token_limit_factor: int = 10  # agents with a valid token get this many times the per-address limits
    # ---- operating one node (see docs/relay.md) ----
    token_store: str = ""  # the agent token file; "" = none here, the data dir for `cobrowse relay`
    # the SQLite file of live sessions a restarted relay resumes (relay/store.py); "" = none here,
    # the data dir for `cobrowse relay`; "off" = memory only
    session_store: str = ""
    admin_tokens: tuple[str, ...] = ()  # sha256 hex digests; empty = the admin endpoint refuses all
    max_sessions_per_token: int = 0  # live sessions one agent token may hold; 0 = no limit
    max_bytes_per_s: int = 0  # per connection, token bucket; 0 = no limit
    handshake_timeout: float = 10.0  # a socket must open/claim/resume within this; 0 = never closed
    idle_timeout: float = 0.0  # end a paired session with no frames for this long; 0 = never
    send_buffer_bytes: int = 256 * 1024  # per receiver: past this the sender waits (back-pressure)
    slow_consumer_timeout: float = 15.0  # a receiver stuck over send_buffer_bytes this long is closed
    drain_timeout: float = 10.0  # on SIGTERM: how long clients get to take the shutdown notice
    tls_cert: str = ""  # PEM certificate chain: serve wss:// and https:// directly
    tls_key: str = ""  # PEM private key for tls_cert
    trust_proxy: bool = False  # take the client address from X-Forwarded-For (last hop)
    metrics: bool = True  # serve Prometheus GET /metrics
    # help-queue organisations named in the metrics' ``org`` label ("name=key id"); others count as "other"
    queue_orgs: tuple[str, ...] = ()
    audit_log: str = ""  # JSON lines of session events appended here; "" = off
    log_format: str = "human"  # human | json (one JSON object a line on stderr)
    log_level: str = "info"  # debug | info | warning | error
    # ---- ICE servers for the sides' WebRTC (relay/turn.py) ----
    stun_urls: tuple[str, ...] = ()  # e.g. ("stun:turn.example.com:3478",)
    turn_urls: tuple[str, ...] = ()  # e.g. ("turn:turn.example.com:3478?transport=udp", ...)
    turn_secret: str = ""  # coturn's static-auth-secret: TURN REST credentials per side
    turn_ttl: float = 3600.0  # how long those credentials stay valid
    # ---- several nodes (relay/cluster.py) ----
    redis: str = ""  # redis://host:6379/0: share nameplates and forward frames between nodes
    node_id: str = ""  # this node's name among the others; "" = hostname-pid-random

    def __post_init__(self) -> None:
        for f in fields(self):
            value = _CHECKS[f.name](f.name, getattr(self, f.name), f"RelayConfig({f.name}=...)")
            object.__setattr__(self, f.name, value)
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ConfigError(
                "invalid relay settings: tls_cert and tls_key go together (set both to serve wss://, "
                f"or neither), got tls_cert={self.tls_cert!r} tls_key={self.tls_key!r}"
            )

    @property
    def queue_org_labels(self) -> dict[str, str]:
        """Organisation key id -> its ``org`` label in the metrics (``queue_orgs``)."""
        return {entry.partition("=")[2]: entry.partition("=")[0] for entry in self.queue_orgs}

    @property
    def ice_configured(self) -> bool:
        return bool(self.stun_urls or self.turn_urls)

    @property
    def tls(self) -> bool:
        return bool(self.tls_cert)

    @property
    def loopback_only(self) -> bool:
        """True when only this machine can reach the relay."""
        return is_loopback(self.host)

    def security_warnings(self, stored_tokens: int = 0) -> list[str]:
        """Warnings an admin must see at start (logged loudly by the server).

        ``stored_tokens`` is how many agent tokens the token store holds besides the
        ``agent_tokens`` digests of the config.
        """
        warnings = []
        if not self.agent_tokens and not stored_tokens and not self.loopback_only:
            warnings.append(
                f"no agent tokens are configured and the relay listens on {self.host or 'all addresses'}: "
                "anybody who can reach it can use it as a free tunnel; create one with "
                "`cobrowse relay token create --name NAME`, or set agent_tokens in the "
                "[relay] table of the config file or COBROWSE_RELAY_AGENT_TOKENS"
            )
        if self.trust_proxy and not self.loopback_only:
            warnings.append(
                f"trust_proxy is on and the relay listens on {self.host or 'all addresses'}: "
                "X-Forwarded-For is believed from anyone who can reach this port, so make sure "
                "only the proxy can (or rate limits can be dodged by forging it)"
            )
        if self.turn_urls and not self.turn_secret:
            warnings.append(
                "turn_urls are set without turn_secret: clients get TURN servers with no credentials, "
                "which only works with a TURN server open to anyone; set turn_secret to coturn's "
                "static-auth-secret (use-auth-secret)"
            )
        return warnings


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ---- checks: each takes (key, raw value, where it came from) and returns the clean value ----


def _fail(key: str, where: str, what: str, value: Any) -> ConfigError:
    return ConfigError(f"invalid relay setting {key!r} from {where}: {what}, got {value!r}")


def _str(key: str, value: Any, where: str) -> str:
    if not isinstance(value, str) or (key == "host" and not value.strip()):
        raise _fail(key, where, "expected a non-empty string", value)
    return value.strip()


def _int_in(lo: int, hi: int) -> Callable[[str, Any, str], int]:
    def check(key: str, value: Any, where: str) -> int:
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise _fail(key, where, "expected a whole number", value) from None
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise _fail(key, where, f"expected a whole number from {lo} to {hi}", value)
        return value

    return check


def _seconds(lo: float, hi: float = 10 * 365 * 86400.0) -> Callable[[str, Any, str], float]:
    def check(key: str, value: Any, where: str) -> float:
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise _fail(key, where, "expected a number of seconds", value) from None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            raise _fail(key, where, f"expected a number of seconds from {lo:g} to {hi:g}", value)
        return float(value)

    return check


def _rate(key: str, value: Any, where: str) -> float:
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise _fail(key, where, "expected a number per second", value) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.001 <= value <= 1_000_000:
        raise _fail(key, where, "expected a number per second from 0.001 to 1000000", value)
    return float(value)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(key: str, value: Any, where: str) -> bool:
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if not isinstance(value, bool):
        raise _fail(key, where, "expected true or false", value)
    return value


def _path(key: str, value: Any, where: str) -> str:
    if not isinstance(value, str) or "\0" in value:
        raise _fail(key, where, "expected a file path (or an empty string for none)", value)
    return os.path.expanduser(value.strip()) if value.strip() else ""


def _store_path(key: str, value: Any, where: str) -> str:
    """A session store's file, or ``off`` (also spelt none, no, false: an admin who typed
    ``--session-store none`` once got a file called ``none``)."""
    path = _path(key, value, where)
    return "off" if path.lower() in ("off", "none", "no", "false") else path


def _choice(*choices: str) -> Callable[[str, Any, str], str]:
    def check(key: str, value: Any, where: str) -> str:
        if not isinstance(value, str) or value.strip().lower() not in choices:
            raise _fail(key, where, f"expected one of {', '.join(choices)}", value)
        return value.strip().lower()

    return check


def _tokens(key: str, value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [part for part in value.replace(" ", ",").split(",") if part]
    if not isinstance(value, (list, tuple)):
        raise _fail(key, where, "expected a list of sha256 hex digests", value)
    out = []
    for item in value:
        digest = item.strip().lower() if isinstance(item, str) else item
        if isinstance(digest, str) and digest.startswith(("cbt_", "cba_")):  # never echo a secret to the log
            raise ConfigError(
                f"invalid relay setting {key!r} from {where}: that is a token itself, not its sha256 digest; "
                "remove it (anyone who reads this config or the relay's log may now hold it: issue a new one) "
                "and put the digest that `cobrowse relay token create` / `admin-token create` prints, or use "
                "the token store"
            )
        if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise _fail(
                key, where, "each entry must be the sha256 hex digest (64 hex characters) of a token", item
            )
        out.append(digest)
    return tuple(out)


#: Organisations a metrics label may name: the label's values stay bounded whatever customers send.
MAX_QUEUE_ORGS = 100
_ORG_KEY_ID = re.compile(r"[0-9a-f]{16}")
_ORG_LABEL = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _queue_orgs(key: str, value: Any, where: str) -> tuple[str, ...]:
    """``name = "key id"`` pairs (a TOML table), or entries ``name=keyid`` / ``keyid`` (a list,
    or one string split at commas): kept as ``name=keyid`` (a bare key id is its own name)."""
    if isinstance(value, dict):
        value = [f"{name}={ident}" if isinstance(ident, str) else None for name, ident in value.items()]
    elif isinstance(value, str):
        value = [part for part in value.replace(" ", ",").split(",") if part]
    if not isinstance(value, (list, tuple)):
        raise _fail(key, where, "expected a table of name = \"organisation key id\" (or a list of key ids)", value)
    if len(value) > MAX_QUEUE_ORGS:
        raise _fail(key, where, f"at most {MAX_QUEUE_ORGS} organisations", len(value))
    out: list[str] = []
    names: set[str] = set()
    ids: set[str] = set()
    for item in value:
        if not isinstance(item, str):
            raise _fail(key, where, "each organisation is a key id (16 hex digits), optionally named: name=keyid", item)
        name, _, ident = item.strip().rpartition("=")
        ident = ident.strip().lower()
        name = name.strip() or ident
        if not _ORG_KEY_ID.fullmatch(ident):
            raise _fail(key, where, "an organisation key id is 16 hex digits (`cobrowse org list` prints it)", item)
        if not _ORG_LABEL.fullmatch(name) or name == "other":
            raise _fail(key, where, "a name is 1-64 letters, digits, '_', '.' or '-' (and not 'other')", name)
        if name in names or ident in ids:
            raise _fail(key, where, "each organisation and each name once", item)
        names.add(name)
        ids.add(ident)
        out.append(f"{name}={ident}")
    return tuple(out)


MAX_ICE_URLS = 8  # per list: the answers carrying them must fit a 4 KiB control message
_ICE_URL = re.compile(r"[a-z0-9.\-\[\]:]{1,200}(\?transport=(udp|tcp))?", re.IGNORECASE)


def _ice_urls(*schemes: str) -> Callable[[str, Any, str], tuple[str, ...]]:
    def check(key: str, value: Any, where: str) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, (list, tuple)) or len(value) > MAX_ICE_URLS:
            raise _fail(key, where, f"expected a list of at most {MAX_ICE_URLS} URLs", value)
        out = []
        for item in value:
            url = item.strip() if isinstance(item, str) else item
            scheme, _, rest = url.partition(":") if isinstance(url, str) else ("", "", "")
            if scheme.lower() not in schemes or not _ICE_URL.fullmatch(rest):
                example = f"{schemes[0]}:relay.example.com:3478"
                raise _fail(key, where, f"each entry must be a {'/'.join(schemes)}: URL like {example!r}", item)
            out.append(url)
        return tuple(out)

    return check


_NODE_ID = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


def _redis_url(key: str, value: Any, where: str) -> str:
    if not isinstance(value, str) or (value.strip() and not value.strip().startswith(("redis://", "rediss://", "unix://"))):
        shown = re.sub(r"//[^/@]*@", "//***@", value) if isinstance(value, str) else value  # a password in it
        raise _fail(key, where, "expected a redis://host:port/db (rediss:// for TLS, unix:///path) URL, or empty", shown)
    return value.strip()


def _node_id(key: str, value: Any, where: str) -> str:
    if not isinstance(value, str) or (value.strip() and not _NODE_ID.fullmatch(value.strip())):
        raise _fail(key, where, "expected 1 to 64 letters, digits, '.', '_' or '-'", value)
    return value.strip()


def _secret(key: str, value: Any, where: str) -> str:
    if not isinstance(value, str) or (value.strip() and len(value.strip()) < 16):
        # never echo a secret back into a log or terminal
        shown = "<a string shorter than 16 characters>" if isinstance(value, str) else value
        raise _fail(key, where, "expected a secret of at least 16 characters (openssl rand -hex 32)", shown)
    return value.strip()


_CHECKS: dict[str, Callable[[str, Any, str], Any]] = {
    "host": _str,
    "port": _int_in(0, 65535),
    "grace": _seconds(0.0),
    "unclaimed_ttl": _seconds(0.01),
    "max_frame_bytes": _int_in(1024, 64 * 1024 * 1024),
    "agent_tokens": _tokens,
    "customers_may_create": _bool,
    "max_sessions": _int_in(1, 500_000),
    "rate_limit": _int_in(1, 1_000_000),
    "rate_window": _seconds(0.01),
    "rate_backoff_max": _seconds(0.01),
    "dead_memory": _seconds(0.0),
    "reuse_cooldown": _seconds(0.0),
    "claim_timeout": _seconds(0.5, 3600.0),
    "claim_attempts": _int_in(1, 1000),
    "ping_interval": _seconds(0.0),
    "ping_timeout": _seconds(0.0),
    "tick_interval": _seconds(0.001, 60.0),
    "max_connections": _int_in(0, 10_000_000),
    "reserved_connections": _int_in(0, 1_000_000),
    "connections_per_address": _int_in(0, 10_000_000),
    "connect_rate": _rate,
    "connect_burst": _int_in(0, 10_000_000),
    "open_rate": _rate,
    "open_burst": _int_in(1, 1_000_000),
    "unpaired_per_address": _int_in(1, 1_000_000),
    "max_unpaired": _int_in(0, 500_000),
    "token_limit_factor": _int_in(1, 1000),
    "token_store": _path,
    "session_store": _store_path,
    "admin_tokens": _tokens,
    "max_sessions_per_token": _int_in(0, 500_000),
    "max_bytes_per_s": _int_in(0, 10**12),
    "handshake_timeout": _seconds(0.0, 3600.0),
    "idle_timeout": _seconds(0.0),
    "send_buffer_bytes": _int_in(4096, 1024**3),
    "slow_consumer_timeout": _seconds(0.01, 3600.0),
    "drain_timeout": _seconds(0.0, 3600.0),
    "tls_cert": _path,
    "tls_key": _path,
    "trust_proxy": _bool,
    "metrics": _bool,
    "queue_orgs": _queue_orgs,
    "audit_log": _path,
    "log_format": _choice("human", "json"),
    "log_level": _choice("debug", "info", "warning", "error"),
    "stun_urls": _ice_urls("stun", "stuns"),
    "turn_urls": _ice_urls("turn", "turns"),
    "turn_secret": _secret,
    "turn_ttl": _seconds(60.0, 7 * 86400.0),
    "redis": _redis_url,
    "node_id": _node_id,
}
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(RelayConfig))


def read_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``[relay]`` table of a TOML file (empty if the file has none)."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"relay config file {str(p)!r} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read relay config file {str(p)!r}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"relay config file {str(p)!r} is not valid TOML: {exc}") from None
    outside = [key for key in data if key in _CHECKS]
    if outside:
        raise ConfigError(
            f"relay config file {str(p)!r}: {', '.join(outside)} must be under a [relay] table "
            "(a setting outside it would be ignored)"
        )
    table = data.get("relay", {})
    if not isinstance(table, dict):
        raise ConfigError(f"relay config file {str(p)!r}: 'relay' must be a table ([relay])")
    for key in table:
        if key not in _CHECKS:
            raise ConfigError(
                f"unknown relay setting {key!r} in {str(p)!r} [relay]; known settings: {', '.join(FIELD_NAMES)}"
            )
    return table


#: Read by the relay's admin commands, not settings.
OTHER_ENV = frozenset({ENV_CONFIG, "COBROWSE_RELAY_ADMIN_URL"})


def unknown_env(env: Mapping[str, str]) -> list[str]:
    """A warning per ``COBROWSE_RELAY_*`` variable that is no setting (a typo would otherwise
    change nothing without a word; not an error: the environment is shared with other programs)."""
    import difflib

    known = {ENV_PREFIX + key.upper() for key in FIELD_NAMES}
    warnings = []
    for name in sorted(env):
        if name.startswith(ENV_PREFIX) and name not in known and name not in OTHER_ENV:
            close = difflib.get_close_matches(name, sorted(known | OTHER_ENV), n=1, cutoff=0.8)
            hint = f"did you mean {close[0]}? " if close else ""
            warnings.append(f"ignoring the environment variable {name}: it is not a relay setting ({hint}"
                            "docs/relay.md lists them)")
    return warnings


def load_config(
    *,
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> RelayConfig:
    """Merge defaults < file < env < flags; raise ConfigError naming the bad key and its source.

    ``path`` is the ``--config`` flag; without it ``COBROWSE_RELAY_CONFIG`` names the file.
    ``flags`` maps field names to raw values; None means "not given".
    """
    env = os.environ if env is None else env
    flags = flags or {}
    values: dict[str, Any] = {}
    file_path = path if path is not None else env.get(ENV_CONFIG) or None
    if file_path is not None:
        for key, raw in read_file(file_path).items():
            values[key] = _CHECKS[key](key, raw, f"{file_path} [relay]")
    for key in FIELD_NAMES:
        name = ENV_PREFIX + key.upper()
        if env.get(name) not in (None, ""):
            values[key] = _CHECKS[key](key, env[name], f"environment variable {name}")
    for key, raw in flags.items():
        if raw is None:
            continue
        if key not in _CHECKS:
            raise ConfigError(f"unknown relay setting {key!r}")
        values[key] = _CHECKS[key](key, raw, f"--{key.replace('_', '-')}")
    return RelayConfig(**values)
