"""The task table of a plan: its header, its columns, and its rows read as groups and tasks.

Columns are found by their header text, whatever their order (:data:`COLUMNS`): "Số TT",
"Nội dung nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Sản phẩm", "Thời gian hoàn thành",
"Cấp ban hành" / "Cơ quan quyết định ban hành", and "Ghi chú". A header written on two rows
("Cơ quan thực hiện" over "Chủ trì" | "Phối hợp") is read as one; a row of column numbers under
the header ("(1) (2) (3)…") is skipped, and so is the header row repeated on a later page or in a
table that continues the first one. A column the importer does not know is kept: its cells go
into the task's ``note`` with the column's header. A header that counts ("Tổng số nhiệm vụ",
"Tỷ lệ…", "%") names no column; a "Tình trạng" column makes the table a progress report's
appendix, whose status and notes are left out (the plan's table read back from ``kttt report``).

Rows: a row numbered with a Roman numeral and nothing in the lead column is a group heading
("I | Thống nhất và nâng cao nhận thức…", its text merged over the other columns or not); a row
with a number (1, 2…, 1.1, a) is a task, numbered within its group (I.1, II.2…); a row without a
number continues the task above it (a row Word or a converter split across a page), its cells
joined to that task's. A numbered row with no content is an error.

The flattened text form (one cell per line, empty cells left out) has no columns to align with:
after the header lines, a number line starts a task, the next line is its content and the lines
after it are its other cells, in the header's order with the empty ones missing. Which column each
of them is in is decided by what it says (:func:`assign`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kttt_workflow.domain.deadlines import DeadlineError, DeadlineKind, parse_deadline
from kttt_workflow.inputs.office_names import Matcher, fold, looks_like_body, split_bodies
from kttt_workflow.inputs.office_read import Cell, Grid, OfficeError, clean, is_roman

# Column roles, and the header words that name each, in the order they are tried (the first that
# a header contains wins: "Thời gian thực hiện" is a deadline, "Cơ quan thực hiện" a lead).
ROLE_NAMES: dict[str, str] = {
    "number": "Số TT",
    "title": "Nội dung nhiệm vụ",
    "lead": "Cơ quan chủ trì",
    "coordinating": "Cơ quan phối hợp",
    "deliverable": "Sản phẩm",
    "deadline": "Thời gian hoàn thành",
    "issuing": "Cấp ban hành (Cơ quan quyết định ban hành)",
    "note": "Ghi chú",
    "status": "Tình trạng",
}
# Columns a table may lack without a word: the note, and the status of a progress report's
# appendix (the plan's table as ``kttt report`` writes it, read back as the plan).
OPTIONAL = ("note", "status")
REQUIRED = ("number", "title", "lead")
COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("status", ("tình trạng",)),
    ("issuing", ("ban hành", "cấp trình", "cấp quyết định", "cơ quan quyết định")),
    ("coordinating", ("phối hợp",)),
    ("lead", ("chủ trì",)),
    ("deadline", ("thời gian", "thời hạn", "tiến độ", "hoàn thành", "mốc thời gian")),
    ("deliverable", ("sản phẩm", "kết quả", "yêu cầu đạt được", "hình thức văn bản")),
    ("lead", ("thực hiện", "đơn vị", "cơ quan")),
    ("title", ("nội dung", "nhiệm vụ", "công việc", "giải pháp", "tên đề án")),
    ("note", ("ghi chú",)),
)
_NUMBER_HEADERS = {("stt",), ("tt",), ("số", "tt"), ("số", "thứ", "tự"), ("thứ", "tự")}
# A header that counts or rates ("Tổng số nhiệm vụ", "Tỷ lệ hoàn thành", "% tổng số…", a report's
# summary table) names no column of a task table, whatever words follow.
_COUNTING = (("tổng", "số"), ("số", "lượng"), ("tỷ", "lệ"), ("tỉ", "lệ"))
_MAX_HEADER_WORDS = 10


def role_of(header: str) -> str | None:
    """The column role a header text names, or None."""
    key = fold(header)
    if not key or len(key) > _MAX_HEADER_WORDS:
        return None
    if key in _NUMBER_HEADERS:
        return "number"
    if "%" in header or any(key[i : i + 2] in _COUNTING for i in range(len(key) - 1)):
        return None
    for role, words in COLUMNS:
        for w in words:
            wk = fold(w)
            if any(key[i : i + len(wk)] == wk for i in range(len(key) - len(wk) + 1)):
                return role
    return None


@dataclass
class Header:
    """Where the header is and which column holds what."""

    row: int  # index of the header's last row in the grid
    first: int  # index of its first row (the row above when it is written on two rows)
    columns: dict[int, str]  # column index → role
    labels: dict[int, str]  # column index → header text as written
    extra: dict[int, str]  # columns with a header the importer does not know (→ note)

    def found(self) -> list[str]:
        return [self.labels[i] for i in sorted(self.labels)]

    def missing(self) -> list[str]:
        have = set(self.columns.values())
        return [r for r in ROLE_NAMES if r not in have and r not in OPTIONAL]

    def is_report(self) -> bool:
        """Whether the table is a progress report's appendix (it has a "Tình trạng" column)."""
        return "status" in self.columns.values()


