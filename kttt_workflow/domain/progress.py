"""The consolidated progress report: across documents, per directive, per unit and per level, as
of a date or for a reporting period, the way the Government Office reports. Pure.

The store counts the tasks of every (directive, unit, status, due-by, key task, overdue age, …)
in one ``GROUP BY`` (:mod:`kttt_workflow.store.progress`); :func:`assemble` builds the report from
those aggregate rows, never from task rows. The appendix ("Phụ lục") has one row per task of the
plan (:class:`PlanRow`, counted by a second ``GROUP BY``), in the plan's order and groups.

Counts and percentages (also in ``docs/reports.md``), as of ``as_of``:

* **total** (*Tổng số nhiệm vụ được giao*): tasks not removed whose period has begun (recurring
  instances of later periods are not counted yet), whatever their status;
* **done** (*Đã hoàn thành*): ``done_on_time + done_late`` (a verified report dated on or before
  ``as_of``); a task without a deadline that was done is "đã hoàn thành" (counted with
  ``done_on_time``: it cannot be late), and said apart in the text;
* **due** (*Đến hạn*, the first denominator): tasks whose computed due date is on or before
  ``as_of`` and that are in one of ``done_on_time``, ``done_late``, ``overdue``, ``on_track`` (due
  today). Tasks waiting for their parent task, with no single deadline ("Thường xuyên"), with no
  deadline yet, reported and awaiting verification, or of a unit that ceased with no successor
  are never "due" and never overdue: they are counted apart;
* every percentage names its denominator, and both customary ones are given:
  ``done_pct`` = done among due / due ("x% số nhiệm vụ đến hạn"), ``completion_pct`` = done /
  total ("y% tổng số nhiệm vụ được giao"); likewise ``overdue_pct`` and ``overdue_total_pct``.
  A percentage with a zero denominator is ``None`` (shown as "—");
* overdue tasks by age: up to 30 days, 31–90, 91–120, more than 120 (:data:`AGE_BUCKETS`);
* key tasks (*nhiệm vụ trọng tâm*) are counted apart in the same categories;
* for a reporting period (:mod:`kttt_workflow.domain.periods`) the report is as of the end of its
  data cut-off, and also counts the tasks due within the cut-off window and the tasks done in it.

>>> from kttt_workflow.service import Tracker                 # doctest: +SKIP
>>> r = Tracker.open().progress(as_of=date(2022, 12, 5), directive="ctr-nq20-2022")  # doctest: +SKIP
>>> print(r.to_markdown())                                    # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kttt_workflow.domain.periods import Period, Regime
from kttt_workflow.domain.status import DUE_STATUSES, LABELS, ORDER, SHORT, Status, TaskStatus
from kttt_workflow.domain.targets import TargetReport, fmt_number, fmt_percent

OVERDUE_LIMIT = 500  # overdue tasks listed per report (the counts are always complete)
SHEET_LIMIT = 200_000  # task rows of a spreadsheet's appendix (Excel holds 1,048,576 rows)
BODY_UNITS = 15  # units shown in the body's table (most behind first); all in the appendix
OTHER_LEVEL = "khac"
TOTAL = "Cộng"

# Overdue age, in days past due, as the Government Office reports it.
AGE_BUCKETS: tuple[tuple[int, int | None, str], ...] = (
    (1, 30, "Đến 30 ngày"),
    (31, 90, "Từ 31 đến 90 ngày"),
    (91, 120, "Từ 91 đến 120 ngày"),
    (121, None, "Trên 120 ngày"),
)

# Counted apart, never as overdue (and never "due"), in this order.
APART: tuple[Status, ...] = (
    Status.awaiting_verification,
    Status.ongoing,
    Status.awaiting_deadline,
    Status.pending,
    Status.unit_dissolved,
)
DONE = (Status.done_on_time.value, Status.done_late.value)
# Plain strings for the loops that add up a national report's ~100,000 count rows: an enum
# member's ``.value`` is a descriptor call, and a dict comprehension over the enum per row cost
# a second in all (``bench/bench_national.py``).
_DONE_SET = frozenset(DONE)
_ON_TIME = Status.done_on_time.value
_OVERDUE = Status.overdue.value


def age_bucket(days_overdue: int) -> int | None:
    """The index in :data:`AGE_BUCKETS` of an overdue task's age (None when not overdue).

    The SQL mirror is ``kttt_workflow.store.progress._days_bucket``.

    >>> age_bucket(30), age_bucket(31), age_bucket(120), age_bucket(121), age_bucket(0)
    (0, 1, 2, 3, None)
    """
    for i, (low, high, _) in enumerate(AGE_BUCKETS):
        if days_overdue >= low and (high is None or days_overdue <= high):
            return i
    return None


def fmt_pct(value: float | None) -> str:
    """A percentage the way a Vietnamese report writes it: ``66,7%`` (``—`` when undefined)."""
    if value is None:
        return "—"
    return f"{value:.1f}".replace(".", ",") + "%"


def fmt_int(n: int) -> str:
    """A count with Vietnamese digit grouping: ``12.345``."""
    return f"{n:,}".replace(",", ".")


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def done_pcts(due: Iterable[tuple[str, str, int]]) -> dict[str, float | None]:
    """% done of the tasks due, by directive and for all of them (``""``), from (directive,
    status, how many) of the tasks due by a date: a chart's point, the same figure as
    :attr:`ProgressRow.done_pct` of a report as of that date."""
    counted: dict[str, list[int]] = {"": [0, 0]}  # [done, due]
    for code, status, n in due:
        if status not in DUE_STATUSES:
            continue
        done = n if status in _DONE_SET else 0
        for c in (code, ""):
            pair = counted.setdefault(c, [0, 0])
            pair[0] += done
            pair[1] += n
    return {c: _pct(done, n) for c, (done, n) in counted.items()}


DUE_OF = "số nhiệm vụ đến hạn"
TOTAL_OF = "tổng số nhiệm vụ được giao"


def share(part: int, whole: int, of: str) -> str:
    """A percentage naming its denominator: "66,7% số nhiệm vụ đến hạn (10/15)".

    >>> share(0, 0, DUE_OF)
    '— (chưa có nhiệm vụ đến hạn)'
    """
    if not whole:
        return f"— (chưa có {of.removeprefix('số ').removeprefix('tổng số ')})"
    return f"{fmt_pct(_pct(part, whole))} {of} ({fmt_int(part)}/{fmt_int(whole)})"


# --------------------------------------------------------------------------------------------------
# Aggregate rows
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CountRow:
    """One aggregate row of the store: how many tasks share these values."""

    directive: str
    unit: str
    status: str
    due_by: bool  # the computed due date is on or before the report date
    key_task: bool
    count: int
    age: int | None = None  # overdue tasks: the index of their age in AGE_BUCKETS
    undated: bool = False  # the task has no due date
    due_in: bool = False  # due within the period's cut-off window
    done_in: bool = False  # done (report date) within the period's cut-off window


_ZERO: dict[str, int] = {s.value: 0 for s in ORDER}


def _zero() -> dict[str, int]:
    return _ZERO.copy()


@dataclass
class ProgressRow:
    """Counts for one scope: all documents, a directive, a unit within a directive (or across
    documents), or a level within one."""

    scope: str  # "total" | "directive" | "unit" | "level"
    directive: str
    code: str  # directive code, unit code or level code
    name: str
    level: str | None = None  # the unit's level code (unit rows)
    level_name: str | None = None
    position: int = 0  # level order (level rows)
    counts: dict[str, int] = field(default_factory=_zero)
    due: int = 0
    done_due: int = 0
    done_on_time_due: int = 0
    key_counts: dict[str, int] = field(default_factory=_zero)
    key_due: int = 0
    key_done_due: int = 0
    ages: list[int] = field(default_factory=lambda: [0] * len(AGE_BUCKETS))
    done_undated: int = 0  # done tasks without a deadline ("đã hoàn thành")
    period_due: int = 0  # due within the cut-off window
    period_done_due: int = 0  # … and done by the report date
    period_on_time_due: int = 0  # … on time
    period_overdue: int = 0  # … and overdue
    period_done: int = 0  # done within the cut-off window, whatever their due date

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return self.counts[Status.done_on_time.value] + self.counts[Status.done_late.value]

    @property
    def overdue(self) -> int:
        return self.counts[Status.overdue.value]

    @property
    def apart(self) -> int:
        """Tasks counted apart (never due, never overdue): see :data:`APART`."""
        return sum(self.counts[s.value] for s in APART)

    @property
    def key_total(self) -> int:
        return sum(self.key_counts.values())

    @property
    def key_done(self) -> int:
        return sum(self.key_counts[s] for s in DONE)

    @property
    def key_overdue(self) -> int:
        return self.key_counts[Status.overdue.value]

    @property
    def done_pct(self) -> float | None:
        return _pct(self.done_due, self.due)

    @property
    def on_time_pct(self) -> float | None:
        return _pct(self.done_on_time_due, self.due)

    @property
    def overdue_pct(self) -> float | None:
        return _pct(self.overdue, self.due)

    @property
    def completion_pct(self) -> float | None:
        return _pct(self.done, self.total)

    @property
    def overdue_total_pct(self) -> float | None:
        return _pct(self.overdue, self.total)

    def add(self, c: CountRow) -> None:
        n, status = c.count, c.status
        self.counts[status] = self.counts.get(status, 0) + n
        done = status in _DONE_SET
        due = c.due_by and status in DUE_STATUSES
        if due:
            self.due += n
            if done:
                self.done_due += n
                if status == _ON_TIME:
                    self.done_on_time_due += n
        if c.key_task:
            self.key_counts[status] = self.key_counts.get(status, 0) + n
            if due:
                self.key_due += n
                if done:
                    self.key_done_due += n
        if status == _OVERDUE and c.age is not None:
            self.ages[c.age] += n
        if c.undated and done:
            self.done_undated += n
        if c.due_in and status in DUE_STATUSES:
            self.period_due += n
            self.period_done_due += n if done else 0
            self.period_on_time_due += n if status == _ON_TIME else 0
            self.period_overdue += n if status == _OVERDUE else 0
        if c.done_in and done:
            self.period_done += n

    def merge(self, other: ProgressRow) -> None:
        """Add ``other``'s counts to this row's."""
        for s, n in other.counts.items():
            self.counts[s] = self.counts.get(s, 0) + n
        for s, n in other.key_counts.items():
            self.key_counts[s] = self.key_counts.get(s, 0) + n
        for i, n in enumerate(other.ages):
            self.ages[i] += n
        for name in _SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def behind(self) -> tuple[Any, ...]:
        """Sort key, the units most behind first: most overdue tasks, highest share of overdue
        among due, most overdue key tasks, most tasks not done; then by name."""
        return (-self.overdue, -(self.overdue_pct or 0.0), -self.key_overdue,
                -(self.total - self.done), self.name, self.code)  # fmt: skip

    def due_share_cell(self) -> str:
        """The "% đã hoàn thành / số đến hạn" cell: a unit with nothing due yet whose tasks are
        all done (e.g. "Thường xuyên" tasks it reported) is "đã hoàn thành", never "— (0/0)"."""
        if self.due:
            return fmt_pct(self.done_pct)
        if self.total and self.done == self.total:
            return "đã hoàn thành"
        return "chưa đến hạn"

    def as_json(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "directive": self.directive,
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "level_name": self.level_name,
            "counts": dict(self.counts),
            "total": self.total,
            "done": self.done,
            "done_undated": self.done_undated,
            "due": self.due,
            "done_due": self.done_due,
            "done_on_time_due": self.done_on_time_due,
            "apart": self.apart,
            "overdue_by_age": {
                label: n for (_, _, label), n in zip(AGE_BUCKETS, self.ages, strict=True)
            },
            "key_tasks": {
                "total": self.key_total,
                "counts": dict(self.key_counts),
                "due": self.key_due,
                "done_due": self.key_done_due,
            },
            "key_overdue": self.key_overdue,
            "done_pct": self.done_pct,
            "on_time_pct": self.on_time_pct,
            "overdue_pct": self.overdue_pct,
            "completion_pct": self.completion_pct,
            "overdue_total_pct": self.overdue_total_pct,
            "period": {
                "due": self.period_due,
                "done_due": self.period_done_due,
                "on_time_due": self.period_on_time_due,
                "overdue": self.period_overdue,
                "done": self.period_done,
            },
        }

    def table_row(self, first: dict[str, Any]) -> dict[str, Any]:
        """One row of a Prefect UI table: ``first`` columns, then the counts and percentages
        (short column names; the report files use the official labels, :data:`COLUMNS`)."""
        row = dict(first)
        row["Tổng"] = self.total
        row["Đến hạn"] = self.due
        for s in ORDER:
            row[SHORT[s]] = self.counts[s.value]
        # Percentages of "Đến hạn" (the denominator is the column just before the counts).
        row["% hoàn thành"] = fmt_pct(self.done_pct)
        row["% đúng hạn"] = fmt_pct(self.on_time_pct)
        row["% quá hạn"] = fmt_pct(self.overdue_pct)
        return row


_SUMMED = ("due", "done_due", "done_on_time_due", "key_due", "key_done_due", "done_undated",
           "period_due", "period_done_due", "period_on_time_due", "period_overdue",
           "period_done")  # fmt: skip


# --------------------------------------------------------------------------------------------------
# Table columns of the report files, with the official labels
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """One count column of a report table: its heading (under ``group`` when a two-row header
    groups it) and how a row gives its value."""

    group: str
    heading: str
    value: Callable[[ProgressRow], int | str]
    percent: bool = False


def _c(s: Status) -> Callable[[ProgressRow], int]:
    return lambda r: r.counts[s.value]


def _age(i: int) -> Callable[[ProgressRow], int]:
    return lambda r: r.ages[i]


# Every count, for the spreadsheet and Markdown.
COLUMNS: tuple[Column, ...] = (
    Column("", "Tổng số nhiệm vụ", lambda r: r.total),
    Column("", "Đến hạn", lambda r: r.due),
    Column("Đã hoàn thành", "Đúng hạn", _c(Status.done_on_time)),
    Column("Đã hoàn thành", "Quá hạn", _c(Status.done_late)),
    Column("Chưa hoàn thành", "Trong hạn", _c(Status.on_track)),
    Column("Chưa hoàn thành", "Quá hạn", _c(Status.overdue)),
    *(Column("Không tính là quá hạn", LABELS[s], _c(s)) for s in APART),
    Column("Tỷ lệ hoàn thành", "% số nhiệm vụ đến hạn", lambda r: r.due_share_cell(), True),
    Column("Tỷ lệ hoàn thành", "% tổng số nhiệm vụ được giao", lambda r: fmt_pct(r.completion_pct), True),
    Column("Tỷ lệ quá hạn", "% số nhiệm vụ đến hạn", lambda r: fmt_pct(r.overdue_pct), True),
    *(Column("Quá hạn theo thời gian", label, _age(i)) for i, (_, _, label) in enumerate(AGE_BUCKETS)),
    Column("Nhiệm vụ trọng tâm", "Quá hạn", lambda r: r.key_overdue),
)  # fmt: skip

# The same on a portrait page (.docx): the categories counted apart in one column.
COMPACT: tuple[Column, ...] = (
    *COLUMNS[:6],
    Column("", "Không tính là quá hạn (*)", lambda r: r.apart),
    *(c for c in COLUMNS if c.group == "Tỷ lệ hoàn thành"),
)
APART_NOTE = "(*) Không tính là quá hạn: " + "; ".join(LABELS[s].lower() for s in APART) + "."


# --------------------------------------------------------------------------------------------------
# The plan's tasks (the appendix)
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanCount:
    """The store's count of the instances of one task of a plan in one status."""

    directive: str
    key: str
    status: str
    count: int
    first_id: str  # the smallest task id among them (the instance, when there is one)
    days: int = 0  # the most days overdue among them
    undated: bool = False  # no instance has a due date


