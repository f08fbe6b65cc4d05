"""Sending one message to a unit's targets through Apprise.

How results are read from Apprise 2.2.0 (paths relative to the installed ``apprise`` package;
result.py, dispatch.py and the e-mail plugin's ``send`` are as they were in 2.0.1):

- ``Apprise.notify()`` (apprise.py:1050) returns an ``AppriseResult``; iterating it yields one
  ``NotifyResult`` per service dispatched (result.py:186), with ``status`` (SUCCESS, FAILURE or
  TIMEOUT, derived from its attempts at result.py:232-249), its ``tag`` tuple (result.py:216),
  its ``attempts`` and the log entries captured during each attempt (``logs()``, at the level
  passed as ``notify(log_level=...)``; per-attempt capture at dispatch.py:737-748). Every target
  is added as its own service with a unique tag, so each result maps back to one target.
- ``TIMEOUT`` only means *Apprise's own* deadline expired (the asset's ``service_timeout`` or
  ``notify(timeout=...)``; dispatch.py:171-239, apprise.py:1719-1743): Apprise stopped waiting
  and abandoned the worker. A socket timeout inside a plugin (our ``cto``/``rto``, smtplib's
  timeout) is caught by the plugin, which returns False: a plain FAILURE (dispatch.py:884-890,
  779-785). Apprise keeps no exception object; plugins log it as ``Socket Exception: <str(exc)>``
  at DEBUG (e.g. plugins/custom_json.py:360-365, plugins/email/base.py:715-731; some 200 places
  in 2.2.0), and that text is the only place the exception class shows: ``requests.ReadTimeout``
  → "Read timed out.", ``ConnectTimeout`` → "... timed out. (connect timeout=...)",
  ``socket.timeout`` (smtplib) → "timed out". So we have Apprise capture DEBUG entries per attempt
  (``log_level=DEBUG``, with the ``apprise`` logger opened to DEBUG for the call, see
  ``redaction.verbose_apprise``) and classify a failed attempt whose ``Socket Exception`` entry says
  "timed out"/"timeout" as a timeout. HTTP error answers (even 504 Gateway Timeout) are not socket
  exceptions, so they stay ``failed``; a refused connection is ``failed`` too.
- E-mail: Apprise sets its own random ``Message-ID`` *after* the custom headers
  (plugins/email/base.py:1490-1499), so a ``Message-ID`` of ours would be a second one; the
  delivery id travels as ``X-KTTT-Delivery-Id`` (the plugin's ``+Header=value`` headers, kept in
  ``self.headers``, base.py:669). Same attribute, same header for json/xml/form webhooks
  (plugins/custom_json.py:203-206, merged into the request at 226-232).
- E-mail set-up: Apprise's own ``NotifyEmail.send`` builds a new SSL context and a new SMTP
  session for every message (~25 ms of ~30 ms per message here); a plain ``mailto``/``mailtos``
  plugin is narrowed to :class:`~kttt_workflow.notify.smtp.PooledEmail`, the same plugin over a
  pooled session (see that module).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextvars
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr

from apprise import (
    Apprise,
    AppriseResult,
    AppriseResultStatus,
    AppriseTag,
    NotifyBase,
    NotifyFormat,
    NotifyResult,
    OverflowMode,
)
from apprise.plugins.email import NotifyEmail

from kttt_workflow.notify import redaction
from kttt_workflow.notify.message import (
    DELIVERY_HEADER,
    DeliveryStatus,
    Message,
    TargetResult,
    normalised,
)
from kttt_workflow.notify.smtp import pooled
from kttt_workflow.notify.targets import inspect_target, make_asset

__all__ = ["DEADLINE_GRACE", "send"]

log = redaction.log

# Apprise's own per-service deadline is a backstop set this much beyond connect + read timeout,
# for a target that keeps trickling bytes (each read within rto) or a plugin that makes several
# calls. Reaching it reports TIMEOUT; Apprise then abandons (does not kill) the worker thread.
DEADLINE_GRACE = 5.0

_TAG_PREFIX = "kttt-target-"
_MD_GROUP = "kttt-md"
_TEXT_GROUP = "kttt-text"
_HTML_GROUP = "kttt-html"
_TIMEOUT_EVIDENCE = re.compile(r"timed out|timeout", re.IGNORECASE)
_SOCKET_EXCEPTION = "Socket Exception"
_DETAIL_MAX = 400


# --------------------------------------------------------------------------------------------
# send
# --------------------------------------------------------------------------------------------


@dataclass
class _Slot:
    index: int
    masked: str
    secrets: set[str]
    group: str
    plugin: NotifyBase = field(repr=False)


def _configure(plugin: NotifyBase, delivery_id: str, cto: float, rto: float) -> None:
    """Our delivery policy on one plugin: no retry, no throttle, our timeouts, the delivery id."""
    plugin.retry = 0  # our outbox retries, with backoff and the same delivery id
    plugin.wait = 0.0
    plugin.optional = False  # an ?optional=yes URL would turn a failure into SUCCESS
    plugin.request_rate_per_sec = 0  # no throttle sleep (NotifyBase defaults to 5.5 s)
    plugin.socket_read_timeout = rto  # the ``rto`` URL parameter
    if isinstance(plugin, NotifyEmail):
        # smtplib takes one timeout for the connection and every later read; Apprise passes it
        # the connect timeout (plugins/email/base.py:656-664, plugins/email/smtp.py:130-136).
        # (NotifyEmail declares the class default as the int 15; any number works.)
        setattr(plugin, "socket_connect_timeout", max(cto, rto))  # noqa: B010
    else:
        plugin.socket_connect_timeout = cto  # the ``cto`` URL parameter
    # Plugins taking custom headers (``+Header=value`` in the URL: json/xml/form, email, ...)
    # keep them in ``self.headers``; e-mail turns them into message headers.
    headers = getattr(plugin, "headers", None)
    if isinstance(headers, dict) and "headers" in getattr(plugin, "template_kwargs", {}):
        headers[DELIVERY_HEADER] = delivery_id


def _group(plugin: NotifyBase, msg: Message) -> str:
    """Which body a target gets: e-mail the HTML digest (Apprise then sends multipart/alternative,
    its text/plain part converted from the HTML, plugins/email/base.py:1266-1278) unless the URL
    asks for ``format=text``; targets that resolve to Markdown the Markdown; the rest the text."""
    email_html = isinstance(plugin, NotifyEmail) and bool(msg.html)
    if email_html and plugin.resolve_format(NotifyFormat.HTML) == NotifyFormat.HTML:
        return _HTML_GROUP
    md = plugin.resolve_format(NotifyFormat.MARKDOWN) == NotifyFormat.MARKDOWN
    return _MD_GROUP if md else _TEXT_GROUP


def _presentation(plugin: NotifyBase, msg: Message, url: str) -> None:
    """How a digest looks on the target: a chat channel (Telegram 4096 characters, Mattermost
    4000…) gets a long digest in several messages within its limit (``overflow=split``) unless
    the URL chose otherwise; an e-mail whose URL names no sender is sent from ``msg.sender``
    (KTTT_MAIL_FROM)."""
    if isinstance(plugin, NotifyEmail):
        if msg.sender and "from=" not in url.lower():
            name, addr = parseaddr(msg.sender)
            if addr:
                plugin.from_addr = [name or False, addr]
                plugin.names[addr] = name or False
        return
    if plugin.overflow_mode == OverflowMode.UPSTREAM and "overflow=" not in url.lower():
        plugin.overflow_mode = OverflowMode.SPLIT


def _index(result: NotifyResult) -> int | None:
    for tag in result.tag:
        if tag.startswith(_TAG_PREFIX):
            try:
                return int(tag[len(_TAG_PREFIX) :])
            except ValueError:
                return None
    return None


def _detail(result: NotifyResult, secrets: set[str]) -> str:
    """Apprise's own explanation of a failure: its warnings/errors and the socket exception."""
    seen: list[str] = []
    for entry in result.logs():
        text = entry.message.strip()
        keep = entry.level in ("WARNING", "ERROR", "CRITICAL") or text.startswith(_SOCKET_EXCEPTION)
        if keep and text and text not in seen:
            seen.append(text)
    detail = redaction.redact("; ".join(seen), secrets)
    return detail if len(detail) <= _DETAIL_MAX else detail[: _DETAIL_MAX - 1] + "…"


