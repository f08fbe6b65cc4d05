"""Document lineage (issue 8, point 4), on SQLite and PostgreSQL: an implementing directive closes
the parent's "issue a document" task its issuer leads, on load; removing it (or its reference)
undoes that; ``kttt coverage`` says which units have issued their document.

The project's own chain: ``kl-70-2020`` (CP.1: the Government issues its action programme) →
``nq-134-2020`` (that programme; UBND.1: UBND tỉnh Hậu Giang issues its plan) → ``kh-28-2021``.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from kttt_workflow.errors import InputError, KtttError
from kttt_workflow.service import Tracker
from kttt_workflow.store import tables as T
from tests.helpers import DIRECTIVES, cli, db_url, sub

HORIZON = date(2026, 12, 31)
CP1 = "kl-70-2020/CP.1/chinh-phu"
UBND1 = "nq-134-2020/UBND.1/hg-ubnd"
IV1 = "ctr-nq20-2022/IV.1/bg-bcsd-ubnd"


def _reports(store: Tracker, task_id: str) -> list[tuple[str, str | None, date | None, str | None]]:
    """(state, evidence symbol, evidence date, source directive) of every report of a task."""
    c = T.completion_t
    q = (
        select(c.c.state, c.c.evidence_symbol, c.c.evidence_date, c.c.source_directive)
        .where(c.c.task_id == task_id)
        .order_by(c.c.id)
    )
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(q)]  # type: ignore[misc]


def _copy(tmp_path: Path) -> Path:
    dest = tmp_path / "directives"
    shutil.copytree(DIRECTIVES, dest)
    return dest


def _state(store: Tracker, task_id: str, day: date = date(2026, 3, 2)) -> str:
    return store.status(as_of=day, task_ids=[task_id])[0].status


def test_loading_the_chain_completes_cp1_and_ubnd1_without_a_hand_made_report(
    loaded: Tracker,
) -> None:
    assert _reports(loaded, CP1) == [("verified", "134/NQ-CP", date(2020, 9, 25), "nq-134-2020")]
    assert _reports(loaded, UBND1) == [("verified", "28/KH-UBND", date(2021, 2, 4), "kh-28-2021")]
    # Done on the document's date: not before, from then on.
    assert _state(loaded, CP1, date(2020, 9, 24)) == "awaiting_deadline"
    assert _state(loaded, CP1, date(2020, 9, 25)) == "done_on_time"
    history = [(h["event"], h["detail"].get("automatic")) for h in loaded.history(UBND1)]
    assert history == [("created", None), ("reported", True), ("verified", True)]


def test_a_reload_records_nothing_twice(loaded: Tracker) -> None:
    again = loaded.load([DIRECTIVES], until=HORIZON)
    assert again.lineage.completed == [] and again.lineage.withdrawn == []
    assert len(_reports(loaded, CP1)) == 1 and len(_reports(loaded, UBND1)) == 1


def test_removing_the_implementing_directive_reopens_the_task_and_reloading_restores_it(
    loaded: Tracker,
) -> None:
    n, lin = loaded.remove_directive("kh-28-2021", "Nạp nhầm văn bản", on=date(2026, 3, 2))
    assert n == 0  # the plan itself assigns no task
    assert lin.withdrawn == [(UBND1, "kh-28-2021")]
    assert _reports(loaded, UBND1) == [("withdrawn", "28/KH-UBND", date(2021, 2, 4), "kh-28-2021")]
    assert _state(loaded, UBND1) == "awaiting_deadline"  # open again: no deadline was set
    assert loaded.history(UBND1)[-1]["event"] == "withdrawn"
    cov = loaded.coverage("nq-134-2020", as_of=date(2026, 3, 2))
    assert [(r.task_key, r.issued, r.outcome) for r in cov.rows] == [
        ("UBND.1", None, "Chưa ban hành")
    ]
    with pytest.raises(KtttError, match="đã được gỡ"):
        loaded.remove_directive("kh-28-2021", "lần nữa")

    back = loaded.load([DIRECTIVES], until=HORIZON)
    assert [t for t, _, _ in back.lineage.completed] == [UBND1]
    assert [r[0] for r in _reports(loaded, UBND1)] == ["withdrawn", "verified"]
    assert _state(loaded, UBND1) == "done_on_time"


def test_removing_a_directive_with_tasks_removes_them_with_the_reason(loaded: Tracker) -> None:
    n, lin = loaded.remove_directive("nq-134-2020", "Văn bản bị thay thế", on=date(2026, 3, 2))
    assert n == 1
    # The Government's programme is gone: CP.1 of the conclusion is open again.
    assert lin.withdrawn == [(CP1, "nq-134-2020")]
    assert loaded.status(directive="nq-134-2020") == []
    last = loaded.history(UBND1)[-1]
    assert (last["event"], last["detail"]["reason"]) == ("removed", "Văn bản bị thay thế")


def test_an_amendment_that_drops_implements_withdraws_the_report(
    store: Tracker, tmp_path: Path
) -> None:
    folder = _copy(tmp_path)
    store.load([folder], until=HORIZON)
    plan = folder / "kh-28-2021.yaml"
    plan.write_text(sub(plan.read_text(encoding="utf-8"), "    directive: nq-134-2020\n", ""))
    result = store.load([folder], until=HORIZON)
    assert result.lineage.withdrawn == [(UBND1, "kh-28-2021")]
    assert _reports(store, CP1)[0][0] == "verified"  # the other link stands


def test_awaiting_verification_setting_leaves_the_report_for_the_focal_point(
    store: Tracker, tmp_path: Path
) -> None:
    folder = _copy(tmp_path)
    plan = folder / "kh-28-2021.yaml"
    text = plan.read_text(encoding="utf-8")
    plan.write_text(
        sub(
            text,
            "roll_to_working_day: true\n",
            "roll_to_working_day: true\ncloses_parent_task: awaiting_verification\n",
        )  # fmt: skip
    )
    result = store.load([folder], until=HORIZON)
    assert [t for t, _, _ in result.lineage.awaiting] == [UBND1]
    assert _state(store, UBND1) == "awaiting_verification"
    row = store.coverage("nq-134-2020", as_of=date(2026, 3, 2)).rows[0]
    assert row.outcome == "Đã báo cáo, chờ xác nhận" and row.issued and row.issued.automatic
    store.verify(UBND1, on=date(2026, 3, 2))
    assert _state(store, UBND1) == "done_on_time"


def test_a_units_own_report_stands(store: Tracker, tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "kh-28-2021.yaml").unlink()
    store.load([folder], until=HORIZON)
    store.complete(UBND1, "Kế hoạch số 28/KH-UBND ngày 04/02/2021", on=date(2021, 2, 4))
    result = store.load([DIRECTIVES], until=HORIZON)
    assert result.lineage.completed == [] and result.lineage.awaiting == []
    assert _reports(store, UBND1) == [("reported", "28/KH-UBND", date(2021, 2, 4), None)]


def test_completes_names_a_task_the_parent_does_not_have(store: Tracker, tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    plan = folder / "kh-28-2021.yaml"
    plan.write_text(
        sub(
            plan.read_text(encoding="utf-8"),
            "    directive: nq-134-2020\n",
            "    directive: nq-134-2020\n    completes: [UBND.9]\n",
        )  # fmt: skip
    )
    with pytest.raises(InputError, match=r"UBND\.9.*'nq-134-2020' không có nhiệm vụ này") as e:
        store.load([folder], until=HORIZON)
    assert "kh-28-2021.yaml:28:" in str(e.value)  # file:line:col of the reference
    assert store.status() == []  # nothing was written


def test_a_successor_issuing_the_plan_closes_the_ceased_units_task(
    store: Tracker, tmp_path: Path
) -> None:
    # Bắc Ninh's Party committee of the UBND (successor of Bắc Giang's Party group since
    # 1/7/2025) issues the plan NQ 20's IV.1 asked of its predecessor: IV.1 is done, late.
    folder = _copy(tmp_path)
    (folder / "kh-bn-nq20-2026.yaml").write_text(
        """kind: directive
