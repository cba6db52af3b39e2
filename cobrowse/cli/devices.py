"""`cobrowse devices`: the microphones and speakers calls can use, and a check of the chosen
pair before a call (a tone on the speaker, a live level meter on the microphone)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any, TextIO

from cobrowse.cli.config import config_path, load_file
from cobrowse.errors import AudioUnavailable, CobrowseError
from cobrowse.voice.gate import meter
from cobrowse.voice.settings import RtcSettings

HEARD_DB = -45.0  # a voice a few centimetres away is well above this; a muted mic is far below
TONE_S = 1.0


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from cobrowse.io.rtc import VOICE_EXTRA, voice_installed

    if not voice_installed():
        print(f"cobrowse: {VOICE_EXTRA}", file=sys.stderr)
        return 2
    try:
        if args.check:
            settings = RtcSettings.from_sources(dict(os.environ), load_file(config_path()), mic=args.mic,
                                                speaker=args.speaker)
            report = asyncio.run(check(settings.mic, settings.speaker, args.seconds, None if args.json else out))
            if args.json:
                print(json.dumps(report), file=out)
            return 0 if report["microphone"]["heard"] else 1
        from cobrowse.io.audio import list_devices

        found = list_devices()
    except CobrowseError as exc:
        print(f"cobrowse: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, AudioUnavailable) else 2
    if args.json:
        print(json.dumps(found), file=out)
        return 0
    for title, key, flag in (("Microphones", "microphones", "--mic"), ("Speakers", "speakers", "--speaker")):
        print(f"{title} ({flag} ID):", file=out)
        for device in found[key]:
            mark = "  (default)" if device["default"] else ""
            print(f"  {device['id']:<48} {device['name']}{mark}", file=out)
        if not found[key]:
            print("  none", file=out)
    return 0


async def check(mic: str, speaker: str, seconds: float, out: TextIO | None) -> dict[str, Any]:
    """Play ``TONE_S`` of 440 Hz on ``speaker``, then listen to ``mic`` for ``seconds``."""
    from cobrowse.io.audio import FRAME, FRAME_S, RATE, open_sink, open_source
    from cobrowse.voice.level import level_db, tone

    sink = open_sink(speaker)
    try:
        say(out, f"speaker {speaker}: playing a tone for {TONE_S:g} s…")
        for n in range(int(TONE_S / FRAME_S)):
            sink.write(tone(440, RATE, FRAME, start=n * FRAME, amplitude=0.3))
            await asyncio.sleep(FRAME_S)
    finally:
        sink.close()
    source = open_source(mic)
    levels: list[float] = []
    try:
        say(out, f"microphone {mic}: say something ({seconds:g} s)")
        for _ in range(max(1, int(seconds / FRAME_S))):
            db = level_db(await source.read())
            levels.append(db)
            if out is not None and out.isatty():
                bar = round(meter(db) * 30)
                print(f"\r  {'▮' * bar}{'▯' * (30 - bar)} {db:6.1f} dBFS", end="", file=out, flush=True)
    finally:
        source.close()
    peak = max(levels)
    heard = peak >= HEARD_DB
    if out is not None:
        if out.isatty():
            print(file=out)
        say(out, f"microphone peak {peak:.1f} dBFS: " + ("it hears you." if heard else
            "silent. Check that it is not muted (pavucontrol, your headset's switch) or pick another with --mic "
            "(`cobrowse devices` lists them)."))
    return {"microphone": {"id": mic, "peak_db": round(peak, 1), "heard": heard},
            "speaker": {"id": speaker, "tone_hz": 440, "tone_s": TONE_S}}


def say(out: TextIO | None, text: str) -> None:
    if out is not None:
        print(text, file=out, flush=True)
