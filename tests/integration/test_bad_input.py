"""Bad input is rejected with a located Vietnamese message, and nothing is written.

Every case starts from the valid fixtures (``tests/fixtures/units.yaml``, ``plan.yaml``), already
loaded into the store, and changes ONE thing. For each case we check:

(a) ``Tracker.load`` raises :class:`InputError` with an issue at the right ``file:line:col`` whose
    message contains the expected Vietnamese key words;
(b) the store is unchanged (SQLite: the database file's bytes; both back-ends: the rows);
(c) ``kttt load`` exits with code 1 and prints ``file:line:col:`` for the issue.

Expected positions are computed from the fixture text itself (the line containing a needle and the
column of the offending value within it), never hard-coded.

The same bad input through the installed ``kttt`` script in a real process (and the alias bomb,
run under a memory cap) is in ``tests/e2e/test_cli_bad_input.py``.
"""

from __future__ import annotations

import contextlib
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from kttt_workflow.cli import app
from kttt_workflow.errors import InputError, Issue
from kttt_workflow.service import Tracker
from tests.helpers import (
    HORIZON,
    PLAN,
    PLAN_PATH,
    UNITS,
    UNITS_PATH,
    at,
    db_url,
    snapshot,
    sub,
    tag_files,
    write,
)


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------
def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def byte_at(raw: bytes, needle: bytes) -> tuple[int, int]:
    """1-based (line, character column) of ``needle`` in undecodable ``raw`` bytes."""
    i = raw.index(needle)
    line_start = raw.rfind(b"\n", 0, i) + 1
    return raw.count(b"\n", 0, i) + 1, len(raw[line_start:i].decode("utf-8")) + 1


def describe(issues: list[Issue]) -> str:
    return "\n".join(str(i) for i in issues)


def find_issue(
    issues: list[Issue], file: str, line: int, col: int, words: tuple[str, ...]
) -> Issue:
    """The issue at ``file:line:col`` (its message must contain every key word, lower-cased)."""
    here = [i for i in issues if i.file == file and (i.line, i.column) == (line, col)]
    assert here, f"no issue at {file}:{line}:{col}; issues:\n{describe(issues)}"
    for issue in here:
        msg = nfc(issue.message).lower()
        if all(nfc(w).lower() in msg for w in words):
            return issue
    raise AssertionError(f"issue at {file}:{line}:{col} lacks key words {words}:\n{describe(here)}")


def run_cli(store: Tracker, paths: list[Path]) -> Any:
    return CliRunner().invoke(
        app, ["load", *map(str, paths), "--db", db_url(store), "--until", HORIZON.isoformat()]
    )


@pytest.fixture
def base(store: Tracker) -> Tracker:
    """The parametrised store (SQLite, PostgreSQL) with the valid fixtures already loaded."""
    store.load([UNITS_PATH, PLAN_PATH], until=HORIZON)
    return store


# --------------------------------------------------------------------------------------------------
# The table of bad inputs
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    files: dict[str, str | bytes]
    file: str  # the file the issue is reported in
    line: int
    col: int
    words: tuple[str, ...]  # lower-case key words the message must contain


def case(
    id_: str,
    files: dict[str, str | bytes],
    file: str,
    needle: str,
    value: str | None = None,
    words: tuple[str, ...] = (),
    nth: int = 1,
) -> Any:
    source = files[file]
    assert isinstance(source, str)
    line, col = at(source, needle, value, nth)
    return pytest.param(Case(files, file, line, col, words), id=id_)


def plan_case(
    id_: str, old: str, new: str, needle: str, value: str | None, words: tuple[str, ...]
) -> Any:
    return case(id_, {"p.yaml": sub(PLAN, old, new)}, "p.yaml", needle, value, words)


def units_case(
    id_: str, old: str, new: str, needle: str, value: str | None, words: tuple[str, ...]
) -> Any:
    return case(id_, {"u.yaml": sub(UNITS, old, new)}, "u.yaml", needle, value, words)


