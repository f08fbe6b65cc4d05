"""``kttt report`` (the consolidated report: in the terminal, or as Markdown, JSON, a .docx in
the layout of Nghị định 30/2020/NĐ-CP or a .xlsx tracking sheet) and ``kttt import-progress``
(the completions of a tracking sheet a unit sent back).

The counts come from :meth:`Tracker.progress`, the files from :meth:`Tracker.write_report`;
python-docx and openpyxl are imported only when a file is written or read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kttt_workflow.cli.common import DbOpt, app, fail, open_tracker, out, parse_date
from kttt_workflow.domain.status import ORDER, SHORT

if TYPE_CHECKING:
    from kttt_workflow.domain.progress import ProgressReport

FORMATS = ("md", "json", "docx", "xlsx")
# Two-line column headings of the terminal table: the short labels, broken after the first word.
HEADINGS = {s: SHORT[s].replace(" ", "\n", 1) for s in ORDER}


def _format(fmt: str | None, output: Path | None, as_json: bool, markdown: bool) -> str | None:
    """The output format: ``--format``, else the old ``--json``/``--markdown`` switches, else the
    output file's suffix; ``None`` is the terminal table."""
    chosen = [f for f in (fmt, "json" if as_json else None, "md" if markdown else None) if f]
    if len(set(chosen)) > 1:
        raise fail("chỉ chọn một định dạng (--format, --json hoặc --markdown)")
    if chosen:
        kind = chosen[0].lower().lstrip(".")
        kind = {"markdown": "md", "word": "docx", "excel": "xlsx"}.get(kind, kind)
        if kind not in FORMATS:
            raise fail(
                f"định dạng '{chosen[0]}' không hợp lệ; chọn một trong: {', '.join(FORMATS)}"
            )
        return kind
    if output is not None:
        suffix = output.suffix.lower().lstrip(".")
        if suffix in FORMATS:
            return suffix
        raise fail(f"không biết định dạng của tệp {output}; ghi rõ --format ({', '.join(FORMATS)})")
    return None


def _default_name(r: ProgressReport, kind: str) -> Path:
    """``bao-cao-kh-67-2013-2022-q4.docx`` in the current folder (the flow's name too)."""
    from kttt_workflow.orchestration.artifacts import report_file_name

    return Path(report_file_name(r, kind))


