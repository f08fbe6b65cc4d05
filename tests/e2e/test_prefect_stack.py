"""The local stack end to end: ``kttt serve`` serving the deployments of ``prefect.yaml`` on a real
Prefect server; schedules read back from the server, a completion recorded from the JSON a UI
"Run" form sends, the shipped automation firing on a real event, the UI rendering an artifact."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml

from kttt_workflow.orchestration.stack import Stack
from kttt_workflow.service import Tracker
from tests.helpers import KTTT, ROOT, loaded_db
from tests.prefect_fixtures import latest_artifact, read_events, wait_for

DEPLOYMENTS = {
    "load-directive/load-directive",
    "daily-sweep/daily-sweep",
    "record-completion/record-completion",
    "progress-report/progress-report",
}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Served:
    db: str
    home: Path
    log: Path
    api_url: str


def _client() -> Any:
    from prefect.client.orchestration import get_client

    return get_client(sync_client=True)


def _deployments_ready() -> bool:
    from prefect.exceptions import ObjectNotFound

    with _client() as client:
        try:
            for name in DEPLOYMENTS:
                client.read_deployment_by_name(name)
        except ObjectNotFound:
            return False
        return bool(client.read_automations_by_name("kttt-key-task-overdue"))


@pytest.fixture(scope="module")
def served(prefect_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``kttt serve --no-server`` against the test server, on a store holding ``kh-1-2022``."""
    home = tmp_path_factory.mktemp("served")
    db = loaded_db(home)
    log = home / "serve.log"
    env = {
        **os.environ,
        "KTTT_HOME": str(home),
        "KTTT_DATABASE_URL": db,
        "PREFECT_API_URL": prefect_stack.api_url,
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
    }
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(KTTT), "serve", "--no-server"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        wait_for(lambda: proc.poll() is not None or _deployments_ready(), timeout=90)
        assert proc.poll() is None, log.read_text(encoding="utf-8", errors="replace")
        yield Served(db, home, log, prefect_stack.api_url)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)  # as Ctrl+C: serve pauses its schedules and exits
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _wait_final(flow_run_id: Any, timeout: float = 90) -> Any:
    def final() -> Any:
        with _client() as client:
            run = client.read_flow_run(flow_run_id)
        return run if run.state and run.state.is_final() else None

    return wait_for(final, timeout=timeout, every=0.5)


