"""A private PulseAudio server with null sinks, for tests that need real audio devices.

Each sink's monitor is a source, so a sink can be a virtual microphone (play speech into it,
the client records its monitor) and another a virtual speaker (the client plays into it, the
test records its monitor). ``running`` is a test's server (its fixture), ``heard_on`` what
one virtual speaker plays while speech goes into a virtual microphone."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

NEEDED = ("pulseaudio", "pactl", "parec", "paplay", "espeak-ng", "sox")


def missing() -> list[str]:
    return [tool for tool in NEEDED if shutil.which(tool) is None]


class PulseServer:
    def __init__(self, root: Path, sinks: tuple[str, ...]) -> None:
        self.root = root
        self.socket = root / "native"
        self.env = {"PULSE_SERVER": f"unix:{self.socket}", "PULSE_COOKIE": str(root / "cookie"),
                    "XDG_RUNTIME_DIR": str(root), "HOME": str(root)}
        args = ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
                "--disable-shm=yes", "--log-target=stderr", "--log-level=error",
                f"--load=module-native-protocol-unix socket={self.socket} auth-anonymous=1"]
        args += [f"--load=module-null-sink sink_name={sink} rate=48000 channels=1" for sink in sinks]
        env = {**os.environ, **self.env}
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pulseaudio exited: {self.proc.stderr.read().decode(errors='replace')[-500:]}")  # type: ignore[union-attr]
            if self.socket.exists() and self.run("pactl", "info").returncode == 0:
                return
            time.sleep(0.1)
        self.close()
        raise RuntimeError("pulseaudio did not start in 10 s")

    def run(self, *args: str, timeout: float = 20) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(args, env={**os.environ, **self.env}, capture_output=True, timeout=timeout)

    def record(self, source: str, path: Path) -> subprocess.Popen[bytes]:
        """Start recording ``source`` as raw s16le 48 kHz mono into ``path``."""
        out = open(path, "wb")
        return subprocess.Popen(["parec", "-d", source, "--format=s16le", "--rate=48000", "--channels=1",
                                 "--latency-msec=20"], env={**os.environ, **self.env}, stdout=out)

    def play(self, sink: str, wav: Path) -> None:
        result = self.run("paplay", "-d", sink, str(wav), timeout=30)
        assert result.returncode == 0, result.stderr

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def speech(root: Path, text: str) -> tuple[Path, bytes]:
    """espeak-ng speech as a 48 kHz mono WAV (to play) and its raw s16le samples (to compare)."""
    raw_wav, wav = root / "speech-22k.wav", root / "speech.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(raw_wav), text], check=True, capture_output=True, timeout=30)
    subprocess.run(["sox", str(raw_wav), "-r", "48000", "-c", "1", "-b", "16", str(wav)], check=True,
                   capture_output=True, timeout=30)
    pcm = subprocess.run(["sox", str(wav), "-t", "raw", "-e", "signed", "-b", "16", "-L", "-"], check=True,
                         capture_output=True, timeout=30).stdout
    return wav, pcm


@contextmanager
def running(tmp_path: Path, sinks: tuple[str, ...]) -> Iterator[PulseServer]:
    """A private server with ``sinks`` under ``tmp_path``, stopped afterwards."""
    root = tmp_path / "pulse"
    root.mkdir()
    root.chmod(0o700)
    server = PulseServer(root, sinks)
    try:
        yield server
    finally:
        server.close()


async def heard_on(server: PulseServer, speaker: str, wav: Path, out: Path, mic: str = "customer_mic") -> bytes:
    """Speech played into ``mic``, as the client playing into ``speaker`` played it (raw s16le)."""
    recorder = server.record(f"{speaker}.monitor", out)
    try:
        await asyncio.sleep(0.3)
        await asyncio.to_thread(server.play, mic, wav)
        await asyncio.sleep(0.6)  # the tail: network, jitter buffer, sink
    finally:
        recorder.terminate()
        recorder.wait(5)
    return out.read_bytes()
