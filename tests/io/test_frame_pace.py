"""The customer's frames follow the link's round trip (issue 17; screen/pace.py): each sealed
ping's round trip reaches the customer's ScreenSender, which then sends at most one frame per
half the smoothed round trip.

Real relay and runtimes on 127.0.0.1, a real program writing a steady log on a real pty; the
agent reaches the relay through bench/netlink.py's userspace shaper (150 ms each way: a
300 ms round trip, where the steady rate alone would send 15 frames a second and the link's
pace allows 6.7). What is asserted holds on any machine: the shaper makes every round trip at
least 300 ms, and the token bucket then allows at most one frame per 150 ms (plus its burst);
a slow machine sends fewer, never more. The figures seen are printed (pytest -s).
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from cobrowse.io.customer import ECHO_BURST, CustomerRuntime
from relay.server import RelayServer
from tests.io.runtime_pair import runtime_pair
from tests.waiting import until

NETLINK = Path(__file__).resolve().parents[2] / "bench" / "netlink.py"
ENV = {"PATH": "/usr/bin:/bin", "TERM": "xterm-256color"}
ONE_WAY = 0.15
WINDOW = 3.0
#: A log line every 10 ms for a while: output that never pauses (the steady rate's case).
WRITER = ("import sys,time\nfor i in range(2000):\n sys.stdout.write('log line %d ' % i + 'x' * 60 + '\\n')\n"
          " sys.stdout.flush()\n time.sleep(0.01)\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def shaped(relay_port: int, one_way: float) -> AsyncIterator[str]:
    """The relay's URL through the shaper: ``one_way`` s each way, no loss."""
    port = free_port()
    shaper = await asyncio.create_subprocess_exec(sys.executable, str(NETLINK), "shaper", str(one_way), "0", "1",
                                                  f"{port}:127.0.0.1:{relay_port}", stdout=asyncio.subprocess.PIPE)
    try:
        assert shaper.stdout is not None
        async with asyncio.timeout(10):
            assert await shaper.stdout.readline() == b"ready\n"
        yield f"ws://127.0.0.1:{port}"
    finally:
        shaper.kill()
        await shaper.wait()


async def frames_per_second(relay: RelayServer, agent_url: str) -> tuple[CustomerRuntime, float]:
    """A session whose customer runs the steady log; the customer's frames a second over
    WINDOW s once its round trip is known, and the customer (for what it measured)."""
    async with runtime_pair(relay, [sys.executable, "-c", WRITER], ENV, predict=False, agent_url=agent_url) as pair:
        agent_events, customer = pair.agent_events, pair.customer
        await agent_events.until(lambda: any("log line" in line for e in agent_events.of("screen")[-1:] for line in e["lines"]),
                                 timeout=15, what="the log on the agent's screen")
        await until(lambda: customer.screen.link_interval > 0, "the customer's first round trip", 15)
        await asyncio.sleep(1.0)  # the steady rate settles
        t0, n0 = customer.now, customer.frames_sent
        await asyncio.sleep(WINDOW)
        t1, n1 = customer.now, customer.frames_sent
        assert customer.outcome is None
        return customer, (n1 - n0) / (t1 - t0)


async def test_a_300ms_round_trip_paces_the_frames(relay: RelayServer) -> None:
    async with shaped(relay.port, ONE_WAY) as agent_url:
        customer, rate = await frames_per_second(relay, agent_url)
    print(f"shaped RTT {2 * ONE_WAY * 1000:.0f} ms: last ping {customer.rtt_ms:.1f} ms, interval "
          f"{customer.screen.link_interval * 1000:.1f} ms, {rate:.1f} frames/s")
    assert customer.rtt_ms is not None and customer.rtt_ms >= 2000 * ONE_WAY  # every ping crossed the shaper twice
    assert customer.screen.link_interval >= ONE_WAY  # half of each sample, so half of their average
    assert 0 < rate <= 1 / ONE_WAY + (ECHO_BURST + 1) / WINDOW  # 6.7 a second (the steady rate alone: 15)


async def test_on_loopback_the_round_trip_is_measured_and_frames_go_on(relay: RelayServer) -> None:
    customer, rate = await frames_per_second(relay, f"ws://127.0.0.1:{relay.port}")
    print(f"loopback: last ping {customer.rtt_ms:.1f} ms, interval {customer.screen.link_interval * 1000:.2f} ms, "
          f"{rate:.1f} frames/s")
    assert customer.rtt_ms is not None and customer.screen.link_interval > 0
    assert 0 < rate <= 30 + (ECHO_BURST + 1) / WINDOW
