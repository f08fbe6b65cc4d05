"""``kttt import``: a plan's task table (.docx, .xlsx or flattened .txt) → a YAML directive draft.

The reading is :mod:`kttt_workflow.inputs.office` (no store); the registry that names are mapped
to, and the check of the draft, go through the service (:meth:`Tracker.validate`). Nothing is
imported before the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kttt_workflow.cli.common import DbOpt, app, err, fail, open_tracker, out


@app.command(name="import")
def import_(
    file: Annotated[
        Path, typer.Argument(help="Tệp .docx, .xlsx hoặc .txt (mỗi ô một dòng) chứa bảng nhiệm vụ.")
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Tệp YAML bản nháp (mặc định: tên tệp vào, đuôi .yaml, ở thư mục hiện tại).",
        ),
    ] = None,
    registry: Annotated[
        list[Path] | None,
        typer.Option(
            "--registry",
            help="Tệp hoặc thư mục danh mục đơn vị (kind: registry) để ánh xạ tên cơ quan; "
            "lặp lại để dùng nhiều tệp.",
        ),
    ] = None,
    db: DbOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Ghi đè tệp bản nháp đã có.")] = False,
) -> None:
    """Đọc bảng nhiệm vụ của kế hoạch (Word, Excel, văn bản) và ghi bản nháp YAML văn bản chỉ đạo."""
    from kttt_workflow.config import Config, ConfigError
    from kttt_workflow.errors import InputError
    from kttt_workflow.inputs.office import OfficeError, import_file, write_draft

    try:
        max_bytes = Config.from_env().max_input_bytes
    except ConfigError as e:
        raise fail(str(e)) from None
    registries = list(registry or [])
    reg = None
    if registries:
        with open_tracker(db) as t:
            try:
                reg = t.validate(registries).registry
            except InputError as e:
                for issue in e.issues:
                    err.print(str(issue), markup=False, highlight=False)
                raise fail(
                    f"danh mục đơn vị (--registry) có {len(e.issues)} lỗi; sửa rồi chạy lại. "
                    "Không ghi tệp nào."
                ) from None
    target = output or Path(f"{file.stem}.yaml")
    try:
        if target.resolve() == file.resolve():
            raise OfficeError(
                str(target), "tệp bản nháp trùng với tệp đang đọc; chọn tên khác (-o)"
            )
        result = import_file(file, reg, max_bytes=max_bytes, name=str(file))
        write_draft(target, result.text, overwrite=force)
    except OfficeError as e:
        raise fail(f"{e}. Không ghi tệp nào.") from None
    for line in result.report(str(target)):
        out.print(line, markup=False, highlight=False)
    if not registries and db is None:
        out.print(
            "Chưa kiểm tra bản nháp: cần danh mục đơn vị (--registry) hoặc cơ sở dữ liệu (--db).",
            highlight=False,
        )
        return
    if not registries:
        out.print(
            "Danh mục trong cơ sở dữ liệu chỉ được dùng để kiểm tra bản nháp; để ánh xạ tên cơ "
            "quan, chỉ định --registry.",
            highlight=False,
        )
    with open_tracker(db) as t:
        try:
            bundle = t.validate([*registries, target])
        except InputError as e:
            out.print(
                f"Kiểm tra bản nháp (như kttt validate): {len(e.issues)} lỗi, ở các chỗ đánh dấu "
                "trong bản nháp:",
                highlight=False,
            )
            for issue in e.issues:
                out.print(f"  {issue}", markup=False, highlight=False)
            return
    count = sum(len(d.tasks) for _, d in bundle.directives)
    out.print(f"Kiểm tra bản nháp (như kttt validate): hợp lệ, {count} nhiệm vụ.", highlight=False)
