"""The floor under bench/key_latency.py: a key's round trip through cobrowse's process hops
and nothing else.

    python bench/key_floor.py [--n 400] [--gap 0.01] [--relay | --two]

The same hops as control mode: this script writes a line to an "agent" process's stdin, the
agent sends the key over TCP to a forwarder running in this process (the relay's place),
which passes it to a "customer" process, which writes it to a pty running `cat`; the echo
goes back the same way and the agent prints a line that this script reads. Plain asyncio
streams: no websockets, no sealing, no JSON, no terminal emulation, no redaction. What is
left is what the hops and three event loops cost on this machine; cobrowse's own work is
the difference to key_latency's ``p50_ms``. With ``--relay`` the forwarder is cobrowse's
relay and the two sides speak websockets to it (open, claim, confirm, then binary frames):
the hops plus the relay and websockets, still without sealing, JSON or a screen. With
``--two`` there is no forwarder: the agent and the customer hold the two ends of one TCP
connection on 127.0.0.1 (a shape with the relay off a local key's path: two processes and
four wake-ups instead of three and six). The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pty
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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


async def _connect(port: int, fd: int | None) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    if fd is not None:  # --two: our end of the connection the bench made
        return await asyncio.open_connection(sock=socket.socket(fileno=fd))
    return await asyncio.open_connection("127.0.0.1", port)


async def agent(port: int, fd: int | None = None) -> None:
    """Keys from stdin to the forwarder; a line on stdout for each echo that comes back."""
    reader, writer = await _connect(port, fd)
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


async def customer(port: int, fd: int | None = None) -> None:
    """Keys from the forwarder into a pty running `cat`; its output back to the forwarder."""
    reader, writer = await _connect(port, fd)
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp("cat", ["cat"])
    asyncio.get_running_loop().add_reader(fd, lambda: writer.write(os.read(fd, 65536)))
    while data := await reader.read(65536):
        os.write(fd, data)


async def ws_agent(port: int) -> None:
    """``agent`` over websockets through cobrowse's relay: open, print the nameplate, confirm
    once the customer claimed, then keys out and a line per echo."""
    from websockets.asyncio.client import connect

    from cobrowse.wire.envelope import Confirm, Open

    ws = await connect(f"ws://127.0.0.1:{port}", compression=None)
    await ws.send(Open("agent", 1).encode())
    out = sys.stdout.buffer
    out.write(json.loads(await ws.recv())["nameplate"].encode() + b"\n")
    out.flush()
    while json.loads(await ws.recv()) != {"type": "peer", "state": "joined"}:
        pass
    await ws.send(Confirm().encode())
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)

    async def keys() -> None:
        while line := await stdin.readline():
            await ws.send(line.strip())

    task = asyncio.create_task(keys())
    async for data in ws:
        if isinstance(data, bytes):
            out.write(b"echo %d\n" % len(data))
            out.flush()
    task.cancel()


async def ws_customer(port: int, nameplate: str) -> None:
    """``customer`` over websockets through cobrowse's relay: claim, then the pty's bytes."""
    from websockets.asyncio.client import connect

    from cobrowse.wire.envelope import Claim

    ws = await connect(f"ws://127.0.0.1:{port}", compression=None)
    await ws.send(Claim("customer", 1, nameplate).encode())
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp("cat", ["cat"])
    echoes: asyncio.Queue[bytes] = asyncio.Queue()
    asyncio.get_running_loop().add_reader(fd, lambda: echoes.put_nowait(os.read(fd, 65536)))

    async def back() -> None:
        while True:
            await ws.send(await echoes.get())

    task = asyncio.create_task(back())
    async for data in ws:
        if isinstance(data, bytes):
            os.write(fd, data)
    task.cancel()


async def rounds(n: int, gap: float, relay: bool, two: bool = False) -> list[float]:
    fds: list[int] = []
    if two:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            near = socket.create_connection(listener.getsockname())
            far, _ = listener.accept()
        for sock in (near, far):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        fds = [near.detach(), far.detach()]
        port = 0
    elif relay:
        from relay.config import RelayConfig
        from relay.server import serve_relay

        ours = await serve_relay(RelayConfig(host="127.0.0.1", port=0))
        port = ours.port
    else:
        server = await forwarder()
        port = server.sockets[0].getsockname()[1]
    me = [sys.executable, os.path.abspath(__file__)]
    side = await asyncio.create_subprocess_exec(*me, "--role", "agent", "--port", str(port), *(["--relay"] if relay else []),
                                                *(["--fd", str(fds[0])] if two else []), pass_fds=fds[:1],
                                                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert side.stdin is not None and side.stdout is not None
    extra: list[str] = []
    if relay:
        extra = ["--relay", "--nameplate", (await asyncio.wait_for(side.stdout.readline(), 10)).decode().strip()]
    elif two:
        extra = ["--fd", str(fds[1])]
    else:
        await asyncio.sleep(0.3)  # the agent connects first: the forwarder pairs in order
    other = await asyncio.create_subprocess_exec(*me, "--role", "customer", "--port", str(port), *extra, pass_fds=fds[1:])
    for fd in fds:
        os.close(fd)
    samples: list[float] = []
    try:
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
        if relay:
            ours.close()
            await ours.wait_closed()
        elif not two:
            server.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--gap", type=float, default=0.01)
    parser.add_argument("--relay", action="store_true", help="cobrowse's relay and websockets instead of a TCP forwarder")
    parser.add_argument("--two", action="store_true", help="no forwarder: the two sides on one TCP connection")
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--role", choices=("agent", "customer"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--nameplate", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "agent":
        asyncio.run(ws_agent(args.port) if args.relay else agent(args.port, args.fd))
        return
    if args.role == "customer":
        asyncio.run(ws_customer(args.port, args.nameplate) if args.relay else customer(args.port, args.fd))
        return
    ordered = sorted(asyncio.run(rounds(args.n, args.gap, args.relay, args.two)))
    print(json.dumps({"floor_p50_ms": round(ordered[len(ordered) // 2], 3),
                      "floor_p90_ms": round(ordered[int(len(ordered) * 0.9)], 3),
                      "floor_p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
                      "n": len(ordered), "gap_s": args.gap,
                      "path": "stdin -> agent -> {0} -> customer -> pty cat -> customer -> {0} -> agent -> stdout".format(
                          "websockets + cobrowse's relay" if args.relay else "TCP forwarder")
                      if not args.two else "stdin -> agent -> TCP -> customer -> pty cat -> customer -> TCP -> agent -> stdout"}))


if __name__ == "__main__":
    main()