def test_deployments_on_the_server_have_the_schedules_of_prefect_yaml(served: Served) -> None:
    from prefect.cli.deploy._models import PrefectYamlModel
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    model = PrefectYamlModel.model_validate(spec)  # what `prefect deploy --all` reads
    assert {d.name for d in model.deployments} == {n.split("/")[0] for n in DEPLOYMENTS}
    with _client() as client:
        sweep = client.read_deployment_by_name("daily-sweep/daily-sweep")
        [s] = sweep.schedules
        assert (s.schedule.cron, s.schedule.timezone, s.active) == (
            "0 7 * * 1-5",
            "Asia/Ho_Chi_Minh",
            True,
        )
        assert sweep.global_concurrency_limit is not None
        assert sweep.global_concurrency_limit.limit == 1
        assert not sweep.paused
        report = client.read_deployment_by_name("progress-report/progress-report")
        [r] = report.schedules
        assert (r.schedule.cron, r.schedule.timezone) == ("30 7 15 * *", "Asia/Ho_Chi_Minh")
        for name in ("load-directive/load-directive", "record-completion/record-completion"):
            assert not client.read_deployment_by_name(name).schedules
    # Ask the server to schedule the next ten sweeps now (its scheduler service would, within a
    # minute): 07:00 in Hà Nội, Monday to Friday, i.e. two working weeks.
    for attempt in range(3):  # SQLite may be busy with the scheduler service's own insert
        resp = httpx.post(
            f"{served.api_url}/deployments/{sweep.id}/schedule",
            json={"min_runs": 10, "max_runs": 10},
            timeout=30,
        )
        if resp.status_code < 300:
            break
        time.sleep(1 + attempt)
    resp.raise_for_status()
    with _client() as client:
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[sweep.id])), limit=50
        )
    starts = sorted(r.expected_start_time.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")) for r in runs)
    assert len(starts) >= 10
    assert all((st.hour, st.minute) == (7, 0) and st.weekday() < 5 for st in starts)
    assert {st.weekday() for st in starts} == {0, 1, 2, 3, 4}


def test_record_completion_from_the_ui_form_json_verifies_and_activates_children(
    served: Served,
) -> None:
    from prefect.exceptions import PrefectHTTPStatusError

    from kttt_workflow.orchestration.events import flush

    form = {  # exactly what the deployment's "Run" form posts
        "params": {
            "task": "kh-1-2022/1/x-ubnd",
            "evidence": "Kế hoạch số 5/KH-UBND ngày 02/12/2022",
            "reported_on": "2022-12-02",
            "decision": "verify",
            "decided_on": "2022-12-03",
        }
    }
    with _client() as client:
        dep = client.read_deployment_by_name("record-completion/record-completion")
        assert "params" in dep.parameter_openapi_schema["properties"]
        run = client.create_flow_run_from_deployment(dep.id, parameters=form)
        # The server validates the form against the flow's pydantic schema.
        with pytest.raises(PrefectHTTPStatusError, match="'task' is a required property"):
            client.create_flow_run_from_deployment(dep.id, parameters={"params": {"evidence": "x"}})
    done = _wait_final(run.id)
    assert done.state.is_completed(), served.log.read_text(encoding="utf-8", errors="replace")
    assert {"directive:kh-1-2022", "unit:x-ubnd"} <= set(done.tags)

    store = Tracker.open(served.db)
    st = {r.task_id: r for r in store.status(as_of=date(2023, 1, 5), directive="kh-1-2022")}
    assert st["kh-1-2022/1/x-ubnd"].status == "done_late"
    # Its children (the sở's own plans) waited for it; they are active now, and overdue.
    assert st["kh-1-2022/1.1/x-so-khdt"].status == "overdue"
    assert st["kh-1-2022/1.1/x-so-tc"].status == "overdue"
    kinds = [h["event"] for h in store.history("kh-1-2022/1/x-ubnd")]
    assert "reported" in kinds and "verified" in kinds
    assert "activated" in [h["event"] for h in store.history("kh-1-2022/1.1/x-so-tc")]
    store.close()

    flush()
    activated = wait_for(lambda: read_events(["kttt.task.activated"], related="kttt.unit.x-so-tc"))
    assert activated[0].resource.id == "kttt.task.kh-1-2022/1.1/x-so-tc"
    verified = wait_for(lambda: read_events(["kttt.task.verified"], related="kttt.unit.x-ubnd"))
    assert any(r.role == "flow-run" and r.id.endswith(str(run.id)) for r in verified[0].related)


def test_key_task_overdue_automation_runs_the_progress_report(
    served: Served, tmp_path: Path
) -> None:
    """The automation of ``automations/`` (installed by ``kttt serve``) fires on the overdue event a
    real sweep emits for a key task, and the served progress-report deployment runs."""
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    from flows.daily_sweep import SweepParams, daily_sweep
    from kttt_workflow.orchestration.events import flush

    since = datetime.now(ZoneInfo("UTC"))
    db = loaded_db(tmp_path)  # a store of its own: task 1 (key task) still open on 05/12/2022
    state = daily_sweep(
        SweepParams(as_of=date(2022, 12, 5), database_url=db, publish_progress=False),
        return_state=True,
    )
    assert state.is_completed()
    flush()
    key = "kttt.task.kh-1-2022/1/x-ubnd"
    events = wait_for(
        lambda: [e for e in read_events(["kttt.task.overdue"], resource=key) if e.occurred >= since]
    )
    assert [e.resource["kttt.key-task"] for e in events] == ["true"]

    def triggered() -> list[Any]:
        with _client() as client:
            dep = client.read_deployment_by_name("progress-report/progress-report")
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[dep.id]))
            )
        return [
            r
            for r in runs
            if r.created
            and r.created >= since
            and r.parameters.get("params", {}).get("directive") == "kh-1-2022"
        ]

    [run] = wait_for(triggered, timeout=30)
    done = _wait_final(run.id)
    assert done.state.is_completed(), served.log.read_text(encoding="utf-8", errors="replace")
    assert "directive:kh-1-2022" in done.tags
    assert latest_artifact("progress-kh-1-2022").flow_run_id == run.id


@pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)"
)
def test_prefect_ui_renders_the_progress_table(prefect_stack: Stack, tmp_path: Path) -> None:
    """Headless Chromium opens the artifact page in the Prefect UI: the table of units is there."""
    from flows.progress_report import ReportParams, progress_report

    db = loaded_db(tmp_path)
    store = Tracker.open(db)  # one plan done (late), so the table shows every kind of cell
    store.complete(
        "kh-1-2022/1/x-ubnd", "Kế hoạch số 5/KH-UBND ngày 02/12/2022", on=date(2022, 12, 2)
    )
    store.verify("kh-1-2022/1/x-ubnd", on=date(2022, 12, 3))
    store.close()
    state = progress_report(
        ReportParams(as_of=date(2023, 1, 16), directive="kh-1-2022", database_url=db),
        return_state=True,
    )
    assert state.is_completed()
    art = latest_artifact("progress-kh-1-2022")
    url = f"{prefect_stack.ui_url}/artifacts/artifact/{art.id}"
    assert url.startswith("http://127.0.0.1:")
    base = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium'}",
        "--window-size=1400,1000",
        "--virtual-time-budget=15000",
    ]
    dom = subprocess.run(
        [*base, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    for unit in ("Ủy ban nhân dân tỉnh X", "Sở Kế hoạch và Đầu tư", "UBND huyện A", "UBND huyện C"):
        assert unit in dom, f"{unit} not rendered"
    assert "progress-kh-1-2022" in dom and "<table" in dom
    shot = tmp_path / "prefect-progress.png"
    subprocess.run(
        [*base, f"--screenshot={shot}", url], capture_output=True, timeout=120, check=True
    )
    assert shot.stat().st_size > 10_000
    # The picture in docs/prefect.md: written when missing or when asked, not on every run.
    doc = ROOT / "docs" / "img" / "prefect-progress.png"
    if not doc.exists() or os.environ.get("KTTT_UPDATE_SCREENSHOTS") == "1":
        doc.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, doc)


def test_demo_through_prefect_runs_every_step_as_a_flow_run(
    prefect_stack: Stack, tmp_path: Path
) -> None:
    from kttt_workflow.demo import COMPLETIONS
    from kttt_workflow.orchestration.demo_flows import REPORTS, SWEEPS, run_demo_flows

    lines: list[str] = []
    demo = run_demo_flows(tmp_path / "demo", prefect_stack.api_url, echo=lines.append)
    assert demo.server_pid is None and demo.ui_url == prefect_stack.ui_url
    flows = [f for _, f, _ in demo.runs]
    assert flows.count("record-completion") == len(COMPLETIONS)
    assert flows.count("daily-sweep") == len(SWEEPS)
    assert flows.count("progress-report") == len(REPORTS)
    assert {state for _, _, state in demo.runs} == {"Completed"}
    assert any("23/01/2023 là ngày nghỉ" in line for line in lines)  # Tết: the sweep skipped
    assert f"Giao diện Prefect: {prefect_stack.ui_url}" in lines
    assert latest_artifact("progress-ctr-nq20-2022") is not None
