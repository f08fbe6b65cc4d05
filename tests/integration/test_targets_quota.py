"""Quantitative targets (issue 8, point 5), on SQLite and PostgreSQL: a quota split by district
(as QĐ 498/QĐ-UBND Quảng Ninh 2019 split 80 new cooperatives), actual values on completion
reports, target / actual / % per unit and in total; seed 002's 2030 and 2045 targets; bad input.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from kttt_workflow.errors import InputError, KtttError
from kttt_workflow.service import Tracker
from tests.helpers import UNTIL, cli, copy_fixtures, db_url

QUOTA = """kind: directive
code: kh-htx-2023
document:
  type: plan
  symbol: 5/KH-UBND
  date: 2023-01-10
  issuer: x-ubnd
  title: Kế hoạch phát triển hợp tác xã năm 2023
tasks:
  - id: "1"
    title: Thành lập mới hợp tác xã
    lead: x-cac-huyen
    deadline: Quý IV/2023
    targets:
      - indicator: Số hợp tác xã thành lập mới
        measure: hợp tác xã
        value: 80
        split: {x-ubnd-a: 30, x-ubnd-b: 30, x-ubnd-c: 20}
"""


def _quota(tmp_path: Path, text: str = QUOTA) -> Path:
    folder = copy_fixtures(tmp_path)
    (folder / "quota.yaml").write_text(text, encoding="utf-8")
    return folder


def test_a_quota_split_by_district_reports_each_share_and_the_total(
    store: Tracker, tmp_path: Path
) -> None:
    store.load([_quota(tmp_path)], until=UNTIL)
    store.complete(
        "kh-htx-2023/1/x-ubnd-a", "Báo cáo số 12/BC-UBND ngày 15/12/2023", on=date(2023, 12, 15),
        actuals=["Số hợp tác xã thành lập mới=33"],
    )  # fmt: skip
    store.verify("kh-htx-2023/1/x-ubnd-a", on=date(2023, 12, 18))
    store.complete(
        "kh-htx-2023/1/x-ubnd-b", "Báo cáo số 20/BC-UBND ngày 20/12/2023", on=date(2023, 12, 20),
        actuals=["=12"],  # the only indicator of the task: its name may be left out
    )  # fmt: skip
    rep = store.targets(directive="kh-htx-2023", as_of=date(2023, 12, 31))
    lines = {ln.task_id.rsplit("/", 1)[1]: ln for ln in rep.lines}
    assert {u: (ln.target, ln.actual, ln.verified) for u, ln in lines.items()} == {
        "x-ubnd-a": (30.0, 33.0, True),
        "x-ubnd-b": (30.0, 12.0, False),
        "x-ubnd-c": (20.0, None, False),
    }
    assert lines["x-ubnd-a"].percent == pytest.approx(110.0)
    (total,) = rep.totals
    assert (total.target, total.actual, total.units, total.reported) == (80.0, 45.0, 3, 2)
    assert total.percent_text == "56,3% chỉ tiêu (45/80 hợp tác xã; 2/3 đơn vị đã báo cáo)"
    # Before the reports, nothing is reached.
    early = store.targets(directive="kh-htx-2023", as_of=date(2023, 12, 1))
    assert [t.actual for t in early.totals] == [None]

    code, out = cli("targets", "--directive", "kh-htx-2023", "--as-of", "2023-12-31",
                    "--db", db_url(store))  # fmt: skip
    assert code == 0, out
    assert "Chỉ tiêu định lượng tính đến ngày 31/12/2023" in out
    assert "Cộng kh-htx-2023/1 — Số hợp tác xã thành lập mới: 56,3% chỉ tiêu (45/80" in out
    code, out = cli("targets", "--directive", "kh-htx-2023", "--as-of", "2023-12-31", "--json",
                    "--db", db_url(store))  # fmt: skip
    data = json.loads(out)
    assert data["totals"][0]["actual"] == 45.0 and len(data["lines"]) == 3


def test_a_split_that_does_not_add_up_is_an_error_unless_partial(tmp_path: Path) -> None:
    bad = QUOTA.replace("x-ubnd-c: 20}", "x-ubnd-c: 15}")
    code, out = cli("validate", str(_quota(tmp_path, bad)))
    assert code == 1
    assert "quota.yaml:18:" in out
    assert "tổng phân bổ (75) khác giá trị chỉ tiêu (80)" in out and "partial: true" in out
    partial = bad.replace("        split:", "        partial: true\n        split:")
    code, out = cli("validate", str(_quota(tmp_path / "p", partial)))
    assert code == 0, out


def test_a_split_naming_a_unit_that_does_not_lead_is_an_error(tmp_path: Path) -> None:
    bad = QUOTA.replace("x-ubnd-c: 20}", "x-so-tc: 20}")
    code, out = cli("validate", str(_quota(tmp_path, bad)))
    assert code == 1
    assert "'x-so-tc' không phải đơn vị chủ trì của nhiệm vụ '1'" in out


def test_a_target_value_must_be_a_number(store: Tracker, tmp_path: Path) -> None:
    bad = QUOTA.replace("value: 80", "value: tám mươi")
    with pytest.raises(InputError) as e:
        store.load([_quota(tmp_path, bad)], until=UNTIL)
    assert "cần một số" in str(e.value) and "quota.yaml:17:16" in str(e.value)
    assert store.status() == []


def test_actuals_on_a_task_without_targets_or_unknown_names_are_refused(
    store: Tracker, tmp_path: Path
) -> None:
    store.load([_quota(tmp_path)], until=UNTIL)
    with pytest.raises(KtttError, match="không có chỉ tiêu định lượng"):
        store.complete("kh-1-2022/1/x-ubnd", "Kế hoạch số 9/KH-UBND ngày 20/11/2022",
                       on=date(2022, 11, 20), actuals=["Số HTX=3"])  # fmt: skip
    with pytest.raises(KtttError, match="có phải: Số hợp tác xã thành lập mới"):
        store.complete("kh-htx-2023/1/x-ubnd-c", "Báo cáo số 3/BC-UBND ngày 01/12/2023",
                       on=date(2023, 12, 1), actuals=["Số hợp tác xã thành lập=3"])  # fmt: skip
    with pytest.raises(KtttError, match="không phải là số"):
        store.complete("kh-htx-2023/1/x-ubnd-c", "Báo cáo số 3/BC-UBND ngày 01/12/2023",
                       on=date(2023, 12, 1), actuals=["Số hợp tác xã thành lập mới=ba"])  # fmt: skip
    # Nothing was recorded.
    assert store.status(task_ids=["kh-htx-2023/1/x-ubnd-c"])[0].state == "open"


def test_seed_002s_targets_are_loaded(loaded: Tracker) -> None:
    rep = loaded.targets(directive="ctr-nq20-2022", as_of=date(2026, 3, 2))
    by = {(ln.task_key, ln.indicator): ln for ln in rep.lines}
    assert by[("II.2.2030", "Số hợp tác xã")].target == 1600
    assert by[("II.2.2030", "Số thành viên hợp tác xã")].target == 51000
    khá = by[("II.2.2030", "Tổ chức kinh tế tập thể đạt từ loại khá trở lên")]
    assert (khá.target, khá.measure) == (65, "%")
    assert by[("II.2.2045", "Tổ chức kinh tế tập thể hoạt động hiệu quả")].target == 90
    # Bắc Giang's Party group ceased on 30/6/2025: its successor answers for the targets.
    assert khá.unit.startswith("Đảng ủy UBND tỉnh Bắc Ninh (kế thừa từ")
    assert len([ln for ln in rep.lines if ln.task_key == "II.2.2030"]) == 14
    assert len([ln for ln in rep.lines if ln.task_key == "II.2.2045"]) == 4


def test_the_report_shows_target_actual_and_percent(store: Tracker, tmp_path: Path) -> None:
    store.load([_quota(tmp_path)], until=UNTIL)
    store.complete(
        "kh-htx-2023/1/x-ubnd-c", "Báo cáo số 7/BC-UBND ngày 10/12/2023", on=date(2023, 12, 10),
        actuals=["Số hợp tác xã thành lập mới=25"],
    )  # fmt: skip
    store.verify("kh-htx-2023/1/x-ubnd-c", on=date(2023, 12, 11))
    rep = store.progress(as_of=date(2023, 12, 31), directive="kh-htx-2023")
    rows = rep.target_table("kh-htx-2023")
    assert [(r["Đơn vị"], r["Đạt được"], r["Tỷ lệ (trên chỉ tiêu giao)"]) for r in rows] == [
        ("UBND huyện A", "—", "—"),
        ("UBND huyện B", "—", "—"),
        ("UBND huyện C", "25", "125%"),
        ("Cộng", "25", "31,3% chỉ tiêu (25/80 hợp tác xã; 1/3 đơn vị đã báo cáo)"),
    ]
    md = rep.to_markdown("kh-htx-2023")
    assert "### Chỉ tiêu định lượng" in md and "| UBND huyện C | 20 hợp tác xã | 25 | 125% |" in md
    assert rep.as_json()["directives"][0]["targets"] == rows
