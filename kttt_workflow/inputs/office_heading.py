"""The document a task table belongs to, read from the text before the table.

What a Vietnamese administrative document's heading says (Nghị định 30/2020/NĐ-CP, Phụ lục I):

* the issuing body, top left, above a short rule: "UỶ BAN NHÂN DÂN / TỈNH TUYÊN QUANG / ------";
* "Số: 67/KH-UBND" (the symbol, :func:`kttt_workflow.domain.symbols.find_symbol`);
* the place and date: "Tuyên Quang, ngày 01 tháng 10 năm 2013";
* the kind of document in capitals ("KẾ HOẠCH") and its title on the next lines;
* the documents it implements: the lines "Căn cứ …" and "Thực hiện …" before its first section,
  each symbol with the kind of document before it, "ngày …" after it, "của <issuer>" and "về
  <title>" (the title up to the end of the sentence);
* an appendix says what it is attached to: "(Kèm theo Kế hoạch số 67/KH-UBND ngày 01 tháng 10
  năm 2013 của Ủy ban nhân dân tỉnh)", which gives the symbol, date and issuer when the heading
  is not in the file.

Texts extracted from PDF glue words together ("số56-KL/TW", "27-CTr/TUngày"): a space is put
back between "số" and a number and between a symbol and "ngày", nothing else is changed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from kttt_workflow.domain.symbols import find_symbol
from kttt_workflow.domain.text import nfc
from kttt_workflow.inputs.office_names import fold

# The kind of document, by the words that name it in a heading or before a symbol.
TYPE_WORDS: tuple[tuple[str, str], ...] = (
    ("chương trình hành động", "action_programme"),
    ("chương trình", "action_programme"),
    ("kế hoạch", "plan"),
    ("kết luận", "conclusion"),
    ("nghị quyết", "resolution"),
    ("chỉ thị", "instruction"),
    ("quyết định", "decision"),
    ("nghị định", "decree"),
    ("công văn", "official_letter"),
    ("báo cáo", "report"),
    ("luật", "law"),
)
# ... and by the abbreviation in its symbol ("67/KH-UBND", "27-CTr/TU").
TYPE_CODES: dict[str, str] = {
    "KH": "plan",
    "CTR": "action_programme",
    "KL": "conclusion",
    "NQ": "resolution",
    "CT": "instruction",
    "QĐ": "decision",
    "NĐ": "decree",
    "BC": "report",
}
TYPE_LABELS: dict[str, str] = {
    "plan": "Kế hoạch",
    "action_programme": "Chương trình hành động",
    "conclusion": "Kết luận",
    "resolution": "Nghị quyết",
    "instruction": "Chỉ thị",
    "decision": "Quyết định",
    "decree": "Nghị định",
    "official_letter": "Công văn",
    "report": "Báo cáo",
    "law": "Luật",
}

_SEPARATOR_LINE = re.compile(r"^[-–—_*=.\s]{3,}$")
_STATE_MOTTO = ("cộng", "hòa", "xã", "hội")
_PARTY_MOTTO = ("đảng", "cộng", "sản", "việt", "nam")
_SYMBOL_LINE = re.compile(r"^số\s*[:.]?\s*", re.IGNORECASE)
_DATE_WORDS = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.IGNORECASE)
_DATE_SLASH = re.compile(r"ngày\s+(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", re.IGNORECASE)
_PLACE_DATE = re.compile(r"(?:^|\s)([^\W\d_][^,\d]{1,40}?),\s*(?=ngày\s+\d)", re.IGNORECASE)
_REFERENCE_LINE = re.compile(r"^(?:căn cứ|thực hiện|triển khai)\b", re.IGNORECASE)
_SECTION = re.compile(r"^(?:[IVX]+|\d+)\s*[.)]\s|^(?:điều|phần|mục)\s+(?:1|i)\b", re.IGNORECASE)
_APPENDIX = re.compile(r"^\(?\s*kèm theo\b", re.IGNORECASE)


def repair(text: str) -> str:
    """Spaces put back where a PDF extraction glued "số" to a number or a symbol to "ngày"."""
    text = re.sub(r"\b(số|SỐ|Số)(?=\d)", r"\1 ", text)
    return re.sub(r"(?<=[A-ZĐ])(?=ngày\b)", " ", text)


@dataclass
class Reference:
    """A document named in a "Căn cứ"/"Thực hiện" line."""

    symbol: str
    type: str | None = None
    date: date | None = None
    issuer: str | None = None
    title: str | None = None


@dataclass
class DocumentInfo:
    """What the heading says; every field None where it says nothing."""

    type: str | None = None
    symbol: str | None = None
    date: date | None = None
    place: str | None = None
    issuer: str | None = None
    title: str | None = None
    implements: list[Reference] = field(default_factory=list)
    appendix: bool = False
    notes: list[str] = field(default_factory=list)

    def type_from_symbol(self) -> str | None:
        return symbol_type(self.symbol) if self.symbol else None


def symbol_type(symbol: str) -> str | None:
    """The kind of document a symbol's abbreviation says ("67/KH-UBND" → plan)."""
    m = re.match(r"^\d+(?:/\d{4})?/([^-/]+)", symbol) or re.match(r"^\d+-([^/]+)/", symbol)
    return TYPE_CODES.get(m.group(1).upper()) if m else None


