"""How big and how slow a fresh install is, per flavour (BENCHMARKS.md: ``install``).

For the base package and each extra (``voice``, ``relay``, ...; ``test`` excluded) plus
``full`` (every extra): a new virtual environment, ``pip install <wheel>[extra]`` from a
wheel built once, timed; then the size of site-packages without pip and setuptools (what
the user's disk pays for cobrowse). Downloads come from the package index (pip's cache is
kept between flavours and runs, so the figures after the first run are install time, not
network time). Baseline, side by side: the same install of ``rich`` alone, which every
terminal app pulls in, so the ratio says what cobrowse adds to a typical small CLI.

Last stdout line: ``{"base_mb", "base_s", "full_mb", "full_s", "<extra>_mb", "<extra>_s", ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_COUNTED = ("pip", "setuptools", "pkg_resources", "_distutils_hack", "distutils-precedence.pth")


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def size_mb(site: Path) -> float:
    total = 0
    for entry in site.iterdir():
        name = entry.name
        if name.startswith(NOT_COUNTED) or name.split("-")[0] in ("pip", "setuptools"):
            continue
        if entry.is_file():
            total += entry.stat().st_size
        else:
            total += sum(p.stat().st_size for p in entry.rglob("*") if p.is_file() and not p.is_symlink())
    return round(total / 1e6, 1)


def install(requirement: str, where: Path) -> tuple[float, float]:
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    started = time.perf_counter()
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", requirement],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"pip install {requirement} failed:\n{done.stderr[-2000:]}")
    (site,) = (venv / "lib").glob("python3*/site-packages")
    return size_mb(site), round(seconds, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="flavours to measure (default: base, every extra, full)")
    args = parser.parse_args()
    extras = [e for e in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get("optional-dependencies", {})
              if e != "test"]
    flavours = {"base": "", **{e: f"[{e}]" for e in extras if e not in ("all", "full")},
                "full": f"[{','.join(e for e in extras if e not in ('all', 'full'))}]" if extras else ""}
    if args.only:
        flavours = {k: v for k, v in flavours.items() if k in args.only}
    result: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="cobrowse-install-") as tmp:
        wheels = Path(tmp) / "wheels"
        log("building the wheel ...")
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
                       check=True, capture_output=True)
        (wheel,) = wheels.glob("cobrowse-*.whl")
        log("baseline: rich alone ...")
        base_dir = Path(tmp) / "baseline"
        base_dir.mkdir()
        result["baseline_rich_mb"], result["baseline_rich_s"] = install("rich", base_dir)
        for name, extra in flavours.items():
            where = Path(tmp) / name
            where.mkdir()
            log(f"{name}: pip install cobrowse{extra} ...")
            mb, seconds = install(f"{wheel}{extra}", where)
            result[f"{name}_mb"], result[f"{name}_s"] = mb, seconds
            log(f"  {mb} MB in {seconds} s")
            shutil.rmtree(where, ignore_errors=True)
    result["extras"] = extras
    result["python"] = sys.version.split()[0]
    result["machine"] = f"{os.uname().machine} {os.cpu_count()} cpu"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
