"""Waiting for a relay process to listen: shared by the tests that start real relay processes."""

from __future__ import annotations

import subprocess
import time


def wait_until_listening(proc: subprocess.Popen[str], lines: list[str], timeout: float) -> None:
    """Read the relay's stderr into ``lines`` until it says it listens (AssertionError otherwise,
    with what it printed; the process is killed)."""
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if "listening on" in line:
            return
    proc.kill()
    raise AssertionError(f"relay did not start: {lines!r} {proc.communicate(timeout=timeout)!r}")
