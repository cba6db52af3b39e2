"""A key carried out where it arrives (issue 17, keys5): a frame handled from the link's read
callback when nothing waits before it (``SessionRuntime._take_now``), a ``keys`` line from
stdin's read callback (``CommandReader``), a key's small echo taken before the customer's
terminal write (``Passthrough``'s ``first`` hook, ``CustomerRuntime.echo_first``).

What must hold whatever path a frame takes: order (keys, and keys between messages that must
wait), consent (a refused key is never written), no output fed twice, back-pressure. Real
relay and runtimes on 127.0.0.1, real ptys and pipes; no timing asserted; waits bounded.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from cobrowse.io.headless import CommandReader, serve_commands
from cobrowse.io.link import ITEMS_HIGH, Frame, LinkItems, PeerChanged, RelayLink
from cobrowse.io.pty_passthrough import Passthrough
from cobrowse.io.pty_process import PtyProcess
from cobrowse.io.pty_terminal import LocalTerminal
from cobrowse.io.runtime import SessionRuntime
from cobrowse.protocol import messages as m
from tests.io.test_resume import Recorder, paired_runtimes, stop


async def _control(agent_events: Recorder, customer: Any) -> None:
    await customer.run_command("grant_control")
    await customer.run_command("grant_control")  # an unverified agent: the second press grants
    await agent_events.until(lambda: any(e["level"] == "control" for e in agent_events.of("consent")))


def _chats(events: Recorder) -> list[str]:
    return [e["text"] for e in events.of("chat")]


async def test_a_burst_of_keys_between_messages_that_wait_keeps_its_order(relay_url: str) -> None:
    agent, agent_events, customer, events, program, tasks = await paired_runtimes(relay_url)
    try:
        await _control(agent_events, customer)
        taken = customer.frames_taken
        want = b""
        for i in range(60):
            await agent.send(m.Keys(f"{i},"))  # no wait for an echo: several frames a read
            want += f"{i},".encode()
            if i % 7 == 3:
                await agent.send(m.Chat(f"chat {i}"))  # the customer's answer to it must wait (an event, a task)
        await agent.send(m.Chat("sync"))
        await events.until(lambda: "sync" in _chats(events), timeout=10)
        assert bytes(program) == want
        assert _chats(events) == [f"chat {i}" for i in range(60) if i % 7 == 3] + ["sync"]
        assert customer.frames_taken > taken  # the read callback's way was taken
    finally:
        await stop(tasks, agent, customer)


async def test_a_key_the_customer_did_not_allow_is_never_written(relay_url: str) -> None:
    agent, agent_events, customer, events, program, tasks = await paired_runtimes(relay_url)
    try:
        for _ in range(20):
            await agent.send(m.Keys("touch pwned\r"))
        await agent.send(m.Chat("sync 1"))
        await events.until(lambda: "sync 1" in _chats(events), timeout=10)
        assert bytes(program) == b""
        await _control(agent_events, customer)
        await agent.send(m.Keys("a"))
        async with asyncio.timeout(10):
            while bytes(program) != b"a":
                await asyncio.sleep(0.01)
        await customer.run_command("revoke")
        await agent_events.until(lambda: agent_events.of("consent")[-1]["level"] != "control")
        await agent.send(m.Keys("b"))
        await agent.send(m.Chat("sync 2"))
        await events.until(lambda: "sync 2" in _chats(events), timeout=10)
        assert bytes(program) == b"a"
    finally:
        await stop(tasks, agent, customer)


def test_the_link_offers_a_frame_only_when_nothing_is_queued_before_it() -> None:
    items = LinkItems()
    offered: list[bytes] = []
    accept = True

    def take(frame: Frame) -> bool:
        offered.append(frame.data)
        return accept

    items.take = take
    items.put_nowait(Frame(b"one"))
    assert offered == [b"one"] and items.empty() and items.queued_bytes == 0
    items.put_nowait(PeerChanged("joined"))
    items.put_nowait(Frame(b"two"))  # behind the peer change: queued, never offered
    assert offered == [b"one"] and items.qsize() == 2 and items.queued_bytes == 3
    assert items.get_nowait() == PeerChanged("joined") and items.get_nowait() == Frame(b"two")
    accept = False  # the runtime is busy (a frame's rest still running): the frame queues
    items.put_nowait(Frame(b"three"))
    assert offered[-1] == b"three" and items.qsize() == 1 and items.queued_bytes == 5
    for i in range(ITEMS_HIGH):  # and what queues is bounded as before: the high-water mark holds
        items.put_frame(Frame(b"x"), None)
    assert items.full_now()


async def test_stdin_keys_are_carried_out_from_the_read_callback_in_order(relay_url: str) -> None:
    agent, agent_events, customer, events, program, tasks = await paired_runtimes(relay_url)
    reader = CommandReader()
    serving = asyncio.create_task(serve_commands(agent, reader))
    try:
        await _control(agent_events, customer)
        async with asyncio.timeout(5):
            while not reader.idle:
                await asyncio.sleep(0.01)
        session = agent.session
        assert session is not None
        sent = session.bytes_sent
        reader.feed_data(b'{"cmd": "keys", "data": "1"}\n')
        assert session.bytes_sent > sent  # sealed and written in the callback, before any task ran
        lines = [{"cmd": "chat", "text": "between"}, {"cmd": "keys", "data": "2"}, {"cmd": "keys", "data": 5},
                 {"cmd": "keys", "data": "3"}]
        reader.feed_data(b"".join(json.dumps(line).encode() + b"\n" for line in lines))  # several lines: the loop's
        reader.feed_data(b'{"cmd": "keys", "data": "4"}\n')  # behind them: the loop's too, in order
        reader.feed_data(b'{"cmd": "chat", "text": "sync"}\n')
        await events.until(lambda: "sync" in _chats(events), timeout=10)
        await agent_events.until(lambda: any(e.get("cmd") == "keys" for e in agent_events.of("error")), timeout=5)
        async with asyncio.timeout(10):
            while bytes(program) != b"1234":
                assert len(program) < 4 or bytes(program) == b"1234", bytes(program)
                await asyncio.sleep(0.01)
        assert _chats(events) == ["between", "sync"]
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        await stop(tasks, agent, customer)


async def test_the_first_hook_sees_a_read_before_the_terminal_and_the_observer_after() -> None:
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    os.set_blocking(out_r, False)
    seen: list[tuple[str, bytes, bytes]] = []

    def on_terminal() -> bytes:
        try:
            return os.read(out_r, 4096)
        except BlockingIOError:
            return b""

    def first(data: bytes) -> None:
        seen.append(("first", data, on_terminal()))

    def observer(data: bytes) -> None:
        seen.append(("observer", data, on_terminal()))

    try:
        async with asyncio.timeout(20):
            with LocalTerminal(in_r, out_w) as term:
                async with await PtyProcess.spawn(["sh", "-c", "printf 'abc'"], *term.size()) as proc:
                    assert await Passthrough(proc, term, observer=observer, first=first).run() == 0
    finally:
        for fd in (in_r, in_w, out_r, out_w):
            os.close(fd)
    reads = [data for kind, data, _ in seen if kind == "first"]
    assert b"".join(reads) == b"abc" and [data for kind, data, _ in seen if kind == "observer"] == reads
    for kind, data, terminal in seen:
        assert terminal == (b"" if kind == "first" else data)  # first: not yet on the terminal; observer: there


class Gated(SessionRuntime):
    """A side whose handling of the chat "slow" waits until ``gate`` opens: what it handled, in
    the order the handling finished."""

    def __init__(self, url: str, role: str) -> None:
        self.role = role
        self.got: list[str] = []
        self.gate = asyncio.Event()
        super().__init__(RelayLink(url, role), lambda event: None, name=role)

    async def on_message(self, message: m.AppMessage) -> None:
        if isinstance(message, m.Chat):
            if message.text == "slow":
                await self.gate.wait()
            self.got.append(message.text)


async def test_a_frame_whose_handling_waits_holds_back_the_frames_after_it(relay_url: str) -> None:
    agent = Gated(relay_url, "agent")
    code = await agent.create()
    customer = Gated(relay_url, "customer")
    await customer.join(code)
    tasks = [asyncio.create_task(agent.run()), asyncio.create_task(customer.run())]
    try:
        async with asyncio.timeout(10):
            while agent.peer is None or customer.peer is None:
                await asyncio.sleep(0.01)
        await agent.send(m.Chat("before"))
        async with asyncio.timeout(10):
            while customer.got != ["before"]:
                await asyncio.sleep(0.01)
        assert customer.frames_taken >= 1  # the read callback's way
        for text in ("slow", "after 1", "after 2"):
            await agent.send(m.Chat(text))
        async with asyncio.timeout(10):
            while customer.link.items.qsize() < 2:  # the two after "slow" queue behind it
                await asyncio.sleep(0.01)
        assert customer.got == ["before"]  # "slow" waits, and what came after it waits behind it
        customer.gate.set()
        async with asyncio.timeout(10):
            while len(customer.got) < 4:
                await asyncio.sleep(0.01)
        assert customer.got == ["before", "slow", "after 1", "after 2"]
    finally:
        for side in (agent, customer):
            side.finish("test_over", "", 0)
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_the_command_reader_offers_only_a_whole_line_with_nothing_before_it() -> None:
    reader = CommandReader()
    offered: list[bytes] = []
    reader.at_once = lambda line: offered.append(line) is None and line.startswith(b"take")
    reader.feed_data(b"take 1\n")  # the loop is not waiting for a line (busy with one): buffered
    assert offered == [] and await reader.readline() == b"take 1\n"
    reader.idle = True
    reader.feed_data(b"take 2\n")
    assert offered == [b"take 2\n"]
    reader.feed_data(b"leave 3\n")  # offered, refused: buffered
    reader.feed_data(b"take 4\n")  # behind a buffered line: never offered
    reader.feed_data(b"take")
    reader.feed_data(b" 5\n")  # a line's end, or a read of two lines: never offered
    reader.feed_data(b"take 6\ntake 7\n")
    assert offered == [b"take 2\n", b"leave 3\n"]
    assert [await reader.readline() for _ in range(5)] == [b"leave 3\n", b"take 4\n", b"take 5\n", b"take 6\n",
                                                           b"take 7\n"]