TASK4 = '  - id: "4"\n    title: Tuyên truyền\n    lead: x-so-khdt\n    deadline: Thường xuyên\n'
TASK4_LEAD = "    lead: x-so-khdt\n    deadline: Thường xuyên"
IMPLEMENTS = "  - {symbol: 20-NQ/TW, date: 2022-06-16, issuer: Ban Chấp hành Trung ương}"
X_UBND = "  - code: x-ubnd\n    name: Ủy ban nhân dân tỉnh X\n    aliases: [UBND tỉnh X]\n    level: tinh\n"
SO_TC = "    name: Sở Tài chính\n"

# 1. malformed YAML
MALFORMED = [
    # a key indented one space less than its siblings
    plan_case(
        "yaml-under-indented-key",
        TASK4_LEAD,
        "   lead: x-so-khdt\n    deadline: Thường xuyên",
        "   lead: x-so-khdt",
        "lead",
        ("yaml", "thụt lề"),
    ),
    # a list item indented differently from its siblings
    plan_case(
        "yaml-misaligned-list-item",
        '  - id: "4"',
        ' - id: "4"',
        ' - id: "4"',
        "-",
        ("yaml", "thụt lề"),
    ),
    # an unclosed quote: the error points at the opening quote
    plan_case(
        "yaml-unclosed-quote",
        "deadline: Theo dự án",
        'deadline: "Theo dự án',
        'deadline: "Theo dự án',
        '"',
        ("yaml", "dấu nháy"),
    ),
    plan_case(
        "yaml-tab-indentation",
        TASK4_LEAD,
        "\tlead: x-so-khdt\n    deadline: Thường xuyên",
        "\tlead: x-so-khdt",
        None,
        ("yaml", "tab"),
    ),
]

# 3. unknown references
A2 = "  - code: x-ubnd-b\n    name: UBND huyện B\n    level: huyen\n    parent: x-ubnd\n"
C3 = "  - code: x-ubnd-c\n    name: UBND huyện C\n    level: huyen\n    parent: x-ubnd\n"
UNKNOWN = [
    plan_case(
        "unknown-lead-unit",
        "lead: x-so-tc",
        "lead: x-so-xyz",
        "lead: x-so-xyz",
        "x-so-xyz",
        ("không tìm thấy", "'x-so-xyz'"),
    ),
    plan_case(
        "unknown-coordinating-group",
        "coordinating: [x-so-khdt]",
        "coordinating: [x-cac-nganh]",
        "coordinating: [x-cac-nganh]",
        "x-cac-nganh",
        ("không tìm thấy", "'x-cac-nganh'"),
    ),
    units_case(
        "unknown-group-member",
        "members: [x-so-khdt, x-so-tc]",
        "members: [x-so-khdt, x-so-zz]",
        "members: [x-so-khdt, x-so-zz]",
        "x-so-zz",
        ("'x-so-zz'", "không phải đơn vị hay nhóm"),
    ),
    units_case(
        "unknown-parent-unit",
        A2,
        A2.replace("parent: x-ubnd", "parent: x-ubnd-zz"),
        "parent: x-ubnd-zz",
        "x-ubnd-zz",
        ("'x-ubnd-zz'", "chưa có trong danh mục"),
    ),
    plan_case(
        "unknown-implemented-directive",
        IMPLEMENTS,
        "  - {symbol: 20-NQ/TW, directive: dir-zz}",
        "directive: dir-zz",
        "dir-zz",
        ("'dir-zz'",),
    ),
    units_case(
        "unknown-level",
        C3,
        C3.replace("level: huyen", "level: xa"),
        "level: xa",
        "xa",
        ("'xa'", "chưa khai báo"),
    ),
]

# 4. two lead units
TWO_LEADS = [
    plan_case(
        "two-leads-list",
        "lead: x-so-tc",
        "lead: [x-so-khdt, x-so-tc]",
        "lead: [x-so-khdt, x-so-tc]",
        "[",
        ("một cơ quan chủ trì", "nhóm"),
    ),
    plan_case(
        "two-leads-comma-string",
        "lead: x-so-tc",
        'lead: "x-so-khdt, x-so-tc"',
        'lead: "x-so-khdt, x-so-tc"',
        '"',
        ("một cơ quan chủ trì", "nhóm"),
    ),
]

