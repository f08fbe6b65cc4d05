"""A tracking sheet sent back by a unit (``kttt import-progress FILE.xlsx``): the rows of its
"Phụ lục" sheet that report a task done, read through the hidden key column ("Mã nhiệm vụ").

A row reports a task done when its "Tình trạng" is one of the done labels of the drop-down
("Đã hoàn thành", "Đã hoàn thành đúng hạn", "Đã hoàn thành quá hạn", "Đã báo cáo, chờ xác
nhận"); it then needs the evidence ("Minh chứng": the symbol and date of the document issued)
and takes the completion date from "Ngày hoàn thành" (else from the evidence's date). Rows
without a key (titles, group headings, notes) are not tasks. Every problem is an
:class:`~kttt_workflow.errors.Issue` at its cell ("trang «Phụ lục», ô J12 (Ngày hoàn thành)"),
all of them raised together as one :class:`~kttt_workflow.errors.InputError`: the service
records the completions only when no row is wrong (:meth:`Tracker.record_completions`).
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kttt_workflow.domain.progress import SheetCompletion, cell_name
from kttt_workflow.domain.status import LABELS, Status
from kttt_workflow.domain.text import nfc
from kttt_workflow.errors import InputError, Issue, shown
from kttt_workflow.reports.xlsx import (
    APPENDIX,
    DONE_PLAIN,
    KEY_HEADING,
    STATUS_CHOICES,
    STATUS_HEADING,
)

DATE_HEADING = "Ngày hoàn thành"
EVIDENCE_HEADING = "Minh chứng"  # the heading starts so ("Minh chứng (số, ký hiệu, ngày văn bản)")
DONE_CHOICES = frozenset(
    {
        LABELS[Status.done_on_time],
        LABELS[Status.done_late],
        DONE_PLAIN,
        LABELS[Status.awaiting_verification],
    }
)
_HEADER_ROWS = 12  # the header is looked for in the sheet's first rows


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(nfc(str(value)).split())


def _date(value: Any) -> date | None:
    """A cell's date: an Excel date, or text written dd/mm/yyyy (or yyyy-mm-dd); ValueError
    otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def read_sheet(path: Path, name: str | None = None) -> list[SheetCompletion]:
    """The completions a returned sheet reports, or an ``InputError`` listing every bad row.

    ``name`` is how messages name the file (default: ``path``).
    """
    from openpyxl import load_workbook

    file = name or str(path)

    def fail(message: str, row: int = 0, column: int = 0) -> InputError:
        return InputError([Issue(file, row, column, message)])

    if not Path(path).is_file():
        raise fail("không có tệp này")
    if not zipfile.is_zipfile(path):
        raise fail(
            "không phải tệp Excel .xlsx (tệp .xls cũ hoặc tệp đặt mật khẩu cần lưu lại dạng "
            ".xlsx không mật khẩu)"
        )
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a damaged package: say which file, not the parser's trace
        raise fail(f"không đọc được tệp Excel: {type(exc).__name__}") from None
    try:
        if APPENDIX not in wb.sheetnames:
            raise fail(
                f"không có trang «{APPENDIX}» (các trang có: {', '.join(wb.sheetnames)}); cần "
                "gửi lại bảng theo dõi do lệnh kttt report --format xlsx lập"
            )
        rows = list(wb[APPENDIX].iter_rows(values_only=True))
    finally:
        wb.close()
    return _entries(file, rows)


def _entries(file: str, rows: list[tuple[Any, ...]]) -> list[SheetCompletion]:
    header_at, cols = _header(rows)
    if header_at is None:
        raise InputError(
            [
                Issue(
                    file,
                    0,
                    0,
                    f"trang «{APPENDIX}» không có dòng tiêu đề với các cột «{KEY_HEADING}», "
                    f"«{STATUS_HEADING}», «{DATE_HEADING}» và «{EVIDENCE_HEADING}»",
                )
            ]
        )
    issues: list[Issue] = []
    entries: list[SheetCompletion] = []
    seen: dict[str, int] = {}

    def at(row: int, col: str, message: str) -> None:
        number, heading = cols[col]
        issues.append(
            Issue(file, row, number, f"{cell_name(APPENDIX, row, number, heading)}: {message}")
        )

    for i, values in enumerate(rows[header_at + 1 :], header_at + 2):

        def cell(col: str, values: tuple[Any, ...] = values) -> Any:
            n = cols[col][0]
            return values[n - 1] if n and n - 1 < len(values) else None

        key = _text(cell("key"))
        if not key:
            continue
        status = _text(cell("status"))
        evidence = _text(cell("evidence"))
        try:
            on = _date(cell("on"))
        except ValueError as e:
            at(i, "on", f"ngày {shown(str(e))} không hợp lệ; cần dạng dd/mm/yyyy")
            continue
        if status and status not in STATUS_CHOICES:
            at(i, "status", f"tình trạng {shown(status)} không có trong danh sách; chọn một "
               f"trong: {', '.join(STATUS_CHOICES)}")  # fmt: skip
            continue
        if status not in DONE_CHOICES:
            if on is not None or evidence:
                at(i, "status", "có ngày hoàn thành hoặc minh chứng nhưng tình trạng chưa "
                   f"ghi là «{DONE_PLAIN}»")  # fmt: skip
            continue
        if key in seen:
            at(i, "key", f"nhiệm vụ {shown(key)} đã có ở dòng {seen[key]}")
            continue
        seen[key] = i
        if not evidence:
            at(i, "evidence", "nhiệm vụ đã hoàn thành cần ghi minh chứng (số, ký hiệu và ngày "
               "văn bản đã ban hành)")  # fmt: skip
            continue
        entries.append(
            SheetCompletion(
                task_id=key,
                on=on,
                evidence=evidence,
                note=None,  # the sheet's "Ghi chú" holds the report's own notes
                file=file,
                sheet=APPENDIX,
                row=i,
                columns={
                    "key": cols["key"],
                    "on": cols["on"],
                    "evidence": cols["evidence"],
                },
            )
        )
    if issues:
        raise InputError(issues)
    return entries


def _header(rows: list[tuple[Any, ...]]) -> tuple[int | None, dict[str, tuple[int, str]]]:
    """The index of the header row and, per column role, (1-based column, heading)."""
    for i, values in enumerate(rows[:_HEADER_ROWS]):
        found: dict[str, tuple[int, str]] = {}
        for n, v in enumerate(values, 1):
            heading = _text(v)
            if heading == KEY_HEADING:
                found["key"] = (n, heading)
            elif heading == STATUS_HEADING:
                found["status"] = (n, heading)
            elif heading == DATE_HEADING:
                found["on"] = (n, heading)
            elif heading.startswith(EVIDENCE_HEADING):
                found["evidence"] = (n, heading)
        if {"key", "status", "on", "evidence"} <= set(found):
            return i, found
    return None, {}
