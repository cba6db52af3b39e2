"""Building a message dataclass from untrusted JSON: every field present, of its type.

Shared by the relay envelope and the sealed application messages, so both treat hostile
input the same way: a missing or mistyped field is an error, never a crash or a default.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any

# The annotation's first type -> the JSON types accepted for it. bool is never an int here.
_ACCEPTED: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "float": (int, float), "bool": (bool,), "dict": (dict,),
    "list": (list,),
}


def from_json(cls: type, obj: dict[str, Any], name: str, error: type[ValueError]) -> Any:
    """``cls(**fields)`` from ``obj``; raise ``error`` naming ``name`` and the bad field."""
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in obj:
            if f.default is MISSING:
                raise error(f"{name}: missing {f.name!r}")
            continue
        value = obj[f.name]
        annotation = str(f.type)
        if value is None and "None" in annotation:
            continue
        accepted = _ACCEPTED[annotation.split("|")[0].strip()]
        if not isinstance(value, accepted) or (isinstance(value, bool) and bool not in accepted):
            raise error(f"{name}: {f.name!r} has the wrong type")
        kwargs[f.name] = value
    return cls(**kwargs)
