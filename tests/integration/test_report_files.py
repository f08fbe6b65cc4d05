"""The report as the files an office sends: the .docx (Nghị định 30/2020/NĐ-CP, Phụ lục I) and
the .xlsx tracking sheet, opened again with python-docx and openpyxl and read cell by cell; the
sheet sent back with completions filled in (``Tracker.record_completions``); and, where
LibreOffice is installed, both converted to PDF and read with ``pdftotext``.

Every test runs on SQLite and on PostgreSQL (``KTTT_TEST_DATABASE_URL``), except the PDF ones
(the files do not depend on the store)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Length, Pt
from openpyxl import load_workbook

from kttt_workflow.errors import InputError
from kttt_workflow.reports.readback import read_sheet
from kttt_workflow.service import Tracker
from tests.helpers import DIRECTIVES, HORIZON, report_some

AS_OF = date(2023, 1, 16)
APPENDIX_HEAD = ["STT", "Nội dung nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Sản phẩm",
                 "Thời hạn", "Tình trạng", "Ghi chú"]  # fmt: skip
SEED_004 = "trước ngày 20 của tháng cuối kỳ báo cáo"


@pytest.fixture
def reported(store: Tracker, tmp_path: Path) -> Tracker:
    return report_some(store, tmp_path)


def mm(*lengths: Any) -> tuple[int, ...]:
    """Lengths in whole millimetres (Word stores twentieths of a point)."""
    return tuple(round(Length(x).mm) for x in lengths)


def _texts(doc: Any) -> list[str]:
    return [p.text for p in doc.paragraphs]


def _cells(table: Any) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def _sheet_rows(path: Path, sheet: str) -> list[tuple[Any, ...]]:
    wb = load_workbook(path, read_only=True)
    try:
        return [tuple(r) for r in wb[sheet].values]
    finally:
        wb.close()


# --------------------------------------------------------------------------------------------------
# .docx
# --------------------------------------------------------------------------------------------------
def test_docx_has_the_layout_of_decree_30(reported: Tracker, tmp_path: Path) -> None:
    r = reported.progress(as_of=AS_OF, directive="kh-1-2022")
    path = reported.write_report(
        r, tmp_path / "bc.docx", "docx", issuer="x-so-khdt", place="Tỉnh X", dated=date(2023, 1, 17)
    )
    doc = Document(str(path))
    body, appendix = doc.sections[0], doc.sections[-1]
    # A4 portrait, margins top/bottom 20 mm, left 30, right 15; the appendix in landscape.
    assert mm(body.page_width, body.page_height) == (210, 297)
    assert body.orientation == WD_ORIENT.PORTRAIT
    assert mm(body.top_margin, body.bottom_margin, body.left_margin, body.right_margin) == (
        20, 20, 30, 15)  # fmt: skip
    assert appendix.orientation == WD_ORIENT.LANDSCAPE
    assert mm(appendix.page_width, appendix.page_height) == (297, 210)
    normal = doc.styles["Normal"].font
    assert normal.name == "Times New Roman" and normal.size == Pt(14)

    # The heading block: issuing body (its superior above) left, the national motto right.
    head = _cells(doc.tables[0])
    assert head[0][0].split("\n") == ["ỦY BAN NHÂN DÂN TỈNH X", "SỞ KẾ HOẠCH VÀ ĐẦU TƯ", ""]
    assert head[0][1].split("\n")[:2] == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]  # fmt: skip
    assert head[1] == ["Số: …/BC-…", "Tỉnh X, ngày 17 tháng 01 năm 2023"]

    text = _texts(doc)
    title = text.index("BÁO CÁO")
    assert (
        text[title + 1]
        == "Tình hình thực hiện Kế hoạch số 1/KH-UBND ngày 03/10/2022 của Ủy ban nhân dân tỉnh X"
    )
    for heading in ("I. KẾT QUẢ THỰC HIỆN", "II. TỒN TẠI, HẠN CHẾ", "III. ĐỀ XUẤT, KIẾN NGHỊ"):
        assert heading in text
    assert "Số liệu tính đến hết ngày 16/01/2023." in text
    # The summary: both denominators named.
    done = next(p for p in text if p.startswith("Đã hoàn thành: "))
    assert done == (
        "Đã hoàn thành: 2 nhiệm vụ (đúng hạn 1, quá hạn 1); đạt 22,2% số nhiệm vụ đến hạn "
        "(2/9) và 14,3% tổng số nhiệm vụ được giao (2/14)."
    )
    assert any(
        p.startswith(
            "Chưa hoàn thành: trong hạn 3; quá hạn 7, bằng 77,8% số nhiệm vụ đến hạn (7/9)"
        )
        for p in text
    )
    assert "Không tính là quá hạn: thường xuyên: 1; chờ xác định thời hạn: 1." in text
    # Every count table ends with "Cộng".
    counts = [t for t in doc.tables if _cells(t)[0][:2] == ["STT", "Đơn vị / văn bản"]]
    assert len(counts) == 2  # by unit, by level
    for t in counts:
        last = _cells(t)[-1]
        assert last[1] == "Cộng" and last[2:5] == ["14", "9", "1"]

    # "Nơi nhận" and the signature block.
    closing = next(t for t in doc.tables if _cells(t)[0][0].startswith("Nơi nhận:"))
    assert "- Lưu: VT." in _cells(closing)[0][0].split("\n")

    # Phụ lục I: the plan's tasks with the official columns, the header row repeated.
    assert "Phụ lục I" in text and "TÌNH HÌNH THỰC HIỆN CÁC NHIỆM VỤ" in text
    plan = next(t for t in doc.tables if _cells(t)[0] == APPENDIX_HEAD)
    assert plan.rows[0]._tr.find(qn("w:trPr")).find(qn("w:tblHeader")) is not None
    rows = {r[0]: r for r in _cells(plan)[2:]}
    assert rows["1"][1] == "UBND tỉnh ban hành Kế hoạch"
    assert rows["1"][6] == "Đã hoàn thành, quá hạn 2 ngày"
    assert rows["1"][7].startswith("Báo cáo ngày 02/12/2022: Kế hoạch số 5/KH-UBND")
    assert rows["4"][6] == "Thường xuyên"  # not overdue, not "— (0/0)"
    assert rows["2"][6].startswith("3 nhiệm vụ.") and "Chưa hoàn thành, quá hạn: 2" in rows["2"][6]
    # Phụ lục II: the overdue tasks, the longest overdue first.
    assert "Phụ lục II" in text and "DANH SÁCH NHIỆM VỤ QUÁ HẠN" in text
    overdue = next(t for t in doc.tables if _cells(t)[0][:2] == ["STT", "Nội dung nhiệm vụ"]
                   and "Số ngày quá hạn" in _cells(t)[0])  # fmt: skip
    listed = _cells(overdue)[2:]
    assert len(listed) == 7 and listed[0][1] == "Báo cáo định kỳ" and listed[0][5] == "28"


def test_docx_of_a_period_under_decree_09_with_seed_004s_regime(
    store: Tracker, tmp_path: Path
) -> None:
    store.load([DIRECTIVES], until=HORIZON)
    r = store.progress(period="2022-Q4", directive="kh-67-2013", regime=SEED_004)
    doc = Document(str(store.write_report(r, tmp_path / "q4.docx", "docx")))
    text = _texts(doc)
    assert (
        "Tình hình thực hiện Kế hoạch số 67/KH-UBND ngày 01/10/2013 của Ủy ban nhân dân tỉnh Tuyên Quang quý IV năm 2022"
        in text
    )
    assert (
        "Kỳ báo cáo: quý IV năm 2022. Số liệu tính từ ngày 15/09/2022 đến hết ngày 14/12/2022 "
        "(thời gian chốt số liệu theo Nghị định số 09/2019/NĐ-CP); thời hạn gửi báo cáo: "
        "19/12/2022 (trước ngày 20 của tháng cuối kỳ báo cáo)."
    ) in text
    # Left for the office: the issuer, the number, the date.
    assert _cells(doc.tables[0])[1] == ["Số: …/BC-…", "………, ngày … tháng … năm …"]
    # The plan's groups (I, II, …) head their tasks in the appendix.
    plan = next(t for t in doc.tables if _cells(t)[0] == APPENDIX_HEAD)
    groups = [
        row[0]
        for row in _cells(plan)[2:]
        if row[1] == row[-1] and row[0] in ("I", "II", "III", "IV", "V")
    ]
    assert groups[:2] == ["I", "II"]
    # The body keeps the 15 units most behind; every unit is in Phụ lục III.
    assert any("15 trên 28 đơn vị, danh sách đầy đủ tại Phụ lục III" in p for p in text)


# --------------------------------------------------------------------------------------------------
# .xlsx
# --------------------------------------------------------------------------------------------------
def test_xlsx_summary_and_tracking_sheet(reported: Tracker, tmp_path: Path) -> None:
    r = reported.progress(as_of=AS_OF, directive="kh-1-2022")
    path = reported.write_report(r, tmp_path / "bc.xlsx", "xlsx")
    wb = load_workbook(path)  # not read-only: widths, validations, formats are read back too
    assert wb.sheetnames == ["Tổng hợp", "Phụ lục", "Danh mục"]
    assert wb["Danh mục"].sheet_state == "hidden"

    summary = [tuple(c.value for c in row) for row in wb["Tổng hợp"].iter_rows()]
    assert summary[0][0] == "BÁO CÁO TÌNH HÌNH THỰC HIỆN NHIỆM VỤ"
    assert summary[2][0] == "Số liệu tính đến hết ngày 16/01/2023."
    totals = [row for row in summary if row[1] == "Cộng"]
    assert len(totals) == 3  # by document, by unit, by level
    assert all(row[2:8] == (14, 9, 1, 1, 3, 7) for row in totals)
    heads = next(row for row in summary if row[0] == "STT")
    assert heads[2:4] == ("Tổng số nhiệm vụ", "Đến hạn") and "Tỷ lệ hoàn thành" in heads

    ws = wb["Phụ lục"]
    header = [c.value for c in ws[4]]
    assert header[:8] == ["STT", "Nội dung nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp",
                          "Sản phẩm", "Thời hạn", "Hạn hoàn thành", "Tình trạng"]  # fmt: skip
    assert header[-1] == "Mã nhiệm vụ"
    assert ws.freeze_panes == "C5"
    assert ws.auto_filter.ref.startswith("A4:M")
    assert ws.column_dimensions["M"].hidden is True
    assert ws.column_dimensions["B"].width == 60
    assert ws["B5"].alignment.wrap_text or ws["B6"].alignment.wrap_text
    by_key = {row[12].value: row for row in ws.iter_rows(min_row=5) if row[12].value}
    assert len(by_key) == 14
    done = by_key["kh-1-2022/1/x-ubnd"]
    assert done[7].value == "Đã hoàn thành, quá hạn"
    assert isinstance(done[6].value, datetime) and done[6].value.date() == date(2022, 11, 30)
    assert done[6].number_format == "dd/mm/yyyy" and done[9].number_format == "dd/mm/yyyy"
    assert done[9].value.date() == date(2022, 12, 2)
    assert done[10].value == "Kế hoạch số 5/KH-UBND ngày 02/12/2022"
    assert by_key["kh-1-2022/4/x-so-khdt"][7].value == "Thường xuyên"
    assert by_key["kh-1-2022/2/x-ubnd-a"][7].value == "Chưa hoàn thành, quá hạn"
    assert by_key["kh-1-2022/2/x-ubnd-a"][8].value == 13
    # The status is a drop-down of the official labels; overdue rows are coloured.
    [dv] = ws.data_validations.dataValidation
    assert dv.type == "list" and dv.formula1 == "'Danh mục'!$A$1:$A$10"
    assert str(dv.sqref).startswith("H5:H")
    labels = [row[0] for row in _sheet_rows(path, "Danh mục")]
    assert "Đã hoàn thành" in labels and "Chưa hoàn thành, quá hạn" in labels
    rules = [rule for rng in ws.conditional_formatting for rule in rng.rules]
    assert rules and rules[0].formula == ['$H5="Chưa hoàn thành, quá hạn"']


# --------------------------------------------------------------------------------------------------
# The sheet sent back
# --------------------------------------------------------------------------------------------------
def _returned(store: Tracker, tmp_path: Path, edits: dict[str, tuple[Any, Any, Any]]) -> Path:
    """The tracking sheet as a unit sends it back: ``edits`` maps a task id to (status, date,
    evidence) written into its row."""
    r = store.progress(as_of=AS_OF, directive="kh-1-2022")
    path = store.write_report(r, tmp_path / "sent.xlsx", "xlsx")
    wb = load_workbook(path)
    ws = wb["Phụ lục"]
    for row in ws.iter_rows(min_row=5):
        if row[12].value in edits:
            status, on, evidence = edits[row[12].value]
            row[7].value, row[9].value, row[10].value = status, on, evidence
    back = tmp_path / "back.xlsx"
    wb.save(back)
    return back


def test_a_returned_sheet_records_its_completions_awaiting_verification(
    reported: Tracker, tmp_path: Path
) -> None:
    back = _returned(reported, tmp_path, {
        "kh-1-2022/1.1/x-so-khdt": ("Đã hoàn thành", datetime(2023, 1, 10),
                                    "Kế hoạch số 12/KH-SKHĐT ngày 10/01/2023"),
        "kh-1-2022/2/x-ubnd-a": ("Đã hoàn thành", "12/01/2023",
                                 "Kế hoạch số 3/KH-UBND ngày 12/01/2023"),
    })  # fmt: skip
    batch = reported.record_completions(read_sheet(back))
    assert sorted(t for t, _ in batch.recorded) == [
        "kh-1-2022/1.1/x-so-khdt",
        "kh-1-2022/2/x-ubnd-a",
    ]
    # Tasks the sheet shows done already are left as they are.
    assert ("kh-1-2022/1/x-ubnd", "done") in batch.skipped
    found = {t.task_id: t for t in reported.status(as_of=date(2023, 1, 20), directive="kh-1-2022")}
    assert found["kh-1-2022/1.1/x-so-khdt"].status_label == "Đã báo cáo, chờ xác nhận"
    assert found["kh-1-2022/2/x-ubnd-a"].status_label == "Đã báo cáo, chờ xác nhận"
    history = reported.history("kh-1-2022/2/x-ubnd-a")
    assert history[-1]["event"] == "reported"


def test_a_returned_sheet_with_a_wrong_row_writes_nothing(
    reported: Tracker, tmp_path: Path
) -> None:
    back = _returned(reported, tmp_path, {
        "kh-1-2022/1.1/x-so-khdt": ("Đã hoàn thành", datetime(2023, 1, 10),
                                    "Kế hoạch số 12/KH-SKHĐT ngày 10/01/2023"),
        "kh-1-2022/2/x-ubnd-a": ("Đã hoàn thành", "32/01/2023", "Kế hoạch số 3/KH-UBND"),
        "kh-1-2022/2/x-ubnd-b": ("Đã hoàn thành", None, None),
        "kh-1-2022/2/x-ubnd-c": ("Xong rồi", None, None),
    })  # fmt: skip
    with pytest.raises(InputError) as e:
        read_sheet(back)
    said = [str(i) for i in e.value.issues]
    assert any(
        "trang «Phụ lục», ô J" in s and "ngày '32/01/2023' không hợp lệ; cần dạng dd/mm/yyyy" in s
        for s in said
    )
    assert any("ô K" in s and "cần ghi minh chứng" in s for s in said)
    assert any("ô H" in s and "tình trạng 'Xong rồi' không có trong danh sách" in s for s in said)
    assert len(said) == 3
    # A task id the store does not know: found by the service, and nothing written either.
    back = _returned(reported, tmp_path, {
        "kh-1-2022/1.1/x-so-khdt": ("Đã hoàn thành", datetime(2023, 1, 10),
                                    "Kế hoạch số 12/KH-SKHĐT ngày 10/01/2023"),
    })  # fmt: skip
    entries = read_sheet(back)
    entries[0] = type(entries[0])(**{**entries[0].__dict__, "task_id": "kh-1-2022/9/x-ubnd"})
    with pytest.raises(InputError) as e:
        reported.record_completions(entries)
    [issue] = e.value.issues
    assert issue.line == entries[0].row and "ô M" in issue.message
    found = {t.task_id: t for t in reported.status(as_of=date(2023, 1, 20), directive="kh-1-2022")}
    assert found["kh-1-2022/1.1/x-so-khdt"].status_label == "Chưa hoàn thành, quá hạn"


# --------------------------------------------------------------------------------------------------
# LibreOffice: the files open in a real office suite
# --------------------------------------------------------------------------------------------------
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOTEXT = shutil.which("pdftotext")
needs_office = pytest.mark.skipif(
    SOFFICE is None or PDFTOTEXT is None,
    reason="LibreOffice (soffice) and pdftotext are not installed: apt-get install "
    "libreoffice-writer-nogui libreoffice-calc-nogui poppler-utils",
)


def to_pdf_text(path: Path, work: Path) -> str:
    """``path`` converted to PDF by LibreOffice (headless, a profile of its own), as text."""
    assert SOFFICE and PDFTOTEXT
    out = work / f"pdf-{path.suffix.lstrip('.')}"
    subprocess.run(
        [SOFFICE, "--headless", "--norestore", f"-env:UserInstallation={(work / 'lo').as_uri()}",
         "--convert-to", "pdf", "--outdir", str(out), str(path)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    pdf = out / f"{path.stem}.pdf"
    assert pdf.is_file(), f"LibreOffice did not convert {path.name}"
    text = subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip
    return " ".join(text.split())


@needs_office
def test_libreoffice_converts_the_docx_and_the_xlsx(sqlite_store: Tracker, tmp_path: Path) -> None:
    store = report_some(sqlite_store, tmp_path)
    r = store.progress(as_of=AS_OF, directive="kh-1-2022")
    docx = store.write_report(r, tmp_path / "bao-cao.docx", "docx", issuer="x-so-khdt")
    xlsx = store.write_report(r, tmp_path / "theo-doi.xlsx", "xlsx")
    text = to_pdf_text(docx, tmp_path)
    for needle in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                   "SỞ KẾ HOẠCH VÀ ĐẦU TƯ", "Số: …/BC-…", "BÁO CÁO", "I. KẾT QUẢ THỰC HIỆN",
                   "22,2% số nhiệm vụ đến hạn (2/9)", "14,3% tổng số nhiệm vụ được giao (2/14)",
                   "Cộng", "Nơi nhận:", "Phụ lục I", "Nội dung nhiệm vụ", "Cơ quan chủ trì",
                   "UBND tỉnh ban hành Kế hoạch", "DANH SÁCH NHIỆM VỤ QUÁ HẠN"):  # fmt: skip
        assert needle in text, needle
    sheet = to_pdf_text(xlsx, tmp_path)
    for needle in ("BÁO CÁO TÌNH HÌNH THỰC HIỆN NHIỆM VỤ", "Số liệu tính đến hết ngày 16/01/2023.",
                   "Cộng", "PHỤ LỤC: TÌNH HÌNH THỰC HIỆN CÁC NHIỆM VỤ", "Các huyện xây dựng kế hoạch",
                   "30/11/2022", "Chưa hoàn thành, quá hạn"):  # fmt: skip
        assert needle in sheet, needle
    assert "kh-1-2022/1/x-ubnd" not in sheet  # the key column is hidden
