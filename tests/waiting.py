"""The one bounded wait of the test suite: check a condition until it holds or time runs out.

Every wait in the tests is bounded in time; a timeout says what was awaited, so a red test
reads as "no <what> in N s". With a Textual pilot the wait yields through ``pilot.pause`` so
the app keeps processing messages in between; with ``changed`` (an ``asyncio.Event`` the
producer sets, e.g. a recorder of events) it wakes when something happened instead of
polling; otherwise it polls every ``every`` s.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Protocol

WAIT = 15.0
#: With ``changed``: look again at least this often (a condition may also depend on time).
RECHECK = 1.0


class Pausing(Protocol):
    async def pause(self, delay: float | None = None) -> None: ...


class WaitTimedOut(AssertionError, TimeoutError):
    """A red test reads as an assertion; a test that waits on purpose catches TimeoutError."""


async def until(check: Callable[[], Any], what: str = "the condition", timeout: float = WAIT, *,
                pilot: Pausing | None = None, every: float = 0.05, changed: asyncio.Event | None = None) -> Any:
    """Return ``check()``'s first truthy result; raise WaitTimedOut naming ``what`` after ``timeout`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if changed is not None:
            changed.clear()  # before the check: a change during it wakes the wait below
        result = check()
        if result:
            return result
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise WaitTimedOut(f"timed out after {timeout} s waiting for {what}")
        if pilot is not None:
            await pilot.pause(every)
        elif changed is not None:
            try:
                async with asyncio.timeout(min(remaining, RECHECK)):
                    await changed.wait()
            except TimeoutError:
                pass
        else:
            await asyncio.sleep(min(every, remaining))
