"""The digest: one Vietnamese message per recipient unit per sweep, never one per task.

Lines are grouped by directive, then by section: the ladder's (báo cáo cấp trên / quá hạn / đến
hạn / sắp đến hạn), then the follow-ups a sweep sends besides the ladder (báo cáo bị trả lại, to
the lead; báo cáo chờ xác nhận, oldest first, and đề nghị giao lại, to the coordinator). Each line
names the task, its deadline as written and as computed, and the unit that answers for it (with
the unit it inherited the task from). Rendered as plain text and as Markdown. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kttt_workflow.domain.escalation import SEVERITY_LABELS

# Follow-up notices (not steps of a ladder): their severities and section headings.
FOLLOW_UP_LABELS = {
    "returned": "Báo cáo bị trả lại, đề nghị bổ sung",
    "verify": "Báo cáo chờ xác nhận",
    "reassign": "Đơn vị chủ trì đã giải thể, chưa có đơn vị kế thừa: đề nghị giao lại",
}
SEVERITY_ORDER = ("escalated", "overdue", "due", "upcoming", *FOLLOW_UP_LABELS)
LADDER = frozenset(("escalated", "overdue", "due", "upcoming"))


@dataclass(frozen=True)
class DigestLine:
    directive: str
    directive_title: str
    task_id: str
    title: str
    deadline_text: str | None
    due: date
    lead_name: str  # as shown: "Sở Tài chính Bắc Ninh (kế thừa từ Sở Kế hoạch và Đầu tư …)"
    severity: str
    is_cc: bool
    waiting_for_parent: bool = False  # the parent task is not done yet
    reported_on: date | None = None  # follow-ups: the report's date
    evidence: str | None = None  # follow-ups: what the report says
    reason: str | None = None  # a returned report: why
    decided_on: date | None = None  # a returned report: when


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    markdown: str


def _heading(severity: str) -> str:
    return SEVERITY_LABELS.get(severity) or FOLLOW_UP_LABELS.get(severity, severity)


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(line: DigestLine, as_of: date) -> str:
    late = (as_of - line.due).days
    when = f"hạn {line.due:%d/%m/%Y}"
    if late > 0:
        when += f", quá hạn {late} ngày"
    elif late < 0:
        when += f", còn {-late} ngày"
    written = f" (văn bản ghi: “{line.deadline_text}”)" if line.deadline_text else ""
    return when + written


def _line_text(line: DigestLine, as_of: date) -> str:
    title = _short(line.title)
    code = f"Mã: {line.task_id}"
    if line.severity == "verify":
        day = f"{line.reported_on:%d/%m/%Y}" if line.reported_on else "—"
        return (
            f"{title} — chủ trì: {line.lead_name}; báo cáo ngày {day}: "
            f"{_short(line.evidence or '—', 200)}. {code}"
        )
    if line.severity == "returned":
        day = f"{line.decided_on:%d/%m/%Y}" if line.decided_on else "—"
        reported = f"{line.reported_on:%d/%m/%Y}" if line.reported_on else "—"
        return (
            f"{title} — báo cáo ngày {reported} đã bị trả lại ngày {day}; "
            f"lý do: {line.reason or 'không ghi'}; {_when(line, as_of)}. {code}"
        )
    if line.severity == "reassign":
        return f"{title} — chủ trì: {line.lead_name}; {_when(line, as_of)}. {code}"
    cc = " [để biết]" if line.is_cc else ""
    waiting = " Lưu ý: nhiệm vụ cấp trên chưa hoàn thành." if line.waiting_for_parent else ""
    return f"{title} — chủ trì: {line.lead_name}; {_when(line, as_of)}. {code}{cc}{waiting}"


def _order(line: DigestLine) -> tuple[date, str]:
    if line.severity == "verify" and line.reported_on is not None:
        return (line.reported_on, line.task_id)  # the oldest report first
    return (line.due, line.task_id)


def _subject(as_of: date, lines: Sequence[DigestLine]) -> str:
    ladder = [x for x in lines if x.severity in LADDER]
    parts: list[str] = []
    overdue = sum(1 for x in ladder if x.severity in ("overdue", "escalated"))
    if overdue:
        parts.append(f"{overdue} quá hạn")
    for sev, label in (
        ("returned", "báo cáo bị trả lại"),
        ("verify", "báo cáo chờ xác nhận"),
        ("reassign", "đề nghị giao lại"),
    ):
        k = sum(1 for x in lines if x.severity == sev)
        if k:
            parts.append(f"{k} {label}")
    subject = f"Nhắc việc, đôn đốc ngày {as_of:%d/%m/%Y}: {len(lines)} nhiệm vụ"
    return subject + (f" ({', '.join(parts)})" if parts else "")


def _footer(lines: Sequence[DigestLine]) -> list[str]:
    kinds = {x.severity for x in lines}
    out = []
    if any(x.severity in LADDER and not x.is_cc for x in lines) or "returned" in kinds:
        out.append(
            "Đề nghị quý cơ quan khẩn trương thực hiện và báo cáo kết quả (kèm số, ký hiệu, "
            "ngày văn bản) cho cơ quan theo dõi."
        )
    if "verify" in kinds:
        out.append(
            "Đề nghị cơ quan theo dõi xem xét, xác nhận hoặc trả lại (nêu rõ lý do) các báo cáo "
            "chờ xác nhận nêu trên."
        )
    if "reassign" in kinds:
        out.append(
            "Đề nghị cơ quan ban hành, cơ quan theo dõi giao lại các nhiệm vụ của đơn vị đã giải "
            "thể cho đơn vị khác."
        )
    out.append("Tin nhắn tự động từ hệ thống theo dõi nhiệm vụ kttt-workflow.")
    return out


def render(recipient_name: str, as_of: date, lines: Sequence[DigestLine]) -> Digest:
    """The digest for one unit.

    >>> d = render("Sở Nội vụ", date(2014, 4, 5), [DigestLine("kh-67-2013", "Kế hoạch 67/KH-UBND",
    ...     "kh-67-2013/III.1/tq-so-noi-vu", "Kiện toàn bộ máy", "Quý I/2014", date(2014, 3, 31),
    ...     "Sở Nội vụ", "overdue", False)])
    >>> d.subject
    'Nhắc việc, đôn đốc ngày 05/04/2014: 1 nhiệm vụ (1 quá hạn)'
    """
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
            items = sorted((x for x in group if x.severity == sev), key=_order)
            if not items:
                continue
            text.append(f"  {_heading(sev)} ({len(items)}):")
            md.append(f"**{_heading(sev)}** ({len(items)}):")
            md.append("")
            for i, x in enumerate(items, 1):
                text.append(f"    {i}. {_line_text(x, as_of)}")
                md.append(f"{i}. {_line_text(x, as_of)}")
            md.append("")
    footer = _footer(lines)
    text += ["", *footer]
    for f in footer:
        md += ["", f"_{f}_"]
    return Digest(_subject(as_of, lines), "\n".join(text) + "\n", "\n".join(md).rstrip() + "\n")