# 5. cycles
_A = sub(
    sub(PLAN, "code: kh-1-2022", "code: dir-a"),
    IMPLEMENTS,
    "  - {symbol: 2/KH-UBND, directive: dir-b}",
)
_B = sub(
    sub(sub(PLAN, "code: kh-1-2022", "code: dir-b"), "symbol: 1/KH-UBND", "symbol: 2/KH-UBND"),
    IMPLEMENTS,
    "  - {symbol: 1/KH-UBND, directive: dir-a}",
)
_GROUP_CYCLE = UNITS + (
    "  - code: g1\n    name: Nhóm 1\n    members: [g2]\n"
    "  - code: g2\n    name: Nhóm 2\n    members: [g1]\n"
)
_SUCCESSOR_CYCLE = sub(
    sub(
        UNITS,
        "    name: UBND huyện A\n    level: huyen\n",
        "    name: UBND huyện A\n    level: huyen\n    valid_to: 2025-06-30\n    successor: x-ubnd-b\n",
    ),
    "    name: UBND huyện B\n    level: huyen\n",
    "    name: UBND huyện B\n    level: huyen\n    valid_to: 2025-06-30\n    successor: x-ubnd-a\n",
)
CYCLES = [
    case(
        "cycle-implements",
        {"a.yaml": _A, "b.yaml": _B},
        "a.yaml",
        "- {symbol: 2/KH-UBND, directive: dir-b}",
        None,
        ("vòng lặp", "dir-a", "dir-b"),
    ),
    case(
        "cycle-group-members",
        {"u.yaml": _GROUP_CYCLE},
        "u.yaml",
        "  - code: g1",
        "code",
        ("vòng lặp", "g1", "g2"),
    ),
    units_case(
        "cycle-unit-parents",
        X_UBND,
        X_UBND + "    parent: x-so-khdt\n",
        "parent: x-so-khdt",
        "x-so-khdt",
        ("vòng lặp", "x-ubnd", "x-so-khdt"),
    ),
    # Two merged units that name each other as successor: nobody would answer for their tasks.
    case(
        "cycle-unit-successors",
        {"u.yaml": _SUCCESSOR_CYCLE},
        "u.yaml",
        "successor: x-ubnd-b",
        "x-ubnd-b",
        ("vòng lặp đơn vị kế thừa", "x-ubnd-a", "x-ubnd-b"),
    ),
]

# 6. child due before its parent (without a note)
_EARLY_CHILD = sub(
    sub(PLAN, "deadline: trong tháng 11/2022", "deadline: trong tháng 12/2022"),
    "deadline: hoàn thành trong tháng 12/2022",
    "deadline: trong tháng 10/2022",
)
CHILD_EARLY = [
    case(
        "child-due-before-parent",
        {"p.yaml": _EARLY_CHILD},
        "p.yaml",
        "deadline: trong tháng 10/2022",
        "trong",
        ("nhiệm vụ con", "trước hạn", "note"),
    ),
]

# 7. impossible dates, 8. unparseable deadline
DL = "deadline: Quý IV/2022"
DATES = [
    plan_case(
        "deadline-31-02",
        DL,
        'deadline: "31/02/2022"',
        'deadline: "31/02/2022"',
        '"',
        ("31/02/2022", "không tồn tại"),
    ),
    plan_case(
        "deadline-quarter-V",
        DL,
        'deadline: "Quý V/2013"',
        'deadline: "Quý V/2013"',
        '"',
        ("quý v/2013", "quý"),
    ),
    plan_case(
        "deadline-month-13",
        DL,
        'deadline: "tháng 13/2022"',
        'deadline: "tháng 13/2022"',
        '"',
        ("tháng 13/2022", "tháng"),
    ),
    plan_case(
        "document-date-2022-02-31",
        "date: 2022-10-03",
        "date: 2022-02-31",
        "date: 2022-02-31",
        "2022",
        ("2022-02-31", "ngày", "không hợp lệ"),
    ),
    units_case(
        "unit-valid_to-2022-13-01",
        SO_TC,
        SO_TC + "    valid_to: 2022-13-01\n",
        "valid_to: 2022-13-01",
        "2022",
        ("2022-13-01", "ngày", "không hợp lệ"),
    ),
    plan_case(
        "deadline-unparseable",
        DL,
        "deadline: khi nào xong thì báo",
        "deadline: khi nào xong thì báo",
        "khi",
        ("khi nào xong thì báo", "không hợp lệ", "quý iv/2013", "thường xuyên"),
    ),
]

