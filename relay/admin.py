"""The admin endpoint: plain HTTP on the relay's port, behind a Bearer admin token.

    GET  /admin/sessions              -> 200 {"sessions": [...], "count": N}
    POST /admin/sessions/<id>/kill    -> 200 {"killed": "<id>"}; 404 if no such live session

Every request is checked against the admin token digests (config ``admin_tokens``) before
anything else, so a caller without a valid token learns nothing, not even whether a path
or a session exists: 401 with no details. With no admin token configured every request is
refused the same way.

:func:`handle` is pure (the request's method, path and Authorization header in, a
:class:`Reply` out) and calls the relay only through :class:`Backend`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Protocol

from relay.tokens import admin_ok

_KILL = re.compile(r"/admin/sessions/([A-Za-z0-9_-]{1,64})/kill")
JSON = "application/json"


@dataclass(frozen=True)
class Reply:
    status: int
    body: str
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()


class Backend(Protocol):
    def admin_sessions(self) -> list[dict[str, Any]]: ...

    def admin_kill(self, session_id: str) -> bool: ...


def is_admin_path(path: str) -> bool:
    return path == "/admin" or path.startswith("/admin/")


def _json(status: int, obj: object, *headers: tuple[str, str]) -> Reply:
    return Reply(status, json.dumps(obj, separators=(",", ":")) + "\n", JSON, headers)


UNAUTHORIZED = Reply(401, "unauthorized\n", "text/plain; charset=utf-8", (("WWW-Authenticate", "Bearer"),))


def handle(method: str, path: str, authorization: str | None, digests: Iterable[str], backend: Backend) -> Reply:
    """Answer one admin request (``path`` without its query string)."""
    if not admin_ok(authorization, digests):
        return UNAUTHORIZED
    if path == "/admin/sessions":
        if method != "GET":
            return _json(405, {"error": "use GET"}, ("Allow", "GET"))
        sessions = backend.admin_sessions()
        return _json(200, {"sessions": sessions, "count": len(sessions)})
    match = _KILL.fullmatch(path)
    if match:
        if method != "POST":
            return _json(405, {"error": "use POST"}, ("Allow", "POST"))
        session_id = match.group(1)
        if backend.admin_kill(session_id):
            return _json(200, {"killed": session_id})
        return _json(404, {"error": "no such live session", "id": session_id})
    return _json(404, {"error": "not found"})