def _header_at(grid: Grid, r: int) -> Header | None:
    texts = grid.texts(r)
    if r + 1 < len(grid.rows):
        below = grid.texts(r + 1)
        sub = [role_of(t) if t else None for t in below]
        if any(s in ("lead", "coordinating") for s in sub) and not any(
            is_task_number(t) for t in below[:1]
        ):
            merged = []
            for i in range(max(len(texts), len(below))):
                a = texts[i] if i < len(texts) else ""
                b = below[i] if i < len(below) else ""
                merged.append(b if not a or a == b else (f"{a} {b}" if b else a))
            got = _header_from(merged, r + 1, r)
            if got is not None:
                return got
    return _header_from(texts, r, r)


def _header_from(texts: Sequence[str], r: int, first: int) -> Header | None:
    columns: dict[int, str] = {}
    labels: dict[int, str] = {}
    extra: dict[int, str] = {}
    for i, t in enumerate(texts):
        if not t:
            continue
        labels[i] = clean(t)
        role = role_of(t)
        if role is None or role in columns.values():
            extra[i] = clean(t)
        else:
            columns[i] = role
    if len(columns) < 2 or "title" not in columns.values():
        return None
    return Header(r, first, columns, labels, extra)


def find_header(grid: Grid, scan: int = 8) -> Header | None:
    """The header of a task table among its first rows, or None."""
    best: Header | None = None
    for r in range(min(scan, len(grid.rows))):
        h = _header_at(grid, r)
        if h is not None and (best is None or len(h.columns) > len(best.columns)):
            best = h
            if not h.missing() or all(x in h.columns.values() for x in REQUIRED):
                return h
    return best


# --------------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------------
_TASK_NUMBER = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3})*|[a-zđ])[.)]?$", re.IGNORECASE)
_ROMAN_HEADING = re.compile(r"^([IVXLC]+)[.)]?\s+(.+)$")
_COLUMN_NUMBER = re.compile(r"^\(?\d{1,2}\)?$")


def is_task_number(text: str) -> bool:
    """Whether ``text`` numbers a task or a group (1, 1.2, a, I, IV)."""
    t = text.strip()
    return bool(_TASK_NUMBER.match(t)) or is_roman(t.rstrip(".)"))


def _number(text: str) -> str:
    t = text.strip().rstrip(".)").strip()
    return t.replace("đ", "d").replace("Đ", "D")


@dataclass
class RawTask:
    """One task row as read: its number and its cells by role; where it is."""

    number: str
    cells: dict[str, str]
    where: str
    group: str | None = None  # the Roman numeral of its group heading
    extra: dict[str, str] = field(default_factory=dict)  # header → text, unknown columns
    notes: list[str] = field(default_factory=list)  # what the reading did (continuations…)
    flat: list[str] | None = None  # text form: the row's cells as given
    uncertain: str | None = None  # text form: why the cell assignment may be wrong

    @property
    def id(self) -> str:
        if self.group is None or self.number.startswith(self.group + "."):
            return self.number
        return f"{self.group}.{self.number}"


