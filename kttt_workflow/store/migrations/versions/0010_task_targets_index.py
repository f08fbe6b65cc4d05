"""tasks: a partial index of the tasks that have quantitative targets

``ix_task_targets`` on ``task (directive_code) WHERE targets IS NOT NULL``: the report's targets
table reads those few tasks without a scan of every task (0.14–0.2 s of the national report's
1.5 M tasks, bench/bench_national.py); it holds no entry for a task without targets, so a load
writes no more index entries than before.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_task_targets",
        "task",
        ["directive_code"],
        postgresql_where=sa.text("targets IS NOT NULL"),
        sqlite_where=sa.text("targets IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_task_targets", table_name="task")
