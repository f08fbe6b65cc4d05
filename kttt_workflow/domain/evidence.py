"""Evidence of completion: find the issued document's symbol and date in free text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from kttt_workflow.domain.symbols import find_symbol
from kttt_workflow.domain.text import nfc

_DATE = re.compile(r"(?<!\d)(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})(?!\d)")
_DATE_WORDS = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.IGNORECASE)


@dataclass(frozen=True)
class Evidence:
    """What an evidence text says: the document's symbol and date (when found), and what is
    doubtful about it (``problems``, in Vietnamese: stored as parsed, shown as warnings)."""

    text: str
    symbol: str | None
    issued_on: date | None
    problems: tuple[str, ...] = ()


def parse_evidence(text: str) -> Evidence:
    """Extract the document symbol and date from an evidence text.

    >>> parse_evidence("Kế hoạch số 28/KH-UBND ngày 04/02/2021")
    Evidence(text='Kế hoạch số 28/KH-UBND ngày 04/02/2021', symbol='28/KH-UBND', issued_on=datetime.date(2021, 2, 4))
    """
    text = nfc(text).strip()
    found = find_symbol(text)
    symbol = found[0] if found else None
    issued: date | None = None
    problems: list[str] = []
    rest = text[found[2] :] if found else text
    for rx in (_DATE_WORDS, _DATE):
        dm = rx.search(rest) or rx.search(text)
        if dm:
            d, mo, y = (int(x) for x in dm.groups())
            try:
                issued = date(y, mo, d)
            except ValueError:
                problems.append(f"ngày {d:02d}/{mo:02d}/{y} trong minh chứng không có thật")
            break
    if symbol is None and issued is None and not problems:
        problems.append("minh chứng không ghi số, ký hiệu và ngày của văn bản đã ban hành")
    return Evidence(text, symbol, issued, tuple(problems))


def report_date_error(
    on: date, *, today: date, assigned_on: date | None, evidence_on: date | None
) -> str | None:
    """Why a completion report cannot carry the date ``on``, or None.

    >>> report_date_error(date(2000, 1, 1), today=date(2026, 12, 1), assigned_on=date(2022, 6, 16),
    ...                   evidence_on=None)
    'ngày báo cáo 01/01/2000 trước ngày ban hành văn bản giao nhiệm vụ (16/06/2022)'
    """
    if on > today:
        return f"ngày báo cáo {on:%d/%m/%Y} sau ngày hôm nay ({today:%d/%m/%Y})"
    if assigned_on is not None and on < assigned_on:
        return (
            f"ngày báo cáo {on:%d/%m/%Y} trước ngày ban hành văn bản giao nhiệm vụ "
            f"({assigned_on:%d/%m/%Y})"
        )
    if evidence_on is not None and evidence_on > on:
        return f"văn bản minh chứng ngày {evidence_on:%d/%m/%Y} sau ngày báo cáo {on:%d/%m/%Y}"
    return None


def decision_date_error(on: date, *, today: date, reported_on: date) -> str | None:
    """Why a verification or return cannot carry the date ``on``, or None."""
    if on > today:
        return f"ngày xác nhận {on:%d/%m/%Y} sau ngày hôm nay ({today:%d/%m/%Y})"
    if on < reported_on:
        return f"ngày xác nhận {on:%d/%m/%Y} trước ngày báo cáo hoàn thành {reported_on:%d/%m/%Y}"
    return None