@dataclass
class Heading:
    number: str
    title: str
    where: str


@dataclass
class Table:
    """The task table read: headings and tasks in order, and what was noticed."""

    label: str
    header: Header | None
    items: list[RawTask | Heading]
    notes: list[str] = field(default_factory=list)

    @property
    def tasks(self) -> list[RawTask]:
        return [t for t in self.items if isinstance(t, RawTask)]

    @property
    def headings(self) -> list[Heading]:
        return [t for t in self.items if isinstance(t, Heading)]


def _is_column_numbers(texts: Sequence[str]) -> bool:
    nums = [t for t in texts if t]
    if len(nums) < 3 or not all(_COLUMN_NUMBER.match(t) for t in nums):
        return False
    values = [int(t.strip("()")) for t in nums]
    return values == sorted(values) and len(set(values)) == len(values)


def read_grid_rows(file: str, grids: Sequence[Grid], header: Header) -> Table:
    """The groups and tasks of a task table (``grids[0]``, continued by the others)."""
    by_role = {role: i for i, role in header.columns.items()}
    header_keys = [
        [fold(t) for t in grids[0].texts(i)] for i in range(header.first, header.row + 1)
    ]
    items: list[RawTask | Heading] = []
    notes: list[str] = []
    group: str | None = None
    last: RawTask | None = None
    for g_index, grid in enumerate(grids):
        start = header.row + 1 if g_index == 0 else 0
        if g_index:
            notes.append(f"{grid.label} nối tiếp {grids[0].label} (cùng các cột)")
        for r in range(start, len(grid.rows)):
            row = grid.rows[r]
            where = grid.row_labels[r]
            texts = [c.text for c in row]
            if not any(t.strip() for t in texts):
                continue
            if [fold(t) for t in texts] in header_keys or _is_column_numbers(texts):
                continue  # the header repeated on a new page, or the row of column numbers

            def cell(role: str, row: list[Cell] = row) -> Cell:
                i = by_role.get(role)
                return row[i] if i is not None and i < len(row) else Cell("")

            number = cell("number").text.strip()
            title = cell("title").text
            others = {
                role: cell(role).text
                for role in by_role
                if role not in ("number", "title") and cell(role).merged != "h"
            }
            m = _ROMAN_HEADING.match(number)
            if m and is_roman(m.group(1)) and not any(others.values()) and not title:
                group = m.group(1)
                items.append(Heading(group, clean(m.group(2)), where))
                last = None
                continue
            if is_roman(number.rstrip(".)")) and not others.get("lead"):
                group = number.rstrip(".)")
                items.append(Heading(group, _one_line(title), where))
                last = None
                continue
            if not number:
                if last is None:
                    if not title and not any(others.values()):
                        continue
                    raise OfficeError(
                        file,
                        "dòng này không có số thứ tự và không nối tiếp nhiệm vụ nào phía trên; "
                        "hãy ghi số thứ tự vào cột «Số TT»",
                        where=where,
                    )
                _continue(last, row, by_role, header, where)
                continue
            if not is_task_number(number):
                raise OfficeError(
                    file,
                    f"số thứ tự «{number}» không đọc được (cần 1, 2, 3… hoặc I, II, III… cho nhóm)",
                    where=where,
                )
            if not title.strip():
                raise OfficeError(
                    file,
                    f"nhiệm vụ số {number} không có nội dung (cột «{header.labels[by_role['title']]}» "
                    "để trống)",
                    where=where,
                )
            cells = {
                "title": title,
                **{k: v for k, v in others.items() if k not in ("note", "status")},
            }
            extra = {
                header.extra[i]: row[i].text
                for i in header.extra
                if i < len(row) and row[i].text and row[i].merged != "h"
            }
            # A report's "Ghi chú" says how the task stands (evidence, overdue units), not
            # what the plan notes: it stays out of the draft with the status.
            if others.get("note") and not header.is_report():
                extra = {header.labels[by_role["note"]]: others["note"], **extra}
            last = RawTask(_number(number), cells, where, group, extra)
            items.append(last)
    return Table(grids[0].label, header, items, notes)


