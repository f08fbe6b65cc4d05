"""Quantitative targets ("chỉ tiêu"): what a task's units must reach, what they report, and the
share of the target reached, per unit and in total, with the denominator named.

A task's target is declared in the directive (``targets:`` of a task, :class:`Target` in
:mod:`kttt_workflow.domain.directive`); each unit's share is fanned out with the task
(:func:`kttt_workflow.domain.fanout.unit_targets`); a completion report carries actual values
(``kttt complete --actual "Số hợp tác xã=12"``). The SQL side is :mod:`kttt_workflow.store.targets`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from difflib import get_close_matches

from kttt_workflow.domain.text import nfc


def fmt_number(x: float) -> str:
    """A quantity as Vietnamese writes it: 1.600; 65,5; 0,25.

    >>> fmt_number(51000), fmt_number(65.5), fmt_number(0.25)
    ('51.000', '65,5', '0,25')
    """
    if float(x).is_integer():
        return f"{int(x):,}".replace(",", ".")
    text = f"{x:,.2f}".rstrip("0").rstrip(".")
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def fmt_percent(x: float) -> str:
    """A percentage to one decimal, halves rounded up as people round: 56,25 → "56,3%"."""
    return fmt_number(math.floor(x * 10 + 0.5) / 10) + "%"


class ActualError(ValueError):
    """An actual value that cannot be read or matches no target (Vietnamese message)."""


def parse_actuals(items: Iterable[str], indicators: Sequence[str]) -> dict[str, float]:
    """``["Số hợp tác xã=12", …]`` → ``{indicator: value}``, each name matched to one of the
    task's ``indicators`` (exactly, or as the only one when the task has one)."""
    out: dict[str, float] = {}
    for raw in items:
        name, sep, value = nfc(raw).rpartition("=")
        name, value = name.strip(), value.strip()
        if not sep or not value:
            raise ActualError(f"'{raw}': cần ghi dạng 'Tên chỉ tiêu=giá trị', ví dụ 'Số HTX=12'")
        try:
            number = float(value.replace(".", "").replace(",", ".") if "," in value else value)
        except ValueError:
            raise ActualError(f"'{raw}': giá trị '{value}' không phải là số") from None
        if number < 0:
            raise ActualError(f"'{raw}': giá trị không được âm")
        if not indicators:
            raise ActualError("nhiệm vụ không có chỉ tiêu định lượng: không ghi được kết quả")
        if name not in indicators:
            if not name and len(indicators) == 1:
                name = indicators[0]
            else:
                close = get_close_matches(name, list(indicators), n=3, cutoff=0.5)
                hint = (
                    "có phải: " + "; ".join(close)
                    if close
                    else "các chỉ tiêu: " + "; ".join(indicators)
                )
                raise ActualError(f"nhiệm vụ không có chỉ tiêu '{name}'; {hint}")
        out[name] = number
    return out


@dataclass(frozen=True)
class TargetLine:
    """One unit's share of one target, and what it reported against it as of a date."""

    directive: str
    task_key: str
    task_id: str
    unit: str  # as every view names it ("… (kế thừa từ …)")
    indicator: str
    measure: str
    target: float
    actual: float | None  # None: nothing reported yet
    verified: bool  # the report carrying the actual is verified (else it awaits verification)

    @property
    def percent(self) -> float | None:
        if self.actual is None or not self.target:
            return None
        return 100.0 * self.actual / self.target


@dataclass(frozen=True)
class TargetTotal:
    """A target across its units: the declared whole, the sum reported (shares of a split only:
    percentages do not add up), and how many units reported."""

    directive: str
    task_key: str
    indicator: str
    measure: str
    target: float
    actual: float | None
    units: int
    reported: int

    @property
    def percent(self) -> float | None:
        if self.actual is None or not self.target:
            return None
        return 100.0 * self.actual / self.target

    @property
    def percent_text(self) -> str:
        """ "18,8% chỉ tiêu (15/80 hợp tác xã; 3/8 đơn vị đã báo cáo)"."""
        pct = self.percent
        who = f"{self.reported}/{self.units} đơn vị đã báo cáo"
        if pct is None:
            return f"chưa có kết quả ({who})"
        assert self.actual is not None
        return (
            f"{fmt_percent(pct)} chỉ tiêu ({fmt_number(self.actual)}/"
            f"{fmt_number(self.target)} {self.measure}; {who})"
        )


@dataclass
class TargetReport:
    """Every target of the tasks in scope, as of a date: per unit, then per target in total."""

    as_of: date
    lines: list[TargetLine] = field(default_factory=list)
    totals: list[TargetTotal] = field(default_factory=list)


def assemble(
    as_of: date, lines: list[TargetLine], wholes: dict[tuple[str, str, str], tuple[float, bool]]
) -> TargetReport:
    """The report of ``lines``, with one total per (directive, task, indicator): ``wholes`` gives
    the task's declared value and whether it is split among the units."""
    by: dict[tuple[str, str, str], list[TargetLine]] = {}
    for ln in lines:
        by.setdefault((ln.directive, ln.task_key, ln.indicator), []).append(ln)
    totals = []
    for key, group in by.items():
        whole, split = wholes[key]
        reported = [g for g in group if g.actual is not None]
        if split or len(group) == 1:
            actual = sum(g.actual for g in reported if g.actual is not None) if reported else None
        else:
            actual = None  # every unit carries the whole value: a sum would mean nothing
        totals.append(
            TargetTotal(
                key[0], key[1], key[2], group[0].measure, whole, actual, len(group), len(reported)
            )
        )
    return TargetReport(as_of, lines, totals)
