"""notices: the two delivery indexes hold only the rows they serve

``ix_notice_undelivered`` becomes ``notice (recipient) WHERE delivery_id IS NULL``: the notices
waiting for a digest, by recipient (``pending_lines``); a notice leaves it when a digest claims it,
so it stays the size of the work not yet sent, not of the whole ledger. ``ix_notice_delivery_id``
becomes ``notice (delivery_id) WHERE delivery_id IS NOT NULL``: the notices of a digest (no query
of the engine reads them by digest today; an audit would), without an entry for each notice not
yet claimed.

A new notice (the sweep's ``INSERT … SELECT``) now writes three index entries instead of four.
On PostgreSQL, 1,700,000 notices inserted with ``ON CONFLICT DO NOTHING`` into a copy of the
ledger (``bench/notice_indexes.sql``, twice each): 22.0–24.0 s against 27.9–29.1 s with the
indexes before (−18 %); with ``(recipient, id)`` instead of ``(recipient)`` 25.1–27.1 s (its keys
are all distinct, so PostgreSQL cannot deduplicate them: 74 MB against 17 MB).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_notice_undelivered", table_name="notice")
    op.drop_index("ix_notice_delivery_id", table_name="notice")
    op.create_index(
        "ix_notice_undelivered",
        "notice",
        ["recipient"],
        postgresql_where=sa.text("delivery_id IS NULL"),
        sqlite_where=sa.text("delivery_id IS NULL"),
    )
    op.create_index(
        "ix_notice_delivery_id",
        "notice",
        ["delivery_id"],
        postgresql_where=sa.text("delivery_id IS NOT NULL"),
        sqlite_where=sa.text("delivery_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_notice_delivery_id", table_name="notice")
    op.drop_index("ix_notice_undelivered", table_name="notice")
    op.create_index("ix_notice_undelivered", "notice", ["recipient", "delivery_id"])
    op.create_index("ix_notice_delivery_id", "notice", ["delivery_id"])
