"""What recording costs the agent: asciicast rendering time and size per frame.

    python bench/cast_render.py [--frames 600]

Input: ``cobrowse.screen.Emulator`` states of two workloads, generated before timing:

``typing``  80x24, a shell session: one short command line typed and its few lines of
            output per frame (most rows unchanged: the usual support session).
``redraw``  200x50, every row redrawn each frame with coloured runs (a full-screen program
            at its worst, as bench/render.py uses).

Each state goes through ``CastEncoder.frame`` (the recorder's only per-frame work besides a
file write). Reported per workload: microseconds of CPU per frame (p50 over frames), bytes
of cast per frame (mean) against the baseline of repainting the whole screen every frame
(``render(None, state)``, a recorder with no diffing), and cast bytes per minute at 30 frames/s (the sender's cap) and at
2 frames/s (a typical typing pace). The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from cobrowse.audit.cast import CastEncoder, event, render
from cobrowse.screen.emulator import Emulator
from cobrowse.screen.state import ScreenState


def typing_states(frames: int) -> list[ScreenState]:
    emulator = Emulator(80, 24)
    rng = random.Random(1)
    states = []
    for i in range(frames):
        words = " ".join(rng.choice(["ls", "-la", "git", "status", "cat", "/etc/hosts", "grep", "x"]) for _ in range(4))
        emulator.feed(f"$ {words}\r\n\x1b[32mok\x1b[0m {i} {rng.random():.6f}\r\n".encode())
        states.append(emulator.state())
    return states


def redraw_states(frames: int) -> list[ScreenState]:
    emulator = Emulator(200, 50)
    rng = random.Random(2)
    states = []
    for i in range(frames):
        rows = []
        for r in range(50):
            runs = "".join(f"\x1b[38;5;{rng.randrange(256)};48;2;{rng.randrange(256)};0;0m{rng.random():.9f} "
                           for _ in range(15))
            rows.append(f"\x1b[{r + 1};1H{runs}\x1b[0m frame {i}")
        emulator.feed("".join(rows).encode())
        states.append(emulator.state())
    return states


def measure(states: list[ScreenState]) -> dict[str, float]:
    encoder = CastEncoder()
    times, sizes = [], []
    for n, state in enumerate(states):
        start = time.process_time_ns()
        lines = encoder.frame(n / 30, state)
        times.append((time.process_time_ns() - start) / 1000)
        sizes.append(sum(len(line.encode()) + 1 for line in lines))
    per_frame = statistics.fmean(sizes[1:])
    full = statistics.fmean(len(event(0.0, "o", render(None, state)).encode()) + 1 for state in states[1:])
    return {"us_per_frame_p50": round(statistics.median(times[1:]), 1), "bytes_per_frame": round(per_frame),
            "baseline_full_repaint_bytes_per_frame": round(full), "ratio_vs_full_repaint": round(per_frame / full, 3),
            "mb_per_min_at_30fps": round(per_frame * 30 * 60 / 1e6, 2),
            "mb_per_min_at_2fps": round(per_frame * 2 * 60 / 1e6, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=600)
    args = parser.parse_args()
    result = {"typing_80x24": measure(typing_states(args.frames)),
              "redraw_200x50": measure(redraw_states(args.frames))}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