@dataclass(frozen=True)
class Completed:
    """The latest report of a task that counts: its date, evidence and state."""

    reported_on: date
    evidence: str
    state: str  # reported | verified


@dataclass
class PlanRow:
    """One task of the plan, as the appendix table shows it."""

    directive: str
    key: str
    number: str  # the "STT" cell: the key within its group ("1", "1.1")
    title: str
    lead: str  # as the plan names it (unit or group)
    coordinating: str
    deliverable: str
    deadline: str  # as written
    counts: dict[str, int] = field(default_factory=_zero)
    days: int = 0
    undated: bool = False
    task: TaskStatus | None = None  # the one instance, when the plan task has one
    completed: Completed | None = None
    overdue_units: list[str] = field(default_factory=list)  # names, as far as listed

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def overdue(self) -> int:
        return self.counts[Status.overdue.value]

    def status_text(self) -> str:
        """The "Tình trạng" cell, with the official labels.

        One instance: its label ("Chưa hoàn thành, quá hạn 15 ngày"; a done task without a
        deadline is "Đã hoàn thành"); several (a task of every district, a yearly report): the
        count of each status among them.
        """
        if self.task is not None and self.total == 1:
            return _one_status(self.task, self.undated)
        parts = []
        for s in ORDER:
            n = self.counts[s.value]
            if not n:
                continue
            label = "Đã hoàn thành" if s == Status.done_on_time and self.undated else LABELS[s]
            parts.append(f"{label}: {fmt_int(n)}")
        return f"{fmt_int(self.total)} nhiệm vụ. " + "; ".join(parts) + "."

    def note_text(self) -> str:
        """The "Ghi chú" cell: the evidence of a done task, who answers for it today, the units
        whose share is overdue."""
        notes: list[str] = []
        t = self.task
        if t is not None and self.total == 1:
            if t.lead_shown != t.unit_name:
                notes.append(f"Đơn vị thực hiện: {t.lead_shown}")
            if self.completed is not None:
                when = f"{self.completed.reported_on:%d/%m/%Y}"
                notes.append(f"Báo cáo ngày {when}: {self.completed.evidence}")
        elif self.overdue:
            shown = self.overdue_units[:3]
            more = self.overdue - len(shown)
            text = "Quá hạn: " + ", ".join(shown) if shown else "Quá hạn"
            if more > 0:
                text += f"{' và' if shown else ':'} {fmt_int(more)} nhiệm vụ khác (Phụ lục II)"
            notes.append(text)
        return "; ".join(notes)


