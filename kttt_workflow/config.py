"""Settings from the environment, read in one place: where data lives, which store, which day.

Every ``KTTT_*`` variable the engine reads is read here, and "today" is decided here once: the date
in the offices' time zone (``KTTT_TIMEZONE``, default Asia/Ho_Chi_Minh), not the server's. Hà Nội
is UTC+7: until 07:00 there, a server on UTC still says "yesterday" (a sweep run at 06:30 from
cron, a completion recorded in the evening by the server's clock); the CLI, the service and the
flows all take their date from :meth:`Config.today`.

========================  ==========================================================
``KTTT_HOME``             data folder (embedded SQLite store, local mailboxes); ``~/.kttt``
``KTTT_DATABASE_URL``     the store: ``postgresql://…`` or ``sqlite:///…``
``KTTT_TIMEZONE``         the offices' time zone (IANA name)
``KTTT_LOCAL_MAILBOX``    ``0`` turns the local Maildir fallback off (units without targets
                          are then reported as ``no_target``)
``KTTT_MAILDIR``          where the local mailboxes are (default ``$KTTT_HOME/mail``)
``KTTT_APPRISE_CONFIG``   an Apprise configuration file with extra targets, tagged by unit code
``KTTT_MAIL_FROM``        the digests' sender, ``Tên <địa chỉ>`` or an address: the local
                          mailbox's From, and the From of e-mail targets whose URL sets none
``KTTT_MAX_ATTEMPTS``     delivery attempts before a digest is ``dead`` (default 5)
``KTTT_PROJECT_DIR``      the project folder holding ``prefect.yaml`` and ``flows/``
``KTTT_BUSY_TIMEOUT``     seconds a writer waits for another writer of a SQLite store (30)
``KTTT_MAX_INPUT_MB``     the largest YAML file read, in MB (32: five times a national registry)
``KTTT_LITERAL_SECRETS``  ``refuse``: a password or token written in clear in a target is
                          an input error (default ``warn``: loaded, with a warning)
========================  ==========================================================

A value that cannot be read raises :class:`ConfigError` (a Vietnamese message naming the
variable), before anything is written.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ENV_HOME = "KTTT_HOME"
ENV_URL = "KTTT_DATABASE_URL"
ENV_TIMEZONE = "KTTT_TIMEZONE"
ENV_PROJECT = "KTTT_PROJECT_DIR"
OFFICE_TZ = "Asia/Ho_Chi_Minh"


class ConfigError(ValueError):
    """An environment variable has a value the engine cannot use (message in Vietnamese)."""


def _number(env: Mapping[str, str], name: str, default: float, kind: type = float) -> Any:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return kind(default)
    try:
        value = kind(raw.strip())
    except ValueError:
        raise ConfigError(f"biến môi trường {name}='{raw}' không hợp lệ; cần một số") from None
    if value <= 0:
        raise ConfigError(f"biến môi trường {name}='{raw}' không hợp lệ; cần một số dương")
    return value


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the embedded store and local mailboxes live: ``$KTTT_HOME`` or ``~/.kttt``."""
    env = os.environ if env is None else env
    return Path(env.get(ENV_HOME) or Path.home() / ".kttt")


def database_url(url: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """``url``, else ``$KTTT_DATABASE_URL``, else the embedded SQLite file in the data folder."""
    env = os.environ if env is None else env
    return url or env.get(ENV_URL) or f"sqlite:///{data_dir(env) / 'kttt.db'}"


def private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents readable by their owner only (0700); folders that
    exist keep their permissions. The data folder holds the store and the units' mail."""
    missing = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for d in reversed(missing):
        d.mkdir(mode=0o700, exist_ok=True)
    return path


def utcnow() -> datetime:
    """The wall clock, for the audit timestamps of the store (UTC)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Config:
    """The engine's settings: the office time zone and where data lives."""

    home: Path
    timezone: str = OFFICE_TZ
    busy_timeout: float = 30.0
    refuse_literal_secrets: bool = False
    max_input_bytes: int = 32 * 1024 * 1024

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        tz = env.get(ENV_TIMEZONE) or OFFICE_TZ
        try:
            ZoneInfo(tz)
        except (ValueError, KeyError, OSError):
            raise ConfigError(
                f"biến môi trường {ENV_TIMEZONE}='{tz}' không phải múi giờ (ví dụ Asia/Ho_Chi_Minh)"
            ) from None
        secrets = (env.get("KTTT_LITERAL_SECRETS") or "warn").strip().lower()
        if secrets not in ("warn", "refuse"):
            raise ConfigError(
                f"biến môi trường KTTT_LITERAL_SECRETS='{secrets}' không hợp lệ; cần warn hoặc refuse"
            )
        return cls(
            data_dir(env),
            tz,
            _number(env, "KTTT_BUSY_TIMEOUT", 30.0),
            secrets == "refuse",
            int(_number(env, "KTTT_MAX_INPUT_MB", 32.0) * 1024 * 1024),
        )

    def today(self, now: datetime | None = None) -> date:
        """Today in the offices' time zone (``now``: the instant to read it at, default now)."""
        instant = now or datetime.now(UTC)
        return instant.astimezone(ZoneInfo(self.timezone)).date()


@dataclass
class OutboxSettings:
    """Delivery settings; the defaults suit the embedded demo (local Maildir for units without targets)."""

    max_attempts: int = 5
    retry_base: float = 60.0  # seconds; doubled each attempt, with jitter
    retry_cap: float = 3600.0
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    stale_after: timedelta = timedelta(minutes=10)
    maildir: Path | None = None  # units with no target: local mailbox here, else "no_target"
    apprise_config: Path | None = None  # extra targets, one Apprise tag per unit code
    mail_from: str | None = None  # KTTT_MAIL_FROM: "Name <address>"; None: the default sender
    rng: random.Random = field(default_factory=random.Random)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OutboxSettings:
        env = os.environ if env is None else env
        local = env.get("KTTT_LOCAL_MAILBOX", "1") not in ("0", "false", "no")
        maildir = Path(env.get("KTTT_MAILDIR") or data_dir(env) / "mail") if local else None
        cfg = env.get("KTTT_APPRISE_CONFIG")
        if cfg and not Path(cfg).is_file():
            raise ConfigError(
                f"biến môi trường KTTT_APPRISE_CONFIG: không tìm thấy tệp cấu hình Apprise '{cfg}'"
            )
        return cls(
            max_attempts=_number(env, "KTTT_MAX_ATTEMPTS", 5, int),
            maildir=maildir,
            apprise_config=Path(cfg) if cfg else None,
            mail_from=mail_from(env),
        )


def mail_from(env: Mapping[str, str] | None = None) -> str | None:
    """``KTTT_MAIL_FROM`` as ``Name <address>`` (None when unset); an unusable value is an error."""
    from email.utils import parseaddr

    env = os.environ if env is None else env
    raw = (env.get("KTTT_MAIL_FROM") or "").strip()
    if not raw:
        return None
    name, addr = parseaddr(raw)
    local, _, domain = addr.partition("@")
    if not local or not domain or any(c.isspace() for c in addr):
        raise ConfigError(
            f"biến môi trường KTTT_MAIL_FROM='{raw}' không hợp lệ; cần một địa chỉ thư, ví dụ "
            "'Văn phòng UBND tỉnh <theodoi@example.gov.vn>'"
        )
    return f"{name} <{addr}>" if name else addr
