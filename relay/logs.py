"""The relay's log on stderr: ``human`` lines (default) or ``json``, one object a line.

Structured fields travel in ``extra={"ctx": {...}}`` (session id, event, error code,
address...); the JSON formatter puts them at the top level of the object, the human one
adds what the sentence does not say yet, in words, in brackets. Nothing the relay logs is content: it never has any.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

HUMAN_PREFIX = "cobrowse relay: "


def _ctx(record: logging.LogRecord) -> dict[str, Any]:
    ctx = getattr(record, "ctx", None)
    return ctx if isinstance(ctx, dict) else {}


class JsonFormatter(logging.Formatter):
    """``{"ts": ..., "level": ..., "logger": ..., "msg": ..., <ctx fields>}``"""

    def format(self, record: logging.LogRecord) -> str:
        obj: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in _ctx(record).items():
            obj.setdefault(key, value)
        if record.exc_info:
            obj["exc"] = self.formatException(record.exc_info)
        return json.dumps(obj, separators=(",", ":"), default=str)


class HumanFormatter(logging.Formatter):
    """A sentence for a person: the message, then what it does not say yet in brackets
    (``session 3fa9 ended (reason idle, lasted 12.5 s, paired, frames 40)``). ``event`` is the
    machine's name of what the message says; values the message already holds are not repeated."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        text = HUMAN_PREFIX + message
        said = set(message.replace(",", " ").replace(":", " ").split())
        details = [_detail(k, v) for k, v in _ctx(record).items()
                   if k != "event" and v is not None and v != "" and str(v) not in said]
        if details:
            text += f" ({', '.join(details)})"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


#: Field names as words (the rest: underscores become spaces).
_WORDS = {"duration_s": "lasted", "waited_s": "waited", "grace_s": "grace", "age_s": "age",
          "agent_token": "token", "claim_s": "after", "address": "from", "by": "by the", "from_node": "from node"}


def _detail(key: str, value: Any) -> str:
    if isinstance(value, bool):
        name = key.replace("_", " ")
        return name if value else f"not {name}"
    name = _WORDS.get(key, key.replace("_", " "))
    unit = " s" if key.endswith("_s") else ""
    return f"{name} {value}{unit}"


def setup_logging(fmt: str = "human", level: str = "info") -> None:
    """Point the ``relay`` logger at stderr in ``fmt``; websockets' own chatter stays at warning."""
    logger = logging.getLogger("relay")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else HumanFormatter())
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
    logging.getLogger("relay.websockets").setLevel(logging.WARNING)