def _one_status(t: TaskStatus, undated: bool) -> str:
    if t.status == Status.done_on_time.value and (undated or t.due is None):
        return "Đã hoàn thành"
    if t.status in (Status.overdue.value, Status.done_late.value) and t.days_overdue:
        return f"{t.status_label} {fmt_int(t.days_overdue)} ngày"
    return t.status_label


@dataclass
class PlanGroup:
    """A group of the plan's table ("I", "II"…), or the tasks of a plan without groups."""

    numeral: str | None
    title: str
    rows: list[PlanRow] = field(default_factory=list)


@dataclass
class PlanTable:
    """The appendix table of one directive."""

    directive: str
    groups: list[PlanGroup]

    @property
    def rows(self) -> list[PlanRow]:
        return [r for g in self.groups for r in g.rows]


_ROMANS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII",
           "XIV", "XV", "XVI", "XVII", "XVIII", "XIX", "XX")  # fmt: skip


def spec_tasks(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The tasks of a stored directive spec, parents before their children, in the plan's order."""
    out: list[dict[str, Any]] = []

    def walk(tasks: Sequence[Mapping[str, Any]]) -> None:
        for t in tasks:
            out.append(dict(t))
            walk(t.get("children") or [])

    walk(spec.get("tasks") or [])
    return out


def plan_table(
    directive: str,
    spec: Mapping[str, Any],
    counts: Iterable[PlanCount],
    names: Mapping[str, str],
    singles: Mapping[str, TaskStatus],
    completed: Mapping[str, Completed],
    overdue: Sequence[TaskStatus],
) -> PlanTable:
    """The appendix table of ``directive``: one row per task of the plan that has instances in
    the report, in the plan's order, grouped as the plan numbers them.

    A task numbered ``I.1`` is task 1 of group I; a plan numbered ``1``, ``1.1``, ``2`` has no
    groups; tasks of another prefix (``TCTH.1``) form a group of their own, numbered after the
    plan's. ``names`` gives the name of every unit and group code the plan names (its own
    groups included); ``singles`` and ``completed`` the instance (and its report) of the tasks
    that have one instance.
    """
    local = {g["code"]: g["name"] for g in spec.get("groups") or [] if "code" in g}
    named = {**names, **local}
    tasks = spec_tasks(spec)
    wanted: dict[str, list[PlanCount]] = {}
    for c in counts:
        wanted.setdefault(c.key, []).append(c)
    heads = {str(t["id"]).split(".", 1)[0] for t in tasks if "." in str(t["id"])}
    last = max((_ROMANS.index(h) + 1 for h in heads if h in _ROMANS), default=0)
    spare = iter(_ROMANS[last:])
    groups: list[PlanGroup] = []
    prefixes: dict[str, PlanGroup] = {}
    for t in tasks:
        key = str(t["id"])
        if key not in wanted:
            continue
        head, _, rest = key.partition(".")
        if rest and (head in _ROMANS or not head.isdigit()):
            group = prefixes.get(head)
            if group is None:
                numeral = head if head in _ROMANS else next(spare, head)
                title = f"Nhóm nhiệm vụ {head}" if head in _ROMANS else f"Nhiệm vụ {head}"
                group = prefixes[head] = PlanGroup(numeral, title)
                groups.append(group)
            number = rest
        else:
            if not groups or groups[-1].numeral is not None:
                groups.append(PlanGroup(None, ""))
            group, number = groups[-1], key
        row = PlanRow(
            directive,
            key,
            number,
            str(t.get("title", "")),
            _name(named, t.get("lead")),
            "; ".join(
                [_name(named, c) for c in t.get("coordinating") or []]
                + ([t["coordinating_other"]] if t.get("coordinating_other") else [])
            ),
            str(t.get("deliverable") or ""),
            str(t.get("deadline") or ""),
        )
        for c in wanted[key]:
            row.counts[c.status] = row.counts.get(c.status, 0) + c.count
            row.days = max(row.days, c.days)
        row.undated = all(c.undated for c in wanted[key])
        if row.total == 1:
            [only] = wanted[key]
            row.task = singles.get(only.first_id)
            row.completed = completed.get(only.first_id)
        row.overdue_units = [
            o.lead_shown for o in overdue if o.directive == directive and o.task_key == key
        ]
        group.rows.append(row)
    return PlanTable(directive, groups)


def _name(names: Mapping[str, str], code: Any) -> str:
    return names.get(str(code), str(code)) if code else ""


# --------------------------------------------------------------------------------------------------
# A returned sheet (kttt import-progress)
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SheetCompletion:
    """A row of a returned spreadsheet that reports a task done: which task, on what day (None:
    the evidence's date), with what evidence; and where the row is, for messages."""

    task_id: str
    on: date | None
    evidence: str
    note: str | None
    file: str
    sheet: str
    row: int
    columns: Mapping[str, tuple[int, str]]  # "key" | "on" | "evidence" → (column, heading)

    def locate(self, column: str) -> tuple[str, int, int, str]:
        """(file, row, column number, "trang «…», ô H12 (Tình trạng)") of a cell of this row."""
        number, heading = self.columns.get(column, (0, ""))
        return self.file, self.row, number, cell_name(self.sheet, self.row, number, heading)


@dataclass
class CompletionBatch:
    """What recording a returned sheet did: the reports recorded (task id, doubts about the
    evidence), and the tasks left as they were (task id, state: already reported or done)."""

    recorded: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def column_letter(n: int) -> str:
    """``1`` → ``A``, ``28`` → ``AB`` (a spreadsheet's column names)."""
    out = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def cell_name(sheet: str, row: int, column: int, heading: str = "") -> str:
    """How a message names a cell: "trang «Phụ lục», ô H12 (Tình trạng)"."""
    where = f"trang «{sheet}», " + (f"ô {column_letter(column)}{row}" if column else f"dòng {row}")
    return where + (f" ({heading})" if heading else "")


# --------------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DirectiveInfo:
    code: str
    doc_type: str
    symbol: str | None
    issued_on: date | None
    title: str
    issuer: str = ""  # the issuing body's name
    focal: str | None = None  # the focal unit's code

    @property
    def heading(self) -> str:
        head = self.symbol or self.code
        if self.issued_on:
            head += f" ngày {self.issued_on:%d/%m/%Y}"
        return f"{head} — {self.title}"

    @property
    def cited(self) -> str:
        """The document as a report's title cites it: "Kế hoạch số 67/KH-UBND ngày 01/10/2013
        của Ủy ban nhân dân tỉnh Tuyên Quang"."""
        kind = DOC_TYPES.get(self.doc_type, "Văn bản")
        head = f"{kind} số {self.symbol}" if self.symbol else f"{kind} «{self.title}»"
        if self.issued_on:
            head += f" ngày {self.issued_on:%d/%m/%Y}"
        return head + (f" của {self.issuer}" if self.issuer else "")


DOC_TYPES = {
    "resolution": "Nghị quyết",
    "conclusion": "Kết luận",
    "instruction": "Chỉ thị",
    "action_programme": "Chương trình hành động",
    "plan": "Kế hoạch",
    "decision": "Quyết định",
    "official_letter": "Công văn",
    "report": "Báo cáo",
    "law": "Luật",
    "decree": "Nghị định",
}


@dataclass
class ProgressReport:
    """The consolidated report as of ``as_of`` (for one directive, or all when ``directive`` is
    None; for one unit or level when given), for a reporting ``period`` when given."""

    as_of: date
    directive: str | None
    directives: dict[str, DirectiveInfo]
    rows: list[ProgressRow]
    overdue_tasks: list[TaskStatus]
    overdue_limit: int = OVERDUE_LIMIT
    period: Period | None = None
    regime: Regime | None = None
    unit: str | None = None
    unit_name: str | None = None
    level: str | None = None
    level_name: str | None = None
    within: str | None = None  # a unit and every unit under it
    within_name: str | None = None
    plans: list[PlanTable] = field(default_factory=list)
    targets: TargetReport | None = None  # quantitative targets of the tasks in scope

    # -- scopes ------------------------------------------------------------------------------
    @property
    def cutoff_start(self) -> date | None:
        """The first day of the data cut-off (a period's), else None (everything until as_of)."""
        return self.period.cutoff_start if self.period else None

    @property
    def submission_due(self) -> date | None:
        return self.period.submission_due(self.regime) if self.period and self.regime else None

    def directive_rows(self) -> list[ProgressRow]:
        return [r for r in self.rows if r.scope == "directive"]

    def directive_row(self, code: str) -> ProgressRow:
        for r in self.rows:
            if r.scope == "directive" and r.code == code:
                return r
        raise KeyError(code)

    def total_row(self) -> ProgressRow:
        """The "Cộng" row: every directive of the report together."""
        total = ProgressRow("total", "", "", TOTAL)
        for r in self.directive_rows():
            total.merge(r)
        return total

    def unit_rows(self, directive: str | None = None) -> list[ProgressRow]:
        """Per-unit rows of one directive, or across every directive of the report (``None``),
        the units most behind first."""
        if directive is not None:
            return [r for r in self.rows if r.scope == "unit" and r.directive == directive]
        merged: dict[str, ProgressRow] = {}
        for r in self.rows:
            if r.scope == "unit":
                m = merged.setdefault(
                    r.code,
                    ProgressRow("unit", "", r.code, r.name, level=r.level, level_name=r.level_name),
                )
                m.merge(r)
        return sorted(merged.values(), key=ProgressRow.behind)

    def level_rows(self, directive: str | None = None) -> list[ProgressRow]:
        """Per-level rows of one directive, or across every directive (``None``), in level order."""
        if directive is not None:
            return [r for r in self.rows if r.scope == "level" and r.directive == directive]
        merged: dict[str, ProgressRow] = {}
        for r in self.rows:
            if r.scope == "level":
                m = merged.setdefault(
                    r.code, ProgressRow("level", "", r.code, r.name, position=r.position)
                )
                m.merge(r)
        return sorted(merged.values(), key=lambda r: (r.position, r.code))

    def overdue_of(self, directive: str) -> list[TaskStatus]:
        return [t for t in self.overdue_tasks if t.directive == directive]

    def plan_of(self, directive: str) -> PlanTable | None:
        return next((p for p in self.plans if p.directive == directive), None)

    # -- words ---------------------------------------------------------------------------------
    @property
    def subject(self) -> str:
        """What the report is about, as its title says it: "Tình hình thực hiện Kế hoạch số …"."""
        infos = [self.directives[r.code] for r in self.directive_rows()]
        if len(infos) == 1:
            text = f"Tình hình thực hiện {infos[0].cited}"
        else:
            text = f"Tình hình thực hiện {fmt_int(len(infos))} văn bản chỉ đạo"
        if self.unit_name:
            text += f" của {self.unit_name}"
        elif self.level_name:
            text += f", {self.level_name.lower()}"
        if self.within_name:
            text += f" (phạm vi: {self.within_name} và các đơn vị trực thuộc)"
        if self.period:
            text += f" {self.period.label}"
        return text

    def cutoff_text(self) -> str:
        """The as-of date and the data cut-off, as every format prints them."""
        if self.period:
            text = (
                f"Kỳ báo cáo: {self.period.label}. Số liệu tính từ ngày "
                f"{self.period.cutoff_start:%d/%m/%Y} đến hết ngày {self.as_of:%d/%m/%Y} "
                "(thời gian chốt số liệu theo Nghị định số 09/2019/NĐ-CP)"
            )
            if self.submission_due:
                text += f"; thời hạn gửi báo cáo: {self.submission_due:%d/%m/%Y}"
                if self.regime:
                    text += f" ({self.regime.text})"
            return text + "."
        return f"Số liệu tính đến hết ngày {self.as_of:%d/%m/%Y}."

    def summary(self, row: ProgressRow | None = None) -> list[list[tuple[str, bool]]]:
        """The summary paragraphs for ``row`` (default: every directive together), as segments
        ``(text, bold)``: total, done (both percentages), not done (within deadline, overdue with
        both percentages and by age), counted apart, key tasks, the period."""
        r = row or self.total_row()
        c = r.counts
        on_time_dated = c[Status.done_on_time.value] - r.done_undated
        paras: list[list[tuple[str, bool]]] = []
        paras.append([
            ("Tổng số nhiệm vụ được giao: ", False), (fmt_int(r.total), True),
            (f"; trong đó {fmt_int(r.due)} nhiệm vụ đã đến hạn (hạn hoàn thành đến hết ngày "
             f"{self.as_of:%d/%m/%Y}).", False),
        ])  # fmt: skip
        done = [
            f"đúng hạn {fmt_int(on_time_dated)}",
            f"quá hạn {fmt_int(c[Status.done_late.value])}",
        ]
        if r.done_undated:
            done.append(f"không có thời hạn {fmt_int(r.done_undated)}")
        paras.append([
            ("Đã hoàn thành: ", False), (fmt_int(r.done), True),
            (f" nhiệm vụ ({', '.join(done)}); đạt {share(r.done_due, r.due, DUE_OF)} và "
             f"{share(r.done, r.total, TOTAL_OF)}.", False),
        ])  # fmt: skip
        overdue = [
            ("Chưa hoàn thành: trong hạn ", False), (fmt_int(c[Status.on_track.value]), True),
            ("; quá hạn ", False), (fmt_int(r.overdue), True),
            (f", bằng {share(r.overdue, r.due, DUE_OF)} và "
             f"{share(r.overdue, r.total, TOTAL_OF)}", False),
        ]  # fmt: skip
        if r.overdue:
            ages = "; ".join(
                f"{label.lower()}: {fmt_int(n)}"
                for (_, _, label), n in zip(AGE_BUCKETS, r.ages, strict=True)
            )
            overdue.append((f". Thời gian quá hạn: {ages}", False))
        paras.append([*overdue, (".", False)])
        apart = [f"{LABELS[s].lower()}: {fmt_int(c[s.value])}" for s in APART if c[s.value]]
        if apart:
            paras.append([("Không tính là quá hạn: " + "; ".join(apart) + ".", False)])
        paras.append(self._key_sentence(r))
        if self.period:
            paras.append([(
                f"Trong kỳ báo cáo (từ {self.period.cutoff_start:%d/%m/%Y} đến "
                f"{self.as_of:%d/%m/%Y}): {fmt_int(r.period_due)} nhiệm vụ đến hạn, đã hoàn "
                f"thành {fmt_int(r.period_done_due)} (đúng hạn {fmt_int(r.period_on_time_due)}), "
                f"quá hạn {fmt_int(r.period_overdue)}; {fmt_int(r.period_done)} nhiệm vụ được "
                "hoàn thành trong kỳ.", False)])  # fmt: skip
        return paras

    @staticmethod
    def _key_sentence(r: ProgressRow) -> list[tuple[str, bool]]:
        if not r.key_total:
            return [("Không có nhiệm vụ nào được xác định là nhiệm vụ trọng tâm.", False)]
        k = r.key_counts
        return [
            ("Nhiệm vụ trọng tâm: ", False), (fmt_int(r.key_total), True),
            (f" nhiệm vụ; đã hoàn thành {fmt_int(r.key_done)} (đúng hạn "
             f"{fmt_int(k[Status.done_on_time.value])}, quá hạn {fmt_int(k[Status.done_late.value])}), "
             f"đạt {share(r.key_done_due, r.key_due, DUE_OF)}; chưa hoàn thành: trong hạn "
             f"{fmt_int(k[Status.on_track.value])}, quá hạn ", False),
            (fmt_int(r.key_overdue), True), (".", False),
        ]  # fmt: skip

    # -- tables (Prefect UI artifacts) ---------------------------------------------------------
    def unit_table(self, directive: str) -> list[dict[str, Any]]:
        """Per-unit rows of one directive, for a table artifact (column names in Vietnamese)."""
        rows = [r.table_row({"Đơn vị": r.name}) for r in self.unit_rows(directive)]
        for row, r in zip(rows, self.unit_rows(directive), strict=True):
            row["Cấp"] = r.level_name or r.level or ""
            row["Mã đơn vị"] = r.code
        return rows

    def level_table(self, directive: str) -> list[dict[str, Any]]:
        return [r.table_row({"Cấp": r.name}) for r in self.level_rows(directive)]

    def directive_table(self) -> list[dict[str, Any]]:
        return [
            r.table_row({"Văn bản": r.code, "Tên": self.directives[r.code].heading})
            for r in self.directive_rows()
        ]

    def overdue_table(self, directive: str) -> list[dict[str, Any]]:
        return [
            {
                "Mã nhiệm vụ": t.task_id,
                "Đơn vị chủ trì": t.lead_shown,
                "Nội dung": t.title,
                "Thời hạn (văn bản ghi)": t.deadline_text or "",
                "Hạn": t.due.strftime("%d/%m/%Y") if t.due else "",
                "Số ngày quá hạn": t.days_overdue,
                "Nhóm quá hạn": overdue_age_label(t.days_overdue),
                "Trọng tâm": "Có" if t.key_task else "",
            }
            for t in self.overdue_of(directive)
        ]

    def target_table(self, directive: str) -> list[dict[str, Any]]:
        """Target, actual and % of target per unit, then a "Cộng" row per target shared by
        several units (the denominator: the target given)."""
        if self.targets is None:
            return []
        rows: list[dict[str, Any]] = []
        totals = {
            (t.task_key, t.indicator): t for t in self.targets.totals if t.directive == directive
        }
        lines = [ln for ln in self.targets.lines if ln.directive == directive]
        for i, ln in enumerate(lines):
            pct = ln.percent
            actual = "—" if ln.actual is None else fmt_number(ln.actual)
            rows.append(
                {
                    "Nhiệm vụ": ln.task_key,
                    "Chỉ tiêu": ln.indicator,
                    "Đơn vị": ln.unit,
                    "Chỉ tiêu giao": f"{fmt_number(ln.target)} {ln.measure}",
                    "Đạt được": actual
                    + ("" if ln.verified or ln.actual is None else " (chờ xác nhận)"),
                    "Tỷ lệ (trên chỉ tiêu giao)": "—" if pct is None else fmt_percent(pct),
                }
            )
            last = i + 1 == len(lines) or (lines[i + 1].task_key, lines[i + 1].indicator) != (
                ln.task_key, ln.indicator
            )  # fmt: skip
            total = totals.get((ln.task_key, ln.indicator))
            if last and total is not None and total.units > 1:
                rows.append(
                    {
                        "Nhiệm vụ": ln.task_key,
                        "Chỉ tiêu": ln.indicator,
                        "Đơn vị": TOTAL,
                        "Chỉ tiêu giao": f"{fmt_number(total.target)} {total.measure}",
                        "Đạt được": "—" if total.actual is None else fmt_number(total.actual),
                        "Tỷ lệ (trên chỉ tiêu giao)": total.percent_text,
                    }
                )
        return rows

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "cutoff_start": self.cutoff_start.isoformat() if self.cutoff_start else None,
            "period": self.period.code if self.period else None,
            "period_label": self.period.label if self.period else None,
            "submission_due": self.submission_due.isoformat() if self.submission_due else None,
            "directive": self.directive,
            "unit": self.unit,
            "level": self.level,
            "within": self.within,
            "definitions": DEFINITIONS,
            "total": self.total_row().as_json(),
            "directives": [
                {
                    **r.as_json(),
                    "symbol": self.directives[r.code].symbol,
                    "title": self.directives[r.code].title,
                    "units": [u.as_json() for u in self.unit_rows(r.code)],
                    "levels": [lv.as_json() for lv in self.level_rows(r.code)],
                    "overdue_tasks": [t.as_json() for t in self.overdue_of(r.code)],
                    "targets": self.target_table(r.code),
                }
                for r in self.directive_rows()
            ],
        }

    # -- Markdown ------------------------------------------------------------------------------
    def to_markdown(self, directive: str | None = None) -> str:
        """The report in Vietnamese Markdown (one directive, or every directive of the report):
        the summary across documents first, then each document, by unit and by level."""
        codes = [directive] if directive else [r.code for r in self.directive_rows()]
        out = [f"# Báo cáo tình hình thực hiện nhiệm vụ — tính đến ngày {self.as_of:%d/%m/%Y}", ""]
        out += [self.cutoff_text(), ""]
        if not codes:
            out += ["Không có nhiệm vụ nào.", ""]
        if directive is None and len(codes) > 1:
            out += ["## Tổng hợp chung", ""]
            for p in self.summary():
                out += [_md(p), ""]
            out += _markdown_table(
                _table_rows(self.directive_rows(), self.total_row(), self._doc_label)
            )
            out += [""]
            out += ["### Theo đơn vị (mọi văn bản, đơn vị chậm nhất trước)", ""]
            out += _markdown_table(
                _table_rows(self.unit_rows(), self.total_row(), lambda r: r.name)
            )
            out += [""]
        for code in codes:
            out += self._markdown_directive(code)
        out += ["## Cách tính", ""]
        out += [f"- {line}" for line in DEFINITIONS_VI]
        return "\n".join(out) + "\n"

    def _doc_label(self, r: ProgressRow) -> str:
        return self.directives[r.code].symbol or r.code

    def _markdown_directive(self, code: str) -> list[str]:
        info, d = self.directives[code], self.directive_row(code)
        out = [f"## {info.heading}", "", f"Mã văn bản: `{code}`.", ""]
        for p in self.summary(d):
            out += [_md(p), ""]
        units = self.unit_rows(code)
        out += ["### Theo đơn vị (đơn vị chậm nhất trước)", ""]
        out += [*_markdown_table(_table_rows(units, d, lambda r: r.name)), ""]
        out += ["### Theo cấp", ""]
        out += [*_markdown_table(_table_rows(self.level_rows(code), d, lambda r: r.name)), ""]
        targets = self.target_table(code)
        if targets:
            out += ["### Chỉ tiêu định lượng", ""]
            out += [*_markdown_table(targets), ""]
        overdue = self.overdue_table(code)
        out.append("### Nhiệm vụ quá hạn")
        out.append("")
        if overdue:
            shown = len(overdue)
            if shown < d.overdue:
                out += [
                    f"({shown} trên {d.overdue} nhiệm vụ quá hạn được liệt kê, quá hạn lâu nhất trước.)",
                    "",
                ]
            out += [*_markdown_table(overdue), ""]
        else:
            out += ["Không có nhiệm vụ quá hạn.", ""]
        return out


