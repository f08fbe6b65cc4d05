"""``kttt`` commands of the Prefect stack: ``kttt serve`` runs it locally
(:mod:`kttt_workflow.orchestration.stack`), ``kttt prefect-setup`` prepares a production server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from kttt_workflow.cli.common import DbOpt, app, fail, out


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
    from kttt_workflow.orchestration.stack import Stack, StackError, run_stack

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
        raise fail(str(e)) from None
    except KeyboardInterrupt:
        out.print("Đã dừng.", highlight=False)


@app.command(name="prefect-setup")
def prefect_setup() -> None:
    """Chuẩn bị máy chủ Prefect ở PREFECT_API_URL: giới hạn đồng thời, các tự động hóa (automations/)."""
    from kttt_workflow.orchestration.stack import StackError, ensure_limits, install_automations

    try:
        ensure_limits()
        names = install_automations()
    except (StackError, OSError) as e:
        raise fail(str(e)) from None
    out.print("Giới hạn đồng thời: kttt-sweep (1 lượt quét mỗi lúc).", highlight=False)
    for n in names:
        out.print(f"Tự động hóa: {n}", highlight=False)