# 9. malformed document symbols
SYMBOLS = []
for _sym in ("67-KH-UBND", "KH/67", "20/NQ/TW/", "abc"):
    SYMBOLS.append(
        plan_case(
            f"symbol-document-{_sym}",
            "symbol: 1/KH-UBND",
            f'symbol: "{_sym}"',
            f'symbol: "{_sym}"',
            '"',
            ("số, ký hiệu", _sym.lower()),
        )
    )
    SYMBOLS.append(
        plan_case(
            f"symbol-implements-{_sym}",
            "symbol: 20-NQ/TW",
            f'symbol: "{_sym}"',
            f'symbol: "{_sym}"',
            '"',
            ("số, ký hiệu", _sym.lower()),
        )
    )

# 10. duplicates
_NEW_UNIT = "kind: registry\nunits:\n  - code: x-so-moi\n    name: {name}\n    level: so\n"
_DUP_TOP = sub(PLAN, '  - id: "5"', '  - id: "4"')
_DUP_CHILD = sub(PLAN, '      - id: "1.1"', '      - id: "1"')
_FIRST_4 = at(_DUP_TOP, '  - id: "4"')[0]
_FIRST_1 = at(_DUP_CHILD, '  - id: "1"')[0]
DUPLICATES = [
    # a duplicate task id is reported at the second occurrence and names the line of the first
    case(
        "duplicate-task-id",
        {"p.yaml": _DUP_TOP},
        "p.yaml",
        '  - id: "4"',
        '"',
        ("'4'", "trùng", f"dòng {_FIRST_4}"),
        nth=2,
    ),
    case(
        "duplicate-child-reuses-parent-id",
        {"p.yaml": _DUP_CHILD},
        "p.yaml",
        '      - id: "1"',
        '"',
        ("'1'", "trùng", f"dòng {_FIRST_1}"),
    ),
    case(
        "duplicate-unit-across-registry-files",
        {"u1.yaml": _NEW_UNIT.format(name="Sở Mới"), "u2.yaml": _NEW_UNIT.format(name="Sở Mới 2")},
        "u2.yaml",
        "code: x-so-moi",
        "x-so-moi",
        ("'x-so-moi'", "trùng"),
    ),
    plan_case(
        "duplicate-yaml-key",
        TASK4_LEAD,
        TASK4_LEAD + "\n    lead: x-so-tc",
        "    lead: x-so-tc",
        "lead",
        ("'lead'", "lặp lại"),
    ),
]

# 11. missing and unknown fields (a missing field is reported at its mapping: the task's first key)
FIELDS = [
    plan_case(
        "missing-title",
        TASK4,
        TASK4.replace("    title: Tuyên truyền\n", ""),
        '  - id: "4"',
        "id",
        ("thiếu", "'title'"),
    ),
    plan_case(
        "missing-lead",
        TASK4,
        TASK4.replace("    lead: x-so-khdt\n", ""),
        '  - id: "4"',
        "id",
        ("thiếu", "'lead'"),
    ),
    plan_case(
        "unknown-field-leader",
        TASK4_LEAD,
        "    leader: x-so-khdt\n    deadline: Thường xuyên",
        "    leader: x-so-khdt",
        "leader",
        ("'leader'", "không được hỗ trợ", "lead, coordinating"),
    ),
]

