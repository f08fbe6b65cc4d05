"""Working-day calendar for Vietnamese public bodies ("ngày làm việc").

A working day is Monday to Friday, except public holidays (Tết Nguyên Đán included) and the days
off the Government swaps in each year; a Saturday that the Government declares worked in exchange
("làm bù") is a working day.

Sources, in order of precedence:

1. the override table ``kttt_workflow/data/calendar_overrides.yaml`` (:class:`DayOverride`), which
   records the yearly day swaps announced by the Government (e.g. Saturday 26/04/2025 worked in
   exchange for Friday 02/05/2025 off);
2. the ``holidays`` package (``holidays.country_holidays("VN")``), which knows the statutory
   holidays, lunar Tết, the compensating days ("observed") and most swapped days off, but not that
   the swapped Saturday is worked.

Deadlines that fall on a day off move to the next working day (Civil Code 2015, art. 148(5)):
see :meth:`WorkingCalendar.roll_forward`.

This module is pure: it reads the override file and computes dates, nothing else.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import holidays
import yaml

__all__ = [
    "DEFAULT_OVERRIDES_PATH",
    "DayOverride",
    "WorkingCalendar",
    "default_calendar",
    "load_overrides",
]

DEFAULT_OVERRIDES_PATH: Path = Path(__file__).parent.parent / "data" / "calendar_overrides.yaml"

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5  # date.weekday(): Monday is 0


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class DayOverride:
    """One day whose working status the Government set explicitly for a given year.

    ``working=True``: a weekend day that is worked ("làm bù"); ``working=False``: an extra day off.

    Ví dụ: ``DayOverride(date(2025, 4, 26), True, "Làm bù cho ngày 02/05/2025")``.
    """

    day: date
    working: bool
    note: str


def _override_from_item(item: Any, index: int, source: str) -> DayOverride:
    where = f"{source}, mục thứ {index + 1}"
    if not isinstance(item, Mapping):
        raise ValueError(_nfc(f"{where}: mỗi mục phải có dạng {{date, working, note}}."))
    unknown = set(item) - {"date", "working", "note"}
    if unknown:
        names = ", ".join(sorted(str(k) for k in unknown))
        raise ValueError(_nfc(f"{where}: khóa không hợp lệ: {names}."))
    raw_day = item.get("date")
    if isinstance(raw_day, datetime):
        day = raw_day.date()
    elif isinstance(raw_day, date):
        day = raw_day
    elif isinstance(raw_day, str):
        try:
            day = date.fromisoformat(raw_day.strip())
        except ValueError:
            raise ValueError(
                _nfc(f"{where}: ngày '{raw_day}' không hợp lệ (định dạng YYYY-MM-DD).")
            ) from None
    else:
        raise ValueError(_nfc(f"{where}: thiếu ngày ('date', định dạng YYYY-MM-DD)."))
    working = item.get("working")
    if not isinstance(working, bool):
        raise ValueError(_nfc(f"{where}: 'working' phải là true hoặc false."))
    note = item.get("note", "")
    if note is None:
        note = ""
    if not isinstance(note, str):
        raise ValueError(_nfc(f"{where}: 'note' phải là chuỗi văn bản."))
    return DayOverride(day=day, working=working, note=_nfc(" ".join(note.split())))


def load_overrides(path: Path | None = None) -> tuple[DayOverride, ...]:
    """Read the day-swap table (YAML list of ``{date, working, note}``), sorted by date.

    ``path=None`` reads the packaged table ``kttt_workflow/data/calendar_overrides.yaml``.
    An empty file gives ``()``. Malformed entries raise ``ValueError`` with a Vietnamese message.

    Ví dụ: ``load_overrides()`` chứa ``DayOverride(date(2025, 4, 26), True,
    "Làm bù cho ngày 02/05/2025")``.
    """
    source = Path(path) if path is not None else DEFAULT_OVERRIDES_PATH
    with source.open(encoding="utf-8") as fh:
        try:
            data = yaml.safe_load(fh)
        except (yaml.YAMLError, ValueError) as exc:
            # PyYAML raises ValueError itself for timestamps such as 2030-13-01.
            raise ValueError(
                _nfc(f"{source}: không đọc được tệp YAML (ngày hoặc cú pháp không hợp lệ): {exc}")
            ) from exc
    if data is None:
        return ()
    if isinstance(data, Mapping) and "overrides" in data:
        data = data["overrides"] or []
    if not isinstance(data, list):
        raise ValueError(_nfc(f"{source}: tệp phải là một danh sách các ngày hoán đổi."))
    result = [_override_from_item(item, i, str(source)) for i, item in enumerate(data)]
    seen: set[date] = set()
    for ov in result:
        if ov.day in seen:
            raise ValueError(_nfc(f"{source}: ngày {ov.day:%d/%m/%Y} được khai báo nhiều lần."))
        seen.add(ov.day)
    return tuple(sorted(result, key=lambda ov: ov.day))


class WorkingCalendar:
    """Vietnamese working-day calendar: weekends, public holidays and the Government's day swaps.

    Holidays come from ``holidays.country_holidays("VN")``, expanded lazily year by year and cached;
    ``overrides`` (default: :func:`load_overrides`) take precedence over it.

    Ví dụ: ``WorkingCalendar().roll_forward(date(2022, 1, 31))`` (Giao thừa Tết Nhâm Dần) trả về
    ``date(2022, 2, 7)``.
    """

    def __init__(self, overrides: Iterable[DayOverride] | None = None) -> None:
        items = load_overrides() if overrides is None else tuple(overrides)
        self._overrides: dict[date, DayOverride] = {ov.day: ov for ov in items}
        self._years: dict[int, dict[date, str]] = {}

    @property
    def overrides(self) -> tuple[DayOverride, ...]:
        """The day swaps in force, sorted by date.

        Ví dụ: ``default_calendar().overrides`` có ``DayOverride(date(2025, 4, 26), True,
        "Làm bù cho ngày 02/05/2025")``.
        """
        return tuple(sorted(self._overrides.values(), key=lambda ov: ov.day))

    def _holidays_of(self, year: int) -> dict[date, str]:
        cached = self._years.get(year)
        if cached is None:
            table = holidays.country_holidays("VN", years=year, language="vi")
            cached = {day: _nfc(str(name)) for day, name in table.items() if day.year == year}
            self._years[year] = cached
        return cached

    def is_holiday(self, d: date) -> bool:
        """True if ``d`` is a public holiday or a Government day off (weekends alone are not).

        Ví dụ: ``is_holiday(date(2025, 9, 2))`` (Quốc khánh) là ``True``;
        ``is_holiday(date(2025, 4, 26))`` (thứ Bảy làm bù) là ``False``.
        """
        override = self._overrides.get(d)
        if override is not None:
            return not override.working
        return d in self._holidays_of(d.year)

    def holiday_name(self, d: date) -> str | None:
        """The Vietnamese name of the holiday on ``d``, or ``None`` if ``d`` is not a holiday.

        Ví dụ: ``holiday_name(date(2025, 4, 30))`` là "Ngày Chiến thắng".
        """
        override = self._overrides.get(d)
        if override is not None:
            if override.working:
                return None
            return override.note or self._holidays_of(d.year).get(d) or "Ngày nghỉ"
        return self._holidays_of(d.year).get(d)

    def is_working_day(self, d: date) -> bool:
        """True if public bodies work on ``d``.

        Monday to Friday and not a holiday; an override decides on its own (a worked Saturday is a
        working day, an extra day off is not).

        Ví dụ: ``is_working_day(date(2025, 4, 26))`` (thứ Bảy làm bù) là ``True``;
        ``is_working_day(date(2025, 5, 2))`` (nghỉ bù) là ``False``.
        """
        override = self._overrides.get(d)
        if override is not None:
            return override.working
        return d.weekday() < _SATURDAY and d not in self._holidays_of(d.year)

    def roll_forward(self, d: date) -> date:
        """``d`` if it is a working day, otherwise the next working day.

        A deadline whose last day is a day off ends on the next working day (Civil Code 2015,
        art. 148(5)).

        Ví dụ: ``roll_forward(date(2022, 1, 31))`` (Tết) trả về ``date(2022, 2, 7)``;
        ``roll_forward(date(2025, 5, 3))`` (thứ Bảy) trả về ``date(2025, 5, 5)``.
        """
        while not self.is_working_day(d):
            d += _ONE_DAY
        return d

    def add_working_days(self, d: date, n: int) -> date:
        """The ``n``-th working day after ``d`` (before ``d`` if ``n < 0``; ``d`` if ``n == 0``).

        ``d`` need not be a working day: counting starts from the day next to it.

        Ví dụ: ``add_working_days(date(2025, 4, 29), 1)`` trả về ``date(2025, 5, 5)`` (30/4, 1/5,
        2/5 là ngày nghỉ); ``add_working_days(date(2025, 4, 28), -1)`` trả về
        ``date(2025, 4, 26)`` (thứ Bảy làm bù).
        """
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:
            d += step
            if self.is_working_day(d):
                remaining -= 1
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """Number of working days in ``(start, end]``; negative (minus those in ``(end, start]``)
        if ``end < start``.

        Ví dụ: ``working_days_between(date(2025, 4, 25), date(2025, 5, 5))`` là 4 (thứ Bảy 26/4
        làm bù, 28/4, 29/4 và 5/5); đổi chỗ hai ngày thì được -4.
        """
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        d = start + _ONE_DAY
        while d <= end:
            if self.is_working_day(d):
                count += 1
            d += _ONE_DAY
        return count


@functools.lru_cache(maxsize=1)
def default_calendar() -> WorkingCalendar:
    """The shared calendar built from the packaged override table (cached).

    Ví dụ: ``default_calendar().is_working_day(date(2025, 4, 26))`` là ``True``.
    """
    return WorkingCalendar()
