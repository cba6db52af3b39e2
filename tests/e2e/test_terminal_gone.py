"""`cobrowse join` exits when its terminal goes away, always (issue 11, item 7).

The customer runs on a real pty that is its controlling terminal (``PtyCustomer``); closing
the master side is what closing the terminal window does. Each way the terminal can go
(the window closed, SIGHUP, SIGTERM, a piped stdin running out) must end the session for
the agent as the customer's end, kill the shared program and exit within a bounded time.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from harness import Proc
from hostile_agent import HostileAgent, PtyCustomer
from tests.waiting import until

from cobrowse.protocol import messages as m

EXIT_WAIT = 15.0  # the bound the fix must meet, with room for a loaded machine


def program(tmp_path: Path) -> tuple[str, Path]:
    """A shared program that ignores its input and says where it runs (its pid)."""
    pidfile = tmp_path / "program.pid"
    return f"sh -c 'echo $$ > {pidfile}; exec sleep 600'", pidfile


async def program_pid(pidfile: Path) -> int:
    await until(lambda: pidfile.exists() and pidfile.read_text().strip(), "the shared program's pid file", 20)
    return int(pidfile.read_text())


async def assert_gone(pid: int) -> None:
    """The shared program was killed (bounded wait: the kernel reaps it after its parent left)."""
    try:
        async with asyncio.timeout(10):
            while True:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
                await asyncio.sleep(0.05)
    except TimeoutError:
        os.kill(pid, signal.SIGKILL)
        raise AssertionError(f"the shared program (pid {pid}) outlived cobrowse join") from None


async def paired_on_a_terminal(relay_url: str, command: str, *, plain: bool = True) -> tuple[HostileAgent, PtyCustomer]:
    agent = await HostileAgent.open(relay_url, name="Alice")
    customer = await PtyCustomer.start(relay_url, str(agent.code), command=command, plain=plain)
    await agent.paired()
    await agent.expect(m.Hello)
    await agent.expect(m.Consent)
    return agent, customer


async def assert_ended_by_customer(agent: HostileAgent) -> m.End:
    end: m.End = await agent.expect(m.End, timeout=EXIT_WAIT)
    assert end.reason == "customer_ended"
    assert end.message  # a clear reason for the agent
    return end


@pytest.mark.parametrize("how", ["window_closed", "sighup", "sigterm"])
async def test_plain_join_exits_when_its_terminal_goes_away(relay_url: str, tmp_path: Path, how: str) -> None:
    command, pidfile = program(tmp_path)
    agent, customer = await paired_on_a_terminal(relay_url, command)
    try:
        pid = await program_pid(pidfile)
        await customer.wait_for(b"Your terminal is visible")
        if how == "window_closed":
            customer.close_terminal()
        else:
            customer.proc.send_signal(signal.SIGHUP if how == "sighup" else signal.SIGTERM)
        await assert_ended_by_customer(agent)
        status = await customer.wait_exit(EXIT_WAIT)
        assert status >= 0, f"killed by signal {-status}: the signal was not handled"
        await assert_gone(pid)
        if how == "sigterm":  # the terminal is still there: it was restored and told why
            await customer.wait_for(b"session ended")
    finally:
        await customer.stop()
        await agent.close()


async def test_plain_join_exits_when_piped_stdin_ends_and_the_program_ignores_eof(relay_url: str, tmp_path: Path) -> None:
    """stdin is a pipe (scripted use): its end sends the program an EOF character, as
    before; a program that carries on regardless no longer keeps cobrowse running."""
    command, pidfile = program(tmp_path)
    agent = await HostileAgent.open(relay_url)
    customer = await Proc.start("join", str(agent.code), "--relay", relay_url, "--command", command, name="customer")
    try:
        await agent.paired()
        pid = await program_pid(pidfile)
        await customer.stderr_line("Your terminal is visible")
        assert customer.proc.stdin is not None
        customer.proc.stdin.close()
        await assert_ended_by_customer(agent)
        assert await customer.wait(EXIT_WAIT) == 0
        await assert_gone(pid)
        assert any("session ended" in line for line in customer.stderr_lines)
    finally:
        await customer.kill()
        await agent.close()


async def test_a_second_signal_stops_at_once_even_with_the_session_unfinished(relay_url: str, tmp_path: Path) -> None:
    """SIGTERM twice: the second one never waits for the session to end properly."""
    command, pidfile = program(tmp_path)
    agent, customer = await paired_on_a_terminal(relay_url, command)
    try:
        pid = await program_pid(pidfile)
        customer.proc.send_signal(signal.SIGTERM)
        customer.proc.send_signal(signal.SIGTERM)
        assert await customer.wait_exit(EXIT_WAIT) >= 0
        await assert_gone(pid)
    finally:
        await customer.stop()
        await agent.close()


@pytest.mark.parametrize("how", ["window_closed", "sigterm"])
async def test_the_customer_app_exits_when_its_terminal_goes_away(relay_url: str, tmp_path: Path, how: str) -> None:
    command, pidfile = program(tmp_path)
    agent, customer = await paired_on_a_terminal(relay_url, command, plain=False)
    try:
        pid = await program_pid(pidfile)
        await agent.screen(lambda lines: True)  # the app runs the session
        if how == "window_closed":
            customer.close_terminal()
        else:
            customer.proc.send_signal(signal.SIGTERM)
        await assert_ended_by_customer(agent)
        assert await customer.wait_exit(EXIT_WAIT) >= 0
        await assert_gone(pid)
    finally:
        await customer.stop()
        await agent.close()