def _date_in(text: str) -> tuple[date | None, int, int] | None:
    """The first date written "ngày 01 tháng 10 năm 2013" or "ngày 01/10/2013" in ``text``."""
    found = [m for m in (_DATE_WORDS.search(text), _DATE_SLASH.search(text)) if m]
    if not found:
        return None
    m = min(found, key=lambda x: x.start())
    d, mo, y = (int(x) for x in m.groups())
    try:
        return date(y, mo, d), m.start(), m.end()
    except ValueError:
        return None, m.start(), m.end()


def read_heading(lines: Sequence[str]) -> DocumentInfo:
    """The document's fields from the lines before its task table (see the module's docstring)."""
    info = DocumentInfo()
    lines = [nfc(line) for line in lines if line.strip()]
    _issuer_block(lines, info)
    top = lines[:20]
    for line in top:
        if info.symbol is None and _SYMBOL_LINE.match(line):
            found = find_symbol(repair(_SYMBOL_LINE.sub("", line, count=1)))
            if found:
                info.symbol = found[0]
        if info.date is None and (d := _date_in(line)) is not None:
            place = _PLACE_DATE.search(line)
            if place is not None and place.end() > d[1]:
                place = None
            if place is None and not line.casefold().startswith("ngày"):
                continue  # a date inside a sentence ("Thực hiện … ngày 20/6/2013"), not the heading's
            if d[0] is None:
                info.notes.append(
                    f"ngày ghi trong dòng «{line}» không có thật; chưa điền ngày ban hành"
                )
            info.date = d[0]
            if place:
                info.place = place.group(1).strip()
    _type_and_title(lines, info)
    _references(lines, info)
    _appendix(lines, info)
    if info.type is None:
        info.type = info.type_from_symbol()
    return info


def _issuer_block(lines: list[str], info: DocumentInfo) -> None:
    block: list[str] = []
    for line in lines[:6]:
        key = fold(line)
        if _SEPARATOR_LINE.match(line) or key[:4] == _STATE_MOTTO or key[:5] == _PARTY_MOTTO:
            break
        if _SYMBOL_LINE.match(line):
            break
        block.append(line)
    else:
        return  # no rule nor motto below it: not a heading
    if block and len(block) < 6:
        info.issuer = " ".join(block)


def _type_and_title(lines: list[str], info: DocumentInfo) -> None:
    for k, line in enumerate(lines[:40]):
        key = fold(line)
        for words, kind in TYPE_WORDS:
            wk = tuple(words.split())
            if key[: len(wk)] != wk or not line.isupper():
                continue
            rest = line[len(" ".join(line.split()[: len(wk)])) :].strip(" :-–")
            title: list[str] = [rest] if rest else []
            for nxt in lines[k + 1 : k + 5]:
                if nxt.isupper() and not _SECTION.match(nxt):
                    title.append(nxt)
                    continue
                if _REFERENCE_LINE.match(nxt) or _APPENDIX.match(nxt) or _SECTION.match(nxt):
                    break
                if title or not nxt.casefold().startswith(("v/v", "về việc", "về ")):
                    break
                title.append(nxt)  # "V/v …" under the kind
                break
            info.type = kind
            if title:
                info.title = repair(" ".join(title))
            return


