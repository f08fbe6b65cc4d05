"""quantitative targets: a task's targets, a report's actual values

``task.targets``: the unit's share of the task's targets (indicator, measure, value, the whole and
whether it is split), None when the task has none. ``completion.actuals``: the values a unit
reports against them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 14:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("targets", sa.JSON(), nullable=True))
    with op.batch_alter_table("completion", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actuals", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("completion", schema=None) as batch_op:
        batch_op.drop_column("actuals")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("targets")
