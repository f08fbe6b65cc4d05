"""The local mailbox: a unit without targets gets its digests in a Maildir (``<root>/<unit>/``),
readable with any mail reader; the embedded default of the demo.

Nothing below the root follows a link. The root (``KTTT_MAILDIR``, default ``$KTTT_HOME/mail``)
is the operator's choice and may itself be a link; under it, the unit's folder, its ``tmp/``,
``new/`` and ``cur/`` and the lock file ``.kttt.lock`` are opened relative to their parent's
descriptor with ``O_NOFOLLOW``, after an ``lstat`` check: a symbolic link there (a unit folder
pointing at ``/etc``, a ``new`` pointing at someone's home) is refused with
:class:`MaildirLinkRefused`, and nothing is written. The message file is written the way Maildir
specifies, without :mod:`mailbox` (which joins paths and follows links): a unique name created
with ``O_CREAT | O_EXCL | O_NOFOLLOW`` in ``tmp/``, written, ``fsync``-ed, hard-linked into
``new/`` (``linkat`` neither follows nor replaces anything) and unlinked from ``tmp/``. Files
already in ``new/`` and ``cur/`` are read (for the delivery id) only if they are regular files
opened without following a link.
"""

from __future__ import annotations

import email.policy
import errno
import os
import re
import secrets
import socket
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import formatdate, parseaddr
from pathlib import Path

from kttt_workflow.notify.message import (
    DEFAULT_SENDER,
    DELIVERY_HEADER,
    Message,
    message_id,
    normalised,
)

try:  # POSIX: serialise Maildir writers of the same unit (idempotency check + add)
    import fcntl
except ImportError:  # pragma: no cover - non-POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["MaildirError", "MaildirLinkRefused", "write_maildir"]

_UNIT_DIR = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_NAME_PART = re.compile(r"[A-Za-z0-9_-]{1,64}")
_LOCK = ".kttt.lock"

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_DIR_FLAGS = os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC


