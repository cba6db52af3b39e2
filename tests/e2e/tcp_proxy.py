"""A TCP proxy for end-to-end tests: put it between a client and the relay, then cut the line.

``drop()`` aborts every proxied connection on both sides at once (no close handshake, as a
network failure looks to both ends); ``hold()`` makes new connections wait (accepted, nothing
forwarded) until ``release()``, so a reconnecting client stays disconnected for as long as
the test wants without being refused.
"""

from __future__ import annotations

import asyncio


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.connections = 0  # accepted so far
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._open = asyncio.Event()
        self._open.set()
        self._closed = False

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> "TcpProxy":
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def hold(self) -> None:
        """New connections are accepted but wait, forwarding nothing, until ``release``."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def drop(self) -> None:
        """Abort every live connection, both the client's and the upstream side."""
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        self._closed = True
        if self._server is not None:
            self._server.close()
        self.drop()
        self.release()  # held connections see _closed and end
        tasks = list(self._tasks)
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=5)
            for task in pending:
                task.cancel()
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        mine = [writer]
        try:
            await self._open.wait()
            if self._closed or writer.transport.is_closing():
                return
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            self._writers.add(up_writer)
            mine.append(up_writer)
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            for w in mine:
                self._writers.discard(w)
                w.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            # one direction ended (closed or aborted): end the other abruptly too
            writer.transport.abort()
