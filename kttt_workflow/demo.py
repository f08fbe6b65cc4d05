"""``kttt demo``: the engine on the real directives, in a fresh embedded store.

Loads the real directives (``directives/`` in a checkout, the wheel's copy when installed: the
seeds' cascades), records a few completion reports, and shows the
status of the cascade as of several dates, e.g. 05/12/2022 when UBND tỉnh's plan due in
November 2022 is overdue.
"""

from __future__ import annotations

import mailbox
import shutil
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from kttt_workflow.config import OutboxSettings, data_dir
from kttt_workflow.domain.status import LABELS, ORDER, SHORT
from kttt_workflow.inputs.defaults import demo_directives
from kttt_workflow.service import Tracker


def _counts_table(store: Tracker, day: date, directives: list[str] | None = None) -> Table:
    table = Table(title=f"Tổng hợp tình trạng tại ngày {day:%d/%m/%Y}")
    table.add_column("Văn bản", no_wrap=True)
    for s in ORDER:
        table.add_column(SHORT[s], justify="right")
    table.add_column("Tổng", justify="right")
    rows = [r for r in store.status(as_of=day) if directives is None or r.directive in directives]
    by: dict[str, dict[str, int]] = {}
    for r in rows:
        by.setdefault(r.directive, {}).setdefault(r.status, 0)
        by[r.directive][r.status] += 1
    for code, counts in sorted(by.items()):
        table.add_row(
            code, *(str(counts.get(s.value, 0)) for s in ORDER), str(sum(counts.values()))
        )
    return table


def _tasks_table(
    store: Tracker, day: date, directive: str, title: str, *, open_only: bool = False
) -> Table:
    table = Table(title=f"{title} — tại ngày {day:%d/%m/%Y}")
    for col in ("Mã nhiệm vụ", "Đơn vị chủ trì", "Thời hạn (văn bản ghi)", "Hạn", "Tình trạng"):
        table.add_column(col, overflow="fold")
    for r in store.status(as_of=day, directive=directive):
        if open_only and r.status in ("done_on_time", "done_late"):
            continue
        label = r.status_label + (f" {r.days_overdue} ngày" if r.days_overdue else "")
        table.add_row(
            r.task_id,
            r.lead_shown,
            r.deadline_text or "(không ghi)",
            r.due.strftime("%d/%m/%Y") if r.due else "—",
            label,
        )
    return table


NQ20 = "ctr-nq20-2022"
# (task, evidence, report date, reason to return it or None): illustrations, and they say so in
# their evidence text. The facts of seed 001 (134/NQ-CP closing CP.1 of KL 70, 28/KH-UBND closing
# UBND.1 of NQ 134) need no hand: loading the implementing directives records them.
COMPLETIONS: list[tuple[str, str, date, str | None]] = [
    (
        f"{NQ20}/IV.1/bg-bcsd-ubnd",
        "Kế hoạch của UBND tỉnh (dữ liệu minh họa) ngày 12/12/2022",
        date(2022, 12, 12),
        None,
    ),
    (
        f"{NQ20}/IV.3/thanh-uy-bac-giang",
        "Kế hoạch của Thành ủy (dữ liệu minh họa) ngày 20/12/2022",
        date(2022, 12, 20),
        None,
    ),
    (
        f"{NQ20}/IV.3/huyen-uy-yen-the",
        "Kế hoạch (dữ liệu minh họa) ngày 28/12/2022",
        date(2022, 12, 28),
        "Thiếu nội dung phân công nhiệm vụ cho các xã",
    ),
]


AFTER_REFORM = date(2026, 3, 2)  # a Monday, eight months after the provinces merged


def _coverage_table(store: Tracker, day: date, directive: str) -> Table:
    """Which units have issued their implementing plan (``kttt coverage``)."""
    cov = store.coverage(directive, as_of=day)
    table = Table(
        title=f"Ban hành văn bản thực hiện tại ngày {day:%d/%m/%Y} (kttt coverage {directive})",
        caption=cov.summary,
    )
    for col in ("Nhiệm vụ", "Đơn vị chủ trì", "Văn bản thực hiện", "Kết quả"):
        table.add_column(col, overflow="fold")
    for r in cov.rows:
        table.add_row(r.task_key, r.unit, r.issued.evidence if r.issued else "—", r.outcome)
    return table


def _targets_table(store: Tracker, day: date, directive: str) -> Table:
    """The programme's quantitative targets (seed 002, mục II.2), and who answers for them."""
    from kttt_workflow.domain.targets import fmt_number

    rep = store.targets(directive=directive, as_of=day)
    units = sorted({ln.unit for ln in rep.lines})
    table = Table(
        title=f"Chỉ tiêu định lượng tại ngày {day:%d/%m/%Y} (kttt targets --directive {directive})",
        caption="Đơn vị chịu trách nhiệm: " + "; ".join(units),
    )
    for col in ("Nhiệm vụ", "Chỉ tiêu", "Chỉ tiêu giao", "Đạt được"):
        table.add_column(col, overflow="fold")
    for ln in rep.lines:
        actual = "—" if ln.actual is None else fmt_number(ln.actual)
        table.add_row(ln.task_key, ln.indicator, f"{fmt_number(ln.target)} {ln.measure}", actual)
    return table


SWEEP_DAYS = (date(2022, 11, 21), date(2022, 12, 5), date(2022, 12, 15), date(2023, 1, 6))


