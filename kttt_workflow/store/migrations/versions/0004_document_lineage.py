"""document lineage: automatic completion reports, removed directives

A completion report recorded because an implementing directive was loaded names that directive
(``source_directive``), so removing it (or its ``implements`` reference) withdraws the report. A
directive removed with ``kttt remove`` keeps its row and history (``removed_on``); loading its
file again restores it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("completion", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source_directive", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
            )
        )
        batch_op.create_index("ix_completion_source_directive", ["source_directive"])
    with op.batch_alter_table("directive", schema=None) as batch_op:
        batch_op.add_column(sa.Column("removed_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("directive", schema=None) as batch_op:
        batch_op.drop_column("removed_on")
    with op.batch_alter_table("completion", schema=None) as batch_op:
        batch_op.drop_index("ix_completion_source_directive")
        batch_op.drop_column("source_directive")
