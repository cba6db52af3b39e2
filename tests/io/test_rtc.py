"""The direct path: sealed frames over a real WebRTC data channel between two real aiortc
peers on 127.0.0.1, and the fall back to the relay with nothing lost or applied twice."""

from __future__ import annotations

import asyncio
from typing import Any

from cobrowse.io.agent import AgentRuntime
from cobrowse.io.customer import CustomerRuntime
from cobrowse.protocol.inbound import Budget, RateLimits
from cobrowse.io.link import RelayLink
from cobrowse.voice.settings import RtcSettings
from cobrowse.protocol.messages import Chat
from relay.server import RelayServer
from tests.io.test_resume import Recorder, stop
from tests.waiting import until

DIRECT = RtcSettings(direct=True, ice_hosts=("127.0.0.1",), mic="tone:440", speaker="none")


async def paired(url: str, agent_rtc: RtcSettings = DIRECT, customer_rtc: RtcSettings = DIRECT) -> tuple[Any, ...]:
    agent_events, customer_events = Recorder(), Recorder()
    agent = AgentRuntime(RelayLink(url, "agent", reconnect_for=10), agent_events, rtc=agent_rtc)
    code = await agent.create()
    customer = CustomerRuntime(RelayLink(url, "customer", reconnect_for=10), customer_events, rtc=customer_rtc)
    customer.limits = RateLimits({}, default=Budget(1e6, 1e6))  # hundreds of chats carry the frames under test
    agent.policy.limits = RateLimits({}, default=Budget(1e6, 1e6))  # both ways
    await customer.join(code)
    tasks = [asyncio.create_task(agent.run()), asyncio.create_task(customer.run())]
    await agent_events.until(lambda: agent_events.of("paired"))
    await customer_events.until(lambda: customer_events.of("paired"))
    return agent, agent_events, customer, customer_events, tasks


def chats(events: Recorder) -> list[str]:
    return [e["text"] for e in events.of("chat")]


async def on_path(events: Recorder, path: str) -> None:
    await events.until(lambda: any(e["path"] == path for e in events.of("path")))


async def test_frames_take_the_direct_path_and_the_relay_forwards_none(relay: RelayServer, relay_url: str) -> None:
    agent, agent_events, customer, customer_events, tasks = await paired(relay_url)
    try:
        await on_path(agent_events, "direct")
        await on_path(customer_events, "direct")
        assert [e["via"] for e in agent_events.of("path")] == ["host"]  # two peers on 127.0.0.1
        relayed, _ = relay.rooms.traffic_total()
        for i in range(50):
            await agent.send(Chat(f"direct {i}"))
        await customer_events.until(lambda: len(chats(customer_events)) == 50)
        assert chats(customer_events) == [f"direct {i}" for i in range(50)]
        assert agent.rtc.direct_frames >= 50
        # The acknowledgements came back directly too: the relay forwarded nothing new.
        assert relay.rooms.traffic_total()[0] == relayed
    finally:
        await stop(tasks, agent, customer)


async def test_direct_path_drops_mid_stream_and_nothing_is_lost_or_repeated(relay_url: str) -> None:
    agent, agent_events, customer, customer_events, tasks = await paired(relay_url)
    try:
        await on_path(agent_events, "direct")
        await on_path(customer_events, "direct")
        for i in range(300):
            await agent.send(Chat(f"m{i}"))
            await customer.send(Chat(f"c{i}"))
            if i == 100:
                # A real teardown of the customer's peer connection, as when its network goes.
                await customer.rtc._data_pc.close()  # type: ignore[union-attr]
            if i % 25 == 0:
                await asyncio.sleep(0.01)
        await customer_events.until(lambda: len(chats(customer_events)) >= 300, timeout=20)
        await agent_events.until(lambda: len(chats(agent_events)) >= 300, timeout=20)
        assert chats(customer_events) == [f"m{i}" for i in range(300)]
        assert chats(agent_events) == [f"c{i}" for i in range(300)]
        assert agent_events.of("path")[-1]["path"] == "relay"
        assert customer_events.of("path")[-1]["path"] == "relay"
        assert agent.rtc.path == customer.rtc.path == "relay"
        assert not [e for e in agent_events.of("warning") + customer_events.of("warning") if e["kind"] == "malformed"]
    finally:
        await stop(tasks, agent, customer)