def _classify(
    result: NotifyResult, slot: _Slot, cto: float, rto: float, deadline: float
) -> TargetResult:
    if any(a.status == AppriseResultStatus.SUCCESS for a in result.attempts):
        return TargetResult(slot.masked, DeliveryStatus.sent, None)
    detail = _detail(result, slot.secrets)
    suffix = f": {detail}" if detail else ""
    if result.status == AppriseResultStatus.TIMEOUT:
        return TargetResult(
            slot.masked,
            DeliveryStatus.timeout,
            f"quá {deadline:g} giây mà địa chỉ nhận chưa xử lý xong, đã ngừng chờ{suffix}",
        )
    socket_errors = [e.message for e in result.logs() if e.message.startswith(_SOCKET_EXCEPTION)]
    if any(_TIMEOUT_EVIDENCE.search(t) for t in socket_errors):
        return TargetResult(
            slot.masked,
            DeliveryStatus.timeout,
            f"hết thời gian chờ (kết nối {cto:g} giây, đọc {rto:g} giây){suffix}",
        )
    return TargetResult(slot.masked, DeliveryStatus.failed, f"gửi không thành công{suffix}")


def send(
    message: Message,
    targets: Sequence[str],
    *,
    connect_timeout: float = 5.0,
    read_timeout: float = 10.0,
) -> list[TargetResult]:
    """Send ``message`` to every target (already expanded Apprise URLs); one result per target.

    Results are in the order of ``targets``. No targets → ``[]``: nothing was attempted and the
    caller decides between the local Maildir and ``no_target``. Targets that resolve to Markdown
    (``plugin.resolve_format(MARKDOWN)``, e.g. json, Telegram, Slack) get ``message.markdown``;
    the others (e-mail, ...) get ``message.text`` as plain text. All targets are sent
    concurrently; Apprise's retries and throttling are off, and our timeouts apply to each. The
    call never raises for a target's sake, and nothing it returns or logs contains a secret.
    """
    for name, value in (("connect_timeout", connect_timeout), ("read_timeout", read_timeout)):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number of seconds")
    if not targets:
        return []
    msg = normalised(message)
    deadline = connect_timeout + read_timeout + DEADLINE_GRACE
    results: list[TargetResult | None] = [None] * len(targets)
    apobj, slots = _prepare(msg, targets, results, connect_timeout, read_timeout, deadline)
    outcomes = _dispatch(apobj, msg, slots)
    _collect(outcomes, slots, results, connect_timeout, read_timeout, deadline)
    final: list[TargetResult] = []
    for i, res in enumerate(results):
        if res is None:  # defensive: every index is filled above
            res = TargetResult("(không rõ)", DeliveryStatus.failed, "không có kết quả")
        log.info("delivery %s → %s: %s", msg.delivery_id, res.target, res.status.value)
        if res.error:
            log.debug("delivery %s → target %d: %s", msg.delivery_id, i, res.error)
        final.append(res)
    return final


