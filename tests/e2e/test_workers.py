"""The production set-up of ``docs/prefect.md``, for real (issue 12, point 4).

The commands of the documentation's "Production variant", run as subprocesses: ``prefect server
start`` on a database of its own (PostgreSQL through ``PREFECT_SERVER_DATABASE_CONNECTION_URL``, or
Prefect's default SQLite), ``prefect work-pool create kttt-local --type process``, ``prefect
--no-prompt deploy --all`` from this checkout (every deployment of ``prefect.yaml``, its pull step
pointing at ``$KTTT_PROJECT_DIR``), ``kttt prefect-setup`` (the ``kttt-sweep`` limit, the
automations) and two ``prefect worker start --pool kttt-local --type process`` processes, as two
machines would run them, on one store (the fixture directive ``kh-1-2022``; PostgreSQL: a schema
of its own in ``KTTT_TEST_DATABASE_URL``).

Through the workers: one sweep and a burst of six completion reports at once, then two sweeps of
one day at once while the test itself holds the ``kttt-sweep`` slot. Every run completes, both
workers take runs, each completion is recorded once, each notice of the sweeps' dry-run previews
is recorded once and sits in one digest per unit and day; of the two sweeps, one waits for the
deployment's slot (its states say ``AwaitingConcurrencySlot``) and the other, running, decides
nothing while ``kttt-sweep`` is held, then runs after its release; the key task's overdue event
starts ``progress-report`` (the shipped automation) on the workers too.

``postgres`` is the production set-up and runs when ``KTTT_TEST_DATABASE_URL`` is set (``.ci/run``
sets it); ``sqlite`` runs the same commands on SQLite where no PostgreSQL is configured, and is
skipped, by name, where the ``postgres`` case runs (same commands, same flows, same checks).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from kttt_workflow.orchestration.prefect_api import SWEEP_LIMIT
from kttt_workflow.orchestration.stack import free_port, stop_server, wait_healthy
from kttt_workflow.service import Tracker
from kttt_workflow.store import db as store_db
from kttt_workflow.store import tables as T
from tests.helpers import KTTT, ROOT, UNTIL, copy_fixtures, db_url, loaded_db
from tests.prefect_fixtures import wait_for

PG_URL = os.environ.get("KTTT_TEST_DATABASE_URL")
PREFECT = Path(sys.executable).with_name("prefect")
POOL = "kttt-local"  # prefect.yaml's work pool
SWEEP, COMPLETION, REPORT = (
    "daily-sweep/daily-sweep",
    "record-completion/record-completion",
    "progress-report/progress-report",
)
FIRST_SWEEP = date(2023, 1, 5)
SECOND_SWEEP = date(2023, 2, 6)
# Six reports dated after the first sweep's day: they change nothing that sweep decides, whichever
# runs first (its preview is the same with or without them).
COMPLETED = [f"kh-1-2022/2/x-ubnd-{u}" for u in "abc"] + [
    f"kh-1-2022/3/x-ubnd-{u}@2023" for u in "abc"
]
REPORTED_ON = "2023-02-01"
WAIT = 240.0  # a run's first process start takes ~1 min here with 4 starting at once
HELD = 5.0  # seconds the test holds kttt-sweep after a sweep of the pair is running


@dataclass
class Production:
    api_url: str
    store: str  # KTTT_DATABASE_URL of the workers
    logs: list[Path]  # the two workers' output


def _env(**values: str) -> dict[str, str]:
    """This process's environment without its Prefect settings (a session server's address),
    plus ``values``."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")} | values


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> str:
    r = subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    assert r.returncode == 0, (args, r.stdout[-4000:], r.stderr[-4000:])
    return r.stdout


def _client() -> Any:
    from prefect.client.orchestration import get_client

    return get_client(sync_client=True)


def _worker_log(logs: list[Path]) -> str:
    return "\n".join(
        f"--- {p.name}\n" + p.read_text(encoding="utf-8", errors="replace")[-4000:] for p in logs
    )


