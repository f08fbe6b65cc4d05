"""The wheel stands alone: built with uv and installed into a fresh virtual environment outside the
checkout, ``kttt`` runs the engine's commands on a copy of ``directives/`` from another folder, the
demo from its own package data, the flows of its ``prefect.yaml``, and says in Vietnamese what it
needs when a project folder has none."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from kttt_workflow.orchestration.stack import Stack
from tests.helpers import DIRECTIVES, ROOT

UV = ROOT / ".venv-uv" / ("Scripts" if os.name == "nt" else "bin") / "uv"
BIN = "Scripts" if os.name == "nt" else "bin"

pytestmark = pytest.mark.slow


def _run(cmd: list[str | Path], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, check=True, timeout=600, **kw
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not UV.exists():
        pytest.skip(f"uv is not installed in {UV.parent.parent.name}/ (python3 dev.py installs it)")
    dist = tmp_path_factory.mktemp("dist")
    _run([UV, "build", "--wheel", "--out-dir", dist, ROOT])
    [found] = dist.glob("kttt_workflow-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment with the locked dependencies and the wheel (no checkout on its path)."""
    base = tmp_path_factory.mktemp("venv")
    env_dir = base / "venv"
    _run([UV, "venv", "--quiet", env_dir, "--python", sys.executable])
    req = base / "requirements.txt"
    _run(
        [
            UV,
            "export",
            "--frozen",
            "--no-dev",
            "--no-hashes",
            "--no-emit-project",
            "--quiet",
            "-o",
            req,
        ],
        cwd=ROOT,
    )
    python = env_dir / BIN / "python"
    _run([UV, "pip", "install", "--quiet", "--python", python, "--no-deps", "-r", req, wheel])
    return env_dir


def _kttt(
    venv: Path, cwd: Path, home: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """``kttt`` of the installed wheel, run from ``cwd``, with nothing of the checkout around."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KTTT_", "PREFECT_", "VIRTUAL_ENV", "PYTHON", "UV_"))
    }
    clean.update({"KTTT_HOME": str(home), "COLUMNS": "200", **env})
    return subprocess.run(
        [str(venv / BIN / "kttt"), *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_wheel_carries_the_package_its_data_and_the_project_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "kttt_workflow/service.py",
        "kttt_workflow/data/calendar_overrides.yaml",
        "kttt_workflow/data/default_policy.yaml",
        "kttt_workflow/store/migrations/versions/0001_initial_schema.py",
        "kttt_workflow/project/prefect.yaml",
        "kttt_workflow/project/flows/daily_sweep.py",
        "kttt_workflow/project/automations/key-task-overdue.yaml",
        "kttt_workflow/project/directives/ctr-nq20-2022.yaml",
        "kttt_workflow/project/directives/units/bac-giang-2022.yaml",
    ):
        assert needed in names, needed
    assert not [n for n in names if n.startswith("tests/") or "/tests/" in n]


def test_engine_commands_run_from_any_folder(venv: Path, tmp_path: Path) -> None:
    work = tmp_path / "office"
    shutil.copytree(DIRECTIVES, work / "directives")
    home = tmp_path / "home"

    r = _kttt(venv, work, home, "validate", "directives")
    assert r.returncode == 0, r.stderr
    assert "Hợp lệ: 5 danh mục đơn vị, 6 văn bản" in r.stdout

    r = _kttt(venv, work, home, "load", "directives", "--until", "2026-12-31")
    assert r.returncode == 0, r.stderr
    assert "ctr-nq20-2022: 24 nhiệm vụ — thêm 24" in r.stdout
    assert (home / "kttt.db").exists()  # the embedded default store, in $KTTT_HOME

    r = _kttt(venv, work, home, "status", "--as-of", "2022-12-05", "--status", "overdue", "--json")
    assert r.returncode == 0, r.stderr
    overdue = {t["task_id"]: t for t in json.loads(r.stdout)}
    assert overdue["ctr-nq20-2022/IV.1/bg-bcsd-ubnd"]["days_overdue"] == 5

    r = _kttt(venv, work, home, "sweep", "--as-of", "2022-12-05")
    assert r.returncode == 0, r.stderr
    assert "Quét tại ngày 05/12/2022:" in r.stdout
    assert list((home / "mail" / "bg-bcsd-ubnd" / "new").iterdir())  # the digest, in its mailbox

    r = _kttt(venv, work, home, "sweep", "--as-of", "2022-12-04")  # a Sunday
    assert r.returncode == 0, r.stderr
    assert "04/12/2022 là ngày nghỉ: không quét" in r.stdout

    r = _kttt(
        venv,
        work,
        home,
        "report",
        "--as-of",
        "2022-12-05",
        "--directive",
        "ctr-nq20-2022",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    [row] = json.loads(r.stdout)["directives"]
    # 24 tasks: the 22 of the programme's assignments and seed 002's 2030 and 2045 targets.
    assert (row["total"], row["due"], row["counts"]["overdue"]) == (24, 1, 1)

    r = _kttt(venv, work, home, "deadline", "trước ngày 25/10/2021")
    assert r.returncode == 0, r.stderr
    assert "Hạn: 24/10/2021 (rơi vào ngày nghỉ, chuyển sang 25/10/2021)" in r.stdout


def test_demo_runs_on_the_directives_shipped_in_the_wheel(venv: Path, tmp_path: Path) -> None:
    r = _kttt(venv, tmp_path, tmp_path / "home", "demo", "--no-prefect")
    assert r.returncode == 0, r.stderr
    assert "Nạp danh mục: 91 đơn vị, 10 nhóm." in r.stdout
    assert "Nạp lại cùng tệp: không có thay đổi." in r.stdout
    assert "quá hạn 5 ngày" in r.stdout.replace("\n", " ")


def test_demo_finds_the_flows_of_its_prefect_yaml(
    venv: Path, tmp_path: Path, prefect_stack: Stack
) -> None:
    """The Prefect part of the demo, from the wheel: flows loaded from the shipped entrypoints."""
    r = _kttt(
        venv,
        tmp_path,
        tmp_path / "home",
        "demo",
        PREFECT_API_URL=prefect_stack.api_url,
        PREFECT_HOME=str(tmp_path / "prefect-client"),
    )
    assert r.returncode == 0, r.stderr
    assert "[Completed] Nạp văn bản chỉ đạo" in r.stdout  # load-directive, named in Vietnamese
    assert "[Completed] Quét ngày 06/02/2023: " in r.stdout  # daily-sweep
    assert "23/01/2023 là ngày nghỉ" in r.stdout  # Tết: the sweep skipped
    assert f"Giao diện Prefect: {prefect_stack.ui_url}" in r.stdout


def test_serve_says_what_it_needs_without_a_project(venv: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    r = _kttt(venv, tmp_path, tmp_path / "home", "serve", KTTT_PROJECT_DIR=str(empty))
    assert r.returncode == 1
    assert "Lỗi: không tìm thấy tệp" in r.stderr and "prefect.yaml" in r.stderr
    assert "KTTT_PROJECT_DIR" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "home" / "prefect").exists()  # no server was started
