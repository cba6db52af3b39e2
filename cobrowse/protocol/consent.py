"""Consent, enforced on the customer's machine.

View only is the default. The agent may ask for more; the customer grants or denies; a
prompt nobody answers is denied when its deadline passes, never accepted. The customer can
revoke at any moment, effective at once. The agent's client only ever learns the level;
it has no way to raise it. Pure: ``now`` is passed in. The customer's runtime asks through
``prompts.PromptQueue`` (one question at a time, for consent and recording alike) and keeps
only the level here (``covers``, ``grant``, ``revoke``); ``request``/``answer``/``expire``
are the single-prompt form of the same rules.
"""

from __future__ import annotations


from cobrowse.protocol.messages import CONSENT_LEVELS
from cobrowse.wire.frozen import frozen

PROMPT_TIMEOUT = 30.0


@frozen
class Prompt:
    level: str
    deadline: float


class ConsentMachine:
    def __init__(self, prompt_timeout: float = PROMPT_TIMEOUT) -> None:
        self.level = "view"
        self.prompt: Prompt | None = None
        self.prompt_timeout = prompt_timeout

    def covers(self, level: str) -> bool:
        """Whether the current level already includes ``level`` (nothing to ask)."""
        return CONSENT_LEVELS.index(level) <= CONSENT_LEVELS.index(self.level)

    def allows_keys(self) -> bool:
        return self.level == "control"

    def allows_suggestions(self) -> bool:
        return True  # the customer decides on each suggestion; view-only is enough

    def request(self, level: str, now: float) -> Prompt | None:
        """The agent asks for ``level``; return the prompt to show, or None if nothing to ask."""
        if level not in CONSENT_LEVELS:
            raise ValueError(f"unknown consent level {level!r}")
        if CONSENT_LEVELS.index(level) <= CONSENT_LEVELS.index(self.level):
            return None
        self.prompt = Prompt(level, now + self.prompt_timeout)
        return self.prompt

    def answer(self, grant: bool, now: float) -> bool:
        """The customer answered the open prompt; return whether the level changed."""
        prompt, self.prompt = self.prompt, None
        if prompt is None or not grant or now > prompt.deadline:
            return False
        self.level = prompt.level
        return True

    def expire(self, now: float) -> bool:
        """Deny a prompt whose deadline passed; return whether one was denied."""
        if self.prompt is not None and now > self.prompt.deadline:
            self.prompt = None
            return True
        return False

    def grant(self, level: str) -> bool:
        """The customer grants a level on their own initiative."""
        if level not in CONSENT_LEVELS:
            raise ValueError(f"unknown consent level {level!r}")
        changed = level != self.level
        self.level, self.prompt = level, None
        return changed

    def revoke(self) -> bool:
        """Back to view only, at once."""
        changed = self.level != "view" or self.prompt is not None
        self.level, self.prompt = "view", None
        return changed
