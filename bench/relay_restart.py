"""A relay restart under load: resume time after `kill -9`, messages lost, sessions ended.

    python bench/relay_restart.py [--sessions 100] [--kill-at 20] [--run-to 60] [--runs 1]
    python bench/relay_restart.py --nodes 2 ...    # two nodes on a real redis-server, one killed for good

One relay process (``python -m relay``, its own data directory, a fixed loopback port);
``--sessions`` paired sessions of in-process client runtimes chatting every second both
ways; SIGKILL at ``--kill-at`` s and a new process on the same port and data directory at
once; chat until ``--run-to`` s, then every message must arrive. With ``--nodes 2`` the
clients reach two nodes through a TCP proxy (a load balancer) and one node is killed for
good. Resume time: from the new process listening (or the kill, for nodes) to both sides
of a session resumed. The harness is tests/relay/soak.py (the tests run it smaller).
Progress goes to stderr; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("COBROWSE_DIRECT", "0")

from tests.relay.soak import SoakResult, restart_soak  # noqa: E402


def summary(result: SoakResult) -> dict[str, object]:
    p50, p99 = result.percentile(50), result.percentile(99)
    return {
        "sessions": result.sessions, "messages_sent": result.sent, "messages_lost": result.lost,
        "duplicated": result.duplicated, "sessions_ended": result.ended,
        "resumed": len(result.resume_s),
        "resume_p50_s": round(p50, 3) if p50 is not None else None,
        "resume_p99_s": round(p99, 3) if p99 is not None else None,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--kill-at", type=float, default=20.0)
    parser.add_argument("--run-to", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--nodes", type=int, default=1, choices=(1, 2))
    args = parser.parse_args()
    rows = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="cobrowse-restart-") as tmp:
            if args.nodes == 1:
                result = await restart_soak(Path(tmp), args.sessions, args.kill_at, args.run_to)
            else:
                from tests.relay.soak_nodes import node_loss_soak

                result = await node_loss_soak(Path(tmp), args.sessions, args.kill_at, args.run_to)
        row = summary(result)
        print(f"run {run + 1}: {row}", file=sys.stderr)
        rows.append(row)
    print(json.dumps({"bench": "relay_restart", "nodes": args.nodes, "kill_at_s": args.kill_at,
                      "run_to_s": args.run_to, "machine": platform.machine(), "cpus": os.cpu_count(),
                      "runs": rows}))


if __name__ == "__main__":
    asyncio.run(main())
