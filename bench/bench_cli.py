"""Benchmark: the CLI's cold start, against starting the bare interpreter (the floor).

Usage::

    .venv/bin/python bench/bench_cli.py [--runs 10] [--goal 0.5] [--keep]

With the interpreter that runs this script (``sys.executable``, the project's ``.venv``) and the
``kttt`` console script next to it, it measures the wall time of a whole process, from start to
exit, of:

* ``kttt --help``
* ``kttt deadline "Quý IV/2013"`` (explains a deadline: no store is opened)
* ``python -c pass`` (the floor: what any Python command pays before its first import)

Each command runs once as a warm-up, then ``--runs`` times, interleaved (A B C A B C …), so that a
change in the machine's load touches all three alike. Every run uses the same ``KTTT_HOME``, a
temporary folder made by the script: what a user sees on the second run (any cache the CLI keeps in
``$KTTT_HOME`` is warm after the warm-up). Each command's median, min and max are printed with its
ratio to the floor and whether the median is under the goal (``--goal`` seconds). Last, once,
``python -X importtime`` of ``kttt deadline``: its ten largest imports by cumulative time.

Standard library only (``subprocess``, ``time.perf_counter``). See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from _common import ROOT, banner, fmt, log, median, scratch

GOAL = 0.5  # seconds: what each of the two commands should stay under (a target, not a result)
DEADLINE = "Quý IV/2013"
FLOOR = "python -c pass"
IMPORTTIME = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S.*)$")


@dataclass(frozen=True)
class Import:
    name: str
    depth: int  # 0: imported by the program itself; 1: by a depth-0 module; …
    self_us: int
    cumulative_us: int
    parent: str | None  # the module whose import imported it; None: top level (the script, or
    # an import run inside a function after start-up)


def commands(python: Path, kttt: Path) -> dict[str, list[str]]:
    return {
        "kttt --help": [str(kttt), "--help"],
        f'kttt deadline "{DEADLINE}"': [str(kttt), "deadline", DEADLINE],
        FLOOR: [str(python), "-c", "pass"],
    }


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    """Wall time of one process, start to exit; its stderr. A failing command stops the bench."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True)
    sec = time.perf_counter() - t0
    if p.returncode != 0 or (cmd[-1] != "pass" and not p.stdout.strip()):
        tail = p.stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise SystemExit(f"{' '.join(cmd)} failed (exit {p.returncode}): " + " / ".join(tail))
    return sec, p.stderr.decode(errors="replace")


def parse_importtime(stderr: str) -> list[Import]:
    """The lines ``import time: self | cumulative | name`` of ``python -X importtime``.

    A module is printed after everything its import imported, one level deeper: read backwards,
    the parent of a line is the last line seen one level up.
    """
    rows = []
    for line in stderr.splitlines():
        m = IMPORTTIME.match(line)
        if m:
            self_us, cum_us, indent, name = m.groups()
            rows.append((name, (len(indent) - 1) // 2, int(self_us), int(cum_us)))
    out: list[Import] = []
    last_at: dict[int, str] = {}
    for name, depth, self_us, cum_us in reversed(rows):
        last_at[depth] = name
        out.append(Import(name, depth, self_us, cum_us, last_at.get(depth - 1)))
    return out[::-1]


def _shown(path: Path) -> str:
    """A path as the report prints it: relative to the project when inside it (no machine path)."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return path.name


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10, help="timed runs of each command (default 10)")
    ap.add_argument(
        "--goal", type=float, default=GOAL, help=f"seconds each command should stay under ({GOAL})"
    )
    ap.add_argument("--top", type=int, default=10, help="imports listed by cumulative time (10)")
    ap.add_argument("--keep", action="store_true", help="keep the KTTT_HOME folder")
    args = ap.parse_args(argv)
    if args.runs < 1 or args.goal <= 0 or args.top < 1:
        ap.error("--runs, --goal and --top must be positive")

    python = Path(sys.executable)  # not resolved: a venv's python is a link to the base one
    kttt = python.with_name("kttt")
    if not kttt.is_file():
        ap.error(f"no kttt console script next to {python}: run this with the project's .venv")
    cmds = commands(python, kttt)
    with scratch("kttt-bench-cli-", args.keep) as home:
        env = {**os.environ, "KTTT_HOME": str(home)}
        banner(
            "CLI start-up",
            f"interpreter {_shown(python)}, console script {_shown(kttt)}",
            "KTTT_HOME: a new temporary folder (one for every run); cwd: that folder; stdout and "
            f"stderr piped; {args.runs} runs of each command, interleaved, after one warm-up each",
        )
        warm = {name: run(cmd, env, home)[0] for name, cmd in cmds.items()}
        log("  warm-up: " + ", ".join(f"{name} {sec:.3f}s" for name, sec in warm.items()))
        times: dict[str, list[float]] = {name: [] for name in cmds}
        for _ in range(args.runs):
            for name, cmd in cmds.items():
                times[name].append(run(cmd, env, home)[0])
        cached = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
        log(f"  KTTT_HOME after the runs: {', '.join(cached) if cached else 'empty'}")

        floor = median(times[FLOOR])
        log("")
        log(f"seconds, wall time of the whole process (median / min / max over {args.runs} runs)")
        log(
            f"{'command':<30}{'median':>8} {'min':>8} {'max':>8} {'vs floor':>9}   "
            f"under {args.goal:g} s"
        )
        for name, xs in times.items():
            if name == FLOOR:
                log(f"{name:<30}{fmt(xs, digits=3)}   (floor)")
                continue
            under = "yes" if median(xs) < args.goal else "NO"
            log(f"{name:<30}{fmt(xs, digits=3)} {median(xs) / floor:8.1f}x   {under}")
        for name, xs in times.items():
            if name != FLOOR:
                log(
                    f"{name}: median {median(xs):.3f} s, {median(xs) / floor:.1f}x {FLOOR} "
                    f"({floor:.3f} s), {median(xs) - floor:.3f} s above it; under the goal of "
                    f"{args.goal:g} s: {'yes' if median(xs) < args.goal else 'no'}"
                )

        deadline_name = next(n for n in cmds if n.startswith("kttt deadline"))
        cmd = [str(python), "-X", "importtime", str(kttt), *cmds[deadline_name][1:]]
        sec, stderr = run(cmd, env, home)
        imports = parse_importtime(stderr)
        total = sum(i.cumulative_us for i in imports if i.depth == 0)
        log("")
        log(
            f"python -X importtime {kttt.name} deadline: {len(imports)} modules imported, "
            f"{total / 1000:.1f} ms in imports (sum of the top-level cumulative times; this run "
            f"took {sec:.3f} s with importtime's own overhead)"
        )
        log(f"top {args.top} by cumulative time (share: of the time in imports)")
        log(f"  {'cumulative':>10} {'self':>8} {'share':>6}  {'module':<36} imported by")
        for i in sorted(imports, key=lambda i: i.cumulative_us, reverse=True)[: args.top]:
            log(
                f"  {i.cumulative_us / 1000:8.1f}ms {i.self_us / 1000:6.1f}ms "
                f"{i.cumulative_us / total:6.0%}  {i.name:<36} {i.parent or '(top level)'}"
            )
        return 0


if __name__ == "__main__":
    sys.exit(main())
