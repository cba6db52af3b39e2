"""What every application message is (``cobrowse.protocol.messages`` holds the types and the
codec): a frozen dataclass with a type tag ``t``, and the error a malformed one raises."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar


class MalformedPayload(ValueError):
    """A payload that opened correctly but is not a valid message (a peer bug, not an attack)."""


@dataclass(frozen=True)
class AppMessage:
    t: ClassVar[str]

    def to_json(self) -> dict[str, Any]:
        return {"t": self.t, **asdict(self)}
