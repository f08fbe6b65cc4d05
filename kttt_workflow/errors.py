"""The project's errors, in the user's terms: file, line, column and a Vietnamese message.

Every layer raises these (input checks, the store, the service); the shells print them.

An :class:`Issue` is one line, ``file:line:col: message``, whatever its message was made of: when
an issue is made, characters that would break the line (newlines, other control and format
characters) are shown escaped (``\\n``, ``\\t``, ``\\x1b``, ``\\u2028``…), and each quoted value
(``'…'`` or ``“…”``) longer than :data:`MAX_SHOWN` characters is cut with ``…``. Messages show a
value with :func:`shown`, which quotes, escapes and cuts it the same way.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from kttt_workflow.domain.text import nfc

MAX_SHOWN = 80  # characters of a value a message shows (the quotes and "…" not counted)
MAX_MESSAGE = 2000  # characters of a whole message (lists of accepted forms fit)

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x00": "\\0"}
_BREAKING = ("Cc", "Cf", "Zl", "Zp", "Cs")  # control, format, line and paragraph separators
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'|“([^”]*)”")


def _escape_char(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    if unicodedata.category(ch) not in _BREAKING:
        return ch
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _escape(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(map(_escape_char, text))


def _cut(text: str, limit: int = MAX_SHOWN) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown(value: object) -> str:
    """``value`` as a message shows it: text in quotes, on one line, at most :data:`MAX_SHOWN`
    characters; other values as YAML writes them (``true``, ``null``, ``3``)."""
    if isinstance(value, str):
        body = _escape(value.replace("\\", "\\\\").replace("'", "\\'"))
        return f"'{_cut(body)}'"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return _cut(_escape(str(value)))


def _tidy(message: str) -> str:
    """One line, and no quoted value longer than :data:`MAX_SHOWN` (see the module's docstring)."""
    text = _escape(nfc(message))
    if len(text) > MAX_SHOWN:

        def cut(m: re.Match[str]) -> str:
            if m.group(1) is not None:
                return f"'{_cut(m.group(1))}'"
            return f"“{_cut(m.group(2))}”"

        text = _QUOTED.sub(cut, text)
    return _cut(text, MAX_MESSAGE)


@dataclass(frozen=True, order=True)
class Issue:
    """One problem found in an input file. ``line`` and ``column`` are 1-based (0 = unknown)."""

    file: str
    line: int
    column: int
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", _tidy(self.message))

    def __str__(self) -> str:
        return f"{_escape(nfc(self.file))}:{self.line}:{self.column}: {self.message}"


class InputError(Exception):
    """Raised when input files are invalid. Nothing has been written when this is raised."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = sorted(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


class KtttError(Exception):
    """A user-facing error of an operation (unknown task, wrong state…); message in Vietnamese."""

    def __init__(self, message: str) -> None:
        super().__init__(nfc(message))
