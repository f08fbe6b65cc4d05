"""The local stack end to end: ``kttt serve`` serving the deployments of ``prefect.yaml`` on a real
Prefect server; schedules read back from the server, a completion recorded from the JSON a UI
"Run" form sends, the shipped automation firing on a real event; and in real headless Chromium
(``tests/browser.py``) at 1440×1000 and a phone's width: the demo's leader's view of NQ 20 shows
every late unit, the "Cộng" row and the chart in the first screen, and a completion submitted
through the deployment's form shows in the refreshed view."""

from __future__ import annotations

import json
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

from kttt_workflow.orchestration.artifacts import artifact_key
from kttt_workflow.orchestration.stack import Stack
from kttt_workflow.service import Tracker
from tests.browser import CHROMIUM, Browser
from tests.helpers import KTTT, ROOT, loaded_db
from tests.prefect_fixtures import latest_artifact, read_events, wait_for

DEPLOYMENTS = {
    "load-directive/load-directive",
    "daily-sweep/daily-sweep",
    "record-completion/record-completion",
    "progress-report/progress-report",
}
KH1_VIEW = artifact_key("tien-do", "kh-1-2022", "1/KH-UBND")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)"
)
SHOTS = ROOT / "docs" / "img"


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
            "decision": "Xác nhận hoàn thành",
            "decided_on": "03/12/2022",
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
    assert latest_artifact(KH1_VIEW).flow_run_id == run.id


def _save(shot: Path, name: str) -> None:
    """The pictures of the README and docs/prefect.md: written when missing or when asked
    (``KTTT_UPDATE_SCREENSHOTS=1``), not on every run."""
    doc = SHOTS / name
    if not doc.exists() or os.environ.get("KTTT_UPDATE_SCREENSHOTS") == "1":
        doc.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, doc)


def _table(b: Browser) -> list[list[str]]:
    """The rows of the first table of the page, as their cells' text."""
    rows = b.js(
        "[...document.querySelectorAll('table')][0] ? [...[...document.querySelectorAll('table')]"
        "[0].rows].map(r => [...r.cells].map(c => c.innerText.trim())) : []"
    )
    return [list(r) for r in rows]


