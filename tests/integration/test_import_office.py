"""``kttt import`` on real files: seed 004's appendix (Kế hoạch 67/KH-UBND) as a Word document
made with python-docx, an Excel workbook made with openpyxl and the flattened text the seed is
stored as, imported with the Tuyên Quang registry and compared, through the service, with the
hand transcription ``directives/kh-67-2013.yaml``; then the tables that differ (columns in
another order, missing or extra, a table cut in two, a row split across a page) and the files
that cannot be imported.

Round trip 2: a progress report written as .docx by the report writer imports back to the
plan's tasks.
"""

from __future__ import annotations

import importlib.util
import unicodedata
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from kttt_workflow.domain.directive import DirectiveFile
from kttt_workflow.errors import InputError
from kttt_workflow.inputs.office import ImportResult, OfficeError, import_file, write_draft
from kttt_workflow.inputs.validate import load_inputs
from kttt_workflow.service import Tracker
from tests.helpers import DIRECTIVES, FIX, HORIZON, is_nfc


def _build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_build", FIX / "import" / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _build()
UNITS = DIRECTIVES / "units"
REGISTRIES = [UNITS / "tuyen-quang-2013.yaml", UNITS / "trung-uong.yaml"]
HAND = DIRECTIVES / "kh-67-2013.yaml"
TEXT = FIX / "import" / "kh-67-2013.txt"
# The appendix's 22 rows; TCTH.1–3 of the hand transcription come from the plan's body ("III.
# TỔ CHỨC THỰC HIỆN"), which has no table: the importer reads tables only.
APPENDIX_IDS = [
    *(f"I.{n}" for n in range(1, 5)),
    *(f"II.{n}" for n in range(1, 4)),
    *(f"III.{n}" for n in range(1, 5)),
    *(f"IV.{n}" for n in range(1, 10)),
    *(f"V.{n}" for n in range(1, 3)),
]


def registry() -> Any:
    return load_inputs(REGISTRIES).registry


Row = tuple[str, str, str | None]  # task key, unit, period
Fields = tuple[str, str | None, str | None, date | None, tuple[str, ...]]


def status_rows(store: Tracker, paths: list[Path]) -> dict[Row, Fields]:
    """Each loaded task (unit, period) with what the status shows: title, deliverable, the
    deadline as written, the due date, the coordinators."""
    store.load(paths, until=HORIZON)
    return {
        (s.task_key, s.unit, s.period): (
            s.title,
            s.deliverable,
            s.deadline_text,
            s.due,
            tuple(s.coordinating),
        )
        for s in store.status(as_of=HORIZON)
    }


@pytest.fixture(scope="module")
def hand_rows(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[Row, Fields]]:
    """The hand transcription loaded into a store of its own: its appendix rows."""
    folder = tmp_path_factory.mktemp("hand")
    with Tracker.open(f"sqlite:///{folder / 'hand.db'}") as t:
        rows = status_rows(t, [*REGISTRIES, HAND])
    yield {k: v for k, v in rows.items() if k[0] in APPENDIX_IDS}


def _import(path: Path, tmp_path: Path, **kw: Any) -> tuple[ImportResult, Path]:
    result = import_file(path, registry(), **kw)
    draft = tmp_path / "draft.yaml"
    write_draft(draft, result.text)
    return result, draft


def _seed_file(form: str, tmp_path: Path) -> Path:
    if form == "txt":
        return TEXT
    if form == "docx":
        return build.seed_docx(tmp_path / "kh-67-2013.docx")
    if form == "docx-variant":
        # Columns in another order, a column the importer does not know, the table cut in two
        # after its tenth row with the header again, and row I.4 written as two rows.
        return build.seed_docx(
            tmp_path / "kh-67-2013-khac.docx",
            columns=[0, 1, 5, 2, 6, 3, 4],
            extra="Kinh phí (triệu đồng)",
            split_table_after=10,
            split_row=5,
        )
    return build.seed_xlsx(tmp_path / "kh-67-2013.xlsx")


def _fix_title(draft: Path) -> None:
    """What a coordinator does with the appendix-only workbook's draft: write the plan's title."""
    text = draft.read_text(encoding="utf-8")
    assert text.count("  title: ''\n") == 1
    draft.write_text(
        text.replace(
            "  title: ''\n", "  title: Kế hoạch thực hiện Chương trình hành động 27-CTr/TU\n"
        ),
        encoding="utf-8",
    )


