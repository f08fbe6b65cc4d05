"""Benchmark: the report files (.docx, .xlsx) for N tasks, against floors written with the same
libraries and no styling.

Usage::

    .venv/bin/python bench/bench_report.py [--units 500] [--tasks 20] [--repeat 3] [--keep]

Set-up, never timed: a SQLite store (a fresh file) with a synthetic registry of U communes in one
group and one directive of T tasks, each led by that group, so N = U × T task rows; a third of the
tasks due in November 2022 (overdue on the report date, 16/01/2023), a third "Thường xuyên", a
third due in the first quarter of 2023; one commune in ten has reported the first task done
(verified). For each repetition it measures:

* ``progress``    ``Tracker.progress(as_of, directive)``: the report's ``GROUP BY``s, the overdue
                  list (capped at 500) and the appendix's plan table;
* ``xlsx``        ``Tracker.write_report(report, path, "xlsx")``: the summary sheet and the
                  tracking sheet, its N rows streamed from the store, styled, with the drop-down
                  and the conditional colour;
* ``xlsx_floor``  an openpyxl write-only workbook with the same N × 13 values (read before
                  timing), no style, no validation: what writing those cells costs at the least;
* ``docx``        ``Tracker.write_report(report, path, "docx")``: the document, its count tables,
                  Phụ lục I (one row per task of the plan), II (the overdue tasks, at most 500),
                  III (every unit);
* ``docx_floor``  a python-docx document with plain tables of the same rows, columns and cell
                  texts as the produced .docx (read back before timing), no style, no merge.

See ``bench/README.md`` ("Report benchmark").
"""

from __future__ import annotations

import argparse
import shutil
import time
from datetime import date
from pathlib import Path
from typing import Any

from _common import Results, banner, footer, log, report, scratch, seconds, timed

AS_OF = date(2023, 1, 16)
UNTIL = date(2023, 12, 31)
MEASURES = ("progress", "xlsx", "xlsx_floor", "docx", "docx_floor")
FLOORS = {"xlsx": "xlsx_floor", "docx": "docx_floor"}


def registry_yaml(units: int) -> str:
    lines = [
        "kind: registry",
        "levels:",
        "  - {code: tinh, name: Cấp tỉnh}",
        "  - {code: xa, name: Cấp xã}",
        "units:",
        "  - {code: bench-tinh, name: Ủy ban nhân dân tỉnh Bench, level: tinh}",
    ]
    lines += [
        f"  - {{code: xa-{i:05d}, name: Ủy ban nhân dân xã {i:05d}, level: xa, parent: bench-tinh}}"
        for i in range(1, units + 1)
    ]
    lines += ["groups:", "  - code: bench-cac-xa", "    name: UBND các xã", "    members:"]
    lines += [f"      - xa-{i:05d}" for i in range(1, units + 1)]
    return "\n".join(lines) + "\n"


DEADLINES = ("trong tháng 11/2022", "Thường xuyên", "Quý I/2023")


def directive_yaml(tasks: int) -> str:
    lines = [
        "kind: directive",
        "code: bench-bc",
        "document:",
        "  type: plan",
        "  symbol: 9/KH-UBND",
        "  date: 2022-10-03",
        "  issuer: bench-tinh",
        "  title: Kế hoạch thử tải báo cáo",
        "focal_unit: bench-tinh",
        "tasks:",
    ]
    for i in range(1, tasks + 1):
        group = "I" if i <= tasks // 2 else "II"
        lines += [
            f'  - id: "{group}.{i}"',
            f"    title: Nhiệm vụ thử số {i} - các xã xây dựng, ban hành và tổ chức thực hiện "
            "kế hoạch của địa phương, báo cáo kết quả về Ủy ban nhân dân tỉnh",
            "    lead: bench-cac-xa",
            "    deliverable: Kế hoạch của xã",
            f"    deadline: {DEADLINES[(i - 1) % 3]}",
        ]
    return "\n".join(lines) + "\n"


