"""Unit tests for the Vietnamese working-day calendar (kttt_workflow.domain.calendar).

The calendar here is the shared one, with the packaged day-swap table; reading other tables from
YAML files is tested in ``tests/integration/test_calendar_overrides.py``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kttt_workflow.domain.calendar import DayOverride, WorkingCalendar
from kttt_workflow.inputs.defaults import DEFAULT_OVERRIDES_PATH, default_calendar, load_overrides
from tests.helpers import is_nfc

CAL = default_calendar()
DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31))


# --------------------------------------------------------------------------------------------------
# Required behaviour
# --------------------------------------------------------------------------------------------------
def test_tet_2022_eve_is_a_holiday_and_rolls_to_the_monday_after_tet() -> None:
    assert CAL.is_holiday(date(2022, 1, 31))
    assert not CAL.is_working_day(date(2022, 1, 31))
    assert CAL.roll_forward(date(2022, 1, 31)) == date(2022, 2, 7)


def test_swapped_saturday_2025_is_worked_and_the_friday_is_off() -> None:
    assert CAL.is_working_day(date(2025, 4, 26))
    assert not CAL.is_holiday(date(2025, 4, 26))
    assert CAL.holiday_name(date(2025, 4, 26)) is None
    assert not CAL.is_working_day(date(2025, 5, 2))
    assert CAL.is_holiday(date(2025, 5, 2))
    name = CAL.holiday_name(date(2025, 5, 2))
    assert name is not None and "26/04/2025" in name


@pytest.mark.parametrize(
    ("day", "monday"),
    [
        (date(2024, 6, 8), date(2024, 6, 10)),  # plain Saturday
        (date(2024, 6, 9), date(2024, 6, 10)),  # plain Sunday
        (date(2021, 10, 23), date(2021, 10, 25)),
        (date(2021, 10, 24), date(2021, 10, 25)),
    ],
)
def test_plain_weekend_rolls_to_monday(day: date, monday: date) -> None:
    assert not CAL.is_working_day(day)
    assert not CAL.is_holiday(day)
    assert CAL.roll_forward(day) == monday


@pytest.mark.parametrize("year", [2013, 2014, 2020, 2022, 2025, 2026])
@pytest.mark.parametrize(("month", "day"), [(4, 30), (5, 1), (9, 2), (1, 1)])
def test_statutory_holidays(year: int, month: int, day: int) -> None:
    d = date(year, month, day)
    assert CAL.is_holiday(d)
    assert not CAL.is_working_day(d)
    name = CAL.holiday_name(d)
    assert name and is_nfc(name)


def test_holiday_names_are_vietnamese() -> None:
    assert CAL.holiday_name(date(2025, 9, 2)) == "Quốc khánh"
    assert CAL.holiday_name(date(2022, 2, 1)) == "Tết Nguyên Đán"
    assert CAL.holiday_name(date(2025, 6, 3)) is None


def test_ordinary_weekday_is_working() -> None:
    assert CAL.is_working_day(date(2013, 10, 1))
    assert CAL.roll_forward(date(2013, 10, 1)) == date(2013, 10, 1)


def test_without_overrides_the_swapped_saturday_is_not_worked() -> None:
    bare = WorkingCalendar(overrides=[])
    assert not bare.is_working_day(date(2025, 4, 26))
    assert not bare.is_working_day(date(2025, 5, 2))  # holidays itself knows the day off


# --------------------------------------------------------------------------------------------------
# Counting working days
# --------------------------------------------------------------------------------------------------
def test_add_working_days_examples() -> None:
    # 30/4, 1/5, 2/5 (swap), 3-4/5 weekend.
    assert CAL.add_working_days(date(2025, 4, 29), 1) == date(2025, 5, 5)
    # Saturday 26/4/2025 is worked.
    assert CAL.add_working_days(date(2025, 4, 28), -1) == date(2025, 4, 26)
    assert CAL.add_working_days(date(2025, 4, 25), 1) == date(2025, 4, 26)
    # Tết 2022: Friday 28/1 + 1 working day -> Monday 7/2.
    assert CAL.add_working_days(date(2022, 1, 28), 1) == date(2022, 2, 7)
    assert CAL.add_working_days(date(2022, 2, 7), -1) == date(2022, 1, 28)
    assert CAL.add_working_days(date(2024, 6, 10), -7) == date(2024, 5, 30)


def test_add_zero_working_days_returns_the_day_itself() -> None:
    assert CAL.add_working_days(date(2022, 1, 31), 0) == date(2022, 1, 31)
    assert CAL.add_working_days(date(2024, 6, 8), 0) == date(2024, 6, 8)


def test_working_days_between_examples() -> None:
    # (25/4, 5/5]: Sat 26/4 (worked), 28/4, 29/4, 5/5.
    assert CAL.working_days_between(date(2025, 4, 25), date(2025, 5, 5)) == 4
    assert CAL.working_days_between(date(2025, 5, 5), date(2025, 4, 25)) == -4
    assert CAL.working_days_between(date(2025, 5, 5), date(2025, 5, 5)) == 0
    assert CAL.working_days_between(date(2022, 1, 28), date(2022, 2, 7)) == 1


# --------------------------------------------------------------------------------------------------
# The packaged override table
# --------------------------------------------------------------------------------------------------
def test_packaged_overrides_are_well_formed() -> None:
    overrides = load_overrides()
    assert overrides == load_overrides(DEFAULT_OVERRIDES_PATH)
    assert overrides, "the packaged table must not be empty"
    assert list(overrides) == sorted(overrides, key=lambda ov: ov.day)
    assert len({ov.day for ov in overrides}) == len(overrides)
    for ov in overrides:
        assert ov.note and is_nfc(ov.note)
        if ov.working:
            assert ov.day.weekday() >= 5, f"{ov.day} is a weekday marked as worked"
            assert ov.note.startswith("Làm bù")
        else:
            assert ov.day.weekday() < 5, f"{ov.day} is a weekend day marked as day off"
    assert DayOverride(date(2025, 4, 26), True, "Làm bù cho ngày 02/05/2025") in overrides


_SUBSTITUTED = re.compile(r"substituted from (\d{2})/(\d{2})/(\d{4})")


def test_every_substituted_day_in_holidays_has_its_worked_saturday() -> None:
    by_day = {ov.day: ov for ov in load_overrides()}
    table = holidays.country_holidays("VN", years=range(2013, 2027), language="en_US")
    found = 0
    for day_off, name in table.items():
        m = _SUBSTITUTED.search(name)
        if not m:
            continue
        found += 1
        worked = date(int(m[3]), int(m[1]), int(m[2]))
        assert by_day[worked].working, worked
        assert by_day[day_off].working is False, day_off
        assert CAL.is_working_day(worked)
        assert not CAL.is_working_day(day_off)
    assert found >= 10


def test_default_calendar_is_shared() -> None:
    assert default_calendar() is default_calendar()


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(DATES)
def test_roll_forward_gives_the_first_working_day_not_before(d: date) -> None:
    rolled = CAL.roll_forward(d)
    assert rolled >= d
    assert CAL.is_working_day(rolled)
    day = d
    while day < rolled:
        assert not CAL.is_working_day(day)
        day += timedelta(days=1)
    assert (rolled == d) == CAL.is_working_day(d)


@settings(max_examples=200, deadline=None)
@given(DATES, st.integers(min_value=-40, max_value=40))
def test_add_then_count_working_days_round_trips(d: date, n: int) -> None:
    start = CAL.roll_forward(d)
    target = CAL.add_working_days(start, n)
    assert CAL.is_working_day(target) or n == 0
    assert CAL.working_days_between(start, target) == n
    assert (target > start) == (n > 0) and (target < start) == (n < 0)


@settings(max_examples=100, deadline=None)
@given(DATES, DATES)
def test_working_days_between_is_antisymmetric(a: date, b: date) -> None:
    b = a + timedelta(days=(b - a).days % 120)
    assert CAL.working_days_between(a, b) == -CAL.working_days_between(b, a)
    assert 0 <= CAL.working_days_between(a, b) <= (b - a).days


@settings(max_examples=100, deadline=None)
@given(DATES)
def test_working_day_status_is_consistent(d: date) -> None:
    if CAL.is_working_day(d):
        assert not CAL.is_holiday(d)
        assert CAL.holiday_name(d) is None
    elif d.weekday() < 5:
        assert CAL.is_holiday(d)
        assert CAL.holiday_name(d)
