"""Plain mode's own keys (the customer's terminal): decided at once, carried out in order.

The customer's keys used to wait in a queue for a task that handed them to the policy, one
loop turn or more after stdin's read callback, while an agent's key frame is decided and
written to the pty from the link's read callback (keys5). A revoke (``Ctrl-] r``) read in the
same turn as a key frame, or before it, let that key through. Now the policy decides each
read from stdin's callback (the revoke takes effect there: consent is view before any later
frame is read); only the effects (messages to send, notices, the customer's keys to the pty)
wait, in order, for the task.

What is left: a key frame and the revoke's last key (the ``r``) readable in the same wait of
the loop, with the socket's callback run first (epoll's order: the fd that became ready first
comes first, so this is the case of the two arriving within one loop turn, under load a few
ms). The key was in this process's socket buffer before the revoke was read: closing that
would mean polling stdin before each key frame (a syscall per key, in the frame path). In a
team, the other agents' control goes back through ``TeamRequest`` effects: one turn later.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol


class DecidesLocalInput(Protocol):
    def decide_local_input(self, data: bytes) -> list[Any]: ...

    async def apply_local(self, effects: list[Any]) -> None: ...


class LocalInputs:
    """``take`` is stdin's handler (sync); ``run`` carries out what was decided, in order."""

    def __init__(self, runtime: DecidesLocalInput) -> None:
        self.runtime = runtime
        self._decided: asyncio.Queue[list[Any]] = asyncio.Queue()

    def take(self, data: bytes) -> None:
        self._decided.put_nowait(self.runtime.decide_local_input(data))

    async def run(self) -> None:
        while True:
            await self.runtime.apply_local(await self._decided.get())
