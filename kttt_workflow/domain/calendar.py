"""Working-day calendar for Vietnamese public bodies ("ngày làm việc").

A working day is Monday to Friday, except public holidays (Tết Nguyên Đán included) and the days
off the Government swaps in each year; a Saturday that the Government declares worked in exchange
("làm bù") is a working day.

Sources, in order of precedence:

1. the day swaps announced by the Government each year (:class:`DayOverride`, e.g. Saturday
   26/04/2025 worked in exchange for Friday 02/05/2025 off); the shipped table is
   ``kttt_workflow/data/calendar_overrides.yaml``, read by :mod:`kttt_workflow.inputs.defaults`;
2. the ``holidays`` package (``holidays.country_holidays("VN")``), which knows the statutory
   holidays, lunar Tết, the compensating days ("observed") and most swapped days off, but not that
   the swapped Saturday is worked. A calendar can be given another source of holidays (a function
   of the year), e.g. a cache of this one.

Deadlines that fall on a day off move to the next working day (Civil Code 2015, art. 148(5)):
see :meth:`WorkingCalendar.roll_forward`.

Pure: the overrides and the holiday source are given; nothing here reads a file or the clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from kttt_workflow.domain.text import nfc

__all__ = ["DayOverride", "HolidaySource", "WorkingCalendar", "vietnam_holidays"]

HolidaySource = Callable[[int], Mapping[date, str]]

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5  # date.weekday(): Monday is 0


def vietnam_holidays(year: int) -> dict[date, str]:
    """The public holidays of ``year`` from the ``holidays`` package, with Vietnamese names.

    Ví dụ: ``vietnam_holidays(2025)[date(2025, 9, 2)]`` là "Quốc khánh".
    """
    import holidays  # imported on first use: it takes a few tenths of a second

    table = holidays.country_holidays("VN", years=year, language="vi")
    return {day: nfc(str(name)) for day, name in table.items() if day.year == year}


@dataclass(frozen=True)
class DayOverride:
    """One day whose working status the Government set explicitly for a given year.

    ``working=True``: a weekend day that is worked ("làm bù"); ``working=False``: an extra day off.

    Ví dụ: ``DayOverride(date(2025, 4, 26), True, "Làm bù cho ngày 02/05/2025")``.
    """

    day: date
    working: bool
    note: str


class WorkingCalendar:
    """Vietnamese working-day calendar: weekends, public holidays and the Government's day swaps.

    Holidays come from ``holidays`` (:func:`vietnam_holidays`, or the ``holidays`` source given),
    expanded lazily year by year and kept; ``overrides`` take precedence over them. The shipped
    calendar, with the Government's day swaps, is
    :func:`kttt_workflow.inputs.defaults.default_calendar`.

    Ví dụ: ``WorkingCalendar().roll_forward(date(2022, 1, 31))`` (Giao thừa Tết Nhâm Dần) trả về
    ``date(2022, 2, 7)``.
    """

    def __init__(
        self, overrides: Iterable[DayOverride] = (), holidays: HolidaySource | None = None
    ) -> None:
        self._overrides: dict[date, DayOverride] = {ov.day: ov for ov in overrides}
        self._source: HolidaySource = holidays or vietnam_holidays
        self._years: dict[int, Mapping[date, str]] = {}

    @property
    def overrides(self) -> tuple[DayOverride, ...]:
        """The day swaps in force, sorted by date.

        Ví dụ: ``default_calendar().overrides`` (lịch kèm theo) có ``DayOverride(date(2025, 4,
        26), True, "Làm bù cho ngày 02/05/2025")``.
        """
        return tuple(sorted(self._overrides.values(), key=lambda ov: ov.day))

    def identity(self) -> str:
        """What this calendar's answers depend on, as a short hash: the day swaps and the holiday
        source (its ``key``, e.g. the installed ``holidays`` copy, when it has one). Loads use it
        to know a fan-out of an unchanged file would give the same due dates."""
        source = getattr(self._source, "key", None) or getattr(
            self._source, "__qualname__", type(self._source).__name__
        )
        text = repr((self.overrides, str(source)))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def _holidays_of(self, year: int) -> Mapping[date, str]:
        cached = self._years.get(year)
        if cached is None:
            cached = self._years[year] = self._source(year)
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
