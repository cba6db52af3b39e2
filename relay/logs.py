"""The relay's log on stderr: ``human`` lines (default) or ``json``, one object a line.

Structured fields travel in ``extra={"ctx": {...}}`` (session id, event, error code,
address...); the JSON formatter puts them at the top level of the object, the human one
appends them as ``key=value``. Nothing the relay logs is content: it never has any.
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
    def format(self, record: logging.LogRecord) -> str:
        text = HUMAN_PREFIX + record.getMessage()
        ctx = _ctx(record)
        if ctx:
            text += " " + " ".join(f"{k}={v}" for k, v in ctx.items() if v is not None)
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


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
