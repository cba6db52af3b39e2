"""Refusals in the log, throttled: a flood of refusals must not become a flood of log lines
(each costs the loop time every client waits for)."""

from __future__ import annotations

import logging
from typing import Any, Callable

LINES, WINDOW = 20, 10.0  # refusals logged one by one per window, the rest counted

log = logging.getLogger("relay")


class RefusalLog:
    """Up to LINES lines per WINDOW s, then one line with the count at the next window."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._unlogged = 0
        self._lines = 0
        self._window_at = -WINDOW

    def log(self, what: str, ctx: dict[str, Any]) -> None:
        now = self._clock()
        if now - self._window_at >= WINDOW:
            if self._unlogged:
                log.info("refused: %d more refusals in the last %.0f s were not logged one by one",
                         self._unlogged, now - self._window_at,
                         extra={"ctx": {"event": "refused_unlogged", "count": self._unlogged}})
            self._window_at, self._lines, self._unlogged = now, 0, 0
        if self._lines < LINES:
            self._lines += 1
            log.info("refused: %s", what, extra={"ctx": ctx})
        else:
            self._unlogged += 1


#: What an agent token refusal's ``token_state`` means, said in the log line itself.
TOKEN_WORDS = {
    "missing": "the agent token is missing (none was given)",
    "revoked": "the agent token was revoked",
    "unknown": "the agent token is unknown (mistyped, or not issued by this relay)",
}


def refusal_words(data: dict[str, object]) -> str:
    """A refusal's code, with why for a refused agent token (the reason, never the token)."""
    code = str(data.get("code"))
    state = data.get("token_state")
    if code == "unauthorized" and isinstance(state, str) and state in TOKEN_WORDS:
        return f"{code}: {TOKEN_WORDS[state]}"
    if code == "rate_limited" and data.get("limit") == "claims":
        return (f"{code}: too many failed claims (wrong or unknown codes) from this address "
                f"(rate_limit per rate_window): blocked for {data.get('blocked_s')} s")
    return code
