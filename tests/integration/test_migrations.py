"""The migrations build exactly the schema the models declare (columns, types, nullability,
indexes), on SQLite and PostgreSQL: a model changed without its migration fails here."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String
from sqlmodel import SQLModel

from kttt_workflow.service import Tracker
from kttt_workflow.store import tables  # noqa: F401  (registers the models' tables)


def _diff(store: Tracker, metadata: MetaData = SQLModel.metadata) -> list[Any]:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": _ours})
        return [d for d in compare_metadata(ctx, metadata) if not _ignorable(d)]


def _ours(name: str | None, type_: str, parent: Any) -> bool:
    # Alembic's own version table is not a model.
    return not (type_ == "table" and name == "alembic_version")


def _ignorable(d: Any) -> bool:
    # A type that only differs in how the back-end reports it (VARCHAR vs AutoString) is listed by
    # compare_type as a modify_type whose two sides render the same DDL.
    if isinstance(d, list) and d and d[0][0] == "modify_type":
        _, _, _, _, _, existing, new = d[0]
        return str(existing) == str(new)
    return False


def test_the_migrated_schema_is_the_models_schema(store: Tracker) -> None:
    assert _diff(store) == []


def test_the_check_sees_a_column_without_its_migration(store: Tracker) -> None:
    changed = MetaData()
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["completion"].append_column(Column("signer", String(64), nullable=True))
    diff = _diff(store, changed)
    assert [(d[0], d[2], d[3].name) for d in diff] == [("add_column", "completion", "signer")]