code: kh-bn-nq20-2026
document:
  type: plan
  symbol: 15-KH/ĐU
  date: 2026-03-10
  issuer: bn-dang-uy-ubnd
  title: Thực hiện Chương trình hành động thực hiện Nghị quyết số 20-NQ/TW (minh họa)
implements:
  - symbol: 20-NQ/TW
    directive: ctr-nq20-2022
tasks: []
""",
        encoding="utf-8",
    )
    result = store.load([folder], until=HORIZON)
    assert sorted(t for t, _, _ in result.lineage.completed) == [IV1, CP1, UBND1]
    st = store.status(as_of=date(2026, 3, 20), task_ids=[IV1])[0]
    assert st.status == "done_late"
    cov = store.coverage("ctr-nq20-2022", as_of=date(2026, 3, 20))
    row = next(r for r in cov.rows if r.task_id == IV1)
    assert row.unit.startswith("Đảng ủy UBND tỉnh Bắc Ninh (kế thừa từ Ban cán sự đảng UBND")
    assert row.issued and row.issued.symbol == "15-KH/ĐU"
    assert row.outcome == "Đã ban hành, trễ hạn 1196 ngày"  # 30/11/2022 → 10/3/2026


def test_coverage_of_nq20_says_who_has_issued_its_plan(loaded: Tracker) -> None:
    loaded.complete(
        "ctr-nq20-2022/IV.3/thanh-uy-bac-giang",
        "Kế hoạch số 45-KH/TU ngày 20/12/2022 (dữ liệu minh họa)",
        on=date(2022, 12, 20),
    )
    loaded.verify("ctr-nq20-2022/IV.3/thanh-uy-bac-giang", on=date(2022, 12, 22))
    cov = loaded.coverage("ctr-nq20-2022", as_of=date(2023, 1, 5))
    # IV.1 (the provincial plan) and IV.3 (the ten district committees and the city's).
    assert sorted({r.task_key for r in cov.rows}) == ["IV.1", "IV.3"]
    assert len(cov.rows) == 11
    outcome = {r.task_id.split("/")[-1]: r.outcome for r in cov.rows}
    assert outcome["thanh-uy-bac-giang"] == "Đã ban hành, đúng hạn"
    assert outcome["huyen-uy-yen-the"] == "Chưa ban hành (quá hạn 2 ngày)"
    assert cov.issued == 1 and cov.summary.startswith("1/11 nhiệm vụ")
    # After the reform the district committees have ceased without successor: said, not overdue.
    after = loaded.coverage("ctr-nq20-2022", as_of=date(2026, 3, 2))
    gone = [r for r in after.rows if r.task_id.endswith("/huyen-uy-yen-the")]
    assert gone[0].outcome == "Chưa ban hành (đơn vị đã giải thể, chưa có đơn vị kế thừa)"

    code, out = cli("coverage", "ctr-nq20-2022", "--as-of", "2023-01-05", "--db", db_url(loaded))
    assert code == 0
    assert "Ban hành văn bản thực hiện" in out and "45-KH/TU" in out
    assert "1/11 nhiệm vụ đã có văn bản thực hiện được xác nhận" in out
    code, out = cli(
        "coverage", "ctr-nq20-2022", "--as-of", "2023-01-05", "--json", "--db", db_url(loaded)
    )
    data = json.loads(out)
    assert (data["issued"], data["total"]) == (1, 11)


def test_kttt_remove_and_history_in_words(loaded: Tracker) -> None:
    code, out = cli("remove", "kh-28-2021", "--reason", "Nạp nhầm", "--db", db_url(loaded))
    assert code == 0, out
    assert "Đã gỡ văn bản 'kh-28-2021'" in out and f"Hủy hoàn thành tự động: {UBND1}" in out
    code, out = cli("history", UBND1, "--db", db_url(loaded))
    lines = out.strip().splitlines()
    assert "tự động (văn bản thực hiện 'kh-28-2021')" in lines[1]
    assert lines[-1].split(" ", 2)[2].startswith("hủy báo cáo tự động: lý do: văn bản thực hiện")
    code, out = cli("remove", "kh-28-2021", "--db", db_url(loaded))
    assert code == 1 and "cần ghi lý do" in out
