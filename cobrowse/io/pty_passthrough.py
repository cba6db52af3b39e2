"""Plain mode's wiring: the shared program's pty joined to the customer's terminal.

Pty output goes to stdout first (the customer must not feel the sharing) and then to an
observer (the screen capture), except a key's small echo the ``first`` hook takes before
stdout (its frame leaves first: the agent waits for it, the customer's own terminal does not); stdin goes to the pty (or to a handler the caller puts in
between, for the prefix key); resizes follow. Each side's write queue pauses the other
side's reader, so a slow stdout blocks the program and a program not reading its input
stops the keys.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable

from cobrowse.io.pty_process import PtyProcess
from cobrowse.io.pty_terminal import LocalTerminal

__all__ = ["Passthrough", "passthrough"]

logger = logging.getLogger(__name__)


class Passthrough:
    """Plain mode: the program's pty joined to the customer's terminal, plus an observer.

    Output goes to stdout first, then to ``observer`` (which must be cheap; its exceptions
    are logged and ignored). Keys go to ``input_handler`` (default: straight to the pty;
    the caller's prefix-key logic goes there and calls ``process.write`` itself). ``first``,
    if given, sees each read before stdout does (cheap, and quick to pass on what it does not
    want: the customer's runtime takes the echo of a key the agent typed there, to send its
    frame before the customer's terminal write and that terminal's wake-up). Resizes
    of the customer's terminal resize the pty and are told to ``resize_observer``. When
    stdin is not a tty and ends, the pty gets an EOF character, as ``script`` does. Either
    way ``input_eof_observer(tty)`` hears that stdin ended: from a terminal (EOF or EIO) that
    means it hung up, and the caller should end; from a pipe, the program may still finish.
    """

    def __init__(
        self,
        process: PtyProcess,
        terminal: LocalTerminal,
        *,
        observer: Callable[[bytes], None] | None = None,
        first: Callable[[bytes], None] | None = None,
        resize_observer: Callable[[int, int], None] | None = None,
        input_handler: Callable[[bytes], None] | None = None,
        exit_idle_timeout: float = 0.5,
        input_eof_observer: Callable[[bool], None] | None = None,
    ) -> None:
        self.process = process
        self.input_eof_observer = input_eof_observer
        self.terminal = terminal
        self.observer = observer
        self.first = first
        self.resize_observer = resize_observer
        self.input_handler = input_handler or process.write
        self.exit_idle_timeout = exit_idle_timeout
        self.observer_errors = 0

    def _on_output(self, data: bytes) -> None:
        first = self.first
        if first is not None:
            self._observe(first, data)
        self.terminal.write(data)
        observer = self.observer
        if observer is not None:
            self._observe(observer, data)

    def _observe(self, observer: Callable[[bytes], None], data: bytes) -> None:
        try:
            observer(data)
        except Exception:
            self.observer_errors += 1
            if self.observer_errors == 1:
                logger.exception("output observer failed (further failures are counted, not logged)")

    def _on_input_eof(self) -> None:
        tty = self.terminal.stdin_is_tty
        if not tty:
            self.process.send_eof()
        if self.input_eof_observer is not None:
            try:
                self.input_eof_observer(tty)
            except Exception:
                logger.exception("input EOF observer failed")

    def _on_resize(self, cols: int, rows: int) -> None:
        if (cols, rows) != self.process.size:
            self.process.resize(cols, rows)
        if self.resize_observer is not None:
            try:
                self.resize_observer(cols, rows)
            except Exception:
                logger.exception("resize observer failed")

    async def run(self) -> int:
        """Run until the program exited and its output was shown; its exit status.

        If the program exits while something it started still holds the terminal, output
        keeps flowing until nothing arrived for ``exit_idle_timeout`` seconds.
        """
        process, terminal = self.process, self.terminal
        terminal.set_flow_control(process.pause_reading, process.resume_reading)
        process.set_flow_control(terminal.pause_reading, terminal.resume_reading)
        unsubscribe = terminal.on_resize(self._on_resize)
        process.set_output_handler(self._on_output)
        terminal.start_reading(self.input_handler, self._on_input_eof)
        cols, rows = terminal.size()
        if (cols, rows) != process.size and (terminal.stdin_is_tty or os.isatty(terminal.stdout_fd)):
            self._on_resize(cols, rows)
        try:
            status = await process.wait()
            while not process.at_eof:
                before = process.bytes_read
                try:
                    async with asyncio.timeout(self.exit_idle_timeout):
                        await process.wait_eof()
                except TimeoutError:
                    if process.bytes_read == before and not process.reading_paused:
                        break
            await terminal.drain()
            return status
        finally:
            terminal.stop_reading()
            unsubscribe()
            process.set_output_handler(None)
            terminal.set_flow_control(None, None)
            process.set_flow_control(None, None)


async def passthrough(
    process: PtyProcess,
    terminal: LocalTerminal,
    *,
    observer: Callable[[bytes], None] | None = None,
    resize_observer: Callable[[int, int], None] | None = None,
    input_handler: Callable[[bytes], None] | None = None,
) -> int:
    """Run ``process`` shared in plain mode on ``terminal``; its exit status. See :class:`Passthrough`.

    Typical use::

        with LocalTerminal() as term:
            async with await PtyProcess.spawn(command_argv(cmd), *term.size()) as proc:
                status = await passthrough(proc, term, observer=capture.feed)
    """
    return await Passthrough(
        process, terminal, observer=observer, resize_observer=resize_observer, input_handler=input_handler
    ).run()
