"""A digest to a superior or a copy of thousands of tasks stays a message a mail server accepts:
its first tasks in full, the rest counted per unit; a unit's own tasks are always listed in full."""

from __future__ import annotations

import re
from datetime import date, timedelta

from kttt_workflow.domain.digest import FULL_LINES, SUMMARY_UNITS, DigestLine, render

AS_OF = date(2026, 4, 28)


def line(unit: int, k: int, role: str, severity: str = "escalated") -> DigestLine:
    return DigestLine(
        "ct-quoc-gia-2026",
        "Chương trình quốc gia 2026",
        f"ct-quoc-gia-2026/{k}/u{unit:04d}/2026-q1",
        f"Báo cáo quý I/2026, nhiệm vụ {k}",
        "Hằng quý, trước ngày 15 của tháng cuối quý",
        AS_OF - timedelta(days=40 + unit % 30 + k),
        f"UBND xã số {unit:04d}",
        severity,
        role == "copy",
        role=role,
    )


def test_a_superior_gets_the_first_units_in_full_and_the_others_counted() -> None:
    # 150 communes with 20 tasks each: 10 communes fit in FULL_LINES (200), 100 are counted,
    # the last 40 (800 tasks) in one line.
    lines = [line(u, k, "superior") for u in range(150) for k in range(20)]
    d = render("Bộ Nội vụ", AS_OF, lines)
    assert f"({len(lines)}):" in d.text  # the section counts every task
    assert d.subject.endswith(f"{len(lines)} nhiệm vụ (3000 quá hạn)")
    assert len(re.findall(r"Mã: ", d.text)) == FULL_LINES
    assert "Do số lượng nhiệm vụ lớn, thư chỉ nêu chi tiết 200 nhiệm vụ" in d.text
    counted = re.findall(r"^    - UBND xã số (\d{4}): 20 nhiệm vụ, quá hạn lâu nhất (\d+) ngày$",
                         d.text, re.M)  # fmt: skip
    assert len(counted) == SUMMARY_UNITS
    # Each counted unit's most days overdue is its oldest task's (k = 19).
    unit, late = counted[0]
    assert int(late) == 40 + int(unit) % 30 + 19
    assert "    - Các đơn vị khác (40 đơn vị): 800 nhiệm vụ" in d.text
    assert "Các đơn vị khác (40 đơn vị)" in d.html and ">800<" in d.html
    assert "- Các đơn vị khác (40 đơn vị): 800 nhiệm vụ" in d.markdown
    # No unit is both listed and counted, and none is left out.
    listed = set(re.findall(r"^    UBND xã số (\d{4}) \(20 nhiệm vụ\):$", d.text, re.M))
    assert len(listed) == 10 and not listed & {u for u, _ in counted}
    assert len(d.html) < 500_000  # 3,000 lines in full were ~2.5 MB


def test_a_copy_section_lists_its_first_tasks_and_counts_the_rest() -> None:
    lines = [line(u, k, "copy", "due") for u in range(50) for k in range(5)]  # 250 copies
    d = render("Sở Tài chính", AS_OF, lines)
    assert len(re.findall(r"Mã: ", d.text)) == FULL_LINES
    # The 50 tasks past the first 200 (by due date) are counted by their units, none twice.
    counted = re.findall(r"^    - UBND xã số (\d{4}): (\d+) nhiệm vụ", d.text, re.M)
    assert sum(int(n) for _, n in counted) == len(lines) - FULL_LINES
    assert len({u for u, _ in counted}) == len(counted)
    assert "Các đơn vị khác" not in d.text


def test_a_units_own_tasks_are_never_cut() -> None:
    lines = [line(1, k, "lead", "overdue") for k in range(FULL_LINES + 300)]
    d = render("UBND xã số 0001", AS_OF, lines)
    assert len(re.findall(r"Mã: ", d.text)) == FULL_LINES + 300
    assert "Do số lượng nhiệm vụ lớn" not in d.text + d.html
