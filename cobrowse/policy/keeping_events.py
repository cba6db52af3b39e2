"""What the keepers of a session's record report: the receipt, the history and the webhook.

These taps sit between a runtime and its front end (``cobrowse.io.receipts``,
``cobrowse.io.history``, ``cobrowse.io.webhook``); what they add to the stream is typed here
like the runtimes' own events. Each class's ``KIND`` and field order give the headless line
they printed as dicts, byte for byte (docs/headless.md).
"""

from __future__ import annotations

from enum import StrEnum

from cobrowse.policy.events import Event
from cobrowse.wire.frozen import frozen


class Keeper(StrEnum):
    """Which record could not be kept (the ``kind`` of its warning)."""

    HISTORY = "history"
    RECEIPT = "receipt"
    WEBHOOK = "webhook"


class Delivery(StrEnum):
    QUEUED = "queued"
    DELIVERED = "delivered"


@frozen
class KeepingWarning(Event):
    """A record was not kept (full disk, damaged database, webhook refused); the session goes on."""

    KIND = "warning"
    kind: Keeper = Keeper.HISTORY
    message: str = ""


@frozen
class ReceiptWritten(Event):
    """The session's hash-chained receipt is complete; sent just before ``ended``."""

    KIND = "receipt"
    path: str = ""
    head: str = ""
    entries: int = 0
    message: str = ""


@frozen
class WebhookChanged(Event):
    """The session's summary was spooled for the help desk's webhook, or delivered (``status``)."""

    KIND = "webhook"
    state: Delivery = Delivery.QUEUED
    session: str = ""
    status: int | None = None
