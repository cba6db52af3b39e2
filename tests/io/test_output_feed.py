"""The customer runtime's feed with skip-ahead (io/customer.py): output queued while the
event loop runs, in the sizes and pauses a pty gives, ends on the screen a full feed gives."""

from __future__ import annotations

import asyncio
import random

from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.output_feed import DEFER_BELOW, PLAIN_DEFER_BELOW, QUIET
from cobrowse.io.link import RelayLink
from cobrowse.screen import Emulator
from cobrowse.screen.sync import ScreenSender


def _stream(rng: random.Random) -> list[bytes]:
    """Bursts of coloured log lines, progress lines, a scroll region set and reset, cursor
    moves, the alternate screen: what a build prints, in 4 KB pieces."""
    parts: list[bytes] = []
    n = 0
    for burst in range(30):
        kind = burst % 6
        if kind == 2:
            parts.append(b"\x1b[3;20r\x1b[20;1H")
        elif kind == 3:
            parts.append(b"\x1b[r\x1b[5A\x1b[2K")
        elif kind == 5:
            parts.append(b"\x1b[?1049h\x1b[Hfull screen\x1b[?1049l")
        for _ in range(rng.randint(50, 3000)):
            n += 1
            if rng.random() < 0.1:
                parts.append(b"\r\x1b[Kprogress %d%%" % (n % 100))
            else:
                parts.append(b"\x1b[2m12:00:%02d\x1b[0m \x1b[32mINFO\x1b[0m step %d done\r\n" % (n % 60, n))
    data = b"".join(parts) + b"$ "
    return [data[i : i + 4096] for i in range(0, len(data), 4096)]


async def test_queued_output_ends_on_the_full_feeds_screen() -> None:
    runtime = CustomerRuntime(RelayLink("ws://127.0.0.1:9", "customer"), lambda event: None, cols=80, rows=24)
    reference = Emulator(80, 24)
    rng = random.Random(7)
    for i, chunk in enumerate(_stream(rng)):
        runtime.program_output(chunk)
        reference.feed(chunk)
        if i % 50 == 0:
            await asyncio.sleep(0.02)  # a pause: the view follows
        elif i % 5 == 0:
            await asyncio.sleep(0)
    runtime.feed_pending()
    assert runtime.screen.state() == reference.state()
    assert runtime.output.skip.skipped_bytes > 0


async def test_small_output_waits_for_the_frame_and_the_frame_feeds_it() -> None:
    """Output up to DEFER_BELOW (an echo, a line of a slow log, in several pty reads) waits for
    the frame the rate next allows, and the frame feeds it before it is polled (feed_due), so
    it shows in that frame, in one feed, exactly as a full feed."""
    runtime = CustomerRuntime(RelayLink("ws://127.0.0.1:9", "customer"), lambda event: None, cols=80, rows=24)
    reference = Emulator(80, 24)
    # a frame every 5 s, so that the next one surely waits (no timing in this test)
    screen = runtime.screen = ScreenSender(80, 24, fps=0.2, steady_fps=None, redactor=runtime.redactor)
    runtime.output._screen = screen
    screen.feed(b".")
    reference.feed(b".")
    assert screen.poll(runtime.now) is not None  # a frame just went: the next one waits
    data = b"".join(b"\x1b[32mINFO\x1b[0m step %d done\r\n" % n for n in range(DEFER_BELOW // 40))
    assert len(data) <= DEFER_BELOW
    for i in range(0, len(data), 512):
        runtime.program_output(data[i : i + 512])
        reference.feed(data[i : i + 512])
        await asyncio.sleep(0)
    assert runtime.output.pending  # waiting for the frame, not fed per read
    screen.expedite(runtime.now)  # the frame may go now
    runtime.output.feed_due()  # what _send_frame does before it polls
    assert not runtime.output.pending
    assert screen.state() == reference.state()


async def test_plain_mode_feeds_steady_output_once_a_frame_and_skips_what_scrolled_through() -> None:
    """Plain mode's ``defer_below`` (PLAIN_DEFER_BELOW): a frame's worth of a 1 MB/s log (~66 KB
    at 15 frames/s, in 4 KB pty reads) waits for the frame and is fed in one go, so the lines
    that scroll through are never parsed, and the screen is still exactly a full feed's."""
    runtime = CustomerRuntime(RelayLink("ws://127.0.0.1:9", "customer"), lambda event: None, cols=80, rows=24)
    runtime.output.defer_below = PLAIN_DEFER_BELOW
    reference = Emulator(80, 24)
    screen = runtime.screen = ScreenSender(80, 24, fps=0.2, steady_fps=None, redactor=runtime.redactor)
    runtime.output._screen = screen
    screen.feed(b".")
    reference.feed(b".")
    assert screen.poll(runtime.now) is not None  # a frame just went: the next one waits
    data = b"".join(b"\x1b[2m12:00:%02d\x1b[0m \x1b[32mINFO\x1b[0m step %d done\r\n" % (n % 60, n) for n in range(1600))
    assert DEFER_BELOW < len(data) <= PLAIN_DEFER_BELOW
    for i in range(0, len(data), 4096):
        runtime.program_output(data[i : i + 4096])
        reference.feed(data[i : i + 4096])
        await asyncio.sleep(0)
    assert runtime.output.pending  # no feed per read: all of it waits for the frame
    screen.expedite(runtime.now)
    runtime.output.feed_due()
    assert not runtime.output.pending
    assert runtime.output.skip.skipped_bytes > len(data) // 2  # most of it scrolled through unparsed
    assert screen.state() == reference.state()


async def test_a_burst_while_the_frame_is_free_is_not_fed_whole_from_the_pty_read() -> None:
    """In the app only the frame's own feed takes up to PLAIN_DEFER_BELOW at once: a 64 KB pty read while
    the frame may go now (a flood starting) follows the flood rules (the program's terminal
    first), so the app's pane and the frames do not redraw the flood's first reads at once;
    the screen ends exactly as a full feed's."""
    runtime = CustomerRuntime(RelayLink("ws://127.0.0.1:9", "customer"), lambda event: None, cols=80, rows=24)
    assert runtime.output.defer_below == PLAIN_DEFER_BELOW  # the app's runtime as plain mode's
    reference = Emulator(80, 24)
    data = b"".join(b"\x1b[2m12:00:%02d\x1b[0m \x1b[32mINFO\x1b[0m step %d done\r\n" % (n % 60, n) for n in range(1500))
    assert DEFER_BELOW < 4 * DEFER_BELOW < len(data) <= PLAIN_DEFER_BELOW
    assert runtime.screen.ready_at(runtime.now) <= runtime.now  # the frame is free
    reference.feed(data)
    loop = asyncio.get_running_loop()
    read_at = loop.time()
    runtime.program_output(data)
    await asyncio.sleep(0)  # the pty read's feed step
    if loop.time() - read_at < QUIET:  # (a machine that stalled for QUIET may feed it: the rule)
        assert runtime.output.pending  # not parsed in the read's step
    assert runtime.output.burst_below < len(data)  # (plain mode sets PLAIN_DEFER_BELOW: fed whole)
    for _ in range(200):  # the flood rules feed it once the output pauses (QUIET)
        if not runtime.output.pending:
            break
        await asyncio.sleep(0.01)
    assert not runtime.output.pending
    assert runtime.screen.state() == reference.state()
