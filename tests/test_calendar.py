"""Unit tests for the Vietnamese working-day calendar (kttt_workflow.domain.calendar)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kttt_workflow.domain.calendar import DayOverride, WorkingCalendar
from kttt_workflow.inputs.defaults import DEFAULT_OVERRIDES_PATH, default_calendar, load_overrides

CAL = default_calendar()
DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31))


def is_nfc(text: str) -> bool:
    return unicodedata.normalize("NFC", text) == text


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


def test_overrides_from_custom_yaml(tmp_path: Path) -> None:
    path = tmp_path / "overrides.yaml"
    path.write_text(
        "# a comment\n"
        "- date: 2030-06-01\n"  # a Saturday
        "  working: true\n"
        '  note: "Làm bù cho ngày 03/06/2030"\n'
        "- date: '2030-06-03'\n"  # a Monday
        "  working: false\n"
        '  note: "Nghỉ bù"\n',
        encoding="utf-8",
    )
    overrides = load_overrides(path)
    assert overrides == (
        DayOverride(date(2030, 6, 1), True, "Làm bù cho ngày 03/06/2030"),
        DayOverride(date(2030, 6, 3), False, "Nghỉ bù"),
    )
    cal = WorkingCalendar(overrides)
    assert cal.is_working_day(date(2030, 6, 1))
    assert not cal.is_working_day(date(2030, 6, 3))
    assert cal.is_holiday(date(2030, 6, 3))
    assert cal.holiday_name(date(2030, 6, 3)) == "Nghỉ bù"
    assert cal.roll_forward(date(2030, 6, 2)) == date(2030, 6, 4)
    # The packaged 2025 swap is not in this table.
    assert not cal.is_working_day(date(2025, 4, 26))


def test_empty_yaml_gives_no_overrides(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    assert load_overrides(path) == ()


@pytest.mark.parametrize(
    "content",
    [
        "- date: 2030-06-01\n  working: yes please\n  note: x\n",
        "- date: 2030-13-01\n  working: true\n  note: x\n",
        "- working: true\n  note: x\n",
        "- date: 2030-06-01\n  working: true\n  colour: red\n",
        "- date: 2030-06-01\n  working: true\n- date: 2030-06-01\n  working: false\n",
        "date: 2030-06-01\n",
    ],
)
def test_malformed_yaml_is_rejected_in_vietnamese(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError) as excinfo:
        load_overrides(path)
    message = str(excinfo.value)
    assert is_nfc(message)
    assert re.search(r"[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữđ]", message)


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