# 12. kind, empty, encoding
_LATIN1 = (
    sub(PLAN, "    title: Tuyên truyền", "    title: Tuy\u00e9n truy\u1ec1n")
    .encode("utf-8")
    .replace("Tuy\u00e9n".encode(), b"Tuy\xe9n")
)
_LATIN1_LINE, _LATIN1_COL = byte_at(_LATIN1, b"\xe9")
FILE_LEVEL = [
    plan_case(
        "kind-wrong",
        "kind: directive",
        "kind: directives",
        "kind: directives",
        "directives",
        ("'directives'", "kind: registry", "kind: directive"),
    ),
    plan_case(
        "kind-missing", "kind: directive\n", "", "code: kh-1-2022", "code", ("kind: registry",)
    ),
    pytest.param(Case({"p.yaml": ""}, "p.yaml", 1, 1, ("tệp rỗng", "kind")), id="empty-file"),
    pytest.param(
        Case({"p.yaml": "# chỉ có chú thích\n"}, "p.yaml", 1, 1, ("tệp rỗng",)),
        id="comment-only-file",
    ),
    pytest.param(
        Case({"p.yaml": _LATIN1}, "p.yaml", _LATIN1_LINE, _LATIN1_COL, ("utf-8",)),
        id="non-utf8-file",
    ),
]

# 13. a lead unit dissolved before the directive's date
DISSOLVED = [
    case(
        "lead-dissolved-before-issue-date",
        {
            "u.yaml": sub(
                UNITS, SO_TC, SO_TC + "    valid_to: 2022-01-01\n    successor: x-so-khdt\n"
            ),
            "p.yaml": PLAN,
        },
        "p.yaml",
        "    lead: x-so-tc",
        "x-so-tc",
        ("'x-so-tc'", "03/10/2022", "kế thừa", "x-so-khdt"),
    ),
]

CASES = [
    *MALFORMED,
    *UNKNOWN,
    *TWO_LEADS,
    *CYCLES,
    *CHILD_EARLY,
    *DATES,
    *SYMBOLS,
    *DUPLICATES,
    *FIELDS,
    *FILE_LEVEL,
    *DISSOLVED,
]


@pytest.mark.parametrize("bad", CASES)
def test_bad_input_is_located_and_writes_nothing(bad: Case, base: Tracker, tmp_path: Path) -> None:
    paths = write(tmp_path / "in", bad.files)
    where = str(tmp_path / "in" / bad.file)
    before = snapshot(base)

    with pytest.raises(InputError) as exc_info:
        base.load(paths, until=HORIZON)
    issue = find_issue(exc_info.value.issues, where, bad.line, bad.col, bad.words)
    assert issue.message == nfc(issue.message)
    assert snapshot(base) == before, "a failed load changed the store"

    result = run_cli(base, paths)
    assert result.exit_code == 1, result.output
    assert f"{where}:{bad.line}:{bad.col}:" in result.output, result.output
    assert "Traceback" not in result.output
    assert snapshot(base) == before, "a failed `kttt load` changed the store"


# --------------------------------------------------------------------------------------------------
# Object-constructing YAML tags: an error, never executed
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tag", ["os-system", "datetime-date"])
def test_python_tags_are_errors_never_executed(tag: str, base: Tracker, tmp_path: Path) -> None:
    marker = tmp_path / "HACKED"
    files = tag_files(marker)[tag]
    paths = write(tmp_path / "in", files)
    where = str(paths[0])
    needle = (
        "!!python/object/apply:os.system" if tag == "os-system" else "!!python/object:datetime.date"
    )
    line, col = at(files["p.yaml"], needle)
    before = snapshot(base)

    with pytest.raises(InputError) as exc_info:
        base.load(paths, until=HORIZON)
    find_issue(exc_info.value.issues, where, line, col, ("thẻ yaml", "không được phép"))
    assert not marker.exists(), "the YAML payload was executed"
    assert snapshot(base) == before

    result = run_cli(base, paths)
    assert result.exit_code == 1, result.output
    assert f"{where}:{line}:{col}:" in result.output
    assert not marker.exists(), "the YAML payload was executed by the CLI"
    assert snapshot(base) == before