def _one_line(text: str) -> str:
    return clean(text.replace("\n", " "))


def _continue(
    task: RawTask, row: list[Cell], by_role: dict[str, int], header: Header, where: str
) -> None:
    joined = []
    for role, i in by_role.items():
        if role == "number" or i >= len(row) or row[i].merged or not row[i].text:
            continue
        if role == "status" or (role == "note" and header.is_report()):
            continue  # a report's progress columns (see read_grid_rows)
        key = "title" if role == "title" else role
        if role == "note":
            label = header.labels[i]
            task.extra[label] = _join(task.extra.get(label, ""), row[i].text)
        else:
            task.cells[key] = _join(task.cells.get(key, ""), row[i].text)
        joined.append(header.labels[i])
    for i, label in header.extra.items():
        if i < len(row) and row[i].text and not row[i].merged:
            task.extra[label] = _join(task.extra.get(label, ""), row[i].text)
            joined.append(label)
    if joined:
        task.notes.append(
            f"{where} không có số thứ tự: nối vào nhiệm vụ phía trên (hàng bị tách khi sang "
            f"trang), các cột {', '.join(f'«{j}»' for j in joined)}"
        )


def _join(a: str, b: str) -> str:
    return f"{a} {b}".strip() if a else b


# --------------------------------------------------------------------------------------------------
# The flattened text form
# --------------------------------------------------------------------------------------------------
_END_MARKERS = ("nơi nhận",)


def find_text_header(lines: Sequence[tuple[int, str]]) -> tuple[int, list[str], list[str]] | None:
    """Where the header lines end (index into ``lines``), the roles in order and their texts."""
    body = [(k, t) for k, (_, t) in enumerate(lines) if t]
    for a in range(len(body)):
        roles: list[str] = []
        labels: list[str] = []
        b = a
        while b < len(body):
            role = role_of(body[b][1])
            if role is None or role in roles:
                break
            roles.append(role)
            labels.append(body[b][1])
            b += 1
        if len(roles) >= 3 and all(r in roles for r in REQUIRED):
            return body[b - 1][0], roles, labels
    return None


def read_text_rows(
    file: str,
    lines: Sequence[tuple[int, str]],
    end_of_header: int,
    roles: list[str],
    labels: list[str],
    classify: Callable[[str], Features],
) -> Table:
    """Groups and tasks of the flattened table (see the module's docstring)."""
    items: list[RawTask | Heading] = []
    group: str | None = None
    current: tuple[str, int, list[str]] | None = None  # number, line, cells
    heading: tuple[str, int] | None = None  # Roman numeral waiting for its title line
    notes: list[str] = []

    def finish() -> None:
        nonlocal current
        if current is None:
            return
        number, line, cells = current
        where = f"dòng {line}"
        if not cells:
            raise OfficeError(file, f"nhiệm vụ số {number} không có nội dung", where=where)
        task = assign(number, cells, roles, labels, classify, where, group)
        items.append(task)
        current = None

    for k in range(end_of_header + 1, len(lines)):
        line_no, text = lines[k]
        if not text:
            continue
        if fold(text)[:2] == tuple(_END_MARKERS[0].split()):
            break
        bare = text.rstrip(".)")
        if heading is not None:
            items.append(Heading(heading[0], text, f"dòng {heading[1]}"))
            heading = None
            continue
        if is_roman(bare):
            finish()
            group = bare
            heading = (bare, line_no)
            continue
        if _TASK_NUMBER.match(text):
            finish()
            current = (_number(text), line_no, [])
            continue
        if current is None:
            raise OfficeError(
                file,
                "dòng này không thuộc nhiệm vụ nào (cần một dòng số thứ tự trước nội dung)",
                where=f"dòng {line_no}",
            )
        current[2].append(text)
    finish()
    if heading is not None:
        raise OfficeError(file, f"nhóm {heading[0]} không có tên", where=f"dòng {heading[1]}")
    notes.append(
        "dạng văn bản (mỗi ô một dòng): các ô trống không có trong tệp, nên mỗi ô được gán vào "
        "cột theo nội dung của nó; mỗi nhiệm vụ trong bản nháp có chú thích «ô:» ghi lại các ô "
        "như trong tệp để đối chiếu"
    )
    header = Header(-1, -1, dict(enumerate(roles)), dict(enumerate(labels)), {})
    return Table("dạng văn bản", header, items, notes)


