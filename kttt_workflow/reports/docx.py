"""The report as a Word document (python-docx) in the layout of Nghị định 30/2020/NĐ-CP, Phụ lục I
(thể thức văn bản hành chính), ready to be numbered, signed and sent:

* A4 portrait; margins top and bottom 20 mm, left 30 mm, right 15 mm; Times New Roman, body
  14 pt, paragraphs justified with a first-line indent, 6 pt between paragraphs; page numbers
  centred in the header from the second page;
* the heading block: the issuing body on the left (its superior above it, the body in bold, a
  short rule), "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" / "Độc lập - Tự do - Hạnh phúc" on the right;
  the number and symbol left for the office ("Số: …/BC-…"); the place and date line;
* the title "BÁO CÁO" and what it is about; the sections: I. Kết quả thực hiện (the summary across
  documents with both percentages, the tables by document, by unit — the most behind first — and
  by level, each with its "Cộng" row; the overdue tasks), II. Tồn tại, hạn chế and III. Đề xuất,
  kiến nghị (placeholders for the office to write); "Nơi nhận" and the signature block;
* the appendices in a landscape section: Phụ lục I, the plan's tasks (STT, Nội dung nhiệm vụ, Cơ
  quan chủ trì, Cơ quan phối hợp, Sản phẩm, Thời hạn, Tình trạng, Ghi chú) under the plan's group
  headings (I, II…), the header row repeated on every page; Phụ lục II, the overdue tasks (the
  longest overdue first); Phụ lục III, every unit when the body shows only the most behind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from kttt_workflow.domain.periods import written_date
from kttt_workflow.domain.progress import (
    APART_NOTE,
    BODY_UNITS,
    COMPACT,
    TOTAL,
    PlanTable,
    ProgressReport,
    ProgressRow,
    fmt_int,
    overdue_age_label,
)
from kttt_workflow.reports.files import write_atomically

FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 10.5
APPENDIX_PT = 12
PORTRAIT = (Mm(210), Mm(297))
MARGINS = {"top": Mm(20), "bottom": Mm(20), "left": Mm(30), "right": Mm(15)}
PLACEHOLDER = "…"
# The appendix's columns and their widths in mm (landscape A4: 297 - 30 - 15 = 252 mm).
APPENDIX_COLUMNS: tuple[tuple[str, float], ...] = (
    ("STT", 12),
    ("Nội dung nhiệm vụ", 67),
    ("Cơ quan chủ trì", 34),
    ("Cơ quan phối hợp", 34),
    ("Sản phẩm", 24),
    ("Thời hạn", 21),
    ("Tình trạng", 28),
    ("Ghi chú", 32),
)
OVERDUE_COLUMNS: tuple[tuple[str, float], ...] = (
    ("STT", 12),
    ("Nội dung nhiệm vụ", 88),
    ("Cơ quan chủ trì", 44),
    ("Thời hạn", 34),
    ("Hạn hoàn thành", 24),
    ("Số ngày quá hạn", 16),
    ("Thời gian quá hạn", 18),
    ("Ghi chú", 16),
)
OVERDUE_PT = 11
TITLE_CHARS = 160  # the overdue list shortens a task's content (Phụ lục I has it whole)


@dataclass(frozen=True)
class Letter:
    """What the office writes around the figures: who issues the report (and its superior),
    where and when, to whom, and who signs."""

    issuer: str | None = None  # "Sở Kế hoạch và Đầu tư tỉnh Tuyên Quang"
    superior: str | None = None  # "Ủy ban nhân dân tỉnh Tuyên Quang"
    place: str | None = None  # "Tuyên Quang"
    dated: date | None = None
    symbol: str = "BC-" + PLACEHOLDER  # the part after "Số: …/"
    recipients: Sequence[str] = field(default_factory=list)
    signer_title: str | None = None  # "KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC"
    signer: str | None = None


def write_docx(report: ProgressReport, path: Path, letter: Letter | None = None) -> Path:
    """Write ``report`` as a .docx to ``path``, atomically."""
    doc = build_docx(report, letter or Letter())
    return write_atomically(path, lambda tmp: doc.save(str(tmp)))


def build_docx(report: ProgressReport, letter: Letter) -> Any:
    doc = Document()
    _base_style(doc)
    section = doc.sections[0]
    _page(section, landscape=False)
    _page_numbers(section)
    w = _Writer(doc, Mm(210 - 30 - 15))
    w.heading_block(report, letter)
    w.title(report)
    w.body(report)
    w.closing(report, letter)
    w.appendices(report, letter)
    return doc


# --------------------------------------------------------------------------------------------------
# Page, styles and low-level helpers
# --------------------------------------------------------------------------------------------------
def _base_style(doc: Any) -> None:
    for name in ("Normal", "Table Grid"):
        style = doc.styles[name]
        style.font.name = FONT
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = OxmlElement("w:rFonts")
            rpr.append(fonts)
        for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
            fonts.set(qn(attr), FONT)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    pf = normal.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(6)
    pf.line_spacing = 1.15
    doc.core_properties.language = "vi-VN"
    doc.core_properties.title = "Báo cáo tình hình thực hiện nhiệm vụ"
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "vi-VN")
    normal.element.get_or_add_rPr().append(lang)


def _page(section: Any, landscape: bool) -> None:
    width, height = PORTRAIT
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = height, width
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = width, height
    for side, value in MARGINS.items():
        setattr(section, f"{side}_margin", value)
    section.header_distance = Mm(10)
    section.footer_distance = Mm(10)


def _field(paragraph: Any, instruction: str) -> None:
    """A Word field (``PAGE``) in ``paragraph``."""
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, instruction), ("separate", None), (None, "2"),
                       ("end", None)):  # fmt: skip
        if kind is not None:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
            run._r.append(el)
        elif text == instruction:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {instruction} "
            run._r.append(el)
        else:
            el = OxmlElement("w:t")
            el.text = text
            run._r.append(el)


def _page_numbers(section: Any) -> None:
    """Page numbers centred at the top from the second page (the first page has none)."""
    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.space_after = Pt(0)
    _field(p, "PAGE")


def _rule(paragraph: Any, indent_mm: float) -> None:
    """A short horizontal rule under a line of the heading block (a bottom border, the
    paragraph indented so that the rule is as long as the text above it)."""
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(k), v)
    borders.append(bottom)
    ppr.append(borders)
    paragraph.paragraph_format.left_indent = Mm(indent_mm)
    paragraph.paragraph_format.right_indent = Mm(indent_mm)


def _no_borders(table: Any) -> None:
    tblpr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tblpr.append(borders)


def _fixed(table: Any, widths: Sequence[Any]) -> None:
    """Column widths that Word and LibreOffice both keep (fixed layout, every cell set)."""
    table.autofit = False
    tblpr = table._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tblpr.append(layout)
    for i, width in enumerate(widths):
        table.columns[i].width = width
        for cell in table.columns[i].cells:
            cell.width = width


def _narrow_cells(table: Any, mm: float = 0.8) -> None:
    """Cell margins of ``mm`` on the left and right (Word's default is 1.9 mm): a count
    table's narrow columns keep whole words ("Không", "nhiệm vụ") on one line."""
    tblpr = table._tbl.tblPr
    mar = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(round(mm * 56.7)))
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    tblpr.append(mar)


