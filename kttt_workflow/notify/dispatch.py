"""One attempt at one digest: every target of the unit that has not received it yet, or the local
mailbox when the unit declares none. Returns what happened per target; records nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from kttt_workflow.domain.delivery import TargetOutcome
from kttt_workflow.notify.maildir import write_maildir
from kttt_workflow.notify.message import Message
from kttt_workflow.notify.send import send
from kttt_workflow.notify.targets import TargetError, expand_target, mask_target

NO_TARGET = "(không có địa chỉ nhận)"


def target_key(template: str) -> str:
    """Identifies a target across attempts: a hash of its template as written in the registry,
    where secrets are ``${VAR}`` placeholders, so the key never derives from a secret's value."""
    return hashlib.sha256(template.encode()).hexdigest()[:32]


_SCHEME_GROUPS = {"mailtos": "mailto", "jsons": "json", "xmls": "xml", "forms": "form"}


def lane(template: str) -> str:
    """The channel and host a target reaches, as written in the registry (``${VAR}`` kept): the
    key the delivery run bounds concurrency by. ``mailto`` with ``?smtp=`` counts its server.

    >>> lane("mailto://${U}:${P}@mail.gov.vn?to=a@b.vn"), lane("mailtos://x@y.vn?smtp=s.vn")
    ('mailto://mail.gov.vn', 'mailto://s.vn')
    """
    try:
        parts = urlsplit(template)
        scheme = parts.scheme.lower()
        host = parts.netloc.rpartition("@")[2].lower()
        if scheme in ("mailto", "mailtos"):
            smtp = parse_qs(parts.query).get("smtp")
            if smtp and smtp[0]:
                host = smtp[0].lower()
    except ValueError:
        scheme, host = "?", template
    return f"{_SCHEME_GROUPS.get(scheme, scheme)}://{host}"


def lanes(templates: Sequence[str], already_sent: Collection[str]) -> frozenset[str]:
    """The lanes an attempt at a digest uses: those of the targets that do not have it yet, or
    the local mailbox's (``local:``) when the unit declares no target."""
    if not templates:
        return frozenset({"local:"})
    return frozenset(lane(t) for t in templates if target_key(t) not in already_sent)


def dispatch(
    message: Message,
    templates: Sequence[str],
    already_sent: Collection[str],
    *,
    maildir: Path | None,
    connect_timeout: float,
    read_timeout: float,
) -> list[TargetOutcome]:
    """Send ``message`` to the targets of ``templates`` whose key is not in ``already_sent``.

    A unit without targets gets the message in its local mailbox under ``maildir`` (else
    ``no_target``: reported, never silently skipped). A template whose ``${VAR}`` is not set fails
    on its own, without a secret in the error.
    """
    if not templates:
        return [_local(message, maildir)]
    outcomes: list[TargetOutcome] = []
    urls: list[str] = []
    keys: list[str] = []
    for tpl in templates:
        try:
            url = expand_target(tpl)
        except TargetError as exc:
            outcomes.append(TargetOutcome(mask_target(tpl), None, "failed", str(exc)))
            continue
        key = target_key(tpl)
        if key not in already_sent:
            urls.append(url)
            keys.append(key)
    if urls:
        sent = send(message, urls, connect_timeout=connect_timeout, read_timeout=read_timeout)
        outcomes += [
            TargetOutcome(r.target, key, r.status.value, r.error)
            for key, r in zip(keys, sent, strict=True)
        ]
    return outcomes


def _local(message: Message, maildir: Path | None) -> TargetOutcome:
    if maildir is None:
        return TargetOutcome(
            NO_TARGET, None, "no_target", "đơn vị chưa khai báo địa chỉ nhận thông báo"
        )
    where = f"maildir:{message.unit_code}"
    try:
        write_maildir(maildir, message)
    except (OSError, ValueError) as exc:
        # One unwritable mailbox fails one delivery (retried later), not the run. Our own errors
        # (a refused link, a unit code that cannot be a folder) say why in Vietnamese; for the
        # others the system's reason (strerror), never a path.
        if isinstance(exc, OSError):
            reason = exc.strerror or type(exc).__name__
        else:
            reason = str(exc) or type(exc).__name__
        return TargetOutcome(where, None, "failed", f"không ghi được hộp thư cục bộ: {reason}")
    return TargetOutcome(where, None, "local")