@pytest.mark.parametrize("form", ["txt", "docx", "docx-variant", "xlsx"])
def test_the_seed_appendix_round_trips_to_the_hand_transcription(
    form: str, store: Tracker, hand_rows: dict[Row, Fields], tmp_path: Path
) -> None:
    result, draft = _import(_seed_file(form, tmp_path), tmp_path)
    assert (result.groups, result.tasks) == (5, 22)
    fix = [f for f in result.findings if f.section == "fix"]
    if form == "xlsx":
        # The workbook holds the appendix only: its "(Kèm theo Kế hoạch số 67/KH-UBND ngày 01
        # tháng 10 năm 2013 của Ủy ban nhân dântỉnh)" gives symbol and date, not the title; the
        # issuer is kept as written (the seed glues "dân" and "tỉnh").
        assert [f.text for f in fix] == [
            "không tìm thấy tiêu đề văn bản (dòng dưới «KẾ HOẠCH» …): ghi «title»"
        ]
        _fix_title(draft)
    else:
        assert fix == []
    imported = status_rows(store, [*REGISTRIES, draft])
    # The same 22 tasks fanned out to the same units and periods (560 rows up to 2026), with the
    # same titles, deliverables, deadlines as written, due dates and coordinators.
    assert sorted({k[0] for k in imported}) == sorted(APPENDIX_IDS)
    assert len(imported) == len(hand_rows) == 560
    assert imported == hand_rows


@pytest.mark.parametrize("form", ["txt", "docx", "docx-variant", "xlsx"])
def test_the_drafts_header_and_groups_match_the_hand_transcription(
    form: str, tmp_path: Path
) -> None:
    result, draft = _import(_seed_file(form, tmp_path), tmp_path)
    if form == "xlsx":
        _fix_title(draft)
    ((_, mine),) = load_inputs([*REGISTRIES, draft]).directives
    ((_, hand),) = load_inputs([*REGISTRIES, HAND]).directives
    assert isinstance(mine, DirectiveFile) and mine.code == hand.code == "kh-67-2013"
    assert (mine.document.type, mine.document.symbol, mine.document.date) == (
        hand.document.type,
        hand.document.symbol,
        hand.document.date,
    )
    if form != "xlsx":
        assert mine.document.issuer == hand.document.issuer == "tq-ubnd"
        assert [(r.type, r.symbol, r.date, r.issuer) for r in mine.implements] == [
            (r.type, r.symbol, r.date, r.issuer) for r in hand.implements
        ]
        # The title as the seed writes it (capitals, words glued by the PDF: "CHƯƠNGTRÌNH");
        # the hand transcription repaired the spacing and lowered the case.
        assert mine.document.title.startswith("THỰC HIỆN CHƯƠNGTRÌNH HÀNH ĐỘNG CỦA BAN THƯỜNG VỤ")
        assert hand.document.title.startswith("Thực hiện Chương trình hành động của Ban Thường vụ")
    # What the importer cannot know: the focal unit, signer and note come from the plan's body
    # and signature block; notes and the body references in ``source`` are the transcriber's.
    assert (mine.focal_unit, mine.document.signer, hand.focal_unit) == (None, None, "tq-so-kh-dt")
    assert {t.id: t.note for t in mine.tasks if t.note} == (
        {"I.1": "Kinh phí (triệu đồng): 150"} if form == "docx-variant" else {}
    )
    # Lead cells naming several bodies: groups of the draft (codes of its own), same members.
    by_id = {t.id: t for t in mine.tasks}
    hand_by_id = {t.id: t for t in hand.tasks}
    mine_groups = {g.code: g.members for g in mine.groups}
    hand_groups = {g.code: g.members for g in hand.groups}
    for key in ("I.3", "I.4"):
        assert mine_groups[by_id[key].lead] == hand_groups[hand_by_id[key].lead]
    for key in APPENDIX_IDS:
        if key not in ("I.3", "I.4"):
            assert by_id[key].lead == hand_by_id[key].lead, key
        assert by_id[key].coordinating_other == hand_by_id[key].coordinating_other, key
        assert by_id[key].issuing_authority == hand_by_id[key].issuing_authority, key


