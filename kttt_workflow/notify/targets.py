"""Delivery targets: expand ``${VAR}`` secrets from the environment, mask them, load Apprise configs.

A unit's target in the registry is an Apprise URL whose secrets are environment placeholders,
e.g. ``mailto://${KTTT_SMTP_USER}:${KTTT_SMTP_PASS}@smtp.example.gov.vn?to=so@example.gov.vn``,
``tgram://${KTTT_TG_TOKEN}/12345`` or ``zalo://${KTTT_ZALO_TOKEN}/{chat_id}``; secrets never live
in YAML in git. The expanded URL holds the secret, so it is only ever shown through
:func:`mask_target`, and every secret seen here is registered for log redaction (see
:mod:`kttt_workflow.notify.redaction`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from apprise import Apprise, AppriseAsset, AppriseConfig, NotifyBase

from kttt_workflow.notify import redaction

__all__ = ["SYNTAX_WORDS", "TargetError", "expand_target", "load_apprise_config", "mask_target"]


class TargetError(ValueError):
    """A target (or a target config) that cannot be used; the message never contains a secret."""


# --------------------------------------------------------------------------------------------
# ${VAR} expansion
# --------------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_target(template: str, env: Mapping[str, str] | None = None) -> str:
    """Replace every ``${VAR}`` in ``template`` with its value from ``env`` (default: os.environ).

    Values are inserted as they are: a secret containing URL-reserved characters (``@ / : ? #``)
    must be stored percent-encoded in the environment. A missing variable raises
    :class:`TargetError` naming the variable(s), never a value; so does a malformed placeholder.
    """
    source: Mapping[str, str] = os.environ if env is None else env
    names = _PLACEHOLDER.findall(template)
    missing = sorted({n for n in names if n not in source})
    if missing:
        listed = ", ".join(missing)
        raise TargetError(
            f"Thiếu biến môi trường {listed} (dùng trong địa chỉ nhận thông báo); "
            "hãy khai báo biến này trên máy chủ gửi."
        )
    if "${" in _PLACEHOLDER.sub("", template):
        raise TargetError(
            "Địa chỉ nhận thông báo có chỗ thay thế ${...} không hợp lệ "
            "(tên biến chỉ gồm chữ cái không dấu, chữ số và dấu gạch dưới)."
        )
    return _PLACEHOLDER.sub(lambda m: source[m.group(1)], template)


# --------------------------------------------------------------------------------------------
# Masking
# --------------------------------------------------------------------------------------------


def make_asset(service_timeout: float | None = None) -> AppriseAsset:
    """The Apprise asset every notify object here uses.

    Persistent storage in memory only (nothing written to disk), no key generation, Apprise's
    own retries off (``default_service_retry=0``), secure logging on. ``service_timeout`` is
    Apprise's per-service deadline (None keeps Apprise's default).
    """
    return AppriseAsset(
        storage_mode="memory",
        service_timeout=service_timeout,
        secure_logging=True,
        pgp_autogen=False,
        pem_autogen=False,
        default_service_retry=0,
        async_mode=True,
    )


# What a masked URL shows besides the scheme, the host, the port and a user name. Everything else
# in the path and the query may be a token, whatever it looks like (``json://host/hooks/abcdef``:
# Apprise shows webhook paths as written), and is hidden unless it is one of:
#
# - a word of the channel's URL syntax (Apprise's wiki, one page per service): for the generic
#   webhooks (json, xml, form) and Gotify's path prefix, the usual endpoint words below; their
#   other segments are the receiver's own and may be a token;
# - a Telegram chat id: digits, negative for groups, with an optional ``:topic``. Apprise itself
#   shows them (only the bot token is a credential: nobody can post to a chat without it), and
#   they tell two targets of one bot apart. Chat *names* (``@channel``) are hidden like any word:
#   a token fragment written in the wrong place becomes a chat name;
# - a Zalo chat id (``zalo://{bot_token}/{chat_id}``, Apprise 2.2): a word of the characters
#   Apprise's Zalo plugin accepts as a chat id (letters, digits, ``._-``). Zalo ids are opaque
#   strings, not numbers, so hiding them would hide every recipient, and the loader would take
#   the id of ``zalo://${KTTT_ZALO_TOKEN}/{chat_id}`` for a token written in clear. As for
#   Telegram, only the bot token is a credential; Apprise parses it as ``{bot_id}:{secret}``
#   before the first path segment (or from ``?token=``), so no piece of it is a chat id;
# - an e-mail address (recipients of ``mailto``): addresses are not secrets, and the recipients
#   are what identifies an e-mail target;
# - what Apprise already masked (``****``, ``X...Y``, ``...XXXX``).
_WEBHOOK_SCHEMES = frozenset({"json", "jsons", "xml", "xmls", "form", "forms", "gotify", "gotifys"})
_WEBHOOK_WORDS = frozenset({"api", "hook", "hooks", "webhook", "webhooks", "notify"})
_API_VERSION = re.compile(r"v\d{1,2}")
_TELEGRAM_SCHEMES = frozenset({"tgram"})
_CHAT_ID = re.compile(r"-?\d{1,20}(?::\d{1,12})?")
_ZALO_SCHEMES = frozenset({"zalo"})
_ZALO_CHAT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_EMAIL = re.compile(r"[^\s/@<>,]+@[^\s/@<>,]+\.[^\s/@<>,.]+")
_APPRISE_MASK = re.compile(r"\*{4}|[^.]?\.\.\.[^.]?|\.\.\.[^.]{1,4}")

# Query values that are words of Apprise's syntax, per parameter (case-insensitive), and the
# parameters whose values are numbers; any other value of a parameter is hidden, booleans apart.
_QUERY_WORDS: dict[str, frozenset[str]] = {
    "method": frozenset({"post", "get", "put", "patch", "delete", "head"}),
    "overflow": frozenset({"upstream", "split", "truncate"}),
    "format": frozenset({"text", "markdown", "html"}),
    "mode": frozenset({"ssl", "starttls", "insecure", "bot", "hook", "webhook"}),
    "priority": frozenset({"low", "moderate", "normal", "high", "emergency", "min", "max"}),
    "content": frozenset({"before", "after"}),
    "mdv": frozenset({"v1", "v2"}),
    "attach-as": frozenset({"file"}),
}
_NUMERIC_KEYS = frozenset({"retry", "wait", "cto", "rto", "topic", "priority"})
_NUMBER = re.compile(r"-?\d{1,6}(?:\.\d{1,4})?")
# Query keys whose values are secret whatever they look like.
_SECRET_KEY = re.compile(
    r"token|key|secret|pass|pwd|auth|sig|cred|session|bearer|private|access|cookie|hash|pgp|cert",
    re.IGNORECASE,
)
# Keys whose values are e-mail addresses (a display name before one is hidden) or, for ``smtp``,
# a host name.
_ADDRESS_KEYS = frozenset({"to", "from", "cc", "bcc", "reply"})
_HOST_KEYS = frozenset({"smtp"})

_BOOLEANS = frozenset({"yes", "no", "true", "false", "on", "off"})

#: Every word a masked target may show outside the scheme, the host and a user name (lower case):
#: no secret can be one of them. Exported for the tests' generators.
SYNTAX_WORDS: frozenset[str] = _WEBHOOK_WORDS.union(*_QUERY_WORDS.values(), _BOOLEANS)

# Words of a URL as written that Apprise does not render (dropped defaults, aliases) and that
# are not registered as secrets: plain words and short numbers.
_SAFE_VALUE = re.compile(
    r"[A-Za-z]{0,16}|v?\d{1,6}(?:\.\d{1,4})?|[^&@\s]+@[^&@\s]+\.[^&@\s]+(?:,[^&@\s]+@[^&@\s]+\.[^&@\s]+)*"
)

_HOSTLIKE = re.compile(
    r"(?:\d{1,3}\.){3}\d{1,3}|\[[0-9a-fA-F:.]+\]|localhost|(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z][A-Za-z0-9-]{0,62}"
)
_PLACEHOLDER_ONLY = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")
_WORD_SPLIT = re.compile(r"[/:@?&=#,;\s]+")


def _hide(value: str) -> str:
    """Apprise's own convention: long values keep their first and last character, short ones none."""
    if len(value) >= 8:
        return f"{value[0]}...{value[-1]}"
    return redaction.MASK