async def test_no_usable_candidates_keeps_the_session_on_the_relay(relay_url: str) -> None:
    # The customer offers no host candidates at all: ICE cannot succeed.
    no_hosts = RtcSettings(direct=True, ice_hosts=(), connect_timeout=3.0)
    agent, agent_events, customer, customer_events, tasks = await paired(
        relay_url, RtcSettings(direct=True, ice_hosts=("127.0.0.1",), connect_timeout=3.0), no_hosts)
    try:
        await agent_events.until(lambda: agent_events.of("path"), timeout=10)
        assert agent_events.of("path")[-1]["path"] == "relay"
        for i in range(20):
            await agent.send(Chat(f"r{i}"))
        await customer_events.until(lambda: len(chats(customer_events)) == 20)
        assert chats(customer_events) == [f"r{i}" for i in range(20)]
        assert agent.rtc.direct_frames == 0
    finally:
        await stop(tasks, agent, customer)


async def test_direct_path_off_on_one_side_stays_on_the_relay(relay: RelayServer, relay_url: str) -> None:
    agent, agent_events, customer, customer_events, tasks = await paired(
        relay_url, DIRECT, RtcSettings(direct=False))
    try:
        for i in range(10):
            await agent.send(Chat(f"x{i}"))
        await customer_events.until(lambda: len(chats(customer_events)) == 10)
        await asyncio.sleep(0.5)
        assert agent.rtc.path == customer.rtc.path == "relay"
        assert agent.rtc.direct_frames == 0
    finally:
        await stop(tasks, agent, customer)


# -- calls -----------------------------------------------------------------------------------


def voice_states(events: Recorder) -> list[str]:
    return [e["state"] for e in events.of("voice")]


async def test_a_call_carries_the_customers_tone_to_the_agent_only_after_consent(relay_url: str) -> None:
    from cobrowse.io.audio import NullSink
    from cobrowse.voice.level import dominant_frequency

    agent_rtc = RtcSettings(direct=False, ice_hosts=("127.0.0.1",), mic="none", speaker="none")
    customer_rtc = RtcSettings(direct=False, ice_hosts=("127.0.0.1",), mic="tone:660", speaker="none")
    agent, agent_events, customer, customer_events, tasks = await paired(relay_url, agent_rtc, customer_rtc)
    try:
        await agent.command({"cmd": "call"})
        await customer_events.until(lambda: "ringing" in voice_states(customer_events))
        await asyncio.sleep(0.5)
        # Ringing: the customer has not answered, so no audio path exists.
        assert agent.rtc._call_pc is None or agent.rtc.call.state == "calling"
        assert customer.rtc._call_pc is None and customer.rtc._mic is None
        await customer.rtc.accept_call()
        await agent_events.until(lambda: "active" in voice_states(agent_events), timeout=15)
        await customer_events.until(lambda: "active" in voice_states(customer_events), timeout=15)
        for pc in (agent.rtc._call_pc, customer.rtc._call_pc):  # Opus only, both ways
            audio = [line for line in pc.remoteDescription.sdp.splitlines() if line.startswith("a=rtpmap:")]
            assert audio and all("opus/48000" in line for line in audio), audio
        speaker = agent.rtc._speaker
        assert speaker is not None and isinstance(speaker.sink, NullSink)
        heard: list[bytes] = []
        speaker.sink.on_write = heard.append
        await until(lambda: len(heard) >= 50, "one second of audio at the agent", 10)
        received = b"".join(heard[-25:])
        assert abs(dominant_frequency(received, 48000) - 660) < 20
        assert agent.rtc.levels()[1] > 0.5  # the meter shows what the agent hears
        assert not [e for e in agent_events.of("warning") if e["kind"] == "rtc"]  # the short audio buffer took

        await customer.rtc.set_muted(True)
        await agent_events.until(lambda: agent_events.of("voice")[-1]["remote_muted"])
        await asyncio.sleep(0.4)  # what was in flight and in the jitter buffer plays out
        heard.clear()
        await until(lambda: len(heard) >= 25, "half a second of audio after muting", 10)
        from cobrowse.voice.level import level_db
        assert level_db(b"".join(heard)) < -60

        await agent.command({"cmd": "hangup"})
        await customer_events.until(lambda: voice_states(customer_events)[-1] == "ended")
        assert customer.rtc._mic is None and customer.rtc._call_pc is None
    finally:
        await stop(tasks, agent, customer)


