"""The pure parts of the Prefect layer, no server: artifact keys Prefect accepts, and the mapping
of a stored fact to a Prefect event (``kttt_workflow.orchestration.events.to_event``)."""

from __future__ import annotations

from kttt_workflow.orchestration.artifacts import artifact_key, slug
from kttt_workflow.orchestration.events import to_event
from kttt_workflow.store.facts import Fact


def test_artifact_keys_are_what_prefect_accepts() -> None:
    assert artifact_key("progress", "kh-1-2022") == "progress-kh-1-2022"
    assert artifact_key("progress", "ctr-nq20.2022") == "progress-ctr-nq20-2022"
    assert artifact_key("overdue", "KH_67/2013") == "overdue-kh-67-2013"
    assert artifact_key("progress") == "progress-all"
    assert slug("Đồng Tháp — Sở Nội vụ") == "dong-thap-so-noi-vu"


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
