"""Calls in a team (docs/team.md): any admitted agent may call the customer, one call at a time
(the customer has one microphone). Real processes, a real relay on 127.0.0.1 and a private
PulseAudio server with null sinks (as tests/e2e/test_voice.py): speech goes in on the
customer's virtual microphone and comes out on the calling agent's virtual speaker.

Bob (invited) calls: the customer is rung as for the first agent, naming him, answers with
Ctrl-] t, and Bob hears the customer. Alice rings meanwhile: declined at once with why, the
customer never rung. The customer hangs up: Alice may call now, and is heard. Bob leaving
mid-call ends the call for the customer at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cobrowse.voice.level import correlation, level_db
from tests.e2e import pulse
from tests.e2e.harness import Proc
from tests.e2e.test_team import ASKED, answer

pytestmark = pytest.mark.skipif(bool(pulse.missing()), reason=f"needs {', '.join(pulse.missing())} (installed by .ci/run)")

SINKS = ("customer_mic", "alice_speaker", "bob_speaker", "quiet")


@pytest.fixture
def pulse_server(tmp_path: Path) -> Iterator[pulse.PulseServer]:
    with pulse.running(tmp_path, SINKS) as server:
        yield server


async def team_of_two(relay_url: str, server: pulse.PulseServer) -> tuple[Proc, Proc, Proc]:
    """Alice and the customer paired; Bob invited, joined and allowed."""
    env = {**server.env, "COBROWSE_DIRECT": "0"}

    async def agent(name: str, speaker: str, *extra: str) -> Proc:
        return await Proc.start("agent", "--headless", "--relay", relay_url, "--name", name, "--mic", "none",
                                "--speaker", speaker, *extra, name=f"agent {name}", env=env)

    alice = await agent("Alice", "alice_speaker")
    code = (await alice.event("code"))["code"]
    customer = await Proc.start("join", code, "--relay", relay_url, "--command", "bash --norc --noprofile",
                                "--mic", "customer_mic.monitor", "--speaker", "none", name="customer",
                                env={**env, "PS1": "$ ", "TERM": "xterm-256color"})
    await alice.event("hello", role="customer")
    await alice.send({"cmd": "invite"})
    bob = await agent("Bob", "bob_speaker", "--join", (await alice.event("invite"))["code"])
    await customer.stderr_line(ASKED)
    await answer(customer, b"y")
    await bob.event("sharing", active=True)
    return alice, bob, customer


def rung(customer: Proc, who: str) -> int:
    return sum(f"{who} is calling you" in line for line in customer.stderr_lines)


async def test_an_invited_agent_calls_one_call_at_a_time_then_the_other(
        relay_url: str, pulse_server: pulse.PulseServer, tmp_path: Path) -> None:
    wav, source = pulse.speech(tmp_path, "Please open the settings menu and click on network.")
    alice, bob, customer = await team_of_two(relay_url, pulse_server)
    try:
        await bob.send({"cmd": "call"})
        await customer.stderr_line("Bob (agent 2) is calling you (Ctrl-] t to answer")  # rung as the first agent is
        await customer.send(b"\x1dt")
        await bob.event("voice", state="active")
        await customer.stderr_line("call connected")
        heard = await pulse.heard_on(pulse_server, "bob_speaker", wav, tmp_path / "bob.raw")
        score, lag = correlation(source, heard, 48000)
        print(f"Bob hears: correlation {score:.2f}, lag {lag:.2f} s, level {level_db(heard):.1f} dBFS")
        assert score > 0.6, f"Bob's speaker did not carry the customer's speech (correlation {score:.2f})"

        await alice.send({"cmd": "call"})  # one microphone: Alice is told why, the customer is not rung
        declined = await alice.event("voice", state="ended")
        assert declined["reason"] == "declined"
        assert declined["detail"].startswith("the customer is on a call with Bob (agent 2)")
        assert rung(customer, "Alice") == 0
        assert bob.all("voice")[-1]["state"] == "active"  # Bob's call goes on

        await customer.send(b"\x1do")  # the customer hangs up
        await bob.event("voice", state="ended", reason="hung up")
        await customer.stderr_line("call ended")
        await alice.send({"cmd": "call"})  # now Alice may ring
        await customer.stderr_line("Alice (agent 1) is calling you")
        await customer.send(b"\x1dt")
        await alice.event("voice", state="active")
        heard = await pulse.heard_on(pulse_server, "alice_speaker", wav, tmp_path / "alice.raw")
        assert correlation(source, heard, 48000)[0] > 0.6, "Alice's speaker did not carry the customer's speech"
        assert rung(customer, "Bob (agent 2)") == 1
        await alice.send({"cmd": "hangup"})
        await customer.stderr_line("call ended (hung up)")
    finally:
        for proc in (alice, bob, customer):
            await proc.kill()


async def test_an_agent_leaving_mid_call_ends_the_call_and_the_other_may_ring(
        relay_url: str, pulse_server: pulse.PulseServer) -> None:
    alice, bob, customer = await team_of_two(relay_url, pulse_server)
    try:
        await bob.send({"cmd": "call"})
        await customer.stderr_line("Bob (agent 2) is calling you")
        await alice.send({"cmd": "call"})  # while Bob's ring waits for the customer's answer
        declined = await alice.event("voice", state="ended")
        assert "ringing the customer" in declined["detail"] and "Bob (agent 2)" in declined["detail"]
        await customer.send(b"\x1dt")
        await bob.event("voice", state="active")
        await bob.send({"cmd": "leave"})
        await bob.event("ended", reason="left")
        ended = await customer.stderr_line("call ended (")  # at once, not when the pairing closes later
        assert "the agent left the session" in ended or "the other side left" in ended
        await customer.stderr_line("Bob (agent 2) left the session")
        await alice.send({"cmd": "call"})
        await customer.stderr_line("Alice is calling you")  # alone again: named as a single agent is
        await customer.send(b"\x1do")  # declined by the customer
        await alice.event("voice", state="ended", reason="declined")
    finally:
        for proc in (alice, bob, customer):
            await proc.kill()


async def test_the_customer_removing_the_agent_on_the_call_ends_it_and_ending_the_session_too(
        relay_url: str, pulse_server: pulse.PulseServer) -> None:
    alice, bob, customer = await team_of_two(relay_url, pulse_server)
    try:
        await bob.send({"cmd": "call"})
        await customer.stderr_line("Bob (agent 2) is calling you")
        await customer.send(b"\x1dt")
        await bob.event("voice", state="active")
        await customer.send(b"\x1dl")  # remove which agent? the latest first: Bob
        await customer.stderr_line("Ctrl-] y removes Bob (agent 2)")
        await customer.send(b"\x1dy")
        await bob.event("ended", reason="viewer_removed")
        await customer.stderr_line("call ended (the customer removed the agent)")
        await alice.send({"cmd": "call"})  # Alice may ring now, and the customer's session ending ends her call
        await customer.stderr_line("Alice is calling you")
        await customer.send(b"\x1dt")
        await alice.event("voice", state="active")
        await customer.send(b"\x1de")
        await customer.send(b"\x1de")  # Ctrl-] e twice ends the session
        await alice.event("voice", state="ended")
        await alice.event("ended")
    finally:
        for proc in (alice, bob, customer):
            await proc.kill()
