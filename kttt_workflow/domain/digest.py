"""The digest: one Vietnamese message per recipient unit per sweep, never one per task.

Lines are grouped by directive, then by severity (sắp đến hạn / đến hạn / quá hạn / báo cáo cấp
trên); each names the task, its deadline as written and as computed, and the lead unit.
Rendered as plain text and as Markdown. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kttt_workflow.domain.escalation import SEVERITY_LABELS

SEVERITY_ORDER = ("escalated", "overdue", "due", "upcoming")


@dataclass(frozen=True)
class DigestLine:
    directive: str
    directive_title: str
    task_id: str
    title: str
    deadline_text: str | None
    due: date
    lead_name: str
    severity: str
    is_cc: bool


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    markdown: str


def _severity_heading(severity: str) -> str:
    return SEVERITY_LABELS.get(severity, severity)


def _line_text(line: DigestLine, as_of: date) -> str:
    late = (as_of - line.due).days
    when = f"hạn {line.due:%d/%m/%Y}"
    if late > 0:
        when += f", quá hạn {late} ngày"
    elif late < 0:
        when += f", còn {-late} ngày"
    written = f" (văn bản ghi: “{line.deadline_text}”)" if line.deadline_text else ""
    cc = " [để biết]" if line.is_cc else ""
    title = line.title if len(line.title) <= 160 else line.title[:157] + "…"
    return f"{title} — chủ trì: {line.lead_name}; {when}{written}. Mã: {line.task_id}{cc}"


def render(recipient_name: str, as_of: date, lines: Sequence[DigestLine]) -> Digest:
    """The digest for one unit.

    >>> d = render("Sở Nội vụ", date(2014, 4, 5), [DigestLine("kh-67-2013", "Kế hoạch 67/KH-UBND",
    ...     "kh-67-2013/III.1/tq-so-noi-vu", "Kiện toàn bộ máy", "Quý I/2014", date(2014, 3, 31),
    ...     "Sở Nội vụ", "overdue", False)])
    >>> d.subject
    'Nhắc việc, đôn đốc ngày 05/04/2014: 1 nhiệm vụ (1 quá hạn)'
    """
    overdue = sum(1 for x in lines if x.severity in ("overdue", "escalated"))
    subject = f"Nhắc việc, đôn đốc ngày {as_of:%d/%m/%Y}: {len(lines)} nhiệm vụ"
    if overdue:
        subject += f" ({overdue} quá hạn)"
    text = [
        f"Kính gửi: {recipient_name}",
        "",
        f"Tình hình thực hiện nhiệm vụ tính đến ngày {as_of:%d/%m/%Y}:",
    ]
    md = [
        f"**Kính gửi:** {recipient_name}",
        "",
        f"Tình hình thực hiện nhiệm vụ tính đến ngày **{as_of:%d/%m/%Y}**:",
    ]
    by_directive: dict[str, list[DigestLine]] = {}
    for x in lines:
        by_directive.setdefault(x.directive, []).append(x)
    for code in sorted(by_directive):
        group = by_directive[code]
        head = f"{group[0].directive_title} ({code})"
        text += ["", head]
        md += ["", f"### {head}"]
        for sev in SEVERITY_ORDER:
            items = sorted(
                (x for x in group if x.severity == sev), key=lambda x: (x.due, x.task_id)
            )
            if not items:
                continue
            text.append(f"  {_severity_heading(sev)} ({len(items)}):")
            md.append(f"**{_severity_heading(sev)}** ({len(items)}):")
            md.append("")
            for i, x in enumerate(items, 1):
                text.append(f"    {i}. {_line_text(x, as_of)}")
                md.append(f"{i}. {_line_text(x, as_of)}")
            md.append("")
    footer = (
        "Đề nghị quý cơ quan khẩn trương thực hiện và báo cáo kết quả (kèm số, ký hiệu, ngày văn bản) "
        "cho cơ quan theo dõi. Tin nhắn tự động từ hệ thống theo dõi nhiệm vụ kttt-workflow."
    )
    text += ["", footer]
    md += ["", f"_{footer}_"]
    return Digest(subject, "\n".join(text) + "\n", "\n".join(md).rstrip() + "\n")
