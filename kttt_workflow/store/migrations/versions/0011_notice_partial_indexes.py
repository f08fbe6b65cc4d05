"""notices: the two delivery indexes hold only the rows they serve

``ix_notice_undelivered`` becomes ``notice (recipient, id) WHERE delivery_id IS NULL``: the notices
waiting for a digest, in the order the digests read them (``pending_lines``: ``WHERE delivery_id
IS NULL ORDER BY recipient, id``); a notice leaves it when a digest claims it, so it stays the size
of one day's work, not of the whole ledger. ``ix_notice_delivery_id`` becomes ``notice
(delivery_id) WHERE delivery_id IS NOT NULL``: the notices of a digest (no query of the engine
reads them by digest today; an audit would), without an entry for each notice not yet sent.

A new notice (the sweep's ``INSERT … SELECT``) now writes three index entries instead of four,
and its claim by a digest three instead of four: on PostgreSQL, 1.7 M notices inserted in
15.8–18.3 s instead of 20.8–25.8 s (bench/README.md, "Notice indexes").

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
        ["recipient", "id"],
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
