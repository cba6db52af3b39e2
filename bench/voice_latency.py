"""Voice and the direct path: mouth-to-ear latency, sealed-frame latency and throughput by
path, and CPU per call.

    python bench/voice_latency.py [--trials 20] [--frames 2000]

Everything runs in this process on 127.0.0.1: a real relay, a paired AgentRuntime and
CustomerRuntime, real aiortc peer connections (host candidates on loopback).

- mouth_to_ear_ms: the customer's microphone is a tone source that stays silent until
  triggered; the clock starts at the first tone sample it hands to the call and stops when a
  20 ms frame written to the agent's sink holds the tone (Goertzel). With the default audio
  buffer (2 packets), and again with 1. Baseline, same run: two bare aiortc peer connections
  carrying the same source (aiortc's own 4-packet buffer), no cobrowse in between.
- sealed frames: one-way latency (both ends in this process, one clock) and throughput of
  sealed chat messages over the direct data channel vs through the relay, same sizes.
- cpu_per_call_pct: process CPU while a call is active minus while the same session idles,
  over the same wall time; both ends of the call are in this process, so it is the cost of
  one call at both ends (per end: half).
Progress on stderr; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiortc import RTCConfiguration, RTCPeerConnection  # noqa: E402

from cobrowse.io.agent import AgentRuntime  # noqa: E402
from cobrowse.io.audio import FRAME_S, RATE, Microphone, NullSink, Speaker, ToneSource  # noqa: E402
from cobrowse.io.customer import CustomerRuntime  # noqa: E402
from cobrowse.policy.events import as_json  # noqa: E402
from cobrowse.io.link import RelayLink  # noqa: E402
from cobrowse.voice.settings import RtcSettings  # noqa: E402
from cobrowse.io.webrtc import make_answer, restrict_host_addresses, take_answer  # noqa: E402
from cobrowse.protocol.messages import Chat  # noqa: E402
from cobrowse.voice.level import level_db, tone_power  # noqa: E402
from relay.config import RelayConfig  # noqa: E402
from relay.server import serve_relay  # noqa: E402

FREQ = 1000.0


def log(msg: str) -> None:
    print(f"[voice_latency] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


class Detector:
    """Timestamps the first sink frame that carries the tone after each trigger."""

    def __init__(self) -> None:
        self.armed = False
        self.heard_at: float | None = None

    def __call__(self, pcm: bytes) -> None:
        if self.armed and level_db(pcm) > -40 and tone_power(pcm, FREQ, RATE) > 0.5:
            self.heard_at = time.monotonic()
            self.armed = False


async def trials(source: ToneSource, detector: Detector, n: int) -> list[float]:
    out = []
    for _ in range(n):
        source.playing, source.onset = False, None
        await asyncio.sleep(0.6)  # silence: the jitter buffer drains
        detector.heard_at, detector.armed = None, True
        source.trigger()
        async with asyncio.timeout(5):
            while detector.heard_at is None or source.onset is None:
                await asyncio.sleep(0.002)
        out.append((detector.heard_at - source.onset) * 1000)
    source.playing = False
    return out


async def bare_mouth_to_ear(n: int) -> list[float]:
    """Two aiortc peers, the same tone source and sink, no cobrowse: the floor."""
    restrict_host_addresses(["127.0.0.1"])
    a, b = RTCPeerConnection(RTCConfiguration(iceServers=[])), RTCPeerConnection(RTCConfiguration(iceServers=[]))
    source, detector = ToneSource(FREQ, start_silent=True), Detector()
    a.addTrack(Microphone(source))
    speaker = Speaker(NullSink(on_write=detector))
    b.on("track", speaker.play)
    await a.setLocalDescription(await a.createOffer())
    await take_answer(a, await make_answer(b, a.localDescription.sdp))
    async with asyncio.timeout(15):
        while a.connectionState != "connected" or b.connectionState != "connected":
            await asyncio.sleep(0.01)
    try:
        return await trials(source, detector, n)
    finally:
        speaker.close()
        await a.close()
        await b.close()


class Events:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.chats: dict[str, float] = {}

    def __call__(self, typed: Any) -> None:
        event = as_json(typed)  # typed events or dicts, as the runtimes emit them
        self.items.append(event)
        if event.get("event") == "chat":
            self.chats[event["text"][:16]] = time.monotonic()

    async def until(self, check: Any, timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout):
            while not check():
                await asyncio.sleep(0.005)


async def paired(url: str, direct: bool, audio_buffer: int = 2
                 ) -> tuple[AgentRuntime, Events, CustomerRuntime, Events, list[asyncio.Task[Any]]]:
    settings = RtcSettings(direct=direct, ice_hosts=("127.0.0.1",), mic="tone:1000", speaker="none", echo_gate=False,
                           audio_buffer=audio_buffer)
    agent_events, customer_events = Events(), Events()
    agent = AgentRuntime(RelayLink(url, "agent"), agent_events, rtc=settings)
    code = await agent.create()
    customer = CustomerRuntime(RelayLink(url, "customer"), customer_events, rtc=settings)
    await customer.join(code)
    tasks = [asyncio.create_task(agent.run()), asyncio.create_task(customer.run())]
    await agent_events.until(lambda: agent.paired and customer.paired)
    if direct:
        await agent_events.until(lambda: agent.rtc.path == "direct" and customer.rtc.path == "direct")
    return agent, agent_events, customer, customer_events, tasks


async def sealed(url: str, direct: bool, count: int, size: int) -> dict[str, Any]:
    agent, _, customer, customer_events, tasks = await paired(url, direct)
    try:
        latencies = []
        for i in range(200):  # one at a time: latency
            tag = f"l{i:06d}"
            sent = time.monotonic()
            await agent.send(Chat(tag))
            await customer_events.until(lambda: tag in customer_events.chats)
            latencies.append((customer_events.chats[tag] - sent) * 1000)
        pad = "x" * (size - 16)
        start = time.monotonic()
        for i in range(count):  # back to back: throughput
            await agent.send(Chat(f"t{i:06d}".ljust(16) + pad))
        last = f"t{count - 1:06d}".ljust(16)
        await customer_events.until(lambda: last in customer_events.chats, timeout=120)
        elapsed = customer_events.chats[last] - start
        path = agent.rtc.path
        return {"path": path, "latency_ms_p50": pct(latencies, 0.5), "latency_ms_p99": pct(latencies, 0.99),
                "frames_per_s": round(count / elapsed, 1), "mb_per_s": round(count * size / elapsed / 1e6, 2)}
    finally:
        for rt in (agent, customer):
            if rt.outcome is None:
                await rt.end("agent_ended")
        await asyncio.gather(*tasks, return_exceptions=True)


async def call_figures(url: str, n: int, audio_buffer: int = 2) -> dict[str, Any]:
    agent, agent_events, customer, customer_events, tasks = await paired(url, direct=True, audio_buffer=audio_buffer)
    try:
        idle_cpu0, idle_t0 = time.process_time(), time.monotonic()
        await asyncio.sleep(5)
        idle_cpu = (time.process_time() - idle_cpu0) / (time.monotonic() - idle_t0)
        await agent.command({"cmd": "call"})
        await customer_events.until(lambda: customer.rtc.call.state == "ringing")
        await customer.rtc.accept_call()
        await agent_events.until(lambda: agent.rtc.call.state == "active" and customer.rtc.call.state == "active")
        detector = Detector()
        assert agent.rtc._speaker is not None and customer.rtc._mic is not None
        agent.rtc._speaker.sink = NullSink(on_write=detector)
        source = ToneSource(FREQ, start_silent=True)
        customer.rtc._mic.source = source
        await asyncio.sleep(1)
        call_cpu0, call_t0 = time.process_time(), time.monotonic()
        source.trigger()
        await asyncio.sleep(5)
        call_cpu = (time.process_time() - call_cpu0) / (time.monotonic() - call_t0)
        log(f"cpu: idle session {idle_cpu * 100:.1f}%, with a call {call_cpu * 100:.1f}% of a core")
        latencies = await trials(source, detector, n)
        return {"latencies": latencies, "cpu_per_call_pct": round((call_cpu - idle_cpu) * 100, 1),
                "path": agent.rtc.path}
    finally:
        for rt in (agent, customer):
            if rt.outcome is None:
                await rt.end("agent_ended")
        await asyncio.gather(*tasks, return_exceptions=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--frames", type=int, default=2000, help="sealed frames for the throughput runs")
    parser.add_argument("--size", type=int, default=1024, help="bytes per sealed message")
    args = parser.parse_args()
    relay = await serve_relay(RelayConfig(host="127.0.0.1", port=0))
    url = f"ws://127.0.0.1:{relay.port}"
    try:
        log("bare aiortc pair: mouth to ear")
        bare = await bare_mouth_to_ear(args.trials)
        log(f"bare p50 {pct(bare, 0.5)} ms")
        log("cobrowse call: mouth to ear and CPU")
        call = await call_figures(url, args.trials)
        log(f"cobrowse p50 {pct(call['latencies'], 0.5)} ms")
        log("cobrowse call with a 1-packet audio buffer")
        lowest = await call_figures(url, args.trials, audio_buffer=1)
        log(f"cobrowse (1 packet) p50 {pct(lowest['latencies'], 0.5)} ms")
        log("sealed frames over the direct path")
        direct = await sealed(url, True, args.frames, args.size)
        log(f"direct: {direct}")
        log("sealed frames through the relay")
        relayed = await sealed(url, False, args.frames, args.size)
        log(f"relay: {relayed}")
    finally:
        relay.close()
        await relay.wait_closed()
    m2e = pct(call["latencies"], 0.5)
    bare_m2e = pct(bare, 0.5)
    print(json.dumps({
        "mouth_to_ear_ms": m2e,
        "mouth_to_ear_ms_p90": pct(call["latencies"], 0.9),
        "mouth_to_ear_ms_audio_buffer_1": pct(lowest["latencies"], 0.5),
        "audio_buffer_packets": 2,
        "bare_mouth_to_ear_ms": bare_m2e,
        "ratio_vs_bare": round(m2e / bare_m2e, 2) if m2e and bare_m2e else None,
        "call_path": call["path"],
        "cpu_per_call_pct": call["cpu_per_call_pct"],
        "direct": direct,
        "relay": relayed,
        "direct_vs_relay_latency": round(relayed["latency_ms_p50"] / direct["latency_ms_p50"], 2)
        if direct["latency_ms_p50"] else None,
        "direct_vs_relay_throughput": round(direct["frames_per_s"] / relayed["frames_per_s"], 2),
        "frame_ms": FRAME_S * 1000,
        "trials": args.trials,
    }))


if __name__ == "__main__":
    asyncio.run(main())