def test_a_progress_reports_appendix_imports_back_to_the_same_tasks(
    store: Tracker, hand_rows: dict[Row, Fields], tmp_path: Path
) -> None:
    """Round trip 2: the hand transcription loaded, its progress report written as a .docx by the
    report writer, that file imported: its appendix (Phụ lục I) is the plan's table again."""
    from kttt_workflow.reports.docx import write_docx

    report = tmp_path / "bao-cao.docx"
    with Tracker.open(f"sqlite:///{tmp_path / 'hand.db'}") as t:
        t.load([*REGISTRIES, HAND], until=HORIZON)
        write_docx(t.progress(as_of=date(2014, 6, 30), directive="kh-67-2013"), report)
    result, draft = _import(report, tmp_path)
    # The report's body tables (counts by document, unit, level) are not task tables: the
    # appendix is read; its plan's tasks come back, TCTH.1–3 as a group after the plan's (VI).
    assert result.table == "bảng 5" and (result.groups, result.tasks) == (6, 25)
    assert [t["id"] for t in result.data["tasks"]] == [*APPENDIX_IDS, "VI.1", "VI.2", "VI.3"]
    # The document is the plan the appendix cites, not the report (whose title it does not give).
    assert result.data["document"] == {
        "type": "plan",
        "symbol": "67/KH-UBND",
        "date": "2013-10-01",
        "issuer": "tq-ubnd",
        "title": "",
    }
    assert result.code == "kh-67-2013"
    reading = [str(f) for f in result.findings if f.section == "reading"]
    assert (
        "bảng 5: bảng là phụ lục của một báo cáo tình hình thực hiện: cột «Tình trạng», cột «Ghi "
        "chú» ghi tình hình thực hiện, không đưa vào bản nháp"
    ) in reading
    # The status and notes of the report stay out of the draft.
    assert not any("note" in t for t in result.data["tasks"])
    assert "Chưa hoàn thành" not in result.text and "Phụ lục II" not in result.text
    _fix_title(draft)
    imported = status_rows(store, [*REGISTRIES, draft])
    appendix = {k: v for k, v in imported.items() if k[0] in APPENDIX_IDS}
    assert len(appendix) == len(hand_rows) == 560
    assert appendix == hand_rows
    ((_, hand),) = load_inputs([*REGISTRIES, HAND]).directives
    ((_, mine),) = load_inputs([*REGISTRIES, draft]).directives
    by_id = {t.id: t for t in mine.tasks}
    tcth = [t for t in hand.tasks if t.id.startswith("TCTH")]
    tcth += [c for t in tcth for c in t.children]  # TCTH.3 is TCTH.2's child
    for task in tcth:
        back = by_id["VI." + task.id.removeprefix("TCTH.")]
        assert (back.title, back.deadline) == (task.title, task.deadline), task.id


def test_the_report_lists_what_was_kept_as_written_and_the_groups_declared(tmp_path: Path) -> None:
    result, _ = _import(build.seed_docx(tmp_path / "kh.docx"), tmp_path)
    report = result.report("draft.yaml")
    assert report[0] == "Đã đọc «kh.docx», bảng 2: 5 nhóm, 22 nhiệm vụ."
    assert report[1] == (
        "Văn bản: Kế hoạch số 67/KH-UBND ngày 01/10/2013, cơ quan ban hành tq-ubnd; "
        "thực hiện 27-CTr/TU, 56-KL/TW; mã chỉ đạo kh-67-2013."
    )
    assert "Giữ nguyên như văn bản ghi (không ánh xạ được vào danh mục) (16):" in report
    assert (
        "  - bảng 2, dòng 9 (II.2), cơ quan phối hợp: «các ngành liên quan» → coordinating_other"
        in report
    )
    assert (
        "  - bảng 2, dòng 5 (I.3): kh-67-2013-i-3 gồm tq-so-tt-tt, tq-bao-tuyen-quang, tq-dai-ptth, "
        "tq-ban-bien-tap-website"
    ) in report
    assert "  - bảng 2, dòng 6 (I.4): không ghi thời gian hoàn thành (deadline: null)" in report
    assert "Không có tên hay thời hạn nào cần sửa." in report
    assert report[-1] == "Đã ghi bản nháp: draft.yaml"
    assert all(is_nfc(line) for line in report)


def test_the_draft_says_beside_each_field_where_it_came_from(tmp_path: Path) -> None:
    result, _ = _import(build.seed_docx(tmp_path / "kh.docx"), tmp_path)
    text = result.text
    assert is_nfc(text)
    assert "  # bảng 2, dòng 12\n  - id: III.1\n" in text
    assert (
        "    # ô «Sở Nội vụ» → tq-so-noi-vu (Sở Nội vụ tỉnh Tuyên Quang)\n    lead: tq-so-noi-vu\n"
        in text
    )
    assert "    # Hạn: 31/03/2014 (hết Quý I/2014)\n    deadline: Quý I/2014\n" in text
    assert (
        "      - tq-ubnd-huyen-tp  # UBND huyện, thành phố → UBND các huyện, thành phố tỉnh Tuyên Quang\n"
        in text
    )
    assert "    coordinating_other: Các ngành liên quan\n" in text
    assert (
        "  # I. Thống nhất và nâng cao nhận thức về bản chất, vai trò của kinh tế tập thể, hợp tác xã\n"
        in text
    )


