"""An emulated network for the benchmarks: two network namespaces, a veth, a delay and loss.

    python bench/netlink.py shaper DELAY_S LOSS SEED LISTEN_PORT:HOST:PORT [...]
    python bench/netlink.py bridge PORT -- ARGV...     (a pty running ARGV, served on TCP PORT)
    python bench/netlink.py pipe HOST PORT             (stdin -> TCP, TCP -> stdout)

:class:`Link` builds, in order of preference:

``netem``      namespaces ``<tag>-cust`` and ``<tag>-agent`` joined by a veth pair, each end
               with ``tc qdisc ... netem delay RTT/2 loss L`` (the kernel's own emulation);
``userspace``  the same namespaces and veth, but the kernel has no ``sch_netem`` (``tc`` says
               "Specified qdisc kind is unknown"): the delay and loss are added by the
               ``shaper`` below, a TCP forwarder in the agent's namespace that every
               agent-side connection goes through;
``loopback``   no namespaces (not root, no ``ip``, ``ip netns add`` refused): everything on
               127.0.0.1 with the same ``shaper``.

The reason for each step down is kept in :attr:`Link.notes` and reported by the benchmark.

The shaper's model of TCP over a lossy path: each chunk read on one side is written to the
other side ``DELAY_S`` later (one way); a chunk of ``n`` bytes is lost with probability
``1 - (1 - LOSS) ** ceil(n / 1448)`` and then arrives a retransmission timeout later
(``max(0.2, 4 × DELAY_S)``: Linux's 200 ms minimum RTO, or the tail-loss probe at two
round trips); chunks never overtake each other (TCP delivers in order, so one loss delays
what follows: head-of-line blocking, as a real TCP connection suffers). ``LOSS`` applies in
each direction. The TCP handshake: a client's ``connect()`` to the shaper returns at once
(loopback), so what it sends is held until a round trip after the connection was accepted,
plus the one-way delay (as if connect had taken its round trip over the link): a client that
connected early, and sends later, pays no handshake, as over a real link. Everything here is for bench/ scripts only: never imported by cobrowse.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve()
MSS = 1448
CUST_ADDR = "10.231.0.2"
AGENT_ADDR = "10.231.0.1"


def _run(*argv: str) -> str:
    """Run a setup command; raise RuntimeError with its stderr when it fails."""
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {(proc.stderr or proc.stdout).strip() or f'exit {proc.returncode}'}")
    return proc.stdout


@dataclass
class Link:
    """Where each side runs and how to reach the other one (see the module docstring)."""

    rtt_ms: float
    loss: float
    tag: str = field(default_factory=lambda: f"lt{os.getpid()}")
    mode: str = "loopback"
    notes: list[str] = field(default_factory=list)
    cust_ns: str | None = None
    agent_ns: str | None = None
    _made: list[str] = field(default_factory=list)

    @property
    def cust_addr(self) -> str:
        """The customer side's address as the agent side reaches it (before any shaper)."""
        return CUST_ADDR if self.cust_ns else "127.0.0.1"

    @property
    def shaped(self) -> bool:
        """True when agent-side connections must go through the userspace shaper."""
        return self.mode != "netem"

    def setup(self) -> None:
        if os.geteuid() != 0 or shutil.which("ip") is None:
            self.notes.append("network namespaces need root and iproute2's ip: loopback with the userspace shaper")
            return
        cust, agent = f"{self.tag}-cust", f"{self.tag}-agent"
        try:
            for ns in (cust, agent):
                _run("ip", "netns", "add", ns)
                self._made.append(ns)
            _run("ip", "link", "add", f"{self.tag}a", "type", "veth", "peer", "name", f"{self.tag}c")
            for dev, ns, addr in ((f"{self.tag}a", agent, AGENT_ADDR), (f"{self.tag}c", cust, CUST_ADDR)):
                _run("ip", "link", "set", dev, "netns", ns)
                _run("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
                _run("ip", "-n", ns, "link", "set", dev, "up")
                _run("ip", "-n", ns, "link", "set", "lo", "up")
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            self.notes.append(f"network namespaces unavailable ({exc}): loopback with the userspace shaper")
            self.teardown()
            return
        self.cust_ns, self.agent_ns = cust, agent
        self.mode = "userspace"
        try:
            for dev, ns in ((f"{self.tag}a", agent), (f"{self.tag}c", cust)):
                _run("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root", "netem",
                     "delay", f"{self.rtt_ms / 2:g}ms", "loss", f"{self.loss * 100:g}%")
            self.mode = "netem"
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            self.notes.append(f"tc netem unavailable ({exc}; this kernel has no sch_netem): "
                              "namespaces and veth kept, delay and loss added by the userspace shaper "
                              "(bench/netlink.py) on every agent-side connection")

    def teardown(self) -> None:
        for ns in reversed(self._made):  # deleting a namespace deletes its veth end, and the peer with it
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
        self._made.clear()
        self.cust_ns = self.agent_ns = None

    def wrap(self, side: str, argv: list[str]) -> list[str]:
        """``argv`` run in the customer's (``"cust"``) or the agent's (``"agent"``) namespace."""
        ns = self.cust_ns if side == "cust" else self.agent_ns
        return ["ip", "netns", "exec", ns, *argv] if ns else argv

    def describe(self) -> str:
        if self.mode == "netem":
            return f"namespaces {self.cust_ns} / {self.agent_ns}, veth, tc netem delay {self.rtt_ms / 2:g} ms + loss {self.loss:.1%} each way"
        where = f"namespaces {self.cust_ns} / {self.agent_ns} joined by a veth" if self.cust_ns else "loopback"
        return f"{where}; userspace shaper in the agent's side: {self.rtt_ms / 2:g} ms each way, {self.loss:.1%} loss each way (TCP retransmission modelled)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- roles (run as subprocesses)

async def _shape(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float, loss: float,
                 rng: random.Random, not_before: float = 0.0) -> None:
    loop = asyncio.get_running_loop()
    rto = max(0.2, 4 * delay)
    last = not_before
    try:
        while chunk := await reader.read(65536):
            lost = 1 - (1 - loss) ** math.ceil(len(chunk) / MSS)
            at = max(loop.time() + delay + (rto if rng.random() < lost else 0.0), last + 1e-6)
            last = at
            loop.call_at(at, writer.write, chunk)
    finally:
        loop.call_at(last + 1e-6, writer.close)


async def shaper(delay: float, loss: float, seed: int, rules: list[str]) -> None:
    rng = random.Random(seed)

    def handler(host: str, port: int):  # type: ignore[no-untyped-def]
        async def on_client(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            try:
                ur, uw = await asyncio.open_connection(host, port)
            except OSError:
                w.close()
                return
            for s in (w, uw):
                sock = s.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # The client's connect() returned at once (loopback); over the link its SYN and
            # SYN-ACK take a round trip, so nothing it sent arrives before then plus one way.
            handshake = asyncio.get_running_loop().time() + 3 * delay
            await asyncio.gather(_shape(r, uw, delay, loss, rng, handshake), _shape(ur, w, delay, loss, rng),
                                 return_exceptions=True)
        return on_client

    servers = []
    for rule in rules:
        listen, host, port = rule.split(":")
        servers.append(await asyncio.start_server(handler(host, int(port)), "127.0.0.1", int(listen)))
    print("ready", flush=True)
    await asyncio.Event().wait()


def bridge(port: int, argv: list[str]) -> None:
    """Serve one TCP connection: a pty (80x24) running ``argv``, bytes both ways (ssh-less ssh)."""
    import fcntl
    import pty
    import struct
    import termios

    srv = socket.create_server(("0.0.0.0", port))
    print("ready", flush=True)
    conn, _ = srv.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        os.execvp(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    print(f"pid {pid}", flush=True)

    def up() -> None:
        try:
            while data := conn.recv(65536):
                os.write(fd, data)
        except OSError:
            pass

    threading.Thread(target=up, daemon=True).start()
    try:
        while data := os.read(fd, 65536):
            conn.sendall(data)
    except OSError:
        pass


def pipe(host: str, port: int) -> None:
    conn = socket.create_connection((host, port), timeout=10)
    conn.settimeout(None)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def up() -> None:
        try:
            while data := os.read(0, 65536):
                conn.sendall(data)
        except OSError:
            pass
        conn.close()

    threading.Thread(target=up, daemon=True).start()
    try:
        while data := conn.recv(65536):
            os.write(1, data)
    except OSError:
        pass


def main() -> None:
    role, *rest = sys.argv[1:]
    if role == "shaper":
        asyncio.run(shaper(float(rest[0]), float(rest[1]), int(rest[2]), rest[3:]))
    elif role == "bridge":
        bridge(int(rest[0]), rest[2:])
    elif role == "pipe":
        pipe(rest[0], int(rest[1]))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main()
