"""The engine's commands: each parses its options, calls one use case of
:class:`kttt_workflow.service.Tracker`, and prints the answer in Vietnamese.

Heavy modules (SQLAlchemy, the store, pydantic models) are imported when a command runs, through
:func:`~kttt_workflow.cli.common.open_tracker`, never at start-up.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from kttt_workflow.cli.common import (
    DbOpt,
    app,
    err,
    fail,
    fmt_date,
    open_tracker,
    out,
    parse_date,
)
from kttt_workflow.domain.status import LABELS, Status

if TYPE_CHECKING:
    from rich.table import Table

    from kttt_workflow.store.lineage import LineageSummary
    from kttt_workflow.store.load import LoadSummary

# Terminal colours of the statuses (presentation only; the labels are domain.status's).
STYLE = {
    Status.overdue: "red",
    Status.done_late: "yellow",
    Status.done_on_time: "green",
    Status.on_track: "cyan",
    Status.pending: "dim",
    Status.ongoing: "blue",
    Status.awaiting_deadline: "magenta",
    Status.awaiting_verification: "bright_blue",
    Status.unit_dissolved: "bright_black",
}


def _table(title: str) -> Table:
    from rich.table import Table  # only the commands that print a table pay for it

    return Table(title=title)


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Tệp hoặc thư mục YAML.")],
    db: DbOpt = None,
) -> None:
    """Kiểm tra tệp YAML (danh mục đơn vị, văn bản chỉ đạo); in lỗi dạng tệp:dòng:cột."""
    with open_tracker(db) as t:
        bundle = t.validate(paths)
    out.print(
        f"Hợp lệ: {len(bundle.registry_files)} danh mục đơn vị, {len(bundle.directives)} văn bản, "
        f"{bundle.task_count} nhiệm vụ.",
        highlight=False,
    )


@app.command()
def load(
    paths: Annotated[list[Path], typer.Argument(help="Tệp hoặc thư mục YAML.")],
    db: DbOpt = None,
    until: Annotated[
        str | None, typer.Option(help="Sinh kỳ lặp đến ngày này (mặc định: hết năm nay).")
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Cho phép tệp thay thế văn bản khác đã nạp với cùng mã (nhiệm vụ cũ được bỏ).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="In kết quả dạng JSON.")] = False,
) -> None:
    """Nạp tệp YAML vào cơ sở dữ liệu (một giao dịch: tất cả hoặc không gì cả)."""
    with open_tracker(db) as t:
        result = t.load(paths, until=parse_date(until), replace=replace)
    for w in result.warnings:
        err.print(f"Cảnh báo: {w}", highlight=False, markup=False)
    reg, summaries = result
    if as_json:
        data = {
            "registry": reg.__dict__,
            "directives": [s.as_dict() for s in summaries],
            "warnings": [str(w) for w in result.warnings],
        }
        out.print_json(json.dumps(data, default=str))
        return
    if reg.units_added or reg.units_changed or reg.groups_added or reg.groups_changed:
        out.print(
            f"Danh mục: thêm {reg.units_added} đơn vị, sửa {reg.units_changed}; "
            f"thêm {reg.groups_added} nhóm, sửa {reg.groups_changed}.",
            highlight=False,
        )
    for unit, successor, _ in reg.successions:
        out.print(f"Đơn vị kế thừa: {unit} → {successor}.", highlight=False)
    if reg.tasks_inherited:
        out.print(
            f"  {reg.tasks_inherited} nhiệm vụ chưa hoàn thành chuyển cho đơn vị kế thừa "
            "(ghi vào lịch sử nhiệm vụ).",
            highlight=False,
        )
    if reg.policies_changed:
        out.print(f"Chính sách nhắc việc: {reg.policies_changed} thêm hoặc sửa.", highlight=False)
    for s in summaries:
        _print_summary(s)
    _print_lineage(result.lineage)


def _print_lineage(lin: LineageSummary) -> None:
    """What loading did to the parents' tasks (document lineage)."""
    for task_id, source, evidence in lin.completed:
        out.print(
            f"Hoàn thành tự động: {task_id} — {evidence} (văn bản thực hiện '{source}').",
            highlight=False,
            markup=False,
        )
    for task_id, source, evidence in lin.awaiting:
        out.print(
            f"Báo cáo hoàn thành tự động, chờ xác nhận: {task_id} — {evidence} ('{source}').",
            highlight=False,
            markup=False,
        )
    for task_id, source in lin.withdrawn:
        out.print(
            f"Hủy hoàn thành tự động: {task_id} (văn bản '{source}' không còn thực hiện nhiệm vụ "
            "này); nhiệm vụ mở lại.",
            highlight=False,
            markup=False,
        )
    for problem in lin.problems:
        err.print(f"Cảnh báo: {problem}", highlight=False, markup=False)


