"""E-mail through Apprise with the expensive set-up done once: one SSL context per process, SMTP
connections kept open per server and reused.

Where Apprise 2.0.1 spends an e-mail (cProfile of ``NotifyEmail.send`` to a local aiosmtpd, 100
messages): ~22 ms of ~31 ms in ``ssl.create_default_context()`` (loading the system CA bundle in
``set_default_verify_paths``), made anew by ``AppriseSMTPController.__enter__`` for every message,
even for plain SMTP without TLS (``plugins/email/smtp.py``, the same in 2.2.0); then the TCP
connection, the banner, EHLO and QUIT of a new SMTP session per message. Building the message
itself (``NotifyEmail.prepare_emails``) is ~2 ms.

:class:`PooledEmail` is a ``NotifyEmail`` (so still Apprise to the rest of the engine: the same
``mailto://``/``mailtos://`` URLs, the same parsing, ``url(privacy=True)`` masking, per-attempt log
capture, result objects) whose ``send`` takes its SMTP session from :data:`POOL` instead of
opening one: the session is keyed by everything that makes it (server, port, security mode, user,
password, certificate check) and held in memory only, never logged. :func:`pooled` turns a plugin
Apprise instantiated for a ``mailto`` URL into one (plugins of other e-mail services keep
Apprise's own ``send``).

A reused session may have been closed by the server meanwhile (idle timeout, restart). Only the
envelope's first command (``MAIL FROM``) is retried, once, on a fresh session: nothing of the
message has been transmitted at that point, so a retry can never deliver it twice. Any later
failure is the attempt's failure (the outbox retries with the same delivery id). Sessions idle for
more than :data:`IDLE_MAX` seconds are closed instead of reused; :func:`close_idle` closes them all
(the service calls it at the end of each delivery run).
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from apprise import NotifyType
from apprise.exception import AppriseImproperlyConfigured
from apprise.plugins.email import NotifyEmail
from apprise.plugins.email.base import AppriseEmailException
from apprise.plugins.email.smtp import SMTP_SECURE_MODES, SMTPSecureMode

__all__ = ["IDLE_MAX", "POOL", "PooledEmail", "close_idle", "pooled"]

IDLE_MAX = 30.0  # seconds a session may sit unused and still be reused
_ERRORS = (OSError, smtplib.SMTPException)

_contexts: dict[bool, ssl.SSLContext] = {}
_contexts_lock = threading.Lock()


def ssl_context(verify: bool) -> ssl.SSLContext:
    """The process's client SSL context (with or without certificate checks), made once."""
    with _contexts_lock:
        ctx = _contexts.get(verify)
        if ctx is None:
            ctx = ssl.create_default_context()
            if not verify:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            _contexts[verify] = ctx
        return ctx


_Key = tuple[str, int, str, str | None, str | None, bool]


class _Session:
    def __init__(self, key: _Key, timeout: float) -> None:
        host, port, mode, user, password, verify = key
        if mode not in SMTP_SECURE_MODES:
            raise AppriseImproperlyConfigured(f"Invalid SMTP secure mode: {mode!r}")
        ctx = ssl_context(verify)
        smtp: smtplib.SMTP
        if mode == SMTPSecureMode.SSL:
            smtp = smtplib.SMTP_SSL(host, port, None, timeout=timeout, context=ctx)
        else:
            smtp = smtplib.SMTP(host, port, None, timeout=timeout)
        try:
            if mode == SMTPSecureMode.STARTTLS:
                smtp.starttls(context=ctx)
            if user and password:
                smtp.login(user, password)
        except BaseException:
            _close(smtp)
            raise
        self.smtp = smtp
        self.used = time.monotonic()
        self.fresh = True

    def timeout(self, seconds: float) -> None:
        sock = getattr(self.smtp, "sock", None)
        if sock is not None:
            sock.settimeout(seconds)


