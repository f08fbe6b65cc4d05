"""The report as an Excel workbook (openpyxl, written in streaming mode): a summary sheet
("Tổng hợp": the counts by document, by unit and by level, each table with its "Cộng" row) and
the appendix sheet ("Phụ lục": one row per task, in the plan's order and groups) that a unit
fills in and sends back (:mod:`.readback`, ``kttt import-progress``).

The appendix sheet has a frozen header and an auto-filter; widths and wrapping that fit
Vietnamese text; due and completion dates as real Excel dates shown dd/mm/yyyy; the status as a
drop-down of the official labels (kept on a hidden sheet, "Danh mục": some labels hold commas);
overdue rows coloured by a conditional format on the status; and a hidden key column ("Mã nhiệm
vụ") that identifies each task when the sheet comes back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from kttt_workflow.domain.progress import (
    APART,
    COLUMNS,
    DEFINITIONS_VI,
    TOTAL,
    Completed,
    PlanRow,
    ProgressReport,
    ProgressRow,
)
from kttt_workflow.domain.status import LABELS, Status, TaskStatus
from kttt_workflow.reports.files import write_atomically

SUMMARY = "Tổng hợp"
APPENDIX = "Phụ lục"
LISTS = "Danh mục"
DONE_PLAIN = "Đã hoàn thành"  # a done task without a deadline; also what a unit may choose
HEADER_ROW = 4  # the appendix's header row (title, subject and a note above it)


@dataclass(frozen=True)
class SheetColumn:
    heading: str
    width: float
    kind: str = "text"  # text | date | number | key


# The appendix's columns: the .docx appendix's, with the dates, days, evidence and the key.
SHEET_COLUMNS: tuple[SheetColumn, ...] = (
    SheetColumn("STT", 7),
    SheetColumn("Nội dung nhiệm vụ", 60),
    SheetColumn("Cơ quan chủ trì", 30),
    SheetColumn("Cơ quan phối hợp", 30),
    SheetColumn("Sản phẩm", 24),
    SheetColumn("Thời hạn", 22),
    SheetColumn("Hạn hoàn thành", 13, "date"),
    SheetColumn("Tình trạng", 26),
    SheetColumn("Số ngày quá hạn", 10, "number"),
    SheetColumn("Ngày hoàn thành", 13, "date"),
    SheetColumn("Minh chứng (số, ký hiệu, ngày văn bản)", 36),
    SheetColumn("Ghi chú", 28),
    SheetColumn("Mã nhiệm vụ", 34, "key"),
)
HEADINGS = [c.heading for c in SHEET_COLUMNS]
KEY_HEADING = "Mã nhiệm vụ"
STATUS_HEADING = "Tình trạng"
STATUS_CHOICES: tuple[str, ...] = (
    LABELS[Status.done_on_time],
    LABELS[Status.done_late],
    DONE_PLAIN,
    LABELS[Status.awaiting_verification],
    LABELS[Status.on_track],
    LABELS[Status.overdue],
    *(LABELS[s] for s in APART if s != Status.awaiting_verification),
)
OVERDUE_FILL = PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE")
HEAD_FILL = PatternFill("solid", start_color="D9E1F2", end_color="D9E1F2")
GROUP_FILL = PatternFill("solid", start_color="F2F2F2", end_color="F2F2F2")
_THIN = Side(style="thin", color="808080")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
FONT = "Times New Roman"


def _styles(wb: Workbook) -> None:
    """Named styles, registered once: a cell takes one by name (cheap for 100,000 rows)."""
    wrap = Alignment(wrap_text=True, vertical="top")
    for name, font, align, fill, fmt in (
        ("kttt-text", Font(name=FONT, size=12), wrap, None, "General"),
        ("kttt-center", Font(name=FONT, size=12), Alignment(horizontal="center", vertical="top", wrap_text=True), None, "General"),
        ("kttt-date", Font(name=FONT, size=12), Alignment(horizontal="center", vertical="top"), None, "dd/mm/yyyy"),
        ("kttt-number", Font(name=FONT, size=12), Alignment(horizontal="right", vertical="top"), None, "#,##0"),
        ("kttt-head", Font(name=FONT, size=12, bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True), HEAD_FILL, "General"),
        ("kttt-group", Font(name=FONT, size=12, bold=True), wrap, GROUP_FILL, "General"),
        ("kttt-bold", Font(name=FONT, size=12, bold=True), wrap, None, "General"),
        ("kttt-title", Font(name=FONT, size=14, bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True), None, "General"),
        ("kttt-note", Font(name=FONT, size=12, italic=True), Alignment(wrap_text=True, vertical="top"), None, "General"),
    ):  # fmt: skip
        style = NamedStyle(name=name, font=font, alignment=align, number_format=fmt)
        if fill is not None:
            style.fill = fill
        if name not in ("kttt-title", "kttt-note"):
            style.border = BORDER
        wb.add_named_style(style)


def _cell(ws: Any, value: Any, style: str = "kttt-text") -> WriteOnlyCell:
    c = WriteOnlyCell(ws, value=value)
    c.style = style
    return c


def write_xlsx(
    report: ProgressReport,
    tasks: Iterable[tuple[TaskStatus, Completed | None]],
    path: Path,
    *,
    limit: int | None = None,
) -> Path:
    """Write ``report`` and its ``tasks`` (``Tracker.report_tasks``) to ``path``, atomically."""
    return write_atomically(path, lambda tmp: _write(report, tasks, tmp, limit))


def _write(
    report: ProgressReport,
    tasks: Iterable[tuple[TaskStatus, Completed | None]],
    path: Path,
    limit: int | None,
) -> None:
    wb = Workbook(write_only=True)
    _styles(wb)
    _summary(wb.create_sheet(SUMMARY), report)
    _appendix(wb.create_sheet(APPENDIX), report, tasks, limit)
    lists = wb.create_sheet(LISTS)
    for label in STATUS_CHOICES:
        lists.append([label])
    lists.sheet_state = "hidden"
    wb.save(path)


# --------------------------------------------------------------------------------------------------
# "Tổng hợp"
# --------------------------------------------------------------------------------------------------
def _summary(ws: Any, report: ProgressReport) -> None:
    width = 2 + len(COLUMNS)
    ws.column_dimensions["A"].width = 6
    ws.column_dimensions["B"].width = 46
    for i in range(3, width + 1):
        ws.column_dimensions[get_column_letter(i)].width = 13
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToHeight = 0
    rows = _Rows(ws, width)
    rows.line("BÁO CÁO TÌNH HÌNH THỰC HIỆN NHIỆM VỤ", "kttt-title", 24)
    rows.line(report.subject, "kttt-title", 36)
    rows.line(report.cutoff_text(), "kttt-note", 30)
    rows.blank()
    rows.line("I. TỔNG HỢP CHUNG", "kttt-bold")
    for para in report.summary():
        rows.line("".join(t for t, _ in para), "kttt-note", 32)
    rows.blank()
    total = report.total_row()
    rows.line("II. THEO VĂN BẢN", "kttt-bold")
    rows.table(report.directive_rows(), total, lambda r: report.directives[r.code].symbol or r.code)
    rows.blank()
    rows.line("III. THEO ĐƠN VỊ (đơn vị có nhiều nhiệm vụ quá hạn nhất trước)", "kttt-bold")
    rows.table(report.unit_rows(), total, lambda r: r.name)
    rows.blank()
    rows.line("IV. THEO CẤP", "kttt-bold")
    rows.table(report.level_rows(), total, lambda r: r.name)
    rows.blank()
    rows.line("Cách tính", "kttt-bold")
    for line in DEFINITIONS_VI:
        rows.line(line, "kttt-note", 30)
    ws.freeze_panes = None


class _Rows:
    """Rows appended to a streaming sheet, with their merges (written after the rows)."""

    def __init__(self, ws: Any, width: int) -> None:
        self.ws, self.width, self.n = ws, width, 0

    def _append(self, cells: Sequence[Any], height: float | None = None) -> None:
        self.n += 1
        if height:
            self.ws.row_dimensions[self.n].height = height
        self.ws.append(list(cells))

    def blank(self) -> None:
        self._append([])

    def line(self, text: str, style: str, height: float | None = None) -> None:
        """A line of text across the sheet's width (one merged cell)."""
        self._append([_cell(self.ws, text, style)], height)
        self.ws.merged_cells.add(f"A{self.n}:{get_column_letter(self.width)}{self.n}")

    def table(self, rows: Sequence[ProgressRow], total: ProgressRow, name: Any) -> None:
        """A table of counts with a two-row header (the group over its columns) and "Cộng"."""
        groups = ["STT", "Tên", *(c.group or c.heading for c in COLUMNS)]
        heads = ["", "", *("" if not c.group else c.heading for c in COLUMNS)]
        self._append([_cell(self.ws, g, "kttt-head") for g in groups], 30)
        self._append([_cell(self.ws, h, "kttt-head") for h in heads], 60)
        top, bottom = self.n - 1, self.n
        for col in (1, 2):
            letter = get_column_letter(col)
            self.ws.merged_cells.add(f"{letter}{top}:{letter}{bottom}")
        start = 3
        for i, c in enumerate(COLUMNS, 3):
            last = i == 2 + len(COLUMNS) or COLUMNS[i - 2].group != c.group
            if last:
                if c.group and i > start:
                    self.ws.merged_cells.add(
                        f"{get_column_letter(start)}{top}:{get_column_letter(i)}{top}"
                    )
                elif not c.group:
                    letter = get_column_letter(i)
                    self.ws.merged_cells.add(f"{letter}{top}:{letter}{bottom}")
                start = i + 1
        for n, r in enumerate([*rows, total], 1):
            is_total = r is total
            style = "kttt-bold" if is_total else "kttt-text"
            cells = [
                _cell(self.ws, "" if is_total else n, "kttt-center"),
                _cell(self.ws, TOTAL if is_total else name(r), style),
            ]
            for c in COLUMNS:
                value = c.value(r)
                cells.append(_cell(self.ws, value, "kttt-center" if c.percent else "kttt-number"))
            self._append(cells)


