"""The consolidated report (``Tracker.progress``) against the real stores.

No Prefect server here: the report is a library function the ``progress-report`` flow and the CLI
both call; SQLite always, PostgreSQL with ``KTTT_TEST_DATABASE_URL``. The same report through
``kttt report`` is in ``tests/e2e/test_cli.py``; the pure artifact keys and event mapping are in
``tests/unit/test_artifacts_and_events.py``.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from kttt_workflow.domain.progress import fmt_pct
from kttt_workflow.domain.status import DUE_STATUSES, Status
from kttt_workflow.errors import KtttError
from kttt_workflow.service import Tracker
from tests.helpers import report_some

AS_OF = date(2023, 1, 16)


@pytest.fixture
def reported(store: Tracker, tmp_path: Path) -> Tracker:
    return report_some(store, tmp_path)


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


WITHIN_REGISTRY = """\
kind: registry
levels:
  - {code: tinh, name: Cấp tỉnh}
  - {code: huyen, name: Cấp huyện}
  - {code: xa, name: Cấp xã}
units:
  - {code: w-ubnd, name: Ủy ban nhân dân tỉnh W, level: tinh}
  - {code: w-huyen-a, name: UBND huyện A, level: huyen, parent: w-ubnd}
  - {code: w-huyen-b, name: UBND huyện B, level: huyen, parent: w-ubnd}
  - {code: w-xa-a1, name: UBND xã A1, level: xa, parent: w-huyen-a}
  - code: w-xa-a2
    name: UBND xã A2
    level: xa
    parent: w-huyen-a
    valid_to: 2022-12-31
    successor: w-xa-b1
  - {code: w-xa-b1, name: UBND xã B1, level: xa, parent: w-huyen-b}
groups:
  - code: w-cac-xa
    name: UBND các xã
    members: [w-xa-a1, w-xa-a2, w-xa-b1]
  - code: w-cac-huyen
    name: UBND các huyện
    members: [w-huyen-a, w-huyen-b]
"""

WITHIN_DIRECTIVE = """\
kind: directive
code: kh-w-2022
document: {type: plan, symbol: 9/KH-UBND, date: 2022-10-03, issuer: w-ubnd, title: Kế hoạch W}
tasks:
  - {id: "1", title: Các huyện ban hành kế hoạch, lead: w-cac-huyen, deadline: Quý IV/2022}
  - {id: "2", title: Các xã ban hành kế hoạch, lead: w-cac-xa, deadline: trong tháng 11/2022}
  - {id: "3", title: Tỉnh tổng kết, lead: w-ubnd, deadline: trong tháng 12/2022}
"""


def test_report_within_a_unit_counts_it_and_every_unit_under_it(
    store: Tracker, tmp_path: Path
) -> None:
    """``within``: a district's report counts its own tasks and its communes', by the unit that
    answers for each task on the report date: a commune that ceased and whose successor is in
    another district is counted there, with the successor."""
    (tmp_path / "units.yaml").write_text(WITHIN_REGISTRY, encoding="utf-8")
    (tmp_path / "plan.yaml").write_text(WITHIN_DIRECTIVE, encoding="utf-8")
    store.load([tmp_path / "units.yaml", tmp_path / "plan.yaml"])
    day = date(2023, 1, 16)  # after xã A2 ceased (31/12/2022): xã B1 answers for its task
    answering = {t.task_id: t.answering_unit for t in store.status(as_of=day)}
    assert answering["kh-w-2022/2/w-xa-a2"] == "w-xa-b1"

    a = store.progress(as_of=day, within="w-huyen-a")
    assert {u.code: u.total for u in a.unit_rows()} == {"w-huyen-a": 1, "w-xa-a1": 1}
    assert a.total_row().total == 2
    assert a.subject.endswith(" (phạm vi: UBND huyện A và các đơn vị trực thuộc)")
    assert a.as_json()["within"] == "w-huyen-a"

    b = store.progress(as_of=day, within="w-huyen-b")
    assert {u.code: u.total for u in b.unit_rows()} == {"w-huyen-b": 1, "w-xa-b1": 2}

    # Before xã A2 ceased it answers for its own task, in district A.
    early = store.progress(as_of=date(2022, 12, 1), within="w-huyen-a")
    assert {u.code: u.total for u in early.unit_rows()} == {
        "w-huyen-a": 1,
        "w-xa-a1": 1,
        "w-xa-a2": 1,
    }
    # The province: everything, as the national report of this registry.
    whole = store.progress(as_of=day, within="w-ubnd")
    assert whole.total_row().total == store.progress(as_of=day).total_row().total == 6

    with pytest.raises(KtttError, match="không có đơn vị mã 'w-huyen-c'.*w-huyen-"):
        store.progress(as_of=day, within="w-huyen-c")


SECOND_DIRECTIVE = """\
kind: directive
code: kh-2-2022
document: {type: plan, symbol: 2/KH-UBND, date: 2022-10-05, issuer: x-ubnd, title: Kế hoạch hai}
tasks:
  - {id: "1", title: Các huyện báo cáo, lead: x-cac-huyen, deadline: trong tháng 12/2022}
