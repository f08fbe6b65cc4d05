"""Problems in the user's terms: pydantic's errors and our own checks, as Vietnamese messages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from difflib import get_close_matches
from typing import Any

from pydantic import BaseModel

from kttt_workflow.domain.directive import NON_BLANK_PATTERN, TEXT_PATTERN, NotADate
from kttt_workflow.errors import shown as show

KIND_HELP = (
    "cần 'kind: registry' (danh mục đơn vị), 'kind: directive' (văn bản chỉ đạo) "
    "hoặc 'kind: policy' (chính sách nhắc việc, đôn đốc)"
)
_DATE_ERRORS = (
    "date_from_datetime_parsing",
    "date_parsing",
    "date_type",
    "date_from_datetime_inexact",
)


def _field_list(model: type[BaseModel]) -> str:
    return ", ".join(model.model_fields)


def _model_at(root: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The pydantic model that owns the last element of ``loc`` (to list its valid fields)."""
    model: Any = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        f = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if f is None:
            return None
        ann = f.annotation
        inner = getattr(ann, "__args__", None)
        candidates = [ann, *(inner or ())]
        nxt = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if nxt is None:
            return None
        model = nxt
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def translate(err: dict[str, Any], root: type[BaseModel]) -> tuple[str, bool]:
    """Vietnamese message for one pydantic error, and whether it points at a key (not a value)."""
    kind = err["type"]
    loc = list(err["loc"])
    name = next((p for p in reversed(loc) if isinstance(p, str)), "")
    value = err.get("input")
    shown = show(value)
    ctx = err.get("ctx") or {}
    expected = ctx.get("expected", "")
    if kind == "missing":
        return f"thiếu trường bắt buộc '{name}'", False
    if kind == "extra_forbidden":
        model = _model_at(root, loc)
        valid = f"; các trường hợp lệ: {_field_list(model)}" if model else ""
        return f"trường {show(name)} không được hỗ trợ{valid}", True
    if name == "lead" and isinstance(value, list):
        return (
            "mỗi nhiệm vụ có đúng một cơ quan chủ trì (một mã đơn vị hoặc nhóm), "
            f"ở đây có {len(value)}; nếu nhiều cơ quan cùng chủ trì, hãy khai báo một nhóm",
            False,
        )
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == NON_BLANK_PATTERN:
        if isinstance(value, str) and "\x00" in value:
            return f"trường '{name}' chứa ký tự NUL (\\0), không được phép", False
        return f"trường '{name}' cần một chuỗi văn bản không rỗng", False
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == TEXT_PATTERN:
        return f"trường '{name}' chứa ký tự NUL (\\0), không được phép", False
    if kind == "bool_type":
        return _bool_message(name, value), False
    if kind == "int_type":
        return f"trường '{name}' cần một số nguyên (ví dụ -7 hoặc 3), không phải {shown}", False
    if kind == "string_pattern_mismatch":
        if name == "id" or (loc and loc[-1] == "id" and "tasks" in loc):
            return (
                f"số thứ tự nhiệm vụ {shown} không hợp lệ; cần dạng 'I.1', 'IV.3', 'TCTH.2'",
                False,
            )
        return (
            f"mã {shown} không hợp lệ; mã chỉ gồm chữ thường không dấu, chữ số và dấu '-', "
            "ví dụ 'tq-so-noi-vu'",
            False,
        )
    if kind in _DATE_ERRORS or isinstance(ctx.get("error"), NotADate):
        return (
            f"ngày {shown} không hợp lệ; cần ngày có thật, dạng YYYY-MM-DD (ví dụ 2013-10-01)",
            False,
        )
    if kind == "literal_error":
        if name == "kind":
            return f"loại tệp {shown} không hợp lệ; {KIND_HELP}", False
        return f"giá trị {shown} không hợp lệ; cần {expected}", False
    if kind == "enum":
        return f"giá trị {shown} không hợp lệ; cần một trong: {expected}", False
    return _SIMPLE.get(kind, "giá trị không hợp lệ cho '{name}' ({msg})").format(
        name=name, owner=name or "tệp", msg=err.get("msg", kind)
    ), False


# Messages that name only the field ("{name}"; "{owner}" is the field, or the file at the top).
_SIMPLE = {
    "string_type": "trường '{name}' cần một chuỗi văn bản không rỗng",
    "string_too_short": "trường '{name}' cần một chuỗi văn bản không rỗng",
    "list_type": "trường '{name}' cần một danh sách (mỗi phần tử một dòng bắt đầu bằng '- ')",
    "model_type": "'{owner}' cần một bảng khóa: giá trị",
    "dict_type": "'{owner}' cần một bảng khóa: giá trị",
    "model_attributes_type": "'{owner}' cần một bảng khóa: giá trị",
    "bool_parsing": "trường '{name}' cần true hoặc false",
    "too_short": "danh sách '{name}' không được rỗng",
    "string_too_long": "trường '{name}' quá dài",
}


# YAML 1.1 spellings of booleans. The reader follows YAML 1.2, as editors do, and reads them as
# text; where a boolean is expected, the message says what to write instead.
_YAML11_BOOLEANS = {
    "yes": "true",
    "on": "true",
    "y": "true",
    "no": "false",
    "off": "false",
    "n": "false",
}


def _bool_message(name: str, value: Any) -> str:
    base = f"trường '{name}' cần true hoặc false"
    if isinstance(value, str) and value.strip().lower() in _YAML11_BOOLEANS:
        return (
            f"{base}; {show(value)} là văn bản (YAML 1.2 chỉ hiểu true/false), "
            f"hãy viết {_YAML11_BOOLEANS[value.strip().lower()]}"
        )
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return f"{base}, không đặt trong dấu nháy (ở đây là văn bản {show(value)})"
    return f"{base}, không phải {show(value)}"


def symbol_message(symbol: str) -> str:
    return (
        f"số, ký hiệu văn bản {show(symbol)} không đúng thể thức; cần dạng văn bản nhà nước "
        "'67/KH-UBND', '09/2019/NĐ-CP' hoặc văn bản của Đảng '20-NQ/TW', '27-CTr/TU'"
    )


def unknown_unit_message(ref: str, known: Iterable[str]) -> str:
    close = get_close_matches(ref, list(known), n=3, cutoff=0.6)
    hint = f"; có phải: {', '.join(close)}?" if close else ""
    return f"không tìm thấy đơn vị hoặc nhóm {show(ref)} trong danh mục đơn vị{hint}"