def overdue_age_label(days: int) -> str:
    i = age_bucket(days)
    return AGE_BUCKETS[i][2] if i is not None else ""


def _table_rows(
    rows: Sequence[ProgressRow], total: ProgressRow, name: Callable[[ProgressRow], str]
) -> list[dict[str, Any]]:
    """Rows of a report table with every count (official labels), then "Cộng"."""
    out = []
    for i, r in enumerate([*rows, total], 1):
        row: dict[str, Any] = {
            "STT": str(i) if r is not total else "",
            "Tên": name(r) if r is not total else TOTAL,
        }
        for col in COLUMNS:
            row[f"{col.group}: {col.heading}" if col.group else col.heading] = col.value(r)
        out.append(row)
    return out


def _md(segments: Sequence[tuple[str, bool]]) -> str:
    return "".join(f"**{t}**" if bold else t for t, bold in segments)


DEFINITIONS: dict[str, str] = {
    "total": "tasks not removed whose period has begun by as_of",
    "done": "done_on_time + done_late (verified report dated on or before as_of)",
    "due": "tasks due on or before as_of in done_on_time, done_late, overdue or on_track",
    "apart": "awaiting_verification, ongoing, awaiting_deadline, pending, unit_dissolved: never due, never overdue",
    "done_pct": "done among due / due",
    "on_time_pct": "done_on_time among due / due",
    "overdue_pct": "overdue / due",
    "completion_pct": "done / total",
    "overdue_total_pct": "overdue / total",
    "overdue_by_age": "overdue tasks by days past due: 1-30, 31-90, 91-120, more than 120",
    "period": "due: due within the cut-off window; done: report date within it",
}
DEFINITIONS_VI: tuple[str, ...] = (
    "Tổng số nhiệm vụ được giao: các nhiệm vụ đang được theo dõi (không tính nhiệm vụ đã bỏ;"
    " nhiệm vụ định kỳ chỉ tính các kỳ đã bắt đầu).",
    "Đến hạn: nhiệm vụ có hạn hoàn thành đến hết ngày báo cáo. Không tính là đến hạn và không"
    " bao giờ tính là quá hạn: " + "; ".join(LABELS[s].lower() for s in APART) + ".",
    "Mỗi tỷ lệ ghi rõ mẫu số: % số nhiệm vụ đến hạn = số nhiệm vụ đến hạn đã hoàn thành (hoặc"
    " quá hạn) / số nhiệm vụ đến hạn; % tổng số nhiệm vụ được giao = số nhiệm vụ đã hoàn thành"
    " (hoặc quá hạn) / tổng số nhiệm vụ được giao.",
    "Một nhiệm vụ được tính là hoàn thành khi báo cáo hoàn thành đã được xác nhận và ngày báo"
    " cáo không muộn hơn ngày tính; nhiệm vụ không có thời hạn đã hoàn thành được ghi là"
    " “đã hoàn thành” (trong bảng, tính vào cột đúng hạn).",
    "Thời gian quá hạn tính theo ngày lịch kể từ ngày hết hạn: đến 30 ngày, từ 31 đến 90"
    " ngày, từ 91 đến 120 ngày, trên 120 ngày.",
    "Báo cáo định kỳ: số liệu chốt từ ngày 15 của tháng trước kỳ báo cáo đến ngày 14 của tháng"
    " cuối kỳ (Nghị định số 09/2019/NĐ-CP).",
)


