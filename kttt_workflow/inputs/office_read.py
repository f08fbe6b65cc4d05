"""Office files read into plain blocks: paragraphs and tables of cell texts, in document order.

The kind of a file is told by its content, not its name: a ZIP holding ``word/document.xml`` is a
Word document (.docx), one holding ``xl/workbook.xml`` an Excel workbook (.xlsx); an OLE compound
file is refused with what it is (an encrypted document, a Word 97–2003 .doc, an Excel 97–2003
.xls); UTF-8 text (a BOM allowed) is the flattened text form, one cell per line. Anything else
(PDF, RTF, OpenDocument, binary) is refused with what to do.

Tables keep the layout Word and Excel give them: a cell spanning several columns (``gridSpan``, a
merged range) gives its text to its first column and an empty, *spanned* cell to the others; a
cell merged down several rows (``vMerge``, a merged range) gives its text to every row it covers,
marked *filled*, so that a row split into two rows does not repeat it.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from kttt_workflow.domain.text import nfc

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
UNPACKED_FACTOR = 20  # a .docx or .xlsx may unpack to at most this many times the size limit


class OfficeError(Exception):
    """An input file that cannot be imported; the message names the file (and table, row)."""

    def __init__(self, file: str, message: str, where: str | None = None) -> None:
        self.file, self.where = file, where
        self.message = nfc(message)
        super().__init__(f"{file}: {where}: {self.message}" if where else f"{file}: {self.message}")


@dataclass(frozen=True)
class Cell:
    """A table cell's text; ``merged`` is "" (its own cell), "h" (covered by the cell to its left,
    no text) or "v" (covered by the cell above, whose text it repeats)."""

    text: str
    merged: str = ""


@dataclass
class Grid:
    """A table: rows of cells aligned on the table's columns."""

    label: str  # "bảng 2", "trang tính «Phụ lục»"
    rows: list[list[Cell]]
    row_labels: list[str]  # "bảng 2, dòng 5" (as Word or Excel counts)

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def texts(self, i: int) -> list[str]:
        return [c.text for c in self.rows[i]]


@dataclass
class Source:
    """What a file holds: blocks in document order (paragraph texts and tables), or for the text
    form its numbered lines."""

    file: str
    form: str  # "docx" | "xlsx" | "text"
    blocks: list[str | Grid] = field(default_factory=list)
    lines: list[tuple[int, str]] = field(default_factory=list)  # text form: (line number, text)


def clean(text: str) -> str:
    """One line of text: NFC, white space (non-breaking, tabs, line breaks) made single spaces."""
    return " ".join(nfc(text).split())


def read_source(data: bytes, file: str, *, max_bytes: int) -> Source:
    """Read ``data`` (the bytes of ``file``) by what it is; :class:`OfficeError` if it cannot be."""
    if len(data) > max_bytes:
        raise OfficeError(
            file,
            f"tệp quá lớn ({len(data) / 1048576:.1f} MB; giới hạn {max_bytes / 1048576:g} MB, "
            "đặt bằng KTTT_MAX_INPUT_MB)",
        )
    if data.startswith(OLE_MAGIC):
        raise OfficeError(file, _ole_message(data))
    if data.startswith(ZIP_MAGIC):
        return _read_zip(data, file, max_bytes)
    head = data[:1024].lstrip()
    if head.startswith(b"%PDF"):
        raise OfficeError(
            file,
            "tệp PDF không được hỗ trợ; hãy mở bằng Word và lưu dưới dạng .docx, hoặc chép bảng "
            "nhiệm vụ ra tệp văn bản .txt (mỗi ô một dòng)",
        )
    if head.startswith(b"{\\rtf"):
        raise OfficeError(
            file, "tệp RTF không được hỗ trợ; hãy mở bằng Word và lưu dưới dạng .docx"
        )
    return _read_text(data, file)


def _ole_message(data: bytes) -> str:
    def has(name: str) -> bool:
        return name.encode("utf-16-le") in data

    if has("EncryptedPackage") or has("EncryptionInfo"):
        return (
            "tệp được đặt mật khẩu (mã hóa) nên không đọc được; hãy mở bằng Word hoặc Excel, bỏ "
            "mật khẩu (Tệp → Thông tin → Bảo vệ tài liệu) rồi lưu lại và nhập lại"
        )
    if has("WordDocument"):
        return (
            "tệp Word 97–2003 (.doc) không được hỗ trợ; hãy mở bằng Word và lưu dưới dạng "
            "Tài liệu Word (.docx)"
        )
    if has("Workbook") or has("Book"):
        return (
            "tệp Excel 97–2003 (.xls) không được hỗ trợ; hãy mở bằng Excel và lưu dưới dạng "
            "Sổ làm việc Excel (.xlsx)"
        )
    return "tệp Office đời cũ (định dạng OLE) không được hỗ trợ; hãy lưu lại dưới dạng .docx hoặc .xlsx"


