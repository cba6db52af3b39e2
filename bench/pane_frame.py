"""CPU per frame of the customer app's pane (or the console's mirror) while a log scrolls, in-process.

    python bench/pane_frame.py [--lines 6] [--frames 300] [--border | --app [--toast]] [--tree DIR]

A headless Textual app (a 1-row banner, the ``ShellPane``, a 1-row status line: the customer
app's layout) shows a 100x30 screen; ``--border`` gives the pane the mirror's round border
(the agent console's), else none (the customer app's pane: tui/customer.tcss). The states
are an ``Emulator(100, 30)`` fed the realistic log of bench/flood.py, ``--lines`` lines per
frame (6: ~10 KB/s at the pane's 15 frames/s; 55: ~100 KB/s, every row new), made before the
timing. A frame: ``set_state``, then wait for Textual's screen update (compositor, then the
escape sequences a real terminal would get: ``render_segments`` on a truecolor console, as
bench/render.py does); ``TEXTUAL_FPS=1000`` so Textual's cap does not pace it.

``--app``: the customer app itself (tui/customer_app.py: its widgets, its CSS, the overlay, the
side panel, the toast rack; no session, so nothing but the pane changes), 100x32 (the pane
100x30); ``--toast`` keeps a notification on show over the pane (re-notified as it expires).

Output: CPU ms per frame (process time), terminal bytes per frame, and a digest of all the
output (the same for two trees means the same frames were drawn). ``--tree`` imports cobrowse
and tui from DIR (A/B against another checkout; default: this one).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

COLS, ROWS = 100, 30


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=6, help="log lines a frame")
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--border", action="store_true", help="the mirror's border (the agent console's)")
    ap.add_argument("--app", action="store_true", help="the customer app's own widgets and CSS (no session)")
    ap.add_argument("--toast", action="store_true", help="with --app: a notification on show")
    ap.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1])
    args = ap.parse_args()
    tree = args.tree.resolve()
    sys.path[:0] = [str(tree), str(Path(__file__).resolve().parent)]
    os.environ.setdefault("TEXTUAL_FPS", "1000")
    print(json.dumps(measure(args.lines, args.frames, args.border, args.app, args.toast)))


def states(lines_a_frame: int, count: int) -> list[Any]:
    from flood import make_log

    from cobrowse.screen import Emulator

    path = Path(tempfile.mkdtemp(prefix="pane-frame-")) / "log"
    make_log(path, 400_000)
    lines = path.read_bytes().split(b"\n")
    emu = Emulator(COLS, ROWS)
    out, n = [], 0
    for _ in range(count):
        emu.feed(b"".join(b"L%dq " % (n + j) + lines[(n + j) % len(lines)] + b"\r\n" for j in range(lines_a_frame)))
        n += lines_a_frame
        out.append(emu.state())
    return out


def customer_app() -> Any:
    """The customer app with no session: its layout and CSS, the pane drawn by the bench."""
    from tui.customer_app import CustomerApp

    class Bare(CustomerApp):
        CSS_PATH = str(Path(sys.modules[CustomerApp.__module__].__file__ or "").with_name("customer.tcss"))

        def _run_session(self) -> None:  # type: ignore[override]
            pass

        def _watch_terminal(self) -> None:
            pass

    return Bare("ws://127.0.0.1:9", None, None)


def measure(lines_a_frame: int, frames: int, border: bool, real_app: bool = False,
            toast: bool = False) -> dict[str, Any]:
    from rich.console import Console
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    from tui.widgets.shell_pane import ShellPane

    warm = 10
    shown = states(lines_a_frame, frames + warm)
    gc.collect()
    gc.freeze()  # the bench's own states are not the app's to walk
    size = (COLS + 2, ROWS + 4) if border else (COLS, ROWS + 2)
    border = border and not real_app
    term = Console(file=io.StringIO(), color_system="truecolor", force_terminal=True, width=size[0],
                   height=size[1], legacy_windows=False)

    class PaneApp(App[None]):
        CSS = "Static { height: 1; }" + ("" if border else " #shell { border: none; }")

        def compose(self) -> ComposeResult:
            yield Static("banner")
            yield ShellPane(id="shell", control=True)
            yield Static("status")

    result: dict[str, Any] = {}

    async def run() -> None:
        app = customer_app() if real_app else PaneApp()
        async with app.run_test(size=size, notifications=real_app, tooltips=real_app) as pilot:
            pane = app.query_one(ShellPane)
            pane.set_placeholder(None)
            await pilot.pause()
            if toast:
                app.notify("a toast over the pane, as a step card or a notice shows", title="bench", timeout=3600)
                await pilot.pause(0.5)
            digest = hashlib.sha256()
            drawn = asyncio.Event()
            out = {"bytes": 0}
            original = app._display

            def display(screen: Any, update: Any) -> None:
                original(screen, update)
                if update is None:
                    return
                data = update.render_segments(term)
                if data:
                    out["bytes"] += len(data)
                    digest.update(data.encode())
                    drawn.set()

            app._display = display  # type: ignore[method-assign, assignment]
            for i, state in enumerate(shown):
                if i == warm:
                    out["bytes"] = 0
                    cpu = time.process_time()
                drawn.clear()
                pane.set_state(state)
                await asyncio.wait_for(drawn.wait(), 5)
            cpu = time.process_time() - cpu
            result.update(lines_a_frame=lines_a_frame, frames=frames, border=border, app=real_app, toast=toast,
                          cpu_ms_per_frame=round(1000 * cpu / frames, 3), bytes_per_frame=out["bytes"] // frames,
                          digest=digest.hexdigest()[:12])

    asyncio.run(run())
    return result


if __name__ == "__main__":
    main()
