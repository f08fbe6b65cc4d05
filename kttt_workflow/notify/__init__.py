"""The delivery adapter: Apprise targets, masking, sending, and the local Maildir fallback.

No database and no Prefect here; :mod:`kttt_workflow.store.outbox` drives it.
"""

from kttt_workflow.notify.send import (
    DELIVERY_HEADER,
    DeliveryStatus,
    Message,
    TargetResult,
    message_id,
    retry_delay,
    send,
    write_maildir,
)
from kttt_workflow.notify.targets import (
    TargetError,
    expand_target,
    load_apprise_config,
    mask_target,
)

__all__ = [
    "DELIVERY_HEADER",
    "DeliveryStatus",
    "Message",
    "TargetError",
    "TargetResult",
    "expand_target",
    "load_apprise_config",
    "mask_target",
    "message_id",
    "retry_delay",
    "send",
    "write_maildir",
]