# --------------------------------------------------------------------------------------------------
# Positive controls: the one-thing changes that ARE allowed
# --------------------------------------------------------------------------------------------------
def test_child_due_before_parent_with_note_loads(base: Tracker, tmp_path: Path) -> None:
    text_ = sub(
        _EARLY_CHILD,
        "deadline: trong tháng 10/2022",
        "deadline: trong tháng 10/2022\n        note: Văn bản ghi hạn này trước hạn của nhiệm vụ cha",
    )
    paths = write(tmp_path / "in", {"p.yaml": text_})
    _, summaries = base.load(paths, until=HORIZON)
    assert [s.directive for s in summaries] == ["kh-1-2022"]
    with base.engine.connect() as conn:
        dues = (
            conn.execute(
                text(
                    "SELECT DISTINCT nominal_due_on FROM task WHERE directive_code = 'kh-1-2022' AND task_key = '1.1'"
                )
            )
            .scalars()
            .all()
        )
    assert [d if isinstance(d, date) else date.fromisoformat(str(d)) for d in dues] == [
        date(2022, 10, 31)
    ]


def test_two_valid_directive_files_without_cycle_load(base: Tracker, tmp_path: Path) -> None:
    """Control for the cycle case: B implementing A alone is fine."""
    a = sub(sub(PLAN, "code: kh-1-2022", "code: dir-a"), IMPLEMENTS, "  - {symbol: 20-NQ/TW}")
    paths = write(tmp_path / "in", {"a.yaml": a, "b.yaml": _B})
    _, summaries = base.load(paths, until=HORIZON)
    assert sorted(s.directive for s in summaries) == ["dir-a", "dir-b"]


# --------------------------------------------------------------------------------------------------
# Several errors, several files
# --------------------------------------------------------------------------------------------------
_SEVERAL = sub(
    sub(
        sub(
            sub(PLAN, "symbol: 1/KH-UBND", "symbol: abc"),
            "coordinating: [x-so-khdt]",
            "coordinating: [x-so-khdt, ai-do]",
        ),
        DL,
        "deadline: Quý V/2022",
    ),
    "lead: x-so-tc",
    "lead: x-so-xyz",
)
SEVERAL_EXPECTED = [
    (at(_SEVERAL, "symbol: abc", "abc"), "số, ký hiệu"),
    (at(_SEVERAL, "coordinating: [x-so-khdt, ai-do]", "ai-do"), "không tìm thấy"),
    (at(_SEVERAL, "deadline: Quý V/2022", "Quý"), "quý"),
    (at(_SEVERAL, "lead: x-so-xyz", "x-so-xyz"), "không tìm thấy"),
]


def test_several_errors_in_one_file_are_all_reported_in_order(
    base: Tracker, tmp_path: Path
) -> None:
    paths = write(tmp_path / "in", {"p.yaml": _SEVERAL})
    where = str(paths[0])
    before = snapshot(base)
    with pytest.raises(InputError) as exc_info:
        base.load(paths, until=HORIZON)
    issues = exc_info.value.issues
    assert len(issues) >= 3
    for (line, col), word in SEVERAL_EXPECTED:
        find_issue(issues, where, line, col, (word,))
    keys = [(i.file, i.line, i.column) for i in issues]
    assert keys == sorted(keys), describe(issues)
    assert snapshot(base) == before

    result = run_cli(base, paths)
    assert result.exit_code == 1
    printed = [result.output.index(f"{where}:{line}:{col}:") for (line, col), _ in SEVERAL_EXPECTED]
    assert printed == sorted(printed), result.output
    assert snapshot(base) == before


