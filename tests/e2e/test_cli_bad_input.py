"""Bad input through the installed ``kttt`` script, in a real process: an object-constructing YAML
tag is an error (never executed, nothing written), and an alias bomb is rejected quickly under a
memory cap. The same inputs through the library and CliRunner: ``tests/integration/test_bad_input.py``.
"""

from __future__ import annotations

import os
import resource
import subprocess
from pathlib import Path

import pytest

from kttt_workflow.service import Tracker
from tests.helpers import (
    HORIZON,
    KTTT,
    PLAN_PATH,
    UNITS_PATH,
    at,
    db_url,
    snapshot,
    tag_files,
    write,
)


def test_real_cli_subprocess_rejects_tag_and_writes_nothing(
    sqlite_store: Tracker, tmp_path: Path
) -> None:
    """Once through the installed ``kttt`` script, in a real process."""
    sqlite_store.load([UNITS_PATH, PLAN_PATH], until=HORIZON)
    marker = tmp_path / "HACKED"
    paths = write(tmp_path / "in", tag_files(marker)["os-system"])
    line, col = at(paths[0].read_text(encoding="utf-8"), "!!python/object/apply:os.system")
    before = snapshot(sqlite_store)
    proc = subprocess.run(
        [
            str(KTTT),
            "load",
            str(paths[0]),
            "--db",
            db_url(sqlite_store),
            "--until",
            HORIZON.isoformat(),
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env={**os.environ, "KTTT_HOME": str(tmp_path / "home"), "NO_COLOR": "1"},
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"{paths[0]}:{line}:{col}:" in proc.stderr, proc.stderr
    assert "thẻ YAML" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not marker.exists()
    assert snapshot(sqlite_store) == before


def _limit_memory() -> None:  # pragma: no cover - runs in the child process
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def _validate_capped(path: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KTTT), "validate", str(path), "--db", f"sqlite:///{tmp_path / 'v.db'}"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=30,
        preexec_fn=_limit_memory,
        env={**os.environ, "KTTT_HOME": str(tmp_path / "home")},
    )


def test_alias_bomb_is_rejected_quickly(tmp_path: Path) -> None:
    """'Billion laughs': 300 bytes of nested aliases must not cost minutes and gigabytes.

    Run in a child process with a 2 GiB address-space cap and a 30 s limit, so that a regression
    cannot hurt the machine running the tests. A control run shows the cap itself is harmless.
    """
    control = _validate_capped(UNITS_PATH, tmp_path)
    assert control.returncode == 0, control.stderr[-2000:]

    lines = ["kind: directive", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        proc = _validate_capped(bomb, tmp_path)
    except subprocess.TimeoutExpired:
        pytest.fail("validating a 300-byte alias bomb took more than 30 s")
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode} (2 GiB memory cap reached?)"
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "MemoryError" not in proc.stderr, proc.stderr[-2000:]
    assert f"{bomb}:" in proc.stderr
