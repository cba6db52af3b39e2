"""Steady output's frames leave from the deferred feed's own timer (``CustomerRuntime._due_frame``):
one callback a frame instead of that timer waking the ticker for a pass of its own (a second
timer, a task step, another loop pass and the periodic checks: ~0.3 ms a frame cold, 15 frames a
second). The frames are the same; the agent's view ends on the customer's screen. Real relay and
runtimes (tests/io/test_resume.py's pair)."""

from __future__ import annotations

import asyncio

from tests.io.test_idle_ticker import _quiet
from tests.io.test_resume import paired_runtimes, stop


async def test_steady_output_sends_its_frames_without_ticker_passes(relay_url: str) -> None:
    agent, agent_events, customer, events, program, tasks = await paired_runtimes(relay_url)
    try:
        customer.output.defer_below = 128 * 1024
        await _quiet(agent, customer)
        frames = passes = 0
        for i in range(300):  # ~4 s of a log at ~10 KB/s, in reads of a line
            if i == 150:  # (the first frames: a burst at the full frame rate before the steady one)
                frames, passes = customer.frames_sent, customer.passes
            customer.program_output(b"2026-12-07 12:00:%02d.%03d INFO worker %d: request handled in 3 ms\r\n" % (i // 60, i, i))
            await asyncio.sleep(0.013)
        sent = customer.frames_sent - frames
        ran = customer.passes - passes
        assert sent >= 15, sent  # the frame rate's share of 2 s (15/s steady)
        # a pass per frame before (the feed's timer woke the ticker); now the pings', their answers'
        # and one for a frame the timer could not send at once (the socket busy: the ticker's)
        assert ran < sent / 2, (ran, sent)
        want = customer.screen.state().lines()
        async with asyncio.timeout(10):
            while agent.mirror.state is None or agent.mirror.state.lines() != want:
                await asyncio.sleep(0.05)
        assert customer.outcome is None and agent.outcome is None
    finally:
        await stop(tasks, agent, customer)



async def test_a_screen_frame_does_not_keep_the_ticker_busy(relay_url: str) -> None:
    """Output after a quiet spell is fed at once and its frame sent by the ticker's pass: that
    frame is not activity (``stir``), or each would keep the ticker at TICK for QUIET_AFTER s."""
    agent, agent_events, customer, events, program, tasks = await paired_runtimes(relay_url)
    try:
        await _quiet(agent, customer)
        frames = customer.frames_sent
        customer.program_output(b"one line after a pause\r\n")
        async with asyncio.timeout(5):
            while customer.frames_sent == frames:
                await asyncio.sleep(0.01)
        assert customer.now >= customer._busy_until
    finally:
        await stop(tasks, agent, customer)