def prepare(folder: Path, units: int, tasks: int) -> tuple[str, int]:
    from kttt_workflow.service import Tracker

    (folder / "in").mkdir()
    (folder / "in" / "units.yaml").write_text(registry_yaml(units), encoding="utf-8")
    (folder / "in" / "plan.yaml").write_text(directive_yaml(tasks), encoding="utf-8")
    url = f"sqlite:///{folder / 'bench.db'}"
    with Tracker.open(url) as t:
        t.load([folder / "in"], until=UNTIL)
        for i in range(1, units + 1, 10):
            task = f"bench-bc/I.1/xa-{i:05d}"
            t.complete(task, "Kế hoạch số 1/KH-UBND ngày 20/11/2022", on=date(2022, 11, 20))
            t.verify(task, on=date(2022, 11, 25))
        n = len(t.status(as_of=AS_OF, directive="bench-bc"))
    return url, n


def xlsx_values(path: Path) -> list[list[Any]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    rows = [list(r) for r in wb["Phụ lục"].values][4:]
    wb.close()
    return [r for r in rows if len(r) == 13 and r[12]]


def xlsx_floor(rows: list[list[Any]], path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Phụ lục")
    for r in rows:
        ws.append(r)
    wb.save(path)


def docx_tables(path: Path) -> list[list[list[str]]]:
    from docx import Document

    return [[[c.text for c in row.cells] for row in t.rows] for t in Document(str(path)).tables]


def docx_floor(tables: list[list[list[str]]], path: Path) -> None:
    from docx import Document

    doc = Document()
    for rows in tables:
        t = doc.add_table(rows=len(rows), cols=len(rows[0]))
        for row, values in zip(t.rows, rows, strict=True):
            for cell, text in zip(row.cells, values, strict=False):
                cell.text = text
    doc.save(str(path))


def one_round(t: Any, out: Path, res: Results) -> tuple[Any, list[list[Any]], Any]:
    """One repetition of every measure, the files under ``out``."""
    sec, r = timed(lambda: t.progress(as_of=AS_OF, directive="bench-bc"))
    res.add("progress", sec)
    res.add("xlsx", seconds(lambda: t.write_report(r, out / "bc.xlsx", "xlsx")))
    rows = xlsx_values(out / "bc.xlsx")
    res.add("xlsx_floor", seconds(lambda: xlsx_floor(rows, out / "floor.xlsx")))
    res.add("docx", seconds(lambda: t.write_report(r, out / "bc.docx", "docx")))
    tables = docx_tables(out / "bc.docx")
    res.add("docx_floor", seconds(lambda: docx_floor(tables, out / "floor.docx")))
    return r, rows, tables


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=int, default=500, help="communes in the group (default 500)")
    ap.add_argument("--tasks", type=int, default=20, help="tasks of the plan (default 20)")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions (default 3)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder and its files")
    args = ap.parse_args()
    started = time.perf_counter()
    banner("report", f"{args.units} units x {args.tasks} tasks, {args.repeat} repetitions")
    from kttt_workflow.service import Tracker

    with scratch("kttt-bench-report-", args.keep) as tmp:
        sec, (url, n) = timed(lambda: prepare(tmp, args.units, args.tasks))
        log(f"set-up (untimed in the results): {n} tasks loaded and 1 in 10 done in {sec:.1f}s")
        res = Results("sqlite", n)
        with Tracker.open(url) as t:
            for i in range(args.repeat):
                out = tmp / f"run-{i}"
                out.mkdir()
                r, rows, tables = one_round(t, out, res)
                if i:
                    shutil.rmtree(out)
        first = tmp / "run-0"
        cells = sum(len(rows) * len(rows[0]) for rows in tables)
        res.checks += [
            f"the tracking sheet has {len(rows)} task rows (= N: {len(rows) == n})",
            f"the .docx has {len(tables)} tables, {sum(len(x) for x in tables)} rows, "
            f"{cells} cells; Phụ lục II lists {min(r.total_row().overdue, 500)} overdue tasks",
            f"sizes: .xlsx {(first / 'bc.xlsx').stat().st_size / 1e6:.2f} MB (floor "
            f"{(first / 'floor.xlsx').stat().st_size / 1e6:.2f} MB), .docx "
            f"{(first / 'bc.docx').stat().st_size / 1e6:.2f} MB (floor "
            f"{(first / 'floor.docx').stat().st_size / 1e6:.2f} MB)",
        ]

    def ratios(r: Results, m: str) -> str:
        if m in FLOORS:
            return f"{r.median(m) / r.median(FLOORS[m]):.1f}x floor"
        if m == "progress":
            return f"{r.median(m) / r.n * 1e6:.0f} µs/task"
        return "(floor)"

    report([res], MEASURES, "vs floor", ratios)
    footer(started)


if __name__ == "__main__":
    main()
