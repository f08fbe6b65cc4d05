"""next step: the day a task's next notice may come, so that a sweep reads only those tasks

``task.next_step_on`` (indexed): the earliest day the sweep may have something new for the task
(``kttt_workflow/store/next_step.py``); NULL means "examine on the next sweep", which is what the
existing rows get: the first sweep after the upgrade examines every task and sets it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_step_on", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_task_next_step_on"), ["next_step_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_next_step_on"))
        batch_op.drop_column("next_step_on")
