"""Safe YAML reading that remembers where every value came from.

Only plain data is constructed (``yaml.SafeLoader``): a tag such as ``!!python/object`` is an error,
never an object. Dates are left as strings for pydantic to check, so an impossible date
("2022-02-31") becomes a located error rather than a crash. Duplicate keys are errors.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kttt_workflow.domain.text import nfc
from kttt_workflow.errors import Issue

Path_ = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """Safe loader without the timestamp resolver (dates stay strings, validated by pydantic)."""


# libyaml's parser, when PyYAML has it, is about 8x faster on large registries and its nodes carry
# marks too; its error positions are less precise, so a file it rejects is parsed again by the
# pure-Python loader to report the error.
_CBase = getattr(yaml, "CSafeLoader", None)
_FastLoader: type | None = type("_FastLoader", (_CBase,), {}) if _CBase is not None else None

_RESOLVERS = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _cls in (_Loader, _FastLoader):
    if _cls is not None:
        _cls.yaml_implicit_resolvers = _RESOLVERS  # type: ignore[attr-defined]


@dataclass
class LocatedDocument:
    """Parsed YAML plus the position (line, column; 1-based) of each value and each key."""

    file: str
    data: Any
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """Best known position of ``path``: the value (or key) itself, else its nearest parent."""
        table = self.keys if key else self.values
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.values.get((), (1, 1))

    def issue(self, path: Path_, message: str, *, key: bool = False) -> Issue:
        line, col = self.where(path, key=key)
        return Issue(self.file, line, col, nfc(message))


def _pos(mark: yaml.Mark | None) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map")
}
MAX_DEPTH = 64  # deeper nesting is certainly a mistake (and would exhaust Python's stack)
_VI = "@vi:"  # prefix of constructor problems we raise ourselves, already in Vietnamese


class _Stop(Exception):
    """Stop walking: an issue that makes the rest of the document meaningless."""


def _walk(
    node: yaml.Node,
    path: Path_,
    doc: LocatedDocument,
    issues: list[Issue],
    seen_nodes: set[int],
    depth: int = 0,
) -> None:
    line, col = _pos(node.start_mark)
    if id(node) in seen_nodes:
        # The composer shares one node for an anchor and all its aliases. Coordinators do not need
        # them, and they allow recursion and "billion laughs" expansion: refuse them.
        issues.append(
            Issue(
                doc.file,
                line,
                col,
                "không hỗ trợ tham chiếu YAML (anchor '&' / alias '*'); hãy viết đầy đủ giá trị",
            )
        )
        raise _Stop
    seen_nodes.add(id(node))
    if depth > MAX_DEPTH:
        issues.append(Issue(doc.file, line, col, f"cấu trúc lồng quá sâu (quá {MAX_DEPTH} cấp)"))
        raise _Stop
    doc.values[path] = (line, col)
    if node.tag not in _PLAIN_TAGS:
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        issues.append(
            Issue(
                doc.file,
                line,
                col,
                f"thẻ YAML {tag} không được phép: chỉ chấp nhận dữ liệu thuần (chuỗi, số, danh sách, bảng)",
            )
        )
        raise _Stop
    if isinstance(node, yaml.ScalarNode):
        if "\x00" in node.value:
            issues.append(
                Issue(doc.file, line, col, "giá trị chứa ký tự NUL (\\0) không được phép")
            )
        return
    if isinstance(node, yaml.MappingNode):
        keys: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                kl, kc = _pos(key_node.start_mark)
                issues.append(Issue(doc.file, kl, kc, "khóa phải là một chuỗi đơn giản"))
                continue
            key = key_node.value
            if key in keys:
                kl, kc = _pos(key_node.start_mark)
                issues.append(
                    Issue(
                        doc.file,
                        kl,
                        kc,
                        f"khóa '{key}' bị lặp lại; mỗi khóa chỉ được khai báo một lần",
                    )
                )
            keys[key] = key_node
            doc.keys[(*path, key)] = _pos(key_node.start_mark)
            _walk(value_node, (*path, key), doc, issues, seen_nodes, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), doc, issues, seen_nodes, depth + 1)


def read_yaml(path: Path, display: str | None = None) -> tuple[LocatedDocument | None, list[Issue]]:
    """Read one YAML file safely. Returns the located document, or None and the issues found."""
    name = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Issue(name, 0, 0, f"không đọc được tệp: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [
            Issue(name, line, col, "tệp không phải văn bản UTF-8; hãy lưu tệp với mã hóa UTF-8")
        ]
    return parse_yaml(text, name)


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def parse_yaml(text: str, name: str) -> tuple[LocatedDocument | None, list[Issue]]:
    """Parse YAML text (see :func:`read_yaml`)."""
    text = nfc(text)
    loader: Any = None
    issues: list[Issue] = []
    node: yaml.Node | None = None
    if _FastLoader is not None:
        loader = _FastLoader(text)
        try:
            node = loader.get_single_node()
        except (yaml.YAMLError, RecursionError, ValueError):
            loader.dispose()
            loader = None
    try:
        if loader is None:
            loader = _Loader(text)
            node = loader.get_single_node()
        if node is None:
            return None, [Issue(name, 1, 1, "tệp rỗng; cần một bảng YAML có khóa 'kind'")]
        doc = LocatedDocument(file=name, data=None)
        with contextlib.suppress(_Stop):
            _walk(node, (), doc, issues, set())
        if issues:
            return None, issues
        try:
            doc.data = loader.construct_document(node)
        except (ValueError, TypeError, AttributeError) as exc:  # a plain value PyYAML cannot build
            return None, [Issue(name, 1, 1, f"giá trị YAML không đọc được ({type(exc).__name__})")]
        return doc, []
    except yaml.reader.ReaderError as exc:
        line, col = _position(text, exc.position)
        return None, [
            Issue(name, line, col, f"ký tự không được phép trong tệp YAML (mã {exc.character!r})")
        ]
    except yaml.constructor.ConstructorError as exc:
        line, col = _pos(exc.problem_mark)
        if exc.problem and exc.problem.startswith(_VI):
            return None, [Issue(name, line, col, exc.problem[len(_VI) :])]
        tag = ""
        if exc.problem and "tag" in exc.problem:
            tag = exc.problem.split("tag", 1)[1].strip().strip("'")
        return None, [
            Issue(
                name,
                line,
                col,
                f"thẻ YAML {tag} không được phép: chỉ chấp nhận dữ liệu thuần (chuỗi, số, danh sách, bảng)",
            )
        ]
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or ""
        mark = exc.problem_mark or exc.context_mark
        if problem.startswith("found unexpected end of stream") and exc.context_mark is not None:
            mark = exc.context_mark  # point at the opening quote, not past the end of the file
        line, col = _pos(mark)
        return None, [
            Issue(name, line, col, f"YAML sai cú pháp: {_translate_yaml_problem(problem)}")
        ]
    except RecursionError:
        return None, [Issue(name, 1, 1, f"cấu trúc lồng quá sâu (quá {MAX_DEPTH} cấp)")]
    except yaml.YAMLError as exc:  # pragma: no cover - errors without marks
        return None, [Issue(name, 1, 1, f"YAML sai cú pháp: {exc}")]
    finally:
        if loader is not None:
            loader.dispose()


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    try:
        return yaml.SafeLoader.construct_yaml_int(loader, node)  # type: ignore[no-any-return]
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"{_VI}số quá lớn hoặc không hợp lệ; nếu là văn bản, hãy đặt trong dấu nháy",
            node.start_mark,
        ) from None


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
if _FastLoader is not None:
    _FastLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)  # type: ignore[attr-defined]


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
    if problem.startswith("expected"):
        return f"cấu trúc không hợp lệ ({problem})"
    return f"cấu trúc không hợp lệ ({problem})" if problem else "cấu trúc không hợp lệ"
