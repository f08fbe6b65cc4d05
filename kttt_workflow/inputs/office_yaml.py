"""YAML text for a draft: plain data written by hand, with comments beside the fields.

The writer knows only mappings, lists, text, dates (:class:`IsoDate`) and null. Each scalar is
written the way PyYAML's safe dumper quotes it (or in JSON's double quotes when the project's
YAML 1.2 reader would read the plain form otherwise), long texts as folded blocks (``>-``).
:func:`render` then reads its own text back with the project's reader and refuses to return a
text that does not mean exactly the data it was given.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from kttt_workflow.inputs.reader import parse_yaml

Path_ = tuple[str | int, ...]
WIDTH = 100
_SPECIAL_PLAIN = re.compile(
    r"^(?:[-+]?(?:\d|\.\d|\.inf|\.nan)|0o|0x|true$|false$|null$|~$)", re.IGNORECASE
)


class IsoDate(str):
    """A date written YYYY-MM-DD, unquoted (the reader keeps it as this text)."""


def scalar(value: Any) -> str:
    """One YAML scalar on one line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, IsoDate):
        return str(value)
    text = str(value)
    dumped = yaml.safe_dump(text, allow_unicode=True, width=10**9)
    if dumped.endswith("\n...\n"):
        plain = dumped[: -len("\n...\n")]
        if "\n" not in plain and (not _SPECIAL_PLAIN.match(plain) or _reads_as(plain, text)):
            return plain
    elif dumped.count("\n") == 1:
        return dumped.rstrip("\n")
    return json.dumps(text, ensure_ascii=False)


def _reads_as(plain: str, text: str) -> bool:
    """Whether the project's (YAML 1.2) reader reads ``plain`` as the text ``text``."""
    doc, issues = parse_yaml(f"v: {plain}\n", "(giá trị)")
    return doc is not None and not issues and doc.data == {"v": text}


def _foldable(value: Any, indent: int) -> bool:
    return (
        isinstance(value, str)
        and not isinstance(value, IsoDate)
        and len(value) + indent > WIDTH - 10
        and value == " ".join(value.split())
        and value.isprintable()
    )


class Writer:
    """Lines of YAML for ``data``; ``above`` maps a path to comment lines written above it ("" is
    a blank line), ``beside`` maps a path to a comment at the end of its line."""

    def __init__(self, above: Mapping[Path_, Sequence[str]], beside: Mapping[Path_, str]) -> None:
        self.above, self.beside = above, beside
        self.out: list[str] = []

    def _comments(self, path: Path_, indent: int) -> None:
        for c in self.above.get(path, ()):
            self.out.append(f"{' ' * indent}# {c}".rstrip() if c else "")

    def _end(self, path: Path_) -> str:
        c = self.beside.get(path)
        return f"  # {c}" if c else ""

    def mapping(
        self, data: Mapping[str, Any], path: Path_, indent: int, first: str | None = None
    ) -> None:
        pad = " " * indent
        for k, (key, value) in enumerate(data.items()):
            p = (*path, key)
            if k or first is None:
                self._comments(p, indent)
            lead = first if (k == 0 and first is not None) else pad
            if isinstance(value, Mapping):
                self.out.append(f"{lead}{key}:{self._end(p)}")
                self.mapping(value, p, indent + 2)
            elif isinstance(value, list):
                if not value:
                    self.out.append(f"{lead}{key}: []{self._end(p)}")
                else:
                    self.out.append(f"{lead}{key}:{self._end(p)}")
                    self.sequence(value, p, indent + 2)
            elif _foldable(value, indent + len(key) + 2):
                self.out.append(f"{lead}{key}: >-{self._end(p)}")
                for line in textwrap.wrap(
                    value,
                    width=WIDTH - indent - 2,
                    break_long_words=False,
                    break_on_hyphens=False,
                ):
                    self.out.append(f"{pad}  {line}")
            else:
                self.out.append(f"{lead}{key}: {scalar(value)}{self._end(p)}")

    def sequence(self, data: Sequence[Any], path: Path_, indent: int) -> None:
        pad = " " * indent
        for j, item in enumerate(data):
            p = (*path, j)
            self._comments(p, indent)
            if isinstance(item, Mapping):
                self.mapping(item, p, indent + 2, first=f"{pad}- ")
            else:
                self.out.append(f"{pad}- {scalar(item)}{self._end(p)}")


def _plain_data(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_data(v) for v in value]
    return str(value) if isinstance(value, IsoDate) else value


def render(
    data: Mapping[str, Any],
    head: Sequence[str] = (),
    above: Mapping[Path_, Sequence[str]] | None = None,
    beside: Mapping[Path_, str] | None = None,
) -> str:
    """The YAML text of ``data`` with ``head`` as the file's opening comment lines."""
    w = Writer(above or {}, beside or {})
    w.out.extend(f"# {h}".rstrip() if h else "#" for h in head)
    w.mapping(data, (), 0)
    text = "\n".join(w.out) + "\n"
    doc, issues = parse_yaml(text, "(bản nháp)")
    if doc is None or issues or doc.data != _plain_data(data):
        raise AssertionError(f"the draft's YAML does not read back as its data: {issues}")
    return text
