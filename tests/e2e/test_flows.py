"""Flows run against a real local Prefect server; states, artifacts and events are read back from it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from kttt_workflow.orchestration.artifacts import artifact_key
from kttt_workflow.orchestration.stack import Stack
from kttt_workflow.service import Tracker
from kttt_workflow.store import tables as T
from tests.helpers import copy_fixtures, loaded_db, set_targets
from tests.prefect_fixtures import flow_run, latest_artifact, read_events, wait_for


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Local mailboxes and the default store of the flows go under the test's folder."""
    monkeypatch.setenv("KTTT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KTTT_DATABASE_URL", raising=False)


KH1 = ("kh-1-2022", "1/KH-UBND")


def key(prefix: str, code: str = KH1[0], symbol: str = KH1[1]) -> str:
    return artifact_key(prefix, code, symbol)


def test_load_directive_flow_loads_tags_and_publishes_artifact(
    prefect_stack: Stack, tmp_path: Path
) -> None:
    from flows.load_directive import LoadParams, load_directive

    folder = copy_fixtures(tmp_path)
    db = f"sqlite:///{tmp_path / 'flow.db'}"
    state = load_directive(
        LoadParams(paths=[str(folder)], database_url=db, until=date(2024, 12, 31)),
        return_state=True,
    )
    assert state.is_completed()
    result = state.result()
    assert result[0]["directive"] == "kh-1-2022" and result[0]["added"] == 17
    store = Tracker.open(db)
    assert len(store.status(as_of=date(2024, 12, 31), directive="kh-1-2022")) == 17
    store.close()
    run = flow_run(state.state_details.flow_run_id)
    assert "directive:kh-1-2022" in run.tags
    assert run.name == f"Nạp văn bản chỉ đạo: {folder.name}"
    assert state.message == "Đã nạp 1 văn bản chỉ đạo; 17 nhiệm vụ thêm, sửa hoặc bỏ."
    assert "database_url" not in run.parameters["params"]  # configuration, not a parameter
    art = latest_artifact("nap-van-ban")
    assert art is not None and art.flow_run_id == run.id
    rows = json.loads(art.data)
    assert rows == [
        {"Văn bản": "1/KH-UBND", "Mã": "kh-1-2022", "Tổng nhiệm vụ": 17, "Thêm": 17, "Sửa": 0,
         "Bỏ": 0, "Khôi phục": 0}
    ]  # fmt: skip


