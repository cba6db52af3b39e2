"""The one bounded wait of the test suite: poll a condition until it holds or time runs out.

Every wait in the tests is bounded in time; a timeout says what was awaited, so a red test
reads as "no <what> in N s". With a Textual pilot the wait yields through ``pilot.pause`` so
the app keeps processing messages in between.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Protocol

WAIT = 15.0


class Pausing(Protocol):
    async def pause(self, delay: float | None = None) -> None: ...


async def until(check: Callable[[], Any], what: str = "the condition", timeout: float = WAIT, *,
                pilot: Pausing | None = None, every: float = 0.05) -> Any:
    """Return ``check()``'s first truthy result; raise AssertionError naming ``what`` after ``timeout`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        if pilot is not None:
            await pilot.pause(every)
        else:
            await asyncio.sleep(every)
