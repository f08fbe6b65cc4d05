"""digests: the monitoring body's contact, the e-mail's HTML alternative

``unit.contact``: the unit's contact as a monitoring body ({name, phone, email}), None when the
registry declares none. ``delivery.body_html``: the HTML part sent beside the plain text (None for
digests made before this revision: they are sent as plain text).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"  # after 0006 (loaded inputs) and 0007 (next step), which landed first
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact", sa.JSON(), nullable=True))
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("body_html", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("body_html")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_column("contact")
