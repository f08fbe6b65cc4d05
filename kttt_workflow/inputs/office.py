"""``kttt import``: a plan's task table (Word, Excel or flattened text) → a YAML directive draft.

The steps, each in its module:

1. :mod:`.office_read` reads the file by what it is (not by its name) into paragraphs and tables;
2. :mod:`.office_table` finds the task table by its header and reads its rows as groups and tasks
   (for the flattened text form, it puts each cell in its column by what the cell says);
3. :mod:`.office_heading` reads the document's symbol, date, issuer, title and the documents it
   implements from the text before the table;
4. :mod:`.office_names` maps the names in the lead, coordinating and issuing cells to registry
   codes (folded names, abbreviations, the document's place), groups for cells naming several
   bodies;
5. here, the draft is assembled (:func:`import_file`) and written as YAML with comments
   (:mod:`.office_yaml`), in one go at the end (:func:`write_draft`).

Nothing a cell says is dropped: what cannot be mapped stays as written, with a comment beside
it, and is listed in the report (:meth:`ImportResult.report`). A file that cannot be read as a
task table raises :class:`OfficeError`, naming the file and the table and row, before anything
is written.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kttt_workflow.domain.deadlines import DeadlineError, DeadlineKind, parse_deadline
from kttt_workflow.domain.registry import Registry
from kttt_workflow.domain.symbols import is_valid_symbol
from kttt_workflow.inputs.office_heading import (
    TYPE_LABELS,
    DocumentInfo,
    cited_document,
    read_heading,
)
from kttt_workflow.inputs.office_names import Match, Matcher, Part, fold, split_bodies, unique
from kttt_workflow.inputs.office_read import Grid, OfficeError, Source, clean, read_source
from kttt_workflow.inputs.office_table import (
    REQUIRED,
    ROLE_NAMES,
    Features,
    Header,
    Heading,
    RawTask,
    Table,
    features,
    find_header,
    find_text_header,
    is_task_number,
    read_grid_rows,
    read_text_rows,
)
from kttt_workflow.inputs.office_yaml import IsoDate, Path_, render
from kttt_workflow.inputs.reader import MAX_BYTES

__all__ = ["Finding", "ImportResult", "OfficeError", "import_file", "write_draft"]

# Report sections, in the order they are printed.
FIX = "fix"  # the draft does not validate until this is corrected
KEPT = "kept"  # kept as written (coordinating_other, a name as text): valid, but look
GROUP = "group"  # a group declared in the draft for a cell naming several bodies
READING = "reading"  # how the table was read
SECTIONS = {
    FIX: "Cần sửa trước khi nạp (bản nháp chưa hợp lệ cho đến khi sửa)",
    KEPT: "Giữ nguyên như văn bản ghi (không ánh xạ được vào danh mục)",
    GROUP: "Nhóm riêng khai báo trong bản nháp (ô ghi nhiều cơ quan)",
    READING: "Cách đọc bảng",
}


@dataclass(frozen=True)
class Finding:
    """One line of the report: where (table, row, task), and what."""

    section: str
    where: str
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.text}" if self.where else self.text


@dataclass
class ImportResult:
    """The draft (its YAML text and data) and what the import found."""

    file: str
    code: str
    text: str
    data: dict[str, Any]
    table: str
    groups: int
    tasks: int
    findings: list[Finding] = field(default_factory=list)
    registry: bool = True

    def report(self, draft: str | None = None) -> list[str]:
        """The report, in Vietnamese, one line per item."""
        d = self.data["document"]
        lines = [f"Đã đọc «{self.file}», {self.table}: {self.groups} nhóm, {self.tasks} nhiệm vụ."]
        kind = TYPE_LABELS.get(d.get("type") or "", "Văn bản")
        what = f"{kind} số {d['symbol']}" if d.get("symbol") else f"{kind} (chưa rõ số, ký hiệu)"
        if d.get("date"):
            what += f" ngày {_vn_date(d['date'])}"
        if d.get("issuer"):
            what += f", cơ quan ban hành {d['issuer']}"
        refs = [r["symbol"] for r in self.data.get("implements", [])]
        if refs:
            what += "; thực hiện " + ", ".join(refs)
        lines.append(f"Văn bản: {what}; mã chỉ đạo {self.code}.")
        if not self.registry:
            lines.append(
                "Chưa có danh mục đơn vị (--registry): tên cơ quan được giữ nguyên như văn bản ghi."
            )
        for section, title in SECTIONS.items():
            items = [f for f in self.findings if f.section == section]
            if items:
                lines.append(f"{title} ({len(items)}):")
                lines.extend(f"  - {f}" for f in items)
        if not any(f.section == FIX for f in self.findings):
            lines.append("Không có tên hay thời hạn nào cần sửa.")
        if draft is not None:
            lines.append(f"Đã ghi bản nháp: {draft}")
        return lines


def _vn_date(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


# --------------------------------------------------------------------------------------------------
# Finding the table
# --------------------------------------------------------------------------------------------------
def _grid_lines(grid: Grid, upto: int | None = None) -> list[str]:
    out: list[str] = []
    for row in grid.rows[:upto]:
        for c in row:
            if c.text and not c.merged:
                out.extend(x for x in c.text.split("\n") if x)
    return out


def _task_grids(source: Source) -> tuple[list[Grid], Header, list[str]]:
    """The task table (and the tables continuing it), its header, and the text before it."""
    grids = [(k, b) for k, b in enumerate(source.blocks) if isinstance(b, Grid)]
    if not grids:
        raise OfficeError(
            source.file,
            "không có bảng nào trong tệp; cần một bảng nhiệm vụ có các cột "
            + ", ".join(f"«{ROLE_NAMES[r]}»" for r in REQUIRED)
            + " (hoặc tệp .txt, mỗi ô một dòng)",
        )
    partial: tuple[Grid, Header] | None = None
    for k, grid in grids:
        header = find_header(grid)
        if header is None:
            continue
        if all(r in header.columns.values() for r in REQUIRED):
            chosen = [grid]
            for b in source.blocks[k + 1 :]:
                if isinstance(b, str):
                    continue  # a paragraph between two parts of the table (a page break)
                if not _continues(b, grid, header):
                    break
                chosen.append(b)
            lines: list[str] = []
            for b in source.blocks[:k]:
                lines.extend([b] if isinstance(b, str) else _grid_lines(b))
            lines.extend(_grid_lines(grid, header.first))  # title rows above the header
            return chosen, header, lines
        if partial is None:
            partial = (grid, header)
    if partial is not None:
        grid, header = partial
        found = ", ".join(f"«{t}»" for t in header.found())
        need = ", ".join(f"«{ROLE_NAMES[r]}»" for r in REQUIRED if r not in header.columns.values())
        raise OfficeError(
            source.file,
            f"bảng nhiệm vụ thiếu cột. Các cột tìm thấy: {found}. Cần thêm: {need} "
            f"(các cột có thể có: {', '.join(f'«{n}»' for r, n in ROLE_NAMES.items() if r != 'status')})",
            where=f"{grid.label}, dòng {header.row + 1}",
        )
    firsts = "; ".join(
        f"{g.label}: " + " | ".join(clean(t) or "…" for t in g.texts(0)[:8]) for _, g in grids[:5]
    )
    raise OfficeError(
        source.file,
        "không bảng nào có dòng tiêu đề nhận ra được (cần các cột "
        + ", ".join(f"«{ROLE_NAMES[r]}»" for r in REQUIRED)
        + f"). Dòng đầu các bảng: {firsts}",
    )


def _continues(b: Grid, grid: Grid, header: Header) -> bool:
    """Whether table ``b`` goes on with ``grid``'s rows: same columns, and its first row is the
    header repeated or a numbered row."""
    if b.width != grid.width or not b.rows:
        return False
    first = b.texts(0)
    if [clean(t) for t in first] == [clean(t) for t in grid.texts(header.row)]:
        return True
    i = next((c for c, r in header.columns.items() if r == "number"), 0)
    return i < len(first) and is_task_number(first[i])


def _read_table(source: Source, matcher: Matcher | None) -> Table:
    if source.form == "text":
        found = find_text_header(source.lines)
        if found is None:
            raise OfficeError(
                source.file,
                "không tìm thấy dòng tiêu đề của bảng nhiệm vụ: ở dạng văn bản (mỗi ô một dòng) "
                "cần các dòng liền nhau "
                + ", ".join(f"«{ROLE_NAMES[r]}»" for r in REQUIRED)
                + " … trước các dòng nhiệm vụ",
            )
        end, roles, labels = found

        def classify(text: str) -> Features:
            return features(text, matcher)

        return read_text_rows(source.file, source.lines, end, roles, labels, classify)
    grids, header, _ = _task_grids(source)
    if any(fold(label) == _TRACKING_KEY for label in header.labels.values()):
        raise OfficeError(
            source.file,
            "đây là bảng theo dõi do «kttt report --format xlsx» xuất (mỗi dòng một nhiệm vụ của "
            "một đơn vị, có cột «Mã nhiệm vụ»), không phải bảng nhiệm vụ của kế hoạch; để ghi "
            "nhận các nhiệm vụ đã hoàn thành trong bảng, dùng «kttt import-progress»",
            where=grids[0].label,
        )
    return read_grid_rows(source.file, grids, header)


# The hidden key column of the tracking sheet ``kttt report --format xlsx`` writes.
_TRACKING_KEY = fold("Mã nhiệm vụ")


def _line_index(lines: Sequence[tuple[int, str]], end: int, count: int) -> int:
    """Index of the first header line, given the last one and how many there are."""
    k, seen = end, 0
    while k >= 0:
        if lines[k][1]:
            seen += 1
            if seen == count:
                return k
        k -= 1
    return 0


# --------------------------------------------------------------------------------------------------
# The draft
# --------------------------------------------------------------------------------------------------
def _ascii(text: str) -> str:
    t = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in t if not unicodedata.combining(ch))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _ascii(text).lower()).strip("-")


def directive_code(info: DocumentInfo, file: str) -> str:
    """``kh-67-2013`` from "67/KH-UBND" of 2013: the kind's abbreviation, the number, the year
    (the symbol's own year when it has one, "09/2019/NĐ-CP" → ``nd-9-2019``). Without a symbol,
    ``nhap-`` and the file's name."""
    symbol = info.symbol or ""
    state = re.match(r"^(\d+)(?:/(\d{4}))?/([^-/]+)", symbol)
    party = re.match(r"^(\d+)-([^/]+)/", symbol)
    year = str(info.date.year) if info.date else ""
    if state:
        number, abbr, year = state.group(1), state.group(3), state.group(2) or year
    elif party:
        number, abbr = party.group(1), party.group(2)
    else:
        stem = _slug(Path(file).stem)[:50].strip("-") or "van-ban"
        return f"nhap-{stem}"
    return "-".join(p for p in (_slug(abbr), str(int(number)), year) if p)[:64].strip("-")


class _Draft:
    """Assembles the draft's data, its comments and the findings, task by task."""

    def __init__(self, file: str, info: DocumentInfo, matcher: Matcher | None) -> None:
        self.file, self.info, self.matcher = file, info, matcher
        self.code = directive_code(info, file)
        self.findings: list[Finding] = []
        self.above: dict[Path_, list[str]] = {}
        self.beside: dict[Path_, str] = {}
        self.groups: list[dict[str, Any]] = []
        self.taken: set[str] = set()

    def find(self, section: str, where: str, text: str) -> None:
        self.findings.append(Finding(section, where, clean(text)))

    def note(self, path: Path_, *lines: str) -> None:
        self.above.setdefault(path, []).extend(clean(x) if x else "" for x in lines)

    # -- names -------------------------------------------------------------------------------
    def _match(self, text: str) -> Match:
        if self.matcher is None:
            return Match(text)
        return self.matcher.match(text, suggest=True)

    def _name(self, code: str) -> str:
        return self.matcher.describe(code) if self.matcher else code

    def _unknown(self, m: Match | Part) -> str:
        if m.candidates:
            return "trùng tên nhiều đơn vị: " + ", ".join(m.candidates) + " — hãy ghi đúng mã"
        if self.matcher is None:
            return "chưa ánh xạ (không có danh mục đơn vị)"
        hint = f"; gần giống: {', '.join(m.close)}" if m.close else ""
        return f"không tìm thấy trong danh mục đơn vị{hint}"

    def body(self, text: str, path: Path_, where: str, what: str, section: str) -> str:
        """A cell naming one body (issuer, issuing authority): its code, else the text as written."""
        text = clean(text)
        m = self._match(text)
        if m.code is not None:
            if m.code != text:
                self.note(path, f"ô «{text}» → {m.code} ({self._name(m.code)})")
            return m.code
        self.note(
            path, f"«{text}»: {self._unknown(m).upper() if section == FIX else self._unknown(m)}"
        )
        self.find(
            section, where, f"{what} «{text}»: {self._unknown(m)}; giữ nguyên như văn bản ghi"
        )
        return text

    def lead(self, task: RawTask, path: Path_) -> str:
        raw = task.cells.get("lead", "")
        text = clean(raw.replace("\n", "; "))
        where = f"{task.where} ({task.id}), cơ quan chủ trì"
        if not text:
            self.note(path, "ô «Cơ quan chủ trì» để trống: CẦN GHI MỘT ĐƠN VỊ HOẶC NHÓM")
            self.find(FIX, where, "ô để trống; mỗi nhiệm vụ cần đúng một cơ quan chủ trì")
            return ""
        m = self._match(text)
        if m.code is not None:
            if m.code != text:
                self.note(path, f"ô «{text}» → {m.code} ({self._name(m.code)})")
            return m.code
        parts = split_bodies(raw, self.matcher, lead=True) if self.matcher else []
        if len(parts) >= 2 and all(p.kind == "unit" for p in parts):
            members = unique(p.code for p in parts if p.code)
            code = self._group_code(task.id)
            self.groups.append({"code": code, "name": text, "members": members})
            gi = len(self.groups) - 1
            self.note(("groups", gi), f"{task.id}, ô «Cơ quan chủ trì» ghi {len(members)} cơ quan")
            for p in parts:
                if p.code in members:
                    self.beside[("groups", gi, "members", members.index(p.code))] = p.text
            self.note(path, f"ô «{text}» → nhóm riêng {code} (khai báo ở «groups»)")
            self.find(GROUP, f"{task.where} ({task.id})", f"{code} gồm {', '.join(members)}")
            return code
        if m.ambiguous or not parts or len(parts) < 2:
            problem = self._unknown(m)
        else:
            got = [f"«{p.text}» → {p.code}" for p in parts if p.kind == "unit"]
            bad = [f"«{p.text}» ({self._unknown(p)})" for p in parts if p.kind != "unit"]
            problem = (
                "ô ghi nhiều cơ quan; "
                + (f"nhận ra {', '.join(got)}; " if got else "")
                + f"không nhận ra {', '.join(bad)} — hãy thêm vào danh mục hoặc khai báo một nhóm"
            )
        self.note(path, f"«{text}»: {problem.upper() if not m.ambiguous else problem}")
        self.find(FIX, where, f"«{text}»: {problem}")
        return text

    def _group_code(self, task_id: str) -> str:
        base = f"{self.code}-{_slug(task_id)}"[:60].strip("-")
        code, n = base, 2
        reg = self.matcher.registry if self.matcher else Registry()
        while code in self.taken or code in reg.units or code in reg.groups:
            code, n = f"{base}-{n}", n + 1
        self.taken.add(code)
        return code

    def coordinating(self, task: RawTask, path: Path_, spec: dict[str, Any]) -> None:
        raw = task.cells.get("coordinating", "")
        text = clean(raw.replace("\n", "; "))
        spec["coordinating"] = []
        if not text:
            return
        parts = split_bodies(raw, self.matcher)
        codes: list[str] = []
        other: list[str] = []
        where = f"{task.where} ({task.id}), cơ quan phối hợp"
        for p in parts:
            if p.kind == "unit" and p.code:
                if p.code not in codes:
                    codes.append(p.code)
                    self.beside[(*path, len(codes) - 1)] = (
                        p.text
                        if _same(p.text, self._name(p.code))
                        else f"{p.text} → {self._name(p.code)}"
                    )
            elif p.kind == "vague":
                other.append(p.text)
                self.find(KEPT, where, f"«{p.text}» → coordinating_other")
            else:
                codes.append(p.text)
                problem = self._unknown(p)
                self.beside[(*path, len(codes) - 1)] = (
                    problem.upper() if not p.candidates else problem
                )
                self.find(FIX, where, f"«{p.text}»: {problem}")
        if any(c != text for c in codes) or other:
            self.note(path, f"ô «{text}»")
        spec["coordinating"] = codes
        if other:
            spec["coordinating_other"] = "; ".join(other)

    def deadline(self, task: RawTask, path: Path_) -> str | None:
        text = clean(task.cells.get("deadline", ""))
        if not text:
            self.note(path, "ô «Thời gian hoàn thành» để trống: không có thời hạn")
            self.find(
                READING,
                f"{task.where} ({task.id})",
                "không ghi thời gian hoàn thành (deadline: null)",
            )
            return None
        try:
            spec = parse_deadline(text, self.info.date)
        except DeadlineError as exc:
            self.note(path, f"THỜI HẠN KHÔNG ĐỌC ĐƯỢC: {exc.reason}")
            self.find(
                FIX,
                f"{task.where} ({task.id}), thời hạn",
                f"«{text}» không đọc được ({exc.reason}); giữ nguyên — hãy sửa theo các cách ghi "
                "trong docs/deadlines.md hoặc để trống (null) kèm «note»",
            )
            return text
        if spec.label:
            self.note(path, spec.label)
        issued = self.info.date
        if spec.kind is DeadlineKind.FIXED and spec.due and issued and spec.due < issued:
            self.note(path, f"HẠN {spec.due:%d/%m/%Y} TRƯỚC NGÀY BAN HÀNH {issued:%d/%m/%Y}")
            self.find(
                FIX,
                f"{task.where} ({task.id}), thời hạn",
                f"«{text}» ({spec.due:%d/%m/%Y}) trước ngày ban hành văn bản ({issued:%d/%m/%Y}); "
                "kiểm tra lại năm, hoặc ghi lý do vào «note»",
            )
        return text

    def task(self, i: int, task: RawTask) -> dict[str, Any]:
        path: Path_ = ("tasks", i)
        spec: dict[str, Any] = {
            "id": task.id,
            "title": clean(task.cells["title"].replace("\n", " ")),
        }
        spec["lead"] = self.lead(task, (*path, "lead"))
        self.coordinating(task, (*path, "coordinating"), spec)
        deliverable = clean(task.cells.get("deliverable", "").replace("\n", " "))
        if deliverable:
            spec["deliverable"] = deliverable
        spec["deadline"] = self.deadline(task, (*path, "deadline"))
        issuing = clean(task.cells.get("issuing", "").replace("\n", " "))
        if issuing:
            spec["issuing_authority"] = self.body(
                issuing,
                (*path, "issuing_authority"),
                f"{task.where} ({task.id})",
                "cấp ban hành",
                KEPT,
            )
        if task.extra:
            spec["note"] = "; ".join(f"{k}: {clean(v)}" for k, v in task.extra.items())
        spec["source"] = f"{'Phụ lục' if self.info.appendix else 'Bảng nhiệm vụ'}, mục {task.id}"
        return spec


def _same(a: str, b: str) -> bool:
    return clean(a).casefold() == clean(b).casefold()


def _banner(heading: Heading) -> list[str]:
    rule = "=" * 90
    return ["", rule, f"{heading.number}. {heading.title}", rule]


def import_file(
    path: str | Path,
    registry: Registry | None = None,
    *,
    max_bytes: int = MAX_BYTES,
    name: str | None = None,
) -> ImportResult:
    """Read a plan's task table from ``path`` and assemble the YAML draft of its directive.

    ``registry`` maps names to codes (without it every name stays as written); ``name`` is how
    messages and the draft name the file (default: its file name). Raises :class:`OfficeError`.
    """
    p = Path(path)
    shown = name or p.name
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise OfficeError(
                shown,
                f"tệp quá lớn ({size / 1048576:.1f} MB; giới hạn {max_bytes / 1048576:g} MB, "
                "đặt bằng KTTT_MAX_INPUT_MB)",
            )
        data = p.read_bytes()
    except FileNotFoundError:
        raise OfficeError(shown, "không tìm thấy tệp") from None
    except IsADirectoryError:
        raise OfficeError(shown, "đây là một thư mục, không phải tệp") from None
    except PermissionError:
        raise OfficeError(shown, "không có quyền đọc tệp") from None
    source = read_source(data, shown, max_bytes=max_bytes)
    return assemble(source, registry)


def assemble(source: Source, registry: Registry | None) -> ImportResult:
    """The draft of the task table in ``source`` (see :func:`import_file`)."""
    # The names in the table are matched with the document's date and place, which the heading
    # gives; the text form's columns are told by what cells say, which needs the registry.
    heading_lines = _heading_lines(source)
    info = read_heading(heading_lines)
    if info.type == "report" and (cited := cited_document(heading_lines)) is not None:
        info = cited  # a progress report's appendix, read back as the plan it cites
    place = info.place or _place_of(info.issuer)
    matcher = Matcher(registry, info.date, place) if registry is not None else None
    table = _read_table(source, matcher)
    if not table.tasks:
        raise OfficeError(
            source.file, "bảng nhiệm vụ không có dòng nhiệm vụ nào", where=table.label
        )
    _check_ids(source.file, table)
    draft = _Draft(source.file, info, matcher)
    data = _document(draft, info)
    tasks: list[dict[str, Any]] = []
    pending: Heading | None = None
    for item in table.items:
        if isinstance(item, Heading):
            pending = item
            continue
        i = len(tasks)
        if pending is not None:
            draft.note(("tasks", i), *_banner(pending))
            pending = None
        comment = ["", item.where]
        if item.flat is not None:
            comment.append("ô: " + " ".join(f"«{c}»" for c in item.flat[1:]))
        draft.note(("tasks", i), *comment)
        if item.uncertain:
            draft.note(("tasks", i), f"XEM LẠI: {item.uncertain}")
            draft.find(READING, f"{item.where} ({item.id})", item.uncertain)
        for n in item.notes:
            draft.note(("tasks", i), n)
            draft.find(READING, f"{item.id}", n)
        tasks.append(draft.task(i, item))
    if draft.groups:
        data["groups"] = draft.groups
        draft.note(("groups",), "")
    data["tasks"] = tasks
    draft.note(("tasks",), "")
    header = table.header
    if header is not None and source.form != "text":
        missing = [ROLE_NAMES[r] for r in header.missing()]
        if missing:
            draft.find(
                READING,
                table.label,
                "các cột tìm thấy: "
                + ", ".join(f"«{t}»" for t in header.found())
                + "; không có cột "
                + ", ".join(f"«{m}»" for m in missing)
                + ": để trống",
            )
        if header.is_report():
            dropped = [
                header.labels[i] for i, r in header.columns.items() if r in ("status", "note")
            ]
            draft.find(
                READING,
                table.label,
                "bảng là phụ lục của một báo cáo tình hình thực hiện: "
                + ", ".join(f"cột «{d}»" for d in dropped)
                + " ghi tình hình thực hiện, không đưa vào bản nháp",
            )
        for label in header.extra.values():
            draft.find(
                KEPT,
                table.label,
                f"cột «{label}» không thuộc mẫu: nội dung ghi vào «note» của nhiệm vụ",
            )
    for n in table.notes:
        draft.find(READING, "", n)
    for n in info.notes:
        draft.find(READING, "đầu văn bản", n)
    head = [
        f"Bản nháp do `kttt import` tạo từ «{source.file}» ({table.label}): "
        f"{len(table.headings)} nhóm, {len(tasks)} nhiệm vụ.",
        "Đọc lại và sửa trước khi nạp; kiểm tra: kttt validate <danh mục đơn vị> <tệp này>.",
        "Chú thích «ô …» ghi lại ô của bảng như trong tệp; CHỮ HOA đánh dấu chỗ cần sửa.",
    ]
    text = render(data, head, draft.above, draft.beside)
    return ImportResult(
        source.file,
        draft.code,
        text,
        data,
        table.label,
        len(table.headings),
        len(tasks),
        draft.findings,
        registry is not None,
    )


def _heading_lines(source: Source) -> list[str]:
    if source.form == "text":
        found = find_text_header(source.lines)
        if found is None:
            return [t for _, t in source.lines[:60] if t]
        end, roles, _ = found
        return [t for _, t in source.lines[: _line_index(source.lines, end, len(roles))] if t]
    try:
        _, _, before = _task_grids(source)
    except OfficeError:
        return []  # the error is raised again, with its message, when the table is read
    return before


def _place_of(issuer: str | None) -> str | None:
    if not issuer:
        return None
    m = re.search(r"\b(?:tỉnh|thành phố)\s+(.+)$", issuer, re.IGNORECASE)
    return m.group(1).strip() if m else None


def _check_ids(file: str, table: Table) -> None:
    seen: dict[str, RawTask] = {}
    for t in table.tasks:
        if t.id in seen:
            raise OfficeError(
                file,
                f"số thứ tự {t.id} trùng với nhiệm vụ ở {seen[t.id].where}",
                where=t.where,
            )
        seen[t.id] = t


def _document(draft: _Draft, info: DocumentInfo) -> dict[str, Any]:
    where = "đầu văn bản"
    doc: dict[str, Any] = {"type": info.type}
    if info.type is None:
        draft.note(("document", "type"), "KHÔNG RÕ LOẠI VĂN BẢN: ghi plan, decision, resolution…")
        draft.find(FIX, where, "không tìm thấy loại văn bản (KẾ HOẠCH, QUYẾT ĐỊNH…): ghi «type»")
    doc["symbol"] = info.symbol
    if info.symbol is None:
        draft.note(("document", "symbol"), "không tìm thấy «Số: …» (số, ký hiệu) ở đầu văn bản")
        draft.find(KEPT, where, "không tìm thấy số, ký hiệu văn bản («Số: …»): symbol để trống")
    doc["date"] = IsoDate(info.date.isoformat()) if info.date else None
    if info.date is None:
        draft.note(("document", "date"), "không tìm thấy ngày ban hành («…, ngày … tháng … năm …»)")
        draft.find(KEPT, where, "không tìm thấy ngày ban hành: date để trống")
    if info.issuer:
        doc["issuer"] = draft.body(
            info.issuer, ("document", "issuer"), where, "cơ quan ban hành", KEPT
        )
    else:
        doc["issuer"] = ""
        draft.note(
            ("document", "issuer"), "KHÔNG TÌM THẤY CƠ QUAN BAN HÀNH: ghi mã đơn vị hoặc tên"
        )
        draft.find(FIX, where, "không tìm thấy cơ quan ban hành ở đầu văn bản: ghi «issuer»")
    doc["title"] = info.title or ""
    if not info.title:
        draft.note(("document", "title"), "KHÔNG TÌM THẤY TIÊU ĐỀ: ghi tên văn bản")
        draft.find(
            FIX, where, "không tìm thấy tiêu đề văn bản (dòng dưới «KẾ HOẠCH» …): ghi «title»"
        )
    data: dict[str, Any] = {"kind": "directive", "code": draft.code, "document": doc}
    draft.note(("document",), "")
    refs: list[dict[str, Any]] = []
    for j, r in enumerate(info.implements):
        ref: dict[str, Any] = {}
        if r.type:
            ref["type"] = r.type
        ref["symbol"] = r.symbol
        if r.date:
            ref["date"] = IsoDate(r.date.isoformat())
        if r.issuer:
            ref["issuer"] = draft.body(
                r.issuer, ("implements", j, "issuer"), where, f"cơ quan ban hành {r.symbol}", KEPT
            )
        if r.title:
            ref["title"] = r.title
        if not is_valid_symbol(r.symbol):
            draft.find(FIX, where, f"số, ký hiệu «{r.symbol}» không đúng mẫu")
        refs.append(ref)
    if refs:
        data["implements"] = refs
        draft.note(("implements",), "", "Các văn bản nêu ở dòng «Căn cứ» / «Thực hiện»")
    return data


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------
def write_draft(path: str | Path, text: str, *, overwrite: bool = False) -> None:
    """Write the draft atomically: a temporary file in the same folder, renamed over ``path``;
    nothing is left behind on failure. An existing file is replaced only with ``overwrite``."""
    target = Path(path)
    if target.exists() and not overwrite:
        raise OfficeError(str(target), "tệp đã có; chọn tên khác (-o) hoặc thêm --force để ghi đè")
    if target.exists() and target.is_dir():
        raise OfficeError(str(target), "đây là một thư mục; cần tên tệp YAML (-o draft.yaml)")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OfficeError(str(target), f"không có thư mục {folder}")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
