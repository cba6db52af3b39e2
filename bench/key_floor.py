"""The floor under bench/key_latency.py: a key's round trip through cobrowse's process hops
and nothing else.

    python bench/key_floor.py [--n 400] [--gap 0.01]

The same hops as control mode: this script writes a line to an "agent" process's stdin, the
agent sends the key over TCP to a forwarder running in this process (the relay's place),
which passes it to a "customer" process, which writes it to a pty running `cat`; the echo
goes back the same way and the agent prints a line that this script reads. Plain asyncio
streams: no websockets, no sealing, no JSON, no terminal emulation, no redaction. What is
left is what the hops and three event loops cost on this machine; cobrowse's own work is
the difference to key_latency's ``p50_ms``. The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pty
import sys
import time

WARMUP = 20


async def forwarder() -> asyncio.Server:
    """Pairs the first two connections and copies bytes between them (the relay's place)."""
    waiting: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    tasks: set[asyncio.Task[None]] = set()

    async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if waiting:
            other_reader, other_writer = waiting.pop()
            tasks.update({asyncio.create_task(pump(reader, other_writer)),
                          asyncio.create_task(pump(other_reader, writer))})
        else:
            waiting.append((reader, writer))

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def agent(port: int) -> None:
    """Keys from stdin to the forwarder; a line on stdout for each echo that comes back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)

    async def keys() -> None:
        while line := await stdin.readline():
            writer.write(line.strip())

    task = asyncio.create_task(keys())
    out = sys.stdout.buffer
    while data := await reader.read(65536):
        out.write(b"echo %d\n" % len(data))
        out.flush()
    task.cancel()


async def customer(port: int) -> None:
    """Keys from the forwarder into a pty running `cat`; its output back to the forwarder."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp("cat", ["cat"])
    asyncio.get_running_loop().add_reader(fd, lambda: writer.write(os.read(fd, 65536)))
    while data := await reader.read(65536):
        os.write(fd, data)


async def rounds(n: int, gap: float) -> list[float]:
    server = await forwarder()
    port = server.sockets[0].getsockname()[1]
    me = [sys.executable, os.path.abspath(__file__)]
    side = await asyncio.create_subprocess_exec(*me, "--role", "agent", "--port", str(port),
                                                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    await asyncio.sleep(0.3)  # the agent connects first: the forwarder pairs in order
    other = await asyncio.create_subprocess_exec(*me, "--role", "customer", "--port", str(port))
    samples: list[float] = []
    try:
        assert side.stdin is not None and side.stdout is not None
        await asyncio.sleep(0.5)
        for i in range(n + WARMUP):
            await asyncio.sleep(gap)
            start = time.monotonic()
            side.stdin.write(b"x\n")
            await side.stdin.drain()
            await asyncio.wait_for(side.stdout.readline(), 10)
            if i >= WARMUP:
                samples.append((time.monotonic() - start) * 1000)
    finally:
        for proc in (side, other):
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        server.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--gap", type=float, default=0.01)
    parser.add_argument("--role", choices=("agent", "customer"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "agent":
        asyncio.run(agent(args.port))
        return
    if args.role == "customer":
        asyncio.run(customer(args.port))
        return
    ordered = sorted(asyncio.run(rounds(args.n, args.gap)))
    print(json.dumps({"floor_p50_ms": round(ordered[len(ordered) // 2], 3),
                      "floor_p90_ms": round(ordered[int(len(ordered) * 0.9)], 3),
                      "floor_p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
                      "n": len(ordered), "gap_s": args.gap,
                      "path": "stdin -> agent -> TCP forwarder -> customer -> pty cat -> customer -> forwarder -> agent -> stdout"}))


if __name__ == "__main__":
    main()
