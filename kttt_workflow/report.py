"""The consolidated progress report: per directive, per unit and per level, as of a date.

One ``GROUP BY`` over the status ``CASE`` expression (``store.status.status_columns``) counts the
tasks of every (directive, unit, status) at once; everything after that works on those few
aggregate rows, never on task rows. The overdue list is one filtered ``SELECT`` (capped).

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

>>> from kttt_workflow.api import Store                      # doctest: +SKIP
>>> r = progress(Store.open(), date(2022, 12, 5), directive="ctr-nq20-2022")   # doctest: +SKIP
>>> print(r.to_markdown())                                    # doctest: +SKIP
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Date, Engine, case, func, literal, select
from sqlalchemy.engine import Connection

from kttt_workflow.domain.status import Status
from kttt_workflow.store import tables as T
from kttt_workflow.store.status import TaskStatus, status_columns, task_statuses

# Column order of every table (the office's reading order: done, then open, then the rest).
ORDER: tuple[Status, ...] = (
    Status.done_on_time,
    Status.done_late,
    Status.on_track,
    Status.overdue,
    Status.pending,
    Status.ongoing,
    Status.awaiting_deadline,
)
SHORT: dict[Status, str] = {
    Status.done_on_time: "Xong đúng hạn",
    Status.done_late: "Xong quá hạn",
    Status.on_track: "Trong hạn",
    Status.overdue: "Quá hạn",
    Status.pending: "Chờ cấp trên",
    Status.ongoing: "Thường xuyên",
    Status.awaiting_deadline: "Chờ thời hạn",
}
DUE_STATUSES = frozenset(
    {Status.done_on_time.value, Status.done_late.value, Status.overdue.value, Status.on_track.value}
)
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
                "Đơn vị chủ trì": t.unit_name,
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


def progress(
    source: Any,
    as_of: date,
    directive: str | None = None,
    *,
    overdue_limit: int = OVERDUE_LIMIT,
) -> ProgressReport:
    """The consolidated report as of ``as_of``; ``source`` is a ``Store``, an ``Engine`` or a ``Connection``."""
    if isinstance(source, Connection):
        return _progress(source, as_of, directive, overdue_limit)
    engine: Engine = getattr(source, "engine", source)
    with engine.connect() as conn:
        return _progress(conn, as_of, directive, overdue_limit)


def _progress(
    conn: Connection, as_of: date, directive: str | None, overdue_limit: int
) -> ProgressReport:
    t = T.task_t
    status, _ = status_columns(as_of, conn.dialect.name)
    d = literal(as_of, type_=Date)
    due_by = case((t.c.due_on.is_not(None) & (t.c.due_on <= d), 1), else_=0).label("due_by")
    started = t.c.starts_on.is_(None) | (t.c.starts_on <= d)
    q = (
        select(t.c.directive_code, t.c.unit_code, status, due_by, t.c.key_task, func.count())
        .where(t.c.state != "removed", started)
        .group_by(t.c.directive_code, t.c.unit_code, status, due_by, t.c.key_task)
    )
    if directive:
        q = q.where(t.c.directive_code == directive)
    groups = conn.execute(q).all()

    directives = _directives(conn, {g[0] for g in groups}, {directive} if directive else set())
    units = _units(conn, {g[1] for g in groups})
    levels = _levels(conn)
    by_directive: dict[str, ProgressRow] = {}
    by_unit: dict[tuple[str, str], ProgressRow] = {}
    by_level: dict[tuple[str, str], ProgressRow] = {}
    for code in sorted(directives):
        by_directive[code] = ProgressRow("directive", code, code, directives[code].title)
    for dcode, ucode, st, due, key, n in groups:
        uname, ulevel = units.get(ucode, (ucode, None))
        lcode = ulevel if ulevel in levels else OTHER_LEVEL
        lname, lpos = levels.get(lcode, ("Khác", 10_000))
        rows = (
            by_directive[dcode],
            by_unit.setdefault(
                (dcode, ucode),
                ProgressRow("unit", dcode, ucode, uname, level=ulevel, level_name=lname),
            ),
            by_level.setdefault(
                (dcode, lcode), ProgressRow("level", dcode, lcode, lname, position=lpos)
            ),
        )
        for row in rows:
            row.add(st, bool(due), bool(key), int(n))
    unit_rows = sorted(
        by_unit.values(),
        key=lambda r: (r.directive, levels.get(r.level or "", ("", 10_000))[1], r.name, r.code),
    )
    level_rows = sorted(by_level.values(), key=lambda r: (r.directive, r.position, r.code))
    overdue = task_statuses(
        conn, as_of, directive=directive, statuses=[Status.overdue.value], limit=overdue_limit
    )
    return ProgressReport(
        as_of,
        directive,
        directives,
        [*by_directive.values(), *unit_rows, *level_rows],
        overdue,
        overdue_limit,
    )


def _directives(
    conn: Connection, with_tasks: set[str], asked: set[str]
) -> dict[str, DirectiveInfo]:
    """The directives that have tasks, and the one asked for if it is stored (even with none yet)."""
    codes = sorted(with_tasks | asked)
    if not codes:
        return {}
    d = T.directive_t
    rows = conn.execute(
        select(d.c.code, d.c.doc_type, d.c.symbol, d.c.issued_on, d.c.title).where(
            d.c.code.in_(codes)
        )
    ).all()
    found = {
        r.code: DirectiveInfo(r.code, r.doc_type, r.symbol, r.issued_on, r.title) for r in rows
    }
    for code in sorted(with_tasks):  # tasks always belong to a stored directive; be safe anyway
        found.setdefault(code, DirectiveInfo(code, "", None, None, code))
    return found


def _units(conn: Connection, codes: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    codes = sorted(codes)
    u = T.unit_t
    out: dict[str, tuple[str, str | None]] = {}
    for chunk in range(0, len(codes), 1000):
        part = codes[chunk : chunk + 1000]
        for r in conn.execute(select(u.c.code, u.c.name, u.c.level).where(u.c.code.in_(part))):
            out[r.code] = (r.name, r.level)
    return out


def _levels(conn: Connection) -> dict[str, tuple[str, int]]:
    lv = T.level_t
    return {
        r.code: (r.name, int(r.position))
        for r in conn.execute(select(lv.c.code, lv.c.name, lv.c.position))
    }


# -- names the Prefect UI accepts -------------------------------------------------------------
_KEY_BAD = re.compile(r"[^a-z0-9-]+")


def slug(text: str) -> str:
    """Lowercase ASCII letters, digits and dashes (Vietnamese letters lose their marks).

    >>> slug("KH-67/2013 (Sở Nội vụ)")
    'kh-67-2013-so-noi-vu'
    """
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return _KEY_BAD.sub("-", text).strip("-") or "x"


def artifact_key(prefix: str, code: str | None = None) -> str:
    """A stable Prefect artifact key such as ``progress-kh-1-2022`` (``progress-all`` for all).

    Prefect keys allow only lowercase letters, digits and dashes, so dots, slashes and
    underscores of directive codes become dashes.

    >>> artifact_key("progress", "ctr-nq20.2022")
    'progress-ctr-nq20-2022'
    """
    return f"{slug(prefix)}-{slug(code) if code else 'all'}"
