"""Vietnamese deadline grammar ("thời gian hoàn thành", "thời hạn").

Directives state deadlines as free text. :func:`parse_deadline` turns one into a
:class:`DeadlineSpec` of one of five kinds:

* ``FIXED``: one nominal due date.

  - a month: "trong tháng 11/2022", "hoàn thành trong tháng 12/2022", "tháng 11 năm 2022"
    -> the last day of the month (30/11/2022);
  - a quarter: "Quý IV/2013", "quý 2/2015", "Quý IV năm 2013" -> the last day of the quarter;
  - a half-year: "6 tháng đầu năm 2023" -> 30/06/2023, "6 tháng cuối năm 2023" -> 31/12/2023;
  - a year or a range of years: "Năm 2014", "Năm 2013-2014", "giai đoạn 2021-2025"
    -> 31 December of the (last) year;
  - a date, inclusive: "ngày 15/9/2021", "chậm nhất (là) ngày 15/9/2021" -> 15/09/2021;
  - "trước …" (before): the *strict* reading is used. "trước ngày 25/10/2021" means the work must
    be done before the 25th, so the nominal due date is the day before, 24/10/2021 (label
    "Hạn: 24/10/2021 (trước ngày 25/10/2021)"). Likewise "trước tháng 12/2022" -> 30/11/2022 and,
    in general, "trước <period>" -> the day before the period starts;
  - "chậm nhất", "trong", "vào", "đến hết", "cuối" before a period mean "by the end of it".

* ``RECURRING``: "Hàng năm"/"hằng năm", "định kỳ hàng quý", "định kỳ 6 tháng", "hàng tháng", and
  the report rule "trước ngày 20 của tháng cuối kỳ báo cáo" (due on the 19th of the period's last
  month; annual unless a recurrence is stated with it, e.g. "định kỳ hàng quý, trước ngày 20 của
  tháng cuối kỳ báo cáo"). Several recurrences may be combined ("Định kỳ 6 tháng, hằng năm",
  "định kỳ 6 tháng và hàng năm"): each is kept, in :attr:`DeadlineSpec.recurrences` (most frequent
  first; :attr:`DeadlineSpec.recurrence` is the first of them), and :func:`occurrences` expands the
  spec into the periods of every one of them (2014-H1, 2014-H2 and 2014), sorted by due date.

* ``ONGOING``: "Thường xuyên", "thường xuyên, liên tục", "Liên tục": no single deadline.

* ``PENDING``: the deadline is set elsewhere: "Theo Kế hoạch được phê duyệt", "Theo dự án",
  "Theo nhiệm kỳ …", any "Theo <reference>".

* ``UNSPECIFIED``: no text at all.

A date or period without its year ("trước ngày 25/10", "Quý IV") is an error that says to add the
year and, given the document's date, which year to write.

Nominal due dates are never moved here; :func:`effective_due` rolls a nominal date forward to the
next working day (Civil Code 2015, art. 148(5)). A strict "trước ngày 25/10/2021" therefore ends on
Sunday 24/10/2021 nominally and on Monday 25/10/2021 effectively.

Parsing is tolerant of case, repeated spaces, NFC/NFD input, dash variants and common prefixes
("hoàn thành", "thời hạn:", …); the original text is kept verbatim in :attr:`DeadlineSpec.text`.
Anything else raises :class:`DeadlineError` with a Vietnamese message. The module is pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from kttt_workflow.domain.calendar import WorkingCalendar
from kttt_workflow.domain.text import nfc

__all__ = [
    "ACCEPTED_FORMS",
    "MAX_YEAR",
    "MIN_YEAR",
    "DeadlineError",
    "DeadlineExplanation",
    "DeadlineKind",
    "DeadlineSpec",
    "Occurrence",
    "PeriodDue",
    "Recurrence",
    "effective_due",
    "explain",
    "occurrences",
    "parse_deadline",
]

MIN_YEAR = 1945
MAX_YEAR = 2100

_ONE_DAY = timedelta(days=1)


class DeadlineKind(StrEnum):
    """What kind of deadline a text states."""

    FIXED = "fixed"
    RECURRING = "recurring"
    ONGOING = "ongoing"
    PENDING = "pending"
    UNSPECIFIED = "unspecified"


class Recurrence(StrEnum):
    """How often a recurring deadline comes back."""

    ANNUAL = "annual"
    HALF_YEARLY = "half_yearly"
    QUARTERLY = "quarterly"
    MONTHLY = "monthly"


# Length of one period in months, and the Vietnamese adverb for the label.
_MONTHS_PER_PERIOD: dict[Recurrence, int] = {
    Recurrence.ANNUAL: 12,
    Recurrence.HALF_YEARLY: 6,
    Recurrence.QUARTERLY: 3,
    Recurrence.MONTHLY: 1,
}
_RECURRENCE_LABEL: dict[Recurrence, str] = {
    Recurrence.ANNUAL: "hằng năm",
    Recurrence.HALF_YEARLY: "6 tháng một lần",
    Recurrence.QUARTERLY: "hằng quý",
    Recurrence.MONTHLY: "hằng tháng",
}


@dataclass(frozen=True)
class DeadlineSpec:
    """A parsed deadline.

    ``text`` is the original text exactly as given; ``due`` (FIXED only) is the nominal due date
    before any working-day roll; ``recurrences`` (most frequent first), ``recurrence`` (the first
    of them) and ``due_day_in_last_month`` describe a RECURRING deadline (``None`` day = the last
    day of each period); ``label`` is a Vietnamese label.

    Ví dụ: ``parse_deadline("Quý IV/2013")`` cho ``DeadlineSpec(text="Quý IV/2013",
    kind=DeadlineKind.FIXED, due=date(2013, 12, 31), label="Hạn: 31/12/2013 (hết Quý IV/2013)")``.
    """

    text: str
    kind: DeadlineKind
    due: date | None = None
    recurrence: Recurrence | None = None
    due_day_in_last_month: int | None = None
    label: str = ""
    recurrences: tuple[Recurrence, ...] = ()

    def all_recurrences(self) -> tuple[Recurrence, ...]:
        """Every recurrence of a RECURRING deadline, most frequent first (``()`` for other kinds).

        A spec built with ``recurrence`` alone counts as that one recurrence.
        """
        if self.kind is not DeadlineKind.RECURRING:
            return ()
        if self.recurrences:
            return self.recurrences
        return (self.recurrence or Recurrence.ANNUAL,)


ACCEPTED_FORMS: tuple[str, ...] = (
    "trong tháng 11/2022",
    "hoàn thành trong tháng 12/2022",
    "tháng 11 năm 2022",
    "trước tháng 12/2022",
    "Quý IV/2013",
    "quý 2/2015",
    "chậm nhất trong Quý I/2014",
    "6 tháng đầu năm 2023",
    "6 tháng cuối năm 2023",
    "Năm 2014",
    "Năm 2013-2014",
    "giai đoạn 2021-2025",
    "ngày 15/9/2021",
    "chậm nhất ngày 15/9/2021",
    "trước ngày 25/10/2021",
    "trước ngày 25 tháng 10 năm 2021",
    "Hàng năm",
    "định kỳ hàng quý",
    "định kỳ 6 tháng",
    "hàng tháng",
    "trước ngày 20 của tháng cuối kỳ báo cáo",
    "Hàng năm, trước ngày 20 của tháng cuối kỳ báo cáo",
    "Định kỳ 6 tháng, hằng năm",
    "Thường xuyên",
    "Liên tục",
    "Theo Kế hoạch được phê duyệt",
    "Theo dự án",
    "Theo nhiệm kỳ …",
)


class DeadlineError(ValueError):
    """A deadline text that cannot be understood or names an impossible date.

    ``text`` is the text as given, ``reason`` a short Vietnamese reason; ``str(err)`` is a full
    Vietnamese message listing :data:`ACCEPTED_FORMS`, unless ``forms`` is false: when the reason
    already says how to write the text (a missing year), the list would only bury it.

    Ví dụ: ``parse_deadline("Quý V/2013")`` gây ``DeadlineError`` với
    ``reason == "quý phải từ I đến IV"``.
    """

    def __init__(self, text: str, reason: str, forms: bool = True) -> None:
        self.text = text
        self.reason = nfc(reason)
        self.forms = forms
        shown = nfc(" ".join(text.split()))
        message = f"Thời hạn “{shown}” không hợp lệ: {self.reason}."
        if forms:
            listed = "; ".join(f"“{form}”" for form in ACCEPTED_FORMS)
            message += f" Các cách ghi thời hạn được chấp nhận: {listed}; hoặc để trống."
        super().__init__(nfc(message))

    def __reduce__(self) -> tuple[type[DeadlineError], tuple[str, str, bool]]:
        return (type(self), (self.text, self.reason, self.forms))


# --------------------------------------------------------------------------------------------------
# Text normalisation
# --------------------------------------------------------------------------------------------------
_DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212]")
# Spelling variants (old tone placement, "i" for "y") of the words the grammar uses.
_VARIANTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bq(?:uí|úy)\b"), "quý"),
    (re.compile(r"\bkì\b"), "kỳ"),
    (re.compile(r"\bthường niên\b"), "hằng năm"),
)
_QUOTES = "\"'“”‘’«»"
_END_PUNCTUATION = " .,;:!"


def _canon(text: str) -> str:
    """Lower-case, NFC, single spaces, ASCII dashes, no wrapping brackets or end punctuation."""
    s = " ".join(_DASHES.sub("-", nfc(text).lower()).split()).replace("ð", "đ")  # Ð for Đ
    previous = None
    while previous != s:
        previous = s
        s = s.strip(_QUOTES + " ").rstrip(_END_PUNCTUATION)
        if len(s) >= 2 and s[0] in "([" and s[-1] in ")]":
            s = s[1:-1]
    for pattern, repl in _VARIANTS:
        s = pattern.sub(repl, s)
    return s


# Generic lead-ins that say nothing about the deadline itself ("hoàn thành trong tháng 11/2022").
_LEAD_IN = re.compile(
    r"^(?:thời gian hoàn thành|thời hạn hoàn thành|thời gian thực hiện|thời hạn|hạn chót|"
    r"hạn hoàn thành|hạn|hoàn thành|xong)(?:\s*:\s*|\s+)"
)


def _strip_lead_in(s: str) -> str:
    previous = None
    while previous != s:
        previous = s
        s = _LEAD_IN.sub("", s, count=1)
    return s


# --------------------------------------------------------------------------------------------------
# Dates and periods
# --------------------------------------------------------------------------------------------------
def _month_end(year: int, month: int) -> date:
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - _ONE_DAY


def _check_year(text: str, year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DeadlineError(text, f"năm {year} nằm ngoài khoảng {MIN_YEAR}–{MAX_YEAR}")


def _check_month(text: str, month: int) -> None:
    if not 1 <= month <= 12:
        raise DeadlineError(text, f"tháng phải từ 1 đến 12 (đang ghi tháng {month})")


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_ROMAN_OUT = {1: "I", 2: "II", 3: "III", 4: "IV"}


def _quarter_number(text: str, raw: str) -> int:
    if raw.isdigit():
        number = int(raw)
        if 1 <= number <= 4:
            return number
    elif raw in _ROMAN:
        return _ROMAN[raw]
    raise DeadlineError(text, "quý phải từ I đến IV")


def _fmt(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


@dataclass(frozen=True)
class _Period:
    start: date
    end: date
    name: str  # Vietnamese, e.g. "Quý IV/2013", "tháng 11/2022", "ngày 25/10/2021"


_Y = r"(?P<y>[0-9]{4})"
_SEP_YEAR = r"(?:\s*[/.-]\s*|\s+năm\s+)"
_DATE_NUMERIC = re.compile(
    r"(?:ngày\s+)?(?P<d>[0-9]{1,2})\s*[/.-]\s*(?P<m>[0-9]{1,2})\s*[/.-]\s*" + _Y
)
_DATE_WORDS = re.compile(r"(?:ngày\s+)?(?P<d>[0-9]{1,2})\s+tháng\s+(?P<m>[0-9]{1,2})\s+năm\s+" + _Y)
_MONTH = re.compile(r"tháng\s+(?P<m>[0-9]{1,2})" + _SEP_YEAR + _Y)
_QUARTER = re.compile(r"quý\s+(?P<q>[a-z]+|[0-9]{1,2})" + _SEP_YEAR + _Y)
_HALF = re.compile(r"(?:(?:6|sáu)\s+tháng|nửa)\s+(?P<h>đầu|cuối|sau)(?:\s+của)?\s+năm\s+" + _Y)
_YEAR_RANGE = re.compile(
    r"(?:(?:các\s+)?năm\s+|giai\s+đoạn\s+(?:năm\s+)?|thời\s+kỳ\s+|từ\s+(?:năm\s+)?)?"
    r"(?P<y1>[0-9]{4})\s*(?:-|đến(?:\s+hết)?|tới)\s*(?:năm\s+)?(?P<y2>[0-9]{4})"
)
_YEAR = re.compile(r"(?:năm\s+)?" + _Y)


def _period(text: str, core: str) -> _Period | None:
    """The period ``core`` names (a day, month, quarter, half-year, year or years), if any."""
    if m := _DATE_NUMERIC.fullmatch(core) or _DATE_WORDS.fullmatch(core):
        day, month, year = int(m["d"]), int(m["m"]), int(m["y"])
        _check_year(text, year)
        try:
            d = date(year, month, day)
        except ValueError:
            raise DeadlineError(text, f"ngày {day:02d}/{month:02d}/{year} không tồn tại") from None
        return _Period(d, d, f"ngày {_fmt(d)}")
    if m := _MONTH.fullmatch(core):
        month, year = int(m["m"]), int(m["y"])
        _check_month(text, month)
        _check_year(text, year)
        return _Period(date(year, month, 1), _month_end(year, month), f"tháng {month}/{year}")
    if m := _QUARTER.fullmatch(core):
        quarter, year = _quarter_number(text, m["q"]), int(m["y"])
        _check_year(text, year)
        first = 3 * quarter - 2
        return _Period(
            date(year, first, 1), _month_end(year, first + 2), f"Quý {_ROMAN_OUT[quarter]}/{year}"
        )
    if m := _HALF.fullmatch(core):
        year = int(m["y"])
        _check_year(text, year)
        if m["h"] == "đầu":
            return _Period(date(year, 1, 1), date(year, 6, 30), f"6 tháng đầu năm {year}")
        return _Period(date(year, 7, 1), date(year, 12, 31), f"6 tháng cuối năm {year}")
    if m := _YEAR_RANGE.fullmatch(core):
        first_year, last_year = int(m["y1"]), int(m["y2"])
        _check_year(text, first_year)
        _check_year(text, last_year)
        if last_year < first_year:
            raise DeadlineError(
                text, f"năm kết thúc {last_year} đứng trước năm bắt đầu {first_year}"
            )
        name = f"giai đoạn {first_year}-{last_year}"
        return _Period(date(first_year, 1, 1), date(last_year, 12, 31), name)
    if m := _YEAR.fullmatch(core):
        year = int(m["y"])
        _check_year(text, year)
        return _Period(date(year, 1, 1), date(year, 12, 31), f"năm {year}")
    return None


# Words in front of a period: "chậm nhất (là) (trong)", "trước", "trong", "vào", "đến hết", …
_MODIFIER = re.compile(
    r"^(?P<word>chậm nhất|muộn nhất|trước|trong vòng|trong|vào|đến hết|đến|hết|cuối|là)"
    r"(?:\s*:\s*|\s+)"
)


def _split_modifiers(s: str) -> tuple[str, str]:
    """``s`` split into its leading modifiers ("chậm nhất trong ", "trước ", …) and the rest."""
    core = s
    while m := _MODIFIER.match(core):
        core = core[m.end() :]
    return s[: len(s) - len(core)], core


def _parse_fixed(text: str, s: str) -> DeadlineSpec | None:
    prefix, core = _split_modifiers(s)
    before = any(m["word"] == "trước" for m in _MODIFIER.finditer(prefix))
    period = _period(text, core)
    if period is None:
        return None
    if before:
        due = period.start - _ONE_DAY
        _check_year(text, due.year)
        label = f"Hạn: {_fmt(due)} (trước {period.name})"
    elif period.start == period.end:
        due = period.end
        label = f"Hạn: {_fmt(due)}"
    else:
        due = period.end
        label = f"Hạn: {_fmt(due)} (hết {period.name})"
    return DeadlineSpec(text=text, kind=DeadlineKind.FIXED, due=due, label=nfc(label))


# A day, month, quarter or half-year written without its year, and how its year is joined on:
# "trước ngày 25/10" + "/2013", "25 tháng 10" + " năm 2013", "6 tháng đầu năm" + " 2013".
_YEARLESS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?:ngày\s+)?(?P<d>[0-9]{1,2})\s*[/.-]\s*(?P<m>[0-9]{1,2})"), "/"),
    (re.compile(r"(?:ngày\s+)?(?P<d>[0-9]{1,2})\s+tháng\s+(?P<m>[0-9]{1,2})"), " năm "),
    (re.compile(r"tháng\s+(?P<m>[0-9]{1,2})"), "/"),
    (re.compile(r"quý\s+(?P<q>[ivx]+|[0-9]{1,2})"), "/"),
    (re.compile(r"(?:(?:6|sáu)\s+tháng|nửa)\s+(?:đầu|cuối|sau)(?:\s+của)?\s+năm"), " "),
)
# Quotes, brackets and end punctuation around the text as written.
_TRAILING = re.compile(r"[\s" + re.escape(_QUOTES + _END_PUNCTUATION + ")]") + r"]*$")
# How many years after the document's a year-less date may be looked for (29/02 needs up to 8).
_YEAR_SEARCH = 9


def _check_yearless(text: str, m: re.Match[str]) -> None:
    """Raise for a day, month or quarter that exists in no year ("31/02", "tháng 13", "Quý V")."""
    groups = m.groupdict()
    if groups.get("q") is not None:
        _quarter_number(text, groups["q"])
    if groups.get("m") is not None:
        _check_month(text, int(groups["m"]))
    if groups.get("d") is not None:
        day, month = int(groups["d"]), int(groups["m"])
        try:
            date(2000, month, day)  # a leap year: 29/02 exists
        except ValueError:
            raise DeadlineError(text, f"ngày {day:02d}/{month:02d} không tồn tại") from None


def _with_year(text: str, joiner: str, year: int | str) -> str:
    """The text as written, with ``year`` joined on after its last word (before end punctuation)."""
    shown = nfc(" ".join(text.split()))
    end = _TRAILING.search(shown)
    cut = end.start() if end else len(shown)
    return f"{shown[:cut]}{joiner}{year}{shown[cut:]}"


def _missing_year(text: str, s: str, issued: date | None) -> DeadlineError | None:
    """The error for a date or period written without its year, or ``None`` if ``s`` is not one.

    The suggested year is the document's, unless the deadline would then fall before the document's
    date: then the first later year in which it does not.
    """
    prefix, core = _split_modifiers(s)
    for pattern, joiner in _YEARLESS:
        m = pattern.fullmatch(core)
        if m is None:
            continue
        _check_yearless(text, m)
        if issued is None:
            written = _with_year(text, joiner, "<năm>")
            return DeadlineError(text, f"thiếu năm: hãy ghi thêm năm, dạng “{written}”", False)
        dues: dict[int, date] = {}
        for year in range(max(issued.year, MIN_YEAR), issued.year + _YEAR_SEARCH):
            try:
                spec = _parse_fixed(text, f"{prefix}{core}{joiner}{year}")
            except DeadlineError:
                continue  # 29/02 of a common year, or a year past MAX_YEAR
            if spec is None or spec.due is None:
                continue
            dues[year] = spec.due
            if spec.due < issued:
                continue
            written = _with_year(text, joiner, year)
            if year == issued.year:
                why = "năm của văn bản"
            elif year == issued.year + 1 and issued.year in dues:
                why = (
                    f"năm sau năm của văn bản: năm {issued.year} thì hạn {_fmt(dues[issued.year])} "
                    f"đã trước ngày ban hành {_fmt(issued)}"
                )
            else:
                why = f"năm gần nhất có hạn không trước ngày ban hành {_fmt(issued)}"
            return DeadlineError(text, f"thiếu năm: hãy ghi “{written}” ({why})", False)
        written = _with_year(text, joiner, "<năm>")
        return DeadlineError(text, f"thiếu năm: hãy ghi thêm năm, dạng “{written}”", False)
    return None


# --------------------------------------------------------------------------------------------------
# Recurring, ongoing and pending deadlines
# --------------------------------------------------------------------------------------------------
_CLAUSE_SPLIT = re.compile(r"\s*[,;]\s*|\s+(?:và|hoặc)\s+")
_FILLER = re.compile(
    r"^(?:thời gian gửi báo cáo|thời gian báo cáo|gửi báo cáo|báo cáo|thực hiện|tổ chức|"
    r"theo định kỳ|định kỳ|thời gian)(?:\s*:\s*|\s+)"
)
_EVERY = r"(?:hàng|hằng|mỗi|từng)"
_ONCE = r"(?:\s+(?:một|1)\s+lần)?"
_RECURRENCE_PATTERNS: tuple[tuple[Recurrence, re.Pattern[str]], ...] = (
    (
        Recurrence.ANNUAL,
        re.compile(rf"{_EVERY}\s+năm{_ONCE}|(?:(?:một|1)\s+)?năm\s+(?:một|1)\s+lần"),
    ),
    (
        Recurrence.HALF_YEARLY,
        re.compile(
            rf"(?:{_EVERY}\s+)?(?:6|sáu)\s+tháng{_ONCE}|{_EVERY}\s+nửa\s+năm|"
            r"nửa\s+năm\s+(?:một|1)\s+lần|bán\s+niên"
        ),
    ),
    (
        Recurrence.QUARTERLY,
        re.compile(
            rf"{_EVERY}\s+quý{_ONCE}|quý\s+(?:một|1)\s+lần|(?:{_EVERY}\s+)?(?:3|ba)\s+tháng"
            rf"{_ONCE}"
        ),
    ),
    (Recurrence.MONTHLY, re.compile(rf"{_EVERY}\s+tháng{_ONCE}|tháng\s+(?:một|1)\s+lần")),
)
_REPORT_RULE = re.compile(
    r"(?P<mod>trước|chậm nhất(?:\s+là)?)(?:\s+ngày)?\s+(?P<d>[0-9]{1,2})\s+"
    r"(?:của\s+|trong\s+)?tháng\s+cuối(?:\s+cùng)?(?:\s+(?:của|trong))?(?:\s+(?:mỗi|từng|các))?\s+"
    r"(?P<unit>kỳ\s+báo\s+cáo|kỳ|quý|năm|6\s+tháng)"
)
# "trước ngày 20 hằng tháng", "chậm nhất ngày 15/12 hằng năm".
_DAY_EVERY = re.compile(
    r"(?P<mod>trước|chậm nhất(?:\s+là)?)(?:\s+ngày)?\s+(?P<d>[0-9]{1,2})"
    r"(?:\s*[/.-]\s*(?P<m>[0-9]{1,2}))?\s+(?:của\s+|trong\s+)?(?:hàng|hằng|mỗi)\s+(?P<unit>tháng|năm)"
)
_RULE_UNIT: dict[str, Recurrence | None] = {
    "kỳ báo cáo": None,
    "kỳ": None,
    "quý": Recurrence.QUARTERLY,
    "năm": Recurrence.ANNUAL,
    "6 tháng": Recurrence.HALF_YEARLY,
}


def _strip_filler(clause: str) -> str:
    previous = None
    while previous != clause:
        previous = clause
        clause = _FILLER.sub("", clause, count=1)
    return clause


def _rule_day(text: str, mod: str, raw_day: str) -> int:
    """The due day in the month for "trước ngày N" (N - 1, strict) or "chậm nhất ngày N" (N)."""
    number = int(raw_day)
    if not 1 <= number <= 31:
        raise DeadlineError(text, f"ngày trong tháng phải từ 1 đến 31 (đang ghi ngày {number})")
    if mod != "trước":
        return number
    if number == 1:
        raise DeadlineError(text, "“trước ngày 1” không để lại ngày nào trong tháng")
    return number - 1


def _parse_recurring(text: str, s: str) -> DeadlineSpec | None:
    recurrences: set[Recurrence] = set()
    due_days: set[int] = set()
    for raw_clause in _CLAUSE_SPLIT.split(s):
        clause = _strip_filler(raw_clause)
        if not clause or _ONGOING.fullmatch(clause):
            # "Thường xuyên, báo cáo hằng năm": the periodic reports are what is tracked.
            continue
        if m := _REPORT_RULE.fullmatch(clause):
            due_days.add(_rule_day(text, m["mod"], m["d"]))
            unit = _RULE_UNIT[" ".join(m["unit"].split())]
            if unit is not None:
                recurrences.add(unit)
            continue
        if m := _DAY_EVERY.fullmatch(clause):
            if m["unit"] == "tháng" and m["m"] is None:
                recurrences.add(Recurrence.MONTHLY)
            elif m["unit"] == "năm" and m["m"] is not None and int(m["m"]) == 12:
                recurrences.add(Recurrence.ANNUAL)
            elif m["unit"] == "năm" and m["m"] is not None:
                raise DeadlineError(
                    text, "hạn hằng năm chỉ được ghi vào tháng 12 (tháng cuối kỳ báo cáo năm)"
                )
            else:
                return None
            due_days.add(_rule_day(text, m["mod"], m["d"]))
            continue
        for recurrence, pattern in _RECURRENCE_PATTERNS:
            if pattern.fullmatch(clause):
                recurrences.add(recurrence)
                break
        else:
            return None
    if len(due_days) > 1:
        raise DeadlineError(text, "ghi nhiều hạn báo cáo khác nhau")
    due_day = next(iter(due_days), None)
    if not recurrences and due_day is None:
        return None
    # Every recurrence stated is kept ("Định kỳ 6 tháng, hằng năm": the half-yearly reports and
    # the annual one), most frequent first; the report rule alone is annual.
    kept = tuple(sorted(recurrences, key=_MONTHS_PER_PERIOD.__getitem__)) or (Recurrence.ANNUAL,)
    names = [_RECURRENCE_LABEL[r] for r in kept]
    label = "Định kỳ " + (
        names[0] if len(names) == 1 else ", ".join(names[:-1]) + " và " + names[-1]
    )
    if due_day is None:
        label += ", hạn ngày cuối cùng của kỳ"
    elif kept == (Recurrence.MONTHLY,):
        label += f", hạn ngày {due_day} hằng tháng"
    else:
        label += f", hạn ngày {due_day} của tháng cuối kỳ"
    return DeadlineSpec(
        text=text,
        kind=DeadlineKind.RECURRING,
        recurrence=kept[0],
        due_day_in_last_month=due_day,
        label=nfc(label),
        recurrences=kept,
    )


_ONGOING = re.compile(
    r"(?:thực hiện\s+)?(?:thường xuyên|liên tục)"
    r"(?:(?:\s*[,;-]\s*|\s+)(?:và\s+)?(?:thường xuyên|liên tục))*"
)
_PENDING = re.compile(r"theo\s+\w.*")


def parse_deadline(text: str | None, issued: date | None = None) -> DeadlineSpec:
    """Parse a Vietnamese deadline text into a :class:`DeadlineSpec`.

    ``None`` or blank text gives ``UNSPECIFIED``. ``issued`` (the directive's date) only serves the
    message for a date written without its year, which names the year to write; a due date before
    it is not an error here (the loader decides what it means). Unknown or impossible texts raise
    :class:`DeadlineError`.

    Ví dụ: ``parse_deadline("hoàn thành trong tháng 11/2022").due == date(2022, 11, 30)``;
    ``parse_deadline("trước ngày 25/10/2021").due == date(2021, 10, 24)``;
    ``parse_deadline("Hàng năm").recurrence == Recurrence.ANNUAL``;
    ``parse_deadline("Định kỳ 6 tháng, hằng năm").recurrences == (Recurrence.HALF_YEARLY,
    Recurrence.ANNUAL)``; ``parse_deadline("trước ngày 25/10", date(2013, 10, 1))`` gây
    ``DeadlineError``: "thiếu năm: hãy ghi “trước ngày 25/10/2013” (năm của văn bản)".
    """
    if text is None or not text.strip():
        return DeadlineSpec(
            text="" if text is None else text,
            kind=DeadlineKind.UNSPECIFIED,
            label="Văn bản không ghi thời hạn",
        )
    s = _strip_lead_in(_canon(text))
    if not s:
        raise DeadlineError(text, "không nhận dạng được")
    if _ONGOING.fullmatch(s):
        return DeadlineSpec(
            text=text, kind=DeadlineKind.ONGOING, label="Thường xuyên (không có hạn cụ thể)"
        )
    spec = _parse_recurring(text, s)
    if spec is not None:
        return spec
    if _PENDING.fullmatch(s):
        shown = nfc(" ".join(text.split()).strip(" .,;:"))
        shown = shown[:1].lower() + shown[1:]
        return DeadlineSpec(
            text=text,
            kind=DeadlineKind.PENDING,
            label=nfc(f"Chờ xác định thời hạn ({shown})"),
        )
    spec = _parse_fixed(text, s)
    if spec is not None:
        return spec
    missing = _missing_year(text, s, issued)
    if missing is not None:
        raise missing
    raise DeadlineError(text, "không nhận dạng được")


# --------------------------------------------------------------------------------------------------
# Occurrences of a recurring deadline
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Occurrence:
    """One period of a recurring deadline and its nominal due date.

    ``period`` is "2014" (annual), "2014-H1"/"2014-H2", "2014-Q1".."2014-Q4" or "2014-05".

    Ví dụ: ``Occurrence(period="2014", start=date(2014, 1, 1), end=date(2014, 12, 31),
    due=date(2014, 12, 19))`` cho "Hàng năm, trước ngày 20 của tháng cuối kỳ báo cáo".
    """

    period: str
    start: date
    end: date
    due: date


def _period_code(recurrence: Recurrence, year: int, index: int) -> str:
    if recurrence is Recurrence.ANNUAL:
        return f"{year}"
    if recurrence is Recurrence.HALF_YEARLY:
        return f"{year}-H{index}"
    if recurrence is Recurrence.QUARTERLY:
        return f"{year}-Q{index}"
    return f"{year}-{index:02d}"


def occurrences(spec: DeadlineSpec, start: date, until: date) -> list[Occurrence]:
    """The periods of a RECURRING deadline that overlap ``[start, until]``, sorted by due date,
    then by period code.

    For each recurrence the first period is the one containing ``start``; a combined deadline
    gives the periods of each of its recurrences. Other kinds, or ``until < start``, give ``[]``.
    A due day past the end of a short month is clamped to its last day.

    Ví dụ: với ``parse_deadline("Hàng năm, trước ngày 20 của tháng cuối kỳ báo cáo")``,
    ``occurrences(spec, date(2013, 10, 1), date(2015, 6, 30))`` cho các kỳ "2013", "2014", "2015",
    hạn 19/12 mỗi năm; với "Định kỳ 6 tháng, hằng năm" từ 01/01/2014 đến 31/12/2014: "2014-H1"
    (hạn 30/06), "2014" và "2014-H2" (cùng hạn 31/12).
    """
    if spec.kind is not DeadlineKind.RECURRING or until < start:
        return []
    result = [o for r in spec.all_recurrences() for o in _occurrences_of(spec, r, start, until)]
    return sorted(result, key=lambda o: (o.due, o.period))


def _occurrences_of(
    spec: DeadlineSpec, recurrence: Recurrence, start: date, until: date
) -> list[Occurrence]:
    """The periods of one ``recurrence`` that overlap ``[start, until]``, in order."""
    months = _MONTHS_PER_PERIOD[recurrence]
    index = (start.month - 1) // months  # 0-based period index within the year
    year = start.year
    result: list[Occurrence] = []
    while True:
        first_month = index * months + 1
        last_month = first_month + months - 1
        period_start = date(year, first_month, 1)
        if period_start > until:
            break
        period_end = _month_end(year, last_month)
        if spec.due_day_in_last_month is None:
            due = period_end
        else:
            due = date(year, last_month, min(spec.due_day_in_last_month, period_end.day))
        code = _period_code(recurrence, year, index + 1 if months < 12 else 0)
        result.append(Occurrence(period=code, start=period_start, end=period_end, due=due))
        if period_end >= date.max - _ONE_DAY:
            break
        index += 1
        if index * months >= 12:
            index = 0
            year += 1
    return result


def effective_due(nominal: date, calendar: WorkingCalendar, roll: bool = True) -> date:
    """The due date that counts: ``nominal`` rolled forward to a working day when ``roll``.

    Ví dụ: ``effective_due(date(2021, 10, 24), cal)`` (Chủ nhật) trả về ``date(2021, 10, 25)``;
    ``effective_due(date(2021, 10, 24), cal, roll=False)`` trả về ``date(2021, 10, 24)``.
    """
    return calendar.roll_forward(nominal) if roll else nominal


# --------------------------------------------------------------------------------------------------
# Explaining a deadline ("kttt deadline")
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PeriodDue:
    """One period of a recurring deadline: its label, nominal and working-day due date."""

    period: str
    nominal_due: date
    due: date


@dataclass(frozen=True)
class DeadlineExplanation:
    """How the engine reads a deadline as written."""

    spec: DeadlineSpec
    due: date | None  # the nominal due date rolled to a working day (when rolling applies)
    periods: tuple[PeriodDue, ...] = ()

    def as_json(self) -> dict[str, object]:
        s = self.spec
        return {
            "text": s.text,
            "kind": s.kind.value,
            "label": s.label,
            "recurrence": s.recurrence.value if s.recurrence else None,
            "recurrences": [r.value for r in s.all_recurrences()],
            "nominal_due": s.due.isoformat() if s.due else None,
            "due": self.due.isoformat() if self.due else None,
            "occurrences": [
                {
                    "period": p.period,
                    "nominal_due": p.nominal_due.isoformat(),
                    "due": p.due.isoformat(),
                }
                for p in self.periods
            ],
        }


def explain(
    text: str,
    issued: date | None,
    calendar: WorkingCalendar,
    today: date,
    count: int = 4,
    roll: bool = True,
) -> DeadlineExplanation:
    """Parse ``text`` and compute its due dates; a recurring deadline shows its first ``count``
    periods from ``issued`` (else ``today``). Raises :class:`DeadlineError`.

    Ví dụ: ``explain("Quý IV/2013", None, cal, date(2026, 12, 1)).due`` là ``date(2013, 12, 31)``.
    """
    spec = parse_deadline(text, issued)
    due = effective_due(spec.due, calendar, roll) if spec.due else None
    periods: tuple[PeriodDue, ...] = ()
    if spec.kind == DeadlineKind.RECURRING:
        start = issued or today
        occ = occurrences(spec, start, date(start.year + count + 1, 12, 31))[:count]
        periods = tuple(
            PeriodDue(o.period, o.due, effective_due(o.due, calendar, roll)) for o in occ
        )
    return DeadlineExplanation(spec, due, periods)
