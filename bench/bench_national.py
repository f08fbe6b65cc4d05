"""Benchmark: a national cascade, end to end, through the library's public API.

Usage::

    .venv/bin/python bench/bench_national.py [--db postgres|sqlite] [--provinces 34]
        [--communes 3321] [--departments 12] [--tasks 10] [--years 10] [--sweep-days 365]
        [--repeat 3] [--keep]

The scenario (issue 12, point 5): 34 provinces, 3,321 communes (no district level, as since
1/7/2025), 12 departments (sở) per province, one central directive whose ``--tasks`` quarterly
reporting tasks ("Hằng quý, trước ngày 15 của tháng cuối quý") are led by the group of every
province, department and commune, over ``--years`` years: 10 × 3,763 units × 40 quarters =
1,505,200 task instances. The registry and the directive are real YAML files, written to the
run's scratch folder and loaded with ``Tracker.load`` as a coordinator's ``kttt load`` would.

Phases, each in a process of its own (so that its peak memory, the child's ``ru_maxrss``, is its
own; the database server's memory is not counted), in this order on one store:

* ``load``       ``Tracker.load`` of the registry and the directive (validation, fan-out of
                 1.5 M instances, one transaction);
* ``sweeps``     ``Tracker.sweep(send=False)`` for every day of the first year (days off are
                 skipped by the engine, as the daily deployment does): the decisions and the
                 digests of every working day; nobody reports, so every step of every ladder
                 fires — the most work a year of sweeps can have;
* ``report``     ``Tracker.progress`` of the whole country, as of the end of the swept year
                 (the instances whose period has begun) and as of the last day of the horizon
                 (all 1.5 M instances): medians of ``--repeat`` runs; and the leaders' chart
                 of the daily sweep's view as of the first date (``Tracker.done_series`` at
                 every sweep date, at most 12);
* ``province``   ``Tracker.progress(within=…)`` of one province (the UBND tỉnh and every unit
                 under it), as of the same two dates.

The floor printed beside the report is a plain ``SELECT count(*) … GROUP BY`` over the same task
rows (the least a report can read), measured in the same run. Goal: the national report over
1.5 M tasks ≤ 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from _common import (
    ROOT,
    banner,
    footer,
    log,
    median,
    pg_url,
    postgres_backend,
    scratch,
)

ISSUED = date(2026, 1, 5)
DIRECTIVE = "ct-quoc-gia-2026"
DEPARTMENTS = (
    "Sở Nội vụ",
    "Sở Tài chính",
    "Sở Tư pháp",
    "Sở Xây dựng",
    "Sở Công Thương",
    "Sở Nông nghiệp và Môi trường",
    "Sở Giáo dục và Đào tạo",
    "Sở Y tế",
    "Sở Khoa học và Công nghệ",
    "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Dân tộc và Tôn giáo",
    "Sở Ngoại vụ",
)
TASK_TITLES = (
    "Báo cáo kết quả thực hiện nhiệm vụ phát triển kinh tế tập thể",
    "Báo cáo tình hình thành lập mới hợp tác xã, tổ hợp tác",
    "Báo cáo kết quả chuyển đổi số trong cơ quan nhà nước",
    "Báo cáo kết quả cải cách thủ tục hành chính",
    "Báo cáo công tác phòng, chống tham nhũng, tiêu cực",
    "Báo cáo kết quả giải ngân vốn đầu tư công",
    "Báo cáo tình hình thực hiện chính sách an sinh xã hội",
    "Báo cáo kết quả xây dựng nông thôn mới",
    "Báo cáo công tác bảo vệ môi trường",
    "Báo cáo kết quả thực hiện chương trình mục tiêu quốc gia",
)


def province(p: int) -> str:
    return f"t{p:02d}-ubnd"


# ------------------------------------------------------------------------------------------------
# The scenario's files
# ------------------------------------------------------------------------------------------------
def q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML 1.2 double-quoted one


def write_files(folder: Path, a: argparse.Namespace) -> tuple[Path, Path]:
    reg = folder / "don-vi-quoc-gia.yaml"
    lines = [
        "kind: registry",
        "levels:",
        "  - {code: tw, name: Trung ương}",
        "  - {code: tinh, name: Cấp tỉnh}",
        '  - {code: so, name: "Sở, ban, ngành"}',
        "  - {code: xa, name: Cấp xã}",
        "units:",
        "  - {code: chinh-phu, name: Chính phủ, level: tw}",
        "  - {code: bo-noi-vu, name: Bộ Nội vụ, level: tw, parent: chinh-phu}",
    ]
    provinces, departments, communes = [], [], []
    for p in range(1, a.provinces + 1):
        code = province(p)
        provinces.append(code)
        lines.append(
            f"  - {{code: {code}, name: {q(f'Ủy ban nhân dân tỉnh số {p:02d}')}, level: tinh, "
            "parent: chinh-phu}"
        )
        for d in range(1, a.departments + 1):
            dcode = f"t{p:02d}-so-{d:02d}"
            departments.append(dcode)
            name = f"{DEPARTMENTS[(d - 1) % len(DEPARTMENTS)]} tỉnh số {p:02d}"
            lines.append(f"  - {{code: {dcode}, name: {q(name)}, level: so, parent: {code}}}")
    for c in range(a.communes):
        p = c % a.provinces + 1
        ccode = f"t{p:02d}-xa-{c // a.provinces + 1:03d}"
        communes.append(ccode)
        lines.append(
            f"  - {{code: {ccode}, name: {q(f'Ủy ban nhân dân xã số {c // a.provinces + 1:03d}, tỉnh số {p:02d}')}, "
            f"level: xa, parent: {province(p)}}}"
        )
    lines.append("groups:")
    for code, name, members in (
        ("ubnd-cac-tinh", "UBND các tỉnh, thành phố", provinces),
        ("cac-so-nganh", "Các sở, ban, ngành", departments),
        ("ubnd-cac-xa", "UBND các xã, phường, đặc khu", communes),
    ):
        lines.append(f"  - code: {code}\n    name: {q(name)}\n    members: [{', '.join(members)}]")
    lines.append(
        "  - code: tat-ca-don-vi\n    name: Các bộ, ngành, địa phương\n"
        "    members: [ubnd-cac-tinh, cac-so-nganh, ubnd-cac-xa]"
    )
    reg.write_text("\n".join(lines) + "\n", encoding="utf-8")

    until = date(ISSUED.year + a.years - 1, 12, 31)
    directive = folder / f"{DIRECTIVE}.yaml"
    body = [
        "kind: directive",
        f"code: {DIRECTIVE}",
        "document:",
        "  type: action_programme",
        "  symbol: 01/NQ-CP",
        f"  date: {ISSUED.isoformat()}",
        "  issuer: chinh-phu",
        "  title: Chương trình hành động quốc gia (kịch bản đo hiệu năng)",
        "focal_unit: bo-noi-vu",
        f"recurrence_from: {date(ISSUED.year, 1, 1).isoformat()}",
        f"recurrence_until: {until.isoformat()}",
        "tasks:",
    ]
    for i in range(1, a.tasks + 1):
        title = TASK_TITLES[(i - 1) % len(TASK_TITLES)]
        body += [
            f"  - id: BC.{i}",
            f"    title: {q(title)}",
            "    lead: tat-ca-don-vi",
            "    deliverable: Báo cáo quý",
            "    deadline: Hằng quý, trước ngày 15 của tháng cuối quý",
        ]
    directive.write_text("\n".join(body) + "\n", encoding="utf-8")
    return reg, directive


# ------------------------------------------------------------------------------------------------
# One phase, in a child process
# ------------------------------------------------------------------------------------------------
def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def open_tracker(a: argparse.Namespace) -> Any:
    from kttt_workflow.service import Tracker

    if a.db == "postgres":
        return Tracker.open(pg_url(), schema=a.schema)
    return Tracker.open(f"sqlite:///{a.sqlite}")


def child(a: argparse.Namespace) -> dict[str, Any]:
    tracker = open_tracker(a)
    until = date(ISSUED.year + a.years - 1, 12, 31)
    year_end = date(ISSUED.year, 12, 31)
    out: dict[str, Any] = {}
    try:
        if a.child == "load":
            t0 = time.perf_counter()
            res = tracker.load([a.registry, a.directive], until=until)
            out["seconds"] = time.perf_counter() - t0
            out["tasks"] = sum(d.added for d in res.directives)
        elif a.child == "sweeps":
            days, per_day, notices, digests, busy = 0, [], 0, 0, []
            t0 = time.perf_counter()
            day = ISSUED
            while day < ISSUED + timedelta(days=a.sweep_days):
                s0 = time.perf_counter()
                rep = tracker.sweep(as_of=day, send=False)
                if rep.skipped is None:
                    days += 1
                    per_day.append(time.perf_counter() - s0)
                    notices += rep.notices
                    digests += len(rep.deliveries)
                    if rep.notices:
                        busy.append(
                            [day.isoformat(), per_day[-1], rep.notices, len(rep.deliveries)]
                        )
                day += timedelta(days=1)
            out["seconds"] = time.perf_counter() - t0
            out.update(
                working_days=days,
                notices=notices,
                digests=digests,
                day_median=median(per_day) if per_day else 0.0,
                day_max=max(per_day, default=0.0),
                busy=busy,
            )
        else:  # a report, national or of one province
            within = province(1) if a.child == "province" else None
            for name, as_of in (("year", year_end), ("all", until)):
                times, counted = [], 0
                for _ in range(a.repeat):
                    t0 = time.perf_counter()
                    rep = tracker.progress(as_of=as_of, within=within)
                    times.append(time.perf_counter() - t0)
                    counted = rep.total_row().total
                out[name] = {"median": median(times), "min": min(times), "tasks": counted}
            out["floor"] = floor(tracker)
            if within is None:  # the leaders' chart of the daily sweep's view, as of year end
                from kttt_workflow.orchestration.artifacts import chart_dates

                days = chart_dates(tracker, year_end)
                times = []
                for _ in range(a.repeat):
                    t0 = time.perf_counter()
                    tracker.done_series(days)
                    times.append(time.perf_counter() - t0)
                out["chart"] = {"median": median(times), "points": len(days)}
    finally:
        tracker.close()
    out["peak_mb"] = peak_mb()
    return out


def floor(tracker: Any) -> float:
    """The least a report reads: the task rows counted by directive, unit and state."""
    from sqlalchemy import func, select

    from kttt_workflow.store import tables as T

    t = T.task_t
    stmt = select(t.c.directive_code, t.c.unit_code, t.c.state, func.count()).group_by(
        t.c.directive_code, t.c.unit_code, t.c.state
    )
    times = []
    for _ in range(3):
        with tracker.engine.connect() as conn:
            t0 = time.perf_counter()
            conn.execute(stmt).all()
            times.append(time.perf_counter() - t0)
    return median(times)


def run_child(a: argparse.Namespace, phase: str, **extra: Any) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", phase, "--db", a.db]
    cmd += [f"--{k.replace('_', '-')}={v}" for k, v in extra.items()]
    for k in ("provinces", "communes", "departments", "tasks", "years", "sweep_days", "repeat"):
        cmd.append(f"--{k.replace('_', '-')}={getattr(a, k)}")
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"phase {phase} failed (exit {proc.returncode})")
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise SystemExit(f"phase {phase} printed no result:\n{proc.stdout}\n{proc.stderr}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    ap.add_argument("--provinces", type=int, default=34)
    ap.add_argument("--communes", type=int, default=3321)
    ap.add_argument("--departments", type=int, default=12)
    ap.add_argument("--tasks", type=int, default=10, help="quarterly tasks in the directive")
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--sweep-days", type=int, default=361, help="days swept from 05/01")
    ap.add_argument("--repeat", type=int, default=3, help="report repetitions (medians)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder and schema")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--schema", help=argparse.SUPPRESS)
    ap.add_argument("--sqlite", help=argparse.SUPPRESS)
    ap.add_argument("--registry", help=argparse.SUPPRESS)
    ap.add_argument("--directive", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print("RESULT " + json.dumps(child(a)), flush=True)
        return

    started = time.perf_counter()
    units = a.provinces * (1 + a.departments) + a.communes
    expected = units * a.tasks * 4 * a.years
    banner(
        "national scenario",
        f"{a.provinces} provinces, {a.provinces * a.departments} departments, {a.communes} communes "
        f"({units} units); {a.tasks} quarterly tasks over {a.years} years = {expected:,} "
        f"task instances; database: {a.db}",
    )
    with scratch("kttt-national-", a.keep) as tmp:
        reg, directive = write_files(tmp, a)
        log(
            f"files: {reg.name} {reg.stat().st_size / 1e6:.1f} MB, "
            f"{directive.name} {directive.stat().st_size / 1e3:.1f} kB"
        )
        if a.db == "postgres":
            pg, why = postgres_backend(pg_url())
            if pg is None:
                log(f"postgres: SKIPPED - {why}")
                return
            log(pg.version())
            schema_cm: Any = pg.new_schema(keep=a.keep)
            target = {"schema": schema_cm.__enter__()}
        else:
            schema_cm, target = None, {"sqlite": str(tmp / "national.db")}
        try:
            results: dict[str, dict[str, Any]] = {}
            results["load"] = run_child(a, "load", registry=reg, directive=directive, **target)
            log(
                f"load: {results['load']['tasks']:,} tasks in {results['load']['seconds']:.1f} s, "
                f"peak {results['load']['peak_mb']:.0f} MB"
            )
            results["sweeps"] = run_child(a, "sweeps", **target)
            s = results["sweeps"]
            log(
                f"sweeps: {s['working_days']} working days in {s['seconds']:.1f} s "
                f"(median day {s['day_median']:.3f} s, slowest {s['day_max']:.2f} s), "
                f"{s['notices']:,} notices, {s['digests']:,} digests, peak {s['peak_mb']:.0f} MB"
            )
            for day, sec, n, dg in s["busy"]:
                log(f"  sweep of {day}: {sec:.2f} s, {n:,} notices, {dg:,} digests")
            for phase in ("report", "province"):
                results[phase] = r = run_child(a, phase, **target)
                for name in ("year", "all"):
                    log(
                        f"{phase} ({name}): {r[name]['tasks']:,} tasks counted, median "
                        f"{r[name]['median']:.2f} s (min {r[name]['min']:.2f}), "
                        f"floor {r['floor']:.2f} s, peak {r['peak_mb']:.0f} MB"
                    )
            c = results["report"]["chart"]
            log(
                f"chart (year): {c['points']} points of % done of the tasks due "
                f"(Tracker.done_series), median {c['median']:.2f} s"
            )
            summary(results, expected)
        finally:
            if schema_cm is not None:
                schema_cm.__exit__(None, None, None)  # drops the schema unless --keep
                if a.keep:
                    log(f"kept schema {target['schema']}")
    footer(started)


def summary(r: dict[str, dict[str, Any]], expected: int) -> None:
    log("")
    log(f"{'phase':<58} {'seconds':>9} {'peak MB':>8}  note")
    rows = [
        (
            "load (validate, fan out, one transaction)",
            r["load"]["seconds"],
            r["load"]["peak_mb"],
            f"{r['load']['tasks']:,} tasks (expected {expected:,})",
        ),
        (
            f"a year of daily sweeps ({r['sweeps']['working_days']} working days)",
            r["sweeps"]["seconds"],
            r["sweeps"]["peak_mb"],
            f"median day {r['sweeps']['day_median']:.3f} s, slowest {r['sweeps']['day_max']:.2f} s",
        ),
    ]
    for phase, label in (("report", "national report"), ("province", "one province's report")):
        for name, when in (("year", "end of the swept year"), ("all", "end of the horizon")):
            x = r[phase]
            ratio = x[name]["median"] / x["floor"] if x["floor"] else float("nan")
            rows.append(
                (
                    f"{label}, as of the {when}",
                    x[name]["median"],
                    x["peak_mb"],
                    f"{x[name]['tasks']:,} tasks; floor {x['floor']:.2f} s ({ratio:.1f}×)",
                )
            )
    c = r["report"]["chart"]
    rows.append(
        (
            "the leaders' chart, as of the end of the swept year",
            c["median"],
            r["report"]["peak_mb"],
            f"{c['points']} points (the sweep dates), one GROUP BY of the tasks due each",
        )
    )
    for label, sec, mb, note in rows:
        log(f"{label:<58} {sec:>9.2f} {mb:>8.0f}  {note}")
    goal = r["report"]["all"]["median"]
    log(
        f"goal: the national report over all tasks ≤ 2 s: {goal:.2f} s "
        f"({'met' if goal <= 2 else 'NOT met'})"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