def _already_masked(value: str) -> bool:
    """Apprise's own mask (``****``, ``X...Y``, ``...XXXX``), or ours: kept as it is."""
    return bool(_APPRISE_MASK.fullmatch(value))


def _segment_shown(scheme: str, segment: str) -> bool:
    if _EMAIL.fullmatch(segment):
        return True
    if scheme in _WEBHOOK_SCHEMES:
        return segment.lower() in _WEBHOOK_WORDS or bool(_API_VERSION.fullmatch(segment))
    if scheme in _TELEGRAM_SCHEMES:
        return bool(_CHAT_ID.fullmatch(segment))
    if scheme in _ZALO_SCHEMES:
        return bool(_ZALO_CHAT_ID.fullmatch(segment))
    return False


def _mask_path(path: str, scheme: str = "") -> str:
    out = []
    for seg in path.split("/"):
        plain = unquote(seg)
        if not seg or _already_masked(plain) or _segment_shown(scheme, plain):
            out.append(seg)
        else:
            out.append(_hide(plain))
    return "/".join(out)


def _mask_address(value: str) -> str:
    """``a@b.vn,Name <c@d.vn>`` → addresses kept, display names and anything else hidden."""
    items = []
    for item in value.split(","):
        item = item.strip()
        name, lt, rest = item.partition("<")
        if lt and rest.endswith(">") and _EMAIL.fullmatch(rest[:-1].strip()):
            shown = name.strip()
            items.append((f"{_hide(shown)} " if shown else "") + f"<{rest[:-1].strip()}>")
        elif _EMAIL.fullmatch(item):
            items.append(item)
        elif item:
            items.append(_hide(item))
    return ",".join(items)