def test_the_word_document_really_has_merged_cells_a_repeated_header_and_a_page_break(
    tmp_path: Path,
) -> None:
    # A guard for the round trip: the Word file it reads has the layouts it claims to read.
    path = build.seed_docx(tmp_path / "kh.docx")
    xml = zipfile.ZipFile(path).read("word/document.xml").decode("utf-8")
    assert xml.count('<w:gridSpan w:val="6"/>') == 5  # the five group headings
    assert xml.count('<w:vMerge w:val="restart"/>') == 2 and xml.count("<w:vMerge/>") == 2
    assert xml.count('<w:tblHeader w:val="true"/>') == 1
    assert xml.count("<w:lastRenderedPageBreak/>") == 1
    variant = build.seed_docx(tmp_path / "v.docx", split_table_after=10, split_row=5)
    vxml = zipfile.ZipFile(variant).read("word/document.xml").decode("utf-8")
    assert vxml.count('<w:tblHeader w:val="true"/>') == 2 and vxml.count("<w:tbl>") == 3


def test_the_reading_of_a_cut_table_and_a_split_row_is_reported(tmp_path: Path) -> None:
    result, _ = _import(_seed_file("docx-variant", tmp_path), tmp_path)
    reading = [str(f) for f in result.findings if f.section == "reading"]
    assert "bảng 3 nối tiếp bảng 2 (cùng các cột)" in reading
    assert any(
        r.startswith("I.4: bảng 2, dòng 7 không có số thứ tự: nối vào nhiệm vụ phía trên")
        for r in reading
    )
    kept = [str(f) for f in result.findings if f.section == "kept"]
    assert (
        "bảng 2: cột «Kinh phí (triệu đồng)» không thuộc mẫu: nội dung ghi vào «note» của nhiệm vụ"
        in kept
    )


def test_the_text_form_records_each_rows_cells_as_given(tmp_path: Path) -> None:
    result, _ = _import(TEXT, tmp_path)
    assert (
        "  # dòng 76\n  # ô: «Trường Chính trị tỉnh, Trung tâm bồi dưỡng chính trị huyện, thành phố, các trường chuyên nghiệp» «Các cơ quan có liên quan» «Các bài giảng theo hướng dẫn của Trung ương»\n  - id: I.4\n"
        in result.text
    )
    assert any("dạng văn bản (mỗi ô một dòng)" in f.text for f in result.findings)


def test_the_explicit_table_fixture_is_the_seeds_table(tmp_path: Path) -> None:
    # kh-67-2013-phu-luc.tsv (columns explicit) without its empty cells is, line for line, the
    # flattened table of the text fixture (the seed's lines 133–397).
    rows = build.table_rows()
    cells = [c for row in rows for c in row if c]
    lines = build.text_lines()
    table = [x.strip() for x in lines[lines.index("Số TT") :] if x.strip()]
    assert cells == table


# --------------------------------------------------------------------------------------------------
# Names the registry does not know, deadlines the grammar does not read
# --------------------------------------------------------------------------------------------------
def _small_docx(
    path: Path, rows: list[list[str]], header: list[str] | None = None, heading: bool = True
) -> Path:
    import docx

    doc = docx.Document()
    if heading:
        for line in build.heading_lines():
            doc.add_paragraph(line)
    header = header or build.HEADER
    table = doc.add_table(rows=0, cols=len(header))
    for values in [header, *rows]:
        cells = table.add_row().cells
        for j, v in enumerate(values):
            cells[j].text = v
    doc.save(str(path))
    return path


