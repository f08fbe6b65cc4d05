"""Unit tests for the Vietnamese deadline grammar (kttt_workflow.domain.deadlines)."""

from __future__ import annotations

import calendar
import pickle
import re
import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kttt_workflow.domain.calendar import DayOverride, WorkingCalendar
from kttt_workflow.domain.deadlines import (
    ACCEPTED_FORMS,
    DeadlineError,
    DeadlineKind,
    DeadlineSpec,
    Occurrence,
    Recurrence,
    effective_due,
    explain,
    occurrences,
    parse_deadline,
)
from kttt_workflow.inputs.defaults import default_calendar
from tests.helpers import is_nfc

CAL = default_calendar()
VIETNAMESE_LETTER = re.compile(r"[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữđ]")


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# --------------------------------------------------------------------------------------------------
# FIXED deadlines
# --------------------------------------------------------------------------------------------------
FIXED_CASES: list[tuple[str, date]] = [
    # a month -> its last day
    ("trong tháng 11/2022", date(2022, 11, 30)),
    ("hoàn thành trong tháng 11/2022", date(2022, 11, 30)),  # seed 002
    ("hoàn thành trong tháng 12/2022", date(2022, 12, 31)),  # seed 002
    ("Trong tháng 11 năm 2022", date(2022, 11, 30)),
    ("tháng 9/2021", date(2021, 9, 30)),
    ("tháng 02/2024", date(2024, 2, 29)),
    ("(hoàn thành trong tháng 11/2022).", date(2022, 11, 30)),
    ("  TRONG   THÁNG 11/2022 ", date(2022, 11, 30)),
    ("Thời hạn: trong tháng 11/2022", date(2022, 11, 30)),
    ("cuối tháng 11/2022", date(2022, 11, 30)),
    # a quarter -> its last day
    ("Quý IV/2013", date(2013, 12, 31)),  # seed 004
    ("Quý I/2014", date(2014, 3, 31)),  # seed 004
    ("quý 2/2015", date(2015, 6, 30)),
    ("Quý IV năm 2013", date(2013, 12, 31)),
    ("Quý III/2020", date(2020, 9, 30)),
    ("quí iv/2013", date(2013, 12, 31)),
    ("Quý IV - 2013", date(2013, 12, 31)),
    ("QUÝ IV/2013", date(2013, 12, 31)),
    # years and ranges of years -> 31 December of the last year
    ("Năm 2013-2014", date(2014, 12, 31)),  # seed 004
    ("Năm 2014", date(2014, 12, 31)),
    ("2013 - 2014", date(2014, 12, 31)),
    ("2013 – 2014", date(2014, 12, 31)),
    ("giai đoạn 2021-2025", date(2025, 12, 31)),
    ("Giai đoạn 2021 - 2025", date(2025, 12, 31)),
    ("từ năm 2021 đến năm 2025", date(2025, 12, 31)),
    ("GIAI ÐOẠN 2021-2025", date(2025, 12, 31)),  # Latin capital eth used for Đ
    ("2014", date(2014, 12, 31)),
    ("cuối năm 2023", date(2023, 12, 31)),
    # half-years
    ("6 tháng đầu năm 2023", date(2023, 6, 30)),
    ("6 tháng cuối năm 2023", date(2023, 12, 31)),
    ("sáu tháng đầu năm 2023", date(2023, 6, 30)),
    # "before a date": strict reading, the day before
    ("trước ngày 25/10/2021", date(2021, 10, 24)),
    ("trước 25/10/2021", date(2021, 10, 24)),
    ("trước ngày 25 tháng 10 năm 2021", date(2021, 10, 24)),
    ("Trước ngày 01/01/2022", date(2021, 12, 31)),
    ("trước ngày 1/3/2024", date(2024, 2, 29)),
    # a date, inclusive
    ("chậm nhất ngày 15/9/2021", date(2021, 9, 15)),
    ("chậm nhất là ngày 15/09/2021", date(2021, 9, 15)),
    ("ngày 15/9/2021", date(2021, 9, 15)),
    ("15/9/2021", date(2021, 9, 15)),
    ("15-9-2021", date(2021, 9, 15)),
    ("hoàn thành chậm nhất ngày 15/9/2021", date(2021, 9, 15)),
    # "chậm nhất trong" a period -> its end
    ("chậm nhất trong tháng 9/2021", date(2021, 9, 30)),
    ("chậm nhất trong Quý I/2014", date(2014, 3, 31)),
    # "before a period" -> the end of the previous one
    ("trước tháng 12/2022", date(2022, 11, 30)),
    ("trước tháng 3/2024", date(2024, 2, 29)),
    ("trước Quý I/2014", date(2013, 12, 31)),
    ("trước năm 2015", date(2014, 12, 31)),
]