# --------------------------------------------------------------------------------------------------
# "Phụ lục"
# --------------------------------------------------------------------------------------------------
def _appendix(
    ws: Any,
    report: ProgressReport,
    tasks: Iterable[tuple[TaskStatus, Completed | None]],
    limit: int | None,
) -> None:
    ncol = len(SHEET_COLUMNS)
    last_letter = get_column_letter(ncol)
    for i, col in enumerate(SHEET_COLUMNS, 1):
        dim = ws.column_dimensions[get_column_letter(i)]
        dim.width = col.width
        if col.kind == "key":
            dim.hidden = True
    ws.freeze_panes = f"C{HEADER_ROW + 1}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToHeight = 0
    visible = ncol - 1
    rows = _Rows(ws, visible)
    rows.line("PHỤ LỤC: TÌNH HÌNH THỰC HIỆN CÁC NHIỆM VỤ", "kttt-title", 24)
    rows.line(f"{report.subject}. {report.cutoff_text()}", "kttt-note", 36)
    rows.line(
        "Đơn vị cập nhật cột «Tình trạng» (chọn trong danh sách), «Ngày hoàn thành» và «Minh "
        "chứng» của nhiệm vụ đã hoàn thành rồi gửi lại; không sửa, không xoá cột ẩn «Mã nhiệm "
        "vụ». Cơ quan theo dõi nhập lại bằng lệnh kttt import-progress.",
        "kttt-note",
        32,
    )
    rows._append([_cell(ws, h, "kttt-head") for h in HEADINGS], 45)
    plans = {(p.directive, r.key): r for p in report.plans for r in p.rows}
    groups = {
        (p.directive, r.key): (g.numeral, g.title)
        for p in report.plans
        for g in p.groups
        for r in g.rows
    }
    several = len(report.directive_rows()) > 1
    directive = group = None
    written = 0
    for t, done in tasks:
        if t.directive != directive:
            directive, group = t.directive, None
            if several or report.directives.get(t.directive):
                info = report.directives[t.directive]
                rows._append(
                    [_cell(ws, "", "kttt-group"), _cell(ws, info.heading, "kttt-group")]
                    + [_cell(ws, "", "kttt-group") for _ in range(visible - 2)]
                )
        plan = plans.get((t.directive, t.task_key))
        numeral, title = groups.get((t.directive, t.task_key), (None, ""))
        if numeral is not None and numeral != group:
            group = numeral
            rows._append(
                [_cell(ws, numeral, "kttt-group"), _cell(ws, title, "kttt-group")]
                + [_cell(ws, "", "kttt-group") for _ in range(visible - 2)]
            )
        rows._append(_task_cells(ws, t, done, plan))
        written += 1
    total = sum(r.total for r in report.directive_rows())
    if written < total:
        rows.line(
            f"Chỉ liệt kê {written:,} trên {total:,} nhiệm vụ (giới hạn {limit or written:,} dòng); "
            "lập báo cáo theo từng văn bản (--directive), đơn vị (--unit) hoặc cấp (--level) để có "
            "danh sách đầy đủ.".replace(",", "."),
            "kttt-note",
            30,
        )
    first, end = HEADER_ROW + 1, max(rows.n, HEADER_ROW + 1)
    ws.auto_filter.ref = f"A{HEADER_ROW}:{last_letter}{end}"
    status_col = get_column_letter(HEADINGS.index(STATUS_HEADING) + 1)
    dv = DataValidation(
        type="list",
        formula1=f"'{LISTS}'!$A$1:$A${len(STATUS_CHOICES)}",  # OOXML: no leading '='
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Tình trạng không hợp lệ",
        error="Hãy chọn một tình trạng trong danh sách.",
        promptTitle="Tình trạng",
        prompt="Chọn trong danh sách; nhiệm vụ đã hoàn thành: ghi thêm ngày hoàn thành và minh chứng.",
        showInputMessage=True,
    )
    dv.add(f"{status_col}{first}:{status_col}{end}")
    ws.data_validations.append(dv)
    overdue = LABELS[Status.overdue]
    ws.conditional_formatting.add(
        f"A{first}:{get_column_letter(visible)}{end}",
        FormulaRule(
            formula=[f'${status_col}{first}="{overdue}"'],
            fill=OVERDUE_FILL,
            font=Font(name=FONT, color="9C0006"),
        ),
    )