def test_what_cannot_be_mapped_is_kept_listed_and_is_all_that_fails_validation(
    tmp_path: Path,
) -> None:
    rows = [
        ["I", "Nhóm thử", "", "", "", "", ""],
        ["1", "Nhiệm vụ một", "Sở Du lịch", "Sở Ngoại vụ, Sở Nội vụ", "", "Quý V/2013", ""],
        ["2", "Nhiệm vụ hai", "Sở Nội vụ, Sở Văn hóa", "", "", "Quý I/2012", "Hội đồng thẩm định"],
    ]
    result, draft = _import(_small_docx(tmp_path / "t.docx", rows), tmp_path)
    fix = [str(f) for f in result.findings if f.section == "fix"]
    assert fix == [
        "bảng 1, dòng 3 (I.1), cơ quan chủ trì: «Sở Du lịch»: không tìm thấy trong danh mục đơn vị",
        "bảng 1, dòng 3 (I.1), cơ quan phối hợp: «Sở Ngoại vụ»: không tìm thấy trong danh mục đơn vị; gần giống: tq-so-noi-vu (Sở Nội vụ tỉnh Tuyên Quang)",
        "bảng 1, dòng 3 (I.1), thời hạn: «Quý V/2013» không đọc được (quý phải từ I đến IV); giữ nguyên — hãy sửa theo các cách ghi trong docs/deadlines.md hoặc để trống (null) kèm «note»",
        "bảng 1, dòng 4 (I.2), cơ quan chủ trì: «Sở Nội vụ, Sở Văn hóa»: ô ghi nhiều cơ quan; nhận ra «Sở Nội vụ» → tq-so-noi-vu; không nhận ra «Sở Văn hóa» (không tìm thấy trong danh mục đơn vị) — hãy thêm vào danh mục hoặc khai báo một nhóm",
        "bảng 1, dòng 4 (I.2), thời hạn: «Quý I/2012» (31/03/2012) trước ngày ban hành văn bản (01/10/2013); kiểm tra lại năm, hoặc ghi lý do vào «note»",
    ]
    kept = [str(f) for f in result.findings if f.section == "kept"]
    assert kept == [
        "bảng 1, dòng 4 (I.2): cấp ban hành «Hội đồng thẩm định»: không tìm thấy trong danh mục đơn vị; giữ nguyên như văn bản ghi"
    ]
    spec = load_draft_data(draft)
    assert spec["tasks"][0]["lead"] == "Sở Du lịch"
    assert spec["tasks"][0]["coordinating"] == ["Sở Ngoại vụ", "tq-so-noi-vu"]
    assert spec["tasks"][0]["deadline"] == "Quý V/2013"
    assert spec["tasks"][1]["issuing_authority"] == "Hội đồng thẩm định"
    # Validation fails exactly at the listed places, and nowhere else.
    with pytest.raises(InputError) as e:
        load_inputs([*REGISTRIES, draft])
    lines = draft.read_text(encoding="utf-8").splitlines()
    failing = sorted(lines[i.line - 1].strip() for i in e.value.issues)
    assert failing == sorted(
        [
            "lead: Sở Du lịch",
            "- Sở Ngoại vụ  # KHÔNG TÌM THẤY TRONG DANH MỤC ĐƠN VỊ; GẦN GIỐNG: TQ-SO-NOI-VU (SỞ NỘI VỤ TỈNH TUYÊN QUANG)",
            "deadline: Quý V/2013",
            "lead: Sở Nội vụ, Sở Văn hóa",
            "deadline: Quý I/2012",
        ]
    )


def test_an_empty_lead_is_written_empty_and_listed(tmp_path: Path) -> None:
    rows = [
        ["1", "Nhiệm vụ một", "Sở Du lịch", "", "", "Thường xuyên", ""],
        ["2", "Nhiệm vụ hai", "", "", "", "Thường xuyên", ""],
    ]
    result, draft = _import(_small_docx(tmp_path / "e.docx", rows), tmp_path)
    assert [str(f) for f in result.findings if f.section == "fix"] == [
        "bảng 1, dòng 2 (1), cơ quan chủ trì: «Sở Du lịch»: không tìm thấy trong danh mục đơn vị",
        "bảng 1, dòng 3 (2), cơ quan chủ trì: ô để trống; mỗi nhiệm vụ cần đúng một cơ quan chủ trì",
    ]
    assert (
        "    # ô «Cơ quan chủ trì» để trống: CẦN GHI MỘT ĐƠN VỊ HOẶC NHÓM\n    lead: ''\n"
        in result.text
    )
    # An empty text is refused by the model itself, and then the checker reads the rest of the
    # file by fragments: it may say less than the report, never something the report does not.
    with pytest.raises(InputError) as e:
        load_inputs([*REGISTRIES, draft])
    lines = draft.read_text(encoding="utf-8").splitlines()
    failing = {lines[i.line - 1].strip() for i in e.value.issues}
    assert "lead: ''" in failing and failing <= {"lead: ''", "lead: Sở Du lịch"}


def load_draft_data(draft: Path) -> dict[str, Any]:
    from kttt_workflow.inputs.reader import read_yaml

    doc, issues = read_yaml(draft, str(draft))
    assert doc is not None and not issues
    data: dict[str, Any] = doc.data
    return data


