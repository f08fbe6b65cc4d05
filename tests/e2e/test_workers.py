"""Prefect on several machines, for real (issue 12, point 4): a process work pool on the test's
Prefect server, two workers (two ``prefect worker start`` processes, as two machines would run
them), the ``daily-sweep`` and ``record-completion`` flows of this checkout deployed to the pool;
one sweep and a burst of completion reports run through the workers, then two sweeps at once
under the ``kttt-sweep`` limit. Every run completes, both workers take runs, each completion is
recorded once, each notice of the sweeps' previews is recorded once and sits in one digest."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from kttt_workflow.orchestration.prefect_api import SWEEP_LIMIT, ensure_sweep_limit
from kttt_workflow.orchestration.stack import Stack
from kttt_workflow.service import Tracker
from kttt_workflow.store import tables as T
from tests.helpers import ROOT, loaded_db
from tests.prefect_fixtures import wait_for

PREFECT = Path(sys.executable).with_name("prefect")
POOL = "kttt-test-workers"
FIRST_SWEEP = date(2023, 1, 5)
SECOND_SWEEP = date(2023, 2, 6)
# Six reports dated after the first sweep's day: they change nothing that sweep decides, whichever
# runs first (its preview is the same with or without them).
COMPLETED = [f"kh-1-2022/2/x-ubnd-{u}" for u in "abc"] + [
    f"kh-1-2022/3/x-ubnd-{u}@2023" for u in "abc"
]
REPORTED_ON = "2023-02-01"
WAIT = 240.0  # a run's first process start takes ~1 min here with 4 starting at once


def _client() -> Any:
    from prefect.client.orchestration import get_client

    return get_client(sync_client=True)


def _worker_log(logs: list[Path]) -> str:
    return "\n".join(
        f"--- {p.name}\n" + p.read_text(encoding="utf-8", errors="replace")[-4000:] for p in logs
    )


@pytest.fixture
def workers(prefect_stack: Stack, tmp_path: Path) -> Iterator[tuple[str, list[Path]]]:
    """A process pool and two workers polling it, on a store of their own (``kh-1-2022``)."""
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    db = loaded_db(tmp_path)
    with _client() as client, contextlib.suppress(ObjectAlreadyExists):  # a test before this
        client.create_work_pool(WorkPoolCreate(name=POOL, type="process"))
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    try:
        for name in ("w1", "w2"):
            home = tmp_path / name
            home.mkdir()
            log = tmp_path / f"{name}.log"
            env = {
                **os.environ,
                "PREFECT_API_URL": prefect_stack.api_url,
                "PREFECT_HOME": str(home / "prefect"),
                "PREFECT_WORKER_QUERY_SECONDS": "1",
                "PREFECT_WORKER_PREFETCH_SECONDS": "5",
                "KTTT_HOME": str(tmp_path),
                "KTTT_DATABASE_URL": db,
            }
            with open(log, "wb") as out:
                procs.append(
                    subprocess.Popen(
                        # at most 2 runs at once each: a burst must spread over both workers
                        [str(PREFECT), "worker", "start", "--pool", POOL, "--type", "process"]
                        + ["--name", f"kttt-{name}", "--limit", "2"],
                        env=env,
                        cwd=home,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        start_new_session=True,
                    )
                )
            logs.append(log)

        def both_online() -> bool:
            assert all(p.poll() is None for p in procs), _worker_log(logs)
            with _client() as client:
                names = {w.name for w in client.read_workers_for_work_pool(POOL)}
            return {"kttt-w1", "kttt-w2"} <= names

        wait_for(both_online, timeout=90, every=0.5)
        yield db, logs
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def _deploy() -> tuple[str, str]:
    from flows.daily_sweep import daily_sweep
    from flows.record_completion import record_completion

    sweep = daily_sweep.from_source(
        source=str(ROOT), entrypoint="flows/daily_sweep.py:daily_sweep"
    ).deploy(
        name="workers-sweep",
        work_pool_name=POOL,
        concurrency_limit=1,
        build=False,
        push=False,
        print_next_steps=False,
    )
    completion = record_completion.from_source(
        source=str(ROOT), entrypoint="flows/record_completion.py:record_completion"
    ).deploy(
        name="workers-completion",
        work_pool_name=POOL,
        build=False,
        push=False,
        print_next_steps=False,
    )
    assert sweep and completion
    return "daily-sweep/workers-sweep", "record-completion/workers-completion"


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
    store = Tracker.open(db)
    n = T.notice_t.c
    with store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(T.notice_t)).scalar_one()
        distinct = conn.execute(
            select(func.count()).select_from(
                select(n.task_id, n.step_code, n.recipient).distinct().subquery()
            )
        ).scalar_one()
        loose = conn.execute(
            select(func.count()).where(n.delivery_id.is_(None)).select_from(T.notice_t)
        ).scalar_one()
        extra = _extra_digests(conn)
    store.close()
    return total, distinct, loose, extra


def _extra_digests(conn: Any) -> int:
    d = T.delivery_t.c
    rows = conn.execute(select(d.recipient, d.as_of)).all()
    return len(rows) - len(set(rows))


def _preview(db: str, day: date) -> int:
    store = Tracker.open(db)
    try:
        return store.sweep(as_of=day, dry_run=True, force=True).notices
    finally:
        store.close()


def _ran(logs: list[Path], run_id: Any) -> list[str]:
    """The workers that ran a flow run: their log has the run's own output (its "View at" line),
    and more of their submissions of it went through than the server aborted (two workers may both
    try to submit a run they polled at the same moment; the server lets one through)."""
    ran = []
    for p in logs:
        text = p.read_text(encoding="utf-8", errors="replace")
        submitted = text.count(f"submitting flow run '{run_id}'")
        aborted = text.count(f"Aborted submission of flow run '{run_id}'")
        output = f"/runs/flow-run/{run_id}" in text
        assert output == (submitted > aborted), (p.name, run_id, submitted, aborted)
        if output:
            ran.append(p.stem)
    return ran


@pytest.mark.slow
def test_two_workers_run_a_sweep_and_a_burst_of_completions_once_each(
    workers: tuple[str, list[Path]],
) -> None:
    db, logs = workers
    sweep_dep, completion_dep = _deploy()
    expected = _preview(db, FIRST_SWEEP)
    assert expected > 0

    sweep = _run(sweep_dep, {"as_of": FIRST_SWEEP.isoformat(), "force": True})
    burst = [
        _run(
            completion_dep,
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

    # Both workers took runs; each run ran on exactly one of them.
    by = {r.id: _ran(logs, r.id) for r in runs}
    assert all(len(w) == 1 for w in by.values()), by
    assert {w[0] for w in by.values()} == {"w1", "w2"}, by

    # Each completion recorded exactly once.
    store = Tracker.open(db)
    c = T.completion_t.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(c.task_id, c.reported_on, c.state)).all()
    store.close()
    assert sorted(rows) == sorted((t, date(2023, 2, 1), "reported") for t in COMPLETED)

    # The sweep's notices: as many as the preview, each once, each in one digest.
    total, distinct, loose, extra = _ledger(db)
    assert (total, distinct, loose, extra) == (expected, expected, 0, 0)

    # Two sweeps at once: the deployment's limit and ``kttt-sweep`` let one run at a time; both
    # complete and the notices of the day are recorded once.
    ensure_sweep_limit()
    with _client() as client:
        assert client.read_global_concurrency_limit_by_name(SWEEP_LIMIT).limit == 1
    second = _preview(db, SECOND_SWEEP)
    assert second > 0
    pair = [_run(sweep_dep, {"as_of": SECOND_SWEEP.isoformat(), "force": True}) for _ in range(2)]
    runs = _wait_all([r.id for r in pair], logs)
    assert [r.state_name for r in runs] == ["Completed", "Completed"], _worker_log(logs)
    assert [len(_ran(logs, r.id)) for r in runs] == [1, 1]
    total, distinct, loose, extra = _ledger(db)
    assert (total, distinct, loose, extra) == (expected + second,) * 2 + (0, 0)
    store = Tracker.open(db)
    with store.engine.connect() as conn:
        s = T.sweep_t.c
        assert (
            conn.execute(
                select(func.count()).where(s.as_of == SECOND_SWEEP).select_from(T.sweep_t)
            ).scalar_one()
            == 2
        )
    store.close()