@pytest.mark.parametrize(("text", "due"), FIXED_CASES)
def test_fixed_forms(text: str, due: date) -> None:
    spec = parse_deadline(text)
    assert spec.kind is DeadlineKind.FIXED
    assert spec.due == due
    assert spec.text == text
    assert spec.recurrence is None and spec.due_day_in_last_month is None
    assert spec.label.startswith(f"Hạn: {due:%d/%m/%Y}")
    assert is_nfc(spec.label)


@pytest.mark.parametrize(("text", "due"), FIXED_CASES)
def test_fixed_forms_in_nfd(text: str, due: date) -> None:
    decomposed = nfd(text)
    spec = parse_deadline(decomposed)
    assert spec.due == due
    assert spec.text == decomposed  # kept verbatim, not normalised
    assert is_nfc(spec.label)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Quý IV/2013", "Hạn: 31/12/2013 (hết Quý IV/2013)"),
        ("quý 2/2015", "Hạn: 30/06/2015 (hết Quý II/2015)"),
        ("trước ngày 25/10/2021", "Hạn: 24/10/2021 (trước ngày 25/10/2021)"),
        ("trước tháng 12/2022", "Hạn: 30/11/2022 (trước tháng 12/2022)"),
        ("hoàn thành trong tháng 11/2022", "Hạn: 30/11/2022 (hết tháng 11/2022)"),
        ("chậm nhất ngày 15/9/2021", "Hạn: 15/09/2021"),
        ("Năm 2014", "Hạn: 31/12/2014 (hết năm 2014)"),
        ("Năm 2013-2014", "Hạn: 31/12/2014 (hết giai đoạn 2013-2014)"),
        ("6 tháng đầu năm 2023", "Hạn: 30/06/2023 (hết 6 tháng đầu năm 2023)"),
    ],
)
def test_fixed_labels(text: str, label: str) -> None:
    assert parse_deadline(text).label == label


def test_due_before_issue_date_is_not_an_error_here() -> None:
    spec = parse_deadline("Quý IV/2013", issued=date(2014, 5, 1))
    assert spec.due == date(2013, 12, 31)


# --------------------------------------------------------------------------------------------------
# RECURRING deadlines
# --------------------------------------------------------------------------------------------------
RECURRING_CASES: list[tuple[str, Recurrence, int | None]] = [
    ("Hàng năm", Recurrence.ANNUAL, None),  # seed 004
    ("hằng năm", Recurrence.ANNUAL, None),
    ("định kỳ hàng năm", Recurrence.ANNUAL, None),
    ("Định kỳ hằng năm", Recurrence.ANNUAL, None),
    ("Báo cáo hàng năm", Recurrence.ANNUAL, None),
    ("thường niên", Recurrence.ANNUAL, None),
    ("hàng quý", Recurrence.QUARTERLY, None),
    ("định kỳ hàng quý", Recurrence.QUARTERLY, None),
    ("6 tháng", Recurrence.HALF_YEARLY, None),
    ("định kỳ 6 tháng", Recurrence.HALF_YEARLY, None),
    ("hàng 6 tháng", Recurrence.HALF_YEARLY, None),
    ("6 tháng một lần", Recurrence.HALF_YEARLY, None),
    ("định kỳ 6 tháng và hàng năm", Recurrence.HALF_YEARLY, None),
    ("hàng tháng", Recurrence.MONTHLY, None),
    ("trước ngày 20 hằng tháng", Recurrence.MONTHLY, 19),
    ("chậm nhất ngày 15/12 hằng năm", Recurrence.ANNUAL, 15),
    # the report rule of seed 004
    ("trước ngày 20 của tháng cuối kỳ báo cáo", Recurrence.ANNUAL, 19),
    ("Hàng năm, trước ngày 20 của tháng cuối kỳ báo cáo", Recurrence.ANNUAL, 19),
    ("định kỳ hàng quý, trước ngày 20 của tháng cuối kỳ báo cáo", Recurrence.QUARTERLY, 19),
    ("Định kỳ 6 tháng; trước ngày 20 của tháng cuối kỳ báo cáo", Recurrence.HALF_YEARLY, 19),
    ("thời gian gửi báo cáo trước ngày 20 của tháng cuối kỳ báo cáo", Recurrence.ANNUAL, 19),
    ("chậm nhất ngày 20 của tháng cuối kỳ báo cáo", Recurrence.ANNUAL, 20),
    ("trước ngày 20 của tháng cuối quý", Recurrence.QUARTERLY, 19),
    ("Thường xuyên, báo cáo hằng năm", Recurrence.ANNUAL, None),
]


@pytest.mark.parametrize(("text", "recurrence", "day"), RECURRING_CASES)
def test_recurring_forms(text: str, recurrence: Recurrence, day: int | None) -> None:
    for variant in (text, nfd(text), text.upper()):
        spec = parse_deadline(variant)
        assert spec.kind is DeadlineKind.RECURRING
        assert spec.recurrence is recurrence
        assert spec.recurrences[0] is recurrence
        assert spec.due_day_in_last_month == day
        assert spec.due is None
        assert spec.text == variant
        assert spec.label.startswith("Định kỳ") and is_nfc(spec.label)


