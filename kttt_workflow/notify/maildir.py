"""The local mailbox: a unit without targets gets its digests in a Maildir (``<root>/<unit>/``),
readable with any mail reader; the embedded default of the demo."""

from __future__ import annotations

import email.policy
import mailbox
import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import formatdate
from pathlib import Path

from kttt_workflow.notify.message import DELIVERY_HEADER, Message, message_id, normalised

try:  # POSIX: serialise Maildir writers of the same unit (idempotency check + add)
    import fcntl
except ImportError:  # pragma: no cover - non-POSIX
    fcntl = None  # type: ignore[assignment]


_UNIT_DIR = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def _existing(box: Path, delivery_id: str) -> Path | None:
    parser = BytesHeaderParser(policy=email.policy.default)
    for sub in ("new", "cur"):
        folder = box / sub
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.name.startswith("."):
                continue
            try:
                with path.open("rb") as fh:
                    headers = parser.parse(fh)
            except OSError:
                continue
            if str(headers.get(DELIVERY_HEADER, "")).strip() == delivery_id:
                return path
    return None


def write_maildir(root: Path, message: Message) -> Path:
    """Store ``message`` in the unit's local Maildir ``root/<unit_code>/``; return its file.

    The embedded default for a unit without targets. The message has a Vietnamese Subject
    (RFC 2047-encoded by the email package), From ``kttt@localhost``, To
    ``<unit_code>@localhost``, ``Message-ID`` and ``X-KTTT-Delivery-Id`` from the delivery id, a
    UTF-8 text/plain body and a text/markdown alternative. Idempotent: if a message with the
    same delivery id is already there, nothing is written and its path is returned.
    """
    if not _UNIT_DIR.fullmatch(message.unit_code) or ".." in message.unit_code:
        raise ValueError(f"unit code not usable as a Maildir folder name: {message.unit_code!r}")
    msg = normalised(message)
    box = Path(root) / msg.unit_code
    # What mailbox.Maildir(create=True) does, but tolerant of a concurrent creator and of a
    # root that exists without its subfolders.
    for sub in ("tmp", "new", "cur"):
        (box / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
    lock_path = box / ".kttt.lock"
    with lock_path.open("a") as lock:
        if fcntl is not None:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            md = mailbox.Maildir(box, factory=None, create=True)  # already exists: opens it
            found = _existing(box, msg.delivery_id)
            if found is not None:
                return found
            em = EmailMessage(policy=email.policy.default)
            em["Subject"] = " ".join(msg.subject.split())  # one header line
            em["From"] = Address("KTTT", addr_spec="kttt@localhost")
            em["To"] = Address(msg.unit_name, addr_spec=f"{msg.unit_code}@localhost")
            em["Date"] = formatdate(localtime=True)
            em["Message-ID"] = message_id(msg.delivery_id)
            em[DELIVERY_HEADER] = msg.delivery_id
            em.set_content(msg.text, subtype="plain", charset="utf-8", cte="quoted-printable")
            em.add_alternative(
                msg.markdown, subtype="markdown", charset="utf-8", cte="quoted-printable"
            )
            key = md.add(em)
            return box / "new" / key
        finally:
            if fcntl is not None:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
