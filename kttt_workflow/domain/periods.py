"""Reporting periods under Nghị định 09/2019/NĐ-CP (chế độ báo cáo của cơ quan hành chính nhà
nước). Pure.

A periodic report covers a month, a quarter, six months or a year, and its figures are cut off
("thời gian chốt số liệu", art. 12) from the 15th of the month before the period to the 14th of
the period's last month:

=================  =========================  ==========================
period             code                       data cut-off
=================  =========================  ==========================
month 11/2022      ``2022-M11``               15/10/2022 – 14/11/2022
quarter IV/2022    ``2022-Q4``                15/09/2022 – 14/12/2022
second half 2022   ``2022-H2``                15/06/2022 – 14/12/2022
year 2022          ``2022``                   15/12/2021 – 14/12/2022
=================  =========================  ==========================

The report is due on a day of the period's last month set by each reporting regime
(:class:`Regime`): the 25th by default, "trước ngày 20 của tháng cuối kỳ báo cáo" (so the 19th at
the latest) for the reports of Kế hoạch 67/KH-UBND (seed 004).

>>> p = parse_period("2022-Q4")
>>> p.label, p.cutoff_start, p.cutoff_end
('quý IV năm 2022', datetime.date(2022, 9, 15), datetime.date(2022, 12, 14))
>>> p.submission_due(parse_regime("trước ngày 20 của tháng cuối kỳ báo cáo"))
datetime.date(2022, 12, 19)
"""

from __future__ import annotations

import re
import unicodedata
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

ROMAN = ("", "I", "II", "III", "IV")
FORMS = "2022-M11 (tháng), 2022-Q4 (quý), 2022-H2 (6 tháng) hoặc 2022 (năm)"
CUTOFF_DAY = 14  # the cut-off ends on the 14th of the period's last month (art. 12)


class PeriodError(ValueError):
    """A period or a regime that cannot be read (message in Vietnamese)."""


class PeriodKind(StrEnum):
    month = "month"  # báo cáo hằng tháng
    quarter = "quarter"  # báo cáo hằng quý
    half = "half"  # báo cáo 6 tháng
    year = "year"  # báo cáo hằng năm


_MONTHS = {PeriodKind.month: 1, PeriodKind.quarter: 3, PeriodKind.half: 6, PeriodKind.year: 12}


@dataclass(frozen=True)
class Regime:
    """When a periodic report is due: ``day`` of the period's last month, or the day before it
    when the regime says "trước ngày" (``before``), as the deadline grammar reads it."""

    day: int = 25
    before: bool = False
    text: str = "chậm nhất ngày 25 của tháng cuối kỳ báo cáo"

    def due_in(self, year: int, month: int) -> date:
        day = min(self.day, monthrange(year, month)[1])
        due = date(year, month, day)
        return due - timedelta(days=1) if self.before else due


DEFAULT_REGIME = Regime()


@dataclass(frozen=True)
class Period:
    """One reporting period: ``number`` is the month (1–12), quarter (1–4) or half (1–2); 1 for a
    year."""

    kind: PeriodKind
    year: int
    number: int = 1

    @property
    def code(self) -> str:
        """``2022-M11``, ``2022-Q4``, ``2022-H2``, ``2022``."""
        letter = {PeriodKind.month: "M", PeriodKind.quarter: "Q", PeriodKind.half: "H"}
        if self.kind == PeriodKind.year:
            return str(self.year)
        return f"{self.year}-{letter[self.kind]}{self.number}"

    @property
    def label(self) -> str:
        """The period as a report's title names it: "quý IV năm 2022"."""
        if self.kind == PeriodKind.month:
            return f"tháng {self.number} năm {self.year}"
        if self.kind == PeriodKind.quarter:
            return f"quý {ROMAN[self.number]} năm {self.year}"
        if self.kind == PeriodKind.half:
            return f"6 tháng {'đầu' if self.number == 1 else 'cuối'} năm {self.year}"
        return f"năm {self.year}"

    @property
    def last_month(self) -> int:
        return self.number * _MONTHS[self.kind]

    @property
    def first_month(self) -> int:
        return self.last_month - _MONTHS[self.kind] + 1

    @property
    def starts_on(self) -> date:
        """The first day of the calendar period."""
        return date(self.year, self.first_month, 1)

    @property
    def ends_on(self) -> date:
        """The last day of the calendar period."""
        return date(self.year, self.last_month, monthrange(self.year, self.last_month)[1])

    @property
    def cutoff_start(self) -> date:
        """The first day counted: the 15th of the month before the period."""
        year, month = self.year, self.first_month - 1
        if month == 0:
            year, month = year - 1, 12
        return date(year, month, CUTOFF_DAY + 1)

    @property
    def cutoff_end(self) -> date:
        """The last day counted: the 14th of the period's last month (the report's as-of date)."""
        return date(self.year, self.last_month, CUTOFF_DAY)

    def submission_due(self, regime: Regime = DEFAULT_REGIME) -> date:
        """The day the report is due under ``regime``."""
        return regime.due_in(self.year, self.last_month)