def _close(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(*_ERRORS):
        smtp.quit()
    with contextlib.suppress(*_ERRORS):
        smtp.close()


class SMTPPool:
    """Idle SMTP sessions per key; thread-safe. A session is used by one thread at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[_Key, list[_Session]] = {}

    def _take(self, key: _Key) -> _Session | None:
        now = time.monotonic()
        stale: list[_Session] = []
        found = None
        with self._lock:
            sessions = self._idle.get(key, [])
            while sessions:
                s = sessions.pop()
                if now - s.used <= IDLE_MAX:
                    found = s
                    break
                stale.append(s)
        for s in stale:
            _close(s.smtp)
        return found

    @contextmanager
    def session(self, key: _Key, timeout: float) -> Iterator[_Session]:
        """A session for ``key`` (an idle one, else a new one); back to the pool unless broken."""
        s = self._take(key)
        if s is None:
            s = _Session(key, timeout)
        else:
            s.fresh = False
            s.timeout(timeout)
        try:
            yield s
        except BaseException:
            _close(s.smtp)
            raise
        s.used = time.monotonic()
        with self._lock:
            self._idle.setdefault(key, []).append(s)

    def close_idle(self) -> None:
        with self._lock:
            sessions = [s for group in self._idle.values() for s in group]
            self._idle.clear()
        for s in sessions:
            _close(s.smtp)


POOL = SMTPPool()


def close_idle() -> None:
    """Close every idle pooled SMTP session (QUIT)."""
    POOL.close_idle()


class _Reconnect(Exception):
    """The reused session was gone before anything of the message was sent."""


def _transmit(s: _Session, from_addr: str, to_addrs: list[str], body: str) -> dict[str, Any]:
    """``smtplib.SMTP.sendmail`` in its steps, so that a dead reused session is told apart from a
    failure after the envelope began. Returns the refused recipients (as sendmail does)."""
    smtp = s.smtp
    data = smtplib._fix_eols(body).encode("ascii")  # type: ignore[attr-defined]  # as sendmail does
    try:
        smtp.ehlo_or_helo_if_needed()
        opts = [f"size={len(data)}"] if smtp.does_esmtp and smtp.has_extn("size") else []
        code, resp = smtp.mail(from_addr, opts)
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        if s.fresh:
            raise
        raise _Reconnect from exc
    if code != 250:
        if code == 421:
            smtp.close()
        else:
            smtp._rset()  # type: ignore[attr-defined]
        raise smtplib.SMTPSenderRefused(code, resp, from_addr)
    refused: dict[str, Any] = {}
    for addr in to_addrs:
        code, resp = smtp.rcpt(addr)
        if code not in (250, 251):
            refused[addr] = (code, resp)
        if code == 421:
            smtp.close()
            raise smtplib.SMTPRecipientsRefused(refused)
    if len(refused) == len(to_addrs):
        smtp._rset()  # type: ignore[attr-defined]
        raise smtplib.SMTPRecipientsRefused(refused)
    code, resp = smtp.data(data)
    if code != 250:
        if code == 421:
            smtp.close()
        else:
            smtp._rset()  # type: ignore[attr-defined]
        raise smtplib.SMTPDataError(code, resp)
    return refused


class PooledEmail(NotifyEmail):
    """Apprise's e-mail plugin, sending over a pooled SMTP session.

    ``send`` is ``NotifyEmail.send`` of Apprise 2.0.1 (plugins/email/base.py:633-739, unchanged in
    2.2.0, as are the attributes it reads and ``plugins/email/smtp.py``) with the session from
    :data:`POOL`: same headers, same message building, same per-recipient bookkeeping, and the
    same log lines (``Socket Exception: ...`` at DEBUG, which :mod:`kttt_workflow.notify.send`
    reads to tell a timeout from a failure).
    """

    def send(  # type: ignore[override]
        self,
        body: str,
        title: str = "",
        notify_type: NotifyType = NotifyType.INFO,
        attach: Any = None,
        body_format: Any = None,
        **kwargs: Any,
    ) -> bool:
        if not self.targets:
            self.logger.warning("There are no Email recipients to notify")
            return False
        has_error = False
        self.throttle()
        key: _Key = (
            self.smtp_host,
            int(self.port),
            self.secure_mode,
            self.user,
            self.password,
            bool(self.verify_certificate),
        )
        headers = {"X-Application": self.app_id}
        headers.update(self.headers)
        headers.update(self._protocol_headers(body))
        try:
            messages = list(
                NotifyEmail.prepare_emails(
                    subject=title,
                    body=body,
                    notify_format=self.resolve_format(body_format),
                    from_addr=self.from_addr,
                    to=self.targets,
                    cc=self.cc,
                    bcc=self.bcc,
                    reply_to=self.reply_to,
                    smtp_host=self.smtp_host,
                    attach=attach,
                    headers=headers,
                    names=self.names,
                    pgp=self.pgp,
                    pgp_mode=self.pgp_mode,
                    inline=self.inline,
                    tzinfo=self.tzinfo,
                )
            )
            for message in messages:
                if self.is_delivered(message.recipient):
                    continue
                if self._deliver(key, message.to_addrs, message.body):
                    self.logger.info("Sent Email to %s", message.recipient)
                    self.mark_delivered(message.recipient)
                else:
                    self.logger.warning('Sending email to "%s" failed.', message.recipient)
                    has_error = True
        except (*_ERRORS, RuntimeError, AppriseImproperlyConfigured) as e:
            self.logger.warning('Connection error while submitting email to "%s"', self.smtp_host)
            self.logger.debug(f"Socket Exception: {e}")
            has_error = True
        except AppriseEmailException as e:
            self.logger.debug(f"Socket Exception: {e}")
            has_error = True
        self.pgp.prune()
        return not has_error

    def _deliver(self, key: _Key, to_addrs: list[str], body: str) -> bool:
        """One message over a pooled session; False (with Apprise's log lines) if it was refused
        or the session failed once the envelope began. A connection or login failure raises."""
        timeout = float(self.socket_connect_timeout)
        for _ in range(2):
            try:
                with POOL.session(key, timeout) as s:
                    try:
                        refused = _transmit(s, self.from_addr[1], to_addrs, body)
                    except _Reconnect:
                        raise
                    except _ERRORS as e:
                        self.logger.debug("Socket Exception: %s", str(e))
                        raise _Failed from None
            except _Reconnect:
                continue  # the session was closed by the pool; a fresh one next
            except _Failed:
                return False
            for addr, (code, resp) in refused.items():
                self.logger.warning("SMTP recipient %s was refused: %s %s", addr, code, resp)
            return not refused
        return False


class _Failed(Exception):
    """The message failed on an open session (already logged)."""


def pooled(plugin: Any) -> Any:
    """``plugin`` sending over the pool if it is Apprise's plain ``mailto``/``mailtos`` plugin
    (the same object, its class narrowed to :class:`PooledEmail`); any other plugin unchanged."""
    if type(plugin) is NotifyEmail:
        plugin.__class__ = PooledEmail
    return plugin