def _cell(v: Any) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def _markdown_table(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["(không có dữ liệu)"]
    cols = list(rows[0])
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    out += ["| " + " | ".join(_cell(r[c]) for c in cols) + " |" for r in rows]
    return out


# --------------------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------------------
def assemble(
    as_of: date,
    directive: str | None,
    counts: Iterable[CountRow],
    directives: Mapping[str, DirectiveInfo],
    units: Mapping[str, tuple[str, str | None]],
    levels: Mapping[str, tuple[str, int]],
    overdue: list[TaskStatus],
    overdue_limit: int = OVERDUE_LIMIT,
    **scope: Any,
) -> ProgressReport:
    """The report from the store's aggregate rows.

    ``units`` maps a unit code to (name, level code); ``levels`` a level code to (name, position).
    Units of no declared level are counted under "Khác". Unit rows come most behind first
    (:meth:`ProgressRow.behind`), level rows in level order. ``scope`` carries the report's
    other fields (``period``, ``regime``, ``unit``, ``level``, ``plans``…).
    """
    by_directive = {
        code: ProgressRow("directive", code, code, directives[code].title)
        for code in sorted(directives)
    }
    by_unit: dict[tuple[str, str], ProgressRow] = {}
    by_level: dict[tuple[str, str], ProgressRow] = {}
    for c in counts:
        uname, ulevel = units.get(c.unit, (c.unit, None))
        lcode = ulevel if ulevel is not None and ulevel in levels else OTHER_LEVEL
        lname, lpos = levels.get(lcode, ("Khác", 10_000))
        unit_row = by_unit.get((c.directive, c.unit))
        if unit_row is None:  # built once per unit, not once per count row
            unit_row = by_unit[(c.directive, c.unit)] = ProgressRow(
                "unit", c.directive, c.unit, uname, level=ulevel, level_name=lname
            )
        level_row = by_level.get((c.directive, lcode))
        if level_row is None:
            level_row = by_level[(c.directive, lcode)] = ProgressRow(
                "level", c.directive, lcode, lname, position=lpos
            )
        for row in (by_directive[c.directive], unit_row, level_row):
            row.add(c)
    unit_rows = sorted(by_unit.values(), key=lambda r: (r.directive, *r.behind()))
    level_rows = sorted(by_level.values(), key=lambda r: (r.directive, r.position, r.code))
    return ProgressReport(
        as_of,
        directive,
        dict(directives),
        [*by_directive.values(), *unit_rows, *level_rows],
        overdue,
        overdue_limit,
        **scope,
    )


# --------------------------------------------------------------------------------------------------
# The leader's view (Prefect artifacts, issue 10): seven columns, the units most behind first
# --------------------------------------------------------------------------------------------------
MARK_LATE, MARK_WATCH, MARK_OK = "🔴", "🟠", "🟢"
# Who, how they stand, how late, then the figures: on a phone the first two columns show.
LEADER_COLUMNS = (
    "Đơn vị",
    "Tình trạng",
    "Quá hạn",
    "Quá hạn lâu nhất",
    "Đến hạn",
    "Đã xong",
    "% xong/đến hạn",
)
_SYMBOL = re.compile(r"\b\d+[-/][A-ZĐ][A-ZĐa-z]*(?:[-/][A-ZĐ]+)+")


@dataclass(frozen=True)
class UnitFlags:
    """What the counts do not say about a unit's tasks as of the report date: the most days
    overdue among them, and how many are open again because their report was returned."""

    max_days: int = 0
    returned: int = 0

    def merge(self, other: UnitFlags) -> UnitFlags:
        return UnitFlags(max(self.max_days, other.max_days), self.returned + other.returned)


def short_name(info: DirectiveInfo) -> str:
    """How a leader names a document: its symbol ("67/KH-UBND"); for one without a symbol, the
    symbol its title cites ("20-NQ/TW" for the programme implementing it); else its code.

    >>> short_name(DirectiveInfo("ctr", "action_programme", None, None,
    ...            "Thực hiện Nghị quyết số 20-NQ/TW ngày 16/6/2022 của Ban Chấp hành"))
    '20-NQ/TW'
    """
    if info.symbol:
        return info.symbol
    found = _SYMBOL.search(info.title or "")
    return found.group(0) if found else info.code


def state_marker(r: ProgressRow, flags: UnitFlags) -> str:
    """🔴 tasks overdue; 🟠 nothing overdue but a report returned or awaiting verification, or
    tasks due today; 🟢 on track. Returned and awaiting reports are said in words."""
    waiting = r.counts[Status.awaiting_verification.value]
    notes = []
    if flags.returned:
        notes.append(f"{fmt_int(flags.returned)} báo cáo bị trả lại")
    if waiting:
        notes.append(f"{fmt_int(waiting)} chờ xác nhận")
    if r.overdue:
        return f"{MARK_LATE} " + "; ".join(["Chậm", *notes])
    if notes:
        return f"{MARK_WATCH} " + "; ".join(notes)
    if r.counts[Status.on_track.value] and r.due > r.done_due:
        return f"{MARK_WATCH} Đến hạn hôm nay"
    return f"{MARK_OK} Đúng tiến độ"


def leader_row(name: str, r: ProgressRow, flags: UnitFlags) -> dict[str, Any]:
    """One row of the leader's table (:data:`LEADER_COLUMNS`)."""
    pct = (
        f"{fmt_pct(r.done_pct)} ({fmt_int(r.done_due)}/{fmt_int(r.due)})"
        if r.due
        else r.due_share_cell()
    )
    values = (
        name,
        state_marker(r, flags),
        r.overdue,
        f"{fmt_int(flags.max_days)} ngày" if r.overdue else "—",
        r.due,
        r.done_due,
        pct,
    )
    return dict(zip(LEADER_COLUMNS, values, strict=True))


def _leader_behind(r: ProgressRow, flags: UnitFlags) -> tuple[Any, ...]:
    """The units most behind first: most overdue, then longest overdue, then returned or
    awaiting reports, then the ones with the lowest share done."""
    return (-r.overdue, -flags.max_days, -flags.returned,
            -r.counts[Status.awaiting_verification.value], r.done_pct or 0.0, r.name, r.code)  # fmt: skip


def leader_table(
    report: ProgressReport,
    directive: str | None,
    flags: Mapping[tuple[str, str], UnitFlags],
    *,
    total_first: bool = False,
) -> list[dict[str, Any]]:
    """The leader's table of one directive's units (``directive=None``: one row per directive),
    most behind first, with a "Cộng" row (last; first with ``total_first``, for a paged table)."""
    zero = UnitFlags()
    rows: list[tuple[str, ProgressRow, UnitFlags]] = []
    if directive is None:
        names = directive_names(report)
        for d in report.directive_rows():
            f = zero
            for (code, _), uf in flags.items():
                if code == d.code:
                    f = f.merge(uf)
            rows.append((names[d.code], d, f))
        total_row, total_flags = report.total_row(), zero
        for uf in flags.values():
            total_flags = total_flags.merge(uf)
    else:
        for u in report.unit_rows(directive):
            rows.append((u.name, u, flags.get((directive, u.code), zero)))
        total_row, total_flags = report.directive_row(directive), zero
        for (code, _), uf in flags.items():
            if code == directive:
                total_flags = total_flags.merge(uf)
    rows.sort(key=lambda x: _leader_behind(x[1], x[2]))
    out = [leader_row(name, r, f) for name, r, f in rows]
    total = leader_row(TOTAL, total_row, total_flags)
    table = [total, *out] if total_first else [*out, total]
    if directive is None:  # one row per directive
        table = [{"Văn bản": row.pop("Đơn vị"), **row} for row in table]
    return table


def directive_names(report: ProgressReport) -> dict[str, str]:
    """:func:`short_name` of each directive of the report, with the code where two would read
    the same ("70-KL/TW" and the plan implementing it)."""
    names = {d.code: short_name(report.directives[d.code]) for d in report.directive_rows()}
    seen: dict[str, int] = {}
    for n in names.values():
        seen[n] = seen.get(n, 0) + 1
    return {c: n if seen[n] == 1 or n == c else f"{n} ({c})" for c, n in names.items()}


def late_units(report: ProgressReport, directive: str) -> list[str]:
    """The names of the units with tasks overdue, most behind first."""
    return [u.name for u in report.unit_rows(directive) if u.overdue]
