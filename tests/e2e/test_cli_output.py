"""What a piped ``kttt`` prints: tables keep their columns (no 80-column fold), ``--json`` parses.

The console script runs in a child process with its output on a real pipe, as in
``kttt status | grep …`` or a CI log.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.helpers import KTTT, copy_fixtures


def _run(home: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update({"KTTT_HOME": str(home), "KTTT_LOCAL_MAILBOX": "1", "NO_COLOR": "1"})
    env.pop("KTTT_DATABASE_URL", None)
    r = subprocess.run(
        [str(KTTT), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_piped_tables_keep_full_task_ids_and_json_parses(tmp_path: Path) -> None:
    home = tmp_path / "home"
    folder = copy_fixtures(tmp_path)
    _run(home, "load", str(folder))
    rows = json.loads(_run(home, "status", "--as-of", "2023-01-18", "--json"))
    ids = [r["task_id"] for r in rows]
    assert len(ids) > 5 and any(len(i) > 20 for i in ids)

    table = _run(home, "status", "--as-of", "2023-01-18")
    lines = table.splitlines()
    for task_id in ids:  # every id whole, on one row with its lead and its status
        [row] = [ln for ln in lines if task_id in ln.split()]
        status = next(r["status_label"] for r in rows if r["task_id"] == task_id)
        assert status in row, (task_id, row)
    assert max(len(ln) for ln in lines) > 80  # not folded to 80 columns

    _run(home, "sweep", "--as-of", "2023-01-18")
    deliveries = json.loads(_run(home, "deliveries", "--json"))
    assert deliveries and {d["status"] for d in deliveries} == {"local"}
    listed = _run(home, "deliveries")
    for d in deliveries:
        assert any(d["unit"] in ln and d["status"] in ln for ln in listed.splitlines())
    report = json.loads(_run(home, "report", "--as-of", "2023-01-18", "--json"))
    assert report
    cov = _run(home, "coverage", "kh-1-2022", "--json")
    json.loads(cov)
    json.loads(_run(home, "targets", "--as-of", "2023-01-18", "--json"))
