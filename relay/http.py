"""Plain HTTP on the relay's port: /healthz, /metrics, /admin/..., and refusals before the
websocket opens (429/503 with Retry-After). Everything else is the websocket endpoint."""

from __future__ import annotations

import json

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from relay import admin
from relay.addresses import address_of
from relay.admission import Refusal
from relay.host import RelayHost
from relay.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE


def process_request(server: RelayHost, connection: ServerConnection, request: Request) -> Response | None:
    """websockets' ``process_request``: answer plain HTTP here, or None to open the websocket."""
    config = server.config
    path = request.path.split("?", 1)[0]
    method = getattr(request, "method", "GET")
    if path == "/healthz":
        return respond(connection, 200, json.dumps(server.health()) + "\n", "application/json")
    if path == "/metrics" and config.metrics:
        if method != "GET":
            return respond(connection, 405, "use GET\n", headers=(("Allow", "GET"),))
        return respond(connection, 200, server.metrics.render().decode(), METRICS_CONTENT_TYPE)
    if admin.is_admin_path(path):
        reply = admin.handle(method, path, request.headers.get("Authorization"), config.admin_tokens, server)
        return respond(connection, reply.status, reply.body, reply.content_type, reply.headers)
    if method != "GET":
        return respond(connection, 405, "method not allowed\n", headers=(("Allow", "GET"),))
    if request.headers.get("Upgrade", "").lower() == "websocket":
        address = address_of(connection.remote_address, request.headers.get_all("X-Forwarded-For"),
                             config.trust_proxy)
        refusal = server.admission.upgrade(connection, address, server.now())
        if refusal is None:
            return None
        server.refused(refusal, address)
        status = 429 if refusal.code == "rate_limited" else 503
        return respond(connection, status, refusal_body(refusal), "application/json",
                       (("Retry-After", str(refusal.retry_after)),))
    if path == "/":
        return connection.respond(426, "cobrowse relay: connect with a websocket client\n")
    return connection.respond(404, "not found\n")


def refusal_body(refusal: Refusal) -> str:
    return json.dumps({"error": refusal.code, "retry_after": refusal.retry_after, "message": refusal.detail}) + "\n"


def early_refusal(refusal: Refusal) -> bytes:
    """The whole HTTP answer to a connection refused as it was accepted (429: this address;
    503: the relay): clients read the status and Retry-After, as from any refused upgrade."""
    status = "429 Too Many Requests" if refusal.code == "rate_limited" else "503 Service Unavailable"
    body = refusal_body(refusal)
    return (f"HTTP/1.1 {status}\r\nRetry-After: {refusal.retry_after}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}").encode()


def respond(
    connection: ServerConnection, status: int, body: str, content_type: str = "text/plain; charset=utf-8",
    headers: tuple[tuple[str, str], ...] = (),
) -> Response:
    response = connection.respond(status, body)
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = content_type
    response.headers["Cache-Control"] = "no-store"
    for name, value in headers:
        response.headers[name] = value
    return response