# --------------------------------------------------------------------------------------------------
# ONGOING, PENDING, UNSPECIFIED
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text", ["Thường xuyên", "thường xuyên, liên tục", "Liên tục", "THƯỜNG XUYÊN.", "Thường xuyên"]
)
def test_ongoing(text: str) -> None:
    spec = parse_deadline(text)
    assert spec.kind is DeadlineKind.ONGOING
    assert spec.due is None and spec.recurrence is None
    assert spec.label == "Thường xuyên (không có hạn cụ thể)"
    assert spec.text == text


@pytest.mark.parametrize(
    "text",
    [
        "Theo Kế hoạch được phê duyệt",
        "Theo Chương trình, kế hoạch được phê duyệt",
        "Theo dự án",
        "Theo nhiệm kỳ của Liên minh Hợp tác xã tỉnh",
        "Theo nhiệm kỳ Đại hội",
        "Theo lộ trình của Chính phủ",
        "Theo hướng dẫn của Trung ương",
        "theo   quy định",
    ],
)
def test_pending(text: str) -> None:
    for variant in (text, nfd(text)):
        spec = parse_deadline(variant)
        assert spec.kind is DeadlineKind.PENDING
        assert spec.due is None
        assert spec.text == variant
        assert spec.label.startswith("Chờ xác định thời hạn (")
        assert is_nfc(spec.label)
        shown = " ".join(text.split())
        assert shown[1:] in spec.label  # the reference itself is shown


def test_pending_label() -> None:
    assert (
        parse_deadline("Theo Kế hoạch được phê duyệt").label
        == "Chờ xác định thời hạn (theo Kế hoạch được phê duyệt)"
    )


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t"])
def test_unspecified(text: str | None) -> None:
    spec = parse_deadline(text)
    assert spec.kind is DeadlineKind.UNSPECIFIED
    assert spec.label == "Văn bản không ghi thời hạn"
    assert spec.due is None


# --------------------------------------------------------------------------------------------------
# The seeds
# --------------------------------------------------------------------------------------------------
SEED_004 = {
    "Quý IV/2013": (DeadlineKind.FIXED, date(2013, 12, 31)),
    "Thường xuyên": (DeadlineKind.ONGOING, None),
    "Năm 2013-2014": (DeadlineKind.FIXED, date(2014, 12, 31)),
    "Theo Kế hoạch được phê duyệt": (DeadlineKind.PENDING, None),
    "Quý I/2014": (DeadlineKind.FIXED, date(2014, 3, 31)),
    "Hàng năm": (DeadlineKind.RECURRING, None),
    "Theo Chương trình, kế hoạch được phê duyệt": (DeadlineKind.PENDING, None),
    "Theo dự án": (DeadlineKind.PENDING, None),
    "Theo nhiệm kỳ của Liên minh Hợp tác xã tỉnh": (DeadlineKind.PENDING, None),
    "trước ngày 20 của tháng cuối kỳ báo cáo": (DeadlineKind.RECURRING, None),
}
SEED_002 = {
    "hoàn thành trong tháng 11/2022": (DeadlineKind.FIXED, date(2022, 11, 30)),
    "hoàn thành trong tháng 12/2022": (DeadlineKind.FIXED, date(2022, 12, 31)),
}


@pytest.mark.parametrize(("text", "expected"), [*SEED_004.items(), *SEED_002.items()])
def test_seed_deadline_phrases(text: str, expected: tuple[DeadlineKind, date | None]) -> None:
    kind, due = expected
    spec = parse_deadline(text)
    assert (spec.kind, spec.due) == (kind, due)
    assert spec.text == text