def _read_zip(data: bytes, file: str, max_bytes: int) -> Source:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
            mimetype = z.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise OfficeError(
            file, f"tệp ZIP hỏng, không phải .docx hay .xlsx đọc được ({exc})"
        ) from None
    if sum(i.file_size for i in infos) > UNPACKED_FACTOR * max_bytes:
        raise OfficeError(file, "tệp giải nén ra quá lớn (nghi là tệp nén bất thường); không đọc")
    if "word/document.xml" in names:
        return Source(file, "docx", blocks=_docx_blocks(data, file))
    if "xl/workbook.xml" in names:
        return Source(file, "xlsx", blocks=_xlsx_blocks(data, file))
    if b"opendocument" in mimetype:
        return _refuse_odf(file)
    raise OfficeError(
        file, "tệp ZIP này không phải tài liệu Word (.docx) hay bảng tính Excel (.xlsx)"
    )


def _refuse_odf(file: str) -> Source:
    raise OfficeError(
        file,
        "tệp OpenDocument (.odt, .ods) không được hỗ trợ; hãy lưu lại dưới dạng .docx hoặc .xlsx",
    )


def _read_text(data: bytes, file: str) -> Source:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise OfficeError(file, "tệp văn bản mã UTF-16 không được hỗ trợ; hãy lưu lại với mã UTF-8")
    if b"\x00" in data:
        raise OfficeError(
            file, "không phải tài liệu Word (.docx), bảng tính Excel (.xlsx) hay tệp văn bản (.txt)"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise OfficeError(
            file,
            "tệp văn bản không phải mã UTF-8 (hãy lưu lại với mã UTF-8)",
            where=f"dòng {line}",
        ) from None
    return Source(file, "text", lines=[(i, clean(t)) for i, t in enumerate(text.splitlines(), 1)])


# --------------------------------------------------------------------------------------------------
# Word
# --------------------------------------------------------------------------------------------------
def _docx_blocks(data: bytes, file: str) -> list[str | Grid]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise OfficeError(
            file, f"tài liệu Word hỏng, không đọc được ({type(exc).__name__})"
        ) from None
    except Exception as exc:  # lxml's XMLSyntaxError and the like: a damaged part
        raise OfficeError(
            file, f"tài liệu Word hỏng, không đọc được ({type(exc).__name__})"
        ) from None
    blocks: list[str | Grid] = []
    tables = 0
    for el in _body_items(document.element.body):
        if el.tag.endswith("}p"):
            text = clean(_paragraph_text(el))
            if text:
                blocks.append(text)
        else:
            tables += 1
            blocks.append(_docx_grid(el, f"bảng {tables}"))
    return blocks


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _body_items(parent: Any) -> list[Any]:
    """Paragraphs and tables of the body in order, looking inside content controls (w:sdt)."""
    out: list[Any] = []
    for el in parent.iterchildren():
        if el.tag in (_W + "p", _W + "tbl"):
            out.append(el)
        elif el.tag in (_W + "sdt", _W + "customXml"):
            content = el.find(_W + "sdtContent") if el.tag == _W + "sdt" else el
            if content is not None:
                out.extend(_body_items(content))
    return out


_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
# What a paragraph's text leaves out: tracked deletions and moves away (the text is gone), the
# properties, text boxes and drawings (not read, see docs/import.md) and the fallback copy of
# an alternate content.
_SKIPPED = {
    _W + "del",
    _W + "moveFrom",
    _W + "pPr",
    _W + "rPr",
    _W + "txbxContent",
    _W + "drawing",
    _W + "pict",
    _MC + "Fallback",
}
_TEXT_CHARS = {_W + "tab": " ", _W + "br": " ", _W + "cr": " ", _W + "noBreakHyphen": "-"}


def _paragraph_text(p: Any) -> str:
    """The text a reader of the paragraph sees: its runs, also inside tracked insertions
    (``w:ins``), hyperlinks, fields, smart tags and inline content controls; tracked deletions
    left out. (python-docx's ``Paragraph.text`` reads direct runs and hyperlinks only.)"""
    out: list[str] = []

    def walk(el: Any) -> None:
        for c in el.iterchildren():
            tag = c.tag
            if not isinstance(tag, str) or tag in _SKIPPED:
                continue  # comments and processing instructions have no string tag
            if tag == _W + "t":
                out.append(c.text or "")
            elif tag in _TEXT_CHARS:
                out.append(_TEXT_CHARS[tag])
            else:
                walk(c)

    walk(p)
    return "".join(out)


def _children(el: Any, tag: str) -> list[Any]:
    out: list[Any] = []
    for c in el.iterchildren():
        if c.tag == _W + tag:
            out.append(c)
        elif c.tag in (_W + "sdt", _W + "customXml"):
            content = c.find(_W + "sdtContent") if c.tag == _W + "sdt" else c
            if content is not None:
                out.extend(_children(content, tag))
    return out


def _cell_text(tc: Any) -> str:
    """A cell's paragraphs: joined by a line break, or by a space after a comma or semicolon
    (a list typed over two lines), so that one body per paragraph stays one body per line."""
    out = ""
    for p in _children(tc, "p"):
        t = clean(_paragraph_text(p))
        if not t:
            continue
        if out:
            out += " " if out[-1] in ",;" else "\n"
        out += t
    return out


def _val(el: Any, path: str) -> str | None:
    found = el.find(path)
    return None if found is None else found.get(_W + "val", "")


def _docx_grid(tbl: Any, label: str) -> Grid:
    rows: list[list[Cell]] = []
    above: dict[int, str] = {}  # column → the text of the cell that a vMerge continues
    for tr in _children(tbl, "tr"):
        before = _val(tr, f"{_W}trPr/{_W}gridBefore")
        col = int(before) if before and before.isdigit() else 0
        cells = [Cell("", "h") for _ in range(col)]
        for tc in _children(tr, "tc"):
            span_val = _val(tc, f"{_W}tcPr/{_W}gridSpan")
            span = int(span_val) if span_val and span_val.isdigit() and int(span_val) > 0 else 1
            vmerge = _val(tc, f"{_W}tcPr/{_W}vMerge")
            if vmerge is not None and vmerge != "restart":
                cells.append(Cell(above.get(col, ""), "v" if above.get(col) else ""))
            else:
                text = _cell_text(tc)
                above[col] = text
                cells.append(Cell(text))
            cells.extend(Cell("", "h") for _ in range(span - 1))
            col += span
        rows.append(cells)
    return Grid(label, rows, [f"{label}, dòng {i}" for i in range(1, len(rows) + 1)])


# --------------------------------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------------------------------
def _xlsx_blocks(data: bytes, file: str) -> list[str | Grid]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        raise OfficeError(
            file, f"bảng tính Excel hỏng, không đọc được ({type(exc).__name__})"
        ) from None
    blocks: list[str | Grid] = []
    for ws in wb.worksheets:
        label = f"trang tính «{ws.title}»"
        values = [[_xlsx_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
        kinds = [["" for _ in row] for row in values]
        for rng in ws.merged_cells.ranges:
            top, left = rng.min_row - 1, rng.min_col - 1
            if top >= len(values) or left >= len(values[top]):
                continue
            origin = values[top][left]
            for r in range(top, min(rng.max_row, len(values))):
                for c in range(left, min(rng.max_col, len(values[r]))):
                    if (r, c) == (top, left):
                        continue
                    if c == left:
                        values[r][c], kinds[r][c] = origin, "v" if origin else ""
                    else:
                        values[r][c], kinds[r][c] = "", "h"
        rows = [
            [Cell(t, k) for t, k in zip(vr, kr, strict=True)]
            for vr, kr in zip(values, kinds, strict=True)
        ]
        blocks.append(Grid(label, rows, [f"{label}, dòng {i}" for i in range(1, len(rows) + 1)]))
    return blocks


def _xlsx_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return f"{value.day:02d}/{value.month:02d}/{value.year}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "\n".join(clean(line) for line in str(value).splitlines() if clean(line))


_ROMAN = re.compile(r"^(?=[IVXLC])M*(C[MD]|D?C{0,3})(X[CL]|L?X{0,3})(I[XV]|V?I{0,3})$")


def is_roman(text: str) -> bool:
    """Whether ``text`` is a Roman numeral (I, II, … XL), as group headings are numbered."""
    return bool(text) and _ROMAN.match(text) is not None
