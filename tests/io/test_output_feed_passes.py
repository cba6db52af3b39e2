"""A pty read while the frame waits (steady output) plans the deferred feed in the read's own
callback: no loop pass of its own for the decision (one a frame at 10 KB/s), and the output
still waits for the frame and shows in it exactly as a full feed."""

from __future__ import annotations

import asyncio

from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.link import RelayLink
from cobrowse.screen import Emulator
from cobrowse.screen.sync import ScreenSender


async def test_a_read_while_the_frame_waits_defers_without_a_loop_pass() -> None:
    runtime = CustomerRuntime(RelayLink("ws://127.0.0.1:9", "customer"), lambda event: None, cols=80, rows=24)
    reference = Emulator(80, 24)
    screen = runtime.screen = ScreenSender(80, 24, fps=0.2, steady_fps=None, redactor=runtime.redactor)
    feed = runtime.output
    feed._screen = screen
    screen.feed(b".")
    reference.feed(b".")
    assert screen.poll(runtime.now) is not None  # a frame just went: the next one waits 5 s
    line = b"\x1b[32mINFO\x1b[0m step 1 done\r\n"
    runtime.program_output(line)
    reference.feed(line)
    assert feed._deferred is not None  # the feed is planned for the frame, in the read itself
    assert feed._feed_handle is None  # and no call_soon pass was scheduled to decide it
    for n in range(2, 6):  # the next reads only queue
        line = b"\x1b[32mINFO\x1b[0m step %d done\r\n" % n
        runtime.program_output(line)
        reference.feed(line)
        assert feed._feed_handle is None
    await asyncio.sleep(0)
    assert feed.pending
    screen.expedite(runtime.now)
    feed.feed_due()  # what _send_frame does before it polls
    assert not feed.pending
    assert screen.state() == reference.state()


async def test_a_read_when_the_frame_may_go_is_fed_at_once_as_before() -> None:
    runtime = CustomerRuntime(RelayLink("ws://127.0.0.1:9", "customer"), lambda event: None, cols=80, rows=24)
    reference = Emulator(80, 24)
    feed = runtime.output
    runtime.program_output(b"$ echo hi\r\nhi\r\n$ ")  # nothing sent yet: the frame is free
    reference.feed(b"$ echo hi\r\nhi\r\n$ ")
    assert feed._deferred is None and feed._feed_handle is not None
    await asyncio.sleep(0)
    assert not feed.pending
    assert runtime.screen.state() == reference.state()