def status_cell(t: TaskStatus) -> str:
    """The "Tình trạng" of one task: its official label; a done task without a deadline is
    "Đã hoàn thành"."""
    if t.status == Status.done_on_time.value and t.due is None:
        return DONE_PLAIN
    return t.status_label


def _task_cells(
    ws: Any, t: TaskStatus, done: Completed | None, plan: PlanRow | None
) -> list[WriteOnlyCell]:
    deadline = t.deadline_text or ""
    if t.period:
        deadline = f"{deadline} (kỳ {t.period})" if deadline else f"Kỳ {t.period}"
    days = t.days_overdue if t.status in (Status.overdue.value, Status.done_late.value) else None
    notes = []
    if t.lead_shown != t.unit_name:
        notes.append(f"Theo văn bản: {t.unit_name}")
    if t.waiting_for_parent:
        notes.append("nhiệm vụ cấp trên chưa hoàn thành")
    if t.key_task:
        notes.append("nhiệm vụ trọng tâm")
    if done is not None and done.state == "reported":
        notes.append("báo cáo đang chờ xác nhận")
    values: list[tuple[Any, str]] = [
        (plan.number if plan else t.task_key, "kttt-center"),
        (t.title, "kttt-text"),
        (t.lead_shown, "kttt-text"),
        (plan.coordinating if plan else "", "kttt-text"),
        (t.deliverable or "", "kttt-text"),
        (deadline, "kttt-text"),
        (t.due, "kttt-date"),
        (status_cell(t), "kttt-text"),
        (days, "kttt-number"),
        (done.reported_on if done else None, "kttt-date"),
        (done.evidence if done else "", "kttt-text"),
        ("; ".join(notes), "kttt-text"),
        (t.task_id, "kttt-text"),
    ]
    return [_cell(ws, v, s) for v, s in values]


def excel_date(value: Any) -> date | None:
    """A date cell read back (openpyxl gives a datetime for an Excel date)."""
    if hasattr(value, "date") and callable(value.date):
        return value.date()  # type: ignore[no-any-return]
    return value if isinstance(value, date) else None
