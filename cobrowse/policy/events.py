"""Typed events: what a runtime reports to its front end, JSON only at the edge.

Front ends (the Textual apps, plain mode) match on the event's class; the headless adapter
calls ``as_json`` and prints the same shape as before, so shared/HEADLESS.md does not change.
Field names are the JSON keys; ``key("from")`` renames one that is a Python keyword, and
``None`` fields are left out (the headless events never carried ``null`` for "absent").
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any, ClassVar, Mapping

from cobrowse.wire.frozen import frozen


def key(name: str, default: Any = None) -> Any:
    """A field whose JSON key is ``name`` (for ``from``, ``class`` and the like)."""
    return dataclasses.field(default=default, metadata={"key": name})


@frozen
class Event:
    """Base of every typed event; subclasses set ``KIND`` to the headless ``event`` name."""

    KIND: ClassVar[str] = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event": self.KIND}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            out[f.metadata.get("key", f.name)] = _plain(value)
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Event):
        return value.to_json()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def as_json(event: Event) -> dict[str, Any]:
    """The headless shape of an event (the headless adapter, plain mode, the record keepers)."""
    return event.to_json()


def kind_of(event: Event) -> str:
    """The headless ``event`` name, for the keepers that note a few kinds."""
    return event.KIND
