"""The customer's consent to being recorded (pure, enforced on the customer's machine).

Recording happens on the agent's side, so what the customer controls is the consent the
agent's client obeys: it records only after a ``granted`` answer and stops at the next
``stopped``/``denied``. As with control, a prompt nobody answers is denied, and the customer
can stop a recording at any time with one key. The customer's runtime shows the question
through ``prompts.PromptQueue`` (with the consent questions, one at a time); its deadline
lives there.
"""

from __future__ import annotations
from cobrowse.wire.frozen import frozen



@frozen
class RecordingPrompt:
    deadline: float


class RecordingConsent:
    """``off`` → (agent asks) ``asked`` → ``on`` or ``off``; ``stop`` from anywhere."""

    def __init__(self, prompt_timeout: float = 30.0) -> None:
        self.prompt_timeout = prompt_timeout
        self.state = "off"
        self.prompt: RecordingPrompt | None = None

    @property
    def recording(self) -> bool:
        return self.state == "on"

    def request(self, now: float) -> RecordingPrompt | None:
        """The agent asks; a new prompt, or None when already recording or already asked."""
        if self.state != "off":
            return None
        self.state = "asked"
        self.prompt = RecordingPrompt(now + self.prompt_timeout)
        return self.prompt

    def answer(self, allow: bool) -> str | None:
        """The customer's answer: the state to tell the agent, or None if nothing was asked."""
        if self.state != "asked":
            return None
        self.prompt = None
        self.state = "on" if allow else "off"
        return "granted" if allow else "denied"

    def expire(self, now: float) -> str | None:
        """Deny an unanswered prompt once its deadline passed."""
        if self.prompt is not None and now >= self.prompt.deadline:
            return self.answer(False)
        return None

    def stop(self) -> str | None:
        """The customer (or the agent) stops recording, or withdraws a pending question."""
        if self.state == "off":
            return None
        self.state = "off"
        self.prompt = None
        return "stopped"