@dataclass(frozen=True)
class Features:
    """What a cell of the text form says: a deadline, bodies, one body, or other text."""

    deadline: bool
    bodies: bool  # every part names a body (registry entry, "… liên quan", or a body-like name)
    one_body: bool  # the whole cell names one registry entry
    long: bool  # long prose (a task's content)


def features(text: str, matcher: Matcher | None) -> Features:
    """What a cell of the text form says (see :class:`Features`)."""
    try:
        deadline = parse_deadline(text).kind is not DeadlineKind.UNSPECIFIED
    except DeadlineError:
        deadline = False
    parts = split_bodies(text, matcher)
    bodies = bool(parts) and all(
        p.kind in ("unit", "vague", "ambiguous") or looks_like_body(p.text) for p in parts
    )
    one = matcher is not None and matcher.match(text).code is not None
    return Features(deadline, bodies, one or (len(parts) == 1 and bodies), len(text) > 120)


def _score(role: str, f: Features) -> float | None:
    """How well a cell fits a column (None: it cannot be there)."""
    if role == "deadline":
        return 5 if f.deadline else None
    if f.deadline:
        return None if role in ("lead", "coordinating", "issuing", "title") else -4
    if role == "title":
        return 4 if not f.bodies else 1
    if role == "lead":
        return 3 if f.bodies else 0
    if role == "coordinating":
        return 3 if f.bodies else -3
    if role == "issuing":
        return 3 if f.one_body and not f.long else (1 if f.bodies else -3)
    if role == "deliverable":
        return -2 if f.bodies else 2
    return 0  # note, unknown


def assign(
    number: str,
    cells: list[str],
    roles: list[str],
    labels: list[str],
    classify: Callable[[str], Features],
    where: str,
    group: str | None,
) -> RawTask:
    """Put the cells of a flattened row into columns: in the header's order, the first cell is
    the content, and each other cell goes where what it says fits best (a deadline in the
    deadline column, a list of bodies among the lead, coordinating and issuing columns, other
    text in the deliverable); the lead must be there."""
    columns = [r for r in roles if r != "number"]
    flat = list(cells)
    if len(cells) > len(columns):
        raise OfficeError(
            "",
            f"nhiệm vụ số {number} có {len(cells)} ô, nhiều hơn số cột của bảng ({len(columns)})",
            where=where,
        )
    feats = [classify(c) for c in cells]
    best: tuple[float, tuple[int, ...]] | None = None
    ties = 0
    for chosen in itertools.combinations(range(len(columns)), len(cells)):
        picked = [columns[i] for i in chosen]
        if "title" in columns and "title" not in picked:
            continue
        if "lead" in columns and "lead" not in picked and len(cells) > 1:
            continue
        total = 0.0
        ok = True
        for role, f in zip(picked, feats, strict=True):
            s = _score(role, f)
            if s is None:
                ok = False
                break
            total += s
        if not ok:
            continue
        if best is None or total > best[0]:
            best, ties = (total, chosen), 0
        elif total == best[0]:
            ties += 1
    if best is None:
        raise OfficeError(
            "",
            f"không xếp được các ô của nhiệm vụ số {number} vào các cột của bảng",
            where=where,
        )
    picked = [columns[i] for i in best[1]]
    by_role = dict(zip(picked, cells, strict=True))
    extra = {}
    if "note" in by_role:
        extra[labels[roles.index("note")]] = by_role.pop("note")
    task = RawTask(number, by_role, where, group, extra, flat=flat)
    if ties:
        task.uncertain = "các ô có thể xếp vào cột theo nhiều cách như nhau; đã chọn: " + ", ".join(
            f"«{ROLE_NAMES[r]}»" for r in picked
        )
    return task