def _value_shown(key: str, value: str) -> bool:
    """A value of parameter ``key`` that is a word of Apprise's syntax (or a boolean, a number of a
    numeric parameter, the SMTP server's host name)."""
    word = value.lower()
    if word in _QUERY_WORDS.get(key, ()) or word in _BOOLEANS:
        return True
    if key in _NUMERIC_KEYS and _NUMBER.fullmatch(value):
        return True
    return key in _HOST_KEYS and bool(_HOSTLIKE.fullmatch(value))


def _mask_query(query: str) -> str:
    out = []
    for pair in query.split("&") if query else []:
        key, sep, value = pair.partition("=")
        k = unquote(key)
        v = unquote(value)
        bare = k.lstrip("+-:").lower()
        prefixed = k[:1] in "+-:" and k != bare  # custom header / GET param / payload field
        if not sep or not v or _already_masked(v):
            out.append(pair)
        elif prefixed or _SECRET_KEY.search(bare):
            out.append(f"{key}={_hide(v)}")
        elif bare in _ADDRESS_KEYS:
            shown = _mask_address(v)
            out.append(pair if shown == v else f"{key}={quote(shown, safe='*')}")
        elif _value_shown(bare, v):
            out.append(pair)
        else:
            out.append(f"{key}={_hide(v)}")
    return "&".join(out)


