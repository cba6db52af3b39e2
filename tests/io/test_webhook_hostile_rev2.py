"""A webhook receiver that answers a byte at a time (rev2): a POST is bounded in total time,
not only per read, so a slow or hostile help desk cannot hold a delivery (and the agent's
exit, which waits for its worker thread) forever. Real sockets on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time

from cobrowse.io.webhook import post


def drip_server(stop: threading.Event) -> tuple[socket.socket, int]:
    """Reads the request, then sends a valid status line and headers one byte every 0.2 s."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.settimeout(5)
            conn.recv(65536)
            answer = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 200 + b"\r\n\r\n"
            for byte in answer:
                if stop.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.2)

    threading.Thread(target=serve, daemon=True).start()
    return server, server.getsockname()[1]


def test_a_receiver_dripping_its_answer_is_given_up_on_after_the_timeout() -> None:
    stop = threading.Event()
    server, port = drip_server(stop)
    try:
        status = post(f"http://127.0.0.1:{port}/hook", b"{}", {"Content-Type": "application/json"}, timeout=1.0)
        assert status is None  # no whole answer within the time: tried again later (the drip lasts 45 s)
    finally:
        stop.set()
        server.close()
