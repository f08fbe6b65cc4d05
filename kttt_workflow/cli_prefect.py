"""``kttt`` commands that involve Prefect or its artifacts (registered on the main ``app``).

``kttt serve`` runs the local stack (``kttt_workflow.serve``); ``kttt report`` prints the
consolidated progress report (``kttt_workflow.report``), the same one the ``progress-report``
flow publishes as artifacts.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from kttt_workflow.cli import DbOpt, _fail, _open, app, err, out, parse_date
from kttt_workflow.domain.status import Status
from kttt_workflow.report import ORDER, fmt_pct, progress

__all__ = ["app"]


_HEAD = {
    Status.done_on_time: "Xong\nđúng hạn",
    Status.done_late: "Xong\nquá hạn",
    Status.on_track: "Trong\nhạn",
    Status.overdue: "Quá\nhạn",
    Status.pending: "Chờ\ncấp trên",
    Status.ongoing: "Thường\nxuyên",
    Status.awaiting_deadline: "Chờ\nthời hạn",
}


@app.command()
def report(
    db: DbOpt = None,
    directive: Annotated[
        str | None, typer.Option(help="Mã văn bản chỉ đạo (mặc định: tất cả).")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Tính đến ngày (mặc định: hôm nay).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="In báo cáo dạng JSON.")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="In báo cáo dạng Markdown.")] = False,
) -> None:
    """Báo cáo tổng hợp tiến độ theo văn bản, đơn vị và cấp (kèm mẫu số của mọi tỷ lệ)."""
    if as_json and markdown:
        raise _fail("chỉ chọn một trong --json và --markdown")
    day = parse_date(as_of) or date.today()
    store = _open(db)
    try:
        r = progress(store, day, directive)
    finally:
        store.close()
    if directive and directive not in r.directives:
        raise _fail(f"không có nhiệm vụ nào của văn bản '{directive}'")
    if as_json:
        sys.stdout.write(json.dumps(r.as_json(), ensure_ascii=False, indent=2, default=str) + "\n")
        return
    if markdown:
        sys.stdout.write(r.to_markdown())
        return
    for d in r.directive_rows():
        table = Table(
            title=f"{r.directives[d.code].heading}\nTính đến ngày {day:%d/%m/%Y}",
            show_lines=False,
        )
        table.add_column("Đơn vị", overflow="fold", min_width=14)
        for s in ORDER:
            table.add_column(_HEAD[s], justify="right")
        table.add_column("Tổng", justify="right")
        table.add_column("Đến\nhạn", justify="right")
        table.add_column("Hoàn thành\n/đến hạn", justify="right")
        table.add_column("Quá hạn\n/đến hạn", justify="right")
        for u in [*r.unit_rows(d.code), d]:
            name = u.name if u.scope == "unit" else "[bold]Cộng[/bold]"
            table.add_row(
                name,
                *(str(u.counts[s.value]) for s in ORDER),
                str(u.total),
                str(u.due),
                f"{fmt_pct(u.done_pct)} ({u.done_due}/{u.due})",
                f"{fmt_pct(u.overdue_pct)} ({u.overdue}/{u.due})",
            )
        out.print(table)
    if not r.directive_rows():
        out.print("Không có nhiệm vụ nào.", highlight=False)
    out.print(
        "Đến hạn = nhiệm vụ có hạn đến hết ngày tính (không tính nhiệm vụ chờ cấp trên, thường "
        "xuyên, chưa có thời hạn); tỷ lệ hoàn thành và quá hạn tính trên số đến hạn.",
        highlight=False,
    )


@app.command()
def serve(
    home: Annotated[
        Path | None,
        typer.Option(envvar="KTTT_HOME", help="Thư mục dữ liệu (mặc định: ~/.kttt)."),
    ] = None,
    port: Annotated[int, typer.Option(help="Cổng của máy chủ Prefect.")] = 4200,
    db: DbOpt = None,
    no_server: Annotated[
        bool,
        typer.Option(
            "--no-server",
            help="Không khởi động máy chủ; dùng máy chủ Prefect ở PREFECT_API_URL.",
        ),
    ] = False,
    prefect_db: Annotated[
        str | None,
        typer.Option(
            "--prefect-db",
            envvar="PREFECT_SERVER_DATABASE_CONNECTION_URL",
            help="CSDL của máy chủ Prefect (mặc định SQLite trong $KTTT_HOME/prefect).",
        ),
    ] = None,
) -> None:
    """Chạy hệ thống cục bộ: máy chủ Prefect có giao diện (127.0.0.1) và mọi luồng công việc."""
    import os

    from kttt_workflow.serve import Stack, StackError, run_stack

    stack = Stack.default(home, port)
    if no_server and os.environ.get("PREFECT_API_URL"):
        from urllib.parse import urlsplit

        u = urlsplit(os.environ["PREFECT_API_URL"])
        stack = Stack(stack.home, u.hostname or stack.host, u.port or port)
    try:
        run_stack(
            stack,
            start=not no_server,
            database_url=db,
            prefect_database_url=prefect_db,
            echo=lambda m: out.print(m, highlight=False),
        )
    except StackError as e:
        err.print(f"[red]Lỗi:[/red] {escape(str(e))}", highlight=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        out.print("Đã dừng.", highlight=False)


@app.command(name="prefect-setup")
def prefect_setup() -> None:
    """Chuẩn bị máy chủ Prefect ở PREFECT_API_URL: giới hạn đồng thời, các tự động hóa (automations/)."""
    from kttt_workflow.serve import StackError, ensure_limits, install_automations

    try:
        ensure_limits()
        names = install_automations()
    except (StackError, OSError) as e:
        raise _fail(str(e)) from None
    out.print("Giới hạn đồng thời: kttt-sweep (1 lượt quét mỗi lúc).", highlight=False)
    for n in names:
        out.print(f"Tự động hóa: {n}", highlight=False)
