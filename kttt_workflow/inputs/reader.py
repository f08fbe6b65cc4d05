"""Safe YAML reading that remembers where every value came from.

The file is read as a stream of parser events and the data is built from them directly: no node
tree is kept, and no PyYAML constructor runs, so a tag such as ``!!python/object`` is an error,
never an object. What the reader accepts, and why (see ``docs/yaml-format.md``):

* plain data only: mappings, sequences and the scalars of the **YAML 1.2 core schema** (what
  editors use): ``true``/``false`` are booleans, but ``yes``, ``no``, ``on``, ``off`` are text;
  ``=`` is text; ``12:30`` and ``1_000`` are text; ``010`` is the number 10. Dates stay text
  (``2013-10-01``), checked by the models, so an impossible date is a located error;
* no anchor (``&``), alias (``*``) or merge key (``<<:``): they let one value stand for another,
  hide a second ``lead`` behind a merge, and allow "billion laughs" expansion;
* no duplicate key, no NUL character, no nesting deeper than :data:`MAX_DEPTH`, one document;
* no file larger than ``max_bytes`` (:data:`MAX_BYTES` unless told): it is refused before it is
  parsed, with its size, the limit and how to raise it.

Positions are kept compactly (:class:`LocatedDocument`): one 64-bit number per key and value in an
array, found again by walking the data, so the memory the reader needs grows linearly with the file
and is a small multiple of the data itself (``bench/bench_input.py`` measures it).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import sys
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from kttt_workflow.domain.text import nfc
from kttt_workflow.errors import Issue, shown

Path_ = tuple[str | int, ...]

MB = 1024 * 1024
# Default size limit. A national registry of 20,000 units written like directives/units/ (name,
# alias, level, parent, one target, a validity date, each province's communes in a group) is about
# 6 MB; the limit leaves five times that. bench/bench_input.py measures size, time and memory.
MAX_BYTES = 32 * MB
LIMIT_VARIABLE = "KTTT_MAX_INPUT_MB"  # read by kttt_workflow.config, passed here as max_bytes
MAX_DEPTH = 64  # deeper nesting is certainly a mistake

_TAG = "tag:yaml.org,2002:"
_STR, _SEQ, _MAP = _TAG + "str", _TAG + "seq", _TAG + "map"
_SHIFT = 32  # a position is packed as line << 32 | column (both 1-based)
_LOW = (1 << _SHIFT) - 1

# libyaml's parser, when PyYAML has it, is several times faster on large files; its error
# positions are less precise, so a file it cannot parse is parsed again by the pure-Python parser
# to report the error.
_FastParser: Callable[[str], Any] | None = getattr(yaml, "CBaseLoader", None)


# --------------------------------------------------------------------------------------------------
# Scalars: the YAML 1.2 core schema
# --------------------------------------------------------------------------------------------------
def _core_int(value: str) -> int:
    if value.startswith("0o"):
        return int(value[2:], 8)
    if value.startswith("0x"):
        return int(value[2:], 16)
    return int(value, 10)


def _core_float(value: str) -> float:
    low = value.lower()
    if low.endswith((".inf", ".nan")):
        return -math.inf if low[0] == "-" else math.nan if low.endswith("nan") else math.inf
    return float(value)


_SCALARS: list[tuple[str, re.Pattern[str], Callable[[str], Any]]] = [
    (_TAG + "null", re.compile(r"null|Null|NULL|~|"), lambda v: None),
    (_TAG + "bool", re.compile(r"true|True|TRUE|false|False|FALSE"), lambda v: v[0] in "tT"),
    (_TAG + "int", re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"), _core_int),
    (
        _TAG + "float",
        re.compile(
            r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
        ),
        _core_float,
    ),
]
_BY_TAG = {tag: (rx, build) for tag, rx, build in _SCALARS}
# The resolvers a plain scalar can need, by its first character (most need none: it is text).
_BY_FIRST: dict[str, list[tuple[str, re.Pattern[str], Callable[[str], Any]]]] = {}
for _first, _tags in {
    "": ("null",),
    "~nN": ("null",),
    "tTfF": ("bool",),
    "-+0123456789": ("int", "float"),
    ".": ("float",),
}.items():
    for _ch in _first or [""]:
        _BY_FIRST.setdefault(_ch, []).extend(s for s in _SCALARS if s[0][len(_TAG) :] in _tags)


def _plain(value: str) -> Any:
    """What a plain (unquoted, untagged) scalar means in the YAML 1.2 core schema."""
    for _, rx, build in _BY_FIRST.get(value[:1], ()):
        if rx.fullmatch(value):
            return build(value)
    return value


# --------------------------------------------------------------------------------------------------
# The located document
# --------------------------------------------------------------------------------------------------
@dataclass
class LocatedDocument:
    """Parsed YAML plus the position (line, column; 1-based) of each value and each key.

    Positions are packed in one array: for each mapping or sequence of :attr:`data` (by ``id``),
    ``starts`` gives where its entries begin; a sequence has one position per item, a mapping two
    per entry (the key's, then the value's), in the data's order.
    """

    file: str
    data: Any
    root: int = (1 << _SHIFT) | 1
    sha256: str = ""  # of the file's bytes as read (the content hash of a load)
    positions: array[int] = field(default_factory=lambda: array("Q"))
    starts: dict[int, int] = field(default_factory=dict)

    def where(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """Best known position of ``path``: the value (or key) itself, else its nearest parent."""
        node, value, at_key = self.data, self.root, None
        for part in path:
            start = self.starts.get(id(node))
            if start is None:
                break
            if isinstance(node, dict):
                i = next((i for i, k in enumerate(node) if k == part), None)
                if i is None:
                    break
                at_key, value = self.positions[start + 2 * i], self.positions[start + 2 * i + 1]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                at_key, value = None, self.positions[start + part]
            else:
                break
            node = node[part]
        packed = at_key if key and at_key is not None else value
        return packed >> _SHIFT, packed & _LOW

    def issue(self, path: Path_, message: str, *, key: bool = False) -> Issue:
        line, col = self.where(path, key=key)
        return Issue(self.file, line, col, nfc(message))


# --------------------------------------------------------------------------------------------------
# Building the data from the parser's events
# --------------------------------------------------------------------------------------------------
class _Stop(Exception):
    """Stop reading: an issue that makes the rest of the document meaningless."""


_REFERENCE = "không hỗ trợ neo và tham chiếu YAML (anchor '&', alias '*'); hãy viết đầy đủ giá trị"
_MERGE = (
    "không hỗ trợ khóa gộp YAML '<<' (merge key): nó chép các khóa của một bảng khác và che mất "
    "khóa trùng; hãy viết đầy đủ từng khóa"
)


def _tag_message(tag: str) -> str:
    short = tag.replace(_TAG, "!!")
    return (
        f"thẻ YAML {shown(short)} không được phép: chỉ chấp nhận dữ liệu thuần "
        "(chuỗi, số, true/false, danh sách, bảng)"
    )


class _Builder:
    """Builds the data and its positions from one document's events; collects issues."""

    def __init__(self, parser: Any, doc: LocatedDocument) -> None:
        self.next = parser.get_event
        self.peek = parser.peek_event
        self.doc = doc
        self.issues: list[Issue] = []

    def fail(self, mark: Any, message: str) -> None:
        self.issues.append(Issue(self.doc.file, mark.line + 1, mark.column + 1, message))

    def stop(self, mark: Any, message: str) -> _Stop:
        self.fail(mark, message)
        return _Stop()

    def value(self, depth: int) -> tuple[Any, int]:
        """The next value and its packed position."""
        ev = self.next()
        mark = ev.start_mark
        pos = (mark.line + 1) << _SHIFT | (mark.column + 1)
        if isinstance(ev, yaml.AliasEvent) or ev.anchor is not None:
            raise self.stop(mark, _REFERENCE)
        if isinstance(ev, yaml.ScalarEvent):
            return self.scalar(ev), pos
        if depth >= MAX_DEPTH:
            raise self.stop(mark, f"cấu trúc lồng quá sâu (quá {MAX_DEPTH} cấp)")
        tag = ev.tag
        if isinstance(ev, yaml.SequenceStartEvent):
            if tag not in (None, "!", _SEQ):
                raise self.stop(mark, _tag_message(tag))
            return self.sequence(depth), pos
        if tag not in (None, "!", _MAP):
            raise self.stop(mark, _tag_message(tag))
        return self.mapping(depth), pos

    def scalar(self, ev: yaml.ScalarEvent) -> Any:
        text: str = ev.value
        if "\x00" in text:
            self.fail(ev.start_mark, "giá trị chứa ký tự NUL (\\0) không được phép")
        tag = ev.tag
        if tag is None or tag == "!":
            if tag is not None or not ev.implicit[0]:
                return text
            try:
                return _plain(text)
            except ValueError:  # an integer of more than 4300 digits
                raise self.stop(
                    ev.start_mark,
                    "số quá lớn hoặc không hợp lệ; nếu là văn bản, hãy đặt trong dấu nháy",
                ) from None
        if tag == _STR:
            return text
        if tag not in _BY_TAG:
            raise self.stop(ev.start_mark, _tag_message(tag))
        rx, build = _BY_TAG[tag]
        if rx.fullmatch(text):
            try:
                return build(text)
            except ValueError:  # an integer of more than 4300 digits
                pass
        short = tag.replace(_TAG, "!!")
        raise self.stop(
            ev.start_mark,
            f"giá trị {shown(text)} không đọc được theo thẻ {short}; "
            "nếu là văn bản, hãy bỏ thẻ và đặt trong dấu nháy",
        )

    def sequence(self, depth: int) -> list[Any]:
        items: list[Any] = []
        local = array("Q")
        while not isinstance(self.peek(), yaml.SequenceEndEvent):
            item, pos = self.value(depth + 1)
            items.append(item)
            local.append(pos)
        self.next()
        self.doc.starts[id(items)] = len(self.doc.positions)
        self.doc.positions.extend(local)
        return items

    def mapping(self, depth: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        local = array("Q")
        while not isinstance(self.peek(), yaml.MappingEndEvent):
            ev = self.peek()
            if not isinstance(ev, yaml.ScalarEvent) or ev.anchor is not None:
                if isinstance(ev, (yaml.AliasEvent, yaml.ScalarEvent)):
                    raise self.stop(ev.start_mark, _REFERENCE)
                self.fail(ev.start_mark, "khóa phải là một chuỗi đơn giản")
                self.skip()  # the key
                self.skip()  # its value
                continue
            if ev.tag is None and ev.implicit[0] and ev.value == "<<":
                self.fail(ev.start_mark, _MERGE)
                self.next()
                self.skip()
                continue
            key, key_pos = self.value(depth + 1)
            if isinstance(key, str):
                key = sys.intern(key)  # the same few keys repeat in every unit and task
            value, pos = self.value(depth + 1)
            if key in out:
                self.fail(
                    ev.start_mark,
                    f"khóa {shown(key)} bị lặp lại; mỗi khóa chỉ được khai báo một lần",
                )
                continue
            out[key] = value
            local.append(key_pos)
            local.append(pos)
        self.next()
        self.doc.starts[id(out)] = len(self.doc.positions)
        self.doc.positions.extend(local)
        return out

    def skip(self) -> None:
        """Consume one value's events (a key we refuse, and what it maps to)."""
        depth = 0
        while True:
            ev = self.next()
            if isinstance(ev, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
            elif isinstance(ev, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
            if depth == 0:
                return


# --------------------------------------------------------------------------------------------------
# Files and text
# --------------------------------------------------------------------------------------------------
def _megabytes(n: int) -> str:
    return f"{n / MB:.1f}".replace(".", ",") + " MB"


def too_large(name: str, size: int, max_bytes: int) -> Issue:
    """The issue of a file over the size limit (said before anything is parsed)."""
    return Issue(
        name,
        0,
        0,
        f"tệp quá lớn ({_megabytes(size)}); giới hạn là {_megabytes(max_bytes)} để một tệp sai "
        f"không làm cạn bộ nhớ; nếu tệp đúng là lớn như vậy, hãy nâng giới hạn bằng biến môi "
        f"trường {LIMIT_VARIABLE} (số MB, ví dụ {LIMIT_VARIABLE}={max(2 * max_bytes // MB, 1)})",
    )


def _read_at_most(fh: BinaryIO, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while total < limit and (chunk := fh.read(min(MB, limit - total))):
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def read_yaml(
    path: Path, display: str | None = None, *, max_bytes: int = MAX_BYTES
) -> tuple[LocatedDocument | None, list[Issue]]:
    """Read one YAML file safely. Returns the located document, or None and the issues found.

    A file larger than ``max_bytes`` is refused before it is read whole.
    """
    name = display or str(path)
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > max_bytes:
                return None, [too_large(name, size, max_bytes)]
            raw = _read_at_most(fh, max_bytes + 1)  # a device or a growing file has no size
    except OSError as exc:
        return None, [Issue(name, 0, 0, f"không đọc được tệp: {exc.strerror or exc}")]
    if len(raw) > max_bytes:
        return None, [too_large(name, len(raw), max_bytes)]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [
            Issue(name, line, col, "tệp không phải văn bản UTF-8; hãy lưu tệp với mã hóa UTF-8")
        ]
    digest = hashlib.sha256(raw).hexdigest()
    del raw
    doc, issues = parse_yaml(text, name, max_bytes=max_bytes)
    if doc is not None:
        doc.sha256 = digest
    return doc, issues


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def parse_yaml(
    text: str, name: str, *, max_bytes: int = MAX_BYTES
) -> tuple[LocatedDocument | None, list[Issue]]:
    """Parse YAML text (see :func:`read_yaml`)."""
    if len(text) > max_bytes // 4 and (size := len(text.encode("utf-8"))) > max_bytes:
        return None, [too_large(name, size, max_bytes)]
    text = nfc(text)
    if _FastParser is not None:
        try:
            return _parse(_FastParser(text), name)
        except yaml.YAMLError:
            pass  # parsed again below, for a precise position
    try:
        return _parse(yaml.BaseLoader(text), name)
    except yaml.reader.ReaderError as exc:
        line, col = _position(text, exc.position)
        return None, [
            Issue(
                name,
                line,
                col,
                f"ký tự không được phép trong tệp YAML (mã U+{ord(exc.character):04X})"
                if isinstance(exc.character, str)
                else "ký tự không được phép trong tệp YAML",
            )
        ]
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or ""
        mark = exc.problem_mark or exc.context_mark
        if problem.startswith("found unexpected end of stream") and exc.context_mark is not None:
            mark = exc.context_mark  # point at the opening quote, not past the end of the file
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        return None, [
            Issue(name, line, col, f"YAML sai cú pháp: {_translate_yaml_problem(problem)}")
        ]
    except yaml.YAMLError as exc:  # pragma: no cover - errors without marks
        return None, [Issue(name, 1, 1, f"YAML sai cú pháp: {exc}")]


def _parse(parser: Any, name: str) -> tuple[LocatedDocument | None, list[Issue]]:
    """One document from ``parser``'s events; raises the parser's errors."""
    try:
        parser.get_event()  # stream start
        if isinstance(parser.peek_event(), yaml.StreamEndEvent):
            return None, [Issue(name, 1, 1, "tệp rỗng; cần một bảng YAML có khóa 'kind'")]
        start = parser.get_event()  # document start
        doc = LocatedDocument(file=name, data=None)
        build = _Builder(parser, doc)
        try:
            doc.data, doc.root = build.value(0)
        except _Stop:
            return None, build.issues
        parser.get_event()  # document end
        if not isinstance(parser.peek_event(), yaml.StreamEndEvent):
            raise yaml.composer.ComposerError(
                "expected a single document in the stream",
                start.start_mark,
                "but found another document",
                parser.get_event().start_mark,
            )
        if build.issues:
            return None, build.issues
        return doc, []
    finally:
        parser.dispose()


_PROBLEMS = {
    "mapping values are not allowed here": "không được đặt dấu ':' ở đây (thiếu dấu nháy quanh chuỗi?)",
    "could not find expected ':'": "thiếu dấu ':' sau khóa",
    "found character '\\t' that cannot start any token": "không dùng ký tự tab để thụt lề; hãy dùng dấu cách",
    "expected <block end>, but found": "thụt lề không thẳng hàng (kiểm tra số dấu cách đầu dòng)",
    "expected <block mapping start>": "thụt lề không thẳng hàng (kiểm tra số dấu cách đầu dòng)",
    "but found another document": "tệp chỉ được chứa một tài liệu YAML (bỏ dòng '---' thứ hai)",
    "found unhashable key": "khóa phải là một chuỗi đơn giản",
    "found unexpected end of stream": "tệp kết thúc bất ngờ (thiếu dấu nháy đóng?)",
    "found undefined alias": "tham chiếu (alias) chưa được định nghĩa",
}


def _translate_yaml_problem(problem: str) -> str:
    for en, vi in _PROBLEMS.items():
        if problem.startswith(en) or en in problem:
            return vi
    return f"cấu trúc không hợp lệ ({problem})" if problem else "cấu trúc không hợp lệ"