def test_accepted_forms_all_parse() -> None:
    assert len(ACCEPTED_FORMS) >= 20
    for form in ACCEPTED_FORMS:
        assert is_nfc(form)
        spec = parse_deadline(form)
        assert spec.kind is not DeadlineKind.UNSPECIFIED


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("31/02/2022", "ngày 31/02/2022 không tồn tại"),
        ("trước ngày 31/02/2022", "ngày 31/02/2022 không tồn tại"),
        ("ngày 29/02/2023", "ngày 29/02/2023 không tồn tại"),
        ("Quý V/2013", "quý phải từ I đến IV"),
        ("quý 5/2015", "quý phải từ I đến IV"),
        ("Quý 0/2015", "quý phải từ I đến IV"),
        ("tháng 13/2022", "tháng phải từ 1 đến 12"),
        ("trong tháng 0/2022", "tháng phải từ 1 đến 12"),
        ("Năm 2014-2013", "năm kết thúc 2013 đứng trước năm bắt đầu 2014"),
        ("Năm 1900", "năm 1900 nằm ngoài khoảng 1945–2100"),
        ("trong tháng 5/2101", "năm 2101 nằm ngoài khoảng 1945–2100"),
        ("giai đoạn 1930-1950", "năm 1930 nằm ngoài khoảng 1945–2100"),
        ("trước năm 1945", "năm 1944 nằm ngoài khoảng 1945–2100"),
        ("trước ngày 1 của tháng cuối kỳ báo cáo", "“trước ngày 1” không để lại ngày nào"),
        ("trước ngày 40 của tháng cuối kỳ báo cáo", "ngày trong tháng phải từ 1 đến 31"),
        ("trước ngày 15/6 hằng năm", "hạn hằng năm chỉ được ghi vào tháng 12"),
        ("Hàng ngày", "không nhận dạng được"),
        ("sớm nhất có thể", "không nhận dạng được"),
        ("Quý sau", "không nhận dạng được"),
        ("trước ngày 20", "không nhận dạng được"),
        # a year-less day, month or quarter that exists in no year is said as such
        ("trước ngày 31/02", "ngày 31/02 không tồn tại"),
        ("Quý V", "quý phải từ I đến IV"),
        ("tháng 13", "tháng phải từ 1 đến 12"),
        ("Theo", "không nhận dạng được"),
        ("hoàn thành", "không nhận dạng được"),
    ],
)
def test_errors(text: str, reason: str) -> None:
    with pytest.raises(DeadlineError) as excinfo:
        parse_deadline(text)
    err = excinfo.value
    assert isinstance(err, ValueError)
    assert err.text == text
    assert err.reason.startswith(reason)
    message = str(err)
    assert is_nfc(message) and is_nfc(err.reason)
    assert f"“{text}”" in message
    assert err.reason in message
    assert "không hợp lệ" in message
    assert VIETNAMESE_LETTER.search(message)
    for form in ACCEPTED_FORMS:
        assert form in message


def test_error_on_nfd_input_shows_nfc_text() -> None:
    with pytest.raises(DeadlineError) as excinfo:
        parse_deadline(nfd("Quý V/2013"))
    assert excinfo.value.text == nfd("Quý V/2013")
    assert "“Quý V/2013”" in str(excinfo.value)


def test_error_pickles() -> None:
    err = DeadlineError("Quý V/2013", "quý phải từ I đến IV")
    clone = pickle.loads(pickle.dumps(err))
    assert (clone.text, clone.reason, str(clone)) == (err.text, err.reason, str(err))
    with pytest.raises(DeadlineError) as excinfo:
        parse_deadline("trước ngày 25/10", date(2013, 10, 1))
    short = pickle.loads(pickle.dumps(excinfo.value))
    assert str(short) == str(excinfo.value) and "Các cách ghi" not in str(short)


# --------------------------------------------------------------------------------------------------
# A date or period without its year
# --------------------------------------------------------------------------------------------------
KH_67 = date(2013, 10, 1)  # Kế hoạch 67/KH-UBND, seed 004


@pytest.mark.parametrize(
    ("text", "issued", "reason"),
    [
        ("trước ngày 25/10", KH_67, "thiếu năm: hãy ghi “trước ngày 25/10/2013” (năm của văn bản)"),
        (
            "ngày 15/9",
            KH_67,
            "thiếu năm: hãy ghi “ngày 15/9/2014” (năm sau năm của văn bản: năm"
            " 2013 thì hạn 15/09/2013 đã trước ngày ban hành 01/10/2013)",
        ),
        ("chậm nhất ngày 31/12", KH_67, "thiếu năm: hãy ghi “chậm nhất ngày 31/12/2013”"),
        ("trước ngày 25 tháng 10", KH_67, "thiếu năm: hãy ghi “trước ngày 25 tháng 10 năm 2013”"),
        ("Quý IV", KH_67, "thiếu năm: hãy ghi “Quý IV/2013” (năm của văn bản)"),
        ("Quý I", KH_67, "thiếu năm: hãy ghi “Quý I/2014” (năm sau năm của văn bản"),
        (
            "hoàn thành trong tháng 11",
            date(2022, 9, 1),
            "thiếu năm: hãy ghi “hoàn thành trong tháng 11/2022” (năm của văn bản)",
        ),
        ("6 tháng cuối năm", date(2023, 1, 15), "thiếu năm: hãy ghi “6 tháng cuối năm 2023”"),
        ("(trước ngày 25/10).", KH_67, "thiếu năm: hãy ghi “(trước ngày 25/10/2013).”"),
        (
            "ngày 29/02",
            KH_67,
            "thiếu năm: hãy ghi “ngày 29/02/2016” (năm gần nhất có hạn không"
            " trước ngày ban hành 01/10/2013)",
        ),
        ("trước ngày 25/10", None, "thiếu năm: hãy ghi thêm năm, dạng “trước ngày 25/10/<năm>”"),
    ],
)
def test_missing_year_says_which_year_to_write(text: str, issued: date | None, reason: str) -> None:
    with pytest.raises(DeadlineError) as excinfo:
        parse_deadline(text, issued)
    err = excinfo.value
    assert err.reason.startswith(reason)
    message = str(err)
    assert message == f"Thời hạn “{text}” không hợp lệ: {err.reason}."
    assert "Các cách ghi thời hạn" not in message  # not buried under the list of forms
    assert is_nfc(message)


