"""The parts of ``kttt import``, on values in memory: names folded and matched to registry codes,
cells naming several bodies, header words, the flattened form's cells put into columns, the
document's heading, the YAML writer, and the kind of a file told by its bytes."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from datetime import date
from types import ModuleType
from typing import Any

import pytest

from kttt_workflow.domain.registry import GroupInfo, Registry, UnitInfo
from kttt_workflow.inputs.office_heading import cited_document, read_heading, repair, symbol_type
from kttt_workflow.inputs.office_names import (
    ABBREVIATIONS,
    Matcher,
    fold,
    is_vague,
    split_bodies,
)
from kttt_workflow.inputs.office_read import Grid, OfficeError, read_source
from kttt_workflow.inputs.office_table import ROLE_NAMES, assign, features, role_of
from kttt_workflow.inputs.office_yaml import IsoDate, render, scalar
from kttt_workflow.inputs.reader import parse_yaml
from tests.helpers import FIX, ROOT


def _build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_build", FIX / "import" / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _build()


def _registry() -> Registry:
    """Two provinces with bodies of the same names, and groups, as directives/units/ has them."""

    def unit(code: str, name: str, *aliases: str, valid_to: date | None = None) -> UnitInfo:
        return UnitInfo(code, name, "so", aliases=aliases, valid_to=valid_to)

    units = [
        unit("tq-ubnd", "Ủy ban nhân dân tỉnh Tuyên Quang", "UBND tỉnh Tuyên Quang"),
        unit("tq-so-kh-dt", "Sở Kế hoạch và Đầu tư tỉnh Tuyên Quang", "Sở KH&ĐT Tuyên Quang"),
        unit("tq-so-noi-vu", "Sở Nội vụ tỉnh Tuyên Quang"),
        unit("tq-so-ld", "Sở Lao động, Thương binh và Xã hội tỉnh Tuyên Quang"),
        unit("tq-lm-htx", "Liên minh Hợp tác xã tỉnh Tuyên Quang"),
        unit("tq-truong", "Các trường chuyên nghiệp của tỉnh Tuyên Quang"),
        unit(
            "tq-btv",
            "Ban Thường vụ Tỉnh ủy Tuyên Quang",
            "Ban Thường vụ Tỉnh ủy Tuyên Quang (khoá XV)",
        ),
        unit("bg-ubnd", "Ủy ban nhân dân tỉnh Bắc Giang", valid_to=date(2025, 6, 30)),
        unit("bg-so-kh-dt", "Sở Kế hoạch và Đầu tư tỉnh Bắc Giang"),
        unit("ubnd-a", "Ủy ban nhân dân huyện A"),
        unit("ubnd-b", "Ủy ban nhân dân huyện B"),
    ]
    groups = [
        GroupInfo("tq-huyen", "UBND các huyện", ("ubnd-a", "ubnd-b"), ("UBND huyện, thành phố",)),
        GroupInfo(
            "tq-so",
            "Các sở, ban, ngành tỉnh Tuyên Quang",
            ("tq-so-kh-dt", "tq-so-noi-vu"),
            ("Các sở, ban, ngành",),
        ),
        GroupInfo(
            "tq-so-huyen",
            "Các sở; huyện",
            ("tq-so", "tq-huyen"),
            ("Các sở, ban, ngành; UBND huyện, thành phố",),
        ),
    ]
    return Registry({"so": "Sở"}, {u.code: u for u in units}, {g.code: g for g in groups})


ON = date(2013, 10, 1)


# --------------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("short", "long"), ABBREVIATIONS)
def test_every_abbreviation_folds_to_what_it_stands_for(short: str, long: str) -> None:
    assert fold(f"Sở {short} tỉnh") == fold(f"Sở {long} tỉnh")


def test_case_punctuation_tone_placement_and_ampersand_are_folded() -> None:
    assert fold("UỶ BAN NHÂN DÂN TỈNH (khoá XV)") == fold("Ủy ban nhân dân tỉnh - khóa XV")
    assert fold("Sở KH & ĐT") == fold("sở kế hoạch và đầu tư")
    assert fold("Sở Lao động - Thương binh và Xã hội") == fold("Sở LĐTBXH")
    assert fold("thuỷ lợi, hoà giải") == fold("thủy lợi hòa giải")
    assert fold("Quý IV") == ("quý", "iv")  # "qu" is a consonant: the tone stays where it is
    assert fold("Tha\u0300nh phô\u0301") == fold("thành phố")  # NFD input


def test_the_documents_place_is_dropped_from_registry_names() -> None:
    m = Matcher(_registry(), ON, "Tuyên Quang")
    assert m.match("Sở Nội vụ").code == "tq-so-noi-vu"
    assert m.match("Sở Kế hoạch và Đầu tư").code == "tq-so-kh-dt"  # Bắc Giang's has the name too
    assert m.match("Sở KH&ĐT").code == "tq-so-kh-dt"
    assert m.match("UBND tỉnh").code == "tq-ubnd"
    assert m.match("Liên minh Hợp tác xã tỉnh").code == "tq-lm-htx"
    assert m.match("các trường chuyên nghiệp").code == "tq-truong"  # "… của tỉnh Tuyên Quang"
    assert m.match("Ban Thường vụ Tỉnh ủy (khoá XV)").code == "tq-btv"
    assert m.match("UỶ BAN NHÂN DÂN TỈNH TUYÊN QUANG").code == "tq-ubnd"


def test_without_a_place_a_name_of_several_provinces_is_ambiguous_never_guessed() -> None:
    m = Matcher(_registry(), ON, None)
    kh = m.match("Sở Kế hoạch và Đầu tư")
    assert kh.code is None and kh.ambiguous and set(kh.candidates) == {"tq-so-kh-dt", "bg-so-kh-dt"}
    assert m.match("Sở Nội vụ").code == "tq-so-noi-vu"  # one province has it: unique
    # A unit that ceased before the document's date does not make the name ambiguous.
    assert Matcher(_registry(), date(2026, 1, 1), None).match("UBND tỉnh").code == "tq-ubnd"


def test_an_unknown_name_gets_close_registry_names() -> None:
    m = Matcher(_registry(), ON, "Tuyên Quang").match("Sở Nội vụ tỉnh Tuyen Quang", suggest=True)
    assert m.code is None and m.close == ("tq-so-noi-vu (Sở Nội vụ tỉnh Tuyên Quang)",)


def test_a_cell_naming_several_bodies_is_split_at_the_longest_names() -> None:
    m = Matcher(_registry(), ON, "Tuyên Quang")
    parts = split_bodies(
        "Sở Kế hoạch và Đầu tư, Sở Lao động, Thương binh và Xã hội, Liên minh Hợp tác xã tỉnh "
        "và các cơ quan liên quan",
        m,
    )
    assert [(p.kind, p.code or p.text) for p in parts] == [
        ("unit", "tq-so-kh-dt"),
        ("unit", "tq-so-ld"),
        ("unit", "tq-lm-htx"),
        ("vague", "các cơ quan liên quan"),
    ]


def test_a_semicolon_separates_coordinators_and_unknown_names_stay_as_written() -> None:
    m = Matcher(_registry(), ON, "Tuyên Quang")
    parts = split_bodies("Các sở, ban, ngành; UBND huyện, thành phố", m)
    assert [p.code for p in parts] == ["tq-so", "tq-huyen"]
    parts = split_bodies("Sở Du lịch, Sở Ngoại vụ và các sở, ban, ngành liên quan", m)
    assert [(p.kind, p.text) for p in parts] == [
        ("unknown", "Sở Du lịch"),
        ("unknown", "Sở Ngoại vụ"),
        ("vague", "các sở, ban, ngành liên quan"),
    ]
    # A lead cell is matched whole by the caller: a registry group named like the whole cell.
    assert m.match("Các sở, ban, ngành; UBND huyện, thành phố").code == "tq-so-huyen"


def test_vague_bodies() -> None:
    assert is_vague("Các cơ quan có liên quan") and is_vague("các ngành liên quan")
    assert not is_vague("Sở Nội vụ")


# --------------------------------------------------------------------------------------------------
# Headers and the flattened form
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "role"),
    [
        ("Số TT", "number"),
        ("STT", "number"),
        ("Nội dung nhiệm vụ", "title"),
        ("Nhiệm vụ", "title"),
        ("Cơ quan chủ trì", "lead"),
        ("Đơn vị chủ trì thực hiện", "lead"),
        ("Cơ quan thực hiện Chủ trì", "lead"),
        ("Cơ quan phối hợp", "coordinating"),
        ("Cơ quan thực hiện Phối hợp", "coordinating"),
        ("Sản phẩm, yêu cầu đạt được", "deliverable"),
        ("Thời gian hoàn thành", "deadline"),
        ("Thời gian thực hiện", "deadline"),
        ("Cấp ban hành", "issuing"),
        ("Cơ quan quyết định ban hành", "issuing"),
        ("Ghi chú", "note"),
        ("Kinh phí", None),
        # A progress report's columns: the status is known (and left out of the draft), its
        # counts name no column ("Tổng số nhiệm vụ" is not the content, "% …" not a deadline).
        ("Tình trạng", "status"),
        ("Tổng số nhiệm vụ", None),
        ("Tỷ lệ hoàn thành % số nhiệm vụ đến hạn", None),
        ("% tổng số nhiệm vụ được giao", None),
        ("Số lượng nhiệm vụ hoàn thành", None),
        (
            "Tổ chức quán triệt, tuyên truyền, phổ biến sâu rộng Nghị quyết Trung ương 5 (khóa IX)",
            None,
        ),
    ],
)
def test_header_words(header: str, role: str | None) -> None:
    assert role_of(header) == role


ROLES = ["number", "title", "lead", "coordinating", "deliverable", "deadline", "issuing"]
LABELS = [ROLE_NAMES[r] for r in ROLES]


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        # I.1: lead, deliverable, deadline (no coordinating cell)
        (
            [
                "Nội dung",
                "Các sở, ban, ngành; UBND huyện, thành phố",
                "Hội nghị tuyên truyền, phổ biến",
                "Quý IV/2013",
            ],
            ["title", "lead", "deliverable", "deadline"],
        ),
        # I.4: lead, coordinating, deliverable; no deadline ("Các bài giảng theo hướng dẫn …")
        (
            [
                "Nội dung",
                "Sở Nội vụ",
                "Các cơ quan có liên quan",
                "Các bài giảng theo hướng dẫn của Trung ương",
            ],
            ["title", "lead", "coordinating", "deliverable"],
        ),
        # II.1: lead, deadline
        (["Nội dung", "Sở Nội vụ", "Thường xuyên"], ["title", "lead", "deadline"]),
        # V.1: all five columns
        (
            [
                "Nội dung",
                "Sở Nội vụ",
                "Các ngành liên quan, Liên minh Hợp tác xã tỉnh",
                "Quyết định sửa đổi, bổ sung Điều lệ",
                "Theo nhiệm kỳ của Liên minh Hợp tác xã tỉnh",
                "UBND tỉnh",
            ],
            ["title", "lead", "coordinating", "deliverable", "deadline", "issuing"],
        ),
    ],
)
def test_a_flattened_rows_cells_go_where_what_they_say_fits(
    cells: list[str], expected: list[str]
) -> None:
    m = Matcher(_registry(), ON, "Tuyên Quang")
    task = assign("1", cells, ROLES, LABELS, lambda t: features(t, m), "dòng 1", "I")
    assert list(task.cells) == expected and task.uncertain is None
    assert task.id == "I.1"


def test_a_flattened_row_that_can_be_read_two_ways_is_flagged() -> None:
    m = Matcher(_registry(), ON, "Tuyên Quang")
    # One body after the lead: a coordinator, or the body that issues? Both fit equally.
    task = assign(
        "2",
        ["Nội dung", "Sở Nội vụ", "UBND tỉnh"],
        ROLES,
        LABELS,
        lambda t: features(t, m),
        "dòng 9",
        None,
    )
    assert task.uncertain is not None and "nhiều cách" in task.uncertain


def test_a_flattened_row_with_more_cells_than_columns_is_an_error() -> None:
    with pytest.raises(OfficeError, match="nhiều hơn số cột"):
        assign("3", ["a"] * 8, ROLES, LABELS, lambda t: features(t, None), "dòng 3", None)


# --------------------------------------------------------------------------------------------------
# The heading
# --------------------------------------------------------------------------------------------------
def test_the_seed_heading_gives_symbol_date_place_issuer_title_and_what_it_implements() -> None:
    info = read_heading(build.heading_lines() + build.appendix_lines())
    assert (info.type, info.symbol, info.date, info.place) == (
        "plan",
        "67/KH-UBND",
        ON,
        "Tuyên Quang",
    )
    assert info.issuer == "UỶ BAN NHÂN DÂN TỈNH TUYÊN QUANG"
    assert info.title is not None and info.title.startswith("THỰC HIỆN CHƯƠNGTRÌNH HÀNH ĐỘNG")
    assert "KẾT LUẬN SỐ 56-KL/TW" in info.title  # "SỐ56" spaced again, nothing else changed
    assert [(r.type, r.symbol, r.date, r.issuer) for r in info.implements] == [
        ("action_programme", "27-CTr/TU", date(2013, 6, 20), "Ban Thường vụ Tỉnh ủy (khoá XV)"),
        ("conclusion", "56-KL/TW", date(2013, 2, 21), "Bộ Chính trị"),
    ]
    assert info.appendix


def test_an_appendix_alone_says_what_it_is_attached_to() -> None:
    info = read_heading(build.appendix_lines())
    assert (info.type, info.symbol, info.date, info.title) == ("plan", "67/KH-UBND", ON, None)
    assert info.issuer == "Ủy ban nhân dântỉnh"  # as the seed writes it (words glued by the PDF)


def test_a_reports_appendix_names_the_plan_its_table_is_of() -> None:
    lines = [
        "BÁO CÁO",
        "Tình hình thực hiện Kế hoạch số 67/KH-UBND ngày 01/10/2013 của Ủy ban nhân dân tỉnh",
        "Phụ lục I",
        "TÌNH HÌNH THỰC HIỆN CÁC NHIỆM VỤ",
        "(Kèm theo Báo cáo số …/BC-… ngày … tháng … năm … của …)",
        "(Kế hoạch số 67/KH-UBND ngày 01/10/2013 của Ủy ban nhân dân tỉnh Tuyên Quang)",
    ]
    info = cited_document(lines)
    assert info is not None
    assert (info.type, info.symbol, info.date, info.issuer, info.title) == (
        "plan",
        "67/KH-UBND",
        ON,
        "Ủy ban nhân dân tỉnh Tuyên Quang",
        None,
    )
    # A report covering several documents numbers them above their tables.
    several = cited_document(
        [*lines[:5], "1. Kế hoạch số 67/KH-UBND ngày 01/10/2013 của UBND tỉnh"]
    )
    assert several is not None and (several.symbol, several.issuer) == ("67/KH-UBND", "UBND tỉnh")
    # The report's own line, or a line citing nothing, is no plan.
    assert cited_document(lines[:5]) is None
    assert cited_document(["(Số liệu tính đến hết ngày 30/06/2014)"]) is None


def _docx_bytes(build_cell: Callable[[Any], None]) -> bytes:
    import io

    import docx

    doc = docx.Document()
    cell = doc.add_table(rows=1, cols=1).cell(0, 0)
    build_cell(cell)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def test_a_cell_is_read_as_shown_with_tracked_changes_accepted() -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def tracked(cell: Any) -> None:
        p = cell.paragraphs[0]
        p.add_run("Sở ")
        for tag, text in (("w:del", "Tài chính"), ("w:ins", "Nội vụ")):
            change = OxmlElement(tag)
            change.set(qn("w:id"), "1")
            change.set(qn("w:author"), "VP")
            run = OxmlElement("w:r")
            t = OxmlElement("w:delText" if tag == "w:del" else "w:t")
            t.text = text
            run.append(t)
            change.append(run)
            p._p.append(change)
        link = OxmlElement("w:hyperlink")
        run = OxmlElement("w:r")
        t = OxmlElement("w:t")
        t.text = " tỉnh"
        run.append(t)
        link.append(run)
        p._p.append(link)

    source = read_source(_docx_bytes(tracked), "sua.docx", max_bytes=1 << 20)
    (grid,) = [b for b in source.blocks if isinstance(b, Grid)]
    assert grid.texts(0) == ["Sở Nội vụ tỉnh"]


def test_glued_words_are_spaced_only_at_symbols() -> None:
    assert repair("Kết luận số56-KL/TW, Chương trình 27-CTr/TUngày 20/6/2013") == (
        "Kết luận số 56-KL/TW, Chương trình 27-CTr/TU ngày 20/6/2013"
    )
    assert symbol_type("67/KH-UBND") == "plan" and symbol_type("27-CTr/TU") == "action_programme"
    assert symbol_type("09/2019/NĐ-CP") == "decree"


# --------------------------------------------------------------------------------------------------
# YAML
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "67/KH-UBND",
        "0o17",
        "12:30",
        "yes",
        "-7",
        "!!python/object/apply:os.system",
        "*a",
        "&b x",
        "a: b",
        "x # y",
        "=",
        "2013-10-01",
        "'quoted'",
        '"dq"',
        "~",
        "null",
        "Thường xuyên",
    ],
)
def test_every_text_is_written_so_that_it_reads_back_as_that_text(text: str) -> None:
    doc, issues = parse_yaml(f"v: {scalar(text)}\n", "t")
    assert not issues and doc is not None and doc.data == {"v": text}


def test_the_writer_reads_its_own_text_back_with_comments_beside_the_fields() -> None:
    long = "Tổ chức quán triệt, tuyên truyền " * 6 + "#1 &a *b: c"
    data = {
        "kind": "directive",
        "document": {"date": IsoDate("2013-10-01"), "title": long.strip()},
        "tasks": [{"id": "I.1", "coordinating": ["tq-a", "Sở Du lịch"], "deadline": None}],
    }
    text = render(
        data,
        ["đầu tệp"],
        {("tasks", 0): ["", "bảng 2, dòng 4"]},
        {("tasks", 0, "coordinating", 1): "KHÔNG TÌM THẤY"},
    )
    assert "title: >-" in text and "date: 2013-10-01\n" in text
    assert "- Sở Du lịch  # KHÔNG TÌM THẤY" in text and "# bảng 2, dòng 4" in text
    doc, _ = parse_yaml(text, "t")
    assert doc is not None and doc.data["document"]["title"] == long.strip()


# --------------------------------------------------------------------------------------------------
# The kind of a file, by its bytes
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "says"),
    [
        (build.old_word(), "Word 97–2003 (.doc)"),
        (build.encrypted_office(), "đặt mật khẩu"),
        (b"%PDF-1.7\n%...", "PDF"),
        (b"{\\rtf1\\ansi}", "RTF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "không phải tài liệu Word"),
        (b"PK\x03\x04garbage", "ZIP hỏng"),
        ("Số TT\nNội dung".encode("utf-16"), "UTF-16"),
        ("Nội dung".encode("cp1258", errors="replace") + b"\xff\xfe\xfa", "không phải mã UTF-8"),
    ],
)
def test_a_file_is_told_by_its_bytes_and_refused_with_what_to_do(data: bytes, says: str) -> None:
    with pytest.raises(OfficeError) as e:
        read_source(data, "tệp-vào.docx", max_bytes=1 << 20)
    assert str(e.value).startswith("tệp-vào.docx: ") and says in str(e.value)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(OfficeError, match="quá lớn"):
        read_source(b"x" * 2048, "lớn.txt", max_bytes=1024)


def test_docs_list_every_abbreviation() -> None:
    doc = (ROOT / "docs" / "import.md").read_text(encoding="utf-8")
    table = doc.split("| abbreviation | stands for |\n|---|---|\n", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"^\| `([^`]+)` \| ([^|]+?) \|$", table, re.MULTILINE))
    assert listed == set(ABBREVIATIONS)
