"""The pure parts of the Prefect layer, no server: artifact keys Prefect accepts, and the mapping
of a stored fact to a Prefect event (``kttt_workflow.orchestration.events.to_event``)."""

from __future__ import annotations

from datetime import date

from kttt_workflow.orchestration.artifacts import artifact_key, as_of_of, slug
from kttt_workflow.orchestration.charts import bar_chart, line_chart, markdown_image
from kttt_workflow.orchestration.events import aggregate, to_event, unit_event
from kttt_workflow.store.facts import Fact


def test_artifact_keys_are_what_prefect_accepts() -> None:
    assert artifact_key("tien-do", "kh-1-2022", "1/KH-UBND") == "tien-do-kh-1-2022-1-kh-ubnd"
    assert artifact_key("tien-do", "ctr-nq20.2022", "20-NQ/TW") == "tien-do-ctr-nq20-2022-20-nq-tw"
    assert artifact_key("qua-han", "KH_67/2013") == "qua-han-kh-67-2013"
    assert artifact_key("tien-do", "kl-70-2020", "70-KL/TW") == "tien-do-kl-70-2020-70-kl-tw"
    assert artifact_key("tien-do") == "tien-do-tat-ca"
    # A back-dated report: its own key, never the latest view's.
    assert (
        artifact_key("tien-do", "kh-1", None, date(2022, 12, 5)) == "tien-do-kh-1-ngay-2022-12-05"
    )
    assert slug("Đồng Tháp — Sở Nội vụ") == "dong-thap-so-noi-vu"
    assert as_of_of("Tính đến ngày 06/02/2023 — 20-NQ/TW") == date(2023, 2, 6)


def test_charts_are_svg_images_the_prefect_ui_draws() -> None:
    import base64

    svg = line_chart([(date(2022, 12, 5), 0.0), (date(2023, 1, 5), 27.3), (date(2023, 2, 6), None)],
                     "% đã xong/đến hạn")  # fmt: skip
    assert svg.startswith("<svg") and "27,3%" in svg and "05/12/22" in svg
    bars = bar_chart(
        [("Huyện ủy Hiệp Hòa", 0, 1, 0), ("Thành ủy Bắc Giang", 1, 0, 0)], "Theo đơn vị"
    )
    assert "Huyện ủy Hiệp Hòa" in bars and "0/1" in bars and "1/1" in bars
    md = markdown_image(svg, "Biểu đồ [tiến độ]")
    assert md.startswith("![Biểu đồ (tiến độ)](data:image/svg+xml;base64,")
    assert base64.b64decode(md.split(",", 1)[1].rstrip(")")).decode() == svg


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


def _escalated(task: str, unit: str, key_task: bool = False) -> Fact:
    return Fact("escalated", task, unit, "UBND huyện A", "kh-1-2022", "Báo cáo", key_task, None,
                "bao-cao-10", {"to": ["x-ubnd"]}, ("x-ubnd",))  # fmt: skip


def test_escalations_of_a_unit_are_one_event_key_tasks_and_overdue_stay_single() -> None:
    facts = [
        _escalated("kh-1-2022/3/x-ubnd-a@2022", "x-ubnd-a"),
        _escalated("kh-1-2022/4/x-ubnd-a", "x-ubnd-a"),
        _escalated("kh-1-2022/1/x-ubnd-a", "x-ubnd-a", key_task=True),
        Fact("overdue", "kh-1-2022/2/x-ubnd-a", "x-ubnd-a", "UBND huyện A", "kh-1-2022", "Kế hoạch",
             False, None, "don-doc-3"),
    ]  # fmt: skip
    single, grouped = aggregate(facts)
    assert [f.task_id for f in single] == ["kh-1-2022/1/x-ubnd-a", "kh-1-2022/2/x-ubnd-a"]
    ev = unit_event("x-ubnd-a", grouped["x-ubnd-a"], {"kh-1-2022": "1/KH-UBND"})
    assert ev["event"] == "kttt.unit.escalated"
    assert ev["resource"]["prefect.resource.id"] == "kttt.unit.x-ubnd-a"
    assert ev["resource"]["prefect.resource.name"] == "UBND huyện A: 2 nhiệm vụ báo cáo cấp trên"
    assert ev["payload"]["count"] == 2
    assert ev["payload"]["task_ids"] == ["kh-1-2022/3/x-ubnd-a@2022", "kh-1-2022/4/x-ubnd-a"]
    assert {
        r["prefect.resource.name"]
        for r in ev["related"]
        if r["prefect.resource.role"] == "directive"
    } == {"1/KH-UBND"}
    assert unit_event("x-ubnd-a", grouped["x-ubnd-a"])["id"] == ev["id"]
    named = to_event(single[1], {"kh-1-2022": "1/KH-UBND"})
    assert named["related"][1]["prefect.resource.name"] == "1/KH-UBND"


def test_the_leader_table_puts_the_late_first_and_flags_returned_and_awaiting_reports() -> None:
    from kttt_workflow.domain.progress import (
        CountRow,
        DirectiveInfo,
        UnitFlags,
        assemble,
        leader_table,
    )

    day = date(2023, 2, 6)
    counts = [
        CountRow("ctr", "c", "done_on_time", True, False, 2),
        CountRow("ctr", "b", "awaiting_verification", False, False, 1),
        CountRow("ctr", "a", "overdue", True, True, 2, age=1),
        CountRow("ctr", "a", "done_late", True, False, 1),
        CountRow("ctr", "d", "overdue", True, False, 1, age=0),
    ]
    info = DirectiveInfo("ctr", "action_programme", None, None, "Thực hiện Nghị quyết số 20-NQ/TW")
    units = {"a": ("Huyện ủy A", None), "b": ("Huyện ủy B", None), "c": ("Sở C", None),
             "d": ("Huyện ủy D", None)}  # fmt: skip
    report = assemble(day, "ctr", counts, {"ctr": info}, units, {}, [])
    flags = {("ctr", "a"): UnitFlags(40, 0), ("ctr", "d"): UnitFlags(45, 1)}
    rows = leader_table(report, "ctr", flags)
    assert [r["Đơn vị"] for r in rows] == ["Huyện ủy A", "Huyện ủy D", "Huyện ủy B", "Sở C", "Cộng"]
    assert len(rows[0]) == 7
    assert rows[0]["Tình trạng"] == "🔴 Chậm" and rows[0]["Quá hạn lâu nhất"] == "40 ngày"
    assert rows[0]["% xong/đến hạn"] == "33,3% (1/3)"
    assert rows[1]["Tình trạng"] == "🔴 Chậm; 1 báo cáo bị trả lại"
    assert (
        rows[2]["Tình trạng"] == "🟠 1 chờ xác nhận" and rows[2]["% xong/đến hạn"] == "chưa đến hạn"
    )
    assert rows[3]["Tình trạng"] == "🟢 Đúng tiến độ"
    total = rows[-1]
    assert (total["Quá hạn"], total["Đến hạn"], total["Đã xong"]) == (3, 6, 3)
    assert total["Quá hạn lâu nhất"] == "45 ngày" and total["% xong/đến hạn"] == "50,0% (3/6)"
    assert leader_table(report, "ctr", flags, total_first=True)[0]["Đơn vị"] == "Cộng"
    [everything, cong] = leader_table(report, None, flags)
    assert everything["Văn bản"] == "20-NQ/TW" and cong["Văn bản"] == "Cộng"
