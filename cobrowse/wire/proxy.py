"""Which proxy a connection to the relay goes through, decided the way curl decides.

Customers sit behind corporate proxies more often than anyone. The rules are curl's, so an
admin's existing settings just work: ``--proxy URL`` / ``--no-proxy`` first; then the
scheme's variable (``HTTPS_PROXY`` for ``wss://``, ``HTTP_PROXY`` for ``ws://``), then
``ALL_PROXY``; lower case wins over upper case; ``NO_PROXY`` lists hosts, domain suffixes
(``example.com`` covers ``relay.example.com``; a leading dot too), IP addresses, CIDR
blocks (``10.0.0.0/8``) or ``*``. One rule is ours: a relay on a loopback address is never
proxied (a proxy cannot reach this machine's loopback). A proxy URL without a scheme is
``http://``. Pure: the environment is passed in.
"""

from __future__ import annotations

import ipaddress
from typing import Mapping
from urllib.parse import urlsplit
from cobrowse.wire.frozen import frozen

SCHEMES = ("http", "https", "socks5", "socks5h", "socks4", "socks4a")


class ProxySettingError(ValueError):
    """A proxy setting that cannot be used; the message names the setting."""


@frozen
class ProxyChoice:
    url: str | None  # None: connect directly
    source: str  # where it came from: "--proxy", "HTTPS_PROXY", "NO_PROXY", "--no-proxy", "loopback", ""

    def describe(self) -> str:
        return f"the proxy {self.url} (from {self.source})" if self.url else "no proxy"


def _get(env: Mapping[str, str], name: str) -> tuple[str, str] | None:
    for key in (name.lower(), name.upper()):
        value = env.get(key, "").strip()
        if value:
            return value, key
    return None


def _normalise(url: str, source: str) -> str:
    if "://" not in url:
        url = f"http://{url}"
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES:
        raise ProxySettingError(f"{source}: unsupported proxy scheme {parts.scheme!r} in {url!r} "
                                f"(use one of {', '.join(s + '://' for s in SCHEMES)})")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if not parts.hostname or port == -1:
        raise ProxySettingError(f"{source}: {url!r} is not a proxy URL like http://proxy.example.com:3128")
    return url


def bypassed(host: str, no_proxy: str) -> bool:
    """Whether ``host`` matches a ``NO_PROXY`` list."""
    host = host.strip("[]").rstrip(".").lower()
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry.strip("[]"), strict=False):
                    return True
            except ValueError:
                pass
            continue
        entry = entry.split(":")[0].lstrip(".").rstrip(".") if entry.count(":") == 1 else entry.lstrip(".")
        if host == entry or host.endswith("." + entry):
            return True
    return False


def _loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def choose_proxy(relay_url: str, env: Mapping[str, str], flag: str | None = None,
                 no_proxy_flag: bool = False) -> ProxyChoice:
    """The proxy for ``relay_url`` (``ws://`` or ``wss://``)."""
    if no_proxy_flag:
        return ProxyChoice(None, "--no-proxy")
    if flag:
        return ProxyChoice(_normalise(flag, "--proxy"), "--proxy")
    parts = urlsplit(relay_url)
    host = parts.hostname or ""
    if _loopback(host):
        return ProxyChoice(None, "loopback")
    no_proxy = _get(env, "no_proxy")
    if no_proxy is not None and bypassed(host, no_proxy[0]):
        return ProxyChoice(None, no_proxy[1])
    scheme = "https_proxy" if parts.scheme == "wss" else "http_proxy"
    for name in (scheme, "all_proxy"):
        found = _get(env, name)
        if found is not None:
            return ProxyChoice(_normalise(found[0], found[1]), found[1])
    return ProxyChoice(None, "")