def _sweeps(out: Console, store: Tracker, home: Path) -> None:
    """Daily sweeps on a few dates of the NQ 20 programme; digests land in local mailboxes."""
    out.rule("Nhắc việc, đôn đốc (quét hằng ngày)")
    settings = OutboxSettings(maildir=home / "mail")
    for day in SWEEP_DAYS:
        r = store.sweep(as_of=day, settings=settings)
        sent = r.sent
        out.print(
            f"  {day:%d/%m/%Y}: {r.notices} thông báo mới → {len(r.deliveries)} bản tổng hợp"
            + (f" ({sent.local} vào hộp thư cục bộ, {sent.sent} đã gửi)" if sent else ""),
            highlight=False,
        )
    boxes = (
        sorted(p for p in (home / "mail").iterdir() if p.is_dir())
        if (home / "mail").exists()
        else []
    )
    table = Table(title=f"Hộp thư cục bộ ({home / 'mail'})")
    table.add_column("Đơn vị")
    table.add_column("Số thư", justify="right")
    for box in boxes:
        table.add_row(box.name, str(len(mailbox.Maildir(box, create=False))))
    out.print(table)
    unit = "bg-bcsd-ubnd"
    last = store.deliveries(unit=unit)
    if last:
        out.print(f"[bold]Bản tổng hợp gần nhất gửi {unit} ({last[0]['subject']}):[/bold]")
        out.print(_plain_body(_newest_mail(home / "mail" / unit)), highlight=False, markup=False)


def _newest_mail(folder: Path) -> mailbox.MaildirMessage | None:
    if not folder.exists():
        return None
    box = mailbox.Maildir(folder, create=False)
    keys = sorted(
        box.keys(),
        key=lambda k: (
            (folder / "new" / k).stat().st_mtime_ns if (folder / "new" / k).exists() else 0
        ),
    )
    return box[keys[-1]] if keys else None


def _plain_body(msg: mailbox.MaildirMessage | None) -> str:
    if msg is None:
        return ""
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8")
    return ""


def run_demo(out: Console, home: Path | None = None) -> Tracker:
    """Run the demo into ``home`` (default ``$KTTT_HOME/demo``); returns the open store."""
    home = home or data_dir() / "demo"
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    url = f"sqlite:///{home / 'kttt.db'}"
    store = Tracker.open(url)
    out.rule("[bold]kttt demo[/bold]: Nghị quyết 20-NQ/TW, Kế hoạch 67/KH-UBND, Kết luận 70-KL/TW")
    out.print(f"Cơ sở dữ liệu: {home / 'kttt.db'}", highlight=False)

    result = store.load([demo_directives()], until=date(2026, 12, 31))
    reg, loaded = result
    out.print(f"Nạp danh mục: {reg.units_added} đơn vị, {reg.groups_added} nhóm.", highlight=False)
    for s in loaded:
        out.print(f"  {s.directive}: {s.total} nhiệm vụ theo đơn vị", highlight=False)
    for task_id, source, evidence in result.lineage.completed:
        out.print(
            f"  Hoàn thành tự động: {task_id} — {evidence} (nạp văn bản thực hiện '{source}')",
            highlight=False,
        )
    again = store.load([demo_directives()], until=date(2026, 12, 31))[1]
    out.print(
        "Nạp lại cùng tệp: "
        + (
            "không có thay đổi."
            if not any(s.changed_anything for s in again)
            else "CÓ THAY ĐỔI (lỗi)"
        ),
        highlight=False,
    )

    nq20 = NQ20
    out.print(
        _tasks_table(store, date(2022, 12, 5), nq20, "Chương trình hành động thực hiện NQ 20-NQ/TW")
    )

    steps = COMPLETIONS
    out.rule("Ghi nhận hoàn thành")
    for task, evidence, on, returned in steps:
        try:
            r = store.complete(task, evidence, on=on)
        except Exception as exc:  # a transcription change renamed a task: show it, go on
            out.print(f"  (bỏ qua {task}: {exc})", highlight=False)
            continue
        if returned:
            store.return_(r.task_id, returned, on=on)
            out.print(
                f"  {r.task_id}: báo cáo {on:%d/%m/%Y} — TRẢ LẠI: {returned}", highlight=False
            )
        else:
            v = store.verify(r.task_id, on=on)
            extra = f"; kích hoạt {v.activated} nhiệm vụ con" if v.activated else ""
            out.print(
                f"  {r.task_id}: hoàn thành {on:%d/%m/%Y} ({evidence}){extra}", highlight=False
            )

    out.print(
        _tasks_table(store, date(2023, 1, 5), nq20, "Chương trình hành động thực hiện NQ 20-NQ/TW")
    )
    out.print(_coverage_table(store, date(2023, 1, 5), nq20))
    out.rule("Sau sắp xếp đơn vị hành chính (1/7/2025)")
    out.print(
        _tasks_table(
            store,
            AFTER_REFORM,
            nq20,
            "Chương trình hành động thực hiện NQ 20-NQ/TW",
            open_only=True,
        )
    )
    out.print(_targets_table(store, AFTER_REFORM, nq20))
    out.print(
        "Nhiệm vụ của Ban cán sự đảng UBND tỉnh Bắc Giang nay do Đảng ủy UBND tỉnh Bắc Ninh trả "
        "lời (kế thừa); các huyện ủy đã giải thể, chưa có đơn vị kế thừa: không tính là quá hạn, "
        "cơ quan theo dõi được đề nghị giao lại (kttt reassign).",
        highlight=False,
    )
    _sweeps(out, store, home)
    out.print(_counts_table(store, date(2014, 1, 15), ["kh-67-2013"]))
    for day in (date(2022, 12, 5), date(2023, 1, 5)):
        out.print(_counts_table(store, day))
    out.print(
        "Ghi chú: " + "; ".join(f"{SHORT[s]} = {LABELS[s]}" for s in ORDER) + ".", highlight=False
    )
    out.print(
        "Xem thêm: kttt status --db " + url + " --as-of 2022-12-05 --directive " + nq20,
        highlight=False,
        soft_wrap=True,
    )
    return store
