"""reassignment and follow-up notices

A task may be reassigned by a coordinator (``kttt reassign``): ``assigned_code`` answers for it
from ``assigned_on``, over the unit the directive named (``unit_code``, kept for history and
reloads). A notice may be about one completion report (to verify it, or to say it was returned):
``completion_id``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("assigned_code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(sa.Column("assigned_on", sa.Date(), nullable=True))
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("completion_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_column("completion_id")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("assigned_on")
        batch_op.drop_column("assigned_code")