def _print_summary(s: LoadSummary) -> None:
    if not s.changed_anything:
        out.print(f"{s.directive}: không có thay đổi ({s.total} nhiệm vụ).", highlight=False)
        return
    if s.replaced:
        out.print(f"{s.directive}: thay thế văn bản {s.replaced}.", highlight=False)
    out.print(
        f"{s.directive}: {s.total} nhiệm vụ — thêm {s.added}, sửa {s.changed}, "
        f"bỏ {s.removed}, khôi phục {s.restored}, giữ nguyên {s.unchanged}.",
        highlight=False,
    )
    if s.header_changed and not (s.added or s.changed or s.removed or s.restored):
        out.print("  cập nhật thông tin chung của văn bản (tiêu đề, ghi chú…).", highlight=False)
    for c in s.changes[:10]:
        fields = _history_detail("changed", {k: v for k, v in c.items() if k != "task_id"})
        out.print(f"  sửa {c['task_id']}: {fields}", highlight=False, markup=False)
    for task in s.removed_ids[:10]:
        out.print(f"  bỏ {task}", highlight=False)
    if s.removed > 10:
        out.print(f"  … và {s.removed - 10} nhiệm vụ khác (xem kttt history)", highlight=False)


@app.command()
def deadline(
    text: Annotated[str, typer.Argument(help="Thời hạn như văn bản ghi, ví dụ 'Quý IV/2013'.")],
    issued: Annotated[str | None, typer.Option(help="Ngày ban hành văn bản.")] = None,
    no_roll: Annotated[
        bool, typer.Option("--no-roll", help="Không chuyển hạn sang ngày làm việc.")
    ] = False,
    count: Annotated[int, typer.Option(help="Số kỳ hiển thị với thời hạn lặp.")] = 4,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Diễn giải một thời hạn tiếng Việt: hạn danh nghĩa, hạn theo ngày làm việc, các kỳ lặp."""
    # No store needed: the pure rule with the shipped calendar (what Tracker.explain_deadline
    # calls), so that this command starts without SQLAlchemy.
    from kttt_workflow.config import Config
    from kttt_workflow.domain.deadlines import DeadlineError, explain
    from kttt_workflow.inputs.defaults import default_calendar

    today = Config.from_env().today()
    try:
        e = explain(text, parse_date(issued), default_calendar(), today, count, not no_roll)
    except DeadlineError as exc:
        raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(e.as_json(), ensure_ascii=False, indent=2))
        return
    spec = e.spec
    typer.echo(f"Văn bản ghi: {spec.text}")
    typer.echo(f"Loại: {spec.kind.value} — {spec.label}")
    if spec.due and e.due:
        extra = "" if e.due == spec.due else f" (rơi vào ngày nghỉ, chuyển sang {fmt_date(e.due)})"
        typer.echo(f"Hạn: {fmt_date(spec.due)}{extra}")
    for p in e.periods:
        typer.echo(f"  Kỳ {p.period}: hạn {fmt_date(p.due)}")


@app.command()
def status(
    db: DbOpt = None,
    directive: Annotated[str | None, typer.Option(help="Mã văn bản chỉ đạo.")] = None,
    unit: Annotated[str | None, typer.Option(help="Mã đơn vị.")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Tính tình trạng tại ngày (mặc định: hôm nay).")
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option("--status", help="Chỉ các tình trạng này (overdue, on_track…)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="In danh sách JSON.")] = False,
) -> None:
    """Tình trạng các nhiệm vụ tại một ngày (đúng hạn, quá hạn, chờ…)."""
    with open_tracker(db) as t:
        day = parse_date(as_of) or t.today()
        rows = t.status(as_of=day, directive=directive, unit=unit, statuses=only)
    if as_json:
        sys.stdout.write(
            json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2) + "\n"
        )
        return
    table = _table(f"Tình trạng nhiệm vụ tại ngày {fmt_date(day)}")
    for col in ("Mã nhiệm vụ", "Đơn vị chủ trì", "Nội dung", "Thời hạn", "Hạn", "Tình trạng"):
        table.add_column(col, overflow="fold")
    counts: dict[str, int] = {}
    for r in rows:
        st = Status(r.status)
        counts[r.status] = counts.get(r.status, 0) + 1
        label = r.status_label + (f" ({r.days_overdue} ngày)" if r.days_overdue else "")
        table.add_row(
            r.task_id,
            r.lead_shown,
            r.title,  # the full text: the table folds it on a terminal, never cuts it
            r.deadline_text or "—",
            fmt_date(r.due),
            f"[{STYLE[st]}]{label}[/]",
        )
    out.print(table)
    out.print(
        "Tổng: "
        + "; ".join(f"{LABELS[Status(k)]}: {v}" for k, v in sorted(counts.items()))
        + f" — trên {len(rows)} nhiệm vụ.",
        highlight=False,
    )


@app.command()
def complete(
    task: Annotated[str, typer.Argument(help="Mã nhiệm vụ, ví dụ kh-67-2013/II.2/ubnd-yen-son.")],
    evidence: Annotated[
        str, typer.Option(help="Minh chứng: 'Kế hoạch số 28/KH-UBND ngày 04/02/2021'.")
    ],
    on: Annotated[
        str | None, typer.Option(help="Ngày báo cáo hoàn thành (mặc định: hôm nay).")
    ] = None,
    unit: Annotated[
        str | None, typer.Option(help="Mã đơn vị (khi TASK là 'văn bản/nhiệm vụ').")
    ] = None,
    note: Annotated[str | None, typer.Option(help="Ghi chú.")] = None,
    attachment: Annotated[
        str | None, typer.Option(help="Tệp đính kèm (đường dẫn hoặc URL).")
    ] = None,
    actual: Annotated[
        list[str] | None,
        typer.Option(
            "--actual",
            help="Kết quả đạt được so với chỉ tiêu: 'Tên chỉ tiêu=giá trị' (ghi nhiều lần nếu "
            "nhiều chỉ tiêu).",
        ),
    ] = None,
    db: DbOpt = None,
) -> None:
    """Ghi nhận báo cáo hoàn thành của đơn vị (kèm minh chứng), chờ xác nhận."""
    with open_tracker(db) as t:
        r = t.complete(
            task,
            evidence,
            on=parse_date(on),
            unit=unit,
            note=note,
            attachment=attachment,
            actuals=actual or (),
        )
    for w in r.warnings:
        err.print(f"Lưu ý: {w} (đã ghi nhận như văn bản ghi).", highlight=False, markup=False)
    out.print(
        f"Đã ghi nhận báo cáo hoàn thành của {r.task_id}; chờ xác nhận (kttt verify).",
        highlight=False,
    )


@app.command()
def verify(
    task: Annotated[str, typer.Argument(help="Mã nhiệm vụ.")],
    on: Annotated[str | None, typer.Option(help="Ngày xác nhận.")] = None,
    unit: Annotated[str | None, typer.Option(help="Mã đơn vị.")] = None,
    db: DbOpt = None,
) -> None:
    """Xác nhận báo cáo hoàn thành: nhiệm vụ hoàn thành; nhiệm vụ con được kích hoạt."""
    with open_tracker(db) as t:
        r = t.verify(task, on=parse_date(on), unit=unit)
    extra = f"; kích hoạt {r.activated} nhiệm vụ con" if r.activated else ""
    out.print(f"Đã xác nhận hoàn thành {r.task_id}{extra}.", highlight=False)


@app.command(name="return")
def return_(
    task: Annotated[str, typer.Argument(help="Mã nhiệm vụ.")],
    reason: Annotated[str, typer.Option(help="Lý do trả lại.")],
    on: Annotated[str | None, typer.Option(help="Ngày trả lại.")] = None,
    unit: Annotated[str | None, typer.Option(help="Mã đơn vị.")] = None,
    db: DbOpt = None,
) -> None:
    """Trả lại báo cáo hoàn thành (không được tính), kèm lý do."""
    with open_tracker(db) as t:
        r = t.return_(task, reason, on=parse_date(on), unit=unit)
    out.print(f"Đã trả lại báo cáo của {r.task_id}: {reason}", highlight=False)


@app.command()
def reassign(
    task: Annotated[
        str | None, typer.Argument(help="Mã nhiệm vụ (hoặc dùng --from cho mọi nhiệm vụ).")
    ] = None,
    to: Annotated[str, typer.Option("--to", help="Mã đơn vị nhận nhiệm vụ.")] = "",
    from_: Annotated[
        str | None,
        typer.Option("--from", help="Giao lại mọi nhiệm vụ chưa hoàn thành của đơn vị này."),
    ] = None,
    on: Annotated[
        str | None, typer.Option(help="Ngày giao lại có hiệu lực (mặc định: hôm nay).")
    ] = None,
    reason: Annotated[
        str, typer.Option(help="Lý do, căn cứ (số, ký hiệu, ngày văn bản giao lại).")
    ] = "",
    unit: Annotated[
        str | None, typer.Option(help="Mã đơn vị (khi TASK là 'văn bản/nhiệm vụ').")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Giao lại nhiệm vụ chưa hoàn thành cho đơn vị khác (ghi vào lịch sử nhiệm vụ)."""
    if not to:
        raise fail("cần ghi đơn vị nhận nhiệm vụ (--to ĐƠN_VỊ)")
    with open_tracker(db) as t:
        r = t.reassign(to, reason, task=task, from_unit=from_, on=parse_date(on), unit=unit)
    if not r.moved:
        out.print(f"Không có nhiệm vụ nào cần giao lại: đã thuộc {r.to_unit}.", highlight=False)
        return
    out.print(
        f"Đã giao lại {len(r.moved)} nhiệm vụ cho {r.to_unit} từ ngày {fmt_date(r.on)}.",
        highlight=False,
    )
    for task_id, old in r.moved[:20]:
        out.print(f"  {task_id} (trước đó: {old})", highlight=False)
    if len(r.moved) > 20:
        out.print(f"  … và {len(r.moved) - 20} nhiệm vụ khác (xem kttt history)", highlight=False)


# What the history calls each event (the stored names are English).
EVENT_LABELS = {
    "created": "tạo",
    "changed": "sửa",
    "removed": "bỏ",
    "restored": "khôi phục",
    "activated": "kích hoạt",
    "reported": "báo cáo hoàn thành",
    "verified": "xác nhận hoàn thành",
    "returned": "trả lại báo cáo",
    "reassigned": "giao lại",
    "inherited": "chuyển cho đơn vị kế thừa",
    "withdrawn": "hủy báo cáo tự động",
}


@app.command()
def history(
    task: Annotated[str, typer.Argument(help="Mã nhiệm vụ.")],
    unit: Annotated[str | None, typer.Option(help="Mã đơn vị.")] = None,
    db: DbOpt = None,
) -> None:
    """Lịch sử thay đổi của một nhiệm vụ."""
    with open_tracker(db) as t:
        rows = t.history(task, unit=unit)
        tz = ZoneInfo(t.config.timezone)
    for r in rows:
        label = EVENT_LABELS.get(r["event"], r["event"])
        detail = _history_detail(r["event"], r["detail"] or {})
        at = r["at"] if r["at"].tzinfo else r["at"].replace(tzinfo=UTC)  # stored in UTC
        line = f"{at.astimezone(tz):%d/%m/%Y %H:%M} {label}" + (f": {detail}" if detail else "")
        out.print(line, highlight=False, markup=False, soft_wrap=True)


# What the history calls the fields a reload changes.
FIELD_LABELS = {
    "title": "nội dung",
    "deliverable": "sản phẩm",
    "deadline_text": "thời hạn",
    "due_on": "hạn",
    "nominal_due_on": "hạn danh nghĩa",
    "coordinating": "đơn vị phối hợp",
    "key_task": "nhiệm vụ trọng tâm",
    "policy_code": "chính sách nhắc việc",
}


def _history_value(value: object) -> str:
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return f"{value[8:]}/{value[5:7]}/{value[:4]}"  # an ISO date
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "có" if value else "không"
    return str(value)


def _history_detail(event: str, d: dict[str, object]) -> str:
    """One event's detail in words: "ngày 04/02/2021; minh chứng: …; tự động (…)"."""
    if event == "changed":
        return "; ".join(
            f"{FIELD_LABELS.get(f, f)}: {_history_value(v.get('old'))} → "
            f"{_history_value(v.get('new'))}"
            for f, v in d.items()
            if isinstance(v, dict)
        )
    parts = []
    if d.get("from") or d.get("to"):
        parts.append(f"từ {d.get('from') or '—'} sang {d.get('to') or '—'}")
    if d.get("on"):
        parts.append(f"ngày {_history_value(d['on'])}")
    if d.get("after"):
        parts.append(f"sau ngày {_history_value(d['after'])}")
    if d.get("evidence"):
        parts.append(f"minh chứng: {d['evidence']}")
    if d.get("reason"):
        parts.append(f"lý do: {d['reason']}")
    if d.get("automatic"):
        source = d.get("source_directive")
        parts.append("tự động" + (f" (văn bản thực hiện '{source}')" if source else ""))
    elif d.get("source_directive"):
        parts.append(f"văn bản '{d['source_directive']}'")
    return "; ".join(parts)


@app.command()
def sweep(
    db: DbOpt = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Quét tại ngày (mặc định: hôm nay).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Chỉ in những gì sẽ gửi; không ghi, không gửi.")
    ] = False,
    no_send: Annotated[
        bool, typer.Option("--no-send", help="Ghi sổ và tạo bản tổng hợp nhưng chưa gửi.")
    ] = False,
    show: Annotated[
        bool, typer.Option("--show", help="In nội dung các bản tổng hợp (với --dry-run).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Quét cả ngày nghỉ, ngày lễ, Tết.")
    ] = False,
) -> None:
    """Quét hằng ngày: nhắc việc, đôn đốc, báo cáo cấp trên; mỗi đơn vị một bản tổng hợp.

    Ngày nghỉ, ngày lễ, Tết không quét (như luồng daily-sweep), trừ khi có --force.
    """
    with open_tracker(db) as t:
        r = t.sweep(as_of=parse_date(as_of), dry_run=dry_run, send=not no_send, force=force)
    day = fmt_date(r.as_of)
    if r.skipped:
        out.print(f"{r.skipped}: không quét (dùng --force để quét).", highlight=False)
        return
    if dry_run:
        out.print(
            f"Chạy thử tại ngày {day}: {r.notices} thông báo mới cho {len(r.previews)} đơn vị; "
            "không có gì được ghi hay gửi.",
            highlight=False,
        )
        for unit, dg in sorted(r.previews.items()):
            out.print(f"  {unit}: {dg.subject}", highlight=False)
            if show:
                out.print(dg.text, highlight=False, markup=False)
        return
    out.print(
        f"Quét tại ngày {day}: {r.notices} thông báo mới, {len(r.deliveries)} bản tổng hợp.",
        highlight=False,
    )
    if r.sent is not None:
        sm = r.sent
        out.print(
            f"Gửi: {sm.sent} thành công, {sm.local} vào hộp thư cục bộ, {sm.no_target} đơn vị chưa có địa chỉ, "
            f"{sm.failed} lỗi, {sm.timeout} quá thời gian chờ, {sm.dead} ngừng gửi.",
            highlight=False,
        )