def _references(lines: list[str], info: DocumentInfo) -> None:
    seen: set[str] = set()
    started = False
    for line in lines:
        if _APPENDIX.match(line):
            break
        if line.isupper():
            continue  # a title in capitals ("THỰC HIỆN CHƯƠNG TRÌNH …"), not a reference line
        if _REFERENCE_LINE.match(line):
            started = True
        elif started and _SECTION.match(line):
            break
        else:
            continue
        text = repair(line)
        found_any = False
        pos = 0
        while (found := find_symbol(text[pos:])) is not None:
            symbol, s, e = found
            s, e = s + pos, e + pos
            pos = e
            found_any = True
            if symbol == info.symbol or symbol in seen:
                continue
            seen.add(symbol)
            info.implements.append(_reference(text, symbol, s, e))
        if not found_any:
            info.notes.append(
                f"dòng «{_short(line)}» không ghi số, ký hiệu văn bản nào: không đưa vào "
                "«implements» (thêm tay nếu cần)"
            )


def _reference(text: str, symbol: str, s: int, e: int) -> Reference:
    ref = Reference(symbol)
    before = text[max(0, s - 60) : s].casefold()
    best = -1
    for words, kind in TYPE_WORDS:
        i = before.rfind(words)
        if i > best:  # the nearest kind; at one place the longer name (listed first) stays
            best, ref.type = i, kind
    if best < 0:
        ref.type = symbol_type(symbol)
    after = text[e:]
    m = re.match(r"\s*(?:ngày\s+)?(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", after) or re.match(
        r"\s*ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", after, re.IGNORECASE
    )
    if m:
        d, mo, y = (int(x) for x in m.groups())
        try:
            ref.date = date(y, mo, d)
        except ValueError:
            ref.date = None
        after = after[m.end() :]
    m = re.match(r"\s*của\s+(.+?)(?=\s+(?:về|v/v)\s|[,;]\s|\.\s|\.?$)", after, re.IGNORECASE)
    if m:
        ref.issuer = m.group(1).strip()
        after = after[m.end() :]
    m = re.match(r"\s*(?:về|v/v)\s+(.+?)(?=[;.](?:\s|$)|$)", after, re.IGNORECASE)
    if m:
        title = m.group(1).strip()
        ref.title = "Về " + title
    return ref


def _appendix(lines: list[str], info: DocumentInfo) -> None:
    for line in lines:
        if fold(line)[:2] == ("phụ", "lục"):
            info.appendix = True
        if not _APPENDIX.match(line):
            continue
        info.appendix = True
        text = repair(line.strip("() "))
        found = find_symbol(text)
        if found is None:
            continue
        symbol, s, e = found
        if info.symbol is None:
            info.symbol = symbol
        ref = _reference(text, symbol, s, e)
        if info.symbol == symbol:
            info.date = info.date or ref.date
            info.issuer = info.issuer or ref.issuer
            if info.type is None and ref.type is not None:
                info.type = ref.type


_CITED = re.compile(r"^(?:\(\s*(?P<paren>.+?)\s*\)|\d{1,2}\.\s+(?P<numbered>.+))$")


def cited_document(lines: Sequence[str]) -> DocumentInfo | None:
    """The plan a progress report's appendix table is of, from the line right above the table:
    "(Kế hoạch số 67/KH-UBND ngày 01/10/2013 của Ủy ban nhân dân tỉnh Tuyên Quang)", or "1. Kế
    hoạch số …" when the report covers several documents (``kttt report`` writes both). None
    when the last lines name no such document."""
    for line in reversed([nfc(x).strip() for x in lines if x.strip()][-4:]):
        m = _CITED.match(line)
        if m is None:
            continue
        text = repair(m.group("paren") or m.group("numbered"))
        if _APPENDIX.match(text):
            continue  # "(Kèm theo Báo cáo số …)": the report itself
        found = find_symbol(text)
        if found is None:
            continue
        symbol, s, e = found
        ref = _reference(text, symbol, s, e)
        named = text[:s].casefold()
        if ref.type in (None, "report") or not any(named.startswith(w) for w, _ in TYPE_WORDS):
            continue
        info = DocumentInfo(ref.type, symbol, ref.date, None, ref.issuer, appendix=True)
        info.notes.append(
            f"tệp là báo cáo tình hình thực hiện; văn bản của bản nháp là văn bản mà phụ lục "
            f"của báo cáo dẫn: «{_short(text, 120)}»"
        )
        return info
    return None


def _short(text: str, n: int = 70) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
