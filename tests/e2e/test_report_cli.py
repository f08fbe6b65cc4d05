"""``kttt report`` and ``kttt import-progress`` as a coordinator runs them: the files they write
are opened again (python-docx, openpyxl) and the store is read back; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from kttt_workflow.service import Tracker
from tests.helpers import DIRECTIVES, HORIZON, cli, db_url, report_some

SEED_004 = "trước ngày 20 của tháng cuối kỳ báo cáo"


@pytest.fixture
def reported(store: Tracker, tmp_path: Path) -> Tracker:
    return report_some(store, tmp_path)


def test_report_as_docx_xlsx_md_and_json(reported: Tracker, tmp_path: Path) -> None:
    db = db_url(reported)
    docx = tmp_path / "bc.docx"
    code, out = cli("report", "--db", db, "--directive", "kh-1-2022", "--as-of", "16/01/2023",
                    "-o", str(docx), "--issuer", "x-so-khdt", "--place", "Tỉnh X")  # fmt: skip
    assert code == 0, out
    assert f"Đã ghi {docx}" in out and "Số liệu tính đến hết ngày 16/01/2023." in out
    doc = Document(str(docx))
    text = [p.text for p in doc.paragraphs]
    assert "BÁO CÁO" in text and "Phụ lục I" in text
    assert doc.tables[0].cell(1, 1).text == "Tỉnh X, ngày … tháng … năm …"

    xlsx = tmp_path / "bc.xlsx"
    code, out = cli("report", "--db", db, "--directive", "kh-1-2022", "--as-of", "2023-01-16",
                    "--format", "xlsx", "-o", str(xlsx))  # fmt: skip
    assert code == 0, out
    rows = list(load_workbook(xlsx, read_only=True)["Phụ lục"].values)
    assert rows[3][-1] == "Mã nhiệm vụ"
    assert sum(1 for r in rows[4:] if len(r) == 13 and r[12]) == 14

    md = tmp_path / "bc.md"
    code, out = cli("report", "--db", db, "--as-of", "2023-01-16", "-f", "md", "-o", str(md))
    assert code == 0, out
    assert "Tổng số nhiệm vụ được giao: **14**" in md.read_text(encoding="utf-8")
    code, out = cli("report", "--db", db, "--as-of", "2023-01-16", "--format", "json",
                    "--unit", "x-ubnd-a")  # fmt: skip
    assert code == 0, out
    data = json.loads(out)
    assert data["unit"] == "x-ubnd-a" and data["total"]["total"] == 3
    assert data["total"]["overdue_by_age"]["Đến 30 ngày"] == 2
    # The province and every unit under it: the whole of this one-province registry.
    code, out = cli("report", "--db", db, "--as-of", "2023-01-16", "--format", "json",
                    "--within", "x-ubnd")  # fmt: skip
    assert code == 0, out
    data = json.loads(out)
    assert data["within"] == "x-ubnd" and data["total"]["total"] == 14


def test_report_for_a_period_writes_its_default_file_name(
    store: Tracker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.load([DIRECTIVES], until=HORIZON)
    monkeypatch.chdir(tmp_path)
    code, out = cli("report", "--db", db_url(store), "--directive", "kh-67-2013", "--period",
                    "2022-Q4", "--regime", SEED_004, "--level", "huyen", "-f", "docx")  # fmt: skip
    assert code == 0, out
    path = tmp_path / "bao-cao-kh-67-2013-huyen-2022-q4.docx"
    assert path.is_file(), os.listdir(tmp_path)
    text = [p.text for p in Document(str(path)).paragraphs]
    assert any("thời hạn gửi báo cáo: 19/12/2022 (trước ngày 20" in p for p in text)
    assert any(p.startswith("Tình hình thực hiện Kế hoạch số 67/KH-UBND") and
               p.endswith(", cấp huyện quý IV năm 2022") for p in text)  # fmt: skip


@pytest.mark.parametrize(
    "args,said",
    [
        (("--period", "2022-Q5"), "kỳ báo cáo '2022-Q5' không hợp lệ: quý phải từ 1 đến 4"),
        (("--period", "2022-Q4", "--as-of", "2022-12-01"), "chỉ chọn một trong ngày tính"),
        (("--format", "pdf"), "định dạng 'pdf' không hợp lệ"),
        (("-o", "x.txt"), "không biết định dạng của tệp x.txt"),
        (("--level", "huyn"), "không có cấp mã 'huyn'"),
        (("--within", "x-ubnd-z"), "không có đơn vị mã 'x-ubnd-z'"),
        (("--regime", "hằng tuần", "--period", "2022"), "thời hạn gửi báo cáo 'hằng tuần'"),
    ],
)
def test_report_refuses_bad_options_in_vietnamese(
    reported: Tracker, args: tuple[str, ...], said: str
) -> None:
    code, out = cli("report", "--db", db_url(reported), *args)
    assert code != 0 and said in out, out


def test_import_progress_records_a_returned_sheet_or_nothing(
    reported: Tracker, tmp_path: Path
) -> None:
    db = db_url(reported)
    sent = tmp_path / "gui.xlsx"
    code, out = cli("report", "--db", db, "--directive", "kh-1-2022", "--as-of", "2023-01-16",
                    "-o", str(sent))  # fmt: skip
    assert code == 0, out
    wb = load_workbook(sent)
    ws = wb["Phụ lục"]
    rows = {row[12].value: row for row in ws.iter_rows(min_row=5) if row[12].value}
    good = rows["kh-1-2022/1.1/x-so-khdt"]
    good[7].value, good[9].value = "Đã hoàn thành", datetime(2023, 1, 10)
    good[10].value = "Kế hoạch số 12/KH-SKHĐT ngày 10/01/2023"
    bad = rows["kh-1-2022/2/x-ubnd-b"]
    bad[7].value = "Đã hoàn thành"  # no evidence
    wrong = tmp_path / "sai.xlsx"
    wb.save(wrong)
    code, out = cli("import-progress", str(wrong), "--db", db)
    assert code == 1
    assert f"{wrong}:{bad[0].row}:11: trang «Phụ lục», ô K{bad[0].row}" in out
    assert "cần ghi minh chứng" in out and "không có gì được ghi vào cơ sở dữ liệu" in out
    assert (
        reported.status(as_of=date(2023, 1, 20), task_ids=["kh-1-2022/1.1/x-so-khdt"])[
            0
        ].status_label
        == "Chưa hoàn thành, quá hạn"
    )

    bad[7].value = "Chưa hoàn thành, quá hạn"
    fixed = tmp_path / "dung.xlsx"
    wb.save(fixed)
    code, out = cli("import-progress", str(fixed), "--db", db)
    assert code == 0, out
    assert "Đã ghi nhận báo cáo hoàn thành (chờ xác nhận): kh-1-2022/1.1/x-so-khdt" in out
    assert "1 báo cáo hoàn thành được ghi nhận" in out
    [t] = reported.status(as_of=date(2023, 1, 20), task_ids=["kh-1-2022/1.1/x-so-khdt"])
    assert t.status_label == "Đã báo cáo, chờ xác nhận"
    # The same sheet again: the task is already reported, nothing is recorded twice.
    code, out = cli("import-progress", str(fixed), "--db", db)
    assert code == 0 and "Giữ nguyên kh-1-2022/1.1/x-so-khdt: đã báo cáo" in out


def test_import_progress_refuses_a_file_that_is_not_a_tracking_sheet(
    reported: Tracker, tmp_path: Path
) -> None:
    doc = tmp_path / "ke-hoach.xls"
    doc.write_bytes(b"\xd0\xcf\x11\xe0 an old Excel file")
    code, out = cli("import-progress", str(doc), "--db", db_url(reported))
    assert code == 1 and f"{doc}:0:0: không phải tệp Excel .xlsx" in out
    from openpyxl import Workbook

    other = tmp_path / "khac.xlsx"
    wb = Workbook()
    wb.active.title = "Trang 1"
    wb.save(other)
    code, out = cli("import-progress", str(other), "--db", db_url(reported))
    assert code == 1 and "không có trang «Phụ lục» (các trang có: Trang 1)" in out