async def test_customer_declines_and_no_audio_flows(relay_url: str) -> None:
    settings = RtcSettings(direct=False, ice_hosts=("127.0.0.1",), mic="tone:440", speaker="none")
    agent, agent_events, customer, customer_events, tasks = await paired(relay_url, settings, settings)
    try:
        await agent.command({"cmd": "call"})
        await customer_events.until(lambda: "ringing" in voice_states(customer_events))
        await customer.rtc.decline_call()
        await agent_events.until(lambda: voice_states(agent_events)[-1] == "ended")
        assert agent_events.of("voice")[-1]["reason"] == "declined"
        assert agent.rtc._call_pc is None and customer.rtc._mic is None
    finally:
        await stop(tasks, agent, customer)


async def test_no_sound_server_says_so_and_the_session_goes_on(relay_url: str, monkeypatch: Any) -> None:
    import pytest as _pytest

    from cobrowse.io.agent import CommandError

    monkeypatch.setenv("PULSE_SERVER", "unix:/nonexistent/pulse/native")
    settings = RtcSettings(direct=False, mic="default", speaker="default")
    agent, agent_events, customer, customer_events, tasks = await paired(relay_url, settings, settings)
    try:
        with _pytest.raises(CommandError, match="microphone|sound"):
            await agent.command({"cmd": "call"})
        await agent.command({"cmd": "chat", "text": "still here"})
        await customer_events.until(lambda: chats(customer_events) == ["still here"])
    finally:
        await stop(tasks, agent, customer)


async def test_a_direct_session_keeps_the_relays_idle_timeout_at_bay() -> None:
    from dataclasses import replace

    from relay.config import RelayConfig
    from relay.server import serve_relay

    server = await serve_relay(RelayConfig(host="127.0.0.1", port=0, idle_timeout=1.5, tick_interval=0.1))
    url = f"ws://127.0.0.1:{server.port}"
    try:
        fast = replace(DIRECT, keepalive=0.3)
        agent, agent_events, customer, customer_events, tasks = await paired(url, fast, fast)
        try:
            await on_path(agent_events, "direct")
            await on_path(customer_events, "direct")
            await asyncio.sleep(3.0)  # twice the idle timeout, every frame on the direct path
            assert agent.outcome is None and customer.outcome is None
            await agent.send(Chat("still paired"))
            await customer_events.until(lambda: chats(customer_events) == ["still paired"])
        finally:
            await stop(tasks, agent, customer)
        # The same relay still ends a session that really idles (on the relay path).
        idle = RtcSettings(direct=False)
        agent, agent_events, customer, customer_events, tasks = await paired(url, idle, idle)
        # Each side pings every 2 s on its own schedule: two schedules ~1 s apart (a loaded
        # machine pairs the sides that far apart) leave no 1.5 s gap. Idle means no pings.
        agent.ping_every = customer.ping_every = 60.0
        try:
            await agent_events.until(lambda: agent_events.of("ended"), timeout=10)
            assert agent_events.of("ended")[-1]["reason"] == "idle"
        finally:
            await stop(tasks, agent, customer)
    finally:
        server.close()
        await server.wait_closed()


