"""Start the shared program on its pty without stopping the event loop (Linux).

``subprocess`` needs a ``preexec_fn`` to make the pty the program's controlling terminal
(``TIOCSCTTY``), and a ``preexec_fn`` rules out ``vfork``: the customer's loop then waits for
a copy of its whole address space and a Python call in the child before the program execs,
5-14 ms on a join's critical path (bench/join_latency.py, ``confirmed``). Here
``posix_spawn`` starts the program in a new session (``setsid``, done by glibc before the
file actions) and the program opens the pty's slave as its fd 0 itself: on Linux a session
leader without a controlling terminal that opens a terminal gets it as its controlling
terminal, as ``TIOCSCTTY`` would give. The parent is suspended only until the exec
(``CLONE_VFORK``), well under a millisecond.

The rest matches what ``subprocess`` (``start_new_session=True``, ``close_fds=True``,
``restore_signals=True``) gives the child: fds 0-2 the terminal and nothing else open
(inheritable fds from our own parent closed, the rest are close-on-exec), SIGPIPE and SIGXFSZ
at their default, ``argv[0]`` searched in the child's ``PATH``. The exit is watched
through a pidfd on the loop (no watcher thread). One difference, glibc's and harmless:
its two internal signals (32 and 33, below SIGRTMIN; thread cancellation and set*id
broadcasts) start out ignored in the program, as in every program started by posix_spawn
(Rust's ``Command`` among them); the C libraries install their handlers when they use them. Where any of it is missing (not Linux, no
``pidfd_open``) :func:`available` says so and the caller spawns as before.
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import sys

__all__ = ["SpawnedProgram", "available", "spawn"]

_available: bool | None = None
#: Python ignores them; subprocess gives the program their default back.
_DEFAULT_SIGNALS = (signal.SIGPIPE, signal.SIGXFSZ)


def available() -> bool:
    """Whether :func:`spawn` works here (checked once)."""
    global _available
    if _available is None:
        _available = (sys.platform == "linux" and hasattr(os, "posix_spawn") and hasattr(os, "pidfd_open")
                      and os.path.isdir("/proc/self/fd"))  # the fds to close are listed there
        if _available:
            try:
                os.close(os.pidfd_open(os.getpid()))
            except OSError:  # a kernel before 5.3
                _available = False
    return _available


class SpawnedProgram:
    """The started program: ``pid``, ``returncode`` and ``wait()``, as asyncio's Process has."""

    def __init__(self, pid: int, loop: asyncio.AbstractEventLoop) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._loop = loop
        self._exited: asyncio.Future[int] = loop.create_future()
        self._pidfd: int | None = os.pidfd_open(pid)
        loop.add_reader(self._pidfd, self._reap)

    def _reap(self) -> None:
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere: asyncio's own answer in that case
            pid, code = self.pid, 255
        else:
            if pid == 0:
                return
            code = os.waitstatus_to_exitcode(status)
        if self._pidfd is not None:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        self.returncode = code
        if not self._exited.done():
            self._exited.set_result(code)

    async def wait(self) -> int:
        """Wait for the program to exit; its status (negative ``-N`` for a death by signal N)."""
        if self.returncode is not None:
            return self.returncode
        return await asyncio.shield(self._exited)


def spawn(argv: list[str], terminal: str, env: dict[str, str]) -> SpawnedProgram:
    """Start ``argv`` in a new session with the terminal at path ``terminal`` as fds 0-2 and
    its controlling terminal. Raises OSError as ``subprocess`` would (FileNotFoundError...)."""
    actions: list[tuple[int, ...] | tuple[int, int, str, int, int]] = [
        (os.POSIX_SPAWN_OPEN, 0, terminal, os.O_RDWR, 0),
        (os.POSIX_SPAWN_DUP2, 0, 1),
        (os.POSIX_SPAWN_DUP2, 0, 2),
    ]
    actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in _inheritable_fds()]
    pid = _spawn_in_path(argv, env, actions)
    return SpawnedProgram(pid, asyncio.get_running_loop())


def _inheritable_fds() -> list[int]:
    """Our fds above 2 that an exec would pass on (``close_fds=True`` closes them)."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2:
            try:
                if os.get_inheritable(fd):
                    found.append(fd)
            except OSError:  # the listing's own fd, closed by now
                continue
    return found


def _spawn_in_path(argv: list[str], env: dict[str, str], actions: list[tuple[int, ...] | tuple[int, int, str, int, int]]) -> int:
    """posix_spawn ``argv`` searched in ``env``'s PATH, reporting errors as subprocess does:
    the first error other than "not found" along the PATH, else the last."""
    program = argv[0]
    candidates = [program] if os.sep in program else [os.path.join(d, program) for d in os.get_exec_path(env)]
    first: OSError | None = None
    last: OSError | None = None
    for candidate in candidates:
        if not os.path.exists(candidate):  # what exec would say (ENOENT/ENOTDIR), without a spawn
            continue
        try:
            return os.posix_spawn(candidate, argv, env, file_actions=actions, setsid=True, setsigdef=_DEFAULT_SIGNALS)
        except OSError as exc:
            last = exc
            if first is None and exc.errno not in (errno.ENOENT, errno.ENOTDIR):
                first = exc
    raise first or last or FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), program)
