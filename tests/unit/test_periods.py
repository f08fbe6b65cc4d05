"""Reporting periods under Nghị định 09/2019/NĐ-CP: the windows, the data cut-off (15th of the
month before the period to the 14th of its last month) and the submission day per regime."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kttt_workflow.domain.periods import (
    DEFAULT_REGIME,
    PeriodError,
    PeriodKind,
    parse_period,
    parse_regime,
    written_date,
)


@pytest.mark.parametrize(
    "code,kind,label,start,end,cut_start,cut_end",
    [
        ("2022-M11", PeriodKind.month, "tháng 11 năm 2022", date(2022, 11, 1), date(2022, 11, 30),
         date(2022, 10, 15), date(2022, 11, 14)),
        ("2022-M1", PeriodKind.month, "tháng 1 năm 2022", date(2022, 1, 1), date(2022, 1, 31),
         date(2021, 12, 15), date(2022, 1, 14)),
        ("2022-Q4", PeriodKind.quarter, "quý IV năm 2022", date(2022, 10, 1), date(2022, 12, 31),
         date(2022, 9, 15), date(2022, 12, 14)),
        ("2023-Q1", PeriodKind.quarter, "quý I năm 2023", date(2023, 1, 1), date(2023, 3, 31),
         date(2022, 12, 15), date(2023, 3, 14)),
        ("2022-H1", PeriodKind.half, "6 tháng đầu năm 2022", date(2022, 1, 1), date(2022, 6, 30),
         date(2021, 12, 15), date(2022, 6, 14)),
        ("2022-H2", PeriodKind.half, "6 tháng cuối năm 2022", date(2022, 7, 1), date(2022, 12, 31),
         date(2022, 6, 15), date(2022, 12, 14)),
        ("2022", PeriodKind.year, "năm 2022", date(2022, 1, 1), date(2022, 12, 31),
         date(2021, 12, 15), date(2022, 12, 14)),
    ],
)  # fmt: skip
def test_each_kind_of_period_has_its_window_and_cutoff(
    code: str,
    kind: PeriodKind,
    label: str,
    start: date,
    end: date,
    cut_start: date,
    cut_end: date,
) -> None:
    p = parse_period(code)
    assert (p.kind, p.label, p.code) == (kind, label, code)
    assert (p.starts_on, p.ends_on) == (start, end)
    assert (p.cutoff_start, p.cutoff_end) == (cut_start, cut_end)


def test_period_codes_are_read_loosely_but_written_one_way() -> None:
    assert parse_period(" 2022-q4 ").code == "2022-Q4"
    assert parse_period("2022Q4").code == "2022-Q4"
    assert parse_period("2022-m03").code == "2022-M3"


@pytest.mark.parametrize(
    "text,needle",
    [
        ("2022-Q5", "quý phải từ 1 đến 4"),
        ("2022-M13", "tháng phải từ 1 đến 12"),
        ("2022-H3", "nửa năm phải từ 1 đến 2"),
        ("Q4/2022", "cần dạng 2022-M11 (tháng), 2022-Q4 (quý)"),
        ("", "cần dạng"),
        ("1800", "ngoài khoảng 1900–2200"),
    ],
)
def test_a_wrong_period_is_said_in_vietnamese(text: str, needle: str) -> None:
    with pytest.raises(PeriodError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        parse_period(text)


def test_seed_004_submission_rule_is_the_day_before_the_20th() -> None:
    regime = parse_regime("trước ngày 20 của tháng cuối kỳ báo cáo")
    assert (regime.day, regime.before) == (20, True)
    assert parse_period("2022-Q4").submission_due(regime) == date(2022, 12, 19)
    assert parse_period("2022-M2").submission_due(regime) == date(2022, 2, 19)


def test_the_government_default_is_the_25th_of_the_last_month() -> None:
    assert parse_period("2022-H1").submission_due() == date(2022, 6, 25)
    assert parse_period("2022").submission_due(DEFAULT_REGIME) == date(2022, 12, 25)
    assert parse_regime("25") == DEFAULT_REGIME
    assert parse_regime("chậm nhất ngày 31 của tháng cuối kỳ báo cáo").due_in(2023, 2) == date(
        2023, 2, 28
    )


@pytest.mark.parametrize("text", ["ngày 32", "hằng tuần", "trước ngày"])
def test_a_wrong_regime_is_refused(text: str) -> None:
    with pytest.raises(PeriodError, match="thời hạn gửi báo cáo"):
        parse_regime(text)


def test_the_written_date_of_the_place_and_date_line() -> None:
    assert written_date(date(2022, 12, 5)) == "ngày 05 tháng 12 năm 2022"
    assert written_date(date(2023, 2, 14)) == "ngày 14 tháng 02 năm 2023"
    assert written_date(date(2023, 3, 1)) == "ngày 01 tháng 3 năm 2023"


@given(st.integers(1990, 2100), st.sampled_from(["M", "Q", "H", ""]), st.integers(1, 12))
def test_consecutive_periods_cut_off_without_gap_or_overlap(year: int, letter: str, n: int) -> None:
    """The cut-off of a period begins the day after the previous period's ends."""
    top = {"M": 12, "Q": 4, "H": 2, "": 1}[letter]
    n = (n - 1) % top + 1
    code = f"{year}-{letter}{n}" if letter else str(year)
    p = parse_period(code)
    prev_code = (
        (f"{year}-{letter}{n - 1}" if n > 1 else f"{year - 1}-{letter}{top}")
        if letter
        else str(year - 1)
    )
    prev = parse_period(prev_code)
    assert (p.cutoff_start - prev.cutoff_end).days == 1
    assert p.cutoff_start < p.cutoff_end <= p.ends_on
