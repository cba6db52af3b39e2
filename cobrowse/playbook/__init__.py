"""Playbooks and the step machine (pure core: no network, no clock; ``now`` is passed in).

- ``model``: ``Step``, ``Playbook``, ``PlaybookError``, the dict (wire/inline) form;
- ``parse``: the Markdown file format (``docs/playbooks.md``);
- ``library``: a folder of playbooks, listed and searched;
- ``steps``: ``StepMachine``, statuses and auto-advance;
- ``lines``: ``LineTap``, the completed lines a program printed.
"""

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
