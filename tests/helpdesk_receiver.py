"""A real webhook receiver on 127.0.0.1 for the tests: checks X-Cobrowse-Signature on the raw
body with its own secret, as a help desk would, and keeps what it accepted."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cobrowse.helpdesk.signature import verify


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    def __init__(self, secret: str, port: int = 0) -> None:
        self.secret = secret
        self.accepted: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if not verify(receiver.secret, body, self.headers.get("X-Cobrowse-Signature")):
                    receiver.refused += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                receiver.accepted.append(json.loads(body))
                receiver.headers.append(dict(self.headers))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/cobrowse"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