@app.command()
def report(
    db: DbOpt = None,
    directive: Annotated[
        str | None, typer.Option(help="Mã văn bản chỉ đạo (mặc định: tất cả).")
    ] = None,
    unit: Annotated[
        str | None,
        typer.Option(
            help="Mã đơn vị: chỉ các nhiệm vụ đơn vị này chịu trách nhiệm (kể cả kế thừa)."
        ),
    ] = None,
    level: Annotated[
        str | None, typer.Option(help="Mã cấp (ví dụ huyen): chỉ các đơn vị thuộc cấp này.")
    ] = None,
    within: Annotated[
        str | None,
        typer.Option(
            help="Mã đơn vị: đơn vị này và mọi đơn vị trực thuộc (ví dụ một tỉnh trong chương "
            "trình toàn quốc)."
        ),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Tính đến ngày (mặc định: hôm nay).")
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(
            help="Kỳ báo cáo theo Nghị định 09/2019/NĐ-CP: 2022-M11 (tháng), 2022-Q4 (quý), "
            "2022-H2 (6 tháng), 2022 (năm); số liệu chốt từ ngày 15 tháng trước kỳ đến ngày 14."
        ),
    ] = None,
    regime: Annotated[
        str | None,
        typer.Option(
            help="Thời hạn gửi báo cáo định kỳ, ví dụ 'trước ngày 20 của tháng cuối kỳ báo cáo' "
            "(mặc định: ngày 25)."
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", "-f", help="md, json, docx hoặc xlsx (mặc định: bảng trên màn hình)."
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Tệp ghi ra (docx, xlsx mặc định: bao-cao-….docx ở thư mục hiện tại; md, json "
            "mặc định: màn hình).",
        ),
    ] = None,
    issuer: Annotated[
        str | None,
        typer.Option(help="Mã đơn vị báo cáo: tên đơn vị và cơ quan cấp trên ở đầu tệp .docx."),
    ] = None,
    place: Annotated[
        str | None,
        typer.Option(help="Địa danh ở dòng ngày tháng của tệp .docx (ví dụ Tuyên Quang)."),
    ] = None,
    dated: Annotated[
        str | None,
        typer.Option("--dated", help="Ngày ghi trên tệp .docx (mặc định để trống cho văn thư)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Như --format json.")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Như --format md.")] = False,
) -> None:
    """Báo cáo tổng hợp tiến độ theo văn bản, đơn vị và cấp (kèm mẫu số của mọi tỷ lệ), ra màn
    hình, Markdown, JSON, Word (.docx theo Nghị định 30/2020/NĐ-CP) hoặc Excel (.xlsx)."""
    kind = _format(fmt, output, as_json, markdown)
    day = parse_date(as_of)
    on = parse_date(dated)
    with open_tracker(db) as t:
        r = t.progress(as_of=day, directive=directive, period=period, unit=unit, level=level,
                       regime=regime, within=within)  # fmt: skip
        if kind in ("docx", "xlsx"):
            target = output or _default_name(r, kind)
            written = t.write_report(r, target, kind, issuer=issuer, place=place, dated=on)
            out.print(f"Đã ghi {written} ({r.cutoff_text()})", highlight=False, markup=False)
            return
    if kind == "json":
        text = json.dumps(r.as_json(), ensure_ascii=False, indent=2, default=str) + "\n"
    elif kind == "md":
        text = r.to_markdown()
    else:
        _print_table(r)
        return
    if output is None:
        sys.stdout.write(text)
        return
    from kttt_workflow.errors import KtttError
    from kttt_workflow.reports.files import write_atomically

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    try:
        write_atomically(output, write)
    except KtttError as e:
        raise fail(str(e)) from None
    out.print(f"Đã ghi {output}", highlight=False, markup=False)


def _print_table(r: ProgressReport) -> None:
    from rich.table import Table

    from kttt_workflow.domain.progress import fmt_pct

    out.print(r.cutoff_text(), highlight=False)
    for d in r.directive_rows():
        table = Table(title=f"{r.directives[d.code].heading}\nTính đến ngày {r.as_of:%d/%m/%Y}")
        table.add_column("Đơn vị", overflow="fold", min_width=14)
        for s in ORDER:
            table.add_column(HEADINGS[s], justify="right")
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
        "xuyên, chưa có thời hạn, đã báo cáo chờ xác nhận, của đơn vị đã giải thể); tỷ lệ hoàn "
        "thành và quá hạn tính trên số đến hạn.",
        highlight=False,
    )


@app.command(name="import-progress")
def import_progress(
    file: Annotated[
        Path,
        typer.Argument(
            help="Bảng theo dõi .xlsx (do kttt report --format xlsx lập) đơn vị gửi lại."
        ),
    ],
    db: DbOpt = None,
) -> None:
    """Ghi nhận các nhiệm vụ đơn vị báo cáo đã hoàn thành trong bảng theo dõi Excel (chờ xác
    nhận); có dòng sai thì không ghi gì."""
    from kttt_workflow.reports.readback import read_sheet

    with open_tracker(db) as t:
        entries = read_sheet(file, str(file))
        batch = t.record_completions(entries)
    for task_id, doubts in batch.recorded:
        out.print(f"Đã ghi nhận báo cáo hoàn thành (chờ xác nhận): {task_id}", highlight=False,
                  markup=False)  # fmt: skip
        for doubt in doubts:
            out.print(f"  Lưu ý: {doubt}", highlight=False, markup=False)
    states = {"reported": "đã báo cáo, đang chờ xác nhận", "done": "đã hoàn thành"}
    for task_id, state in batch.skipped:
        out.print(f"Giữ nguyên {task_id}: {states.get(state, state)}", highlight=False,
                  markup=False)  # fmt: skip
    out.print(
        f"{len(batch.recorded)} báo cáo hoàn thành được ghi nhận, chờ xác nhận "
        f"(kttt verify); {len(batch.skipped)} nhiệm vụ giữ nguyên.",
        highlight=False,
    )
