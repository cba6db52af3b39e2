"""What one screen frame costs the customer in-process, by output rate (no processes, no relay).

    python bench/frame_cost.py [--rates 10k,100k] [--frames 400] [--fps 15] [--erase] [--hide]

A ``ScreenSender`` with redaction and scroll ops on 100x30 is fed, per frame, the lines of
bench/flood.py's log a program writing at the rate would have written in 1/fps s (each
starting with its sequence number, as bench/cost.py's pacer writes them), then polled; the
frame is put in its wire form (``to_dict``) and encoded (``protocol.messages.encode``).
Per frame, mean µs of each step after 50 frames of warm-up, the encoded frame's bytes, and a
digest of every frame's wire form (``frames_sha``: equal between two trees means the agent
got byte-identical frames).
Run it from a tree to measure that tree (it imports the tree it is run from); the last stdout
line is one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _p in (str(ROOT), str(ROOT / "bench")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from flood import make_log  # noqa: E402

from cobrowse.protocol import messages as m  # noqa: E402
from cobrowse.screen.budget import PatternBudget  # noqa: E402
from cobrowse.screen.redact import Redactor  # noqa: E402
from cobrowse.screen.sync import ScreenSender  # noqa: E402

WARM_UP = 50


def parse_rate(text: str) -> float:
    scale = {"k": 1e3, "m": 1e6}.get(text[-1].lower(), 1.0)
    return float(text[:-1] if scale != 1.0 else text) * scale


def measure(lines: list[bytes], rate: float, frames: int, fps: float, end: bytes = b"") -> dict[str, float | str]:
    sender = ScreenSender(100, 30, redactor=Redactor((), budget=PatternBudget(time.perf_counter)))
    sender.scroll_ops = True
    per_frame = rate / fps
    seq = 0
    now = 0.0
    spent = {"feed": 0.0, "poll": 0.0, "to_dict": 0.0, "encode": 0.0}
    size = 0
    digest = hashlib.sha256()
    for n in range(frames + WARM_UP):
        chunk: list[bytes] = []
        written = 0
        while written < per_frame:
            line = b"L%dq " % seq + lines[seq % len(lines)] + end + b"\r\n"
            chunk.append(line)
            written += len(line)
            seq += 1
        now += 1 / fps
        t0 = time.perf_counter()
        sender.feed(b"".join(chunk))
        t1 = time.perf_counter()
        frame = sender.poll(now)
        t2 = time.perf_counter()
        assert frame is not None
        wire = frame.to_dict()
        t3 = time.perf_counter()
        payload = m.encode(m.Screen(wire))
        t4 = time.perf_counter()
        digest.update(json.dumps(wire, sort_keys=True).encode())
        if n >= WARM_UP:
            spent["feed"] += t1 - t0
            spent["poll"] += t2 - t1
            spent["to_dict"] += t3 - t2
            spent["encode"] += t4 - t3
            size += len(payload)
    out: dict[str, float | str] = {f"{k}_us": round(v / frames * 1e6, 1) for k, v in spent.items()}
    out["bytes"] = round(size / frames, 1)
    out["frames_sha"] = digest.hexdigest()[:16]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rates", default="10k,100k")
    ap.add_argument("--frames", type=int, default=400)
    ap.add_argument("--fps", type=float, default=15.0)
    ap.add_argument("--hide", action="store_true",
                    help="write each line with the cursor hidden (ESC [ ? 25 l ... ESC [ ? 25 h), as redraws do")
    ap.add_argument("--erase", action="store_true", help="end each line in EL (ESC [ K), as grep --color does")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log"
        make_log(path, 2_000_000)
        lines = path.read_bytes().split(b"\n")[:-1]
    if args.hide:
        lines = [b"\x1b[?25l" + line + b"\x1b[?25h" for line in lines]
    result = {}
    for text in args.rates.split(","):
        result[text] = measure(lines, parse_rate(text), args.frames, args.fps, b"\x1b[K" if args.erase else b"")
        print(f"[frame_cost] {text}: {result[text]}", file=sys.stderr, flush=True)
    print(json.dumps({"rates": result, "tree": str(ROOT), "fps": args.fps}))


if __name__ == "__main__":
    main()