def test_without_the_documents_place_a_name_two_provinces_share_is_listed_as_ambiguous(
    tmp_path: Path,
) -> None:
    rows = [["1", "Nhiệm vụ", "Sở Kế hoạch và Đầu tư", "", "", "Thường xuyên", ""]]
    both = load_inputs([*REGISTRIES, UNITS / "bac-giang-2022.yaml"]).registry
    without = import_file(_small_docx(tmp_path / "a.docx", rows, heading=False), both)
    assert [f.text for f in without.findings if f.section == "fix" and "Kế hoạch" in f.text] == [
        "«Sở Kế hoạch và Đầu tư»: trùng tên nhiều đơn vị: tq-so-kh-dt, bg-so-kh-dt — hãy ghi đúng mã"
    ]
    # The heading's place ("Tuyên Quang, ngày …") decides.
    with_place = import_file(_small_docx(tmp_path / "b.docx", rows), both)
    assert with_place.data["tasks"][0]["lead"] == "tq-so-kh-dt"


def test_without_a_registry_every_name_is_kept_as_written(tmp_path: Path) -> None:
    result = import_file(TEXT, None)
    assert not result.registry and result.tasks == 22
    assert result.data["tasks"][0]["lead"] == "Các sở, ban, ngành; UBND huyện, thành phố"
    assert result.data["document"]["issuer"] == "UỶ BAN NHÂN DÂN TỈNH TUYÊN QUANG"
    assert (
        "Chưa có danh mục đơn vị (--registry): tên cơ quan được giữ nguyên như văn bản ghi."
        in result.report()
    )


