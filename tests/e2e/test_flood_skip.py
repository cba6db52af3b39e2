"""A flood through real processes with skip-ahead (screen/skip.py): the agent's view moves
during the flood, its last screen is exactly the program's, and a private key at the end of
a flood is masked although its BEGIN line left the screen long before."""

from __future__ import annotations

import sys
from pathlib import Path

from test_screen_fidelity import COLS, ROWS, SETTLE, emulated, paired, settle, view

PEM = ("-----BEGIN OPENSSH PRIVATE KEY-----\n"
       + "".join(f"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABlwAAAAdzc2gtcn{i:02d}\n" for i in range(40))
       + "-----END OPENSSH PRIVATE KEY-----\n")


def flood_file(path: Path, lines: int = 60_000) -> Path:
    with path.open("w") as out:
        for i in range(lines):
            colour = "\x1b[32mINFO\x1b[0m" if i % 3 else "\x1b[1;31mWARN\x1b[0m"
            out.write(f"2026-12-06 12:00:{i % 60:02d} {colour} worker[{i % 7}] line {i:06d} processed\n")
    return path


PACER = """
import sys, time
for t in range(50):
    sys.stdout.write("".join(f"{t:02d} line {i:07d}\\n" for i in range(t * 20000, (t + 1) * 20000)))
    sys.stdout.flush()
    time.sleep(0.02)
"""


async def test_a_flood_moves_the_view_and_ends_exact(relay_url: str, tmp_path: Path) -> None:
    """A second of ~16 MB in bursts: the agent's view moves during it, then shows the end exactly."""
    pacer = tmp_path / "pacer.py"
    pacer.write_text(PACER)
    command = f"sh -c 'read go; {sys.executable} {pacer}; echo flood-done; exec sleep 60'"
    async with paired(relay_url, command) as (agent, customer):
        before = len(agent.all("screen"))
        await customer.send(b"go\n")
        await customer.output(b"flood-done", timeout=60)
        reference = emulated(customer.stdout_raw)
        screen = await settle(agent, lambda: reference, "the flood's last screen")
        got = view(screen)
        assert got["size"] == [COLS, ROWS]
        assert got["lines"][-3:] == ["49 line 0999999", "flood-done", ""]
        during = [view(s)["lines"] for s in agent.all("screen")[before:]]
        middle = {tuple(lines) for lines in during if "flood-done" not in lines and " line " in lines[-2]}
        assert len(middle) >= 2, "the agent's view did not move during the flood"


async def test_a_flood_ending_in_a_private_key_shows_it_masked(relay_url: str, tmp_path: Path) -> None:
    log = flood_file(tmp_path / "flood.log", 30_000)
    with log.open("a") as out:
        out.write(PEM)
    async with paired(relay_url, f"sh -c 'read go; cat {log}; echo flood-done; exec sleep 60'") as (agent, customer):
        await customer.send(b"go\n")
        await customer.output(b"flood-done")
        reference = emulated(customer.stdout_raw)
        assert any("b3BlbnNzaC1rZXkt" in line for line in reference["lines"]), "the key's lines are on the screen"
        assert not any("BEGIN OPENSSH" in line for line in reference["lines"]), "its BEGIN line scrolled off"
        screen = await agent.screen(lambda lines: "flood-done" in lines, timeout=SETTLE)
        lines = view(screen)["lines"]
        assert any("END OPENSSH PRIVATE KEY" in line for line in lines)
        assert not any("b3BlbnNzaC1rZXkt" in line for line in lines), lines
        assert sum("\u2591" * 40 in line for line in lines) >= ROWS - 4
