"""Playbooks and the step machine (pure core: no network, no clock; ``now`` is passed in).

- ``model``: ``Step``, ``Playbook``, ``PlaybookError``, the dict (wire/inline) form;
- ``parse``: the Markdown file format (``docs/playbooks.md``);
- ``library``: a folder of playbooks, listed and searched;
- ``steps``: ``StepMachine``, statuses and auto-advance;
- ``lines``: ``LineTap``, the completed lines a program printed.

The names load from their module on first use: a customer's join needs the model, the step
machine and the line tap, not the file format or the library (bench/join_latency.py).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cobrowse.playbook.library import Library, LibraryEntry
    from cobrowse.playbook.lines import MAX_LINE, LineTap
    from cobrowse.playbook.model import (
        MAX_BODY,
        MAX_COMMAND,
        MAX_PATTERN,
        MAX_STEPS,
        MAX_TITLE,
        Playbook,
        PlaybookError,
        Step,
        playbook_from_dict,
        playbook_to_dict,
    )
    from cobrowse.playbook.parse import load_playbook, parse_playbook
    from cobrowse.playbook.steps import ACTORS, STATUSES, StepMachine, StepState

_HOMES = {
    "Library": "library", "LibraryEntry": "library",
    "MAX_LINE": "lines", "LineTap": "lines",
    "MAX_BODY": "model", "MAX_COMMAND": "model", "MAX_PATTERN": "model", "MAX_STEPS": "model", "MAX_TITLE": "model",
    "Playbook": "model", "PlaybookError": "model", "Step": "model", "playbook_from_dict": "model",
    "playbook_to_dict": "model",
    "load_playbook": "parse", "parse_playbook": "parse",
    "ACTORS": "steps", "STATUSES": "steps", "StepMachine": "steps", "StepState": "steps",
}

__all__ = [
    "ACTORS",
    "MAX_BODY",
    "MAX_COMMAND",
    "MAX_LINE",
    "MAX_PATTERN",
    "MAX_STEPS",
    "MAX_TITLE",
    "STATUSES",
    "Library",
    "LibraryEntry",
    "LineTap",
    "Playbook",
    "PlaybookError",
    "Step",
    "StepMachine",
    "StepState",
    "load_playbook",
    "parse_playbook",
    "playbook_from_dict",
    "playbook_to_dict",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
