"""Audio devices for calls: where the microphone's sound comes from and the peer's goes.

Devices are named by a spec string, from settings (``mic`` / ``speaker``):

- ``default``: the system's default microphone or speaker, through PulseAudio (or PipeWire's
  PulseAudio service) with the ``soundcard`` package;
- a device name or id as ``pactl list short sources|sinks`` prints it (``alsa_input...``,
  ``mysink.monitor``);
- ``tone:FREQ`` (microphone): a steady sine tone, for checking a call without speaking;
- ``wav:PATH`` (speaker): write what you hear to a WAV file;
- ``none``: no device; the call still carries the other direction.

Everything is 48 kHz mono 16-bit in 20 ms frames, Opus's natural shape. Blocking device I/O
runs in threads and meets asyncio through queues, so a slow sound server never stalls the
session.
"""

from __future__ import annotations

import asyncio
import fractions
import threading
import time
import wave
from typing import Any, Callable, Protocol

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from cobrowse.errors import AudioUnavailable
from cobrowse.voice.level import EchoGate, level_db, scale, tone

RATE = 48000
FRAME = 960  # 20 ms
FRAME_S = FRAME / RATE
FRAME_BYTES = FRAME * 2
NO_AUDIO_HINT = ("calls need a microphone and a speaker through PulseAudio or PipeWire; "
                 "choose other devices with --mic/--speaker (see `pactl list short sources`), "
                 "or use chat: everything else works without audio")


class Source(Protocol):
    async def read(self) -> bytes: ...
    def close(self) -> None: ...


class Sink(Protocol):
    def write(self, pcm: bytes) -> None: ...
    def close(self) -> None: ...


class ToneSource:
    """A sine tone paced in real time. ``start_silent`` keeps it quiet until ``trigger()``,
    which notes the exact sample the tone began at (for mouth-to-ear measurements)."""

    def __init__(self, freq: float, *, start_silent: bool = False) -> None:
        self.freq = freq
        self.playing = not start_silent
        self.onset: float | None = None
        self._n = 0
        self._t0: float | None = None

    def trigger(self) -> None:
        self.playing = True

    async def read(self) -> bytes:
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        due = self._t0 + self._n * FRAME_S
        if due > now:
            await asyncio.sleep(due - now)
        self._n += 1
        if not self.playing:
            return bytes(FRAME_BYTES)
        if self.onset is None:
            self.onset = time.monotonic()
        return tone(self.freq, RATE, FRAME, start=self._n * FRAME)

    def close(self) -> None:
        pass


class SilentSource(ToneSource):
    def __init__(self) -> None:
        super().__init__(0.0, start_silent=True)

    def trigger(self) -> None:
        pass


class SoundcardSource:
    """A PulseAudio microphone, read in a thread, 20 ms at a time."""

    def __init__(self, device: str) -> None:
        sc = _soundcard()
        try:
            mic = _microphone(sc, device)
        except Exception as exc:
            raise AudioUnavailable(f"no microphone {device!r} ({exc}): {NO_AUDIO_HINT}") from None
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=25)
        self._loop = asyncio.get_running_loop()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._error: str | None = None
        self._thread = threading.Thread(target=self._run, args=(mic,), name="mic", daemon=True)
        self._thread.start()
        self._ready.wait(5)
        if self._error:
            raise AudioUnavailable(f"the microphone {device!r} did not open ({self._error}): {NO_AUDIO_HINT}")

    def _run(self, mic: object) -> None:
        try:
            with mic.recorder(samplerate=RATE, channels=1, blocksize=FRAME) as recorder:  # type: ignore[attr-defined]
                self._ready.set()
                while not self._stop.is_set():
                    block = recorder.record(numframes=FRAME)
                    pcm = (block[:, 0].clip(-1, 1) * 32767).astype("<i2").tobytes()
                    self._loop.call_soon_threadsafe(self._offer, pcm)
        except Exception as exc:  # the sound server went away: the call goes quiet, not down
            self._error = str(exc)
            self._ready.set()

    def _offer(self, pcm: bytes) -> None:
        if self._queue.full():
            self._queue.get_nowait()  # keep latency bounded: drop the oldest
        self._queue.put_nowait(pcm)

    async def read(self) -> bytes:
        try:
            async with asyncio.timeout(0.5):
                return await self._queue.get()
        except TimeoutError:
            return bytes(FRAME_BYTES)

    def close(self) -> None:
        self._stop.set()


class NullSink:
    """Hears and forgets; ``on_write`` sees every frame (tests, benchmarks)."""

    def __init__(self, on_write: Callable[[bytes], None] | None = None) -> None:
        self.on_write = on_write

    def write(self, pcm: bytes) -> None:
        if self.on_write is not None:
            self.on_write(pcm)

    def close(self) -> None:
        pass


class WavSink:
    def __init__(self, path: str) -> None:
        try:
            self._wav = wave.open(path, "wb")
        except OSError as exc:
            raise AudioUnavailable(f"cannot write {path}: {exc.strerror}") from None
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(RATE)

    def write(self, pcm: bytes) -> None:
        self._wav.writeframes(pcm)

    def close(self) -> None:
        self._wav.close()


