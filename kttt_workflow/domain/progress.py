"""The consolidated progress report: per directive, per unit and per level, as of a date. Pure.

The store counts the tasks of every (directive, unit, status, due-by, key task) in one
``GROUP BY`` (:mod:`kttt_workflow.store.progress`); :func:`assemble` builds the report from those
few aggregate rows, never from task rows.

Counts and percentages (also in ``docs/prefect.md``), as of ``as_of``:

* **total** (*Tổng số nhiệm vụ*): tasks not removed whose period has begun (recurring instances
  of later periods are not counted yet), in the seven statuses of ``domain.status.Status``;
* **done** (*Đã hoàn thành*): ``done_on_time + done_late`` (a verified report dated on or before
  ``as_of``);
* **due** (*Đến hạn*, the denominator of the deadline percentages): tasks whose computed due
  date is on or before ``as_of`` and that are in one of ``done_on_time``, ``done_late``,
  ``overdue``, ``on_track`` (due today). Tasks waiting for their parent task (``pending``), with
  no single deadline (``ongoing``) or no deadline yet (``awaiting_deadline``) are never "due";
  a task done early, before a due date that is still to come, is done but not yet due;
* ``done_pct`` = done among due / due; ``on_time_pct`` = done on time among due / due;
  ``overdue_pct`` = overdue / due; ``completion_pct`` = done / total.
  A percentage with a zero denominator is ``None`` (shown as "—").

>>> from kttt_workflow.service import Tracker                 # doctest: +SKIP
>>> r = Tracker.open().progress(as_of=date(2022, 12, 5), directive="ctr-nq20-2022")  # doctest: +SKIP
>>> print(r.to_markdown())                                    # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kttt_workflow.domain.status import DUE_STATUSES, ORDER, SHORT, Status, TaskStatus

OVERDUE_LIMIT = 500  # overdue tasks listed per report (the counts are always complete)
OTHER_LEVEL = "khac"


@dataclass
class ProgressRow:
    """Counts for one scope: a directive, a unit within a directive, or a level within one."""

    scope: str  # "directive" | "unit" | "level"
    directive: str
    code: str  # directive code, unit code or level code
    name: str
    level: str | None = None  # the unit's level code (unit rows)
    level_name: str | None = None
    position: int = 0  # level order (level rows)
    counts: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in ORDER})
    due: int = 0
    done_due: int = 0
    done_on_time_due: int = 0
    key_overdue: int = 0  # overdue key tasks ("nhiệm vụ trọng tâm")

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

    def add(self, status: str, due_by: bool, key_task: bool, n: int) -> None:
        self.counts[status] = self.counts.get(status, 0) + n
        if due_by and status in DUE_STATUSES:
            self.due += n
            if status in (Status.done_on_time.value, Status.done_late.value):
                self.done_due += n
            if status == Status.done_on_time.value:
                self.done_on_time_due += n
        if key_task and status == Status.overdue.value:
            self.key_overdue += n

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
            "due": self.due,
            "done_due": self.done_due,
            "done_on_time_due": self.done_on_time_due,
            "key_overdue": self.key_overdue,
            "done_pct": self.done_pct,
            "on_time_pct": self.on_time_pct,
            "overdue_pct": self.overdue_pct,
            "completion_pct": self.completion_pct,
        }

    def table_row(self, first: dict[str, Any]) -> dict[str, Any]:
        """One row of a UI/terminal table: ``first`` columns, then the counts and percentages."""
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


@dataclass(frozen=True)
class DirectiveInfo:
    code: str
    doc_type: str
    symbol: str | None
    issued_on: date | None
    title: str

    @property
    def heading(self) -> str:
        head = self.symbol or self.code
        if self.issued_on:
            head += f" ngày {self.issued_on:%d/%m/%Y}"
        return f"{head} — {self.title}"


@dataclass
class ProgressReport:
    """The consolidated report as of ``as_of`` (for one directive, or all when ``directive`` is None)."""

    as_of: date
    directive: str | None
    directives: dict[str, DirectiveInfo]
    rows: list[ProgressRow]
    overdue_tasks: list[TaskStatus]
    overdue_limit: int = OVERDUE_LIMIT

    def directive_rows(self) -> list[ProgressRow]:
        return [r for r in self.rows if r.scope == "directive"]

    def directive_row(self, code: str) -> ProgressRow:
        for r in self.rows:
            if r.scope == "directive" and r.code == code:
                return r
        raise KeyError(code)

    def unit_rows(self, directive: str) -> list[ProgressRow]:
        return [r for r in self.rows if r.scope == "unit" and r.directive == directive]

    def level_rows(self, directive: str) -> list[ProgressRow]:
        return [r for r in self.rows if r.scope == "level" and r.directive == directive]

    def overdue_of(self, directive: str) -> list[TaskStatus]:
        return [t for t in self.overdue_tasks if t.directive == directive]

    # -- tables (Prefect UI artifacts, terminal) ----------------------------------------------
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
                "Nhóm quá hạn": t.overdue_bucket or "",
                "Trọng tâm": "Có" if t.key_task else "",
            }
            for t in self.overdue_of(directive)
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "directive": self.directive,
            "definitions": DEFINITIONS,
            "directives": [
                {
                    **r.as_json(),
                    "symbol": self.directives[r.code].symbol,
                    "title": self.directives[r.code].title,
                    "units": [u.as_json() for u in self.unit_rows(r.code)],
                    "levels": [lv.as_json() for lv in self.level_rows(r.code)],
                    "overdue_tasks": [t.as_json() for t in self.overdue_of(r.code)],
                }
                for r in self.directive_rows()
            ],
        }

    def to_markdown(self, directive: str | None = None) -> str:
        """The report in Vietnamese Markdown (one directive, or every directive of the report)."""
        codes = [directive] if directive else [r.code for r in self.directive_rows()]
        out = [f"# Báo cáo tình hình thực hiện nhiệm vụ — tính đến ngày {self.as_of:%d/%m/%Y}", ""]
        if not codes:
            out.append("Không có nhiệm vụ nào.")
        for code in codes:
            out += self._markdown_directive(code)
        out += ["## Cách tính", ""]
        out += [f"- {line}" for line in DEFINITIONS_VI]
        return "\n".join(out) + "\n"

    def _markdown_directive(self, code: str) -> list[str]:
        info, d = self.directives[code], self.directive_row(code)
        c = d.counts
        out = [f"## {info.heading}", "", f"Mã văn bản: `{code}`.", ""]
        out.append(
            f"Tổng số nhiệm vụ: **{d.total}**. Đã hoàn thành: **{d.done}** (đúng hạn "
            f"{c[Status.done_on_time.value]}, quá hạn {c[Status.done_late.value]}); chưa hoàn "
            f"thành: trong hạn {c[Status.on_track.value]}, **quá hạn {d.overdue}**"
            + (f" (trong đó {d.key_overdue} nhiệm vụ trọng tâm)" if d.key_overdue else "")
            + f"; chờ nhiệm vụ cấp trên {c[Status.pending.value]}; thường xuyên "
            f"{c[Status.ongoing.value]}; chờ thời hạn {c[Status.awaiting_deadline.value]}."
        )
        out.append("")
        out.append(
            f"Đến hạn: {d.due} nhiệm vụ; tỷ lệ hoàn thành {fmt_pct(d.done_pct)} "
            f"({d.done_due}/{d.due}), đúng hạn {fmt_pct(d.on_time_pct)} "
            f"({d.done_on_time_due}/{d.due}), quá hạn {fmt_pct(d.overdue_pct)} "
            f"({d.overdue}/{d.due}); đã hoàn thành trên tổng số {fmt_pct(d.completion_pct)} "
            f"({d.done}/{d.total})."
        )
        out.append("")
        out += ["### Theo đơn vị", "", *_markdown_table(self.unit_table(code)), ""]
        out += ["### Theo cấp", "", *_markdown_table(self.level_table(code)), ""]
        overdue = self.overdue_table(code)
        out.append("### Nhiệm vụ quá hạn")
        out.append("")
        if overdue:
            shown = len(overdue)
            if shown < d.overdue:
                out += [f"({shown} trên {d.overdue} nhiệm vụ quá hạn được liệt kê.)", ""]
            out += [*_markdown_table(overdue), ""]
        else:
            out += ["Không có nhiệm vụ quá hạn.", ""]
        return out


DEFINITIONS: dict[str, str] = {
    "total": "tasks not removed whose period has begun by as_of",
    "done": "done_on_time + done_late (verified report dated on or before as_of)",
    "due": "tasks due on or before as_of in done_on_time, done_late, overdue or on_track",
    "done_pct": "done among due / due",
    "on_time_pct": "done_on_time among due / due",
    "overdue_pct": "overdue / due",
    "completion_pct": "done / total",
}
DEFINITIONS_VI: tuple[str, ...] = (
    "Tổng số nhiệm vụ: các nhiệm vụ đang được theo dõi (không tính nhiệm vụ đã bỏ; nhiệm vụ định"
    " kỳ chỉ tính các kỳ đã bắt đầu).",
    "Đến hạn: nhiệm vụ có hạn hoàn thành đến hết ngày báo cáo (không tính nhiệm vụ chờ nhiệm vụ"
    " cấp trên, nhiệm vụ thường xuyên, nhiệm vụ chưa xác định thời hạn).",
    "% hoàn thành = số nhiệm vụ đến hạn đã hoàn thành / số nhiệm vụ đến hạn; % đúng hạn"
    " = số nhiệm vụ đến hạn đã hoàn thành đúng hạn / số nhiệm vụ đến hạn; % quá hạn = số"
    " nhiệm vụ quá hạn / số nhiệm vụ đến hạn.",
    "Một nhiệm vụ được tính là hoàn thành khi báo cáo hoàn thành đã được xác nhận và ngày báo"
    " cáo không muộn hơn ngày tính.",
)


def fmt_pct(value: float | None) -> str:
    """A percentage the way a Vietnamese report writes it: ``66,7%`` (``—`` when undefined)."""
    if value is None:
        return "—"
    return f"{value:.1f}".replace(".", ",") + "%"


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _cell(v: Any) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def _markdown_table(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["(không có dữ liệu)"]
    cols = list(rows[0])
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    out += ["| " + " | ".join(_cell(r[c]) for c in cols) + " |" for r in rows]
    return out


@dataclass(frozen=True)
class CountRow:
    """One aggregate row of the store: how many tasks share these values."""

    directive: str
    unit: str
    status: str
    due_by: bool  # the computed due date is on or before the report date
    key_task: bool
    count: int


def assemble(
    as_of: date,
    directive: str | None,
    counts: Iterable[CountRow],
    directives: Mapping[str, DirectiveInfo],
    units: Mapping[str, tuple[str, str | None]],
    levels: Mapping[str, tuple[str, int]],
    overdue: list[TaskStatus],
    overdue_limit: int = OVERDUE_LIMIT,
) -> ProgressReport:
    """The report from the store's aggregate rows.

    ``units`` maps a unit code to (name, level code); ``levels`` a level code to (name, position).
    Units of no declared level are counted under "Khác".
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
        unit_row = by_unit.setdefault(
            (c.directive, c.unit),
            ProgressRow("unit", c.directive, c.unit, uname, level=ulevel, level_name=lname),
        )
        level_row = by_level.setdefault(
            (c.directive, lcode), ProgressRow("level", c.directive, lcode, lname, position=lpos)
        )
        for row in (by_directive[c.directive], unit_row, level_row):
            row.add(c.status, c.due_by, c.key_task, c.count)
    unit_rows = sorted(
        by_unit.values(),
        key=lambda r: (r.directive, levels.get(r.level or "", ("", 10_000))[1], r.name, r.code),
    )
    level_rows = sorted(by_level.values(), key=lambda r: (r.directive, r.position, r.code))
    return ProgressReport(
        as_of,
        directive,
        dict(directives),
        [*by_directive.values(), *unit_rows, *level_rows],
        overdue,
        overdue_limit,
    )