def _prepare(
    msg: Message,
    targets: Sequence[str],
    results: list[TargetResult | None],
    cto: float,
    rto: float,
    deadline: float,
) -> tuple[Apprise, dict[int, _Slot]]:
    """One Apprise service per usable target, tagged with its index and its body group (Markdown
    or text); an unusable target gets its failed result at once."""
    asset = make_asset(service_timeout=deadline)
    apobj = Apprise(asset=asset)
    slots: dict[int, _Slot] = {}
    for i, url in enumerate(targets):
        insp = inspect_target(url, asset, tags=[f"{_TAG_PREFIX}{i}"])
        for level, note in insp.notes:
            if level >= logging.WARNING:  # e.g. "Dropped invalid To email (...) specified."
                log.warning("target %d (%s): %s", i, insp.masked, note)
        if insp.plugin is None:
            notes = "; ".join(n for lvl, n in insp.notes if lvl >= logging.WARNING)
            detail = f" ({notes[:_DETAIL_MAX]})" if notes else ""
            results[i] = TargetResult(
                insp.masked,
                DeliveryStatus.failed,
                f"địa chỉ nhận không hợp lệ: {insp.masked}{detail}",
            )
            continue
        plugin = pooled(insp.plugin)  # mailto: over a reused SMTP session (notify/smtp.py)
        _configure(plugin, msg.delivery_id, cto, rto)
        _presentation(plugin, msg, url)
        group = _group(plugin, msg)
        plugin.tags = set(plugin.tags) | {AppriseTag.parse(group)}
        apobj.add(plugin)
        slots[i] = _Slot(i, insp.masked, insp.secrets, group, plugin)
    return apobj, slots