def test_schema_and_reference_errors_in_one_file_are_all_reported(
    base: Tracker, tmp_path: Path
) -> None:
    """A missing field in one task must not hide an unknown unit or a bad deadline in another."""
    source = sub(
        sub(
            sub(PLAN, TASK4, TASK4.replace("    title: Tuyên truyền\n", "")),
            "lead: x-so-tc",
            "lead: x-so-xyz",
        ),
        DL,
        "deadline: Quý V/2022",
    )
    paths = write(tmp_path / "in", {"p.yaml": source})
    where = str(paths[0])
    with pytest.raises(InputError) as exc_info:
        base.load(paths, until=HORIZON)
    issues = exc_info.value.issues
    find_issue(issues, where, *at(source, '  - id: "4"', "id"), ("'title'",))
    find_issue(issues, where, *at(source, "lead: x-so-xyz", "x-so-xyz"), ("không tìm thấy",))
    find_issue(issues, where, *at(source, "deadline: Quý V/2022", "Quý"), ("quý",))


def test_one_bad_file_in_a_directory_loads_nothing(base: Tracker, tmp_path: Path) -> None:
    folder = tmp_path / "dir"
    good_registry = _NEW_UNIT.format(name="Sở Mới")
    good_plan = sub(
        sub(PLAN, "code: kh-1-2022", "code: kh-2-2022"), "lead: x-so-tc", "lead: x-so-moi"
    )
    bad_plan = sub(
        sub(PLAN, "code: kh-1-2022", "code: kh-3-2022"), "lead: x-ubnd\n", "lead: x-khong-co\n"
    )
    write(folder, {"a-units.yaml": good_registry, "b-plan.yaml": good_plan})
    write(folder / "sub", {"c-bad.yaml": bad_plan})
    before = snapshot(base)

    with pytest.raises(InputError) as exc_info:
        base.load([folder], until=HORIZON)
    issues = exc_info.value.issues
    bad = str(folder / "sub" / "c-bad.yaml")
    find_issue(issues, bad, *at(bad_plan, "lead: x-khong-co", "x-khong-co"), ("không tìm thấy",))
    assert {i.file for i in issues} == {bad}, describe(issues)
    assert snapshot(base) == before, "the good files of the directory were written"

    result = run_cli(base, [folder])
    assert result.exit_code == 1
    assert snapshot(base) == before

    # control: without the bad file, the same directory loads
    (folder / "sub" / "c-bad.yaml").unlink()
    reg, summaries = base.load([folder], until=HORIZON)
    assert reg.units_added == 1
    assert [s.directive for s in summaries] == ["kh-2-2022"]


# --------------------------------------------------------------------------------------------------
# Hostile YAML that is still only text: InputError, never a crash (found by fuzzing)
# --------------------------------------------------------------------------------------------------
def _expect_input_error(store: Tracker, tmp_path: Path, source: str) -> list[Issue]:
    paths = write(tmp_path / "in", {"p.yaml": source})
    before = snapshot(store)
    with pytest.raises(InputError) as exc_info:
        store.load(paths, until=HORIZON)
    assert snapshot(store) == before
    for issue in exc_info.value.issues:
        assert issue.line >= 0 and issue.column >= 0 and issue.message.strip()
    return exc_info.value.issues


@pytest.mark.parametrize(
    "char", ["\x00", "\x01", "\x1b", "\ufffe"], ids=["nul", "soh", "esc", "ufffe"]
)
def test_control_character_is_a_located_input_error(
    char: str, sqlite_store: Tracker, tmp_path: Path
) -> None:
    source = sub(PLAN, "    title: Tuyên truyền", f"    title: Tuyên{char}truyền")
    issues = _expect_input_error(sqlite_store, tmp_path, source)
    line, col = at(source, f"Tuyên{char}truyền", char)
    assert [(i.line, i.column) for i in issues] == [(line, col)], describe(issues)


def test_recursive_alias_is_an_input_error(sqlite_store: Tracker, tmp_path: Path) -> None:
    source = sub(PLAN, "coordinating: [x-so-khdt]", "coordinating: &a [*a]")
    issues = _expect_input_error(sqlite_store, tmp_path, source)
    line, _ = at(source, "coordinating: &a [*a]")
    assert any(i.line == line for i in issues), describe(issues)


