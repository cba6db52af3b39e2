"""What every application message is (``cobrowse.protocol.messages`` holds the types and the
codec): a frozen dataclass with a type tag ``t``, and the error a malformed one raises."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, ClassVar
from cobrowse.wire.frozen import frozen


class MalformedPayload(ValueError):
    """A payload that opened correctly but is not a valid message (a peer bug, not an attack)."""


@frozen
class AppMessage:
    t: ClassVar[str]

    def to_json(self) -> dict[str, Any]:
        return {"t": self.t, **asdict(self)}