def _dispatch(
    apobj: Apprise, msg: Message, slots: dict[int, _Slot]
) -> dict[str, AppriseResult | BaseException]:
    """One ``notify()`` per body group (Markdown, text, HTML e-mail); the groups run side by side,
    so that a hanging target in one does not hold up the others."""
    jobs = [
        (group, body, fmt)
        for group, body, fmt in (
            (_MD_GROUP, msg.markdown, NotifyFormat.MARKDOWN),
            (_TEXT_GROUP, msg.text, NotifyFormat.TEXT),
            (_HTML_GROUP, msg.html, NotifyFormat.HTML),
        )
        if any(s.group == group for s in slots.values())
    ]

    def run(group: str, body: str, fmt: NotifyFormat) -> AppriseResult:
        return apobj.notify(
            body=body, title=msg.subject, body_format=fmt, tag=group, log_level=logging.DEBUG
        )

    outcomes: dict[str, AppriseResult | BaseException] = {}
    with redaction.verbose_apprise():
        if len(jobs) > 1:
            # All groups side by side: the last in this thread, the others in a pool.
            with cf.ThreadPoolExecutor(
                max_workers=len(jobs) - 1, thread_name_prefix="kttt-notify"
            ) as pool:
                others: list[tuple[str, cf.Future[AppriseResult]]] = []
                for group, body, fmt in jobs[:-1]:
                    ctx = contextvars.copy_context()
                    others.append((group, pool.submit(ctx.run, run, group, body, fmt)))
                try:
                    outcomes[jobs[-1][0]] = run(*jobs[-1])
                except Exception as exc:
                    outcomes[jobs[-1][0]] = exc
                for name, fut in others:
                    try:
                        outcomes[name] = fut.result()
                    except Exception as exc:
                        outcomes[name] = exc
        elif jobs:
            try:
                outcomes[jobs[0][0]] = run(*jobs[0])
            except Exception as exc:
                outcomes[jobs[0][0]] = exc
    return outcomes


def _collect(
    outcomes: dict[str, AppriseResult | BaseException],
    slots: dict[int, _Slot],
    results: list[TargetResult | None],
    cto: float,
    rto: float,
    deadline: float,
) -> None:
    """Each target's result from its group's ``AppriseResult`` (matched by the index tag)."""
    for group, outcome in outcomes.items():
        members = [s for s in slots.values() if s.group == group]
        if isinstance(outcome, BaseException):
            log.error("apprise notify raised %s", type(outcome).__name__)
            for s in members:
                results[s.index] = TargetResult(
                    s.masked,
                    DeliveryStatus.failed,
                    f"lỗi nội bộ khi gửi qua Apprise ({type(outcome).__name__})",
                )
            continue
        with outcome:
            by_index = {_index(r): r for r in outcome}
            for s in members:
                r = by_index.get(s.index)
                if r is None:
                    results[s.index] = TargetResult(
                        s.masked,
                        DeliveryStatus.failed,
                        "Apprise không trả về kết quả cho địa chỉ này "
                        f"(trạng thái chung: {outcome.status.name})",
                    )
                else:
                    results[s.index] = _classify(r, s, cto, rto, deadline)
