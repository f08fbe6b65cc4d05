"""loaded inputs: what an unchanged reload can skip

``loaded_input``: each input file loaded (by the SHA-256 of its bytes), its kind, the directive it
holds, how many tasks it fanned out to, and the key of what the fan-out depended on (registry and
policy versions, horizon, calendar, fan-out rules). ``kttt_meta``: the registry and policy
versions, bumped by every load that changes them. A reload whose every file is known under the
current key writes nothing and reads no registry.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loaded_input",
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("tasks", sa.Integer(), nullable=False),
        sa.Column("load_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("loaded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "kttt_meta",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("kttt_meta")
    op.drop_table("loaded_input")
