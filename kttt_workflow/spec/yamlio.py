"""Safe YAML reading that remembers where every value came from.

Only plain data is constructed (``yaml.SafeLoader``): a tag such as ``!!python/object`` is an error,
never an object. Dates are left as strings for pydantic to check, so an impossible date
("2022-02-31") becomes a located error rather than a crash. Duplicate keys are errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kttt_workflow.spec.errors import Issue, nfc

Path_ = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver (dates stay strings, validated by pydantic)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


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


def _walk(node: yaml.Node, path: Path_, doc: LocatedDocument, issues: list[Issue]) -> None:
    doc.values[path] = _pos(node.start_mark)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            if key in seen:
                line, col = _pos(key_node.start_mark)
                issues.append(
                    Issue(
                        doc.file,
                        line,
                        col,
                        f"khóa '{key}' bị lặp lại; mỗi khóa chỉ được khai báo một lần",
                    )
                )
            seen[key] = key_node
            doc.keys[(*path, key)] = _pos(key_node.start_mark)
            _walk(value_node, (*path, key), doc, issues)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), doc, issues)


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
        return None, [
            Issue(name, line, 1, "tệp không phải văn bản UTF-8; hãy lưu tệp với mã hóa UTF-8")
        ]
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> tuple[LocatedDocument | None, list[Issue]]:
    """Parse YAML text (see :func:`read_yaml`)."""
    text = nfc(text)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, [Issue(name, 1, 1, "tệp rỗng; cần một bảng YAML có khóa 'kind'")]
        doc = LocatedDocument(file=name, data=None)
        issues: list[Issue] = []
        _walk(node, (), doc, issues)
        if issues:
            return None, issues
        doc.data = loader.construct_document(node)
        return doc, []
    except yaml.constructor.ConstructorError as exc:
        line, col = _pos(exc.problem_mark)
        tag = ""
        if exc.problem and "tag" in exc.problem:
            tag = exc.problem.split("tag", 1)[1].strip().strip("'")
        return None, [
            Issue(
                name,
                line,
                col,
                f"thẻ YAML {tag or ''} không được phép: chỉ chấp nhận dữ liệu thuần "
                "(chuỗi, số, danh sách, bảng)".replace("  ", " "),
            )
        ]
    except yaml.MarkedYAMLError as exc:
        line, col = _pos(exc.problem_mark or exc.context_mark)
        problem = _translate_yaml_problem(exc.problem or "")
        return None, [Issue(name, line, col, f"YAML sai cú pháp: {problem}")]
    except yaml.YAMLError as exc:  # pragma: no cover - reader errors without marks
        return None, [Issue(name, 1, 1, f"YAML sai cú pháp: {exc}")]
    finally:
        loader.dispose()


_PROBLEMS = {
    "mapping values are not allowed here": "không được đặt dấu ':' ở đây (thiếu dấu nháy quanh chuỗi?)",
    "could not find expected ':'": "thiếu dấu ':' sau khóa",
    "found character '\\t' that cannot start any token": "không dùng ký tự tab để thụt lề; hãy dùng dấu cách",
    "expected <block end>, but found '<block sequence start>'": "thụt lề không thẳng hàng",
    "found unexpected end of stream": "tệp kết thúc bất ngờ (thiếu dấu nháy đóng?)",
    "found undefined alias": "tham chiếu (alias) chưa được định nghĩa",
}


def _translate_yaml_problem(problem: str) -> str:
    for en, vi in _PROBLEMS.items():
        if problem.startswith(en):
            return vi
    if problem.startswith("expected"):
        return f"cấu trúc không hợp lệ ({problem})"
    return f"cấu trúc không hợp lệ ({problem})" if problem else "cấu trúc không hợp lệ"
