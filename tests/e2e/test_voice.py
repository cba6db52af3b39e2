"""Calls through real processes and a real PulseAudio server: speech made with espeak-ng goes
in on the customer's virtual microphone and comes out on the agent's virtual speaker."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

import pulse
from cobrowse.voice.level import correlation, level_db
from harness import Proc

pytestmark = pytest.mark.skipif(bool(pulse.missing()), reason=f"needs {', '.join(pulse.missing())} (installed by .ci/run)")

SINKS = ("customer_mic", "agent_speaker", "quiet")


@pytest.fixture
def pulse_server(tmp_path: Path) -> Iterator[pulse.PulseServer]:
    with pulse.running(tmp_path, SINKS) as server:
        yield server


async def call_pair(relay_url: str, server: pulse.PulseServer, *, direct: bool) -> tuple[Proc, Proc]:
    env = {**server.env, "COBROWSE_DIRECT": "1" if direct else "0"}
    agent = await Proc.start("agent", "--headless", "--relay", relay_url, "--mic", "none",
                             "--speaker", "agent_speaker", name="agent", env=env)
    code = (await agent.event("code"))["code"]
    customer = await Proc.start("join", code, "--relay", relay_url, "--command", "bash --norc --noprofile",
                                "--mic", "customer_mic.monitor", "--speaker", "none", name="customer",
                                env={**env, "PS1": "$ ", "TERM": "xterm-256color"})
    await agent.event("paired")
    await customer.stderr_line("Compare these words")
    return agent, customer


async def test_speech_crosses_the_call_and_mute_silences_it(relay_url: str, pulse_server: pulse.PulseServer,
                                                            tmp_path: Path) -> None:
    wav, source = pulse.speech(tmp_path, "Please open the settings menu and click on network.")
    agent, customer = await call_pair(relay_url, pulse_server, direct=True)
    try:
        await agent.event("path", path="direct")
        await agent.send({"cmd": "call"})
        await customer.stderr_line("is calling you")
        assert not agent.all("voice") or agent.all("voice")[-1]["state"] == "calling"
        await customer.send(b"\x1dt")  # the customer answers: Ctrl-] t
        await agent.event("voice", state="active")
        await customer.stderr_line("call connected")

        heard = await pulse.heard_on(pulse_server, "agent_speaker", wav, tmp_path / "heard.raw")
        score, lag = correlation(source, heard, 48000)
        print(f"speech: correlation {score:.2f}, lag {lag:.2f} s, level {level_db(heard):.1f} dBFS")
        assert score > 0.6, f"the agent's speaker did not carry the speech (correlation {score:.2f})"
        assert 0.0 < lag < 1.5
        assert level_db(heard) > -45

        await customer.send(b"\x1du")  # mute
        await agent.event("voice", remote_muted=True)
        await asyncio.sleep(0.3)
        muted = await pulse.heard_on(pulse_server, "agent_speaker", wav, tmp_path / "muted.raw")
        assert level_db(muted) < -70, "muted, the agent must hear nothing"

        await agent.send({"cmd": "hangup"})
        await customer.stderr_line("call ended")
        await agent.send({"cmd": "chat", "text": "after the call"})
        await customer.stderr_line("after the call")
    finally:
        await agent.kill()
        await customer.kill()


async def test_a_call_over_the_relay_path_works_too(relay_url: str, pulse_server: pulse.PulseServer,
                                                    tmp_path: Path) -> None:
    wav, source = pulse.speech(tmp_path, "Hello, can you hear me?")
    agent, customer = await call_pair(relay_url, pulse_server, direct=False)
    try:
        await customer.send(b"\x1dt")  # the customer calls the agent
        await agent.event("voice", state="ringing")
        await agent.send({"cmd": "call"})  # and the agent answers
        await agent.event("voice", state="active")
        heard = await pulse.heard_on(pulse_server, "agent_speaker", wav, tmp_path / "heard.raw")
        assert correlation(source, heard, 48000)[0] > 0.6
        assert not agent.all("path") or agent.all("path")[-1]["path"] == "relay"
    finally:
        await agent.kill()
        await customer.kill()


async def test_without_a_sound_server_calls_are_refused_plainly(relay_url: str, tmp_path: Path) -> None:
    env = {"PULSE_SERVER": f"unix:{tmp_path}/nothing-here"}
    agent = await Proc.start("agent", "--headless", "--relay", relay_url, name="agent", env=env)
    try:
        code = (await agent.event("code"))["code"]
        customer = await Proc.start("join", code, "--relay", relay_url, "--command", "bash --norc --noprofile",
                                    name="customer", env={**env, "PS1": "$ "})
        try:
            await agent.event("paired")
            await agent.send({"cmd": "call"})
            error = await agent.event("error")
            assert "microphone" in error["message"] or "sound" in error["message"]
            await agent.send({"cmd": "chat", "text": "no audio, still fine"})
            await customer.stderr_line("no audio, still fine")
        finally:
            await customer.kill()
    finally:
        await agent.kill()


def test_devices_lists_what_mic_and_speaker_take(pulse_server: pulse.PulseServer) -> None:
    import json
    import os
    import subprocess

    from harness import CLI

    env = {**os.environ, **pulse_server.env}
    out = subprocess.run([*CLI, "devices", "--json"], capture_output=True, text=True, timeout=30, env=env)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert {"customer_mic.monitor", "agent_speaker.monitor"} <= {m["id"] for m in found["microphones"]}
    assert {"customer_mic", "agent_speaker"} <= {s["id"] for s in found["speakers"]}
    human = subprocess.run([*CLI, "devices"], capture_output=True, text=True, timeout=30, env=env)
    assert "Microphones (--mic ID):" in human.stdout and "agent_speaker" in human.stdout
    env["PULSE_SERVER"] = "unix:/nonexistent/native"
    down = subprocess.run([*CLI, "devices"], capture_output=True, text=True, timeout=30, env=env)
    assert down.returncode == 1 and "PulseAudio" in down.stderr


async def test_device_check_plays_a_tone_and_meters_the_microphone(pulse_server: pulse.PulseServer,
                                                                     tmp_path: Path) -> None:
    import json
    import os

    from cobrowse.voice.level import dominant_frequency
    from harness import CLI

    wav, _ = pulse.speech(tmp_path, "Testing, one, two, three. Can you hear me now?")
    env = {**os.environ, **pulse_server.env, "COBROWSE_CONFIG": os.devnull}
    recorder = pulse_server.record("agent_speaker.monitor", tmp_path / "tone.raw")
    try:
        check = await asyncio.create_subprocess_exec(
            *CLI, "devices", "--check", "--json", "--mic", "customer_mic.monitor", "--speaker", "agent_speaker",
            "--seconds", "3", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        await asyncio.sleep(1.5)  # the tone is over: now speak into the customer's microphone
        await asyncio.to_thread(pulse_server.play, "customer_mic", wav)
        async with asyncio.timeout(30):
            out, err = await check.communicate()
    finally:
        recorder.terminate()
        recorder.wait(5)
    assert check.returncode == 0, err
    report = json.loads(out)
    assert report["microphone"]["heard"] and report["microphone"]["peak_db"] > -30
    played = (tmp_path / "tone.raw").read_bytes()
    assert abs(dominant_frequency(played, 48000) - 440) < 20, "the speaker got the check's tone"

    silent = await asyncio.create_subprocess_exec(
        *CLI, "devices", "--check", "--mic", "quiet.monitor", "--speaker", "agent_speaker", "--seconds", "1",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(30):
        out, _ = await silent.communicate()
    assert silent.returncode == 1 and b"silent" in out and b"--mic" in out
