"""What starting cobrowse costs before any of its code runs: the interpreter, ``site``, the
entry point, the installation's kind (issue 17: `cobrowse join CODE` → the agent's first screen).

    python bench/start_cost.py --venv /tmp/join6_mine [--editable .venv] [--n 20]

Each variant is one process run to its end, ``n`` times, the variants interleaved (round
robin, so load changes hit every variant alike); wall time from this process and CPU time
(user + system) from the reaped child's rusage. Variants (``V`` = the wheel venv's
``bin/python``, ``E`` = the editable venv's):

``bare``            ``V -c pass``: the interpreter and ``site`` (the venv's .pth files)
``no_site``         ``V -S -c pass``: without ``site`` (what a ``-S`` start would save)
``isolated``        ``V -I -c pass``: ``-E -s`` (no user site, no PYTHON* variables)
``unfrozen``        ``V -X frozen_modules=off -c pass``: the stdlib start-up modules from
                    their .pyc files instead of the frozen copies (the default is on)
``script_version``  ``V/../cobrowse --version``: pip's console script (its ``import re``,
                    then ``main()``: lean_imports, argparse, the lean parser)
``module_version``  ``V -m cobrowse --version``: the same through ``-m`` (runpy)
``editable_version`` ``E -m cobrowse --version`` (cwd ``/``): the editable install's finder
                    (``__editable__...pth``) in place of a plain site-packages folder
``join_imports``    ``V -c "<lean_imports>; import cobrowse.cli.customer, ..."``: everything
                    ``join CODE`` imports before its first packet
``join_imports_gc_off`` the same with the cyclic collector off (as ``main`` starts ``join``)
``versus_*``        with ``--versus-venv W``: ``script_version`` and ``join_imports`` from W

Progress on stderr; the last stdout line is one JSON object (medians, ms).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

JOIN = ("from cobrowse.cli import lean_imports; lean_imports.install(); "
        "from cobrowse.cli.main import build_parser; build_parser('join'); "
        "import cobrowse.cli.customer, cobrowse.cli.commands, cobrowse.io.customer_session")


def variants(venv: Path, editable: Path | None, versus: Path | None = None) -> dict[str, list[str]]:
    python = str(venv / "bin" / "python")
    out = {
        "bare": [python, "-c", "pass"],
        "no_site": [python, "-S", "-c", "pass"],
        "isolated": [python, "-I", "-c", "pass"],
        "unfrozen": [python, "-X", "frozen_modules=off", "-c", "pass"],
        "script_version": [str(venv / "bin" / "cobrowse"), "--version"],
        "module_version": [python, "-m", "cobrowse", "--version"],
        "join_imports": [python, "-c", JOIN],
        "join_imports_gc_off": [python, "-c", "import gc; gc.disable(); " + JOIN],
    }
    if versus is not None:
        out["versus_script_version"] = [str(versus / "bin" / "cobrowse"), "--version"]
        out["versus_join_imports"] = [str(versus / "bin" / "python"), "-c", JOIN]
    if editable is not None:
        out["editable_version"] = [str(editable / "bin" / "python"), "-m", "cobrowse", "--version"]
    return out


def one(argv: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    env = {**os.environ, "COBROWSE_CONFIG": os.devnull}
    subprocess.run(argv, cwd="/", env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True, timeout=60)
    wall = (time.monotonic() - t0) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--venv", type=Path, required=True, help="a venv with cobrowse installed from a wheel")
    ap.add_argument("--editable", type=Path, help="a venv with cobrowse installed editable (pip install -e)")
    ap.add_argument("--versus-venv", type=Path, help="another wheel venv (main): its script and join imports too")
    ap.add_argument("--n", type=int, default=20)
    args = ap.parse_args()
    runs = variants(args.venv.absolute(), args.editable.absolute() if args.editable else None,
                    args.versus_venv.absolute() if args.versus_venv else None)
    walls: dict[str, list[float]] = {k: [] for k in runs}
    cpus: dict[str, list[float]] = {k: [] for k in runs}
    for name, argv in runs.items():  # warm the page cache and the lean shims' cache once
        one(argv)
    for i in range(args.n):
        for name, argv in runs.items():
            wall, cpu = one(argv)
            walls[name].append(wall)
            cpus[name].append(cpu)
        print(f"[start_cost] round {i}", file=sys.stderr, flush=True)
    result = {name: {"wall_ms_p50": round(statistics.median(walls[name]), 1),
                     "cpu_ms_p50": round(statistics.median(cpus[name]), 1),
                     "cpu_ms_min": round(min(cpus[name]), 1)} for name in runs}
    result["n"] = args.n  # type: ignore[assignment]
    result["load"] = os.getloadavg()  # type: ignore[assignment]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
