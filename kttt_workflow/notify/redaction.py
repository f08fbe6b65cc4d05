"""Keeping secrets out of log records, and letting Apprise capture the evidence we classify on.

Three pieces, all process-wide because the ``logging`` module is:

- a registry of secret strings (passwords, tokens, keys taken from delivery targets) and a
  :class:`RedactingFilter` that rewrites every record of the loggers a target URL can reach
  (``apprise``, ``urllib3``, ``requests`` and ours) with those strings replaced by ``****``. The
  registry only grows: Apprise may keep running an abandoned worker after we stopped waiting for
  it, and that worker must not log a secret either. It is bounded by the number of distinct
  configured targets;
- :func:`quiet`: a context in which Apprise's records are not emitted at all but collected, used
  while a URL is parsed, i.e. before we know which parts of it are secret;
- :func:`verbose_apprise`: lowers the ``apprise`` logger to DEBUG for the duration of a send, so
  that Apprise's per-attempt log capture holds the ``Socket Exception: ...`` lines that tell a
  timeout from other failures (Apprise logs them at DEBUG). The extra DEBUG records are kept away
  from the application's handlers: while the scope is active the ``apprise`` logger does not
  propagate, and a forwarding handler passes on only the records the application would have seen
  anyway (level >= the logger's previous effective level).
"""

from __future__ import annotations

import contextvars
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, quote_plus, unquote, unquote_plus

MASK = "****"

log = logging.getLogger("kttt_workflow.notify")

# Secrets shorter than this are not registered for log redaction: replacing every "ab" in every
# log line would make logs useless, and such a value offers no protection anyway.
MIN_SECRET_LEN = 3

# Loggers (and their descendants) whose records may carry a target URL or part of it.
WATCHED_PREFIXES = ("apprise", "urllib3", "requests", "kttt_workflow.notify")

_lock = threading.Lock()
_secrets: set[str] = set()
# (any secret, every secret by position): one tuple, so that a reader never pairs an old one with
# a new one. See ``register_secrets``.
_patterns: tuple[re.Pattern[str], re.Pattern[str]] | None = None

_quiet: contextvars.ContextVar[list[tuple[int, str]] | None] = contextvars.ContextVar(
    "kttt_notify_quiet", default=None
)


def _variants(value: str) -> set[str]:
    """The forms a secret may take in a log line: as written, URL-decoded, URL-encoded."""
    out = {value}
    for fn in (unquote, unquote_plus):
        out.add(fn(value))
    for fn2 in (quote, quote_plus):
        out.add(fn2(value, safe=""))
    return {v for v in out if len(v) >= MIN_SECRET_LEN}


def register_secrets(values: Iterable[str]) -> None:
    """Add secrets (and their URL-encoded/decoded forms) to the process-wide redaction set."""
    global _patterns
    new: set[str] = set()
    for v in values:
        if v and len(v) >= MIN_SECRET_LEN:
            new |= _variants(v)
    with _lock:
        if new <= _secrets:
            return
        _secrets.update(new)
        # Longest first. The first pattern finds whether a text holds a secret at all (most log
        # records hold none); the second, a zero-width lookahead, the longest secret that starts
        # at every position (see ``redact``), some four times slower.
        ordered = "|".join(re.escape(s) for s in sorted(_secrets, key=len, reverse=True))
        _patterns = (re.compile(ordered), re.compile(f"(?=({ordered}))"))


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every registered secret (and every string in ``extra``) replaced by ``****``.

    Occurrences that overlap are hidden as one: with secrets ``bot123456`` and ``123456789:key``
    registered, ``bot123456789:key`` becomes ``****``, not ``****789:key`` (a plain alternation
    would replace the first match and carry on after it).
    """
    spans: list[tuple[int, int]] = []
    patterns = _patterns
    if patterns is not None and patterns[0].search(text):
        spans += [(m.start(), m.end(1)) for m in patterns[1].finditer(text)]
    for s in {e for e in extra if e}:
        at = text.find(s)
        while at >= 0:
            spans.append((at, at + len(s)))
            at = text.find(s, at + 1)
    if not spans:
        return text
    out: list[str] = []
    done = 0  # text[:done] is already in ``out``
    start, end = -1, -1
    for a, b in sorted(spans):
        if a < end:  # overlaps the current span: extend it
            end = max(end, b)
            continue
        if end > start:
            out += [text[done:start], MASK]
            done = end
        start, end = a, b
    out += [text[done:start], MASK, text[end:]]
    return "".join(out)


class RedactingFilter(logging.Filter):
    """Rewrites a record in place with secrets redacted; drops it inside :func:`quiet`.

    A logger's filters run before any handler sees the record (Apprise's own per-attempt capture
    handlers included), so what every handler formats is already clean.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string: keep only the template
            message = str(record.msg)
        sink = _quiet.get()
        if sink is not None and record.name.startswith("apprise"):
            sink.append((record.levelno, message))
            return False
        record.msg = redact(message)
        record.args = None
        if record.exc_info:
            # Render the traceback now, redacted, and drop the live exception so no handler can
            # render the unredacted one.
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(text)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = RedactingFilter()


