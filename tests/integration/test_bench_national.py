"""``bench/bench_national.py`` at a small size, so that the national scenario keeps working: its
files load (a real registry and directive in YAML), the sweeps of its months record notices and
digests, and its reports count every instance, the country's and one province's. The figures at
full size are in bench/README.md ("National scenario"); here only what the bench says it did."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_national_scenario_at_a_small_size_loads_sweeps_and_reports() -> None:
    # 2 provinces × (UBND + 2 departments) + 6 communes = 12 units; 2 quarterly tasks, 2 years.
    args = ["--db", "sqlite", "--provinces", "2", "--communes", "6", "--departments", "2",
            "--tasks", "2", "--years", "2", "--sweep-days", "120", "--repeat", "1"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_national.py"), *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "= 192 task instances" in out  # 12 units × 2 tasks × 8 quarters
    assert "192 tasks (expected 192)" in out
    sweeps = re.search(r"sweeps: (\d+) working days .* ([\d,]+) notices, ([\d,]+) digests", out)
    assert sweeps, out
    days, notices, digests = (int(x.replace(",", "")) for x in sweeps.groups())
    # 05/01 → 04/05/2026: the Q1 instances are due 16/03 and nobody reports, so every unit is
    # reminded, told the day has come and urged; the first days of May are not swept.
    assert 70 <= days <= 90
    assert notices >= 12 * 2 * 3 and digests >= 12
    # The national report counts all 192 instances as of the horizon, 96 as of 31/12/2026;
    # a province (its UBND, departments and communes) half of each.
    assert "report (all): 192 tasks counted" in out
    assert "report (year): 96 tasks counted" in out
    assert "province (all): 96 tasks counted" in out
    assert "province (year): 48 tasks counted" in out
    assert "chart (year): 12 points of % done of the tasks due" in out  # the last 11 sweeps + 31/12