def test_the_suggested_text_parses_to_a_deadline_of_that_year() -> None:
    with pytest.raises(DeadlineError) as excinfo:
        parse_deadline("trước ngày 25/10", KH_67)
    suggested = re.search(r"“(.*?)”", excinfo.value.reason)
    assert suggested is not None
    spec = parse_deadline(suggested[1], KH_67)
    assert (spec.kind, spec.due) == (DeadlineKind.FIXED, date(2013, 10, 24))


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2000, 12, 31)),
    st.dates(min_value=date(1950, 1, 1), max_value=date(2090, 12, 31)),
    st.sampled_from(["trước ngày {d}/{m}", "ngày {d}/{m}", "chậm nhất ngày {d}/{m}"]),
)
def test_any_yearless_date_gets_the_first_year_not_before_the_document(
    day: date, issued: date, form: str
) -> None:
    text = form.format(d=day.day, m=day.month)
    with pytest.raises(DeadlineError) as excinfo:
        parse_deadline(text, issued)
    reason = excinfo.value.reason
    suggested = re.search(r"“(.*?)”", reason)
    assert reason.startswith("thiếu năm: hãy ghi “") and suggested is not None
    assert suggested[1].startswith(text + "/")
    year = int(suggested[1].rpartition("/")[2])
    spec = parse_deadline(suggested[1], issued)
    assert spec.due is not None and spec.due >= issued
    assert issued.year <= year <= issued.year + 8
    for earlier in range(issued.year, year):  # no earlier year would do
        try:
            earlier_spec = parse_deadline(f"{text}/{earlier}")
        except DeadlineError:
            continue  # 29/02 of a common year
        assert earlier_spec.due is not None and earlier_spec.due < issued
    assert ("(năm của văn bản)" in reason) == (year == issued.year)


# --------------------------------------------------------------------------------------------------
# Occurrences
# --------------------------------------------------------------------------------------------------
def test_annual_report_rule_occurrences() -> None:
    spec = parse_deadline("Hàng năm, trước ngày 20 của tháng cuối kỳ báo cáo")
    assert occurrences(spec, date(2013, 10, 1), date(2015, 6, 30)) == [
        Occurrence("2013", date(2013, 1, 1), date(2013, 12, 31), date(2013, 12, 19)),
        Occurrence("2014", date(2014, 1, 1), date(2014, 12, 31), date(2014, 12, 19)),
        Occurrence("2015", date(2015, 1, 1), date(2015, 12, 31), date(2015, 12, 19)),
    ]
    bare_rule = parse_deadline("trước ngày 20 của tháng cuối kỳ báo cáo")
    assert occurrences(bare_rule, date(2013, 10, 1), date(2015, 6, 30)) == occurrences(
        spec, date(2013, 10, 1), date(2015, 6, 30)
    )


def test_annual_occurrences_without_rule_end_on_31_december() -> None:
    spec = parse_deadline("Hàng năm")
    result = occurrences(spec, date(2013, 10, 1), date(2014, 1, 1))
    assert [(o.period, o.due) for o in result] == [
        ("2013", date(2013, 12, 31)),
        ("2014", date(2014, 12, 31)),
    ]


def test_quarterly_occurrences() -> None:
    spec = parse_deadline("định kỳ hàng quý, trước ngày 20 của tháng cuối kỳ báo cáo")
    result = occurrences(spec, date(2013, 11, 15), date(2014, 7, 1))
    assert [(o.period, o.start, o.end, o.due) for o in result] == [
        ("2013-Q4", date(2013, 10, 1), date(2013, 12, 31), date(2013, 12, 19)),
        ("2014-Q1", date(2014, 1, 1), date(2014, 3, 31), date(2014, 3, 19)),
        ("2014-Q2", date(2014, 4, 1), date(2014, 6, 30), date(2014, 6, 19)),
        ("2014-Q3", date(2014, 7, 1), date(2014, 9, 30), date(2014, 9, 19)),
    ]


def test_half_yearly_occurrences() -> None:
    spec = parse_deadline("định kỳ 6 tháng")
    result = occurrences(spec, date(2013, 10, 1), date(2014, 12, 31))
    assert [(o.period, o.start, o.due) for o in result] == [
        ("2013-H2", date(2013, 7, 1), date(2013, 12, 31)),
        ("2014-H1", date(2014, 1, 1), date(2014, 6, 30)),
        ("2014-H2", date(2014, 7, 1), date(2014, 12, 31)),
    ]