@contextlib.contextmanager
def _prefect_database(kind: str) -> Iterator[str | None]:
    """PostgreSQL: a new database for the Prefect server (dropped at the end); SQLite: None
    (the server's default, ``$PREFECT_HOME/prefect.db``)."""
    if kind == "sqlite":
        yield None
        return
    import psycopg

    assert PG_URL
    admin = make_url(store_db.normalise_url(PG_URL)).set(
        drivername="postgresql", database="postgres"
    )
    name = f"kttt_prefect_{uuid.uuid4().hex[:12]}"
    conninfo = admin.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(drivername="postgresql+asyncpg", database=name).render_as_string(
            hide_password=False
        )
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def _store(kind: str, tmp_path: Path) -> Iterator[str]:
    """The engine's store with ``kh-1-2022`` loaded: a SQLite file, or a schema of its own in the
    test PostgreSQL (dropped at the end)."""
    if kind == "sqlite":
        yield loaded_db(tmp_path)
        return
    assert PG_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = store_db.make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        with Tracker.open(PG_URL, schema=schema) as tracker:
            tracker.load([copy_fixtures(tmp_path)], until=UNTIL)
            url = db_url(tracker)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextlib.contextmanager
def _popen(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> Iterator[Any]:
    """A long-running command in its own process group, stopped (SIGTERM, then SIGKILL) at the end."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            args,
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        stop_server(proc, timeout=30)


def _quiet_schedules() -> None:
    """Test only: the store is of 2023 and its clock today's; a scheduled 07:00 sweep (or the
    monthly report) that fell due during the test would sweep today into it. Schedules off, and
    the runs they created gone."""
    with _client() as client:
        for dep in client.read_deployments():
            for s in dep.schedules:
                client.update_deployment_schedule(dep.id, s.id, active=False)
        for run in client.read_flow_runs(limit=200):
            if run.auto_scheduled:
                client.delete_flow_run(run.id)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def production(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Production]:
    """docs/prefect.md's production set-up: server, pool, ``prefect deploy --all``, ``kttt
    prefect-setup``, two workers; the test's Prefect client pointed at that server."""
    kind = request.param
    if kind == "postgres" and not PG_URL:
        pytest.skip(
            "PostgreSQL: KTTT_TEST_DATABASE_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
    if kind == "sqlite" and PG_URL:
        pytest.skip("the postgres case runs the same set-up on PostgreSQL (KTTT_TEST_DATABASE_URL)")
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

    server_dir, admin_dir = tmp_path / "server", tmp_path / "admin"
    server_dir.mkdir()
    admin_dir.mkdir()
    api_url = f"http://127.0.0.1:{free_port()}/api"
    with contextlib.ExitStack() as stack:
        prefect_db = stack.enter_context(_prefect_database(kind))
        store = stack.enter_context(_store(kind, tmp_path))

        # The Prefect server (one machine). Test only: a run refused by the deployment's limit
        # is proposed again after 5 s instead of 30.
        server_env = _env(
            PREFECT_HOME=str(server_dir / "prefect"),
            PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS="5",
        )
        if prefect_db:
            server_env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = prefect_db
        port = api_url.rsplit(":", 1)[1].split("/")[0]
        server_log = tmp_path / "server.log"
        server = stack.enter_context(
            _popen(
                [str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", port]
                + ["--analytics-off"],
                server_env,
                server_dir,
                server_log,
            )
        )
        wait_healthy(api_url, server, timeout=180, log_path=server_log)
        stack.enter_context(
            temporary_settings(updates={PREFECT_API_URL: api_url, PREFECT_UI_URL: api_url[:-4]})
        )

        # Once, from this checkout: the pool, every deployment of prefect.yaml, the limit and the
        # automations.
        admin = _env(
            PREFECT_API_URL=api_url,
            PREFECT_HOME=str(admin_dir / "prefect"),
            KTTT_PROJECT_DIR=str(ROOT),
        )
        _cli([str(PREFECT), "work-pool", "create", POOL, "--type", "process"], admin, ROOT)
        out = _cli([str(PREFECT), "--no-prompt", "deploy", "--all"], admin, ROOT)
        for name in (SWEEP, COMPLETION, REPORT, "load-directive/load-directive"):
            assert f"Deployment '{name}' successfully created" in out, out
        out = _cli([str(KTTT), "prefect-setup"], admin, ROOT)
        assert "Giới hạn đồng thời: kttt-sweep (1 lượt quét mỗi lúc)." in out, out
        assert "Tự động hóa: kttt-key-task-overdue" in out, out
        _quiet_schedules()

        # Each worker machine. Test only: poll every second, at most 2 runs at once each (a
        # burst must spread over both workers).
        procs, logs = [], []
        for name in ("w1", "w2"):
            home = tmp_path / name
            home.mkdir()
            env = _env(
                PREFECT_API_URL=api_url,
                PREFECT_HOME=str(home / "prefect"),
                PREFECT_WORKER_QUERY_SECONDS="1",
                PREFECT_WORKER_PREFETCH_SECONDS="5",
                KTTT_HOME=str(tmp_path),
                KTTT_DATABASE_URL=store,
            )
            log = tmp_path / f"{name}.log"
            cmd = [str(PREFECT), "worker", "start", "--pool", POOL, "--type", "process"]
            procs.append(
                stack.enter_context(
                    _popen(cmd + ["--name", f"kttt-{name}", "--limit", "2"], env, home, log)
                )
            )
            logs.append(log)

        def both_online() -> bool:
            assert all(p.poll() is None for p in procs), _worker_log(logs)
            with _client() as client:
                names = {w.name for w in client.read_workers_for_work_pool(POOL)}
            return {"kttt-w1", "kttt-w2"} <= names

        wait_for(both_online, timeout=90, every=0.5)
        yield Production(api_url, store, logs)


def _run(name: str, params: dict[str, Any]) -> Any:
    from prefect.deployments import run_deployment

    return run_deployment(name, parameters={"params": params}, timeout=0)


def _wait_all(ids: list[Any], logs: list[Path]) -> list[Any]:
    deadline = time.monotonic() + WAIT
    while True:
        with _client() as client:
            runs = [client.read_flow_run(i) for i in ids]
        if all(r.state and r.state.is_final() for r in runs):
            return runs
        if time.monotonic() > deadline:
            states = [(r.name, r.state_name) for r in runs]
            raise AssertionError(f"not final after {WAIT:.0f}s: {states}\n{_worker_log(logs)}")
        time.sleep(1)


def _ledger(db: str) -> tuple[int, int, int, int]:
    """Notices, distinct (task, step, recipient), notices in no digest, digests per unit and day
    beyond the first."""
    n, d = T.notice_t.c, T.delivery_t.c
    with Tracker.open(db) as store, store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(T.notice_t)).scalar_one()
        distinct = conn.execute(
            select(func.count()).select_from(
                select(n.task_id, n.step_code, n.recipient).distinct().subquery()
            )
        ).scalar_one()
        loose = conn.execute(
            select(func.count()).where(n.delivery_id.is_(None)).select_from(T.notice_t)
        ).scalar_one()
        rows = conn.execute(select(d.recipient, d.as_of)).all()
    return total, distinct, loose, len(rows) - len(set(rows))


def _sweeps(db: str, day: date) -> int:
    with Tracker.open(db) as store, store.engine.connect() as conn:
        s = T.sweep_t.c
        return int(
            conn.execute(
                select(func.count()).where(s.as_of == day).select_from(T.sweep_t)
            ).scalar_one()
        )


def _preview(db: str, day: date) -> int:
    with Tracker.open(db) as store:
        return store.sweep(as_of=day, dry_run=True, force=True).notices


def _ran(logs: list[Path], run_id: Any) -> list[str]:
    """The workers that ran a flow run: their log has the run's own output (its "View at" line),
    and more of their submissions of it went through than the server refused (two workers may
    both try to submit a run they polled at the same moment, and a run waiting for its
    deployment's slot is refused until the slot is free)."""
    ran = []
    for p in logs:
        log = p.read_text(encoding="utf-8", errors="replace")
        submitted = log.count(f"submitting flow run '{run_id}'")
        aborted = log.count(f"Aborted submission of flow run '{run_id}'")
        output = f"/runs/flow-run/{run_id}" in log
        assert output == (submitted > aborted), (p.name, run_id, submitted, aborted)
        if output:
            ran.append(p.stem)
    return ran


def _task_runs(flow_run_id: Any) -> dict[str, Any]:
    """The task runs of a flow run, by name (``record-notices``, ``deliver``, ``build-report``)."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with _client() as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return {r.name.rsplit("-", 1)[0]: r for r in runs}


def _states(flow_run_id: Any) -> list[str]:
    with _client() as client:
        return [s.name for s in client.read_flow_run_states(flow_run_id)]


@contextlib.contextmanager
def _holding(limit: str) -> Iterator[None]:
    """Occupy the one slot of a global concurrency limit, as a sweep started elsewhere would."""
    with _client() as client:
        r = client.increment_concurrency_slots_with_lease(
            names=[limit], slots=1, mode="concurrency", lease_duration=300
        )
        lease = uuid.UUID(r.json()["lease_id"])
        try:
            yield
        finally:
            client.release_concurrency_slots_with_lease(lease)


@pytest.mark.slow
def test_production_setup_runs_each_sweep_and_completion_once(production: Production) -> None:
    db, logs = production.store, production.logs
    expected = _preview(db, FIRST_SWEEP)
    assert expected > 0

    sweep = _run(SWEEP, {"as_of": FIRST_SWEEP.isoformat(), "force": True})
    burst = [
        _run(
            COMPLETION,
            {
                "task": t,
                "evidence": "Báo cáo số 1/BC-UBND ngày 01/02/2023",
                "reported_on": REPORTED_ON,
            },
        )
        for t in COMPLETED
    ]
    runs = _wait_all([sweep.id] + [r.id for r in burst], logs)
    assert [r.state_name for r in runs] == ["Completed"] * len(runs), _worker_log(logs)
    assert runs[0].name == "Quét ngày 05/01/2023"

    # Both workers took runs; each run ran on exactly one of them.
    by = {r.id: _ran(logs, r.id) for r in runs}
    assert all(len(w) == 1 for w in by.values()), by
    assert {w[0] for w in by.values()} == {"w1", "w2"}, by

    # Each completion recorded exactly once.
    c = T.completion_t.c
    with Tracker.open(db) as store, store.engine.connect() as conn:
        rows = conn.execute(select(c.task_id, c.reported_on, c.state)).all()
    assert sorted(rows) == sorted((t, date(2023, 2, 1), "reported") for t in COMPLETED)

    # The sweep's notices: as many as the preview, each once, each in one digest.
    assert _ledger(db) == (expected, expected, 0, 0)

    # Two sweeps of one day at once, while the test holds kttt-sweep (1 slot): one waits for the
    # deployment's slot (concurrency_limit: 1), the other runs and decides nothing until the test
    # lets kttt-sweep go; then both complete, one after the other, and the day's notices are
    # recorded once.
    with _client() as client:
        assert client.read_global_concurrency_limit_by_name(SWEEP_LIMIT).limit == 1
    second = _preview(db, SECOND_SWEEP)
    assert second > 0
    with _holding(SWEEP_LIMIT):
        pair = [_run(SWEEP, {"as_of": SECOND_SWEEP.isoformat(), "force": True}) for _ in range(2)]

        def one_running() -> Any:
            with _client() as client:
                states = [client.read_flow_run(r.id).state for r in pair]
            assert not any(s.is_final() for s in states), states
            running = [r for r, s in zip(pair, states, strict=True) if s.is_running()]
            assert len(running) <= 1, states
            return running[0] if running else None

        running = wait_for(one_running, timeout=WAIT, every=0.5)
        time.sleep(HELD)
        assert one_running().id == running.id
        assert _task_runs(running.id) == {}
        assert _sweeps(db, SECOND_SWEEP) == 0
        with _client() as client:
            assert client.read_global_concurrency_limit_by_name(SWEEP_LIMIT).active_slots == 1
        released = datetime.now(UTC)
    runs = _wait_all([r.id for r in pair], logs)
    assert [r.state_name for r in runs] == ["Completed", "Completed"], _worker_log(logs)
    assert [len(_ran(logs, r.id)) for r in runs] == [1, 1]
    first, then = sorted(runs, key=lambda r: r.start_time)
    assert first.id == running.id
    assert first.end_time <= then.start_time, (first.end_time, then.start_time)
    assert "AwaitingConcurrencySlot" in _states(then.id), _states(then.id)
    assert "AwaitingConcurrencySlot" not in _states(first.id), _states(first.id)
    for r in runs:
        tasks = _task_runs(r.id)
        assert [t.state_name for t in tasks.values()] == ["Completed"] * 3, tasks
        assert tasks["record-notices"].start_time >= released, (tasks, released)
    assert _ledger(db) == (expected + second, expected + second, 0, 0)
    assert _sweeps(db, SECOND_SWEEP) == 2

    # The key task's overdue notice started the progress report of its directive (the shipped
    # automation), on the workers too.
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    with _client() as client:
        reports = client.read_flow_runs(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["progress-report"]))
        )
    assert reports, "no progress-report run"
    runs = _wait_all([r.id for r in reports], logs)
    assert {r.state_name for r in runs} == {"Completed"}, [(r.name, r.state_name) for r in runs]
    assert {r.parameters["params"]["directive"] for r in runs} == {"kh-1-2022"}
    assert all(len(_ran(logs, r.id)) == 1 for r in runs)