@app.command()
def deliveries(
    db: DbOpt = None,
    unit: Annotated[str | None, typer.Option(help="Mã đơn vị nhận.")] = None,
    status: Annotated[
        str | None,
        typer.Option(help="sent, local, no_target, failed, timeout, dead, pending, sending."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Sổ gửi thông báo: mỗi bản tổng hợp, trạng thái, số lần gửi, lỗi (địa chỉ đã che bí mật)."""
    with open_tracker(db) as t:
        rows = t.deliveries(unit=unit, status=status)
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    table = _table("Sổ gửi thông báo")
    for col in ("Ngày", "Đơn vị", "Số việc", "Trạng thái", "Lần gửi", "Địa chỉ / lỗi"):
        table.add_column(col, overflow="fold")
    for r in rows:
        last = r["targets"][-1] if r["targets"] else None
        detail = f"{last['target']}: {last['error'] or last['status']}" if last else ""
        table.add_row(
            r["as_of"], r["unit"], str(r["notices"]), r["status"], str(r["attempts"]), detail
        )
    out.print(table)


@app.command(name="retry-failed")
def retry_failed(db: DbOpt = None) -> None:
    """Gửi lại ngay các bản tổng hợp bị lỗi hoặc quá thời gian chờ (cùng mã gửi, không trùng lặp)."""
    with open_tracker(db) as t:
        sm = t.deliver(force=True)
    out.print(
        f"Gửi lại {sm.claimed}: {sm.sent} thành công, {sm.local} vào hộp thư cục bộ, "
        f"{sm.failed} lỗi, {sm.timeout} quá thời gian chờ, {sm.dead} ngừng gửi.",
        highlight=False,
    )


@app.command()
def schema(
    directory: Annotated[Path, typer.Argument(help="Thư mục ghi JSON Schema.")] = Path(
        "docs/schema"
    ),
) -> None:
    """Xuất JSON Schema của tệp YAML (cho trình soạn thảo gợi ý và kiểm tra)."""
    from kttt_workflow.inputs.schema import export_schemas

    for p in export_schemas(directory):
        out.print(f"Đã ghi {p}", highlight=False)


@app.command()
def demo(
    home: Annotated[
        Path | None, typer.Option(help="Thư mục dữ liệu demo (mặc định: $KTTT_HOME/demo).")
    ] = None,
    prefect: Annotated[
        bool,
        typer.Option(
            "--prefect/--no-prefect",
            help="Chạy lại demo dưới dạng các lần chạy Prefect (khởi động máy chủ Prefect cục bộ "
            "nếu PREFECT_API_URL chưa đặt) để xem trên giao diện Prefect.",
        ),
    ] = True,
) -> None:
    """Chạy thử trên các văn bản thật: nạp, hoàn thành, tình trạng theo ngày, nhắc việc; rồi qua Prefect."""
    import os

    from kttt_workflow.config import data_dir
    from kttt_workflow.demo import run_demo

    where = home or data_dir() / "demo"
    run_demo(out, where).close()
    if prefect:
        from kttt_workflow.orchestration.demo_flows import run_demo_flows
        from kttt_workflow.orchestration.stack import StackError

        out.rule("Demo qua Prefect (các lần chạy, bảng tiến độ, sự kiện trên giao diện)")
        try:
            run_demo_flows(
                where,
                os.environ.get("PREFECT_API_URL"),
                echo=lambda m: out.print(m, highlight=False),
            )
        except StackError as e:
            raise fail(str(e)) from None


@app.command()
def remove(
    directive: Annotated[str, typer.Argument(help="Mã văn bản chỉ đạo cần gỡ.")],
    reason: Annotated[
        str, typer.Option(help="Lý do gỡ (ví dụ: văn bản bị thay thế, nạp nhầm).")
    ] = "",
    on: Annotated[str | None, typer.Option(help="Ngày gỡ (mặc định: hôm nay).")] = None,
    db: DbOpt = None,
) -> None:
    """Gỡ một văn bản chỉ đạo: nhiệm vụ của văn bản không còn được theo dõi (ghi lịch sử)."""
    with open_tracker(db) as t:
        n, lin = t.remove_directive(directive, reason, on=parse_date(on))
    out.print(
        f"Đã gỡ văn bản '{directive}': {n} nhiệm vụ không còn được theo dõi (nạp lại tệp để "
        "khôi phục).",
        highlight=False,
    )
    _print_lineage(lin)


@app.command()
def coverage(
    directive: Annotated[str, typer.Argument(help="Mã văn bản chỉ đạo (văn bản cấp trên).")],
    as_of: Annotated[str | None, typer.Option(help="Tính đến ngày (mặc định: hôm nay).")] = None,
    every_task: Annotated[
        bool,
        typer.Option("--all", help="Mọi nhiệm vụ, không chỉ nhiệm vụ ban hành văn bản."),
    ] = False,
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="In kết quả dạng JSON.")] = False,
) -> None:
    """Đơn vị nào đã ban hành văn bản thực hiện (số, ngày, đúng/trễ hạn), đơn vị nào chưa."""
    with open_tracker(db) as t:
        cov = t.coverage(directive, as_of=parse_date(as_of), every_task=every_task)
    if as_json:
        out.print_json(json.dumps(cov.as_json(), default=str, ensure_ascii=False))
        return
    doc = f"{cov.symbol} " if cov.symbol else ""
    table = _table(
        f"Ban hành văn bản thực hiện {doc}({cov.directive}) tính đến ngày {fmt_date(cov.as_of)}"
    )
    for col in ("Nhiệm vụ", "Đơn vị chủ trì", "Thời hạn", "Văn bản thực hiện", "Kết quả"):
        table.add_column(col, overflow="fold")
    for r in cov.rows:
        table.add_row(
            r.task_key,
            r.unit,
            fmt_date(r.due) if r.due else "—",
            (r.issued.evidence + (" (tự động)" if r.issued.automatic else "")) if r.issued else "—",
            r.outcome,
        )
    out.print(table)
    out.print(cov.summary + ".", highlight=False)


@app.command()
def targets(
    directive: Annotated[str | None, typer.Option(help="Mã văn bản chỉ đạo.")] = None,
    as_of: Annotated[str | None, typer.Option(help="Tính đến ngày (mặc định: hôm nay).")] = None,
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="In kết quả dạng JSON.")] = False,
) -> None:
    """Chỉ tiêu định lượng: chỉ tiêu, kết quả đạt được, tỷ lệ theo đơn vị và tổng cộng."""
    from kttt_workflow.domain.targets import fmt_number, fmt_percent

    with open_tracker(db) as t:
        rep = t.targets(directive=directive, as_of=parse_date(as_of))
    if as_json:
        data = {
            "as_of": rep.as_of.isoformat(),
            "lines": [{**ln.__dict__, "percent": ln.percent} for ln in rep.lines],
            "totals": [{**tt.__dict__, "percent": tt.percent} for tt in rep.totals],
        }
        out.print_json(json.dumps(data, default=str, ensure_ascii=False))
        return
    if not rep.lines:
        out.print("Không có nhiệm vụ nào có chỉ tiêu định lượng.", highlight=False)
        return
    table = _table(f"Chỉ tiêu định lượng tính đến ngày {fmt_date(rep.as_of)}")
    for col in ("Nhiệm vụ", "Chỉ tiêu", "Đơn vị", "Chỉ tiêu giao", "Đạt được", "Tỷ lệ"):
        table.add_column(col, overflow="fold")
    for ln in rep.lines:
        pct = ln.percent
        table.add_row(
            f"{ln.directive}/{ln.task_key}",
            ln.indicator,
            ln.unit,
            f"{fmt_number(ln.target)} {ln.measure}",
            "—"
            if ln.actual is None
            else fmt_number(ln.actual) + ("" if ln.verified else " (chờ xác nhận)"),
            "—" if pct is None else fmt_percent(pct),
        )
    out.print(table)
    for tt in (tt for tt in rep.totals if tt.units > 1):
        out.print(
            f"Cộng {tt.directive}/{tt.task_key} — {tt.indicator}: {tt.percent_text}.",
            highlight=False,
            markup=False,
        )
