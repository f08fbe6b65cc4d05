"""Defects of the YAML reader found by an adversarial pass, each through the real loader and store.

* a merge key (``<<:``) hid a second ``lead``, and an anchor slipped past the no-reference rule;
* ``title: =`` was refused as a forbidden tag (YAML 1.1's "value" type): it is the text ``=``;
  YAML 1.1 words (``yes``, ``12:30``) are text too, as editors (YAML 1.2) read them, and a
  ``yes`` or a quoted ``"true"`` where a boolean is expected gets a message that says what to write;
* no size bound: a registry of 50 MB ended in a MemoryError after a minute; a file over the limit
  is now refused before it is parsed, and the parser's memory is a small multiple of the file;
* a message could span lines (a newline in a value) or echo a 1 MB value whole: every issue is one
  line, values quoted, escaped and cut.

For each rejection: a located Vietnamese issue, nothing written (the store's rows, the SQLite
file's bytes), and ``kttt load`` exits 1 printing ``file:line:col:``.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from kttt_workflow.cli import app
from kttt_workflow.errors import MAX_SHOWN, InputError, Issue
from kttt_workflow.inputs.reader import MAX_BYTES, MB, parse_yaml, read_yaml
from kttt_workflow.service import Tracker
from kttt_workflow.store import tables as T
from tests.helpers import HORIZON, PLAN, ROOT, UNITS_PATH, at, db_url, snapshot, sub, write

TASK_4 = '  - id: "4"\n    title: Tuyên truyền\n    lead: x-so-khdt\n'


@pytest.fixture
def base(store: Tracker) -> Tracker:
    """The parametrised store (SQLite, PostgreSQL) with the valid fixtures already loaded."""
    store.load([UNITS_PATH, ROOT / "tests" / "fixtures" / "plan.yaml"], until=HORIZON)
    return store


def describe(issues: list[Issue]) -> str:
    return "\n".join(map(str, issues))


def rejected(store: Tracker, tmp_path: Path, source: str, name: str = "p.yaml") -> list[Issue]:
    """Load ``source`` as ``name``: an InputError, nothing written, and the CLI says so too."""
    paths = write(tmp_path / "in", {name: source})
    before = snapshot(store)
    with pytest.raises(InputError) as exc_info:
        store.load(paths, until=HORIZON)
    assert snapshot(store) == before, "a rejected file changed the store"
    result = CliRunner().invoke(
        app, ["load", str(paths[0]), "--db", db_url(store), "--until", HORIZON.isoformat()]
    )
    assert result.exit_code == 1, result.output
    assert snapshot(store) == before
    first = exc_info.value.issues[0]
    assert f"{first.file}:{first.line}:{first.column}:" in result.output, result.output
    return exc_info.value.issues


def one_at(issues: list[Issue], line: int, col: int, *words: str) -> Issue:
    here = [i for i in issues if (i.line, i.column) == (line, col)]
    assert len(here) == 1, f"expected one issue at {line}:{col}:\n{describe(issues)}"
    for w in words:
        assert w in here[0].message, f"{w!r} not in: {here[0]}"
    assert unicodedata.is_normalized("NFC", here[0].message)
    return here[0]


def titles(store: Tracker, key: str) -> set[str]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(T.task_t.c.title).where(
                T.task_t.c.directive_code == "kh-1-2022", T.task_t.c.task_key == key
            )
        )
        return {r[0] for r in rows}


def leads(store: Tracker, key: str) -> set[str]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(T.task_t.c.unit_code).where(
                T.task_t.c.directive_code == "kh-1-2022",
                T.task_t.c.task_key == key,
                T.task_t.c.state != "removed",
            )
        )
        return {r[0] for r in rows}


# --------------------------------------------------------------------------------------------------
# 13. Merge keys and anchors
# --------------------------------------------------------------------------------------------------
def test_a_merge_key_cannot_hide_a_second_lead(base: Tracker, tmp_path: Path) -> None:
    source = sub(
        PLAN,
        TASK_4,
        '  - id: "4"\n    <<: {lead: x-so-tc}\n    title: Tuyên truyền\n    lead: x-so-khdt\n',
    )
    issues = rejected(base, tmp_path, source)
    one_at(issues, *at(source, "<<: {lead"), "khóa gộp", "'<<'")
    assert leads(base, "4") == {"x-so-khdt"}


def test_a_merge_of_an_anchored_mapping_is_refused_at_the_anchor(
    base: Tracker, tmp_path: Path
) -> None:
    source = sub(
        PLAN,
        TASK_4,
        '  - id: "4"\n    title: Tuyên truyền\n    lead: &chu-tri x-so-khdt\n'
        '  - id: "6"\n    title: Theo dõi\n    lead: *chu-tri\n',
    )
    issues = rejected(base, tmp_path, source)
    one_at(issues, *at(source, "&chu-tri", "&"), "anchor", "alias")


def test_an_anchor_without_alias_is_refused_too(base: Tracker, tmp_path: Path) -> None:
    source = sub(PLAN, "    title: Tuyên truyền\n", "    title: &t Tuyên truyền\n")
    issues = rejected(base, tmp_path, source)
    one_at(issues, *at(source, "&t Tuyên", "&"), "anchor")


def test_a_quoted_merge_key_is_an_ordinary_unknown_field(base: Tracker, tmp_path: Path) -> None:
    source = sub(PLAN, TASK_4, TASK_4 + '    "<<": {lead: x-so-tc}\n')
    issues = rejected(base, tmp_path, source)
    one_at(issues, *at(source, '"<<"'), "'<<' không được hỗ trợ")


# --------------------------------------------------------------------------------------------------
# 15. `=` and the other YAML 1.1 spellings
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "written", ["=", "Yes", "No", "on", "12:30", "1_000"], ids=lambda w: f"title-{w}"
)
def test_yaml_1_1_spellings_are_text(written: str, base: Tracker, tmp_path: Path) -> None:
    """What an editor (YAML 1.2) shows as text is stored as that text."""
    source = sub(PLAN, "    title: Tuyên truyền\n", f"    title: {written}\n")
    paths = write(tmp_path / "in", {"p.yaml": source})
    base.load([UNITS_PATH, *paths], until=HORIZON)
    assert titles(base, "4") == {written}


@pytest.mark.parametrize(
    ("written", "words"),
    [
        ("yes", ("cần true hoặc false", "'yes' là văn bản", "hãy viết true")),
        ("off", ("cần true hoặc false", "'off' là văn bản", "hãy viết false")),
        ('"true"', ("cần true hoặc false", "không đặt trong dấu nháy")),
        ("1", ("cần true hoặc false", "không phải 1")),
    ],
    ids=["yes", "off", "quoted-true", "one"],
)
def test_a_boolean_must_be_written_true_or_false(
    written: str, words: tuple[str, ...], base: Tracker, tmp_path: Path
) -> None:
    source = sub(PLAN, "    key: true\n", f"    key: {written}\n")
    issues = rejected(base, tmp_path, source)
    one_at(issues, *at(source, f"key: {written}", written), *words)


def test_a_blank_title_is_refused(base: Tracker, tmp_path: Path) -> None:
    source = sub(PLAN, "    title: Tuyên truyền\n", '    title: "\u3000 "\n')
    issues = rejected(base, tmp_path, source)
    one_at(issues, *at(source, 'title: "\u3000', '"'), "'title' cần một chuỗi văn bản không rỗng")


@pytest.mark.parametrize(
    ("written", "words"),
    [
        ("20221003", ("ngày 20221003 không hợp lệ", "YYYY-MM-DD")),
        ("2022-10-03T00:00:00", ("ngày '2022-10-03T00:00:00' không hợp lệ",)),
        ("1664755200", ("ngày 1664755200 không hợp lệ",)),
    ],
    ids=["basic-format", "timestamp", "seconds"],
)
def test_a_date_is_written_yyyy_mm_dd_and_nothing_else(
    written: str, words: tuple[str, ...], base: Tracker, tmp_path: Path
) -> None:
    source = sub(PLAN, "  date: 2022-10-03\n", f"  date: {written}\n")
    issues = rejected(base, tmp_path, source)
    one_at(issues, *at(source, f"date: {written}", written), *words)


# --------------------------------------------------------------------------------------------------
# 8. The size bound and the parser's memory
# --------------------------------------------------------------------------------------------------
def test_a_file_over_the_limit_is_refused_before_it_is_parsed(
    base: Tracker, tmp_path: Path
) -> None:
    padding = "# " + "x" * 98 + "\n"
    source = PLAN + padding * (MAX_BYTES // len(padding) + 1)
    started = time.perf_counter()
    issues = rejected(base, tmp_path, source, "big.yaml")
    assert time.perf_counter() - started < 30
    size = len(source.encode("utf-8"))
    assert [(i.line, i.column) for i in issues] == [(0, 0)], describe(issues)
    size_text = f"{size / MB:.1f}".replace(".", ",") + " MB"
    limit_text = f"{MAX_BYTES / MB:.1f}".replace(".", ",") + " MB"
    for words in ("tệp quá lớn", size_text, f"giới hạn là {limit_text}", "KTTT_MAX_INPUT_MB"):
        assert words in issues[0].message, issues[0]


def test_the_limit_is_a_parameter_of_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "u.yaml"
    path.write_bytes(UNITS_PATH.read_bytes())
    size = path.stat().st_size
    doc, issues = read_yaml(path, max_bytes=size)
    assert doc is not None and issues == []
    doc, issues = read_yaml(path, max_bytes=size - 1)
    assert doc is None and [(i.line, i.column) for i in issues] == [(0, 0)]
    assert "tệp quá lớn" in issues[0].message
    doc, issues = parse_yaml(UNITS_PATH.read_text(encoding="utf-8"), "u.yaml", max_bytes=size - 1)
    assert doc is None and "tệp quá lớn" in issues[0].message


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_file_without_a_size_is_read_up_to_the_limit_only() -> None:
    """A device (or a file still growing) has no size to check first: reading stops at the limit."""
    doc, issues = read_yaml(Path("/dev/zero"), max_bytes=4 * MB)
    assert doc is None
    assert [(i.line, i.column) for i in issues] == [(0, 0)] and "tệp quá lớn" in issues[0].message


def _registry(n: int) -> str:
    lines = ["kind: registry", "levels:", "  - code: xa", "    name: Cấp xã", "units:"]
    for i in range(n):
        lines += [
            f"  - code: xa-{i:06d}",
            f"    name: Ủy ban nhân dân xã Phước Lộc số {i}",
            "    aliases:",
            f"      - UBND xã Phước Lộc số {i}",
            "    level: xa",
            "    targets:",
            f"      - mailto://vanthu.xa-{i:06d}@tinh.gov.vn",
            "    valid_from: 2025-07-01",
        ]
    return "\n".join(lines) + "\n"


def _peak_per_byte(text: str) -> float:
    tracemalloc.start()
    try:
        doc, issues = parse_yaml(text, "r.yaml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert doc is not None and issues == []
    assert len(doc.data["units"]) > 0
    return peak / len(text.encode("utf-8"))


def test_the_parser_memory_is_linear_and_a_small_multiple_of_the_file() -> None:
    """Peak memory (Python allocations) of parsing a registry, per byte of YAML: before the fix
    about 41 (a node tree and a dictionary of path tuples); now about 6, whatever the size."""
    small, large = _peak_per_byte(_registry(1000)), _peak_per_byte(_registry(3000))
    assert large < 12, f"{large:.1f} bytes of memory per byte of YAML"
    assert large < small * 1.25, f"not linear: {small:.1f} then {large:.1f} bytes per byte"


# --------------------------------------------------------------------------------------------------
# 16. One line per issue, values quoted, escaped and cut
# --------------------------------------------------------------------------------------------------
HUGE = "Sở " + "rất " * 250_000  # 1 MB


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("    lead: x-so-khdt\n", f"    lead: {HUGE}\n", "lead: Sở"),
        ("    lead: x-so-khdt\n", '    lead: "x-so\\nkhdt"\n', 'lead: "x-so'),
        ("    deadline: Thường xuyên\n", f"    deadline: {HUGE}\n", "deadline: Sở"),
        (TASK_4, TASK_4 + f"    ? {'k' * 100_000}\n    : x\n", "? kkkk"),  # explicit key
        (
            TASK_4,
            TASK_4 + f"    escalation:\n      steps:\n        - {{code: a, offset: 1, "
            f"severity: due, to: [{HUGE}]}}\n",
            "to: [Sở",
        ),
    ],
    ids=["unknown-lead-1mb", "lead-with-newline", "deadline-1mb", "key-100k", "recipient-1mb"],
)
def test_every_issue_is_one_short_line(
    old: str, new: str, needle: str, base: Tracker, tmp_path: Path
) -> None:
    source = sub(PLAN, old, new)
    issues = rejected(base, tmp_path, source)
    line, _ = at(source, needle)
    assert any(i.line == line for i in issues), describe(issues)
    for issue in issues:
        printed = str(issue)
        assert "\n" not in printed and "\r" not in printed, printed
        assert len(issue.message) < 1000, f"{len(issue.message)} characters: {printed[:300]}"
        for quoted in printed.split("'")[1::2]:
            assert len(quoted) <= MAX_SHOWN, quoted


def test_a_newline_in_a_value_is_shown_escaped(base: Tracker, tmp_path: Path) -> None:
    source = sub(PLAN, "    lead: x-so-khdt\n", '    lead: "x-so\\nkhdt"\n')
    issues = rejected(base, tmp_path, source)
    issue = one_at(issues, *at(source, 'lead: "x-so', '"'), "không tìm thấy")
    assert "'x-so\\nkhdt'" in issue.message, issue


def test_a_long_value_is_cut_with_an_ellipsis(base: Tracker, tmp_path: Path) -> None:
    source = sub(PLAN, "    lead: x-so-khdt\n", f"    lead: {HUGE}\n")
    issues = rejected(base, tmp_path, source)
    issue = one_at(issues, *at(source, "lead: Sở", "Sở"), "không tìm thấy")
    assert "'Sở rất rất" in issue.message and "…'" in issue.message, issue


def test_the_cli_prints_one_line_per_issue(base: Tracker, tmp_path: Path) -> None:
    source = sub(PLAN, "    lead: x-so-khdt\n", '    lead: "x-so\\nkh\\rd\\u2028t"\n')
    paths = write(tmp_path / "in", {"p.yaml": source})
    result = CliRunner().invoke(
        app, ["load", str(paths[0]), "--db", db_url(base), "--until", HORIZON.isoformat()]
    )
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if "x-so" in ln]
    assert len(lines) == 1 and lines[0].startswith(f"{paths[0]}:"), result.output
    assert "'x-so\\nkh\\rd\\u2028t'" in lines[0], lines[0]


if sys.platform == "win32":  # pragma: no cover
    pytestmark = pytest.mark.skip("POSIX paths")