@pytest.fixture(scope="module")
def demo(prefect_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``kttt demo`` on the test's server: its terminal part, then its Prefect part, one home."""
    from rich.console import Console

    from kttt_workflow.demo import run_demo
    from kttt_workflow.orchestration.demo_flows import run_demo_flows

    home = tmp_path_factory.mktemp("demo") / "demo"
    run_demo(Console(file=open(os.devnull, "w"), width=200), home).close()  # noqa: SIM115
    lines: list[str] = []
    flows = run_demo_flows(home, prefect_stack.api_url, echo=lines.append)
    return flows, lines, home


def test_demo_through_prefect_runs_every_step_as_a_flow_run(
    demo: Any, prefect_stack: Stack
) -> None:
    from kttt_workflow.orchestration.demo_flows import FLOW_COMPLETIONS, REPORTS, SWEEPS

    flows, lines, home = demo
    assert flows.server_pid is None and flows.ui_url == prefect_stack.ui_url
    # One store: the terminal part's, which the flows read and write (and `kttt serve --home`).
    assert flows.database_url == f"sqlite:///{home / 'kttt.db'}"
    kinds = [f for _, f, _ in flows.runs]
    assert kinds.count("record-completion") == len(FLOW_COMPLETIONS)
    assert kinds.count("daily-sweep") == len(SWEEPS)
    assert kinds.count("progress-report") == len(REPORTS)
    assert {state for _, _, state in flows.runs} == {"Completed"}
    names = [name for name, _, _ in flows.runs]
    assert "Quét ngày 05/12/2022" in names and "Báo cáo tiến độ 20-NQ/TW tại 05/12/2022" in names
    assert f"Hoàn thành: {FLOW_COMPLETIONS[0][0]}" in names
    assert any("23/01/2023 là ngày nghỉ" in line for line in lines)  # Tết: the sweep skipped
    assert f"Giao diện Prefect: {prefect_stack.ui_url}" in lines
    assert any(line.startswith("  Đơn vị chậm của Nghị quyết 20-NQ/TW: http://127.0.0.1:")
               for line in lines)  # fmt: skip
    # The back-dated report (05/12/2022) has its own keys; the latest view stays at 06/02/2023.
    view = latest_artifact(artifact_key("tien-do", "ctr-nq20-2022", "20-NQ/TW"))
    assert view.description.startswith("Tính đến ngày 06/02/2023 — 20-NQ/TW")
    dated = artifact_key("tien-do", "ctr-nq20-2022", "20-NQ/TW", date(2022, 12, 5))
    assert latest_artifact(dated).description.startswith("Tính đến ngày 05/12/2022")
    assert "ctr-nq20-2022-20-nq-tw" in view.key  # the artifacts page's search finds "20-nq"
    # The view of every directive: one row per document, named by its symbol.
    everything = latest_artifact("tien-do-tat-ca").data
    assert "| Văn bản | Tình trạng |" in everything and "| 20-NQ/TW | 🔴 Chậm" in everything
    # `kttt serve --home <demo home>` reads the same store and keeps its Prefect data there.
    from kttt_workflow import config

    assert config.database_url(env={"KTTT_HOME": str(home)}) == flows.database_url
    assert Stack.default(home).prefect_home == home / "prefect"


@needs_chromium
def test_the_leader_sees_who_is_late_on_nq20_in_the_first_screen(demo: Any, tmp_path: Path) -> None:
    """1440×1000, then a phone: every late unit of NQ 20, the "Cộng" row and the chart."""
    flows, _, home = demo
    store = Tracker.open(flows.database_url)
    report = store.progress(as_of=date(2023, 2, 6), directive="ctr-nq20-2022")
    store.close()
    late = [u.name for u in report.unit_rows("ctr-nq20-2022") if u.overdue]
    assert len(late) >= 5
    url = flows.links["progress"]
    assert "/artifacts/artifact/" in url
    with Browser(tmp_path / "chromium", 1440, 1000) as b:
        b.open(url, until="Cộng")
        first = b.visible_text()
        for name in late:
            assert name in first, f"{name} not in the first screen"
        assert "Cộng" in first and "Tính đến ngày 06/02/2023" in first
        table = _table(b)
        assert table[0] == ["Đơn vị", "Tình trạng", "Quá hạn", "Quá hạn lâu nhất", "Đến hạn",
                            "Đã xong", "% xong/đến hạn"]  # fmt: skip
        assert {r[0] for r in table[1 : len(late) + 1]} == set(late)  # the late units first
        assert all(r[1].startswith("🔴") for r in table[1 : len(late) + 1])
        assert table[-1][0] == "Cộng" and table[-1][2] == str(sum(
            u.overdue for u in report.unit_rows("ctr-nq20-2022")))  # fmt: skip
        assert b.in_first_screen("table"), "the table is cut at 1440 px"
        assert b.in_first_screen('img[src^="data:image/svg+xml"]'), "no chart in the first screen"
        shot = b.screenshot(tmp_path / "leader-1440.png")
    assert shot.stat().st_size > 20_000
    _save(shot, "prefect-leader-1440.png")
    with Browser(tmp_path / "chromium-phone", 390, 844, mobile=True) as b:
        b.open(url, until="Cộng")
        first = b.visible_text()  # unit and state come first: both in a phone's first screen
        assert all(name in first for name in late) and "Cộng" in first and "🔴 Chậm" in first
        shot = b.screenshot(tmp_path / "leader-phone.png")
    _save(shot, "prefect-leader-phone.png")


@needs_chromium
def test_a_completion_submitted_in_the_ui_form_shows_in_the_refreshed_view(
    served: Served, tmp_path: Path
) -> None:
    """The record-completion deployment's form, filled and submitted in Chromium; the run names
    the new status in Vietnamese and the leader's view of the directive shows the unit done."""
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    from flows.progress_report import ReportParams, progress_report

    if latest_artifact(KH1_VIEW) is None:  # the view the leader has open (the automation's, if run)
        state = progress_report(
            ReportParams(as_of=date(2023, 1, 16), directive="kh-1-2022", database_url=served.db,
                         files=False),
            return_state=True,
        )  # fmt: skip
        assert state.is_completed()
    shown = latest_artifact(KH1_VIEW).description[:24]
    assert shown.startswith("Tính đến ngày ")
    before = {r["Đơn vị"]: r for r in json.loads(latest_artifact(
        artifact_key("bang-tien-do", "kh-1-2022", "1/KH-UBND")).data)}  # fmt: skip
    assert before["UBND huyện C"]["Đã xong"] == 0
    with _client() as client:
        dep = client.read_deployment_by_name("record-completion/record-completion")
    ui = served.api_url.removesuffix("/api")
    since = datetime.now(ZoneInfo("UTC"))
    values = ["kh-1-2022/2/x-ubnd-c", "", "Kế hoạch số 9/KH-UBND ngày 10/01/2023", "10/01/2023",
              "", "", "12/01/2023", ""]  # fmt: skip
    with Browser(tmp_path / "chromium", 1440, 1000) as b:
        b.open(f"{ui}/deployments/deployment/{dep.id}/run", until="Minh chứng hoàn thành")
        text = b.text()
        assert "Quyết định của chuyên viên theo dõi" in text and "None" not in text
        filled = b.js(
            """((values) => {
              const set = (el, v) => {
                const proto = Object.getPrototypeOf(el);
                Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, v);
                el.dispatchEvent(new Event('input', {bubbles: true}));
                el.dispatchEvent(new Event('change', {bubbles: true}));
              };
              const areas = [...document.querySelectorAll('textarea')];
              values.forEach((v, i) => { if (v) set(areas[i], v); });
              const select = [...document.querySelectorAll('select')].find(
                s => [...s.options].some(o => o.text === 'Xác nhận hoàn thành'));
              const opt = [...select.options].find(o => o.text === 'Xác nhận hoàn thành');
              set(select, opt.value);
              return areas.length;
            })(VALUES)""".replace("VALUES", json.dumps(values))
        )
        assert filled == 8
        b.js("[...document.querySelectorAll('textarea')][2].scrollIntoView({block: 'start'})")
        b.screenshot(tmp_path / "form.png")
        _save(tmp_path / "form.png", "prefect-completion-form.png")
        b.js("document.querySelector('button[type=submit]').click()")

        def submitted() -> list[Any]:
            with _client() as client:
                runs = client.read_flow_runs(
                    deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[dep.id]))
                )
            return [r for r in runs if r.created and r.created >= since]

        [run] = wait_for(submitted, timeout=30)
        done = _wait_final(run.id)
        assert done.state.is_completed(), served.log.read_text(encoding="utf-8", errors="replace")
        assert done.name == "Hoàn thành: kh-1-2022/2/x-ubnd-c"
        assert (done.state.message or "").startswith("kh-1-2022/2/x-ubnd-c: Đã hoàn thành")
        view = latest_artifact(KH1_VIEW)
        assert view.flow_run_id == run.id  # refreshed by the completion's run
        assert view.description.startswith(shown)  # as of the date the leader was shown
        b.open(f"{ui}/artifacts/artifact/{view.id}", until="Cộng")
        rows = {r[0]: r for r in _table(b)[1:]}
        assert "UBND huyện C" in rows and rows["UBND huyện C"][5] == "1"  # "Đã xong"
        b.screenshot(tmp_path / "after.png")