class MaildirError(OSError):
    """The local mailbox cannot be written; ``strerror`` says why, in Vietnamese."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(code, reason)


class MaildirLinkRefused(MaildirError):
    """A symbolic link where the local mailbox expects a folder or a file of its own."""

    def __init__(self, where: str) -> None:
        super().__init__(
            errno.ELOOP,
            f"đã từ chối liên kết tượng trưng (symlink) tại {where}: hộp thư cục bộ không đi "
            "theo liên kết, để không ghi ra ngoài thư mục thư",
        )


def _check_entry(parent: int, name: str, where: str, *, directory: bool) -> None:
    """Refuse ``name`` (in the folder open as ``parent``) if it is a link or of the wrong kind."""
    mode = os.lstat(name, dir_fd=parent).st_mode
    if stat.S_ISLNK(mode):
        raise MaildirLinkRefused(where)
    if directory and not stat.S_ISDIR(mode):
        raise MaildirError(errno.ENOTDIR, f"{where} không phải là thư mục")
    if not directory and not stat.S_ISREG(mode):
        raise MaildirError(errno.EINVAL, f"{where} không phải là tệp thường")


def _open_dir(parent: int, name: str, where: str) -> int:
    """The folder ``name`` of ``parent``, created (0700) if missing, opened without following."""
    with suppress(FileExistsError):  # there already, or a concurrent writer made it
        os.mkdir(name, 0o700, dir_fd=parent)
    _check_entry(parent, name, where, directory=True)
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except OSError as exc:  # replaced by a link or a file between the check and the open
        if exc.errno == errno.ELOOP:
            raise MaildirLinkRefused(where) from None
        if exc.errno == errno.ENOTDIR:
            raise MaildirError(errno.ENOTDIR, f"{where} không phải là thư mục") from None
        raise


def _open_lock(box: int, where: str) -> int:
    flags = os.O_WRONLY | os.O_CREAT | _NOFOLLOW | _NONBLOCK | _CLOEXEC
    try:
        fd = os.open(_LOCK, flags, 0o600, dir_fd=box)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise MaildirLinkRefused(where) from None
        if exc.errno in (errno.ENXIO, errno.EISDIR):
            raise MaildirError(exc.errno, f"{where} không phải là tệp thường") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise MaildirError(errno.EINVAL, f"{where} không phải là tệp thường")
    return fd


@contextmanager
def _closing(fds: list[int]) -> Iterator[list[int]]:
    try:
        yield fds
    finally:
        for fd in reversed(fds):
            os.close(fd)


def _existing(folders: dict[str, int], delivery_id: str) -> tuple[str, str] | None:
    """``(subfolder, name)`` of a message with ``delivery_id`` in ``new/`` or ``cur/``.

    Only regular files count: a link (which could make an outside file pass for a delivered
    message) and anything else (a FIFO would block the read) are skipped.
    """
    parser = BytesHeaderParser(policy=email.policy.default)
    for sub in ("new", "cur"):
        folder = folders[sub]
        for name in sorted(os.listdir(folder)):
            if name.startswith("."):
                continue
            try:
                fd = os.open(name, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC, dir_fd=folder)
            except OSError:
                continue
            with open(fd, "rb") as fh:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    continue
                headers = parser.parse(fh)
            if str(headers.get(DELIVERY_HEADER, "")).strip() == delivery_id:
                return sub, name
    return None


def _unique_name(delivery_id: str) -> str:
    """A Maildir file name: unique (random part, process id, host), no ``/`` or ``:``, no dot first."""
    host = socket.gethostname().replace("/", r"\057").replace(":", r"\072") or "localhost"
    left = delivery_id if _NAME_PART.fullmatch(delivery_id) else "kttt"
    return f"{left}.R{secrets.token_hex(8)}.P{os.getpid()}.{host}"


def _deliver(tmp: int, new: int, data: bytes, delivery_id: str) -> str:
    """Write ``data`` into ``tmp/``, fsync it, link it into ``new/``; return its name."""
    for _ in range(5):
        name = _unique_name(delivery_id)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
        try:
            fd = os.open(name, flags, 0o600, dir_fd=tmp)
        except FileExistsError:
            continue  # a clash (or a planted entry): another name
        try:
            with open(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(name, name, src_dir_fd=tmp, dst_dir_fd=new, follow_symlinks=False)
            except FileExistsError:
                continue  # the finally clause removes the tmp file
            except PermissionError:  # a file system without hard links: rename (never follows)
                os.rename(name, name, src_dir_fd=tmp, dst_dir_fd=new)
            os.fsync(new)
            return name
        finally:
            with suppress(FileNotFoundError):  # renamed away, or never linked
                os.unlink(name, dir_fd=tmp)
    raise MaildirError(errno.EEXIST, "không tạo được tên tệp thư duy nhất trong hộp thư cục bộ")


def _email(msg: Message) -> bytes:
    em = EmailMessage(policy=email.policy.default)
    em["Subject"] = " ".join(msg.subject.split())  # one header line
    name, addr = parseaddr(msg.sender or DEFAULT_SENDER)
    em["From"] = Address(name, addr_spec=addr)
    em["To"] = Address(msg.unit_name, addr_spec=f"{msg.unit_code}@localhost")
    em["Date"] = formatdate(localtime=True)
    em["Message-ID"] = message_id(msg.delivery_id)
    em[DELIVERY_HEADER] = msg.delivery_id
    em.set_content(msg.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    if msg.html:  # what mail readers show; the plain text stays for text-only readers
        em.add_alternative(msg.html, subtype="html", charset="utf-8", cte="quoted-printable")
    else:
        em.add_alternative(
            msg.markdown, subtype="markdown", charset="utf-8", cte="quoted-printable"
        )
    return em.as_bytes()


def write_maildir(root: Path, message: Message) -> Path:
    """Store ``message`` in the unit's local Maildir ``root/<unit_code>/``; return its file.

    The embedded default for a unit without targets. The message has a Vietnamese Subject
    (RFC 2047-encoded by the email package), From the configured sender (``KTTT_MAIL_FROM``, else
    :data:`~kttt_workflow.notify.message.DEFAULT_SENDER`), To ``<unit_code>@localhost``,
    ``Message-ID`` and ``X-KTTT-Delivery-Id`` from the delivery id, and a multipart/alternative
    body: UTF-8 text/plain, then the text/html digest (text/markdown when it has no HTML). Idempotent: if a message with the
    same delivery id is already there, nothing is written and its path is returned.

    Raises :class:`MaildirLinkRefused` if the unit's folder, a subfolder or the lock file is a
    symbolic link, :class:`MaildirError` if one is of the wrong kind, ``ValueError`` for a unit
    code that cannot be a folder name, and ``OSError`` for the rest (no room, no permission).
    """
    if not _UNIT_DIR.fullmatch(message.unit_code) or ".." in message.unit_code:
        raise ValueError(
            f"mã đơn vị {message.unit_code!r} không dùng được làm tên thư mục hộp thư cục bộ"
        )
    if not (_NOFOLLOW and _DIRECTORY and os.open in os.supports_dir_fd):  # pragma: no cover
        raise MaildirError(
            errno.ENOTSUP, "hệ điều hành này không mở được tệp mà không đi theo liên kết"
        )
    msg = normalised(message)
    unit = msg.unit_code
    root = Path(root)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _closing([os.open(root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)]) as fds:
        box = _open_dir(fds[0], unit, f"thư mục {unit}")
        fds.append(box)
        folders: dict[str, int] = {}
        for sub in ("tmp", "new", "cur"):
            folders[sub] = _open_dir(box, sub, f"thư mục {unit}/{sub}")
            fds.append(folders[sub])
        where = f"tệp khóa {unit}/{_LOCK}"
        with suppress(FileNotFoundError):  # created below; O_NOFOLLOW refuses a link made since
            _check_entry(box, _LOCK, where, directory=False)
        lock = _open_lock(box, where)
        fds.append(lock)
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            found = _existing(folders, msg.delivery_id)
            if found is not None:
                return root / unit / found[0] / found[1]
            name = _deliver(folders["tmp"], folders["new"], _email(msg), msg.delivery_id)
            return root / unit / "new" / name
        finally:
            if fcntl is not None:
                fcntl.flock(lock, fcntl.LOCK_UN)
