"""Benchmark: memory and time of reading a unit registry, for registries of growing size.

Usage::

    .venv/bin/python bench/bench_input.py [--units 2500,5000,10000,20000,40000,80000]
                                          [--stages parse,model] [--keep]

For each size it writes a synthetic national registry of N units into a temporary folder (the
shipped registries' block style: name, an alias, level, parent, one notification target, a
validity date; one group per province listing its communes), and in a FRESH child process per
size and stage measures:

* ``parse``  ``kttt_workflow.inputs.reader.read_yaml(path)``: the located YAML parser alone (the
             data and the position of every key and value);
* ``model``  the same, then ``RegistryFile.model_validate(doc.data)`` (the pydantic models).

The child reports its peak resident set (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) after
the imports and after the stage; the difference divided by the file's size is the figure this
bench is for: **MB of RSS per MB of YAML**. It should stay flat as the file grows (linear memory)
and small. The size limit of the reader is lifted in the child (``max_bytes``) so that files
above the default limit can be measured too.

Figures (2026-12-01, Python 3.11, 2 CPUs, ``--units 2500,10000,20000,40000,80000,160000``):
before the streaming reader (a PyYAML node tree, then a dictionary of path tuples for positions)
about 52 MB of RSS per MB of YAML at every size, 15 s for 23 MB; after it, 8.5 to 9.3 MB per MB
for ``parse`` and 10.5 to 11.2 for ``model``, 2.7 s for 23 MB and 5.3 s for 46 MB. A registry of
20,000 units in this style is 5.7 MB.

Standard library only in this process (it also writes the files through a child, so that it
stays small); the children import the library. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import ROOT, banner, footer, log, scratch

SIZES = (2500, 5000, 10000, 20000, 40000, 80000)
STAGES = ("parse", "model")
PER_PROVINCE = 600  # units per synthetic province (a UBND, 20 departments, the rest communes)
MB = 1024 * 1024


def registry_yaml(n: int) -> str:
    """A registry of ``n`` units (about 0.3 kB each), in the style of ``directives/units/``."""
    lines = [
        "# Synthetic national registry for bench/bench_input.py (not real units).",
        "kind: registry",
        "levels:",
        "  - code: trung-uong",
        "    name: Cấp Trung ương",
        "  - code: tinh",
        "    name: Cấp tỉnh",
        "  - code: so",
        "    name: Sở, ban, ngành, đoàn thể cấp tỉnh",
        "  - code: xa",
        "    name: Cấp xã",
        "units:",
        "  - code: chinh-phu",
        "    name: Chính phủ nước Cộng hòa xã hội chủ nghĩa Việt Nam",
        "    level: trung-uong",
    ]
    groups: list[str] = ["groups:"]
    made = 1
    province = 0
    while made < n:
        province += 1
        p = f"t{province:03d}"
        communes: list[str] = []
        for j in range(min(PER_PROVINCE, n - made)):
            if j == 0:
                code, name, alias, level, parent = (
                    f"{p}-ubnd",
                    f"Ủy ban nhân dân tỉnh Số {province}",
                    f"UBND tỉnh Số {province}",
                    "tinh",
                    "chinh-phu",
                )
            elif j <= 20:
                code, name, alias, level, parent = (
                    f"{p}-so-{j:02d}",
                    f"Sở Nội vụ và Đào tạo số {j}, tỉnh Số {province}",
                    f"Sở số {j} tỉnh Số {province}",
                    "so",
                    f"{p}-ubnd",
                )
            else:
                code, name, alias, level, parent = (
                    f"{p}-xa-{j:04d}",
                    f"Ủy ban nhân dân xã Phước Lộc số {j}, tỉnh Số {province}",
                    f"UBND xã Phước Lộc số {j} ({province})",
                    "xa",
                    f"{p}-ubnd",
                )
                communes.append(code)
            lines += [
                f"  - code: {code}",
                f"    name: {name}",
                "    aliases:",
                f"      - {alias}",
                f"    level: {level}",
                f"    parent: {parent}",
                "    targets:",
                f"      - mailto://vanthu.{code}@{p}.gov.vn",
                "    valid_from: 2025-07-01",
            ]
            made += 1
        if communes:
            groups += [
                f"  - code: {p}-ubnd-cac-xa",
                f"    name: UBND các xã, tỉnh Số {province}",
                "    members:",
                *(f"      - {c}" for c in communes),
            ]
    return "\n".join([*lines, *groups]) + "\n"


def child(stage: str, path: Path) -> None:
    """Run one stage on ``path`` in this process and print what it cost, as one JSON line."""
    import resource

    sys.path.insert(0, str(ROOT))
    from kttt_workflow.domain.directive import RegistryFile
    from kttt_workflow.inputs.reader import read_yaml

    # Lift the size limit (the reader before it had none, and no such parameter).
    kwargs: dict[str, Any] = {}
    if "max_bytes" in inspect.signature(read_yaml).parameters:
        kwargs["max_bytes"] = 1 << 40
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    doc, issues = read_yaml(path, **kwargs)
    if doc is not None and stage == "model":
        RegistryFile.model_validate(doc.data)
    sec = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"base_kb": base, "peak_kb": peak, "seconds": sec, "issues": len(issues)}))


def measure(stage: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", stage, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--units", default=",".join(map(str, SIZES)), help="sizes, comma-separated")
    ap.add_argument("--stages", default=",".join(STAGES), help="parse, model")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--child", nargs=2, metavar=("STAGE", "PATH"), help=argparse.SUPPRESS)
    ap.add_argument("--write", nargs=2, metavar=("UNITS", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    if args.write:
        Path(args.write[1]).write_text(registry_yaml(int(args.write[0])), encoding="utf-8")
        return
    started = time.perf_counter()
    sizes = [int(x) for x in args.units.split(",")]
    stages = [s for s in args.stages.split(",") if s]
    banner(
        "input", f"registries of {', '.join(map(str, sizes))} units; stages: {', '.join(stages)}"
    )
    log()
    log(
        f"{'units':>7} {'YAML MB':>8} {'stage':>6} {'seconds':>8} {'peak MB':>8} {'RSS MB/YAML MB':>15}"
    )
    with scratch("kttt-bench-input-", args.keep) as tmp:
        for n in sizes:
            path = tmp / f"registry-{n}.yaml"
            # Written by a child too: on Linux a child's ru_maxrss starts from its parent's RSS at
            # fork, so this process must stay small for the children's figures to be their own.
            subprocess.run([sys.executable, __file__, "--write", str(n), str(path)], check=True)
            size = path.stat().st_size / MB
            for stage in stages:
                r = measure(stage, path)
                grown = (r["peak_kb"] - r["base_kb"]) / 1024
                flag = "" if r["issues"] == 0 else f"  ({int(r['issues'])} issues!)"
                log(
                    f"{n:>7} {size:>8.2f} {stage:>6} {r['seconds']:>8.2f} "
                    f"{r['peak_kb'] / 1024:>8.0f} {grown / size:>15.1f}{flag}"
                )
    log()
    footer(started)


if __name__ == "__main__":
    main()