def test_progress_report_flow_publishes_unit_table_overdue_list_and_markdown(
    prefect_stack: Stack, tmp_path: Path
) -> None:
    from flows.progress_report import ReportParams, progress_report

    db = loaded_db(tmp_path)
    store = Tracker.open(db)
    store.complete(
        "kh-1-2022/1/x-ubnd", "Kế hoạch số 5/KH-UBND ngày 02/12/2022", on=date(2022, 12, 2)
    )
    store.verify("kh-1-2022/1/x-ubnd", on=date(2022, 12, 3))
    as_of = date(2023, 1, 16)
    state = progress_report(
        ReportParams(as_of=as_of, directive="kh-1-2022", database_url=db), return_state=True
    )
    assert state.is_completed()
    run = flow_run(state.state_details.flow_run_id)
    assert "directive:kh-1-2022" in run.tags
    assert run.name == "Báo cáo tiến độ 1/KH-UBND tại 16/01/2023"
    assert state.message == (
        "Báo cáo tiến độ 1/KH-UBND tại 16/01/2023: 14 nhiệm vụ, đến hạn 9, hoàn thành 11,1% số "
        "đến hạn, quá hạn 8."
    )
    assert "database_url" not in run.parameters["params"]

    # The leader's view: late units first with their most days overdue, "Cộng", the charts.
    view = latest_artifact("tien-do-kh-1-2022-1-kh-ubnd")
    assert view.type == "markdown" and view.flow_run_id == run.id
    assert view.description.startswith("Tính đến ngày 16/01/2023 — 1/KH-UBND")
    assert "UBND huyện A" in view.data and "| **Cộng** | **🔴 Chậm** | **8** |" in view.data
    assert view.data.count("](data:image/svg+xml;base64,") == 2
    leader = json.loads(latest_artifact(key("bang-tien-do")).data)
    assert leader[0]["Đơn vị"] == "Cộng" and len(leader[0]) == 7
    assert leader[0]["% xong/đến hạn"] == "11,1% (1/9)"
    late = [r for r in leader[1:] if r["Quá hạn"]]
    assert [r["Tình trạng"][0] for r in late] == ["🔴"] * len(late)
    assert leader[1:] == sorted(leader[1:], key=lambda r: -r["Quá hạn"])

    art = latest_artifact(key("chi-tiet"))
    assert art.type == "table" and art.flow_run_id == run.id
    rows = {r["Mã đơn vị"]: r for r in json.loads(art.data)}
    assert set(rows) == {"x-ubnd", "x-so-khdt", "x-so-tc", "x-ubnd-a", "x-ubnd-b", "x-ubnd-c"}
    # UBND tỉnh: its plan due 30/11/2022 was reported on 02/12/2022 → done late.
    assert rows["x-ubnd"]["Tổng"] == 1 and rows["x-ubnd"]["Xong quá hạn"] == 1
    assert rows["x-ubnd"]["Đến hạn"] == 1 and rows["x-ubnd"]["% hoàn thành"] == "100,0%"
    # Each district: Quý IV/2022 plan and the 2022 annual report overdue; the 2023 report on track.
    for code in ("x-ubnd-a", "x-ubnd-b", "x-ubnd-c"):
        r = rows[code]
        assert (r["Tổng"], r["Quá hạn"], r["Trong hạn"], r["Đến hạn"]) == (3, 2, 1, 2)
        assert r["% quá hạn"] == "100,0%" and r["Cấp"] == "Cấp huyện"
    # Sở KH&ĐT: its child task (activated when UBND tỉnh's was verified) overdue, plus "Thường xuyên".
    assert (rows["x-so-khdt"]["Quá hạn"], rows["x-so-khdt"]["Thường xuyên"]) == (1, 1)
    # The artifact is the library's report, cell for cell.
    lib = store.progress(as_of=as_of, directive="kh-1-2022")
    assert json.loads(art.data) == json.loads(json.dumps(lib.unit_table("kh-1-2022")))
    store.close()

    overdue = latest_artifact(key("qua-han"))
    assert overdue.flow_run_id == run.id
    listed = json.loads(overdue.data)
    assert len(listed) == lib.directive_row("kh-1-2022").overdue == 8
    assert list(listed[0])[:2] == ["Đơn vị chủ trì", "Số ngày quá hạn"]
    report = latest_artifact(key("bao-cao"))
    assert report.type == "markdown" and report.flow_run_id == run.id
    md = report.data
    assert "tính đến ngày 16/01/2023" in md and "Số liệu tính đến hết ngày 16/01/2023." in md
    # The summary names both denominators; the tables end with their "Cộng" row.
    assert "Tổng số nhiệm vụ được giao: **14**; trong đó 9 nhiệm vụ đã đến hạn" in md
    assert "Đã hoàn thành: **1** nhiệm vụ (đúng hạn 0, quá hạn 1)" in md
    assert "đạt 11,1% số nhiệm vụ đến hạn (1/9) và 7,1% tổng số nhiệm vụ được giao (1/14)" in md
    assert "quá hạn **8**, bằng 88,9% số nhiệm vụ đến hạn (8/9)" in md
    assert "Không tính là quá hạn: thường xuyên: 1; chờ xác định thời hạn: 1." in md
    assert "|  | Cộng | 14 | 9 | 0 | 1 | 3 | 8 |" in md

    # The .docx and the .xlsx, under the data folder, linked from the run.
    home = tmp_path / "home" / "reports"
    files = state.result()["files"]
    assert set(files) == {"docx", "xlsx"}
    for kind in ("docx", "xlsx"):
        link = latest_artifact(key(f"tep-{kind}"))
        # Prefect keeps a link artifact as Markdown: "[text](link)".
        assert link.type == "markdown" and link.flow_run_id == run.id
        path = Path(files[kind])
        assert path.parent == home and path.name == f"bao-cao-kh-1-2022-2023-01-16.{kind}"
        assert path.as_uri() in link.data
    from docx import Document
    from openpyxl import load_workbook

    text = "\n".join(p.text for p in Document(files["docx"]).paragraphs)
    assert "BÁO CÁO" in text and "Kế hoạch số 1/KH-UBND ngày 03/10/2022" in text
    assert "Tổng số nhiệm vụ được giao: 14" in text
    rows = list(load_workbook(files["xlsx"], read_only=True)["Phụ lục"].values)
    col = rows[3].index("Mã nhiệm vụ")
    keys = {row[col] for row in rows[4:] if len(row) > col and row[col]}
    assert len(keys) == 14 and "kh-1-2022/1/x-ubnd" in keys


