"""The digest: one Vietnamese message per recipient unit per sweep, never one per task.

What a line says depends on who reads it (:attr:`DigestLine.role`):

* **lead** — the unit that answers for the task acts: "Quá hạn", "Đến hạn hôm nay", "Sắp đến hạn"
  (a reminder before the deadline, not "khẩn trương"), each line with the full task text, the
  deliverable ("sản phẩm"), the deadline as written and as computed. A lead copied on the
  escalation of its own task reads it under "Quá hạn" with "đã báo cáo cấp trên", never under
  "Báo cáo cấp trên … [để biết]".
* **superior** — a parent unit, the issuer: "Kính báo cáo … để biết, chỉ đạo", the tasks grouped
  by the units concerned; nothing is asked of it but to know and direct.
* **copy** — a coordinating unit, a parent copied on an urging: "Đồng gửi để biết", said as such.

Besides the ladder, the follow-ups: a returned report (to the lead, with the reason and what is
expected), reports awaiting verification (to the coordinator, oldest first; never urged) and
requests to reassign a dissolved unit's tasks. The sign-off names the monitoring body and how to
reach it (:class:`Monitor`). Rendered as plain text, Markdown (chat channels) and HTML (the
e-mail's alternative part: tables with inline styles only, no external resource, every text
escaped). Pure; no text is ever cut.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property, lru_cache

# Follow-up notices (not steps of a ladder): their section headings.
FOLLOW_UP_LABELS = {
    "returned": "Báo cáo bị trả lại, đề nghị bổ sung",
    "verify": "Báo cáo chờ xác nhận",
    "reassign": "Đơn vị chủ trì đã giải thể, chưa có đơn vị kế thừa: đề nghị giao lại",
}
SEVERITY_ORDER = ("escalated", "overdue", "due", "upcoming", *FOLLOW_UP_LABELS)
LADDER = frozenset(("escalated", "overdue", "due", "upcoming"))
ROLES = ("lead", "superior", "copy")

# The sections of a directive's part, in order: (key, heading).
SECTIONS = (
    ("overdue", "Quá hạn"),
    ("due", "Đến hạn hôm nay"),
    ("upcoming", "Sắp đến hạn (nhắc việc trước hạn)"),
    ("returned", FOLLOW_UP_LABELS["returned"]),
    ("superior", "Kính báo cáo để biết, chỉ đạo: nhiệm vụ chậm thực hiện"),
    ("copy", "Đồng gửi để biết (không yêu cầu báo cáo)"),
    ("verify", FOLLOW_UP_LABELS["verify"]),
    ("reassign", FOLLOW_UP_LABELS["reassign"]),
)
_HEADINGS = dict(SECTIONS)
SIGNATURE = "Thư tự động từ hệ thống theo dõi nhiệm vụ kttt-workflow."
# An information section (a superior's "để biết, chỉ đạo", a copy) lists this many tasks in full;
# past them its tasks are counted per unit, and past SUMMARY_UNITS units in one line. The issuer
# of a national directive would otherwise get tens of thousands of lines in one message (31 MB of
# HTML on the national scenario's busiest day: more than mail servers accept). A unit's own tasks
# (what it must act on) are always listed in full.
FULL_LINES = 200
SUMMARY_UNITS = 100
LONG_NOTE = (
    "Do số lượng nhiệm vụ lớn, thư chỉ nêu chi tiết {full} nhiệm vụ của mỗi mục; các nhiệm vụ "
    "còn lại được tổng hợp theo đơn vị. Danh sách đầy đủ xem tại báo cáo tiến độ của hệ thống "
    "theo dõi."
)


@dataclass(frozen=True)
class Monitor:
    """The body that monitors a directive, and how a unit reaches it (the digest's sign-off)."""

    name: str
    phone: str | None = None
    email: str | None = None

    def contact_text(self) -> str:
        parts = []
        if self.phone:
            parts.append(f"điện thoại {self.phone}")
        if self.email:
            parts.append(f"thư điện tử {self.email}")
        return "; ".join(parts)


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
    deliverable: str | None = None  # "Sản phẩm, yêu cầu đạt được"
    role: str | None = None  # lead | superior | copy (ladder lines); None: from is_cc/severity
    monitor: Monitor | None = None  # the directive's monitoring body

    @property
    def recipient_role(self) -> str:
        """``lead``, ``superior`` or ``copy`` for a ladder line (the recipient's relation)."""
        if self.role in ROLES:
            return self.role
        if self.is_cc:
            return "copy"
        return "superior" if self.severity == "escalated" else "lead"

    @cached_property
    def section(self) -> str:
        """The section the line goes in (a key of :data:`SECTIONS`); worked out once per line
        (a digest asks for it in its subject, intro, sections and footer, in both formats)."""
        if self.severity not in LADDER:
            return self.severity
        role = self.recipient_role
        if role != "lead":
            return role
        return "overdue" if self.severity == "escalated" else self.severity


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    markdown: str
    html: str = ""


def _dmy(d: date) -> str:
    """``28/04/2026`` (``strftime`` costs more than the rest of a digest line's deadline)."""
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def _date(d: date | None) -> str:
    return _dmy(d) if d else "—"


def _when(line: DigestLine, as_of: date) -> str:
    late = (as_of - line.due).days
    when = f"hạn {_dmy(line.due)}"
    if late > 0:
        when += f", quá hạn {late} ngày"
    elif late < 0:
        when += f", còn {-late} ngày"
    else:
        when += " (hôm nay)"
    written = f" (văn bản ghi: “{line.deadline_text}”)" if line.deadline_text else ""
    return when + written


def _state(line: DigestLine, as_of: date) -> tuple[str, str]:
    """A short state for the HTML badge, and its colour."""
    late = (as_of - line.due).days
    if line.severity == "verify":
        return "Chờ xác nhận", "#1d4ed8"
    if line.severity == "returned":
        return "Bị trả lại", "#b91c1c"
    if line.severity == "reassign":
        return "Cần giao lại", "#6b7280"
    if late > 0:
        return f"Quá hạn {late} ngày", "#b91c1c"
    if late == 0:
        return "Đến hạn hôm nay", "#c2410c"
    return f"Còn {-late} ngày", "#047857"


def _notes(line: DigestLine) -> list[str]:
    """What the line adds after its code: escalation, a parent task not done."""
    out = []
    if line.section == "overdue" and line.severity == "escalated":
        out.append("Nhiệm vụ đã được báo cáo cấp trên.")
    if line.waiting_for_parent:
        out.append("Lưu ý: nhiệm vụ cấp trên chưa hoàn thành.")
    return out


def _line_text(line: DigestLine, as_of: date, *, with_lead: bool = True) -> str:
    code = f"Mã: {line.task_id}"
    if line.severity == "verify":
        return (
            f"{line.title} — chủ trì: {line.lead_name}; báo cáo ngày {_date(line.reported_on)}: "
            f"{line.evidence or '—'}. {code}"
        )
    if line.severity == "returned":
        expected = f"; yêu cầu đạt được: {line.deliverable}" if line.deliverable else ""
        return (
            f"{line.title} — báo cáo ngày {_date(line.reported_on)} đã bị trả lại ngày "
            f"{_date(line.decided_on)}; lý do: {line.reason or 'không ghi'}{expected}; "
            f"{_when(line, as_of)}. {code}"
        )
    parts = [f"chủ trì: {line.lead_name}"] if with_lead else []
    if line.deliverable:
        parts.append(f"sản phẩm: {line.deliverable}")
    parts.append(_when(line, as_of))
    return f"{line.title} — {'; '.join(parts)}. " + " ".join([code, *_notes(line)])


def _order(line: DigestLine) -> tuple[date, str]:
    if line.severity == "verify" and line.reported_on is not None:
        return (line.reported_on, line.task_id)  # the oldest report first
    return (line.due, line.task_id)


def _kinds(lines: Sequence[DigestLine]) -> set[str]:
    return {x.section for x in lines}


def _subject(as_of: date, lines: Sequence[DigestLine]) -> str:
    kinds = _kinds(lines)
    parts: list[str] = []
    overdue = sum(1 for x in lines if x.severity in ("overdue", "escalated"))
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
    if kinds & {"overdue", "due", "upcoming", "returned"}:
        head = "Nhắc việc, đôn đốc ngày"
    elif "superior" in kinds:
        head = "Báo cáo tình hình thực hiện nhiệm vụ, để biết, chỉ đạo, ngày"
    elif kinds <= {"copy"}:
        head = "Đồng gửi để biết: tình hình thực hiện nhiệm vụ ngày"
    else:
        head = "Theo dõi thực hiện nhiệm vụ ngày"
    subject = f"{head} {as_of:%d/%m/%Y}: {len(lines)} nhiệm vụ"
    return subject + (f" ({', '.join(parts)})" if parts else "")


def _intro(recipient: str, as_of: date, lines: Sequence[DigestLine]) -> str:
    kinds = _kinds(lines)
    day = f"{as_of:%d/%m/%Y}"
    if kinds <= {"copy"}:
        return (
            f"Thư này đồng gửi quý cơ quan để biết: tình hình thực hiện các nhiệm vụ do đơn vị "
            f"khác chủ trì, tính đến ngày {day}."
        )
    if kinds <= {"superior", "copy"}:
        return f"Kính báo cáo {recipient} tình hình thực hiện nhiệm vụ tính đến ngày {day}:"
    return f"Tình hình thực hiện nhiệm vụ tính đến ngày {day}:"


def _footer(recipient: str, lines: Sequence[DigestLine]) -> list[str]:
    kinds = _kinds(lines)
    out = []
    if kinds & {"overdue", "due"}:
        out.append(
            "Đề nghị quý cơ quan khẩn trương thực hiện các nhiệm vụ quá hạn, đến hạn nêu trên và "
            "báo cáo kết quả (kèm số, ký hiệu, ngày văn bản) cho cơ quan theo dõi."
        )
    if "upcoming" in kinds:
        out.append(
            "Đề nghị quý cơ quan chủ động triển khai các nhiệm vụ sắp đến hạn để hoàn thành đúng "
            "thời hạn và báo cáo kết quả cho cơ quan theo dõi."
        )
    if "returned" in kinds:
        out.append(
            "Đề nghị quý cơ quan bổ sung, hoàn thiện theo lý do trả lại và yêu cầu đạt được nêu "
            "trên, gửi lại báo cáo (kèm số, ký hiệu, ngày văn bản) cho cơ quan theo dõi."
        )
    if "superior" in kinds:
        out.append(f"Kính báo cáo {recipient} để biết, chỉ đạo.")
    if "copy" in kinds:
        out.append(
            "Các nhiệm vụ tại mục «Đồng gửi để biết» do đơn vị khác chủ trì; thông tin gửi quý cơ "
            "quan để biết, phối hợp, không yêu cầu báo cáo."
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
    return out


def _monitors(lines: Sequence[DigestLine]) -> list[tuple[Monitor, list[str]]]:
    """Each monitoring body of the digest, with the directives it monitors (first seen first)."""
    found: dict[Monitor, list[str]] = {}
    for x in sorted(lines, key=lambda x: x.directive):
        if x.monitor is not None:
            titles = found.setdefault(x.monitor, [])
            if x.directive_title not in titles:
                titles.append(x.directive_title)
    return list(found.items())


def _sign_off(lines: Sequence[DigestLine]) -> list[str]:
    monitors = _monitors(lines)
    out = []
    for m, titles in monitors:
        of = f" ({', '.join(titles)})" if len(monitors) > 1 else ""
        out.append(f"Cơ quan theo dõi{of}: {m.name}")
        if m.contact_text():
            out.append(f"Liên hệ: {m.contact_text()}")
    return out


def _groups(lines: Sequence[DigestLine]) -> list[tuple[str, list[DigestLine]]]:
    """The directive parts of a digest: (heading, lines), by directive code."""
    by_directive: dict[str, list[DigestLine]] = {}
    for x in lines:
        by_directive.setdefault(x.directive, []).append(x)
    return [
        (f"{by_directive[c][0].directive_title} ({c})", by_directive[c])
        for c in sorted(by_directive)
    ]


def _sections(group: Sequence[DigestLine]) -> list[tuple[str, list[DigestLine]]]:
    """The group's lines by section, in :data:`SECTIONS` order, each section's lines sorted."""
    by_key: dict[str, list[DigestLine]] = {}
    for x in group:
        by_key.setdefault(x.section, []).append(x)
    return [(key, sorted(by_key[key], key=_order)) for key, _ in SECTIONS if key in by_key]


def _by_unit(items: Sequence[DigestLine]) -> list[tuple[str, list[DigestLine]]]:
    """A superior's lines grouped by the unit concerned, the unit with most tasks first."""
    units: dict[str, list[DigestLine]] = {}
    for x in items:
        units.setdefault(x.lead_name, []).append(x)
    return sorted(units.items(), key=lambda kv: (-len(kv[1]), kv[0]))


@dataclass
class _Listing:
    """What an information section shows: units (or None: no grouping) with their lines in full,
    then units counted (name, tasks, most days overdue), then the units beyond those."""

    full: list[tuple[str | None, list[DigestLine]]]
    counted: list[tuple[str, int, int]]
    rest_units: int = 0
    rest_tasks: int = 0

    @property
    def cut(self) -> bool:
        return bool(self.counted or self.rest_units)


def _late(lines: Sequence[DigestLine], as_of: date) -> int:
    return max((as_of - x.due).days for x in lines)


def _listing(key: str, items: list[DigestLine], as_of: date) -> _Listing:
    """What a section shows. A superior's: its units (most tasks first), as many whole units as
    fit in FULL_LINES, then the others counted. A copy's: its first FULL_LINES tasks, then the
    rest's units counted. Any other (the recipient's own tasks): every line, ungrouped."""
    if key == "superior":
        units: list[tuple[str | None, list[DigestLine]]] = list(_by_unit(items))
    else:
        units = [(None, items)]
    if key not in ("superior", "copy") or len(items) <= FULL_LINES:
        return _Listing(units, [])
    full: list[tuple[str | None, list[DigestLine]]] = []
    left: list[DigestLine] = []
    if key == "superior":
        budget = FULL_LINES
        for i, (unit, mine) in enumerate(units):
            if len(mine) > budget:
                left = [x for _, m in units[i:] for x in m]
                break
            full.append((unit, mine))
            budget -= len(mine)
    else:
        full, left = [(None, items[:FULL_LINES])], items[FULL_LINES:]
    grouped = _by_unit(left)
    counted = [(u, len(m), _late(m, as_of)) for u, m in grouped[:SUMMARY_UNITS]]
    beyond = grouped[SUMMARY_UNITS:]
    return _Listing(full, counted, len(beyond), sum(len(m) for _, m in beyond))


# A digest's body, worked out once for its text, Markdown and HTML: per directive (heading),
# its sections (key, number of tasks, what is shown).
_Layout = list[tuple[str, list[tuple[str, int, _Listing]]]]


def _layout(lines: Sequence[DigestLine], as_of: date) -> _Layout:
    return [
        (head, [(key, len(items), _listing(key, items, as_of)) for key, items in _sections(group)])
        for head, group in _groups(lines)
    ]


def _counted_text(unit: str, n: int, late: int) -> str:
    return f"{unit}: {n} nhiệm vụ" + (f", quá hạn lâu nhất {late} ngày" if late > 0 else "")


def _rest_label(units: int) -> str:
    return f"Các đơn vị khác ({units} đơn vị)"


def _rest_text(units: int, tasks: int) -> str:
    return f"{_rest_label(units)}: {tasks} nhiệm vụ"


def render(recipient_name: str, as_of: date, lines: Sequence[DigestLine]) -> Digest:
    """The digest for one unit.

    >>> d = render("Sở Nội vụ", date(2014, 4, 5), [DigestLine("kh-67-2013", "Kế hoạch 67/KH-UBND",
    ...     "kh-67-2013/III.1/tq-so-noi-vu", "Kiện toàn bộ máy", "Quý I/2014", date(2014, 3, 31),
    ...     "Sở Nội vụ", "overdue", False)])
    >>> d.subject
    'Nhắc việc, đôn đốc ngày 05/04/2014: 1 nhiệm vụ (1 quá hạn)'
    """
    intro = _intro(recipient_name, as_of, lines)
    text = [f"Kính gửi: {recipient_name}", "", intro]
    md = [f"**Kính gửi:** {recipient_name}", "", intro]
    layout = _layout(lines, as_of)
    for head, sections in layout:
        text += ["", head]
        md += ["", f"### {head}"]
        for key, total, shown in sections:
            text.append(f"  {_HEADINGS[key]} ({total}):")
            md += [f"**{_HEADINGS[key]}** ({total}):", ""]
            for unit, mine in shown.full:
                # A superior's lines come under the unit concerned, which they then do not name.
                indent = "      " if unit is not None else "    "
                if unit is not None:
                    text.append(f"    {unit} ({len(mine)} nhiệm vụ):")
                    md += [f"_{unit}_ ({len(mine)} nhiệm vụ):", ""]
                for i, x in enumerate(mine, 1):
                    said = _line_text(x, as_of, with_lead=unit is None)
                    text.append(f"{indent}{i}. {said}")
                    md.append(f"{i}. {said}")
                md.append("")
            if shown.cut:
                counted = [_counted_text(u, n, late) for u, n, late in shown.counted]
                if shown.rest_units:
                    counted.append(_rest_text(shown.rest_units, shown.rest_tasks))
                text.append(f"    {LONG_NOTE.format(full=FULL_LINES)}")
                text += [f"    - {c}" for c in counted]
                md += [
                    f"_{LONG_NOTE.format(full=FULL_LINES)}_",
                    "",
                    *(f"- {c}" for c in counted),
                    "",
                ]
    footer = _footer(recipient_name, lines)
    sign = _sign_off(lines)
    text += ["", *footer, "", "--", *sign, SIGNATURE]
    for f in footer:
        md += ["", f]
    md += ["", "---", *(f"{s}  " for s in sign), f"_{SIGNATURE}_"]
    subject = _subject(as_of, lines)
    return Digest(
        subject,
        "\n".join(text) + "\n",
        "\n".join(md).rstrip() + "\n",
        render_html(subject, recipient_name, as_of, lines, layout),
    )


# ------------------------------------------------------------------------------------------
# HTML: what mail clients show. Tables for layout (Outlook ignores most CSS), inline styles only
# (Gmail drops <style> in some views), no image or font to fetch, every text escaped.
# ------------------------------------------------------------------------------------------
_FONT = "font-family:Arial,Helvetica,sans-serif;"
_CELL = "padding:6px;border:1px solid #d1d5db;vertical-align:top;"
_SECTION_COLOUR = {
    "overdue": "#b91c1c",
    "due": "#c2410c",
    "upcoming": "#047857",
    "returned": "#b91c1c",
    "superior": "#1e3a8a",
    "copy": "#6b7280",
    "verify": "#1d4ed8",
    "reassign": "#6b7280",
}


@lru_cache(maxsize=65_536)
def _e(text: str) -> str:
    """``text`` escaped for HTML. Cached: a day's digests repeat the same titles, unit names and
    labels thousands of times (112,890 lines on the national scenario's busiest day)."""
    return html.escape(text, quote=True)


def _p(text: str, style: str = "") -> str:
    return f'<p style="margin:0 0 10px 0;{style}">{_e(text)}</p>'


def _task_cell(x: DigestLine, as_of: date, with_lead: bool) -> str:
    rows = [f'<div style="font-weight:bold;">{_e(x.title)}</div>']
    small = 'style="margin-top:4px;color:#374151;"'
    if with_lead:
        rows.append(f"<div {small}>Chủ trì: {_e(x.lead_name)}</div>")
    if x.severity == "verify":
        rows.append(
            f"<div {small}>Báo cáo ngày {_date(x.reported_on)}: {_e(x.evidence or '—')}</div>"
        )
    elif x.severity == "returned":
        rows.append(
            f"<div {small}>Báo cáo ngày {_date(x.reported_on)} đã bị trả lại ngày "
            f"{_date(x.decided_on)}.</div>"
            f'<div {small}><span style="color:#b91c1c;font-weight:bold;">Lý do:</span> '
            f"{_e(x.reason or 'không ghi')}</div>"
        )
        if x.deliverable:
            rows.append(f"<div {small}>Yêu cầu đạt được: {_e(x.deliverable)}</div>")
    if x.deliverable and x.severity != "returned":
        rows.append(f"<div {small}>Sản phẩm: {_e(x.deliverable)}</div>")
    for note in _notes(x):
        rows.append(f'<div style="margin-top:4px;color:#b91c1c;">{_e(note)}</div>')
    rows.append(
        f'<div style="margin-top:4px;color:#6b7280;font-size:12px;">Mã: {_e(x.task_id)}</div>'
    )
    return "".join(rows)


def _deadline_cell(x: DigestLine, as_of: date) -> str:
    label, colour = _state(x, as_of)
    written = (
        f'<div style="color:#6b7280;font-size:12px;">văn bản ghi: “{_e(x.deadline_text)}”</div>'
        if x.deadline_text
        else ""
    )
    return (
        f'<div style="white-space:nowrap;">{_dmy(x.due)}</div>{written}'
        f'<div style="margin-top:4px;color:{colour};font-weight:bold;white-space:nowrap;">'
        f"{_e(label)}</div>"
    )


def _html_table(head: str, body: str) -> str:
    """A digest table: its header cells (``<th>``…) and rows (``<tr>``…)."""
    return (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        f'style="border-collapse:collapse;width:100%;margin:0 0 14px 0;{_FONT}font-size:14px;">'
        f"<tr>{head}</tr>{body}</table>"
    )


def _head(*columns: tuple[str, str]) -> str:
    """A digest table's header cells: (label, extra style) per column."""
    return "".join(
        f'<th style="{_CELL}background:#f3f4f6;text-align:left;{w}">{html.escape(h)}</th>'
        for h, w in columns
    )


_TABLE_HEAD = _head(("STT", "width:32px;"), ("Nội dung nhiệm vụ", ""), ("Thời hạn", "width:96px;"))
_COUNTED_HEAD = _head(("Đơn vị", ""), ("Số nhiệm vụ", ""), ("Quá hạn lâu nhất", ""))


def _table(items: Sequence[DigestLine], as_of: date, *, with_lead: bool) -> str:
    body = "".join(
        f'<tr><td style="{_CELL}text-align:center;">{i}</td>'
        f'<td style="{_CELL}">{_task_cell(x, as_of, with_lead)}</td>'
        f'<td style="{_CELL}">{_deadline_cell(x, as_of)}</td></tr>'
        for i, x in enumerate(items, 1)
    )
    return _html_table(_TABLE_HEAD, body)


def _counted_table(shown: _Listing) -> str:
    """The units past the tasks listed in full: name, tasks, most days overdue."""
    rows = [
        (_e(unit), str(n), f"{late} ngày" if late > 0 else "—") for unit, n, late in shown.counted
    ]
    if shown.rest_units:
        rows.append((_e(_rest_label(shown.rest_units)), str(shown.rest_tasks), ""))
    body = "".join(
        f'<tr><td style="{_CELL}">{a}</td><td style="{_CELL}text-align:right;">{b}</td>'
        f'<td style="{_CELL}">{c}</td></tr>'
        for a, b, c in rows
    )
    return _html_table(_COUNTED_HEAD, body)


def render_html(
    subject: str,
    recipient_name: str,
    as_of: date,
    lines: Sequence[DigestLine],
    layout: _Layout | None = None,
) -> str:
    """The digest as an HTML document for the e-mail's ``text/html`` part (``layout``: the one
    :func:`render` worked out for the text)."""
    parts = [
        f'<div style="font-size:18px;font-weight:bold;margin:0 0 12px 0;">{_e(subject)}</div>',
        _p(f"Kính gửi: {recipient_name}", "font-weight:bold;"),
        _p(_intro(recipient_name, as_of, lines)),
    ]
    for head, sections in layout if layout is not None else _layout(lines, as_of):
        parts.append(
            f'<div style="font-size:16px;font-weight:bold;margin:18px 0 8px 0;'
            f'color:#111827;">{_e(head)}</div>'
        )
        for key, total, shown in sections:
            colour = _SECTION_COLOUR[key]
            parts.append(
                f'<div style="border-left:4px solid {colour};padding:2px 0 2px 8px;'
                f'margin:10px 0 6px 0;font-weight:bold;color:{colour};">'
                f"{_e(_HEADINGS[key])} ({total})</div>"
            )
            for unit, mine in shown.full:
                if unit is not None:
                    parts.append(
                        f'<div style="font-weight:bold;margin:6px 0 4px 0;">{_e(unit)} '
                        f"({len(mine)} nhiệm vụ)</div>"
                    )
                parts.append(_table(mine, as_of, with_lead=unit is None))
            if shown.cut:
                parts.append(_p(LONG_NOTE.format(full=FULL_LINES), "font-style:italic;"))
                parts.append(_counted_table(shown))
    for f in _footer(recipient_name, lines):
        parts.append(_p(f))
    sign = _sign_off(lines)
    parts.append(
        '<div style="border-top:1px solid #d1d5db;margin-top:16px;padding-top:10px;'
        'color:#374151;font-size:13px;">'
        + "".join(f'<div style="margin:0 0 4px 0;">{_e(s)}</div>' for s in sign)
        + f'<div style="color:#6b7280;margin-top:6px;">{_e(SIGNATURE)}</div></div>'
    )
    return (
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(subject)}</title></head>"
        '<body style="margin:0;padding:0;background:#f3f4f6;">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="border-collapse:collapse;background:#f3f4f6;"><tr>'
        '<td align="center" style="padding:16px 8px;">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="border-collapse:collapse;max-width:820px;background:#ffffff;'
        f'border:1px solid #d1d5db;"><tr><td style="padding:20px;{_FONT}font-size:14px;'
        'line-height:1.5;color:#111827;">' + "".join(parts) + "</td></tr></table>"
        "</td></tr></table></body></html>\n"
    )
