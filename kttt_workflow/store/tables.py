"""Stored tables (sqlmodel). Input models live in ``kttt_workflow.domain.directive``.

The schema is created and upgraded by Alembic (``kttt_workflow/store/migrations``); these classes are
the source the migrations were generated from.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Table, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class Level(SQLModel, table=True):
    __tablename__ = "level"
    code: str = Field(primary_key=True, max_length=64)
    name: str
    position: int = 0


class Unit(SQLModel, table=True):
    __tablename__ = "unit"
    code: str = Field(primary_key=True, max_length=64)
    name: str
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    level: str = Field(max_length=64)
    parent_code: str | None = Field(default=None, max_length=64, index=True)
    targets: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    valid_from: date | None = None
    valid_to: date | None = None
    successor_code: str | None = Field(default=None, max_length=64)
    note: str | None = None
    # The unit's contact as a monitoring body ({name, phone, email}), shown in digests' sign-off.
    contact: dict[str, str] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )


class UnitGroup(SQLModel, table=True):
    __tablename__ = "unit_group"
    code: str = Field(primary_key=True, max_length=64)
    name: str
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    note: str | None = None


class GroupMember(SQLModel, table=True):
    __tablename__ = "group_member"
    group_code: str = Field(primary_key=True, max_length=64)
    member_code: str = Field(primary_key=True, max_length=64)
    position: int = 0


class Directive(SQLModel, table=True):
    __tablename__ = "directive"
    code: str = Field(primary_key=True, max_length=64)
    doc_type: str = Field(max_length=32)
    symbol: str | None = Field(default=None, max_length=64)
    issued_on: date | None = None
    issuer: str
    title: str
    implements: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    focal_unit: str | None = Field(default=None, max_length=64)
    issuer_code: str | None = Field(default=None, max_length=64)  # the issuer as a unit, if known
    roll_to_working_day: bool = True
    source_path: str
    content_sha256: str = Field(max_length=64)
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    loaded_at: datetime
    updated_at: datetime
    removed_on: date | None = None  # ``kttt remove``; loading the file again restores it


class Task(SQLModel, table=True):
    """One task of one unit (and one period when recurring)."""

    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_directive_key", "directive_code", "task_key"),
        Index("ix_task_due", "state", "due_on"),
        # The few tasks with quantitative targets (the report's targets table), without a scan.
        Index(
            "ix_task_targets",
            "directive_code",
            postgresql_where=text("targets IS NOT NULL"),
            sqlite_where=text("targets IS NOT NULL"),
        ),
    )
    id: str = Field(primary_key=True, max_length=255)
    directive_code: str = Field(max_length=64)
    task_key: str = Field(max_length=32)
    parent_key: str | None = Field(default=None, max_length=32)
    parent_task_id: str | None = Field(default=None, max_length=255, index=True)
    unit_code: str = Field(max_length=64, index=True)  # the unit the directive named
    # A coordinator's reassignment (``kttt reassign``): this unit answers from ``assigned_on``.
    assigned_code: str | None = Field(default=None, max_length=64)
    assigned_on: date | None = None
    period: str | None = Field(default=None, max_length=16)
    starts_on: date | None = None  # first day of a recurring instance's period
    title: str
    deliverable: str | None = None
    coordinating: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    coordinating_other: str | None = None
    issuing_authority: str | None = None
    deadline_text: str | None = None
    deadline_kind: str = Field(max_length=16)
    nominal_due_on: date | None = None
    due_on: date | None = None
    key_task: bool = False
    policy_code: str | None = Field(default=None, max_length=160)  # escalation ladder; None: none
    activation: str = Field(max_length=16)
    # Quantitative targets of this unit (None: none): [{indicator, measure, value, whole, split}].
    targets: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    activated_on: date | None = None
    state: str = Field(default="open", max_length=16)  # open | reported | done | removed
    completed_on: date | None = None
    fingerprint: str = Field(max_length=32)
    created_at: datetime
    updated_at: datetime
    # The earliest day the sweep may have something new for this task (store/next_step.py):
    # NULL: examine on the next sweep.
    next_step_on: date | None = Field(default=None, index=True)


class Completion(SQLModel, table=True):
    """A unit's completion report with its evidence, and the coordinator's decision on it."""

    __tablename__ = "completion"
    id: int | None = Field(default=None, primary_key=True)
    task_id: str = Field(max_length=255, index=True)
    reported_on: date
    evidence: str
    evidence_symbol: str | None = Field(default=None, max_length=64)
    evidence_date: date | None = None
    note: str | None = None
    attachment: str | None = None
    state: str = Field(default="reported", max_length=16)  # reported | verified | returned
    reason: str | None = None
    decided_on: date | None = None
    recorded_at: datetime
    # The values the unit reports against its targets: {indicator: value}.
    actuals: dict[str, float] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    # The implementing directive whose loading recorded this report (document lineage), if any.
    source_directive: str | None = Field(default=None, max_length=64, index=True)


class TaskEvent(SQLModel, table=True):
    """Append-only audit history of every change to a task."""

    __tablename__ = "task_event"
    id: int | None = Field(default=None, primary_key=True)
    task_id: str = Field(max_length=255, index=True)
    at: datetime
    event: str = Field(max_length=32)
    load_id: int | None = None
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class LoadRecord(SQLModel, table=True):
    """One load of one directive file that changed something."""

    __tablename__ = "load_record"
    __table_args__ = (UniqueConstraint("directive_code", "content_sha256", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    directive_code: str = Field(max_length=64, index=True)
    source_path: str
    content_sha256: str = Field(max_length=64)
    at: datetime
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Policy(SQLModel, table=True):
    """An escalation ladder: named (``kind: policy`` files, the default) or inline ("@directive")."""

    __tablename__ = "policy"
    code: str = Field(primary_key=True, max_length=160)
    name: str | None = None
    steps: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    updated_at: datetime


class Sweep(SQLModel, table=True):
    """One run of the daily sweep (decide → record → deliver)."""

    __tablename__ = "sweep"
    id: int | None = Field(default=None, primary_key=True)
    as_of: date
    started_at: datetime
    finished_at: datetime | None = None
    notices: int = 0
    deliveries: int = 0


class Notice(SQLModel, table=True):
    """The ledger: one notice per (task, step, recipient unit), inserted at most once, ever."""

    __tablename__ = "notice"
    __table_args__ = (
        UniqueConstraint("task_id", "step_code", "recipient", name="uq_notice_task_step_recipient"),
        # The notices waiting for a digest, by recipient; a claimed notice leaves it (migration
        # 0011). Not (recipient, id): one key per recipient keeps PostgreSQL's deduplication of
        # equal keys (17 MB instead of 74 MB at 1.7 M notices).
        Index(
            "ix_notice_undelivered",
            "recipient",
            postgresql_where=text("delivery_id IS NULL"),
            sqlite_where=text("delivery_id IS NULL"),
        ),
        # The notices of a digest; none for a notice not yet claimed.
        Index(
            "ix_notice_delivery_id",
            "delivery_id",
            postgresql_where=text("delivery_id IS NOT NULL"),
            sqlite_where=text("delivery_id IS NOT NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    task_id: str = Field(max_length=255)
    policy_code: str = Field(max_length=160)
    step_code: str = Field(max_length=64)
    recipient: str = Field(max_length=64)
    is_cc: bool = False  # cc ("để biết") rather than to
    severity: str = Field(max_length=16)
    fire_on: date
    due_on: date
    sweep_id: int | None = None
    created_at: datetime
    delivery_id: str | None = Field(default=None, max_length=64)
    completion_id: int | None = None  # the report a follow-up notice is about (verify, returned)
    # The ladder role that named the recipient (lead, lead_parent, coordinators, issuer, focal, a
    # unit code): the sweep counts its new notices by role from it. NULL for the follow-ups
    # (verify, returned, reassign) and for notices recorded before migration 0009.
    role: str | None = Field(default=None, max_length=64)


class Delivery(SQLModel, table=True):
    """One digest to one unit: the outbox row that sending reads and updates."""

    __tablename__ = "delivery"
    id: str = Field(primary_key=True, max_length=64)  # also sent to receivers for deduplication
    recipient: str = Field(max_length=64, index=True)
    sweep_id: int | None = None
    as_of: date
    subject: str
    body_text: str
    body_markdown: str
    body_html: str | None = None  # the e-mail's HTML alternative (None: digests made before 0006)
    notices: int = 0
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    claimed_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime
    sent_at: datetime | None = None


class DeliveryAttempt(SQLModel, table=True):
    """Each attempt to each target: masked target, status, error, time."""

    __tablename__ = "delivery_attempt"
    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(max_length=64, index=True)
    attempt: int
    target: str  # masked: never a secret
    target_key: str | None = Field(default=None, max_length=32)  # hash of the full URL, for dedup
    status: str = Field(max_length=16)
    error: str | None = None
    at: datetime


class LoadedInput(SQLModel, table=True):
    """An input file loaded, by the SHA-256 of its bytes, with the key of what its fan-out
    depended on: a reload of files all known under the current key skips everything."""

    __tablename__ = "loaded_input"
    sha256: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=16)  # registry | policy | directive
    code: str | None = Field(default=None, max_length=64)  # the directive it holds
    tasks: int = 0
    load_key: str = Field(max_length=64)
    loaded_at: datetime


class Meta(SQLModel, table=True):
    """Counters of the store: ``registry_version``, ``policy_version``."""

    __tablename__ = "kttt_meta"
    key: str = Field(primary_key=True, max_length=32)
    value: int = 0


def _table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined, no-any-return]


# Core tables, for set-based SQL.
level_t = _table(Level)
unit_t = _table(Unit)
group_t = _table(UnitGroup)
member_t = _table(GroupMember)
directive_t = _table(Directive)
task_t = _table(Task)
completion_t = _table(Completion)
event_t = _table(TaskEvent)
load_t = _table(LoadRecord)
policy_t = _table(Policy)
sweep_t = _table(Sweep)
notice_t = _table(Notice)
delivery_t = _table(Delivery)
attempt_t = _table(DeliveryAttempt)
loaded_input_t = _table(LoadedInput)
meta_t = _table(Meta)
