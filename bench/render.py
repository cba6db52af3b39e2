"""Frames per second the agent's terminal mirror renders, 200x50, every row changing every frame.

    python bench/render.py [--seconds 5] [--states 240]

Contestants, measured in the same run, one after the other, each in a fresh child process:

``remote_screen``
    ``tui.widgets.remote_screen.RemoteScreen`` (Line API: a Strip per row, only changed line
    regions refreshed), fed ``ScreenState`` values with ``set_state``.
``static`` (the baseline, the anti-model)
    A ``textual.widgets.Static`` re-rendered whole each frame from a Rich ``Text`` built from the
    same states (textual-terminal's way), with the same cell-style -> Rich-style conversion.

Input: ``--states`` distinct screens, produced by ``cobrowse.screen.Emulator(200, 50)`` fed
bytes that redraw the whole screen (home, then every row: coloured runs of 256-colour and
24-bit foregrounds/backgrounds, bold/italic/underline, words from a seeded RNG, the frame number
in every row; 24-bit colours from a 48-colour palette), then ``.state()``. Generated before timing; cycled, and more distinct rows
(states x 50) than the widget's strip cache holds, so the cache cannot replay old frames.

What counts as a frame: a headless ``App.run_test(size=(220, 60))`` holds the widget at
exactly 200x50 (no border). The driver pushes one state, then waits until Textual's own
screen-update machinery (the Screen's update timer -> compositor -> ``App._display``) has
produced an update; ``App._display`` is wrapped so that update is also turned into the
escape sequences a real terminal would receive (``render_segments`` on a truecolor console;
headless Textual skips that step, we do not), and every 10th frame the output is checked to
contain text from the pushed state. Only then is the next state pushed. fps = frames / wall
time. So a frame counts only once Textual has composited and serialised it.

Two settings per contestant:

``capped``   Textual's default frame cap (``TEXTUAL_FPS`` unset: 60 updates/s at most): what the
             agent actually sees. This is the ``fps`` figure (target >= 30).
``uncapped`` ``TEXTUAL_FPS=1000``: how many frames the pipeline could do (headroom).

Also reported: CPU milliseconds per frame (process time / frames), p50/p99 of push-to-
displayed latency, and bytes of terminal output per frame.

The whole console's CPU while it watches a steady 1 MB/s log (the status line, the facts
box and the mirror together, a real session): ``bench/app_speed.py`` (``console_cpu_pct``).

Progress goes to stderr; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COLS, ROWS = 200, 50
TERM_SIZE = (COLS + 20, ROWS + 10)

WORDS = (
    "alpha beta gamma delta epsilon zeta theta kernel socket buffer thread error warning info "
    "debug trace packet stream render widget cursor screen compile linker module import "
    "export return yield await async lambda struct union enum static volatile"
).split()


# 24-bit colours come from a theme-sized palette, as real truecolor output does (bat, delta,
# vim themes use a few dozen colours), not a fresh random colour per word.
PALETTE = [(random.Random(i).randrange(256), random.Random(i + 99).randrange(256),
            random.Random(i + 999).randrange(256)) for i in range(48)]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def frame_bytes(frame: int, rng: random.Random) -> bytes:
    """Bytes that redraw the whole 200x50 screen, every row different from the last frame."""
    out = ["\x1b[H"]
    for r in range(ROWS):
        head = f"{frame:06d}:{r:02d} "
        parts = [f"\x1b[0;1;38;5;{(frame + r) % 256}m{head}"]
        col = len(head)
        while col < COLS:
            word = rng.choice(WORDS) + " "
            word = word[: COLS - col]
            kind = rng.randrange(6)
            if kind == 0:
                sgr = f"0;38;5;{rng.randrange(256)}"
            elif kind == 1:
                sgr = f"0;1;3{rng.randrange(8)}"
            elif kind == 2:
                sgr = "0;38;2;%d;%d;%d" % rng.choice(PALETTE)
            elif kind == 3:
                sgr = f"0;4;48;5;{rng.randrange(256)}"
            elif kind == 4:
                sgr = f"0;3;9{rng.randrange(8)};4{rng.randrange(8)}"
            else:
                sgr = "0"
            parts.append(f"\x1b[{sgr}m{word}")
            col += len(word)
        out.append("".join(parts))
        if r < ROWS - 1:
            out.append("\x1b[0m\r\n")
    out.append(f"\x1b[0m\x1b[{rng.randrange(ROWS) + 1};{rng.randrange(COLS) + 1}H")
    return "".join(out).encode()


def make_states(n: int):
    from cobrowse.screen import Emulator

    rng = random.Random(1234)
    emu = Emulator(COLS, ROWS)
    states = []
    for i in range(n):
        emu.feed(frame_bytes(i, rng))
        states.append(emu.state())
    return states


# ---------------------------------------------------------------- child: one contestant


def run_child(contestant: str, seconds: float, n_states: int) -> dict:
    from rich.console import Console
    from rich.text import Text
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    from tui.widgets.remote_screen import RemoteScreen, _cell_rich_style

    t0 = time.perf_counter()
    states = make_states(n_states)
    log(f"  [{contestant}] {n_states} states generated in {time.perf_counter() - t0:.1f}s")
    # The pre-generated states (240 screens of rows) are the bench's, not the app's: keep the
    # cyclic GC from walking them on every full collection, which a real agent would not pay.
    gc.collect()
    gc.freeze()
    # A row's text that must show up in the output once the frame is displayed.
    markers = [s.rows[ROWS // 2].runs[0][0].strip() for s in states]
    assert len(set(markers)) == len(markers), "frames must differ"

    term = Console(file=io.StringIO(), color_system="truecolor", force_terminal=True,
                   width=TERM_SIZE[0], height=TERM_SIZE[1], legacy_windows=False)

    style_cache: dict = {}

    def state_text(state) -> Text:  # the anti-model: one Text for the whole screen
        text = Text(no_wrap=True, overflow="crop", end="")
        append = text.append
        for y, row in enumerate(state.rows):
            for run, style in row.runs:
                rs = style_cache.get(style)
                if rs is None:
                    rs = style_cache[style] = _cell_rich_style(style)
                append(run, rs)
            if y < len(state.rows) - 1:
                append("\n")
        return text

    class BenchApp(App):
        CSS = f"""
        RemoteScreen, Static {{ border: none; width: {COLS}; height: {ROWS}; padding: 0; }}
        """

        def compose(self) -> ComposeResult:
            if contestant == "remote_screen":
                yield RemoteScreen(id="w")
            else:
                yield Static("", id="w")

    result: dict = {}

    async def main() -> None:
        app = BenchApp()
        async with app.run_test(size=TERM_SIZE) as pilot:
            widget = app.query_one("#w")
            await pilot.pause()
            assert tuple(widget.size) == (COLS, ROWS), widget.size
            if contestant == "remote_screen":
                push = widget.set_state
            else:
                def push(state) -> None:
                    widget.update(state_text(state))

            displayed = asyncio.Event()
            out = {"bytes": 0, "last": "", "updates": 0}
            original = app._display

            def display(screen, renderable) -> None:
                original(screen, renderable)
                if renderable is None:
                    return
                data = renderable.render_segments(term)
                if not data:
                    return
                out["bytes"] += len(data)
                out["last"] = data
                out["updates"] += 1
                displayed.set()

            app._display = display  # the Screen calls app._display(screen, update)

            # warm up (style caches, first layout)
            for st in states[:5]:
                displayed.clear()
                push(st)
                await asyncio.wait_for(displayed.wait(), 5)

            out["bytes"] = 0
            latencies: list[float] = []
            frames = checked = stalls = 0
            i = 5
            cpu0 = time.process_time()
            start = time.perf_counter()
            next_report = start + 1.0
            while (now := time.perf_counter()) - start < seconds:
                st = states[i % len(states)]
                marker = markers[i % len(states)]
                i += 1
                displayed.clear()
                t_push = time.perf_counter()
                push(st)
                try:
                    await asyncio.wait_for(displayed.wait(), 2.0)
                except asyncio.TimeoutError:
                    stalls += 1
                    continue
                latencies.append(time.perf_counter() - t_push)
                frames += 1
                if frames % 10 == 0:
                    if marker not in out["last"]:
                        raise AssertionError(f"frame {i} displayed without its content")
                    checked += 1
                if now >= next_report:
                    log(f"  [{contestant}] {frames / (now - start):.1f} fps so far")
                    next_report += 1.0
            elapsed = time.perf_counter() - start
            cpu = time.process_time() - cpu0
            latencies.sort()
            result.update(
                fps=round(frames / elapsed, 2),
                frames=frames,
                seconds=round(elapsed, 2),
                cpu_ms_per_frame=round(1000 * cpu / max(frames, 1), 2),
                latency_ms_p50=round(1000 * statistics.median(latencies), 2) if latencies else None,
                latency_ms_p99=round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 2)
                if latencies else None,
                bytes_per_frame=round(out["bytes"] / max(frames, 1)),
                frames_checked=checked,
                stalls=stalls,
            )

    asyncio.run(main())
    return result


# ---------------------------------------------------------------- parent


def spawn(contestant: str, uncapped: bool, args) -> dict:
    env = dict(os.environ)
    env.pop("TEXTUAL_FPS", None)
    if uncapped:
        env["TEXTUAL_FPS"] = "1000"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, __file__, "--child", contestant, "--seconds", str(args.seconds),
           "--states", str(args.states)]
    log(f"{contestant} ({'uncapped' if uncapped else 'capped at Textual default'}) ...")
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, timeout=300)
    if proc.returncode != 0:
        raise SystemExit(f"child {contestant} failed ({proc.returncode})")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    log(f"  -> {res}")
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--states", type=int, default=240)
    ap.add_argument("--child", choices=["remote_screen", "static"])
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.seconds, args.states)))
        return

    import textual

    remote = spawn("remote_screen", False, args)
    static = spawn("static", False, args)
    remote_u = spawn("remote_screen", True, args)
    static_u = spawn("static", True, args)
    summary = {
        "fps": remote["fps"],
        "screen": f"{COLS}x{ROWS}",
        "target_fps": 30,
        "baseline_static_fps": static["fps"],
        "ratio_vs_static": round(remote["fps"] / static["fps"], 2) if static["fps"] else None,
        "fps_uncapped": remote_u["fps"],
        "baseline_static_fps_uncapped": static_u["fps"],
        "ratio_vs_static_uncapped": round(remote_u["fps"] / static_u["fps"], 2)
        if static_u["fps"] else None,
        "cpu_ms_per_frame": remote_u["cpu_ms_per_frame"],
        "baseline_static_cpu_ms_per_frame": static_u["cpu_ms_per_frame"],
        "latency_ms_p50": remote["latency_ms_p50"],
        "latency_ms_p99": remote["latency_ms_p99"],
        "bytes_per_frame": remote["bytes_per_frame"],
        "textual": textual.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "details": {"remote_screen": remote, "static": static,
                    "remote_screen_uncapped": remote_u, "static_uncapped": static_u},
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
