"""`cobrowse join` / `share` start with the cyclic collector off and always get it back
(cobrowse.cli.main): within GC_BACK_AFTER while the command runs, or when it ends however it
ends; other commands and in-process callers keep theirs. Each case in its own interpreter
(gc.freeze is process-wide)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(code: str) -> dict[str, object]:
    env = {**os.environ, "COBROWSE_CONFIG": os.devnull}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_a_join_that_fails_gives_the_collector_back() -> None:
    """The relay is down (exit 3): the collector is on again, the start-up frozen."""
    result = run("""
import gc, json, sys
sys.argv = ["cobrowse", "join", "42-7193-0518", "--relay", "ws://127.0.0.1:9", "--plain"]
from cobrowse.cli.main import main
status = main()
print(json.dumps({"status": status, "enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}))
""")
    assert result["status"] == 3 and result["enabled"] is True
    assert isinstance(result["frozen"], int) and result["frozen"] > 1000


def test_a_usage_error_gives_it_back_too() -> None:
    result = run("""
import gc, json, sys
sys.argv = ["cobrowse", "join", "--size"]
from cobrowse.cli.main import main
try:
    main()
except SystemExit as exc:
    code = exc.code
print(json.dumps({"status": code, "enabled": gc.isenabled()}))
""")
    assert result == {"status": 2, "enabled": True}


def test_it_comes_back_while_the_command_runs() -> None:
    result = run("""
import asyncio, gc, json
from cobrowse.cli import main as cli
cli.GC_BACK_AFTER = 0.05
gc.disable()
seen = []
async def command():
    seen.append(gc.isenabled())
    await asyncio.sleep(0.3)
    seen.append(gc.isenabled())
    return 7
status = asyncio.run(cli._gc_back_later(command()))
print(json.dumps({"status": status, "seen": seen, "enabled": gc.isenabled()}))
""")
    assert result == {"status": 7, "seen": [False, True], "enabled": True}


def test_other_commands_and_callers_keep_their_collector() -> None:
    result = run("""
import gc, json, sys
seen = []
import cobrowse.cli.main as cli
real = cli._main
def spy(argv, lean):
    seen.append(gc.isenabled())
    return 0
cli._main = spy
sys.argv = ["cobrowse", "agent", "--headless"]
cli.main()
sys.argv = ["cobrowse", "join", "1-2-3"]
cli.main(["join", "1-2-3"])
gc.disable()
cli.main()
print(json.dumps({"seen": seen, "enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}))
""")
    assert result == {"seen": [True, True, False], "enabled": False, "frozen": 0}
