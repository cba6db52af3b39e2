"""A real HTTP CONNECT proxy on 127.0.0.1 for tests, like the corporate proxies customers sit behind.

It resolves names itself (``hosts`` maps a name to an address), so a client can reach a
relay at ``ws://relay.test:PORT`` only through it; it records every CONNECT target, and can
refuse (``refuse`` = an HTTP status such as 403 or 407).
"""

from __future__ import annotations

import asyncio
import contextlib


class ConnectProxy:
    def __init__(self, hosts: dict[str, str] | None = None, refuse: int | None = None) -> None:
        self.hosts = hosts or {}
        self.refuse = refuse
        self.targets: list[str] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> "ConnectProxy":
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(10):
                head = await reader.readuntil(b"\r\n\r\n")
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            self.targets.append(target)
            if method != "CONNECT" or self.refuse:
                status = self.refuse or 405
                writer.write(f"HTTP/1.1 {status} Refused by the test proxy\r\nContent-Length: 0\r\n\r\n".encode())
                await writer.drain()
                return
            host, port = target.rsplit(":", 1)
            upstream_reader, upstream_writer = await asyncio.open_connection(self.hosts.get(host, host), int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            pass
        finally:
            writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                writer.write_eof()
