"""The committed JSON Schemas (``docs/schema/``) are what the code generates, and every file the
project ships validates against them.

The schema and the loader agreeing on the data itself is ``tests/unit/test_schema_contract.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from kttt_workflow.cli import app
from kttt_workflow.inputs.reader import read_yaml
from kttt_workflow.inputs.schema import SCHEMAS, export_schemas
from tests.helpers import DIRECTIVES, FIX, ROOT

COMMITTED = ROOT / "docs" / "schema"
SHIPPED = sorted(
    [
        *DIRECTIVES.rglob("*.yaml"),
        ROOT / "kttt_workflow" / "data" / "default_policy.yaml",
        *FIX.glob("*.yaml"),
    ]
)
STALE = "docs/schema/ is out of date with the models: run `kttt schema` and commit the result"


def _texts(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.json"))}


def test_the_committed_schemas_are_what_export_schemas_writes(tmp_path: Path) -> None:
    written = export_schemas(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{k}.schema.json" for k in SCHEMAS)
    fresh, committed = _texts(tmp_path), _texts(COMMITTED)
    assert sorted(committed) == sorted(fresh), f"{STALE} (files differ: {sorted(committed)})"
    for name, text in fresh.items():
        assert committed[name] == text, f"{STALE} ({name} differs)"


def test_kttt_schema_rewrites_the_committed_files_exactly(tmp_path: Path) -> None:
    out = tmp_path / "schema"
    result = CliRunner().invoke(app, ["schema", str(out)])
    assert result.exit_code == 0, result.output
    for kind in SCHEMAS:
        assert f"Đã ghi {out / f'{kind}.schema.json'}" in result.output
    assert _texts(out) == _texts(COMMITTED), STALE


def _schema(kind: str) -> Draft202012Validator:
    schema = json.loads((COMMITTED / f"{kind}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_file_validates_against_the_committed_schema(path: Path) -> None:
    """As an editor would check it: the data the loader reads (dates are text), against the
    schema of its ``kind``, formats included."""
    doc, issues = read_yaml(path)
    assert doc is not None, issues
    data: dict[str, Any] = doc.data
    errors = [
        f"{'/'.join(map(str, e.path))}: {e.message[:200]}"
        for e in _schema(str(data["kind"])).iter_errors(data)
    ]
    assert errors == [], f"{path} fails docs/schema/{data['kind']}.schema.json"


def test_the_shipped_files_cover_every_kind() -> None:
    kinds = set()
    for path in SHIPPED:
        doc, _ = read_yaml(path)
        assert doc is not None
        kinds.add(doc.data["kind"])
    assert kinds == set(SCHEMAS)


def test_the_schema_of_a_shipped_directive_rejects_what_the_loader_rejects() -> None:
    """Control: the validator used above is not blind (a shipped directive with a blank title and
    an unknown field fails it)."""
    doc, _ = read_yaml(DIRECTIVES / "kl-70-2020.yaml")
    assert doc is not None
    data = doc.data
    data["tasks"][0]["title"] = "  "
    data["tasks"][0]["owner"] = "x"
    messages = [e.message for e in _schema("directive").iter_errors(data)]
    assert any("does not match" in m for m in messages), messages
    assert any("'owner' was unexpected" in m for m in messages), messages
