"""ICE servers the relay hands out, with time-limited TURN credentials (no I/O).

Voice and video between the two sides go peer to peer over WebRTC; behind strict NATs they
need a TURN server. The admin runs coturn beside the relay with ``use-auth-secret`` and
``static-auth-secret`` = the relay's ``turn_secret``, and the relay gives each side of each
session its own short-lived credentials in ``opened``, ``claimed`` and ``resumed``, so no
long-lived TURN password is ever shipped to clients. This is the TURN REST convention
(draft-uberti-behave-turn-rest, what coturn implements)::

    username   = "<unix time the credential expires>:<a label, not secret>"
    credential = base64(HMAC-SHA1(turn_secret, username))

The label is the session id and the side's role, so coturn's logs of an allocation point
back to the relay's session (ids are already in the relay's logs and the admin listing;
they are not secrets). coturn refuses a username whose time is past.

The entries are in the RTCIceServer shape the WebRTC stacks take as they are:
``{"urls": [...]}`` for STUN, ``{"urls": [...], "username": ..., "credential": ...}`` for
TURN.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any, Callable

from relay.config import RelayConfig

IceServer = dict[str, Any]


def turn_credentials(secret: str, label: str, expires: int) -> tuple[str, str]:
    """(username, credential) valid until the unix time ``expires`` on a coturn sharing ``secret``."""
    if ":" in label:
        raise ValueError(f"a TURN username label cannot hold ':' (got {label!r})")
    username = f"{int(expires)}:{label}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def ice_servers(
    stun_urls: tuple[str, ...] | list[str],
    turn_urls: tuple[str, ...] | list[str],
    turn_secret: str,
    ttl: float,
    label: str,
    now_unix: float,
) -> list[IceServer]:
    """The ICE servers for one side of one session at wall-clock time ``now_unix``.

    STUN entries need no credentials. TURN entries get REST credentials when a secret is
    set; without one they are handed out bare (a TURN server that needs no auth, which an
    admin should only run on a closed network). Empty when nothing is configured.
    """
    servers: list[IceServer] = []
    if stun_urls:
        servers.append({"urls": list(stun_urls)})
    if turn_urls:
        entry: IceServer = {"urls": list(turn_urls)}
        if turn_secret:
            username, credential = turn_credentials(turn_secret, label, int(now_unix + ttl))
            entry["username"] = username
            entry["credential"] = credential
        servers.append(entry)
    return servers


def ice_source(config: RelayConfig) -> Callable[[str, str], list[dict[str, Any]]]:
    """What the rooms call for each side's ICE servers: fresh TURN credentials, wall-clock expiry."""
    if not config.ice_configured:
        return lambda session_id, role: []
    stun, turn_urls, secret, ttl = config.stun_urls, config.turn_urls, config.turn_secret, config.turn_ttl
    return lambda session_id, role: ice_servers(stun, turn_urls, secret, ttl, f"{session_id}-{role}", time.time())
