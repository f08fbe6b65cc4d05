"""JSON Schema of the YAML files, for editors (VS Code's YAML extension, IntelliJ…)."""

from __future__ import annotations

import json
from pathlib import Path

from kttt_workflow.domain.directive import DirectiveFile, RegistryFile


def export_schemas(directory: Path) -> list[Path]:
    """Write ``directive.schema.json`` and ``registry.schema.json`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in (("directive", DirectiveFile), ("registry", RegistryFile)):
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        path = directory / f"{name}.schema.json"
        path.write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written