def _repeat_header(row: Any) -> None:
    """The row is repeated at the top of every page the table runs onto."""
    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)


def _keep_row(row: Any) -> None:
    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:cantSplit")
    el.set(qn("w:val"), "true")
    trpr.append(el)


def _text(
    cell_or_doc: Any,
    text: str,
    *,
    size: float = BODY_PT,
    bold: bool = False,
    italic: bool = False,
    align: Any = WD_ALIGN_PARAGRAPH.CENTER,
    after: float = 0,
    upper: bool = False,
    first: bool = False,
) -> Any:
    """A paragraph of one run, in a cell (its first, empty paragraph is reused) or the body."""
    paragraphs = getattr(cell_or_doc, "paragraphs", None)
    if first and paragraphs and not paragraphs[0].text:
        p = paragraphs[0]
    else:
        p = cell_or_doc.add_paragraph()
    p.alignment = align
    p.paragraph_format.space_after = Pt(after)  # Normal: no indent, nothing before, 6 pt after
    run = p.add_run(text.upper() if upper else text)
    run.font.size = Pt(size)
    if bold:  # only what differs from Normal: thousands of table cells stay small and fast
        run.bold = True
    if italic:
        run.italic = True
    return p


# --------------------------------------------------------------------------------------------------
# The document
# --------------------------------------------------------------------------------------------------
class _Writer:
    def __init__(self, doc: Any, width: Any) -> None:
        self.doc, self.width = doc, width

    # -- heading block -----------------------------------------------------------------------
    def heading_block(self, report: ProgressReport, letter: Letter) -> None:
        left, right = Mm(70), self.width - Mm(70)
        t = self.doc.add_table(rows=2, cols=2)
        _no_borders(t)
        _fixed(t, [left, right])
        a, b = t.cell(0, 0), t.cell(0, 1)
        issuer = letter.issuer or "TÊN CƠ QUAN, TỔ CHỨC BÁO CÁO"
        if letter.superior:
            _text(a, letter.superior, size=12, upper=True, first=True)
            _text(a, issuer, size=12, bold=True, upper=True)
        else:
            _text(a, issuer, size=12, bold=True, upper=True, first=True)
        _rule(_text(a, "", size=4), 20)
        _text(b, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12, bold=True, first=True)
        _text(b, "Độc lập - Tự do - Hạnh phúc", size=13, bold=True)
        _rule(_text(b, "", size=4), 22)
        c, d = t.cell(1, 0), t.cell(1, 1)
        _text(c, f"Số: {PLACEHOLDER}/{letter.symbol}", size=13, first=True)
        place = letter.place or PLACEHOLDER * 3
        when = written_date(letter.dated) if letter.dated else "ngày … tháng … năm …"
        _text(d, f"{place}, {when}", size=14, italic=True, first=True)
        for cell in (c, d):
            cell.paragraphs[0].paragraph_format.space_before = Pt(6)

    def title(self, report: ProgressReport) -> None:
        _text(self.doc, "", size=8)
        _text(self.doc, "BÁO CÁO", size=14, bold=True)
        p = _text(self.doc, report.subject, size=14, bold=True)
        _rule(_text(self.doc, "", size=4, after=12), 55)
        p.paragraph_format.left_indent = Mm(10)
        p.paragraph_format.right_indent = Mm(10)

    # -- body --------------------------------------------------------------------------------
    def para(self, segments: Sequence[tuple[str, bool]] | str, italic: bool = False) -> Any:
        p = self.doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        p.paragraph_format.first_line_indent = Mm(12.7)
        if isinstance(segments, str):
            segments = [(segments, False)]
        for text, bold in segments:
            run = p.add_run(text)
            run.bold = bold
            run.italic = italic
        return p

    def head(self, text: str, level: int = 1) -> None:
        p = self.doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        p.paragraph_format.first_line_indent = Mm(12.7)
        p.paragraph_format.keep_with_next = True
        run = p.add_run(text)
        run.bold = True
        run.italic = level > 1

    def body(self, report: ProgressReport) -> None:
        self.head("I. KẾT QUẢ THỰC HIỆN")
        self.para(report.cutoff_text())
        self.head("1. Tổng hợp chung", 2)
        for segments in report.summary():
            self.para(segments)
        docs = report.directive_rows()
        total = report.total_row()
        n = 2
        if len(docs) > 1:
            self.head(f"{n}. Theo văn bản chỉ đạo", 2)
            self.para(f"Bảng {n - 1}. Kết quả thực hiện theo văn bản chỉ đạo.", italic=True)
            self.count_table(docs, total, lambda r: report.directives[r.code].symbol or r.code)
            for d in docs:
                info = report.directives[d.code]
                self.para([(f"{info.cited}: ", True)])
                for segments in report.summary(d)[:3]:
                    self.para(segments)
            n += 1
        units = report.unit_rows()
        self.head(f"{n}. Theo đơn vị", 2)
        behind = [u for u in units if u.overdue]
        if behind:
            worst = ", ".join(f"{u.name} ({fmt_int(u.overdue)})" for u in behind[:5])
            self.para(f"Các đơn vị có nhiều nhiệm vụ quá hạn nhất: {worst}.")
        else:
            self.para("Không có đơn vị nào có nhiệm vụ quá hạn.")
        shown = units[:BODY_UNITS]
        more = len(units) - len(shown)
        caption = "Kết quả thực hiện theo đơn vị (đơn vị có nhiều nhiệm vụ quá hạn nhất trước)"
        if more > 0:
            caption += (
                f"; {fmt_int(len(shown))} trên {fmt_int(len(units))} đơn vị, danh sách đầy đủ "
                f"tại {appendix_numbers(report)['units']}"
            )
        self.para(caption + ".", italic=True)
        self.count_table(shown, total, lambda r: r.name)
        n += 1
        self.head(f"{n}. Theo cấp", 2)
        self.count_table(report.level_rows(), total, lambda r: r.name)
        self.para(APART_NOTE, italic=True)
        n += 1
        self.head(f"{n}. Nhiệm vụ quá hạn", 2)
        overdue = report.overdue_tasks
        if not total.overdue:
            self.para("Không có nhiệm vụ quá hạn.")
        else:
            first = overdue[:5]
            listed = "; ".join(
                f"{t.title[:90] + ('…' if len(t.title) > 90 else '')} ({t.lead_shown}, quá hạn "
                f"{fmt_int(t.days_overdue)} ngày)"
                for t in first
            )
            self.para(
                f"Có {fmt_int(total.overdue)} nhiệm vụ quá hạn (danh sách tại "
                f"{appendix_numbers(report).get('overdue', 'Phụ lục II')}); quá hạn "
                f"lâu nhất: {listed}."
            )
        self.head("II. TỒN TẠI, HẠN CHẾ")
        self.para(
            "[Cơ quan báo cáo bổ sung: những tồn tại, hạn chế trong tổ chức thực hiện và nguyên "
            "nhân.]",
            italic=True,
        )
        self.head("III. ĐỀ XUẤT, KIẾN NGHỊ")
        if total.overdue:
            self.para(
                f"Tiếp tục đôn đốc {fmt_int(sum(1 for u in units if u.overdue))} đơn vị còn nhiệm "
                "vụ quá hạn hoàn thành nhiệm vụ được giao."
            )
        self.para("[Cơ quan báo cáo bổ sung các đề xuất, kiến nghị.]", italic=True)

    def count_table(
        self, rows: Sequence[ProgressRow], total: ProgressRow, name: Callable[[ProgressRow], str]
    ) -> None:
        """Counts with a two-row header (the group over its columns), then the "Cộng" row."""
        cols = COMPACT
        ncol = 2 + len(cols)
        t = self.doc.add_table(rows=2, cols=ncol)
        t.style = self.doc.styles["Table Grid"]
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        _narrow_cells(t)
        name_w = Mm(36)
        rest = (self.width - Mm(9) - name_w) / len(cols)
        _fixed(t, [Mm(9), name_w, *([int(rest)] * len(cols))])
        top, sub = t.rows[0], t.rows[1]
        for r in (top, sub):
            _repeat_header(r)
        for i, label in enumerate(("STT", "Đơn vị / văn bản")):
            cell = top.cells[i].merge(sub.cells[i])
            _text(cell, label, size=TABLE_PT, bold=True, first=True)
        i = 2
        while i < ncol:
            c = cols[i - 2]
            if not c.group:
                cell = top.cells[i].merge(sub.cells[i])
                _text(cell, c.heading, size=TABLE_PT, bold=True, first=True)
                i += 1
                continue
            j = i
            while j + 1 < ncol and cols[j - 1].group == c.group:
                j += 1
            head = top.cells[i].merge(top.cells[j]) if j > i else top.cells[i]
            _text(head, c.group, size=TABLE_PT, bold=True, first=True)
            for k in range(i, j + 1):
                _text(sub.cells[k], cols[k - 2].heading, size=TABLE_PT, bold=True, first=True)
            i = j + 1
        for cell in [*top.cells, *sub.cells]:
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        for n, r in enumerate([*rows, total], 1):
            is_total = r is total
            row = t.add_row()
            _keep_row(row)
            cells = row.cells
            _text(cells[0], "" if is_total else str(n), size=TABLE_PT, first=True)
            left = WD_ALIGN_PARAGRAPH.CENTER if is_total else WD_ALIGN_PARAGRAPH.LEFT
            _text(cells[1], TOTAL if is_total else name(r), size=TABLE_PT, bold=is_total,
                  align=left, first=True)  # fmt: skip
            for k, c in enumerate(cols, 2):
                v = c.value(r)
                _text(cells[k], fmt_int(v) if isinstance(v, int) else v, size=TABLE_PT,
                      bold=is_total, first=True)  # fmt: skip
        _text(self.doc, "", size=6)

    # -- closing -----------------------------------------------------------------------------
    def closing(self, report: ProgressReport, letter: Letter) -> None:
        t = self.doc.add_table(rows=1, cols=2)
        _no_borders(t)
        _fixed(t, [Mm(80), self.width - Mm(80)])
        a, b = t.cell(0, 0), t.cell(0, 1)
        _text(a, "Nơi nhận:", size=12, bold=True, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT,
              first=True)  # fmt: skip
        recipients = list(letter.recipients) or _default_recipients(report)
        for i, who in enumerate([*recipients, "Lưu: VT."]):
            end = "" if who.endswith((";", ".")) else (";" if i < len(recipients) else ".")
            _text(a, f"- {who}{end}", size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
        _text(b, letter.signer_title or "QUYỀN HẠN, CHỨC VỤ CỦA NGƯỜI KÝ", size=14, bold=True,
              first=True)  # fmt: skip
        _text(b, "(Chữ ký của người có thẩm quyền, dấu của cơ quan)", size=12, italic=True)
        for _ in range(3):
            _text(b, "", size=14)
        _text(b, letter.signer or "Họ và tên", size=14, bold=True)

    # -- appendices --------------------------------------------------------------------------
    def appendices(self, report: ProgressReport, letter: Letter) -> None:
        section = self.doc.add_section(WD_SECTION.NEW_PAGE)
        _page(section, landscape=True)
        section.different_first_page_header_footer = False
        width = Mm(297 - 30 - 15)
        numbers = appendix_numbers(report)
        if "plans" in numbers:
            self._appendix_title(
                numbers["plans"], "TÌNH HÌNH THỰC HIỆN CÁC NHIỆM VỤ", _attached(letter)
            )
            several = len(report.plans) > 1
            for n, plan in enumerate(report.plans, 1):
                info = report.directives[plan.directive]
                if several:
                    _text(self.doc, f"{n}. {info.cited}", size=APPENDIX_PT, bold=True,
                          align=WD_ALIGN_PARAGRAPH.LEFT, after=6)  # fmt: skip
                else:
                    _text(self.doc, f"({info.cited})", size=APPENDIX_PT, italic=True, after=6)
                self.plan_table(plan, width)
                _text(self.doc, "", size=6)
        if "overdue" in numbers:
            self._page_break()
            self._appendix_title(numbers["overdue"], "DANH SÁCH NHIỆM VỤ QUÁ HẠN", None)
            total = report.total_row().overdue
            shown = len(report.overdue_tasks)
            note = "quá hạn lâu nhất trước"
            if shown < total:
                note = f"{fmt_int(shown)} trên {fmt_int(total)} nhiệm vụ, {note}"
            _text(self.doc, f"({note})", size=APPENDIX_PT, italic=True, after=6)
            self.overdue_table(report, width)
        if "units" in numbers:
            self._page_break()
            self._appendix_title(numbers["units"], "KẾT QUẢ THỰC HIỆN THEO ĐƠN VỊ", None)
            self.width = width
            self.count_table(report.unit_rows(), report.total_row(), lambda r: r.name)
            self.para(APART_NOTE, italic=True)

    def _page_break(self) -> None:
        self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    def _appendix_title(self, number: str, title: str, attached: str | None) -> None:
        _text(self.doc, number, size=14, bold=True)
        _text(self.doc, title, size=14, bold=True)
        if attached:
            _text(self.doc, attached, size=APPENDIX_PT, italic=True)

    def plan_table(self, plan: PlanTable, width: Any) -> None:
        t = self._grid(APPENDIX_COLUMNS, width)
        for g in plan.groups:
            if g.numeral is not None:
                row = t.add_row()
                cells = row.cells
                _text(cells[0], g.numeral, size=APPENDIX_PT, bold=True, first=True)
                merged = cells[1].merge(cells[-1])
                _text(merged, g.title, size=APPENDIX_PT, bold=True, align=WD_ALIGN_PARAGRAPH.LEFT,
                      first=True)  # fmt: skip
            for r in g.rows:
                cells = t.add_row().cells
                values = (r.number, r.title, r.lead, r.coordinating, r.deliverable, r.deadline,
                          r.status_text(), r.note_text())  # fmt: skip
                for i, v in enumerate(values):
                    align = WD_ALIGN_PARAGRAPH.CENTER if i in (0, 5) else WD_ALIGN_PARAGRAPH.LEFT
                    _text(cells[i], v, size=APPENDIX_PT, align=align, first=True)

    def overdue_table(self, report: ProgressReport, width: Any) -> None:
        t = self._grid(OVERDUE_COLUMNS, width, OVERDUE_PT)
        for n, task in enumerate(report.overdue_tasks, 1):
            cells = t.add_row().cells
            notes = [report.directives[task.directive].symbol or task.directive]
            if task.period:
                notes.append(f"kỳ {task.period}")
            if task.key_task:
                notes.append("trọng tâm")
            title = task.title
            if len(title) > TITLE_CHARS:
                title = title[: TITLE_CHARS - 1].rsplit(" ", 1)[0] + " …"
            values = (
                str(n), title, task.lead_shown, task.deadline_text or "",
                f"{task.due:%d/%m/%Y}" if task.due else "", fmt_int(task.days_overdue),
                overdue_age_label(task.days_overdue), "; ".join(notes),
            )  # fmt: skip
            for i, v in enumerate(values):
                align = WD_ALIGN_PARAGRAPH.LEFT if i in (1, 2, 7) else WD_ALIGN_PARAGRAPH.CENTER
                _text(cells[i], v, size=OVERDUE_PT, align=align, first=True)

    def _grid(
        self, columns: Sequence[tuple[str, float]], width: Any, size: float = APPENDIX_PT
    ) -> Any:
        """A bordered table with its header row (repeated on every page) and the row of column
        numbers under it."""
        t = self.doc.add_table(rows=2, cols=len(columns))
        t.style = self.doc.styles["Table Grid"]
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        _fixed(t, [Mm(w) for _, w in columns])
        for i, (head, _) in enumerate(columns):
            _text(t.rows[0].cells[i], head, size=size, bold=True, first=True)
            _text(t.rows[1].cells[i], f"({i + 1})", size=size - 1, italic=True, first=True)
            t.rows[0].cells[i].vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        _repeat_header(t.rows[0])
        _repeat_header(t.rows[1])
        return t


def appendix_numbers(report: ProgressReport) -> dict[str, str]:
    """The numbers ("Phụ lục I", "II", "III") of the appendices the report has: the plan's tasks, the overdue
    tasks, every unit (when the body shows only the most behind)."""
    names = []
    if report.plans:
        names.append("plans")
    if report.overdue_tasks:
        names.append("overdue")
    if len(report.unit_rows()) > BODY_UNITS:
        names.append("units")
    return {name: f"Phụ lục {_roman(i)}" for i, name in enumerate(names, 1)}


def _attached(letter: Letter) -> str:
    who = f" của {letter.issuer}" if letter.issuer else f" của {PLACEHOLDER}"
    when = written_date(letter.dated) if letter.dated else "ngày … tháng … năm …"
    return f"(Kèm theo Báo cáo số {PLACEHOLDER}/{letter.symbol} {when}{who})"


def _default_recipients(report: ProgressReport) -> list[str]:
    """The bodies that issued the documents reported on ("để báo cáo")."""
    seen: list[str] = []
    for d in report.directive_rows():
        issuer = report.directives[d.code].issuer
        if issuer and issuer not in seen:
            seen.append(issuer)
    return [f"{who} (để báo cáo)" for who in seen]


_ROMAN_NUMERALS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


def _roman(n: int) -> str:
    return _ROMAN_NUMERALS[n - 1] if 0 < n <= len(_ROMAN_NUMERALS) else str(n)
