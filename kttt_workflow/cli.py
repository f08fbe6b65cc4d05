"""``kttt``: the command line. Each command is a thin wrapper over ``kttt_workflow.api``."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kttt_workflow.api import Store
from kttt_workflow.domain.deadlines import (
    DeadlineError,
    DeadlineKind,
    effective_due,
    occurrences,
    parse_deadline,
)
from kttt_workflow.domain.status import LABELS, Status
from kttt_workflow.spec.errors import InputError, KtttError

app = typer.Typer(
    name="kttt",
    help="Theo dõi thực hiện văn bản chỉ đạo: khai báo YAML, giao nhiệm vụ, thời hạn, hoàn thành.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="KTTT_DATABASE_URL",
        help="URL cơ sở dữ liệu (mặc định: tệp SQLite trong $KTTT_HOME).",
    ),
]


def parse_date(text: str | None) -> date | None:
    """Accept 2022-12-05 or 05/12/2022."""
    if text is None:
        return None
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise typer.BadParameter(f"ngày '{text}' không hợp lệ; cần dạng YYYY-MM-DD hoặc DD/MM/YYYY")


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]Lỗi:[/red] {message}", highlight=False)
    return typer.Exit(code)


def _open(db: str | None) -> Store:
    try:
        return Store.open(db)
    except Exception as exc:  # a wrong URL, an unreachable server: say so without the password
        from kttt_workflow.store.db import normalise_url, safe_url

        raise _fail(
            f"không mở được cơ sở dữ liệu {safe_url(normalise_url(db))}: {type(exc).__name__}"
        ) from None


def _print_issues(e: InputError) -> None:
    for issue in e.issues:
        err.print(str(issue), highlight=False, markup=False)
    err.print(f"Có {len(e.issues)} lỗi; không có gì được ghi vào cơ sở dữ liệu.", highlight=False)


def _fmt(d: date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else "—"


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Tệp hoặc thư mục YAML.")],
    db: DbOpt = None,
) -> None:
    """Kiểm tra tệp YAML (danh mục đơn vị, văn bản chỉ đạo); in lỗi dạng tệp:dòng:cột."""
    store = _open(db)
    try:
        bundle = store.validate(paths)
    except InputError as e:
        _print_issues(e)
        raise typer.Exit(1) from None
    finally:
        store.close()
    n_tasks = sum(1 for _, d in bundle.directives for _ in _walk(d.tasks))
    out.print(
        f"Hợp lệ: {len(bundle.registry_files)} danh mục đơn vị, {len(bundle.directives)} văn bản, "
        f"{n_tasks} nhiệm vụ.",
        highlight=False,
    )


def _walk(tasks: list[Any]) -> Any:
    for t in tasks:
        yield t
        yield from _walk(t.children)


@app.command()
def load(
    paths: Annotated[list[Path], typer.Argument(help="Tệp hoặc thư mục YAML.")],
    db: DbOpt = None,
    until: Annotated[
        str | None, typer.Option(help="Sinh kỳ lặp đến ngày này (mặc định: hết năm nay).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="In kết quả dạng JSON.")] = False,
) -> None:
    """Nạp tệp YAML vào cơ sở dữ liệu (một giao dịch: tất cả hoặc không gì cả)."""
    store = _open(db)
    try:
        reg, summaries = store.load(paths, until=parse_date(until))
    except InputError as e:
        _print_issues(e)
        raise typer.Exit(1) from None
    finally:
        store.close()
    if as_json:
        out.print_json(
            json.dumps(
                {"registry": reg.__dict__, "directives": [s.as_dict() for s in summaries]},
                default=str,
            )
        )
        return
    if reg.units_added or reg.units_changed or reg.groups_added or reg.groups_changed:
        out.print(
            f"Danh mục: thêm {reg.units_added} đơn vị, sửa {reg.units_changed}; "
            f"thêm {reg.groups_added} nhóm, sửa {reg.groups_changed}.",
            highlight=False,
        )
    for s in summaries:
        if s.changed_anything:
            out.print(
                f"{s.directive}: {s.total} nhiệm vụ — thêm {s.added}, sửa {s.changed}, "
                f"bỏ {s.removed}, khôi phục {s.restored}, giữ nguyên {s.unchanged}.",
                highlight=False,
            )
            for c in s.changes[:10]:
                fields = ", ".join(
                    f"{k}: {v['old']} → {v['new']}" for k, v in c.items() if k != "task_id"
                )
                out.print(f"  sửa {c['task_id']}: {fields}", highlight=False)
        else:
            out.print(f"{s.directive}: không có thay đổi ({s.total} nhiệm vụ).", highlight=False)


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
    issued_on = parse_date(issued)
    try:
        spec = parse_deadline(text, issued_on)
    except DeadlineError as e:
        raise _fail(str(e)) from None
    from kttt_workflow.domain.calendar import default_calendar

    cal = default_calendar()
    result: dict[str, Any] = {
        "text": spec.text,
        "kind": spec.kind.value,
        "label": spec.label,
        "recurrence": spec.recurrence.value if spec.recurrence else None,
        "nominal_due": spec.due.isoformat() if spec.due else None,
        "due": effective_due(spec.due, cal, not no_roll).isoformat() if spec.due else None,
        "occurrences": [],
    }
    if spec.kind == DeadlineKind.RECURRING:
        start = issued_on or date.today()
        occ = occurrences(spec, start, date(start.year + count + 1, 12, 31))[:count]
        result["occurrences"] = [
            {
                "period": o.period,
                "nominal_due": o.due.isoformat(),
                "due": effective_due(o.due, cal, not no_roll).isoformat(),
            }
            for o in occ
        ]
    if as_json:
        out.print_json(json.dumps(result, ensure_ascii=False))
        return
    out.print(f"Văn bản ghi: {spec.text}", highlight=False)
    out.print(f"Loại: {spec.kind.value} — {spec.label}", highlight=False)
    if spec.due:
        rolled = date.fromisoformat(result["due"])
        extra = "" if rolled == spec.due else f" (rơi vào ngày nghỉ, chuyển sang {_fmt(rolled)})"
        out.print(f"Hạn: {_fmt(spec.due)}{extra}", highlight=False)
    for o in result["occurrences"]:
        out.print(f"  Kỳ {o['period']}: hạn {_fmt(date.fromisoformat(o['due']))}", highlight=False)


_STYLE = {
    Status.overdue: "red",
    Status.done_late: "yellow",
    Status.done_on_time: "green",
    Status.on_track: "cyan",
    Status.pending: "dim",
    Status.ongoing: "blue",
    Status.awaiting_deadline: "magenta",
}


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
    day = parse_date(as_of) or date.today()
    for s in only or ():
        if s not in Status.__members__:
            raise _fail(
                f"tình trạng '{s}' không hợp lệ; cần một trong: {', '.join(Status.__members__)}"
            )
    store = _open(db)
    try:
        rows = store.status(as_of=day, directive=directive, unit=unit, statuses=only)
    finally:
        store.close()
    if as_json:
        sys.stdout.write(
            json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2) + "\n"
        )
        return
    table = Table(title=f"Tình trạng nhiệm vụ tại ngày {_fmt(day)}", show_lines=False)
    for col in ("Mã nhiệm vụ", "Đơn vị chủ trì", "Nội dung", "Thời hạn", "Hạn", "Tình trạng"):
        table.add_column(col, overflow="fold")
    for r in rows:
        st = Status(r.status)
        label = r.status_label + (f" ({r.days_overdue} ngày)" if r.days_overdue else "")
        title = r.title if len(r.title) <= 80 else r.title[:77] + "…"
        table.add_row(
            r.task_id,
            r.unit_name,
            title,
            r.deadline_text or "—",
            _fmt(r.due),
            f"[{_STYLE[st]}]{label}[/]",
        )
    out.print(table)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
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
    db: DbOpt = None,
) -> None:
    """Ghi nhận báo cáo hoàn thành của đơn vị (kèm minh chứng), chờ xác nhận."""
    store = _open(db)
    try:
        r = store.complete(
            task, evidence, on=parse_date(on), unit=unit, note=note, attachment=attachment
        )
    except KtttError as e:
        raise _fail(str(e)) from None
    finally:
        store.close()
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
    store = _open(db)
    try:
        r = store.verify(task, on=parse_date(on), unit=unit)
    except KtttError as e:
        raise _fail(str(e)) from None
    finally:
        store.close()
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
    store = _open(db)
    try:
        r = store.return_(task, reason, on=parse_date(on), unit=unit)
    except KtttError as e:
        raise _fail(str(e)) from None
    finally:
        store.close()
    out.print(f"Đã trả lại báo cáo của {r.task_id}: {reason}", highlight=False)


@app.command()
def history(
    task: Annotated[str, typer.Argument(help="Mã nhiệm vụ.")],
    unit: Annotated[str | None, typer.Option(help="Mã đơn vị.")] = None,
    db: DbOpt = None,
) -> None:
    """Lịch sử thay đổi của một nhiệm vụ."""
    store = _open(db)
    try:
        rows = store.history(task, unit=unit)
    except KtttError as e:
        raise _fail(str(e)) from None
    finally:
        store.close()
    for r in rows:
        out.print(
            f"{r['at']:%Y-%m-%d %H:%M} {r['event']} {json.dumps(r['detail'], ensure_ascii=False, default=str)}",
            highlight=False,
        )


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
) -> None:
    """Quét hằng ngày: nhắc việc, đôn đốc, báo cáo cấp trên; mỗi đơn vị một bản tổng hợp."""
    day = parse_date(as_of) or date.today()
    store = _open(db)
    try:
        r = store.sweep(as_of=day, dry_run=dry_run, send=not no_send)
    finally:
        store.close()
    if dry_run:
        out.print(
            f"Chạy thử tại ngày {_fmt(day)}: {r.notices} thông báo mới cho {len(r.previews)} đơn vị; "
            "không có gì được ghi hay gửi.",
            highlight=False,
        )
        for unit, dg in sorted(r.previews.items()):
            out.print(f"  {unit}: {dg.subject}", highlight=False)
            if show:
                out.print(dg.text, highlight=False, markup=False)
        return
    out.print(
        f"Quét tại ngày {_fmt(day)}: {r.notices} thông báo mới, {len(r.deliveries)} bản tổng hợp.",
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
    store = _open(db)
    try:
        rows = store.deliveries(unit=unit, status=status)
    finally:
        store.close()
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title="Sổ gửi thông báo")
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
    store = _open(db)
    try:
        sm = store.deliver(force=True)
    finally:
        store.close()
    out.print(
        f"Gửi lại {sm.claimed}: {sm.sent} thành công, {sm.failed} lỗi, {sm.timeout} quá thời gian chờ, "
        f"{sm.dead} ngừng gửi.",
        highlight=False,
    )


@app.command()
def schema(
    directory: Annotated[Path, typer.Argument(help="Thư mục ghi JSON Schema.")] = Path(
        "docs/schema"
    ),
) -> None:
    """Xuất JSON Schema của tệp YAML (cho trình soạn thảo gợi ý và kiểm tra)."""
    from kttt_workflow.spec.schema import export_schemas

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

    from kttt_workflow.demo import run_demo
    from kttt_workflow.store.db import data_dir

    where = home or data_dir() / "demo"
    run_demo(out, where).close()
    if prefect:
        from flows.demo import run_demo_flows

        out.rule("Demo qua Prefect (các lần chạy, bảng tiến độ, sự kiện trên giao diện)")
        run_demo_flows(
            where / "prefect-demo",
            os.environ.get("PREFECT_API_URL"),
            echo=lambda m: out.print(m, highlight=False),
        )


def main() -> None:  # pragma: no cover
    app()


# Prefect commands (serve, report, …) live in their own module and register on `app`.
from kttt_workflow import cli_prefect as _cli_prefect  # noqa: E402, F401
