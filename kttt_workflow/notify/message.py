"""The message a delivery sends: one digest, addressed to one unit, identified by its delivery id."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum

from kttt_workflow.domain.text import nfc

# The delivery id travels in this header (e-mail and webhooks) so receivers can drop a duplicate.
DELIVERY_HEADER = "X-KTTT-Delivery-Id"


class DeliveryStatus(StrEnum):
    sent = "sent"
    failed = "failed"
    timeout = "timeout"
    no_target = "no_target"
    local = "local"


@dataclass(frozen=True)
class TargetResult:
    target: str  # masked
    status: DeliveryStatus
    error: str | None  # error text with secrets masked


@dataclass(frozen=True)
class Message:
    delivery_id: str
    subject: str
    text: str
    markdown: str
    unit_code: str
    unit_name: str
    html: str = ""  # the e-mail's text/html alternative ("": plain text only)
    sender: str | None = None  # From, "Name <address>" (KTTT_MAIL_FROM); None: the default


# The From of the local mailbox when KTTT_MAIL_FROM is not set.
DEFAULT_SENDER = "KTTT <kttt@localhost>"


def normalised(message: Message) -> Message:
    """The message with every text in NFC."""
    return replace(
        message,
        subject=nfc(message.subject),
        text=nfc(message.text),
        markdown=nfc(message.markdown),
        unit_name=nfc(message.unit_name),
        html=nfc(message.html),
        sender=nfc(message.sender) if message.sender else None,
    )


def message_id(delivery_id: str) -> str:
    """The RFC 5322 Message-ID for a delivery id: ``<{delivery_id}@kttt.local>``.

    Characters not allowed in a msg-id's left part are replaced by ``_``.
    """
    left = re.sub(r"[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]", "_", delivery_id)
    left = re.sub(r"\.{2,}", ".", left).strip(".") or "_"
    return f"<{left}@kttt.local>"