def _postmask(private_url: str) -> str:
    """Hide what Apprise's ``url(privacy=True)`` leaves visible but may be secret.

    Apprise masks the parts each plugin declares private (passwords, bot tokens, API keys), but
    generic webhooks (``json://``, ``xml://``, ``form://``) show their path and custom headers as
    written, e.g. ``json://host/bot123:SECRET?+Authorization=Bearer%20SECRET``.
    """
    parts = urlsplit(private_url)
    netloc = parts.netloc
    if "@" in netloc:
        user, _, hostport = netloc.rpartition("@")
        name, colon, password = user.partition(":")
        if colon and password and not _already_masked(unquote(password)):
            user = f"{name}:{redaction.MASK}"
        netloc = f"{user}@{hostport}"
    path = _mask_path(parts.path, parts.scheme.lower())
    query = _mask_query(parts.query)
    return f"{parts.scheme}://{netloc}{path}" + (f"?{query}" if query else "")


def _fallback_mask(url: str) -> str:
    """For a URL Apprise cannot load: only the scheme and the host (if it looks like a host)."""
    scheme, sep, rest = url.partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]{0,31}", scheme):
        return f"(không rõ)://{redaction.MASK}"
    host, port = _split_host(re.split(r"[/?#]", rest, maxsplit=1)[0])
    if not _host_shown(host):
        return f"{scheme.lower()}://{redaction.MASK}"
    return f"{scheme.lower()}://{host}" + (f":{port}" if port.isdigit() else "")


def _words(text: str) -> set[str]:
    return set(_WORD_SPLIT.split(text)) | set(_WORD_SPLIT.split(unquote(text)))


def _hidden_words(full: str, masked: str) -> set[str]:
    """The pieces of ``full`` that ``masked`` does not show: what must never be logged."""
    return {w for w in _words(full) - _words(masked) if len(w) >= redaction.MIN_SECRET_LEN}


def _split_host(netloc: str) -> tuple[str, str]:
    hostport = netloc.rpartition("@")[2]
    if hostport.startswith("["):
        host, _, tail = hostport.partition("]")
        return host + "]", tail[1:] if tail.startswith(":") else ""
    host, _, port = hostport.partition(":")
    return host, port


def _host_shown(host: str) -> bool:
    return bool(_HOSTLIKE.fullmatch(host) or _PLACEHOLDER_ONLY.fullmatch(host))


