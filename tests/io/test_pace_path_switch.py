"""The customer's frame pace follows a switch between the relay and the direct path within
a round trip (issue 17; screen/pace.py ``reset``, runtime.py ``path_switched``).

Real relay and runtimes on 127.0.0.1, two real aiortc peers with the data channel up; the
agent reaches the relay through bench/netlink.py's shaper (150 ms each way), so a ping
answered through the relay takes at least 300 ms by construction, and one answered on the
direct path (loopback) has no such floor. The customer's regular pings are a minute apart:
a sample taken within seconds of a switch can only come from the ping the switch sent. What
is asserted holds on any machine: which path carried a sample (the shaper's floor), and that
the pace is that one sample's (reset: the old path's average is gone), not ~7/8 of the old.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from cobrowse.io import rtc
from cobrowse.io.agent import AgentRuntime
from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.link import RelayLink
from relay.server import RelayServer
from tests.io.test_frame_pace import ONE_WAY, shaped
from tests.io.test_resume import Recorder, stop
from tests.io.test_rtc import DIRECT, on_path

#: No new direct attempt after the fall back: the test watches one relay -> direct -> relay.
NO_RETRY = dataclasses.replace(DIRECT, retry_backoff=())
REGULAR_PINGS = 60.0
WAIT = 15.0


async def test_the_pace_follows_the_path_relay_direct_relay(relay: RelayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rtc, "OFFER_AFTER", 1.0)  # the first ping's pong (300 ms) comes back on the relay first
    async with shaped(relay.port, ONE_WAY) as agent_url:
        agent_events, customer_events = Recorder(), Recorder()
        agent = AgentRuntime(RelayLink(agent_url, "agent", reconnect_for=10), agent_events, rtc=NO_RETRY)
        code = await agent.create()
        customer = CustomerRuntime(RelayLink(f"ws://127.0.0.1:{relay.port}", "customer", reconnect_for=10),
                                   customer_events, rtc=NO_RETRY)
        agent.ping_every = customer.ping_every = REGULAR_PINGS
        samples: list[tuple[float, str, float]] = []  # (round trip, the customer's path, the pace's interval after it)
        measured = customer.rtt_measured

        def record(seconds: float) -> None:
            measured(seconds)
            samples.append((seconds, customer.rtc.path, customer.screen.link_interval))
            customer_events.changed.set()

        customer.rtt_measured = record  # type: ignore[method-assign]
        await customer.join(code)
        tasks = [asyncio.create_task(agent.run()), asyncio.create_task(customer.run())]
        try:
            await customer_events.until(lambda: samples, WAIT, "the first ping's round trip (at pairing, on the relay)")
            first, path, interval = samples[0]
            assert path == "relay" and first >= 2 * ONE_WAY and interval == first / 2

            await on_path(agent_events, "direct")
            await on_path(customer_events, "direct")
            await customer_events.until(lambda: len(samples) >= 2, WAIT, "a round trip on the direct path")
            direct, path, interval = samples[1]
            print(f"relay {first * 1000:.1f} ms, then direct {direct * 1000:.1f} ms: interval {interval * 1000:.2f} ms")
            assert path == "direct" and direct < 2 * ONE_WAY  # the pong did not cross the shaper
            assert interval == direct / 2  # the direct path's own pace; without the reset: >= 7/16 of 300 ms

            before = len(samples)
            await customer.rtc._data_pc.close()  # type: ignore[union-attr]  # the customer's network drops the path
            await on_path(customer_events, "relay")
            await customer_events.until(lambda: len(samples) > before, WAIT, "a round trip on the relay again")
            back, path, interval = samples[before]
            print(f"back on the relay: {back * 1000:.1f} ms, interval {interval * 1000:.2f} ms")
            assert path == "relay" and back >= 2 * ONE_WAY  # through the shaper both ways
            assert interval == min(back / 2, 0.25)  # at once, not 1/8 of the way from the direct path's
            assert customer.outcome is None and agent.outcome is None
        finally:
            await stop(tasks, agent, customer)
