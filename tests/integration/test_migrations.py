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


def _predicates(store: Tracker, table: str) -> dict[str, tuple[list[str], str | None]]:
    """Each index of ``table`` in the migrated store: its columns and its WHERE as stored, without
    the parentheses PostgreSQL puts around it."""
    from sqlalchemy import inspect

    out: dict[str, tuple[list[str], str | None]] = {}
    for ix in inspect(store.engine).get_indexes(table):
        options = ix.get("dialect_options", {})
        where = options.get("postgresql_where", options.get("sqlite_where"))
        bare = None if where is None else str(where).replace("(", "").replace(")", "")
        out[str(ix["name"])] = (list(ix["column_names"]), bare)
    return out


def test_the_notice_delivery_indexes_hold_only_the_rows_they_serve(store: Tracker) -> None:
    # Migration 0011: a notice waiting for its digest is in ix_notice_undelivered only, a claimed
    # one in ix_notice_delivery_id only (the compare above does not compare WHERE clauses).
    found = _predicates(store, "notice")
    assert found["ix_notice_undelivered"] == (["recipient"], "delivery_id IS NULL")
    assert found["ix_notice_delivery_id"] == (["delivery_id"], "delivery_id IS NOT NULL")