async def test_after_a_fall_back_the_direct_path_comes_back(relay_url: str) -> None:
    from dataclasses import replace

    quick = replace(DIRECT, retry_backoff=(0.3,))
    agent, agent_events, customer, customer_events, tasks = await paired(relay_url, quick, quick)
    try:
        await on_path(agent_events, "direct")
        await on_path(customer_events, "direct")
        for i in range(100):
            await agent.send(Chat(f"a{i}"))
            if i == 30:
                await customer.rtc._data_pc.close()  # type: ignore[union-attr]  # the network drops
        await agent_events.until(lambda: [e["path"] for e in agent_events.of("path")] == ["direct", "relay", "direct"],
                                 timeout=20)
        await customer_events.until(lambda: customer.rtc.path == "direct", timeout=20)
        for i in range(100, 150):
            await agent.send(Chat(f"a{i}"))
        await customer_events.until(lambda: len(chats(customer_events)) >= 150, timeout=20)
        assert chats(customer_events) == [f"a{i}" for i in range(150)]
        assert agent.rtc.policy.attempts == 2
        # Bounded: one retry configured, so a second loss stays on the relay.
        await agent.rtc._data_pc.close()  # type: ignore[union-attr]
        await agent_events.until(lambda: agent_events.of("path")[-1]["path"] == "relay")
        await asyncio.sleep(1.0)
        assert agent.rtc.path == "relay" and agent.rtc.policy.attempts == 2
    finally:
        await stop(tasks, agent, customer)


async def test_an_unverified_agent_never_learns_the_customers_addresses(relay_url: str) -> None:
    """A customer who trusts an organisation, facing an agent without its credential, offers
    TURN candidates only; with no TURN server here that means no direct path at all."""
    import os
    import random
    import time

    from cobrowse.trust import OrgKey

    rng = random.Random(3)
    acme = OrgKey.generate("Acme", lambda n: rng.randbytes(n))
    book, alice = acme.issue("Alice", int(time.time()), 30, os.urandom)
    trusted = [book.trust(int(time.time()))]
    quick = RtcSettings(direct=True, ice_hosts=("127.0.0.1",), connect_timeout=3.0, retry_backoff=())

    async def run(identity: object) -> tuple[list[str], str, str]:
        agent_events, customer_events = Recorder(), Recorder()
        agent = AgentRuntime(RelayLink(relay_url, "agent", reconnect_for=10), agent_events, rtc=quick, identity=identity)
        code = await agent.create()
        customer = CustomerRuntime(RelayLink(relay_url, "customer", reconnect_for=10), customer_events, rtc=quick,
                                   trusted=trusted)
        await customer.join(code)
        answers: list[str] = []
        receive = agent.rtc.on_message

        async def noting(message: Any) -> None:  # what the customer's client told the agent
            if getattr(message, "kind", "") == "answer":
                answers.append(message.sdp)
            await receive(message)

        agent.rtc.on_message = noting  # type: ignore[method-assign]
        tasks = [asyncio.create_task(agent.run()), asyncio.create_task(customer.run())]
        try:
            await agent_events.until(lambda: agent_events.of("path") and answers, timeout=10)
            candidates = [line for line in answers[0].splitlines() if line.startswith("a=candidate")]
            return candidates, agent.rtc.path, customer_events.of("identity")[-1]["status"]
        finally:
            await stop(tasks, agent, customer)

    candidates, path, status = await run(None)
    assert status == "none" and path == "relay"
    assert not any("typ host" in c or "typ srflx" in c for c in candidates), candidates
    candidates, path, status = await run(alice)  # the same customer, a verified agent: direct
    assert status == "verified" and path == "direct"
    assert any("127.0.0.1" in c and "typ host" in c for c in candidates), candidates
