"""JSON Schema of the YAML files, for editors (VS Code's YAML extension, IntelliJ…).

``kttt schema`` writes them into ``docs/schema/``; a test regenerates them and compares them with
the committed files, checks every shipped file against them and checks, property by property, that
the schema and the loader accept the same data (``tests/unit/test_schema_contract.py``).

A JSON Schema describes data, not YAML syntax: what the reader refuses before there is any data
(anchors and aliases, merge keys, tags, duplicate keys, a second document, deep nesting, a file
over the size limit) is said in each schema's description instead. The meaning checks of
``kttt validate`` (units that exist, deadlines, document symbols, cycles) are not in the schema
either.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from kttt_workflow.domain.directive import DirectiveFile, PolicyFile, RegistryFile
from kttt_workflow.inputs.reader import LIMIT_VARIABLE, MAX_BYTES, MAX_DEPTH, MB

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMAS: dict[str, tuple[type[BaseModel], str]] = {
    "registry": (RegistryFile, "Danh mục đơn vị (kind: registry): các cấp, đơn vị và nhóm đơn vị."),
    "directive": (
        DirectiveFile,
        "Văn bản chỉ đạo (kind: directive): văn bản ban hành và các nhiệm vụ giao cho đơn vị.",
    ),
    "policy": (
        PolicyFile,
        "Chính sách nhắc việc, đôn đốc (kind: policy): các bước trước và sau hạn.",
    ),
}
# Shown by editors on hover over the file: what the schema cannot say.
YAML_NOTE = (
    "Tệp được đọc theo YAML 1.2: true/false là giá trị đúng/sai, còn yes, no, on, off, = là văn "
    "bản; ngày viết dạng YYYY-MM-DD. Ngoài lược đồ này, trình đọc còn từ chối: neo và tham chiếu "
    "(&, *), khóa gộp (<<:), thẻ YAML (!!…), khóa lặp lại, nhiều tài liệu trong một tệp, cấu trúc "
    f"lồng quá {MAX_DEPTH} cấp, tệp lớn hơn {MAX_BYTES // MB} MB (biến môi trường "
    f"{LIMIT_VARIABLE}). Đơn vị, thời hạn, số ký hiệu được kiểm tra khi chạy kttt validate."
)


def schema_of(kind: str) -> dict[str, object]:
    """The JSON Schema of a file of ``kind`` (registry, directive, policy)."""
    model, title = SCHEMAS[kind]
    schema = model.model_json_schema()
    return {"$schema": DIALECT, **schema, "description": f"{title} {YAML_NOTE}"}


def export_schemas(directory: Path) -> list[Path]:
    """Write ``<kind>.schema.json`` for each kind of file into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in SCHEMAS:
        path = directory / f"{kind}.schema.json"
        text = json.dumps(schema_of(kind), ensure_ascii=False, indent=2) + "\n"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
