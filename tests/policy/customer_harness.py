"""A CustomerPolicy driven synchronously: a screen of plain lines, a clock we move by hand."""

from __future__ import annotations

from typing import Any

from cobrowse.policy.customer import CustomerPolicy, Effect
from cobrowse.policy.events import Event, as_json
from cobrowse.protocol import messages as m
from cobrowse.screen.budget import PatternBudget
from cobrowse.screen.redact import Redactor
from cobrowse.screen.state import Modes


class Screen:
    def __init__(self, *lines: str) -> None:
        self.rows = list(lines) or ["$ "]
        self.mode = Modes(False, False, False)

    def lines(self) -> list[str]:
        return self.rows

    def modes(self) -> Modes:
        return self.mode


class Drive:
    """The policy, a screen, and every effect so far (``sent``, ``events``, ``actions``)."""

    def __init__(self, *, paired: bool = True, **options: Any) -> None:
        self.clock = 100.0
        patterns = PatternBudget(lambda: self.clock)
        options.setdefault("prompt_arming", 1.0)
        options.setdefault("control_cooldown", 5.0)
        self.policy = CustomerPolicy(patterns=patterns, redactor=Redactor((), budget=patterns), **options)
        self.screen = Screen()
        self.effects: list[Effect] = []
        if paired:
            self.take(self.policy.paired_now(self.clock))

    def take(self, effects: list[Effect]) -> list[Effect]:
        self.effects += effects
        return effects

    def later(self, seconds: float) -> None:
        self.clock += seconds

    # inputs

    def agent(self, message: m.AppMessage, **kw: Any) -> list[Effect]:
        return self.take(self.policy.message(message, self.clock, self.screen, **kw))

    def command(self, name: str, text: str = "") -> list[Effect]:
        return self.take(self.policy.command(name, text, self.clock, self.screen))

    def keys(self, data: bytes) -> list[Effect]:
        return self.take(self.policy.local_input(data, self.clock, self.screen))

    def tick(self) -> list[Effect]:
        return self.take(self.policy.tick(self.clock))

    def answer(self, allow: bool, prompt_id: int | None = None) -> list[Effect]:
        return self.take(self.policy.desk.answer(allow, prompt_id, self.clock))  # type: ignore[arg-type]

    # what came out

    @staticmethod
    def sent_in(effects: list[Effect]) -> list[m.AppMessage]:
        return [e for e in effects if isinstance(e, m.AppMessage)]

    @staticmethod
    def events_in(effects: list[Effect], kind: str | None = None) -> list[dict[str, Any]]:
        out = [as_json(e) for e in effects if isinstance(e, Event)]
        return [e for e in out if kind is None or e["event"] == kind]

    @property
    def sent(self) -> list[m.AppMessage]:
        return self.sent_in(self.effects)

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        return self.events_in(self.effects, kind)
