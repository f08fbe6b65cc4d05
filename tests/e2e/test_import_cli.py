"""``kttt import`` as a coordinator runs it: the seed's appendix (text and Word) to a draft, the
report printed at the end, the draft checked with the registry; bad files refused with exit 1
and nothing written (CliRunner, and a real ``kttt`` process)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers import DIRECTIVES, FIX, KTTT, cli


def _build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_build", FIX / "import" / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _build()
TEXT = FIX / "import" / "kh-67-2013.txt"
REG = [
    str(DIRECTIVES / "units" / "tuyen-quang-2013.yaml"),
    str(DIRECTIVES / "units" / "trung-uong.yaml"),
]
REG_ARGS = [a for r in REG for a in ("--registry", r)]


def test_import_the_seed_text_then_validate_and_load_the_draft(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'kttt.db'}"
    draft = tmp_path / "kh-67-2013.yaml"
    code, out = cli("import", str(TEXT), "-o", str(draft), *REG_ARGS, "--db", db)
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == f"Đã đọc «{TEXT}», dạng văn bản: 5 nhóm, 22 nhiệm vụ."
    assert lines[1] == (
        "Văn bản: Kế hoạch số 67/KH-UBND ngày 01/10/2013, cơ quan ban hành tq-ubnd; "
        "thực hiện 27-CTr/TU, 56-KL/TW; mã chỉ đạo kh-67-2013."
    )
    assert "Giữ nguyên như văn bản ghi (không ánh xạ được vào danh mục) (16):" in lines
    assert "Nhóm riêng khai báo trong bản nháp (ô ghi nhiều cơ quan) (2):" in lines
    assert "Không có tên hay thời hạn nào cần sửa." in lines
    assert f"Đã ghi bản nháp: {draft}" in lines
    assert lines[-1] == "Kiểm tra bản nháp (như kttt validate): hợp lệ, 22 nhiệm vụ."
    code, out = cli("validate", *REG, str(draft), "--db", db)
    assert code == 0 and "Hợp lệ: 2 danh mục đơn vị, 1 văn bản, 22 nhiệm vụ." in out, out
    code, out = cli("load", *REG, str(draft), "--db", db, "--until", "2014-12-31")
    assert code == 0 and "kh-67-2013: 166 nhiệm vụ — thêm 166" in out, out


def test_import_a_word_document_in_a_real_kttt_process(tmp_path: Path) -> None:
    source = build.seed_docx(tmp_path / "Kế hoạch 67.docx")
    env = {**os.environ, "KTTT_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [str(KTTT), "import", str(source), *REG_ARGS, "--db", f"sqlite:///{tmp_path / 'k.db'}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    out = proc.stdout.splitlines()
    assert out[0] == f"Đã đọc «{source}», bảng 2: 5 nhóm, 22 nhiệm vụ."
    assert "Đã ghi bản nháp: Kế hoạch 67.yaml" in out  # default: the file's name, here
    assert out[-1] == "Kiểm tra bản nháp (như kttt validate): hợp lệ, 22 nhiệm vụ."
    draft = (tmp_path / "Kế hoạch 67.yaml").read_text(encoding="utf-8")
    assert draft.startswith("# Bản nháp do `kttt import` tạo từ «")
    assert "\nkind: directive\ncode: kh-67-2013\n" in draft


def test_a_report_written_by_kttt_report_imports_back_as_its_plan(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'kttt.db'}"
    hand = str(DIRECTIVES / "kh-67-2013.yaml")
    code, out = cli("load", *REG, hand, "--db", db, "--until", "2014-12-31")
    assert code == 0, out
    report = tmp_path / "bao-cao.docx"
    code, out = cli(
        "report", "--directive", "kh-67-2013", "--as-of", "2014-06-30", "-f", "docx",
        "-o", str(report), "--issuer", "tq-so-kh-dt", "--place", "Tuyên Quang",
        "--dated", "2014-07-10", "--db", db,
    )  # fmt: skip
    assert code == 0, out
    draft = tmp_path / "ke-hoach.yaml"
    code, out = cli("import", str(report), "-o", str(draft), *REG_ARGS, "--db", db)
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == f"Đã đọc «{report}», bảng 5: 6 nhóm, 25 nhiệm vụ."
    assert lines[1] == (
        "Văn bản: Kế hoạch số 67/KH-UBND ngày 01/10/2013, cơ quan ban hành tq-ubnd; "
        "mã chỉ đạo kh-67-2013."
    )
    # The plan's title is not in the report: the one thing to fix, and the one the check finds.
    assert "Cần sửa trước khi nạp (bản nháp chưa hợp lệ cho đến khi sửa) (1):" in lines
    assert lines[-1] == f"  {draft}:14:10: trường 'title' cần một chuỗi văn bản không rỗng"
    text = draft.read_text(encoding="utf-8")
    assert "Chưa hoàn thành" not in text  # the report's statuses stay out of the plan
    draft.write_text(text.replace("  title: ''\n", "  title: Kế hoạch 67\n"), encoding="utf-8")
    code, out = cli("validate", *REG, str(draft), "--db", db)
    assert code == 0 and "Hợp lệ: 2 danh mục đơn vị, 1 văn bản, 25 nhiệm vụ." in out, out


def test_an_existing_draft_is_kept_unless_force(tmp_path: Path) -> None:
    draft = tmp_path / "d.yaml"
    draft.write_text("# bản sửa tay\n", encoding="utf-8")
    code, out = cli(
        "import", str(TEXT), "-o", str(draft), *REG_ARGS, "--db", f"sqlite:///{tmp_path / 'k.db'}"
    )
    assert code == 1
    assert (
        f"Lỗi: {draft}: tệp đã có; chọn tên khác (-o) hoặc thêm --force để ghi đè. Không ghi tệp nào."
        in out
    )
    assert draft.read_text(encoding="utf-8") == "# bản sửa tay\n"
    code, out = cli(
        "import",
        str(TEXT),
        "-o",
        str(draft),
        "--force",
        *REG_ARGS,
        "--db",
        f"sqlite:///{tmp_path / 'k.db'}",
    )
    assert code == 0, out
    assert "kind: directive" in draft.read_text(encoding="utf-8")


def _docx(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    import docx

    doc = docx.Document()
    table = doc.add_table(rows=0, cols=len(header))
    for values in [header, *rows]:
        cells = table.add_row().cells
        for j, v in enumerate(values):
            cells[j].text = v
    doc.save(str(path))
    return path


@pytest.mark.parametrize(
    ("case", "says"),
    [
        (
            "doc",
            "cu.doc: tệp Word 97–2003 (.doc) không được hỗ trợ; hãy mở bằng Word và lưu dưới dạng Tài liệu Word (.docx)",
        ),
        ("encrypted", "mat-khau.docx: tệp được đặt mật khẩu (mã hóa) nên không đọc được"),
        ("no-table", "rong.docx: không có bảng nào trong tệp"),
        (
            "columns",
            "cot.docx: bảng 1, dòng 1: bảng nhiệm vụ thiếu cột. Các cột tìm thấy: «STT», «Nội dung», «Ghi chú». Cần thêm: «Cơ quan chủ trì»",
        ),
        ("no-content", "trong.docx: bảng 1, dòng 2: nhiệm vụ số 1 không có nội dung"),
        ("missing", "khong-co.docx: không tìm thấy tệp"),
    ],
)
def test_bad_input_exits_1_and_writes_nothing(case: str, says: str, tmp_path: Path) -> None:
    import docx

    folder = tmp_path / "in"
    folder.mkdir()
    if case == "doc":
        path = folder / "cu.doc"
        path.write_bytes(build.old_word())
    elif case == "encrypted":
        path = folder / "mat-khau.docx"
        path.write_bytes(build.encrypted_office())
    elif case == "no-table":
        path = folder / "rong.docx"
        d = docx.Document()
        d.add_paragraph("KẾ HOẠCH")
        d.save(str(path))
    elif case == "columns":
        path = _docx(folder / "cot.docx", ["STT", "Nội dung", "Ghi chú"], [["1", "Việc", ""]])
    elif case == "no-content":
        path = _docx(folder / "trong.docx", build.HEADER, [["1", "", "Sở Nội vụ", "", "", "", ""]])
    else:
        path = folder / "khong-co.docx"
    before = sorted(folder.iterdir())
    draft = folder / "draft.yaml"
    code, out = cli(
        "import", str(path), "-o", str(draft), *REG_ARGS, "--db", f"sqlite:///{tmp_path / 'k.db'}"
    )
    assert code == 1, out
    assert f"Lỗi: {folder}/{says}" in out and "Không ghi tệp nào." in out, out
    assert sorted(folder.iterdir()) == before and not draft.exists()


def test_a_wrong_registry_stops_the_import_before_anything_is_written(tmp_path: Path) -> None:
    registry = tmp_path / "dm.yaml"
    registry.write_text("kind: registry\nunits:\n  - code: x\n", encoding="utf-8")
    draft = tmp_path / "d.yaml"
    code, out = cli("import", str(TEXT), "-o", str(draft), "--registry", str(registry))
    assert code == 1, out
    assert f"{registry}:3:5: thiếu trường bắt buộc 'name'" in out
    assert "Lỗi: danh mục đơn vị (--registry) có 2 lỗi; sửa rồi chạy lại. Không ghi tệp nào." in out
    assert not draft.exists()


def test_names_that_cannot_be_mapped_are_listed_and_the_check_says_where(tmp_path: Path) -> None:
    path = _docx(
        tmp_path / "t.docx",
        build.HEADER,
        [
            [
                "1",
                "Nhiệm vụ",
                "Sở Du lịch",
                "Sở Nội vụ và các ngành liên quan",
                "",
                "Quý IV/2013",
                "",
            ]
        ],
    )
    draft = tmp_path / "t.yaml"
    code, out = cli(
        "import", str(path), "-o", str(draft), *REG_ARGS, "--db", f"sqlite:///{tmp_path / 'k.db'}"
    )
    assert code == 0, out  # a draft with names to fix is still a draft
    lines = out.splitlines()
    assert "Cần sửa trước khi nạp (bản nháp chưa hợp lệ cho đến khi sửa) (4):" in lines
    assert (
        "  - bảng 1, dòng 2 (1), cơ quan chủ trì: «Sở Du lịch»: không tìm thấy trong danh mục đơn vị"
        in lines
    )
    assert (
        "  - bảng 1, dòng 2 (1), cơ quan phối hợp: «các ngành liên quan» → coordinating_other"
        in lines
    )
    assert any(
        x.startswith("Kiểm tra bản nháp (như kttt validate): ") and " lỗi" in x for x in lines
    )
    assert any(
        x.startswith(f"  {draft}:") and "không tìm thấy đơn vị hoặc nhóm 'Sở Du lịch'" in x
        for x in lines
    )


def test_without_a_registry_the_names_stay_as_written_and_nothing_is_checked(
    tmp_path: Path,
) -> None:
    draft = tmp_path / "d.yaml"
    code, out = cli("import", str(TEXT), "-o", str(draft))
    assert code == 0, out
    assert (
        "Chưa có danh mục đơn vị (--registry): tên cơ quan được giữ nguyên như văn bản ghi." in out
    )
    assert out.rstrip().endswith(
        "Chưa kiểm tra bản nháp: cần danh mục đơn vị (--registry) hoặc cơ sở dữ liệu (--db)."
    )
    assert "lead: Các sở, ban, ngành; UBND huyện, thành phố\n" in draft.read_text(encoding="utf-8")


def test_help_lists_import() -> None:
    code, out = cli("--help")
    assert code == 0 and "import" in out
    code, out = cli("import", "--help")
    assert code == 0 and "--registry" in out and "--force" in out