def test_daily_sweep_flow_notifies_emits_events_and_skips_holidays(
    prefect_stack: Stack, tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client

    from flows.daily_sweep import SweepParams, daily_sweep
    from kttt_workflow.orchestration.events import flush

    db = loaded_db(tmp_path)
    state = daily_sweep(SweepParams(as_of=date(2023, 1, 16), database_url=db), return_state=True)
    assert state.is_completed(), state.message
    result = state.result()
    assert isinstance(result, dict)
    assert result["notices"] > 0 and result["deliveries"] > 0
    assert result["sent"]["local"] == result["deliveries"] and result["sent"]["failed"] == 0
    store = Tracker.open(db)
    assert {d["status"] for d in store.deliveries()} == {"local"}
    with get_client(sync_client=True) as client:
        assert client.read_global_concurrency_limit_by_name("kttt-sweep").limit == 1

    # Overdue (urged, +3 working days) and escalated (+10) facts for UBND huyện A, as events
    # whose related resources name the unit and the directive, filterable by the unit.
    run = flow_run(state.state_details.flow_run_id)
    assert run.name == "Quét ngày 16/01/2023"
    assert (state.message or "").startswith("Quét ngày 16/01/2023: ")
    assert "database_url" not in run.parameters["params"]
    # An overdue event per task (urged, +3 working days); the escalations (+10) of a unit's tasks
    # that are not key tasks in one event per unit and sweep, with the count and the task ids.
    flush()
    overdue = wait_for(lambda: read_events(["kttt.task.overdue"], related="kttt.unit.x-ubnd-a"))
    [ev] = [e for e in overdue if e.resource.id == "kttt.task.kh-1-2022/2/x-ubnd-a"]
    roles = {r.id: (r.role, r.get("prefect.resource.name")) for r in ev.related}
    assert roles["kttt.unit.x-ubnd-a"] == ("unit", "UBND huyện A")
    assert roles["kttt.directive.kh-1-2022"] == ("directive", "1/KH-UBND")
    assert any(r.role == "flow-run" for r in ev.related)  # linked to the sweep's flow run
    [agg] = wait_for(lambda: read_events(["kttt.unit.escalated"], resource="kttt.unit.x-ubnd-a"))
    assert agg.resource["prefect.resource.name"].startswith("UBND huyện A: ")
    assert "kh-1-2022/3/x-ubnd-a@2022" in agg.payload["task_ids"]
    assert agg.payload["count"] == len(agg.payload["task_ids"]) >= 1
    assert agg.payload["to"] == ["x-ubnd"]  # the lead's parent unit
    assert not read_events(["kttt.task.escalated"], related="kttt.unit.x-ubnd-a")

    # The progress table was refreshed by the sweep.
    art = latest_artifact(key("tien-do"))
    assert art.flow_run_id == state.state_details.flow_run_id

    # Monday 23/01/2023 is Tết: the scheduled sweep does nothing unless forced.
    skipped = daily_sweep(SweepParams(as_of=date(2023, 1, 23), database_url=db), return_state=True)
    assert skipped.is_completed() and "ngày nghỉ" in (skipped.message or "")
    with store.engine.connect() as conn:
        days = [r.as_of for r in conn.execute(select(T.sweep_t.c.as_of))]
    assert days == [date(2023, 1, 16)]
    store.close()


def test_record_completion_flow_returns_a_report_and_emits_the_fact(
    prefect_stack: Stack, tmp_path: Path
) -> None:
    from flows.record_completion import CompletionParams, record_completion
    from kttt_workflow.orchestration.events import flush

    db = loaded_db(tmp_path)
    state = record_completion(
        CompletionParams(
            task="kh-1-2022/2",
            unit="x-ubnd-b",
            evidence="Kế hoạch số 12/KH-UBND ngày 20/12/2022",
            reported_on=date(2022, 12, 20),
            decision="return",
            reason="Thiếu phân công cho các xã",
            decided_on=date(2023, 1, 10),
            database_url=db,
        ),
        return_state=True,
    )
    assert state.is_completed()
    assert state.result()["state"] == "open"
    assert (state.message or "").startswith("kh-1-2022/2/x-ubnd-b: Chưa hoàn thành, quá hạn (")
    run = flow_run(state.state_details.flow_run_id)
    assert {"directive:kh-1-2022", "unit:x-ubnd-b"} <= set(run.tags)
    assert run.name == "Hoàn thành: kh-1-2022/2/x-ubnd-b"
    # The directive's leader's view was refreshed by the run: huyện B is late, its report returned.
    view = latest_artifact(key("tien-do"))
    assert view.flow_run_id == run.id
    [row] = [
        r
        for r in json.loads(latest_artifact(key("bang-tien-do")).data)
        if r["Đơn vị"] == "UBND huyện B"
    ]
    assert row["Tình trạng"] == "🔴 Chậm; 1 báo cáo bị trả lại"
    flush()
    names = wait_for(
        lambda: (
            n
            if {"kttt.task.reported", "kttt.task.returned"}
            <= (n := {e.event for e in read_events(["kttt.task."], related="kttt.unit.x-ubnd-b")})
            else None
        )
    )
    assert "kttt.task.verified" not in names

    with pytest.raises(ValidationError, match="cần ghi lý do trả lại"):
        CompletionParams(task="kh-1-2022/2/x-ubnd-b", decision="return")
    with pytest.raises(ValidationError, match="cần ghi minh chứng"):
        CompletionParams(task="kh-1-2022/2/x-ubnd-b")
    with pytest.raises(ValidationError, match="ghi theo dạng 05/12/2022"):
        CompletionParams(task="kh-1-2022/2/x-ubnd-b", evidence="x", reported_on="31/02/2023")


def test_record_completion_names_close_task_ids_of_a_mistyped_one_and_does_nothing(
    prefect_stack: Stack, tmp_path: Path
) -> None:
    from flows.record_completion import CompletionParams, Decision, record_completion

    db = loaded_db(tmp_path)
    params = CompletionParams(
        task="kh-1-2022/2/x-ubnd-aa", evidence="Kế hoạch số 7/KH-UBND ngày 20/01/2023",
        reported_on="20/01/2023", decision=Decision.verify, database_url=db,
    )  # fmt: skip
    state = record_completion(params, return_state=True)
    assert state.is_failed()
    assert state.message.startswith("Không tìm thấy nhiệm vụ 'kh-1-2022/2/x-ubnd-aa'. Có phải: ")
    assert "kh-1-2022/2/x-ubnd-a" in state.message and "kttt status" not in state.message
    store = Tracker.open(db)
    assert store.history("kh-1-2022/2/x-ubnd-a")[-1]["event"] != "reported"
    store.close()
    # The form: plain text fields with defaults, no "null" choices; the decision in Vietnamese.
    schema = CompletionParams.model_json_schema()
    props = schema["properties"]
    assert "database_url" not in props
    assert all("anyOf" not in p for p in props.values())
    assert props["evidence"]["title"] == "Minh chứng hoàn thành"
    assert schema["$defs"]["Decision"]["enum"] == [
        "Chỉ ghi nhận báo cáo (chờ xác nhận)", "Xác nhận hoàn thành", "Trả lại báo cáo",
    ]  # fmt: skip


def test_daily_sweep_retries_failed_delivery_then_fails_the_run_and_emits_delivery_failed(
    prefect_stack: Stack, tmp_path: Path
) -> None:
    """A unit whose only target refuses connections: the deliver task is retried (same delivery
    id, no duplicate digest), the run ends Failed, every failed attempt is an event."""

    from flows.daily_sweep import SweepParams, daily_sweep
    from kttt_workflow.orchestration.events import flush
    from kttt_workflow.orchestration.stack import free_port

    folder = copy_fixtures(tmp_path)
    refused = f"json://127.0.0.1:{free_port()}/"  # nothing listens there
    set_targets(folder, {"x-ubnd-a": [refused]})
    db = f"sqlite:///{tmp_path / 'kttt.db'}"
    store = Tracker.open(db)
    store.load([folder], until=date(2024, 12, 31))

    state = daily_sweep(
        SweepParams(
            as_of=date(2023, 1, 16), database_url=db, delivery_retries=1, delivery_retry_delay=0
        ),
        return_state=True,
    )
    assert state.is_failed() and "Gửi thông báo chưa xong" in (state.message or "")
    by_unit = {d["unit"]: d for d in store.deliveries()}
    assert by_unit["x-ubnd-a"]["status"] == "failed" and by_unit["x-ubnd-a"]["attempts"] == 2
    assert {d["status"] for u, d in by_unit.items() if u != "x-ubnd-a"} == {"local"}
    assert len(store.deliveries(unit="x-ubnd-a")) == 1  # retried, never duplicated
    store.close()
    flush()
    failed = wait_for(
        lambda: (
            e
            if len(e := read_events(["kttt.delivery.failed"], related="kttt.unit.x-ubnd-a")) >= 2
            else None
        )
    )
    assert {e.payload["attempt"] for e in failed} == {1, 2}
    # The run still refreshed the progress table before failing.
    assert latest_artifact(key("tien-do")).flow_run_id == state.state_details.flow_run_id


def test_secret_blocks_feed_the_target_placeholders(
    prefect_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Prefect Secret block supplies a target's ${VAR}; only the variable name is reported."""
    from prefect.blocks.system import Secret

    from flows.daily_sweep import export_secret_blocks
    from kttt_workflow.notify.targets import expand_target

    Secret(value="S3cr3t-from-block").save("kttt-test-smtp-pass", overwrite=True)
    monkeypatch.delenv("KTTT_TEST_SMTP_PASS", raising=False)
    names = export_secret_blocks(["kttt-test-smtp-pass"])
    assert names == ["KTTT_TEST_SMTP_PASS"]
    url = expand_target("mailto://kttt:${KTTT_TEST_SMTP_PASS}@127.0.0.1:25?to=a@b.vn")
    assert url == "mailto://kttt:S3cr3t-from-block@127.0.0.1:25?to=a@b.vn"
    monkeypatch.delenv("KTTT_TEST_SMTP_PASS")


def test_each_flow_run_opens_the_store_once(
    prefect_stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep's three Prefect tasks (record, deliver, report) share one store: one engine and
    one schema check per flow run, not one per task (and no migration of a current schema)."""
    from flows.daily_sweep import SweepParams, daily_sweep
    from flows.record_completion import CompletionParams, record_completion
    from kttt_workflow.store import db as store_db

    db = loaded_db(tmp_path)
    calls: list[str] = []
    real_engine, real_check, real_migrate = (
        store_db.make_engine,
        store_db.is_current,
        store_db.migrate,
    )

    def make_engine(url: str, **kw: Any) -> Any:
        calls.append("engine")
        return real_engine(url, **kw)

    def is_current(engine: Any) -> bool:
        calls.append("check")
        return real_check(engine)

    def migrate(engine: Any, revision: str = "head") -> None:
        calls.append("migrate")
        real_migrate(engine, revision)

    monkeypatch.setattr(store_db, "make_engine", make_engine)
    monkeypatch.setattr(store_db, "is_current", is_current)
    monkeypatch.setattr(store_db, "migrate", migrate)
    state = daily_sweep(SweepParams(as_of=date(2023, 1, 16), database_url=db), return_state=True)
    assert state.is_completed(), state.message
    assert calls == ["engine", "check"]
    calls.clear()
    params = CompletionParams(
        task="kh-1-2022/2/x-ubnd-a",
        evidence="Kế hoạch số 7/KH-UBND ngày 20/01/2023",
        reported_on=date(2023, 1, 20),
        decision="verify",
        decided_on=date(2023, 1, 20),
        database_url=db,
    )
    state = record_completion(params, return_state=True)
    assert state.is_completed(), state.message
    assert calls == ["engine", "check"]


def test_progress_report_flow_publishes_the_targets_table(
    prefect_stack: Stack, tmp_path: Path
) -> None:
    # A quota of 80 new cooperatives split by district; huyện A reported 33, verified.
    from flows.progress_report import ReportParams, progress_report
    from tests.integration.test_targets_quota import QUOTA

    folder = copy_fixtures(tmp_path / "in")
    (folder / "quota.yaml").write_text(QUOTA, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'q.db'}"
    store = Tracker.open(db)
    store.load([folder], until=date(2024, 12, 31))
    store.complete(
        "kh-htx-2023/1/x-ubnd-a", "Báo cáo số 12/BC-UBND ngày 15/12/2023", on=date(2023, 12, 15),
        actuals=["Số hợp tác xã thành lập mới=33"],
    )  # fmt: skip
    store.verify("kh-htx-2023/1/x-ubnd-a", on=date(2023, 12, 18))
    store.close()
    state = progress_report(
        ReportParams(as_of=date(2023, 12, 31), directive="kh-htx-2023", database_url=db),
        return_state=True,
    )
    assert state.is_completed()
    rows = json.loads(latest_artifact(key("chi-tieu", "kh-htx-2023", "5/KH-UBND")).data)
    by_unit = {r["Đơn vị"]: r for r in rows}
    assert by_unit["UBND huyện A"]["Chỉ tiêu giao"] == "30 hợp tác xã"
    assert by_unit["UBND huyện A"]["Đạt được"] == "33"
    assert by_unit["UBND huyện A"]["Tỷ lệ (trên chỉ tiêu giao)"] == "110%"
    assert by_unit["Cộng"]["Tỷ lệ (trên chỉ tiêu giao)"] == (
        "41,3% chỉ tiêu (33/80 hợp tác xã; 1/3 đơn vị đã báo cáo)"
    )
    md = latest_artifact(key("bao-cao", "kh-htx-2023", "5/KH-UBND")).data
    assert "### Chỉ tiêu định lượng" in md and "chi-tieu-kh-htx-2023-5-kh-ubnd" in md


def test_daily_sweep_publishes_the_progress_view_while_the_digests_are_sent(
    prefect_stack: Stack, tmp_path: Path
) -> None:
    """The leaders' view does not wait for the outbox: with one unit's webhook answering only
    after a few seconds, the sweep's progress artifacts exist before its deliver task ends."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from flows.daily_sweep import SweepParams, daily_sweep
    from tests.receivers import HTTPReceiver

    slow = 5.0  # under the read timeout (10 s): the digest is delivered, late
    with HTTPReceiver(hang_seconds=slow) as http:
        http.set_mode("/x-ubnd-a", "hang")
        folder = copy_fixtures(tmp_path)
        set_targets(folder, {"x-ubnd-a": [http.url("/x-ubnd-a")]})
        db = f"sqlite:///{tmp_path / 'kttt.db'}"
        with Tracker.open(db) as store:
            store.load([folder], until=date(2024, 12, 31))
        state = daily_sweep(
            SweepParams(as_of=date(2023, 1, 16), database_url=db), return_state=True
        )
        assert len(http.requests_to("/x-ubnd-a")) == 1
    assert state.is_completed(), state.message
    run_id = state.state_details.flow_run_id

    def deliver_run() -> Any:
        # The server records a task run's last state from its events: wait until it has.
        with get_client(sync_client=True) as client:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
            )
        found = [r for r in runs if r.name.startswith("deliver") and r.end_time is not None]
        return found[0] if found else None

    delivered = wait_for(deliver_run)
    assert delivered.total_run_time.total_seconds() >= slow
    # This run's leader view (other tests on the same server publish under the same keys, and a
    # view older than the one shown goes under a dated key: read it by its run).
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
        )
    [view] = [a for a in arts if (a.key or "").startswith(key("tien-do"))]
    assert view.created is not None and view.created < delivered.end_time