def test_text_that_looks_like_yaml_is_written_as_text(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    rows = [
        [
            "1",
            f'!!python/object/apply:os.system ["touch {marker}"]',
            "Sở Nội vụ",
            "",
            "*alias",
            "Thường xuyên",
            "",
        ],
        ["2", "key: value # not a comment", "Sở Nội vụ", "", "&anchor <<: {lead: x}", "yes", ""],
    ]
    result, draft = _import(_small_docx(tmp_path / "y.docx", rows), tmp_path)
    spec = load_draft_data(draft)
    assert spec["tasks"][0]["title"] == f'!!python/object/apply:os.system ["touch {marker}"]'
    assert spec["tasks"][1]["title"] == "key: value # not a comment"
    assert spec["tasks"][0]["deliverable"] == "*alias"
    assert spec["tasks"][1]["deliverable"] == "&anchor <<: {lead: x}"
    assert not marker.exists()
    assert result.data["tasks"][1]["deadline"] == "yes"  # kept, and listed: not a deadline
    assert any("«yes» không đọc được" in f.text for f in result.findings)


def test_decomposed_text_comes_out_composed(tmp_path: Path) -> None:
    rows = [
        [
            "1",
            unicodedata.normalize("NFD", "Tổ chức hội nghị"),
            unicodedata.normalize("NFD", "Sở Nội vụ"),
            "",
            "",
            "Quý IV/2013",
            "",
        ]
    ]
    result, _ = _import(_small_docx(tmp_path / "nfd.docx", rows), tmp_path)
    assert result.data["tasks"][0]["title"] == "Tổ chức hội nghị" and is_nfc(result.text)
    assert result.data["tasks"][0]["lead"] == "tq-so-noi-vu"


def test_missing_optional_columns_are_named_and_left_empty(tmp_path: Path) -> None:
    header = ["STT", "Nhiệm vụ", "Đơn vị chủ trì", "Thời hạn", "Ghi chú"]
    rows = [["1", "Nhiệm vụ một", "Sở Nội vụ", "Quý IV/2013", "Báo cáo kết quả về Sở Nội vụ"]]
    result, _ = _import(_small_docx(tmp_path / "m.docx", rows, header), tmp_path)
    assert [str(f) for f in result.findings if "không có cột" in f.text] == [
        "bảng 1: các cột tìm thấy: «STT», «Nhiệm vụ», «Đơn vị chủ trì», «Thời hạn», «Ghi chú»; không có cột "
        "«Cơ quan phối hợp», «Sản phẩm», «Cấp ban hành (Cơ quan quyết định ban hành)»: để trống"
    ]
    assert result.data["tasks"][0] == {
        "id": "1",
        "title": "Nhiệm vụ một",
        "lead": "tq-so-noi-vu",
        "coordinating": [],
        "deadline": "Quý IV/2013",
        "note": "Ghi chú: Báo cáo kết quả về Sở Nội vụ",
        "source": "Bảng nhiệm vụ, mục 1",
    }


def test_a_header_on_two_rows_column_numbers_and_the_header_again_on_a_new_page(
    tmp_path: Path,
) -> None:
    import docx

    doc = docx.Document()
    table = doc.add_table(rows=0, cols=5)

    def header(t: Any) -> None:
        top, sub = table.add_row().cells, table.add_row().cells
        for j, text in ((0, "TT"), (1, "Nội dung công việc"), (4, "Thời hạn")):
            top[j].text = text
            top[j].merge(sub[j])  # merged down over the two header rows
        top[2].merge(top[3]).text = "Cơ quan thực hiện"  # over "Chủ trì" | "Phối hợp"
        sub[2].text, sub[3].text = "Chủ trì", "Phối hợp"

    header(table)
    for j, cell in enumerate(table.add_row().cells):
        cell.text = f"({j + 1})"
    for values in (["1", "Việc một", "Sở Nội vụ", "Sở Tài chính", "Quý IV/2013"],):
        for j, cell in enumerate(table.add_row().cells):
            cell.text = values[j]
    header(table)  # the header pasted again at the top of the next page
    for j, cell in enumerate(table.add_row().cells):
        cell.text = ["2", "Việc hai", "UBND tỉnh", "", "Thường xuyên"][j]
    path = tmp_path / "hai-dong.docx"
    doc.save(str(path))
    result = import_file(path, registry())
    assert [
        (t["id"], t["lead"], t["coordinating"], t["deadline"]) for t in result.data["tasks"]
    ] == [
        ("1", "tq-so-noi-vu", ["tq-so-tai-chinh"], "Quý IV/2013"),
        ("2", "tq-ubnd", [], "Thường xuyên"),
    ]
    # The file has no heading: its kind, issuer and title are listed; nothing in the table is.
    assert [f.where for f in result.findings if f.section == "fix"] == ["đầu văn bản"] * 3


def test_excel_dates_numbers_and_merged_leads(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["STT", "Nội dung", "Chủ trì", "Phối hợp", "Thời gian hoàn thành"])
    ws.append([1, "Việc một", "Sở KH&ĐT", "Sở Tài chính; các ngành liên quan", date(2013, 12, 31)])
    ws.append([2.0, "Việc hai", None, None, "Quý I/2014"])
    ws.merge_cells("C2:C3")  # one lead for both rows
    path = tmp_path / "bang.xlsx"
    wb.save(str(path))
    result = import_file(path, registry())
    assert [
        (t["id"], t["lead"], t.get("coordinating_other"), t["deadline"])
        for t in result.data["tasks"]
    ] == [
        ("1", "tq-so-kh-dt", "các ngành liên quan", "31/12/2013"),
        ("2", "tq-so-kh-dt", None, "Quý I/2014"),
    ]


# --------------------------------------------------------------------------------------------------
# Files that cannot be imported: a message naming the file (and table, row); nothing written
# --------------------------------------------------------------------------------------------------
def _bad(tmp_path: Path, name: str, content: bytes | str) -> Path:
    p = tmp_path / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")
    return p


def _no_table_docx(path: Path) -> Path:
    import docx

    doc = docx.Document()
    for line in build.heading_lines():
        doc.add_paragraph(line)
    doc.save(str(path))
    return path


def _truncated(path: Path) -> bytes:
    data = build.seed_docx(path).read_bytes()
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("doc", "cu.doc: tệp Word 97–2003 (.doc) không được hỗ trợ"),
        ("encrypted", "mat-khau.docx: tệp được đặt mật khẩu (mã hóa) nên không đọc được"),
        (
            "png",
            "anh.png: không phải tài liệu Word (.docx), bảng tính Excel (.xlsx) hay tệp văn bản (.txt)",
        ),
        ("truncated", "hong.docx: tệp ZIP hỏng"),
        ("no-table", "khong-bang.docx: không có bảng nào trong tệp"),
        ("no-header", "khong-tieu-de.docx: không bảng nào có dòng tiêu đề nhận ra được"),
        (
            "missing-lead",
            "thieu-cot.docx: bảng 1, dòng 1: bảng nhiệm vụ thiếu cột. Các cột tìm thấy: «Số TT», «Nội dung nhiệm vụ», «Thời gian hoàn thành». Cần thêm: «Cơ quan chủ trì»",
        ),
        (
            "no-content",
            "trong.docx: bảng 1, dòng 3: nhiệm vụ số 2 không có nội dung (cột «Nội dung nhiệm vụ» để trống)",
        ),
        (
            "duplicate",
            "trung.docx: bảng 1, dòng 3: số thứ tự 1 trùng với nhiệm vụ ở bảng 1, dòng 2",
        ),
        ("text-no-header", "khong-tieu-de.txt: không tìm thấy dòng tiêu đề của bảng nhiệm vụ"),
        ("text-no-content", "trong.txt: dòng 9: nhiệm vụ số 2 không có nội dung"),
        ("xlsx-no-header", "bang.xlsx: không bảng nào có dòng tiêu đề nhận ra được"),
        (
            "tracking-sheet",
            "theo-doi.xlsx: trang tính «Phụ lục»: đây là bảng theo dõi do «kttt report --format "
            "xlsx» xuất (mỗi dòng một nhiệm vụ của một đơn vị, có cột «Mã nhiệm vụ»), không phải "
            "bảng nhiệm vụ của kế hoạch; để ghi nhận các nhiệm vụ đã hoàn thành trong bảng, dùng "
            "«kttt import-progress»",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_file_and_row_and_writes_nothing(
    case: str, message: str, tmp_path: Path
) -> None:
    import openpyxl

    folder = tmp_path / "in"
    folder.mkdir()
    header = build.HEADER
    if case == "doc":
        path = _bad(folder, "cu.doc", build.old_word())
    elif case == "encrypted":
        path = _bad(folder, "mat-khau.docx", build.encrypted_office())
    elif case == "png":
        path = _bad(folder, "anh.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    elif case == "truncated":
        path = _bad(folder, "hong.docx", _truncated(tmp_path / "full.docx"))
    elif case == "no-table":
        path = _no_table_docx(folder / "khong-bang.docx")
    elif case == "no-header":
        path = _small_docx(
            folder / "khong-tieu-de.docx", [["a", "b"]], header=["Họ tên", "Ghi nhớ"]
        )
    elif case == "missing-lead":
        path = _small_docx(
            folder / "thieu-cot.docx",
            [["1", "Việc", "Quý IV/2013"]],
            header=["Số TT", "Nội dung nhiệm vụ", "Thời gian hoàn thành"],
        )
    elif case == "no-content":
        rows = [
            ["1", "Việc một", "Sở Nội vụ", "", "", "", ""],
            ["2", "", "Sở Nội vụ", "", "", "Quý IV/2013", ""],
        ]
        path = _small_docx(folder / "trong.docx", rows, header=header, heading=False)
    elif case == "duplicate":
        rows = [
            ["1", "Việc một", "Sở Nội vụ", "", "", "", ""],
            ["1", "Việc hai", "Sở Nội vụ", "", "", "", ""],
        ]
        path = _small_docx(folder / "trung.docx", rows, header=header, heading=False)
    elif case == "text-no-header":
        path = _bad(folder, "khong-tieu-de.txt", "Kế hoạch\n\n1\nViệc một\nSở Nội vụ\n")
    elif case == "text-no-content":
        path = _bad(
            folder,
            "trong.txt",
            "Số TT\nNội dung nhiệm vụ\nCơ quan chủ trì\n\n1\nViệc một\nSở Nội vụ\n\n2\n\n3\nViệc ba\nSở Nội vụ\n",
        )
    elif case == "tracking-sheet":
        # The sheet a unit gets back to fill in: one row per unit's task, a hidden key column.
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "Phụ lục"
        ws.append(["STT", "Nội dung nhiệm vụ", "Cơ quan chủ trì", "Thời hạn", "Tình trạng"])
        ws.cell(1, 6, "Mã nhiệm vụ")
        ws.append(["1", "Việc một", "Sở Nội vụ", "Quý IV/2013", "Chưa hoàn thành"])
        ws.cell(2, 6, "kh-67-2013/I.1/tq-so-noi-vu")
        ws.column_dimensions["F"].hidden = True
        path = folder / "theo-doi.xlsx"
        wb.save(str(path))
    else:
        wb = openpyxl.Workbook()
        wb.active.append(["Họ tên", "Điểm"])
        wb.active.append(["An", 9])
        path = folder / "bang.xlsx"
        wb.save(str(path))
    before = sorted(folder.iterdir())
    with pytest.raises(OfficeError) as e:
        result = import_file(path, registry())
        write_draft(folder / "draft.yaml", result.text)  # never reached
    assert str(e.value).startswith(message), str(e.value)
    assert sorted(folder.iterdir()) == before


def test_an_existing_draft_is_not_overwritten_unless_asked(tmp_path: Path) -> None:
    target = tmp_path / "draft.yaml"
    target.write_text("# tay\n", encoding="utf-8")
    with pytest.raises(OfficeError, match="tệp đã có"):
        write_draft(target, "kind: directive\n")
    assert target.read_text(encoding="utf-8") == "# tay\n"
    write_draft(target, "kind: directive\n", overwrite=True)
    assert target.read_text(encoding="utf-8") == "kind: directive\n"
    assert [p.name for p in tmp_path.iterdir()] == ["draft.yaml"]  # no temporary file left