def _raw_secrets(url: str) -> set[str]:
    """Secrets of a URL Apprise cannot load, judged on the text as written.

    Not everything the scheme+host fallback hides is secret (user names, addresses, plain path
    words); registering those would blank them out of every later log line. So the URL is
    rendered with the same rules as a loaded one (password, token-like path segments, secret
    query values and a token-like host hidden) and what that hides is secret.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return {w for w in _words(url) if len(w) >= redaction.MIN_SECRET_LEN}
    try:
        shown = _words(_postmask(url))
    except ValueError:
        return {w for w in _words(rest) if len(w) >= redaction.MIN_SECRET_LEN}
    host, port = _split_host(re.split(r"[/?#]", rest, maxsplit=1)[0])
    if not _host_shown(host):
        shown -= _words(host) | _words(port)
    return {w for w in _words(url) - shown if len(w) >= redaction.MIN_SECRET_LEN}


@dataclass
class Inspection:
    """A target URL as Apprise sees it: the plugin (None if invalid), its mask, its secrets."""

    plugin: NotifyBase | None
    masked: str
    secrets: set[str] = field(default_factory=set)
    # Apprise's messages while parsing, redacted: (levelno, message)
    notes: list[tuple[int, str]] = field(default_factory=list)


def inspect_target(
    url: str, asset: AppriseAsset | None = None, tags: Iterable[str] | None = None
) -> Inspection:
    """Instantiate ``url`` with Apprise (silently), compute its mask and register its secrets.

    Apprise's own messages while parsing are held back until we know what is secret, then
    returned redacted in ``notes``.
    """
    redaction.install()
    plugin: NotifyBase | None = None
    private = public = ""
    with redaction.quiet() as raw_notes:
        try:
            plugin = Apprise.instantiate(
                url, asset=asset or make_asset(), tag=list(tags) if tags else None
            )
            if plugin is not None:
                private = plugin.url(privacy=True)
                public = plugin.url(privacy=False)
        except Exception as exc:  # never let a parse error (which may quote the URL) escape
            raw_notes.append((logging.ERROR, type(exc).__name__))
            plugin = None
    if plugin is None:
        masked = _fallback_mask(url)
        secrets = _raw_secrets(url)
    else:
        masked = _postmask(private)
        # What the mask hides of Apprise's own rendering of the URL is secret. Parts of the URL
        # as written that Apprise does not render (dropped defaults, aliases) are treated as
        # secret too unless they are plain words or numbers ("yes", "upstream", "30").
        secrets = _hidden_words(public, masked)
        secrets |= {
            w for w in _hidden_words(url, masked) - _words(public) if not _SAFE_VALUE.fullmatch(w)
        }
        password = getattr(plugin, "password", None)
        if isinstance(password, str) and password:
            secrets.add(password)
    redaction.register_secrets(secrets)
    notes = [(lvl, redaction.redact(n, secrets)) for lvl, n in raw_notes]
    return Inspection(plugin, masked, secrets, notes)


def mask_target(url: str) -> str:
    """``url`` with every secret hidden, fit for logs, reports and the database.

    For a URL Apprise can load: the plugin's own ``url(privacy=True)`` (passwords ``****``, tokens
    ``A...n``), with the generic parts Apprise shows as written (webhook paths, custom headers,
    unknown query values) hidden too. Otherwise only the scheme and the host are kept. The result
    is deterministic, so it can identify a target across attempts.
    """
    return inspect_target(url).masked


# --------------------------------------------------------------------------------------------
# Apprise config files
# --------------------------------------------------------------------------------------------


def load_apprise_config(
    path: str | os.PathLike[str], env: Mapping[str, str] | None = None
) -> dict[str, list[str]]:
    """Targets per unit code from an Apprise config file (YAML or TEXT), one tag per unit code.

    ``${VAR}`` placeholders in the file are expanded from ``env`` (default: the environment)
    before Apprise parses it, so the file itself holds no secret (Apprise's own YAML
    ``template:`` mechanism is not used). Apprise's ``AppriseConfig`` does the parsing; each
    loaded service is returned as its full URL (``url(privacy=False)``, ready for
    :func:`~kttt_workflow.notify.send.send`) under every tag it carries. Apprise lower-cases
    tags, so the keys are lower-case unit codes. Untagged entries are ignored, ``include``
    directives are not followed, and entries Apprise rejects are skipped (Apprise logs why,
    redacted). Raises :class:`TargetError` if the file cannot be read or is not a config.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetError(
            f"Không đọc được tệp cấu hình Apprise {p.name}: {type(exc).__name__}"
        ) from None
    expanded = expand_target(text, env)
    source: Mapping[str, str] = os.environ if env is None else env
    substituted = {source[n] for n in _PLACEHOLDER.findall(text)}
    fmt = "yaml" if p.suffix.lower() in (".yml", ".yaml") else None
    redaction.install()
    asset = make_asset()
    with redaction.quiet() as raw_notes:
        config = AppriseConfig(asset=asset, recursion=0, cache=False)
        ok = config.add_config(expanded, asset=asset, format=fmt, recursion=0)
        services = config.services() if ok else []
    out: dict[str, list[str]] = {}
    secrets: set[str] = set()
    for service in services:
        url = service.url(privacy=False)
        # Registers the URL's secrets before anything about it can be logged.
        secrets |= inspect_target(url, asset).secrets
        for tag in sorted({str(t) for t in service.tags}):
            out.setdefault(tag, []).append(url)
    if not ok:
        raise TargetError(f"Tệp {p.name} không phải cấu hình Apprise hợp lệ (YAML hoặc TEXT).")
    for level, note in raw_notes:  # Apprise's own account of each entry (rejected ones too)
        if level < logging.DEBUG:
            continue  # TRACE: Apprise's raw dumps of parsed entries
        redaction.log.log(
            level,
            "apprise config %s: %s",
            p.name,
            redaction.redact(note, secrets | substituted),
        )
    return out