def test_monthly_occurrences_clamp_the_due_day() -> None:
    spec = parse_deadline("hàng tháng, chậm nhất ngày 31 của tháng cuối kỳ báo cáo")
    result = occurrences(spec, date(2024, 1, 10), date(2024, 4, 1))
    assert [(o.period, o.due) for o in result] == [
        ("2024-01", date(2024, 1, 31)),
        ("2024-02", date(2024, 2, 29)),
        ("2024-03", date(2024, 3, 31)),
        ("2024-04", date(2024, 4, 30)),
    ]


# --------------------------------------------------------------------------------------------------
# Combined recurrences
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "recurrences", "label"),
    [
        (
            "Định kỳ 6 tháng, hằng năm",
            (Recurrence.HALF_YEARLY, Recurrence.ANNUAL),
            "Định kỳ 6 tháng một lần và hằng năm, hạn ngày cuối cùng của kỳ",
        ),
        (
            "định kỳ 6 tháng và hàng năm",
            (Recurrence.HALF_YEARLY, Recurrence.ANNUAL),
            "Định kỳ 6 tháng một lần và hằng năm, hạn ngày cuối cùng của kỳ",
        ),
        (
            "Báo cáo hằng năm; hàng quý",
            (Recurrence.QUARTERLY, Recurrence.ANNUAL),
            "Định kỳ hằng quý và hằng năm, hạn ngày cuối cùng của kỳ",
        ),
        (
            "Định kỳ hàng quý, 6 tháng, hằng năm, trước ngày 20 của tháng cuối kỳ báo cáo",
            (Recurrence.QUARTERLY, Recurrence.HALF_YEARLY, Recurrence.ANNUAL),
            "Định kỳ hằng quý, 6 tháng một lần và hằng năm, hạn ngày 19 của tháng cuối kỳ",
        ),
        (
            "trước ngày 20 hằng tháng và hằng năm",
            (Recurrence.MONTHLY, Recurrence.ANNUAL),
            "Định kỳ hằng tháng và hằng năm, hạn ngày 19 của tháng cuối kỳ",
        ),
        ("hằng năm, hàng năm", (Recurrence.ANNUAL,), "Định kỳ hằng năm, hạn ngày cuối cùng của kỳ"),
        (
            "trước ngày 20 hằng tháng",
            (Recurrence.MONTHLY,),
            "Định kỳ hằng tháng, hạn ngày 19 hằng tháng",
        ),
    ],
)
def test_combined_recurrences_keep_each(
    text: str, recurrences: tuple[Recurrence, ...], label: str
) -> None:
    spec = parse_deadline(text)
    assert spec.kind is DeadlineKind.RECURRING
    assert spec.recurrences == recurrences
    assert spec.recurrence is recurrences[0]
    assert spec.label == label and is_nfc(label)


def test_half_yearly_and_annual_give_both_periods() -> None:
    spec = parse_deadline("Định kỳ 6 tháng, hằng năm")
    assert occurrences(spec, date(2014, 1, 1), date(2014, 12, 31)) == [
        Occurrence("2014-H1", date(2014, 1, 1), date(2014, 6, 30), date(2014, 6, 30)),
        Occurrence("2014", date(2014, 1, 1), date(2014, 12, 31), date(2014, 12, 31)),
        Occurrence("2014-H2", date(2014, 7, 1), date(2014, 12, 31), date(2014, 12, 31)),
    ]


def test_combined_recurrences_with_the_report_rule_sort_by_due_date() -> None:
    spec = parse_deadline("Định kỳ 6 tháng và hằng năm, trước ngày 20 của tháng cuối kỳ báo cáo")
    result = occurrences(spec, date(2013, 10, 1), date(2014, 12, 31))
    assert [(o.period, o.due) for o in result] == [
        ("2013", date(2013, 12, 19)),
        ("2013-H2", date(2013, 12, 19)),
        ("2014-H1", date(2014, 6, 19)),
        ("2014", date(2014, 12, 19)),
        ("2014-H2", date(2014, 12, 19)),
    ]


def test_explain_shows_the_periods_of_each_recurrence() -> None:
    e = explain("Định kỳ 6 tháng, hằng năm", date(2014, 1, 1), CAL, date(2026, 12, 1), count=3)
    data = e.as_json()
    assert data["recurrence"] == "half_yearly"
    assert data["recurrences"] == ["half_yearly", "annual"]
    assert data["label"] == "Định kỳ 6 tháng một lần và hằng năm, hạn ngày cuối cùng của kỳ"
    assert [(p.period, p.nominal_due, p.due) for p in e.periods] == [
        ("2014-H1", date(2014, 6, 30), date(2014, 6, 30)),
        ("2014", date(2014, 12, 31), date(2014, 12, 31)),
        ("2014-H2", date(2014, 12, 31), date(2014, 12, 31)),
    ]
    assert explain("Hàng năm", None, CAL, date(2026, 12, 1)).as_json()["recurrences"] == ["annual"]
    assert explain("Quý IV/2013", None, CAL, date(2026, 12, 1)).as_json()["recurrences"] == []


