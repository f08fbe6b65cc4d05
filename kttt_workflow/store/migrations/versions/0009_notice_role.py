"""ledger: the ladder role that named each notice's recipient

``notice.role``: lead, lead_parent, coordinators, issuer, focal or a unit code named in the
policy. The sweep writes every role of a step in one ``INSERT … SELECT`` and counts its new
notices by role from this column (``RETURNING role`` on PostgreSQL). NULL for the follow-ups
(verify, returned, reassign) and for the notices recorded before this revision.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_column("role")
