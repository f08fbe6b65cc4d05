"""The ``kttt`` command line, as a coordinator uses it (CliRunner and a real subprocess).

Bad input through a real ``kttt`` process is in ``tests/e2e/test_cli_bad_input.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from kttt_workflow.cli import app
from kttt_workflow.service import Tracker
from tests.helpers import KTTT, cli, copy_fixtures, report_some


def test_validate_load_status_complete_verify_return(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    folder = copy_fixtures(tmp_path)
    code, out = cli("validate", str(folder), "--db", db)
    assert code == 0, out
    assert "Hợp lệ: 1 danh mục đơn vị, 1 văn bản, 6 nhiệm vụ." in out

    code, out = cli("load", str(folder), "--db", db, "--until", "2024-12-31")
    assert code == 0, out
    assert "kh-1-2022: 17 nhiệm vụ — thêm 17" in out
    code, out = cli("load", str(folder), "--db", db, "--until", "2024-12-31")
    assert "kh-1-2022: không có thay đổi (17 nhiệm vụ)." in out

    code, out = cli(
        "status", "--db", db, "--as-of", "2022-12-05", "--json", "--directive", "kh-1-2022"
    )
    assert code == 0, out
    rows = {r["task_id"]: r for r in json.loads(out)}
    ubnd = rows["kh-1-2022/1/x-ubnd"]
    for key in (
        "task_id",
        "directive",
        "unit",
        "title",
        "deadline_text",
        "due",
        "status",
        "days_overdue",
    ):
        assert key in ubnd
    assert (ubnd["status"], ubnd["days_overdue"], ubnd["due"]) == ("overdue", 5, "2022-11-30")
    assert ubnd["deadline_text"] == "trong tháng 11/2022"
    assert ubnd["status_label"] == "Chưa hoàn thành, quá hạn"

    code, out = cli("status", "--db", db, "--as-of", "05/12/2022", "--unit", "x-ubnd-a", "--json")
    assert {r["unit"] for r in json.loads(out)} == {"x-ubnd-a"}
    # Task 2 and the 2022 report; the 2023 and 2024 reports' periods have not begun yet.
    assert sorted(r["task_id"] for r in json.loads(out)) == [
        "kh-1-2022/2/x-ubnd-a",
        "kh-1-2022/3/x-ubnd-a@2022",
    ]
    code, out = cli("status", "--db", db, "--as-of", "2024-01-01", "--unit", "x-ubnd-a", "--json")
    assert len(json.loads(out)) == 4

    code, out = cli("status", "--db", db, "--as-of", "2022-12-05", "--status", "overdue")
    assert code == 0 and "Tình trạng nhiệm vụ tại ngày 05/12/2022" in out
    assert "Tổng: Chưa hoàn thành, quá hạn: 1 — trên 1 nhiệm vụ." in out

    code, out = cli(
        "complete",
        "kh-1-2022/1",
        "--unit",
        "x-ubnd",
        "--db",
        db,
        "--evidence",
        "Kế hoạch số 5/KH-UBND ngày 10/12/2022",
        "--on",
        "2022-12-10",
    )
    assert code == 0 and "chờ xác nhận" in out, out
    code, out = cli("verify", "kh-1-2022/1/x-ubnd", "--db", db, "--on", "2022-12-11")
    assert code == 0 and "kích hoạt 2 nhiệm vụ con" in out, out
    code, out = cli(
        "complete", "kh-1-2022/2/x-ubnd-a", "--db", db, "--evidence", "Công văn số 9/UBND-KT"
    )
    code, out = cli("return", "kh-1-2022/2/x-ubnd-a", "--db", db, "--reason", "Chưa đúng nội dung")
    assert code == 0 and "Chưa đúng nội dung" in out
    code, out = cli(
        "status", "--db", db, "--as-of", "2022-12-15", "--json", "--directive", "kh-1-2022"
    )
    rows = {r["task_id"]: r for r in json.loads(out)}
    assert rows["kh-1-2022/1/x-ubnd"]["status"] == "done_late"
    assert rows["kh-1-2022/1.1/x-so-tc"]["status"] == "on_track"
    assert rows["kh-1-2022/2/x-ubnd-a"]["report_state"] == "open"

    code, out = cli("history", "kh-1-2022/2/x-ubnd-a", "--db", db)
    events = [line.split(" ", 2)[2] for line in out.strip().splitlines()]
    assert [e.split(":")[0] for e in events] == ["tạo", "báo cáo hoàn thành", "trả lại báo cáo"]
    assert "lý do: Chưa đúng nội dung" in events[2] and "{" not in out  # words, not JSON

    code, out = cli("verify", "kh-1-2022/2/x-ubnd-a", "--db", db)
    assert code == 1 and "không có báo cáo hoàn thành nào đang chờ xác nhận" in out


def test_deadline_command() -> None:
    code, out = cli("deadline", "Quý IV/2013", "--json")
    assert code == 0
    d = json.loads(out)
    assert (d["kind"], d["nominal_due"], d["due"], d["text"]) == (
        "fixed",
        "2013-12-31",
        "2013-12-31",
        "Quý IV/2013",
    )
    code, out = cli("deadline", "31/01/2022", "--json")
    assert json.loads(out)["due"] == "2022-02-07"  # Tết: rolls to the next working day
    code, out = cli("deadline", "31/01/2022", "--json", "--no-roll")
    assert json.loads(out)["due"] == "2022-01-31"
    code, out = cli(
        "deadline",
        "Hàng năm, trước ngày 20 của tháng cuối kỳ báo cáo",
        "--issued",
        "2013-10-01",
        "--json",
    )
    occ = json.loads(out)["occurrences"]
    assert [o["period"] for o in occ] == ["2013", "2014", "2015", "2016"]
    assert occ[0]["nominal_due"] == "2013-12-19"
    code, out = cli("deadline", "Thường xuyên")
    assert code == 0 and "ongoing" in out
    code, out = cli("deadline", "Quý V/2013")
    assert code == 1 and "Quý V/2013" in out and "Quý IV/2013" in out  # names the text, lists forms


def test_validate_reports_file_line_col_and_exit_1(tmp_path: Path) -> None:
    folder = copy_fixtures(tmp_path)
    plan = folder / "plan.yaml"
    plan.write_text(
        plan.read_text(encoding="utf-8").replace("deadline: Quý IV/2022", "deadline: Quý V/2022"),
        encoding="utf-8",
    )
    line = next(
        i
        for i, s in enumerate(plan.read_text(encoding="utf-8").splitlines(), 1)
        if "Quý V/2022" in s
    )
    code, out = cli("validate", str(folder), "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert code == 1
    assert f"{plan}:{line}:15: Thời hạn" in out
    assert "không có gì được ghi" in out


def test_real_subprocess_entry_point(tmp_path: Path) -> None:
    env = {**os.environ, "KTTT_HOME": str(tmp_path / "home")}
    env.pop("KTTT_DATABASE_URL", None)
    folder = copy_fixtures(tmp_path)
    r = subprocess.run(
        [str(KTTT), "load", str(folder)], capture_output=True, text=True, env=env, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "home" / "kttt.db").exists()  # the default store lives in $KTTT_HOME
    r = subprocess.run(
        [str(KTTT), "status", "--json", "--as-of", "2022-12-05"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert any(t["status"] == "overdue" for t in json.loads(r.stdout))


def test_kttt_report_cli(sqlite_store: Tracker, tmp_path: Path) -> None:
    url = report_some(sqlite_store, tmp_path).url
    runner = CliRunner()
    res = runner.invoke(
        app, ["report", "--db", url, "--directive", "kh-1-2022", "--as-of", "16/01/2023", "--json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["directives"][0]["counts"]["overdue"] == 7
    res = runner.invoke(app, ["report", "--db", url, "--as-of", "2023-01-16", "--markdown"])
    assert res.exit_code == 0 and res.output.startswith("# Báo cáo tình hình thực hiện")
    res = runner.invoke(app, ["report", "--db", url, "--as-of", "2023-01-16"])
    assert res.exit_code == 0 and "UBND huyện A" in res.output and "Cộng" in res.output
    res = runner.invoke(app, ["report", "--db", url, "--directive", "khong-co"])
    assert res.exit_code == 1


def test_sweep_skips_days_off_like_the_flow_unless_forced(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"KTTT_HOME": str(tmp_path / "home")}
    code, out = cli("load", str(copy_fixtures(tmp_path)), "--db", db, "--until", "2024-12-31")
    assert code == 0, out
    code, out = cli("sweep", "--as-of", "2022-12-04", "--db", db, env=env)  # a Sunday
    assert code == 0, out
    assert "04/12/2022 là ngày nghỉ: không quét (dùng --force để quét)." in out
    assert not (tmp_path / "home" / "mail").exists()
    code, out = cli("deliveries", "--db", db, "--json")
    assert json.loads(out) == []
    code, out = cli("sweep", "--as-of", "2022-12-04", "--force", "--db", db, env=env)
    assert code == 0, out
    assert "Quét tại ngày 04/12/2022:" in out and "bản tổng hợp" in out
    code, out = cli("deliveries", "--db", db, "--json")
    assert {d["as_of"] for d in json.loads(out)} == {"2022-12-04"}


def test_status_rejects_an_unknown_status_name(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    code, out = cli("status", "--status", "late", "--db", db)
    assert code == 1
    assert "Lỗi: tình trạng 'late' không hợp lệ; cần một trong: pending, on_track, overdue" in out
