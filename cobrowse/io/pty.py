"""The shared program's pty, the customer's own terminal, and the plain-mode wiring between them.

One name for the four modules that do it, so callers import from one place:

``PtyProcess`` (:mod:`cobrowse.io.pty_process`)
    The shared command running on a fresh pty, read and written without blocking the loop.
``LocalTerminal`` (:mod:`cobrowse.io.pty_terminal`)
    The customer's terminal in plain mode: raw stdin, stdout, its size and SIGWINCH.
``Passthrough`` / ``passthrough()`` (:mod:`cobrowse.io.pty_passthrough`)
    Wires the two, with an observer (the screen capture) after stdout.
``WriteQueue`` (:mod:`cobrowse.io.pty_flow`)
    The one flow control both directions use: a slow reader pauses the producer.
"""

from __future__ import annotations

from cobrowse.io.pty_flow import HIGH_WATER, READ_SIZE, WriteQueue
from cobrowse.io.pty_passthrough import Passthrough, passthrough
from cobrowse.io.pty_process import DEFAULT_SIZE, READ_TIME_BUDGET, READS_PER_WAKEUP, PtyProcess, command_argv
from cobrowse.io.pty_terminal import MAX_BLOCK, LocalTerminal, terminal_hung_up

__all__ = [
    "DEFAULT_SIZE",
    "HIGH_WATER",
    "MAX_BLOCK",
    "READS_PER_WAKEUP",
    "READ_SIZE",
    "READ_TIME_BUDGET",
    "LocalTerminal",
    "Passthrough",
    "PtyProcess",
    "WriteQueue",
    "command_argv",
    "passthrough",
    "terminal_hung_up",
]
