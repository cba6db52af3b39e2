"""Who a connection is, for the limits: its address key, behind a proxy or not."""

from __future__ import annotations

import ipaddress
from typing import Any


def address_key(remote: Any) -> str:
    """What rate limits count against: the IP, or its /64 for IPv6 (one host holds a /64)."""
    host = remote[0] if isinstance(remote, tuple) and remote else str(remote or "")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return host


def forwarded_for(values: list[str]) -> str | None:
    """The address the nearest proxy saw: the last entry of X-Forwarded-For, if it is an IP."""
    entries = [part.strip() for value in values for part in value.split(",")]
    last = entries[-1] if entries else ""
    if last.startswith("[") and "]" in last:  # [v6]:port
        last = last[1:last.index("]")]
    elif last.count(":") == 1:  # v4:port
        last = last.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(last))
    except ValueError:
        return None


def address_of(remote: Any, forwarded: list[str], trust_proxy: bool) -> str:
    """The address key of a client: the socket's peer, or (``trust_proxy``) X-Forwarded-For's."""
    if trust_proxy:
        ip = forwarded_for(forwarded)
        if ip is not None:
            remote = (ip, 0)
    return address_key(remote)
