"""Audio measures on 16-bit PCM: levels, tones, envelope correlation (meters and the echo
gate, which need no numpy, live in ``gate.py`` and are re-exported here).

Pure functions on bytes/arrays; the audio I/O layer calls them on every 20 ms frame, so they
stay vectorised (numpy) and allocation-light.
"""

from __future__ import annotations

import math

import numpy as np

from cobrowse.voice.gate import SILENCE_DB, EchoGate, meter

__all__ = ["EchoGate", "meter", "SILENCE_DB", "samples", "level_db", "tone", "dominant_frequency",
           "tone_power", "correlation", "scale"]

FULL_SCALE = 32768.0


def samples(pcm: bytes) -> np.ndarray:
    """Signed 16-bit little-endian PCM as floats in [-1, 1)."""
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / FULL_SCALE


def level_db(pcm: bytes) -> float:
    """RMS level in dBFS (0 = a full-scale square wave)."""
    x = samples(pcm)
    if x.size == 0:
        return SILENCE_DB
    rms = float(np.sqrt(np.mean(x * x)))
    return max(SILENCE_DB, 20 * math.log10(rms)) if rms > 0 else SILENCE_DB


def tone(freq: float, rate: int, count: int, start: int = 0, amplitude: float = 0.5) -> bytes:
    """``count`` samples of a sine tone from sample index ``start``, as s16le PCM."""
    n = np.arange(start, start + count, dtype=np.float64)
    wave = amplitude * np.sin(2 * math.pi * freq * n / rate)
    return (wave * (FULL_SCALE - 1)).astype("<i2").tobytes()


def dominant_frequency(pcm: bytes, rate: int) -> float:
    """The frequency with the most energy (Hz), 0 for silence."""
    x = samples(pcm)
    if x.size < 2 or not np.any(x):
        return 0.0
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.argmax(spectrum) * rate / x.size)


def tone_power(pcm: bytes, freq: float, rate: int) -> float:
    """Goertzel power of ``freq`` relative to the signal's energy (0..1): how much of this
    block is that tone. Used to find a tone's onset sample by sample-block."""
    x = samples(pcm)
    if x.size == 0:
        return 0.0
    n = np.arange(x.size)
    ref = np.exp(-2j * math.pi * freq * n / rate)
    power = abs(np.dot(x, ref)) ** 2 * 2 / x.size
    energy = float(np.dot(x, x))
    return float(power / energy) if energy > 0 else 0.0


def correlation(a: bytes, b: bytes, rate: int, max_lag_s: float = 2.0) -> tuple[float, float]:
    """Best normalised cross-correlation of two recordings' envelopes and its lag (s).

    Envelopes (10 ms RMS) rather than raw samples: a codec changes phase, not the rhythm of
    speech, so this says "the same words came out" robustly."""
    hop = rate // 100
    ea, eb = _envelope(samples(a), hop), _envelope(samples(b), hop)
    if ea.size == 0 or eb.size == 0:
        return 0.0, 0.0
    ea, eb = ea - ea.mean(), eb - eb.mean()
    full = np.correlate(eb, ea, mode="full")
    lags = np.arange(-ea.size + 1, eb.size)
    keep = np.abs(lags) <= int(max_lag_s * 100)
    full, lags = full[keep], lags[keep]
    if full.size == 0:
        return 0.0, 0.0
    best = int(np.argmax(full))
    denom = float(np.linalg.norm(ea) * np.linalg.norm(eb)) or 1.0
    return float(full[best] / denom), float(lags[best] / 100)


def _envelope(x: np.ndarray, hop: int) -> np.ndarray:
    frames = x[: x.size // hop * hop].reshape(-1, hop)
    envelope: np.ndarray = np.sqrt(np.mean(frames * frames, axis=1))
    return envelope


def scale(pcm: bytes, gain: float) -> bytes:
    if gain == 1.0:
        return pcm
    if gain == 0.0:
        return bytes(len(pcm))
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float32) * gain
    return bytes(np.clip(x, -32768, 32767).astype("<i2").tobytes())
