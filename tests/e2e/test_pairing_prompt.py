"""``cobrowse join`` with no code: the prompt on a real pty, the code typed as a terminal sends
it, against a real relay and a real headless agent on 127.0.0.1 (cobrowse/cli/code_prompt.py).

Pairing through the prompt (plain mode and the app), a malformed code refused with the line
given back, Ctrl-D and Ctrl-C leaving with nothing left running, no terminal and no code, the
relay down said at once. Every wait bounded; no timing asserted."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from typing import Any

import pytest

from tests.e2e.harness import start_agent
from tests.e2e.pty_join import BASH, PROMPT, WAIT, PtyProc, assert_terminal_restored, children, paired_then_ended


async def _joined_through_prompt(relay_url: str, *extra: str) -> tuple[Any, PtyProc]:
    agent = await start_agent(relay_url)
    code = (await agent.event("code"))["code"]
    customer = await PtyProc.start("join", "--relay", relay_url, "--command", BASH, *extra)
    await customer.until(PROMPT)
    await customer.type(code.encode())  # as a terminal sends typing: bytes, then Enter's CR
    await customer.type(b"\r")
    await agent.event("paired")
    await agent.screen(lambda lines: any(line.startswith("$") for line in lines))
    return agent, customer


async def test_plain_pairs_through_the_prompt(relay_url: str) -> None:
    agent, customer = await _joined_through_prompt(relay_url, "--plain")
    try:
        await customer.until("Compare these words")
        await customer.type(b"echo typed-$((6*7))\r")
        await agent.screen(lambda lines: any("typed-42" in line for line in lines))
        await agent.send({"cmd": "end"})
        assert await customer.wait() == 0
    finally:
        await agent.kill()
        await customer.close()


async def test_the_app_pairs_through_the_prompt(relay_url: str) -> None:
    agent, customer = await _joined_through_prompt(relay_url)
    try:
        await customer.until("Your terminal is visible")
        await agent.send({"cmd": "end"})
        assert await customer.wait() == 0
    finally:
        await agent.kill()
        await customer.close()


async def test_a_malformed_code_is_refused_and_kept_to_fix(relay_url: str) -> None:
    agent = await start_agent(relay_url)
    code = (await agent.event("code"))["code"]
    customer = await PtyProc.start("join", "--relay", relay_url, "--command", BASH, "--plain")
    try:
        first = await customer.until(PROMPT)
        await customer.type(code[:-3].encode() + b"\r")  # digits missing
        refused = await customer.until("too short for a session code", after=first)
        second = await customer.until(PROMPT, after=refused)
        assert customer.text()[second:].rstrip().endswith(code[:-3])  # the line comes back as typed
        await customer.type(code[-3:].encode() + b"\r")  # finished, not retyped
        await paired_then_ended(agent, customer)
    finally:
        await agent.kill()
        await customer.close()


async def _leaves(relay_url: str, key: bytes, expected: int, *extra: str) -> str:
    customer = await PtyProc.start("join", "--relay", relay_url, "--command", BASH, *extra)
    try:
        await customer.until(PROMPT)
        await customer.type(b"42-71")
        await customer.until("42-71")
        if key == b"\x04":
            await customer.type(b"\x15")  # Ctrl-D leaves on an empty line
        await customer.type(key)
        assert await customer.wait() == expected, customer.text()
        assert children(customer.proc.pid) == []
        assert_terminal_restored(customer)
        return customer.text()
    finally:
        await customer.close()


async def test_ctrl_d_leaves_cleanly(relay_url: str) -> None:
    text = await _leaves(relay_url, b"\x04", 0, "--plain")
    assert "no code entered: nothing was shared" in text


async def test_ctrl_c_leaves_cleanly(relay_url: str) -> None:
    text = await _leaves(relay_url, b"\x03", 130)
    assert "interrupted" in text


async def test_sigterm_at_the_prompt_leaves_the_terminal_as_it_was(relay_url: str) -> None:
    customer = await PtyProc.start("join", "--relay", relay_url, "--plain")
    try:
        await customer.until(PROMPT)
        customer.proc.send_signal(signal.SIGTERM)
        assert await customer.wait() == 0
        assert_terminal_restored(customer)
    finally:
        await customer.close()


async def test_no_terminal_and_no_code_is_a_usage_error(relay_url: str) -> None:
    env = {**os.environ, "COBROWSE_CONFIG": os.devnull, "COBROWSE_LANG": "en"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "cobrowse", "join", "--relay", relay_url,
                                                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, env=env)
    async with asyncio.timeout(WAIT):
        out, err = await proc.communicate(b"")
    assert proc.returncode == 2
    assert "no code given" in err.decode() and "cobrowse join 42-7193-0518" in err.decode()


async def test_relay_down_is_said_at_the_prompt() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for extra in (("--plain",), ()):
        customer = await PtyProc.start("join", "--relay", f"ws://127.0.0.1:{port}", "--command", BASH, *extra)
        try:
            await customer.until("cannot reach the relay")
            assert await customer.wait() == 3
            assert children(customer.proc.pid) == []
        finally:
            await customer.close()


def _unknown(code: str) -> str:
    """``code`` with another nameplate: a typo the relay knows no session for."""
    nameplate, secret = code.split("-", 1)
    return f"{int(nameplate) % 90 + 10 if int(nameplate) < 99 else 10}-{secret}"


async def test_no_session_with_that_code_asks_again_with_the_line_kept(relay_url: str) -> None:
    """A mistyped nameplate burns nothing: the message, the prompt again with what was typed
    (the app never starts), the typo fixed in place, then the session pairs (plain and app)."""
    for extra in (("--plain",), ()):
        agent = await start_agent(relay_url)
        code = (await agent.event("code"))["code"]
        customer = await PtyProc.start("join", "--relay", relay_url, "--command", BASH, *extra)
        try:
            first = await customer.until(PROMPT)
            wrong = _unknown(code)
            await customer.type(wrong.encode() + b"\r")
            refused = await customer.until("no session with that code: check the digits", after=first)
            second = await customer.until(PROMPT, after=refused)
            await customer.until(wrong, after=second)
            assert customer.text()[second:].rstrip().endswith(wrong)  # the line, kept for editing
            assert customer.proc.returncode is None and "could not start" not in customer.text()
            await customer.type(b"\x15" + code.encode() + b"\r")  # Ctrl-U, the right code
            await paired_then_ended(agent, customer, "Compare these words" if extra else "Your terminal is visible",
                                    after=second)
        finally:
            await agent.kill()
            await customer.close()


async def test_an_expired_code_asks_again_on_an_empty_line(relay_url: str) -> None:
    """A code whose session has ended is asked again, but not kept on the line: the customer
    needs a new code from the agent, and had 12 characters to delete first."""
    agent = await start_agent(relay_url)
    code = (await agent.event("code"))["code"]
    await agent.send({"cmd": "end"})
    await agent.event("ended")
    customer = await PtyProc.start("join", "--relay", relay_url, "--command", BASH, "--plain")
    try:
        first = await customer.until(PROMPT)
        await customer.type(code.encode() + b"\r")
        refused = await customer.until("expired", after=first)
        second = await customer.until(PROMPT, after=refused)
        await asyncio.sleep(0.3)  # what would be drawn after the prompt
        line = customer.text()[second:]
        assert code not in line and line.rstrip().endswith("):"), line  # the prompt, nothing typed after it
        assert customer.proc.returncode is None
    finally:
        await agent.kill()
        await customer.close()


async def test_retries_are_bounded_then_end_as_on_the_command_line(relay_url: str) -> None:
    from cobrowse.cli.code_prompt import MAX_TRIES

    customer = await PtyProc.start("join", "--relay", relay_url, "--command", BASH, "--plain")
    try:
        after = 0
        for _ in range(MAX_TRIES):
            after = await customer.until(PROMPT, after=after) + 1
            await customer.type(b"\x1510-2345-6789\r")
        assert await customer.wait() == 4
        assert customer.text().count("no session with that code") == MAX_TRIES
        assert customer.text().count(PROMPT) == MAX_TRIES
        assert children(customer.proc.pid) == []
        assert_terminal_restored(customer)
    finally:
        await customer.close()


async def test_a_wrong_secret_burns_the_code_and_ends(relay_url: str) -> None:
    """The right nameplate with wrong digits reached the session: the key exchange fails, the
    code is burnt, and that ends as with the code on the command line (exit 5), not asked again."""
    agent = await start_agent(relay_url)
    code = (await agent.event("code"))["code"]
    nameplate, secret = code.split("-", 1)
    wrong = f"{nameplate}-{'1111' if not secret.startswith('1111') else '2222'}{secret[4:]}"
    customer = await PtyProc.start("join", "--relay", relay_url, "--command", BASH, "--plain")
    try:
        await customer.until(PROMPT)
        await customer.type(wrong.encode() + b"\r")
        assert await customer.wait() == 5
        assert customer.text().count(PROMPT) == 1
        assert children(customer.proc.pid) == []
    finally:
        await agent.kill()
        await customer.close()


async def test_ctrl_c_right_after_pairing_tells_the_agent_the_customer_left(relay_url: str) -> None:
    """Ctrl-C between pairing and the app's start (QA: the agent read "the app did not start",
    as if cobrowse had failed). The window is the app's start-up: when the app won, the key
    went to the shell, and the case is not reached."""
    agent = await start_agent(relay_url)
    code = (await agent.event("code"))["code"]
    customer = await PtyProc.start("join", code, "--relay", relay_url, "--command", BASH)
    try:
        await agent.event("paired")
        await customer.type(b"\x03")
        try:
            status = await customer.wait(timeout=3)
        except TimeoutError:
            pytest.skip("the app started before Ctrl-C: the key went to the shared shell")
        assert status == 130, customer.text()
        ended = await agent.event("ended")
        assert "did not start" not in ended["message"], ended
        assert "left" in ended["message"], ended
        assert children(customer.proc.pid) == []
        assert_terminal_restored(customer)
    finally:
        await agent.kill()
        await customer.close()