def test_a_spec_built_with_one_recurrence_still_expands() -> None:
    spec = DeadlineSpec("x", DeadlineKind.RECURRING, recurrence=Recurrence.QUARTERLY)
    assert spec.all_recurrences() == (Recurrence.QUARTERLY,)
    assert [o.period for o in occurrences(spec, date(2014, 1, 1), date(2014, 6, 30))] == [
        "2014-Q1",
        "2014-Q2",
    ]


RECURRENCE_WORDS = {
    Recurrence.ANNUAL: st.sampled_from(["hằng năm", "hàng năm", "năm một lần"]),
    Recurrence.HALF_YEARLY: st.sampled_from(["6 tháng", "6 tháng một lần", "hằng nửa năm"]),
    Recurrence.QUARTERLY: st.sampled_from(["hằng quý", "hàng quý", "quý một lần"]),
    Recurrence.MONTHLY: st.sampled_from(["hằng tháng", "hàng tháng"]),
}
FREQUENT_FIRST = [
    Recurrence.MONTHLY,
    Recurrence.QUARTERLY,
    Recurrence.HALF_YEARLY,
    Recurrence.ANNUAL,
]


@st.composite
def combined_deadlines(draw: st.DrawFn) -> tuple[str, tuple[Recurrence, ...]]:
    chosen = draw(st.lists(st.sampled_from(FREQUENT_FIRST), min_size=1, max_size=4, unique=True))
    words = [draw(RECURRENCE_WORDS[r]) for r in chosen]
    text = words[0]
    for word in words[1:]:
        text += draw(st.sampled_from([", ", "; ", " và "])) + word
    if draw(st.booleans()):
        text = "Định kỳ " + text
    if draw(st.booleans()):
        text += ", trước ngày 20 của tháng cuối kỳ báo cáo"
    return text, tuple(r for r in FREQUENT_FIRST if r in chosen)


@settings(max_examples=150, deadline=None)
@given(
    combined_deadlines(),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(0, 800),
)
def test_combined_occurrences_are_the_union_of_each_recurrence(
    case: tuple[str, tuple[Recurrence, ...]], start: date, days: int
) -> None:
    text, expected = case
    spec = parse_deadline(text)
    assert spec.recurrences == expected and spec.recurrence is expected[0]
    until = start + timedelta(days=days)
    result = occurrences(spec, start, until)
    union: list[Occurrence] = []
    for r in expected:
        alone = DeadlineSpec(
            text,
            DeadlineKind.RECURRING,
            recurrence=r,
            due_day_in_last_month=spec.due_day_in_last_month,
        )
        union += occurrences(alone, start, until)
    assert sorted(result, key=lambda o: o.period) == sorted(union, key=lambda o: o.period)
    assert result == sorted(result, key=lambda o: (o.due, o.period))
    assert len({o.period for o in result}) == len(result)  # distinct task ids
    for o in result:
        assert o.start <= until and o.end >= start and o.start <= o.due <= o.end


def test_occurrences_of_other_kinds_are_empty() -> None:
    for text in ("Quý IV/2013", "Thường xuyên", "Theo dự án", None):
        assert occurrences(parse_deadline(text), date(2013, 1, 1), date(2015, 1, 1)) == []
    assert occurrences(parse_deadline("Hàng năm"), date(2015, 1, 1), date(2014, 1, 1)) == []


# --------------------------------------------------------------------------------------------------
# Effective due date
# --------------------------------------------------------------------------------------------------
def test_effective_due_rolls_to_the_next_working_day() -> None:
    assert effective_due(date(2021, 10, 24), CAL) == date(2021, 10, 25)  # Sunday
    assert effective_due(date(2021, 10, 24), CAL, roll=False) == date(2021, 10, 24)
    assert effective_due(date(2022, 1, 31), CAL) == date(2022, 2, 7)  # Tết
    assert effective_due(date(2013, 12, 31), CAL) == date(2013, 12, 31)
    custom = WorkingCalendar([DayOverride(date(2021, 10, 24), True, "Làm bù")])
    assert effective_due(date(2021, 10, 24), custom) == date(2021, 10, 24)


def test_before_a_sunday_ends_on_the_day_named() -> None:
    # docs/deadlines.md: "trước ngày 25/10/2021" is nominally 24/10/2021, a Sunday, which rolls to
    # Monday 25/10/2021, the day the text names.
    assert date(2021, 10, 24).weekday() == 6
    spec = parse_deadline("trước ngày 25/10/2021")
    assert spec.due == date(2021, 10, 24)
    assert effective_due(spec.due, CAL) == date(2021, 10, 25)
    assert effective_due(spec.due, CAL, roll=False) == date(2021, 10, 24)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(2000, 1, 2), max_value=date(2035, 12, 31)))