_PERIOD = re.compile(r"^(\d{4})(?:-?([MQH])(\d{1,2}))?$")
_LIMITS = {"M": (PeriodKind.month, 12, "tháng"), "Q": (PeriodKind.quarter, 4, "quý"),
           "H": (PeriodKind.half, 2, "nửa năm")}  # fmt: skip


def parse_period(text: str) -> Period:
    """The period written ``2022-M11``, ``2022-Q4``, ``2022-H2`` or ``2022`` (case ignored).

    >>> parse_period("2022-h2").label
    '6 tháng cuối năm 2022'
    >>> parse_period("2022-Q5")
    Traceback (most recent call last):
    ...
    kttt_workflow.domain.periods.PeriodError: kỳ báo cáo '2022-Q5' không hợp lệ: quý phải từ 1 đến 4; cần dạng 2022-M11 (tháng), 2022-Q4 (quý), 2022-H2 (6 tháng) hoặc 2022 (năm)
    """
    raw = unicodedata.normalize("NFC", text or "").strip()
    m = _PERIOD.match(raw.upper().replace(" ", ""))
    if not m:
        raise PeriodError(f"kỳ báo cáo '{raw}' không hợp lệ; cần dạng {FORMS}")
    year = int(m.group(1))
    if not 1900 <= year <= 2200:
        raise PeriodError(f"kỳ báo cáo '{raw}' không hợp lệ: năm {year} ngoài khoảng 1900–2200")
    if m.group(2) is None:
        return Period(PeriodKind.year, year)
    kind, top, name = _LIMITS[m.group(2)]
    number = int(m.group(3))
    if not 1 <= number <= top:
        raise PeriodError(
            f"kỳ báo cáo '{raw}' không hợp lệ: {name} phải từ 1 đến {top}; cần dạng {FORMS}"
        )
    return Period(kind, year, number)


_REGIME = re.compile(
    r"^(?:(trước|chậm nhất|trong|vào|đến)\s+)?(?:ngày\s+)?(\d{1,2})"
    r"(?:\s+(?:của\s+)?(?:hằng|hàng\s+)?tháng\s+cuối\s+(?:của\s+)?kỳ(?:\s+báo\s+cáo)?)?\.?$"
)


def parse_regime(text: str) -> Regime:
    """A submission rule: ``25``, "ngày 25", "chậm nhất ngày 25 của tháng cuối kỳ báo cáo", or
    seed 004's "trước ngày 20 của tháng cuối kỳ báo cáo" (due the day before the 20th).

    >>> parse_regime("trước ngày 20 của tháng cuối kỳ báo cáo")
    Regime(day=20, before=True, text='trước ngày 20 của tháng cuối kỳ báo cáo')
    """
    raw = unicodedata.normalize("NFC", text or "").strip()
    m = _REGIME.match(" ".join(raw.lower().split()))
    if not m:
        raise PeriodError(
            f"thời hạn gửi báo cáo '{raw}' không đọc được; cần dạng '25', 'ngày 25' hoặc "
            "'trước ngày 20 của tháng cuối kỳ báo cáo'"
        )
    day = int(m.group(2))
    if not 1 <= day <= 31:
        raise PeriodError(f"thời hạn gửi báo cáo '{raw}' không hợp lệ: ngày phải từ 1 đến 31")
    before = m.group(1) == "trước"
    if m.group(1) is None and "tháng" not in raw:
        raw = f"chậm nhất ngày {day} của tháng cuối kỳ báo cáo"
    return Regime(day, before, raw)


def written_date(d: date) -> str:
    """A date as the place-and-date line of an official document writes it (Nghị định
    30/2020/NĐ-CP: a day below 10 and the months 1 and 2 take a leading zero).

    >>> written_date(date(2022, 12, 5)), written_date(date(2023, 2, 14)), written_date(date(2023, 3, 1))
    ('ngày 05 tháng 12 năm 2022', 'ngày 14 tháng 02 năm 2023', 'ngày 01 tháng 3 năm 2023')
    """
    month = f"{d.month:02d}" if d.month < 3 else str(d.month)
    return f"ngày {d.day:02d} tháng {month} năm {d.year}"