class SoundcardSink:
    """A PulseAudio speaker, written from a thread; a full queue drops the oldest audio so
    latency cannot grow."""

    def __init__(self, device: str) -> None:
        sc = _soundcard()
        try:
            self._speaker = _speaker(sc, device)
        except Exception as exc:
            raise AudioUnavailable(f"no speaker {device!r} ({exc}): {NO_AUDIO_HINT}") from None
        self._pending: list[bytes] = []
        self._lock = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="speaker", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import numpy as np

        try:
            with self._speaker.player(samplerate=RATE, channels=1, blocksize=FRAME) as player:
                while True:
                    with self._lock:
                        self._lock.wait_for(lambda: self._pending or self._stop, timeout=0.5)
                        if self._stop:
                            return
                        chunk, self._pending = b"".join(self._pending), []
                    if chunk:
                        player.play(np.frombuffer(chunk, dtype="<i2").astype(np.float32) / 32768.0)
        except Exception:
            return

    def write(self, pcm: bytes) -> None:
        with self._lock:
            self._pending.append(pcm)
            del self._pending[:-10]
            self._lock.notify()

    def close(self) -> None:
        with self._lock:
            self._stop = True
            self._lock.notify()


def open_source(spec: str) -> Source:
    if spec == "none":
        return SilentSource()
    if spec.startswith("tone:"):
        try:
            return ToneSource(float(spec[5:]))
        except ValueError:
            raise AudioUnavailable(f"mic {spec!r}: tone:FREQ needs a frequency in Hz, e.g. tone:440") from None
    return SoundcardSource(spec)


def open_sink(spec: str) -> Sink:
    if spec == "none":
        return NullSink()
    if spec.startswith("wav:"):
        return WavSink(spec[4:])
    return SoundcardSink(spec)


def check_devices(mic: str, speaker: str) -> None:
    """Raise AudioUnavailable unless both devices exist; opens nothing (consent comes first)."""
    needs_mic = not (mic == "none" or mic.startswith("tone:"))
    needs_speaker = not (speaker == "none" or speaker.startswith("wav:"))
    if not (needs_mic or needs_speaker):
        return
    sc = _soundcard()
    try:
        if needs_mic:
            _microphone(sc, mic)
        if needs_speaker:
            _speaker(sc, speaker)
    except Exception as exc:
        raise AudioUnavailable(f"no sound device ({exc}): {NO_AUDIO_HINT}") from None


def list_devices() -> dict[str, list[dict[str, str | bool]]]:
    """The microphones (monitors of speakers included) and speakers a call can use, by the
    id ``--mic``/``--speaker`` take and the name people recognise."""
    sc = _soundcard()
    try:
        mics = sc.all_microphones(include_loopback=True)
        speakers = sc.all_speakers()
        default_mic, default_speaker = sc.default_microphone(), sc.default_speaker()
    except Exception as exc:
        raise AudioUnavailable(f"cannot list sound devices ({exc}): {NO_AUDIO_HINT}") from None
    return {
        "microphones": [{"id": str(m.id), "name": m.name, "default": m.id == default_mic.id}
                        for m in mics],
        "speakers": [{"id": str(s.id), "name": s.name, "default": s.id == default_speaker.id}
                     for s in speakers],
    }


def _microphone(sc: Any, spec: str) -> Any:
    """A soundcard microphone by spec (monitors of speakers included: tests feed calls so)."""
    return sc.default_microphone() if spec == "default" else sc.get_microphone(spec, include_loopback=True)


def _speaker(sc: Any, spec: str) -> Any:
    return sc.default_speaker() if spec == "default" else sc.get_speaker(spec)


def _soundcard() -> Any:
    try:
        import soundcard
    except Exception as exc:  # no libpulse, or no server to talk to
        raise AudioUnavailable(f"no sound server ({str(exc) or 'libpulse could not connect'}): {NO_AUDIO_HINT}") from None
    return soundcard


class Microphone(MediaStreamTrack):
    """The track a call sends: the source's frames, muted or echo-gated, with their level."""

    kind = "audio"

    def __init__(self, source: Source, gate: EchoGate | None = None) -> None:
        super().__init__()
        self.source = source
        self.gate = gate
        self.muted = False
        self.level_db = -90.0
        self._pts = 0

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        pcm = await self.source.read()
        self.level_db = level_db(pcm)
        if self.muted:
            pcm = bytes(len(pcm))
        elif self.gate is not None:
            pcm = scale(pcm, self.gate.gain(self.level_db, time.monotonic()))
        frame = av.AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
        frame.planes[0].update(pcm)
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, RATE)
        self._pts += len(pcm) // 2
        return frame

    def stop(self) -> None:
        super().stop()
        self.source.close()


class Speaker:
    """Plays a received track into a sink, measuring its level (and telling the echo gate)."""

    def __init__(self, sink: Sink, gate: EchoGate | None = None) -> None:
        self.sink = sink
        self.gate = gate
        self.level_db = -90.0
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        self._task: asyncio.Task[None] | None = None

    def play(self, track: MediaStreamTrack) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(track))

    async def _run(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            for out in self._resampler.resample(frame):  # type: ignore[arg-type]
                pcm = bytes(out.planes[0])[: out.samples * 2]
                self.level_db = level_db(pcm)
                if self.gate is not None:
                    self.gate.far(self.level_db, time.monotonic())
                self.sink.write(pcm)

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self.sink.close()