def test_before_a_day_and_the_roll_combined(d: date) -> None:
    before = parse_deadline(f"trước ngày {d:%d/%m/%Y}").due
    on = parse_deadline(f"ngày {d:%d/%m/%Y}").due
    assert before is not None and on is not None
    rolled_before, rolled_on = effective_due(before, CAL), effective_due(on, CAL)
    # "before D" never ends after "on D"; the two end on the same day exactly when the day
    # before D is not a working day (the strict reading is undone by the roll).
    assert rolled_before <= rolled_on
    assert (rolled_before == rolled_on) == (not CAL.is_working_day(d - timedelta(days=1)))


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------
MONTH_YEAR = st.tuples(st.integers(1, 12), st.integers(1945, 2100))


def _month_end(month: int, year: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


@settings(max_examples=150, deadline=None)
@given(MONTH_YEAR, st.booleans())
def test_any_month_parses_to_its_last_day(month_year: tuple[int, int], pad: bool) -> None:
    month, year = month_year
    text = f"trong tháng {month:02d}/{year}" if pad else f"trong tháng {month}/{year}"
    spec = parse_deadline(text)
    assert spec.kind is DeadlineKind.FIXED
    assert spec.due == _month_end(month, year)
    assert spec.text == text


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 4), st.integers(1945, 2100), st.booleans())
def test_any_quarter_parses_to_its_last_day(quarter: int, year: int, roman: bool) -> None:
    name = ("I", "II", "III", "IV")[quarter - 1] if roman else str(quarter)
    text = f"Quý {name}/{year}"
    spec = parse_deadline(text)
    assert spec.due == _month_end(3 * quarter, year)


@settings(max_examples=150, deadline=None)
@given(st.dates(min_value=date(1945, 1, 2), max_value=date(2100, 12, 31)))
def test_any_date_round_trips(d: date) -> None:
    text = f"chậm nhất ngày {d.day}/{d.month}/{d.year}"
    assert parse_deadline(text).due == d
    assert parse_deadline(f"trước ngày {d:%d/%m/%Y}").due == date.fromordinal(d.toordinal() - 1)


@settings(max_examples=300, deadline=None)
@given(st.text(), st.none() | st.dates())
def test_parse_never_raises_anything_but_deadline_error(text: str, issued: date | None) -> None:
    try:
        spec = parse_deadline(text, issued)
    except DeadlineError as err:
        assert err.text == text
        assert is_nfc(str(err))
    else:
        assert isinstance(spec, DeadlineSpec)
        assert spec.text == text


DEADLINE_WORDS = st.sampled_from(
    [
        "trong",
        "tháng",
        "quý",
        "Quý",
        "năm",
        "trước",
        "ngày",
        "chậm nhất",
        "hàng",
        "hằng",
        "định kỳ",
        "6",
        "IV",
        "V",
        "/",
        "-",
        ",",
        "2013",
        "2014",
        "1945",
        "2100",
        "12",
        "31",
        "20",
        "của tháng cuối kỳ báo cáo",
        "Theo",
        "Thường xuyên",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(DEADLINE_WORDS, max_size=8),
    st.sampled_from([" ", "", "  "]),
    st.none() | st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
)
def test_near_miss_phrases_only_raise_deadline_error(
    words: list[str], sep: str, issued: date | None
) -> None:
    text = sep.join(words)
    for variant in (text, nfd(text)):
        try:
            spec = parse_deadline(variant, issued)
        except DeadlineError:
            continue
        assert spec.text == variant
        if spec.kind is DeadlineKind.FIXED:
            assert spec.due is not None and 1945 <= spec.due.year <= 2100


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([t for t, _ in FIXED_CASES] + [t for t, _, _ in RECURRING_CASES]))
def test_text_is_kept_verbatim_and_parsing_is_deterministic(text: str) -> None:
    first = parse_deadline(text)
    assert first.text == text
    assert parse_deadline(text) == first
    assert parse_deadline(f"  {text.upper()}  ").due == first.due


def test_explain_gives_the_working_day_due_date_and_the_periods() -> None:
    e = explain("trước ngày 25/10/2021", None, CAL, date(2026, 12, 1))
    assert (e.spec.due, e.due, e.periods) == (date(2021, 10, 24), date(2021, 10, 25), ())
    assert explain("trước ngày 25/10/2021", None, CAL, date(2026, 12, 1), roll=False).due == date(
        2021, 10, 24
    )
    yearly = explain("Hàng năm", None, CAL, date(2026, 12, 1), count=2)
    assert [(p.period, p.due) for p in yearly.periods] == [
        ("2026", date(2026, 12, 31)),
        ("2027", date(2027, 12, 31)),
    ]  # from today, when no issue date is given
    issued = explain("Hàng năm", date(2016, 3, 1), CAL, date(2026, 12, 1), count=1)
    assert [(p.period, p.nominal_due, p.due) for p in issued.periods] == [
        ("2016", date(2016, 12, 31), date(2017, 1, 3))  # Saturday, then New Year's Monday
    ]
    assert explain("Thường xuyên", None, CAL, date(2026, 12, 1)).as_json()["due"] is None