def test_integer_too_long_to_convert_is_an_input_error(
    sqlite_store: Tracker, tmp_path: Path
) -> None:
    source = sub(PLAN, DL, "deadline: " + "9" * 5000)
    issues = _expect_input_error(sqlite_store, tmp_path, source)
    line, col = at(source, "deadline: 999", "999")
    assert any((i.line, i.column) == (line, col) for i in issues), describe(issues)


@pytest.mark.parametrize("depth", [3000])
def test_deeply_nested_yaml_is_an_input_error(
    depth: int, sqlite_store: Tracker, tmp_path: Path
) -> None:
    _expect_input_error(
        sqlite_store, tmp_path, "kind: directive\nnote: " + "[" * depth + "]" * depth + "\n"
    )


def test_deeply_nested_tasks_are_an_input_error_or_load(
    sqlite_store: Tracker, tmp_path: Path
) -> None:
    source = PLAN.split("tasks:\n")[0] + "tasks:\n"
    indent = "  "
    for i in range(300):
        source += f'{indent}- id: "t{i}"\n{indent}  title: T\n{indent}  lead: x-ubnd\n{indent}  children:\n'
        indent += "    "
    source += indent + "[]\n"
    paths = write(tmp_path / "in", {"p.yaml": source})
    with contextlib.suppress(InputError):
        sqlite_store.load(paths, until=HORIZON)


# --------------------------------------------------------------------------------------------------
# Text the database cannot hold: rejected (or stored intact), on every back-end alike
# --------------------------------------------------------------------------------------------------
def test_nul_character_in_a_value_is_a_located_input_error(base: Tracker, tmp_path: Path) -> None:
    """``"\\0"`` is a valid YAML escape, but PostgreSQL text cannot hold NUL: reject it when validating."""
    source = sub(PLAN, "    title: Tuyên truyền", '    title: "Tuyên\\0truyền"')
    paths = write(tmp_path / "in", {"p.yaml": source})
    before = snapshot(base)
    with pytest.raises(InputError) as exc_info:
        base.load(paths, until=HORIZON)
    line, col = at(source, 'title: "Tuyên\\0truyền"', '"')
    assert any((i.line, i.column) == (line, col) for i in exc_info.value.issues), describe(
        exc_info.value.issues
    )
    assert snapshot(base) == before


LONG_NAME = "Ban Chỉ đạo thực hiện Nghị quyết số 20-NQ/TW của Ban Chấp hành Trung ương tỉnh X"
LONG_SYMBOL = "1/KH-" + "UBND" * 20


@pytest.mark.parametrize(
    "files",
    [
        pytest.param(
            {
                "u.yaml": sub(UNITS, "aliases: [Sở KH&ĐT]", f"aliases: [Sở KH&ĐT, {LONG_NAME}]"),
                "p.yaml": sub(PLAN, "focal_unit: x-so-khdt", f"focal_unit: {LONG_NAME}"),
            },
            id="focal-unit-long-name",
        ),
        pytest.param(
            {"p.yaml": sub(PLAN, "symbol: 1/KH-UBND", f"symbol: {LONG_SYMBOL}")},
            id="symbol-85-chars",
        ),
    ],
)
def test_long_values_load_intact_or_are_input_errors(
    files: dict[str, str], base: Tracker, tmp_path: Path
) -> None:
    """A value longer than its column must be a located InputError or be stored whole, never a
    database error (PostgreSQL enforces VARCHAR(64), SQLite does not)."""
    paths = write(tmp_path / "in", files)
    before = snapshot(base)
    try:
        base.load(paths, until=HORIZON)
    except InputError as exc:
        assert all(i.line > 0 for i in exc.issues), describe(exc.issues)
        assert snapshot(base) == before
        return
    with base.engine.connect() as conn:
        row = conn.execute(
            text("SELECT symbol, focal_unit FROM directive WHERE code = 'kh-1-2022'")
        ).one()
    assert row.symbol in ("1/KH-UBND", LONG_SYMBOL)
    assert row.focal_unit in ("x-so-khdt", LONG_NAME)