def install() -> None:
    """Attach the redacting filter to every watched logger that exists now (idempotent).

    A logger's filters only see records created by that very logger, not by its children, so
    each one is filtered separately; this runs at every public entry point to catch loggers that
    libraries created since.
    """
    names = set(WATCHED_PREFIXES) | {
        n
        for n in list(logging.root.manager.loggerDict)
        if any(n == p or n.startswith(p + ".") for p in WATCHED_PREFIXES)
    }
    for name in names:
        lg = logging.getLogger(name)
        if _FILTER not in lg.filters:
            lg.addFilter(_FILTER)


@contextmanager
def quiet() -> Iterator[list[tuple[int, str]]]:
    """Collect, instead of emitting, the ``apprise`` records made in this context (this thread).

    The sink receives ``(levelno, message)`` pairs, unredacted: redact before using them.
    """
    sink: list[tuple[int, str]] = []
    token = _quiet.set(sink)
    try:
        yield sink
    finally:
        _quiet.reset(token)


class _Forward(logging.Handler):
    """Emulates propagation from the ``apprise`` logger for records at or above ``threshold``."""

    def __init__(self, source: logging.Logger, threshold: int) -> None:
        super().__init__(logging.NOTSET)
        self.source = source
        self.threshold = threshold

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < self.threshold:
            return
        node = self.source.parent
        while node is not None:
            for h in node.handlers:
                if record.levelno >= h.level:
                    h.handle(record)
            if not node.propagate:
                break
            node = node.parent


class _Verbose:
    lock = threading.Lock()
    depth = 0
    saved: tuple[int, bool] | None = None
    forward: _Forward | None = None


@contextmanager
def verbose_apprise() -> Iterator[None]:
    """Let Apprise create DEBUG records (for its per-attempt capture) without flooding app logs.

    Re-entrant and thread-safe (reference counted): concurrent sends share one scope.
    """
    lg = logging.getLogger("apprise")
    with _Verbose.lock:
        if _Verbose.depth == 0:
            threshold = lg.getEffectiveLevel()
            if threshold > logging.DEBUG:
                _Verbose.saved = (lg.level, lg.propagate)
                _Verbose.forward = _Forward(lg, threshold)
                lg.addHandler(_Verbose.forward)
                lg.propagate = False
                lg.setLevel(logging.DEBUG)
        _Verbose.depth += 1
    try:
        yield
    finally:
        with _Verbose.lock:
            _Verbose.depth -= 1
            if _Verbose.depth == 0 and _Verbose.saved is not None:
                level, propagate = _Verbose.saved
                lg.setLevel(level)
                lg.propagate = propagate
                if _Verbose.forward is not None:
                    lg.removeHandler(_Verbose.forward)
                _Verbose.saved = None
                _Verbose.forward = None
