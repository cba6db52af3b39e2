"""The events the record keepers and the headless adapter used to build as dicts, typed:
each prints the same headless line, byte for byte, as the dict it replaced."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cobrowse.helpdesk.summary import TicketLinked
from cobrowse.io.headless import json_line
from cobrowse.policy.agent_events import UnnamedCommandError
from cobrowse.policy.events import Event, as_json
from cobrowse.policy.keeping_events import Delivery, Keeper, KeepingWarning, ReceiptWritten, WebhookChanged

PATH = "/home/u/.local/share/cobrowse/receipts/20261206-043000-customer-ab12.jsonl"
HEAD = "9f" * 32
RECEIPT_TEXT = (f"receipt of this session: {PATH} (chain head {HEAD[:16]}…; "
                f"`cobrowse receipts verify {PATH}` checks it)")

CASES: list[tuple[Event, dict[str, Any]]] = [
    (KeepingWarning(Keeper.RECEIPT, "could not write the receipt: [Errno 28] No space left on device"),
     {"event": "warning", "kind": "receipt", "message": "could not write the receipt: [Errno 28] No space left on device"}),
    (KeepingWarning(Keeper.HISTORY, "could not save the session to the history: database is locked"),
     {"event": "warning", "kind": "history", "message": "could not save the session to the history: database is locked"}),
    (KeepingWarning(Keeper.WEBHOOK, "the webhook receiver https://desk.example/hook refused session s1 with HTTP 410"),
     {"event": "warning", "kind": "webhook",
      "message": "the webhook receiver https://desk.example/hook refused session s1 with HTTP 410"}),
    (ReceiptWritten(PATH, HEAD, 7, RECEIPT_TEXT),
     {"event": "receipt", "path": PATH, "head": HEAD, "entries": 7, "message": RECEIPT_TEXT}),
    (WebhookChanged(Delivery.QUEUED, "c0ffee"), {"event": "webhook", "state": "queued", "session": "c0ffee"}),
    (WebhookChanged(Delivery.DELIVERED, "c0ffee", 204),
     {"event": "webhook", "state": "delivered", "session": "c0ffee", "status": 204}),
    (UnnamedCommandError("a command needs a \"cmd\"", None),
     {"event": "error", "message": "a command needs a \"cmd\"", "cmd": None}),
    (UnnamedCommandError("unknown command 7", 7), {"event": "error", "message": "unknown command 7", "cmd": 7}),
    (TicketLinked("ZD-1234"), TicketLinked("ZD-1234").to_json()),
]


@pytest.mark.parametrize(("event", "old"), CASES, ids=[f"{type(e).__name__}-{i}" for i, (e, _) in enumerate(CASES)])
def test_the_typed_event_prints_the_line_the_dict_did(event: Event, old: dict[str, Any]) -> None:
    assert json_line(event) == json.dumps(old, ensure_ascii=False)
    assert list(as_json(event)) == list(old)


def test_enums_serialise_to_their_old_strings() -> None:
    assert {k.value for k in Keeper} == {"history", "receipt", "webhook"}
    assert {d.value for d in Delivery} == {"queued", "delivered"}
