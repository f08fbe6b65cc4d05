"""The consolidated report (``Tracker.progress``) and ``kttt report``; the pure event mapping.

No Prefect server here: the report is a library function the ``progress-report`` flow and the CLI
both call; SQLite always, PostgreSQL with ``KTTT_TEST_DATABASE_URL``.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kttt_workflow.cli import app
from kttt_workflow.domain.progress import fmt_pct
from kttt_workflow.domain.status import DUE_STATUSES, Status
from kttt_workflow.orchestration.artifacts import artifact_key, slug
from kttt_workflow.orchestration.events import to_event
from kttt_workflow.service import Tracker
from kttt_workflow.store.facts import Fact
from tests.prefect_fixtures import copy_fixtures

UNTIL = date(2024, 12, 31)
AS_OF = date(2023, 1, 16)


def _report_some(store: Tracker, tmp_path: Path) -> Tracker:
    """``kh-1-2022`` loaded; UBND tỉnh's plan (due 30/11/2022) done late on 02/12/2022; one district
    done on time."""
    store.load([copy_fixtures(tmp_path)], until=UNTIL)
    store.complete(
        "kh-1-2022/1/x-ubnd", "Kế hoạch số 5/KH-UBND ngày 02/12/2022", on=date(2022, 12, 2)
    )
    store.verify("kh-1-2022/1/x-ubnd", on=date(2022, 12, 3))
    store.complete(
        "kh-1-2022/2/x-ubnd-c", "Kế hoạch số 7/KH-UBND ngày 15/12/2022", on=date(2022, 12, 15)
    )
    store.verify("kh-1-2022/2/x-ubnd-c", on=date(2022, 12, 16))
    return store


@pytest.fixture
def reported(store: Tracker, tmp_path: Path) -> Tracker:
    return _report_some(store, tmp_path)


def test_counts_agree_with_the_status_of_every_task(reported: Tracker) -> None:
    """The GROUP BY report and the per-task status list say the same thing, scope by scope."""
    rows = reported.status(as_of=AS_OF, directive="kh-1-2022")
    r = reported.progress(as_of=AS_OF, directive="kh-1-2022")
    d = r.directive_row("kh-1-2022")
    assert d.counts == {s.value: Counter(t.status for t in rows)[s.value] for s in Status}
    assert d.total == len(rows) == 14
    for u in r.unit_rows("kh-1-2022"):
        mine = [t for t in rows if t.unit == u.code]
        assert u.total == len(mine) and u.name == mine[0].unit_name
        assert u.due == sum(
            1 for t in mine if t.status in DUE_STATUSES and t.due and t.due <= AS_OF
        )
        assert u.overdue == sum(1 for t in mine if t.status == "overdue")
    assert sum(lv.total for lv in r.level_rows("kh-1-2022")) == d.total
    assert [lv.code for lv in r.level_rows("kh-1-2022")] == ["tinh", "so", "huyen"]


def test_denominators_and_percentages(reported: Tracker) -> None:
    r = reported.progress(as_of=AS_OF, directive="kh-1-2022")
    units = {u.code: u for u in r.unit_rows("kh-1-2022")}
    c = units["x-ubnd-c"]  # Quý IV plan done on time; 2022 annual report overdue; 2023 on track
    assert (c.total, c.due, c.done_due, c.done_on_time_due, c.overdue) == (3, 2, 1, 1, 1)
    assert (c.done_pct, c.on_time_pct, c.overdue_pct) == (50.0, 50.0, 50.0)
    tinh = units["x-ubnd"]
    assert (tinh.due, tinh.done_due, tinh.done_on_time_due) == (1, 1, 0)  # done, but late
    assert (tinh.done_pct, tinh.on_time_pct) == (100.0, 0.0)
    d = r.directive_row("kh-1-2022")
    # Never due: "Thường xuyên" (ongoing) and "Theo dự án" (awaiting a deadline).
    assert d.counts["ongoing"] == 1 and d.counts["awaiting_deadline"] == 1
    assert d.due == d.total - d.counts["ongoing"] - d.counts["awaiting_deadline"] - 3  # 3 on track
    assert d.completion_pct == round(100 * d.done / d.total, 1)
    assert fmt_pct(66.66) == "66,7%" and fmt_pct(None) == "—"
    # Before anything is due, every deadline percentage is undefined, not 0 %.
    early = reported.progress(as_of=date(2022, 10, 10), directive="kh-1-2022").directive_row(
        "kh-1-2022"
    )
    assert early.due == 0 and early.done_pct is None and early.overdue_pct is None


def test_report_of_every_directive_and_markdown_in_vietnamese(reported: Tracker) -> None:
    r = reported.progress(as_of=AS_OF)
    assert [d.code for d in r.directive_rows()] == ["kh-1-2022"]
    md = r.to_markdown()
    assert md == unicodedata.normalize("NFC", md)
    assert "tính đến ngày 16/01/2023" in md and "## Cách tính" in md
    assert "1/KH-UBND ngày 03/10/2022 — Kế hoạch thử nghiệm" in md
    assert "| UBND huyện A |" in md and "### Nhiệm vụ quá hạn" in md
    data = r.as_json()
    assert data["as_of"] == "2023-01-16" and "due" in data["definitions"]
    [d] = data["directives"]
    assert len(d["units"]) == 6 and len(d["overdue_tasks"]) == d["counts"]["overdue"]


def test_artifact_keys_are_what_prefect_accepts() -> None:
    assert artifact_key("progress", "kh-1-2022") == "progress-kh-1-2022"
    assert artifact_key("progress", "ctr-nq20.2022") == "progress-ctr-nq20-2022"
    assert artifact_key("overdue", "KH_67/2013") == "overdue-kh-67-2013"
    assert artifact_key("progress") == "progress-all"
    assert slug("Đồng Tháp — Sở Nội vụ") == "dong-thap-so-noi-vu"


def test_kttt_report_cli(sqlite_store: Tracker, tmp_path: Path) -> None:
    url = _report_some(sqlite_store, tmp_path).url
    runner = CliRunner()
    res = runner.invoke(
        app, ["report", "--db", url, "--directive", "kh-1-2022", "--as-of", "16/01/2023", "--json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["directives"][0]["counts"]["overdue"] == 7
    res = runner.invoke(app, ["report", "--db", url, "--as-of", "2023-01-16", "--markdown"])
    assert res.exit_code == 0 and res.output.startswith("# Báo cáo tình hình thực hiện")
    res = runner.invoke(app, ["report", "--db", url, "--as-of", "2023-01-16"])
    assert res.exit_code == 0 and "UBND huyện A" in res.output and "Cộng" in res.output
    res = runner.invoke(app, ["report", "--db", url, "--directive", "khong-co"])
    assert res.exit_code == 1


def test_events_name_the_task_the_unit_and_the_directive() -> None:
    fact = Fact(
        "escalated",
        "kh-1-2022/3/x-ubnd-a@2022",
        "x-ubnd-a",
        "UBND huyện A",
        "kh-1-2022",
        "Báo cáo định kỳ",
        False,
        None,
        "bao-cao-10",
        {"to": ["x-ubnd"], "cc": ["x-ubnd-a"]},
        ("x-ubnd", "x-ubnd-a"),
    )
    ev = to_event(fact)
    assert ev["event"] == "kttt.task.escalated"
    assert ev["resource"]["prefect.resource.id"] == "kttt.task.kh-1-2022/3/x-ubnd-a@2022"
    assert ev["resource"]["kttt.key-task"] == "false"
    roles = {r["prefect.resource.id"]: r["prefect.resource.role"] for r in ev["related"]}
    assert roles == {
        "kttt.unit.x-ubnd-a": "unit",
        "kttt.directive.kh-1-2022": "directive",
        "kttt.unit.x-ubnd": "recipient",
    }
    assert to_event(fact)["id"] == ev["id"]  # the same stored fact, the same event id