"""


@pytest.mark.parametrize("as_of", [AS_OF, date(2023, 12, 31)])
def test_the_overdue_list_is_the_longest_overdue_whatever_its_length(
    reported: Tracker, as_of: date
) -> None:
    """The overdue list is the first ``overdue_limit`` of every overdue task in the order the
    report gives (due date, task, unit, period), for each limit: the report bounds the list's
    query by the due dates its counts saw (``Tally.overdue_until``), which must never cut one."""
    rows = [t for t in reported.status(as_of=as_of, directive="kh-1-2022") if t.status == "overdue"]
    expected = [
        t.task_id for t in sorted(rows, key=lambda t: (t.due, t.task_key, t.unit, t.period or ""))
    ]
    assert len(expected) >= 3
    for limit in range(1, len(expected) + 2):
        r = reported.progress(as_of=as_of, directive="kh-1-2022", overdue_limit=limit)
        assert [t.task_id for t in r.overdue_of("kh-1-2022")] == expected[:limit]


def test_every_directive_lists_its_own_longest_overdue(reported: Tracker, tmp_path: Path) -> None:
    """The report of every directive lists the longest overdue tasks of EACH one (at most
    ``overdue_limit`` each): a cap across documents left a later directive with its overdue count
    and an empty list, which its artifact showed as "Không có nhiệm vụ quá hạn"."""
    (tmp_path / "kh2.yaml").write_text(SECOND_DIRECTIVE, encoding="utf-8")
    reported.load([tmp_path / "kh2.yaml"])
    r = reported.progress(as_of=AS_OF, overdue_limit=2)
    for code in ("kh-1-2022", "kh-2-2022"):
        listed = r.overdue_of(code)
        assert r.directive_row(code).overdue >= 2
        assert len(listed) == 2 and all(t.status == "overdue" for t in listed)
        assert [t.due for t in listed] == sorted(t.due for t in listed)  # longest overdue first
    # kh-1-2022's tasks were due earlier: one list capped at 2 across documents had none of kh-2.
    assert max(t.due for t in r.overdue_of("kh-1-2022")) < min(
        t.due for t in r.overdue_of("kh-2-2022")
    )


def test_each_point_of_the_chart_is_the_report_of_its_day(loaded: Tracker) -> None:
    """The leaders' chart of % done of the tasks due (``Tracker.done_series``, one point per sweep
    date) reads only the tasks due by each day; every point must still be the report's own
    figure as of that day, for each directive and for all of them, over the real directives'
    years: reports verified on time and late, returned, still awaiting a decision, and the 2025
    reform's ceased units."""
    store = loaded
    overdue = [t.task_id for t in store.status(as_of=date(2023, 3, 1), statuses=["overdue"])]
    on_track = [t.task_id for t in store.status(as_of=date(2025, 5, 5), statuses=["on_track"])]
    assert len(overdue) >= 12 and len(on_track) >= 6
    for i, task in enumerate(overdue[::5][:12] + on_track[::7][:6]):
        on = date(2023, 3, 1) if i < 12 else date(2025, 5, 5)
        store.complete(task, f"Báo cáo số {i + 1}/BC ngày {on:%d/%m/%Y}", on=on)
        if i % 3 == 0:
            store.verify(task, on=on)
        elif i % 3 == 1:
            store.return_(task, "Thiếu phụ lục", on=on)  # i % 3 == 2: awaiting a decision
    days = [date(y, m, 1) for y in range(2013, 2027) for m in (1, 4, 7, 10)]
    days += [date(2023, 3, 1), date(2025, 6, 30), date(2025, 7, 1), date(2026, 12, 31)]
    dues = sorted({t.due for t in store.status(as_of=date(2026, 12, 31)) if t.due})
    days += dues[:: max(1, len(dues) // 12)]  # days on which tasks fall due
    series = store.done_series(days)
    points = 0
    for day in days:
        r = store.progress(as_of=day)
        want = {d.code: d.done_pct for d in r.directive_rows() if d.done_pct is not None}
        got = {c: p for c, p in series[day].items() if c and p is not None}
        assert got == want, day
        assert series[day][""] == r.total_row().done_pct, day
        points += len(want)
    assert points > 100  # most directives have tasks due on most of these days
    nq20 = store.done_series(days, "ctr-nq20-2022")
    for day in days:
        pct = store.progress(as_of=day, directive="ctr-nq20-2022").total_row().done_pct
        assert nq20[day][""] == pct and nq20[day].get("ctr-nq20-2022") == pct, day
