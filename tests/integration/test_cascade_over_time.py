"""The cascade over time: units that cease, reports awaiting verification, waiting children with
their own deadlines, reassignment (issue 8, points 1–3), on SQLite and PostgreSQL.

Two registries: the project's own (Bắc Giang 2022 → Bắc Ninh 2025, district Party committees
dissolved on 30/6/2025 without successor; Tuyên Quang 2013 → 2025, its districts dissolved), loaded
through ``loaded``; and the small fixture province, where huyện C is dissolved and the coordinator
acts on it.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from kttt_workflow.domain.status import Status
from kttt_workflow.service import Tracker
from kttt_workflow.store import tables as T
from kttt_workflow.store.registry import read_registry
from tests.helpers import UNTIL, cli, copy_fixtures, db_url, ledger, reference, sqlite_digest, sub

REFORM = date(2025, 7, 1)
AFTER = date(2026, 3, 2)  # a Monday, eight months after the reform
BEFORE = date(2025, 6, 2)
DISTRICT_PLANS = "ctr-nq20-2022/IV.3/"  # the ten district Party committees' plans (seed 002)


def _bodies(store: Tracker, as_of: date | None = None) -> dict[str, str]:
    """The digests built (by the sweep as of ``as_of``), by recipient."""
    d = T.delivery_t
    q = select(d.c.recipient, d.c.body_text)
    if as_of is not None:
        q = q.where(d.c.as_of == as_of)
    with store.engine.connect() as conn:
        return {r.recipient: r.body_text for r in conn.execute(q)}


def _dissolve_c(folder: Path, successor: str | None = None) -> None:
    units = folder / "units.yaml"
    extra = "    valid_to: 2023-06-30\n" + (f"    successor: {successor}\n" if successor else "")
    units.write_text(
        sub(
            units.read_text(encoding="utf-8"),
            "    name: UBND huyện C\n    level: huyen\n",
            "    name: UBND huyện C\n    level: huyen\n" + extra,
        ),
        encoding="utf-8",
    )


# -- 1. units that cease ------------------------------------------------------------------------
def test_a_dissolved_units_tasks_have_a_status_of_their_own_after_the_reform(
    loaded: Tracker,
) -> None:
    before = {s.task_id: s for s in loaded.status(as_of=BEFORE, directive="ctr-nq20-2022")}
    after = {s.task_id: s for s in loaded.status(as_of=AFTER, directive="ctr-nq20-2022")}
    districts = sorted(t for t in after if t.startswith(DISTRICT_PLANS))
    assert len(districts) == 10
    for t in districts:
        assert before[t].status == Status.overdue.value and before[t].days_overdue > 800
        assert after[t].status == Status.unit_dissolved.value
        assert after[t].status_label == "Đơn vị đã giải thể, chưa có đơn vị kế thừa"
        assert after[t].days_overdue == 0  # never silently counted as overdue
    # The report counts them apart.
    report = loaded.progress(as_of=AFTER, directive="ctr-nq20-2022")
    row = report.directive_row("ctr-nq20-2022")
    assert row.counts[Status.unit_dissolved.value] == 10
    assert row.overdue == sum(1 for s in after.values() if s.status == Status.overdue.value)


def test_the_successor_lists_what_it_inherited_and_status_names_who_answers(
    loaded: Tracker,
) -> None:
    task = "ctr-nq20-2022/IV.1/bg-bcsd-ubnd"
    mine = {s.task_id: s for s in loaded.status(as_of=AFTER, unit="bn-dang-uy-ubnd")}
    assert task in mine
    s = mine[task]
    assert s.answering_unit == "bn-dang-uy-ubnd"
    assert s.lead_shown == (
        "Đảng ủy UBND tỉnh Bắc Ninh (kế thừa từ Ban cán sự đảng UBND tỉnh Bắc Giang)"
    )
    assert s.status == Status.overdue.value
    # Before the reform the provincial Party group answers for itself, with no "kế thừa".
    old = {x.task_id: x for x in loaded.status(as_of=BEFORE, unit="bg-bcsd-ubnd")}[task]
    assert old.answering_unit == "bg-bcsd-ubnd" and old.inherited_from is None
    assert task not in {x.task_id for x in loaded.status(as_of=BEFORE, unit="bn-dang-uy-ubnd")}
    # The CLI prints the same.
    code, out = cli(
        "status",
        "--unit",
        "bn-dang-uy-ubnd",
        "--as-of",
        "2026-03-02",
        "--json",
        "--db",
        db_url(loaded),
    )
    assert code == 0, out
    row = {r["task_id"]: r for r in json.loads(out)}[task]
    assert (row["answering_name"], row["inherited_from"]) == (
        "Đảng ủy UBND tỉnh Bắc Ninh",
        "Ban cán sự đảng UBND tỉnh Bắc Giang",
    )


def test_no_notice_or_digest_is_addressed_to_a_unit_that_had_ceased(loaded: Tracker) -> None:
    with loaded.engine.connect() as conn:
        registry = read_registry(conn)
    seen_before: set[str] = set()
    for day in (BEFORE, REFORM, AFTER):
        before = set(ledger(loaded))
        loaded.sweep(as_of=day, send=False)
        new = set(ledger(loaded)) - before
        assert new, day
        for _, _, recipient, _, _ in new:
            assert registry.current(recipient, day) == recipient, (recipient, day)
            assert not registry.gone(recipient, day), (recipient, day)
        if day == BEFORE:
            seen_before = {r for _, _, r, _, _ in new}
    # Before the reform the district committees were urged themselves; after, none is.
    assert {"huyen-uy-hiep-hoa", "thanh-uy-bac-giang"} <= seen_before
    assert _bodies(loaded, AFTER)
    for recipient in _bodies(loaded, AFTER):
        assert registry.current(recipient, AFTER) == recipient
        assert not registry.gone(recipient, AFTER)


def test_the_issuer_and_focal_unit_are_asked_once_to_reassign(loaded: Tracker) -> None:
    loaded.sweep(as_of=AFTER, send=False)
    asks = [n for n in ledger(loaded) if n[1] == "giao-lai" and n[0].startswith(DISTRICT_PLANS)]
    # BTV Tỉnh ủy Bắc Giang (issuer) → Bắc Ninh; Ban cán sự đảng UBND (focal) → Đảng ủy UBND.
    assert {(t[len(DISTRICT_PLANS) :], r) for t, _, r, _, _ in asks} == {
        (u, r)
        for u in (
            "huyen-uy-hiep-hoa",
            "huyen-uy-lang-giang",
            "huyen-uy-luc-nam",
            "huyen-uy-luc-ngan",
            "huyen-uy-son-dong",
            "huyen-uy-tan-yen",
            "huyen-uy-viet-yen",
            "huyen-uy-yen-dung",
            "huyen-uy-yen-the",
            "thanh-uy-bac-giang",
        )
        for r in ("bn-btv-tu", "bn-dang-uy-ubnd")
    }
    assert {s for _, _, _, _, s in asks} == {"reassign"}
    body = _bodies(loaded)["bn-btv-tu"]
    assert "Đơn vị chủ trì đã giải thể, chưa có đơn vị kế thừa: đề nghị giao lại (10):" in body
    assert "chủ trì: Huyện ủy Hiệp Hòa (đã giải thể, chưa có đơn vị kế thừa)" in body
    assert "giao lại các nhiệm vụ của đơn vị đã giải thể" in body
    # Not urged themselves: no ladder notice after the reform for the dissolved committees.
    assert not [
        n
        for n in ledger(loaded)
        if n[0].startswith(DISTRICT_PLANS)
        and n[1] != "giao-lai"
        and n[2].startswith(("huyen-uy", "thanh-uy"))
    ]
    # Asked once: the next sweeps add no request.
    loaded.sweep(as_of=AFTER + timedelta(days=1), send=False)
    loaded.sweep(as_of=AFTER + timedelta(days=30), send=False)
    again = [n for n in ledger(loaded) if n[1] == "giao-lai" and n[0].startswith(DISTRICT_PLANS)]
    assert sorted(again) == sorted(asks)


def test_reassign_moves_open_tasks_with_history_and_the_new_unit_is_urged(
    loaded: Tracker,
) -> None:
    task = DISTRICT_PLANS + "huyen-uy-hiep-hoa"
    r = loaded.reassign(
        "bn-btv-tu",
        "Công văn số 15-CV/TU ngày 27/02/2026 giao Ban Thường vụ Tỉnh ủy theo dõi",
        from_unit="huyen-uy-hiep-hoa",
        on=date(2026, 2, 27),
    )
    assert r.moved == [(task, "huyen-uy-hiep-hoa")]
    s = {x.task_id: x for x in loaded.status(as_of=AFTER, unit="bn-btv-tu")}[task]
    assert s.status == Status.overdue.value
    assert s.lead_shown == "Ban Thường vụ Tỉnh ủy Bắc Ninh (giao lại từ Huyện ủy Hiệp Hòa)"
    # As of a day before the reassignment, it is still the dissolved committee's.
    old = {x.task_id: x for x in loaded.status(as_of=date(2026, 2, 26))}[task]
    assert old.status == Status.unit_dissolved.value
    events = [e for e in loaded.history(task) if e["event"] == "reassigned"]
    assert [e["detail"] for e in events] == [
        {
            "from": "huyen-uy-hiep-hoa",
            "to": "bn-btv-tu",
            "on": "2026-02-27",
            "reason": "Công văn số 15-CV/TU ngày 27/02/2026 giao Ban Thường vụ Tỉnh ủy theo dõi",
        }
    ]
    loaded.sweep(as_of=AFTER, send=False)
    mine = {(s_, rc) for t, s_, rc, _, _ in ledger(loaded) if t == task}
    assert ("bao-cao-30", "bn-btv-tu") in mine  # urged as the lead (the issuer too)
    assert not [m for m in mine if m[0] == "giao-lai"]  # nothing left to reassign
    # A reload of the directive keeps the reassignment.
    loaded.load([Path(__file__).parents[2] / "directives"], until=date(2026, 12, 31))
    again = {x.task_id: x for x in loaded.status(as_of=AFTER, unit="bn-btv-tu")}[task]
    assert again.answering_unit == "bn-btv-tu"


def test_a_bad_reassignment_is_refused_and_changes_nothing(loaded: Tracker) -> None:
    url = db_url(loaded)
    before = sqlite_digest(loaded) if url.startswith("sqlite") else None
    task = DISTRICT_PLANS + "huyen-uy-yen-the"
    cases = [
        (["reassign", task, "--to", "khong-co", "--reason", "x"], "không có đơn vị mã 'khong-co'"),
        (
            ["reassign", task, "--to", "huyen-uy-tan-yen", "--on", "2026-03-02", "--reason", "x"],
            "đơn vị 'huyen-uy-tan-yen' đã thôi hoạt động từ sau ngày 30/06/2025",
        ),
        (["reassign", "--to", "bn-btv-tu", "--reason", "x"], "cần ghi một nhiệm vụ hoặc --from"),
        (
            ["reassign", task, "--from", "huyen-uy-yen-the", "--to", "bn-btv-tu", "--reason", "x"],
            "cần ghi một nhiệm vụ hoặc --from",
        ),
        (["reassign", task, "--to", "bn-btv-tu"], "cần ghi lý do giao lại"),
        (["reassign", task, "--reason", "x"], "cần ghi đơn vị nhận nhiệm vụ (--to ĐƠN_VỊ)"),
        (
            ["reassign", task, "--to", "bn-btv-tu", "--on", "2021-01-04", "--reason", "x"],
            "đơn vị 'bn-btv-tu' bắt đầu hoạt động từ ngày 01/07/2025; không thể giao nhiệm vụ "
            "từ ngày 04/01/2021",
        ),
        (
            ["reassign", "--from", "bo-chinh-tri", "--to", "bn-btv-tu", "--reason", "x"],
            "đơn vị 'bo-chinh-tri' không có nhiệm vụ nào chưa hoàn thành",
        ),
    ]
    for args, message in cases:
        code, out = cli(*args, "--db", url)
        assert code == 1, args
        assert message in " ".join(out.split()), (args, out)
    if before is not None:
        assert sqlite_digest(loaded) == before
    assert not [e for e in loaded.history(task) if e["event"] == "reassigned"]


def test_a_registry_amendment_that_adds_a_successor_passes_the_tasks_on(
    store: Tracker, tmp_path: Path
) -> None:
    folder = copy_fixtures(tmp_path)
    _dissolve_c(folder)
    store.load([folder], until=UNTIL)
    day = date(2023, 7, 10)
    c_tasks = [s for s in store.status(as_of=day) if s.unit == "x-ubnd-c"]
    assert c_tasks and {s.status for s in c_tasks if s.status != "done_on_time"} <= {
        Status.unit_dissolved.value
    }
    # The province decides that huyện B takes over huyện C's tasks: the registry says so.
    _dissolve_c(copy_fixtures(tmp_path / "amended"), successor="x-ubnd-b")
    code, out = cli("load", str(tmp_path / "amended"), "--db", db_url(store))
    assert code == 0, out
    assert "Đơn vị kế thừa: x-ubnd-c → x-ubnd-b." in out
    open_c = [s for s in c_tasks if s.state != "done"]
    assert f"{len(open_c)} nhiệm vụ chưa hoàn thành chuyển cho đơn vị kế thừa" in out
    for s in store.status(as_of=day, unit="x-ubnd-b"):
        if s.unit == "x-ubnd-c":
            assert s.lead_shown == "UBND huyện B (kế thừa từ UBND huyện C)"
            assert s.status != Status.unit_dissolved.value
    inherited = [e for e in store.history(open_c[0].task_id) if e["event"] == "inherited"]
    assert [e["detail"] for e in inherited] == [
        {"from": "x-ubnd-c", "to": "x-ubnd-b", "after": "2023-06-30"}
    ]
    # Loading the same registry again passes nothing on twice.
    code, out = cli("load", str(tmp_path / "amended"), "--db", db_url(store))
    assert code == 0 and "Đơn vị kế thừa" not in out


# -- 2. reported but not verified ---------------------------------------------------------------
def test_a_report_awaiting_verification_is_not_urged_and_the_coordinator_is_asked(
    store: Tracker, tmp_path: Path
) -> None:
    store.load([copy_fixtures(tmp_path)], until=UNTIL)
    # Task 2 (Quý IV/2022) is due 03/01/2023; huyện B reports on 04/01, huyện A on 05/01.
    store.complete(
        "kh-1-2022/2/x-ubnd-b", "Kế hoạch số 3/KH-UBND ngày 04/01/2023", on=date(2023, 1, 4)
    )
    store.complete(
        "kh-1-2022/2/x-ubnd-a", "Kế hoạch số 9/KH-UBND ngày 05/01/2023", on=date(2023, 1, 5)
    )
    store.sweep(as_of=date(2023, 1, 18), send=False)
    notices = ledger(store)
    ladder = {(t, s) for t, s, _, _, _ in notices if not s.startswith(("cho-xac-nhan", "tra-lai"))}
    assert ("kh-1-2022/2/x-ubnd-c", "bao-cao-10") in ladder  # the control: huyện C did nothing
    assert not [x for x in ladder if x[0] in ("kh-1-2022/2/x-ubnd-a", "kh-1-2022/2/x-ubnd-b")]
    verify = sorted((t, r, sev) for t, s, r, _, sev in notices if s.startswith("cho-xac-nhan-"))
    assert verify == [
        ("kh-1-2022/2/x-ubnd-a", "x-so-khdt", "verify"),
        ("kh-1-2022/2/x-ubnd-b", "x-so-khdt", "verify"),
    ]
    body = _bodies(store)["x-so-khdt"]
    assert "Báo cáo chờ xác nhận (2):" in body
    section = body[body.index("Báo cáo chờ xác nhận (2):") :]
    # Oldest report first: huyện B's of 04/01 before huyện A's of 05/01.
    assert section.index("Kế hoạch số 3/KH-UBND") < section.index("Kế hoạch số 9/KH-UBND")
    assert "chủ trì: UBND huyện B; báo cáo ngày 04/01/2023" in section
    assert "xác nhận hoặc trả lại" in body
    assert "khẩn trương" not in section.split("\n\n")[0]  # the section itself urges nobody
    for s in store.status(as_of=date(2023, 1, 18), task_ids=["kh-1-2022/2/x-ubnd-a"]):
        assert s.status == Status.awaiting_verification.value

    # Returned with a reason: the lead is told why, and the ladder takes it up again.
    store.return_("kh-1-2022/2/x-ubnd-a", "Thiếu phụ lục phân công", on=date(2023, 1, 18))
    store.sweep(as_of=date(2023, 1, 19), send=False)
    mine = {(s, r, sev) for t, s, r, _, sev in ledger(store) if t == "kh-1-2022/2/x-ubnd-a"}
    assert {(r, sev) for s, r, sev in mine if s.startswith("tra-lai-")} == {
        ("x-ubnd-a", "returned")
    }
    assert ("bao-cao-10", "x-ubnd", "escalated") in mine
    d = T.delivery_t
    with store.engine.connect() as conn:
        text = "\n".join(
            r.body_text
            for r in conn.execute(
                select(d.c.body_text).where(
                    d.c.recipient == "x-ubnd-a", d.c.as_of == date(2023, 1, 19)
                )
            )
        )
    assert "Báo cáo bị trả lại, đề nghị bổ sung (1):" in text
    assert (
        "báo cáo ngày 05/01/2023 đã bị trả lại ngày 18/01/2023; lý do: Thiếu phụ lục phân công"
        in text
    )


def test_follow_ups_agree_with_the_pure_decision_day_by_day(store: Tracker, tmp_path: Path) -> None:
    """Reports waiting and returned, a dissolved district, a reassignment, a waiting child: the
    SQL sweep and the pure decisions (ladder and follow-ups) write the same ledger."""
    folder = copy_fixtures(tmp_path)
    _dissolve_c(folder)
    store.load([folder], until=UNTIL)
    store.complete(
        "kh-1-2022/2/x-ubnd-b", "Kế hoạch số 3/KH-UBND ngày 04/01/2023", on=date(2023, 1, 4)
    )
    store.complete(
        "kh-1-2022/2/x-ubnd-a", "Kế hoạch số 9/KH-UBND ngày 05/01/2023", on=date(2023, 1, 5)
    )
    store.return_("kh-1-2022/2/x-ubnd-a", "Thiếu phụ lục", on=date(2023, 2, 1))
    store.verify("kh-1-2022/2/x-ubnd-b", on=date(2023, 2, 6))
    store.reassign(
        "x-ubnd-b",
        "Quyết định số 2/QĐ-UBND ngày 01/12/2023",
        task="kh-1-2022/3/x-ubnd-c@2023",
        on=date(2023, 12, 1),
    )
    expected: set[tuple[str, str, str, bool, str]] = set()
    day = date(2022, 11, 1)
    while day <= date(2024, 2, 1):
        sent = {(a, b, c) for a, b, c, _, _ in expected}
        expected |= set(reference(store, day, sent))
        store.sweep(as_of=day, send=False, force=True)
        assert set(ledger(store)) == expected, day
        day += timedelta(days=5)
    kinds = {sev for *_, sev in expected}
    assert {"verify", "returned", "reassign", "escalated"} <= kinds


# -- 3. waiting children with their own deadlines -----------------------------------------------
def test_a_waiting_child_past_its_own_deadline_escalates_and_says_why(
    store: Tracker, tmp_path: Path
) -> None:
    store.load([copy_fixtures(tmp_path)], until=UNTIL)
    # Task 1 (the province's plan) is never done; its child 1.1 is due in December 2022.
    child = "kh-1-2022/1.1/x-so-khdt"
    assert {s.status for s in store.status(as_of=date(2022, 12, 20), task_ids=[child])} == {
        Status.pending.value
    }
    s = store.status(as_of=date(2023, 1, 18), task_ids=[child])[0]
    assert s.status == Status.overdue.value and s.waiting_for_parent
    store.sweep(as_of=date(2023, 1, 18), send=False)
    assert (child, "bao-cao-10", "x-ubnd", False, "escalated") in ledger(store)
    body = _bodies(store)["x-so-khdt"]
    line = next(x for x in body.splitlines() if child in x)
    assert "Lưu ý: nhiệm vụ cấp trên chưa hoàn thành." in line
