from __future__ import annotations

from dataclasses import dataclass, FrozenInstanceError
from enum import StrEnum

import pytest

from cobrowse.policy.events import Event, as_json, key, kind_of


class Side(StrEnum):
    AGENT = "agent"
    CUSTOMER = "customer"


@dataclass(frozen=True)
class Chat(Event):
    KIND = "chat"
    sender: Side = key("from", Side.AGENT)
    text: str = ""
    step: int | None = None


def test_typed_event_serialises_to_the_headless_shape() -> None:
    assert as_json(Chat(Side.CUSTOMER, "hi")) == {"event": "chat", "from": "customer", "text": "hi"}
    assert as_json(Chat(text="x", step=2)) == {"event": "chat", "from": "agent", "text": "x", "step": 2}


def test_each_shape_is_a_fresh_dict_and_kinds_agree() -> None:
    event = Chat(text="a b c")
    assert as_json(event) == as_json(event) and as_json(event) is not as_json(event)  # a keeper may add to its copy
    assert kind_of(event) == "chat" == as_json(event)["event"]


def test_events_are_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        Chat().text = "changed"  # type: ignore[misc]
