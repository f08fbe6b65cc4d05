"""Benchmark: what Prefect costs on top of the library (a task run, a flow run, a sweep run).

Usage::

    .venv/bin/python bench/bench_prefect.py [--repeat 5] [--tasks 200] [--communes N] [--keep]

It starts a real local Prefect server (``kttt_workflow.orchestration.stack``, SQLite, in a
temporary folder), then measures, in the same process and the same run:

* ``server start``      ``prefect server start`` until ``/api/health`` answers (new database);
* ``empty flow run``    a flow run with no task, against that server, vs the same function called
                        as plain Python;
* ``task run``          N no-op task runs inside a flow run, timed inside it, / N;
* ``sweep, library``    ``Tracker.sweep(send=False, force=True)`` + ``Tracker.deliver()`` +
                        ``Tracker.progress()`` on the real directives (``directives/``) as of
                        05/12/2022, in a fresh copy of a loaded store each time (the ledger makes
                        a sweep happen once);
* ``sweep, flow run``   the ``daily-sweep`` flow doing the same work (plus its events and
                        artifacts), on another fresh copy;
* ``table artifact``    20 progress tables created inside a flow run, timed inside it, / 20;
* ``events``            publishing that sweep's facts (``Tracker.notice_facts``: what the flow
                        publishes) as Prefect events (client side, flushed);
* with ``--communes N``: the library and the flow run on a synthetic cascade of N communes, all
  overdue (the generator of ``bench/bench_load.py``).

Each figure is the median of ``--repeat`` runs (the library and the flow alternate). See
``docs/prefect.md`` for results.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from _common import ROOT, banner, fmt, log, median, scratch, seconds

from kttt_workflow.orchestration.stack import Stack, free_port, start_server, stop_server

AS_OF = date(2022, 12, 5)
EVENTS = "events (the sweep's facts)"
ARTIFACTS = 20


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--tasks", type=int, default=200, help="no-op tasks in the task-run measure")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument(
        "--communes", type=int, default=0, help="also sweep a synthetic cascade of N communes"
    )
    ap.add_argument("--repeat-scale", type=int, default=1, help="repetitions of --communes")
    args = ap.parse_args()

    with scratch("kttt-bench-prefect-", args.keep) as tmp:
        stack = Stack(tmp / "home", port=free_port())
        banner("Prefect")
        t0 = time.perf_counter()
        proc = start_server(stack)
        server_start = time.perf_counter() - t0
        os.environ.update(stack.client_env())
        os.environ["KTTT_MAILDIR"] = str(tmp / "mail")
        try:
            import prefect
            from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

            log(
                f"Prefect {prefect.__version__}; server {stack.api_url} started in {server_start:.1f}s"
            )
            with temporary_settings(
                updates={PREFECT_API_URL: stack.api_url, PREFECT_UI_URL: stack.ui_url}
            ):
                results = run(args, tmp)
        finally:
            stop_server(proc)
    log()
    log(f"{'measure':34} {'median':>10} {'min':>10} {'max':>10}")
    for name, xs in results.items():
        log(f"{name:34} {fmt(xs, digits=1, scale=1000, unit='ms')}")
    lib, fl = median(results["sweep, library"]), median(results["sweep, flow run"])
    log()
    log(
        f"server start {server_start:.1f}s; task run "
        f"{median(results['task run (each)']) * 1000:.1f}ms; "
        f"empty flow run {median(results['empty flow run']) * 1000:.0f}ms; "
        f"sweep flow run overhead {(fl - lib) * 1000:.0f}ms over the library ({fl / lib:.2f}x)"
    )
    return 0


def run(args: argparse.Namespace, tmp: Path) -> dict[str, list[float]]:
    from prefect import flow, task

    from flows.daily_sweep import SweepParams, daily_sweep
    from kttt_workflow.orchestration import events
    from kttt_workflow.service import Tracker

    @task  # type: ignore[misc]
    def noop(i: int) -> int:
        return i

    @flow  # type: ignore[misc]
    def empty() -> int:
        return 0

    # Timed inside the flow: a flow run's end waits for its heartbeat thread, which sleeps in
    # one-second steps, so the wall time of a whole flow run moves in ~1 s steps.
    @flow  # type: ignore[misc]
    def many(n: int) -> float:
        t = time.perf_counter()
        for i in range(n):
            noop(i)
        return (time.perf_counter() - t) / n

    @flow  # type: ignore[misc]
    def tables(n: int, rows: list[dict[str, object]]) -> float:
        from prefect.artifacts import create_table_artifact

        t = time.perf_counter()
        for i in range(n):
            create_table_artifact(key=f"bench-{i}", table=rows)
        return (time.perf_counter() - t) / n

    # A loaded store, copied before every sweep.
    template = tmp / "template.db"
    t = time.perf_counter()
    with Tracker.open(f"sqlite:///{template}") as tracker:
        tracker.load([ROOT / "directives"], until=date(2026, 12, 31))
        n_tasks = len(tracker.status(as_of=date(2026, 12, 31)))
        log(f"store: directives/ loaded ({n_tasks} tasks) in {time.perf_counter() - t:.1f}s")
        table = tracker.progress(as_of=AS_OF).unit_table("kh-67-2013")
    log(f"table artifact: the progress table of kh-67-2013 ({len(table)} units)")

    def fresh(name: str) -> str:
        path = tmp / f"{name}.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"

    def library(url: str) -> None:
        # force: the bench sweeps a fixed date, whatever the calendar says of it (as the flow's
        # parameter below does).
        with Tracker.open(url) as tr:
            r = tr.sweep(as_of=AS_OF, send=False, force=True)
            tr.deliver()
            tr.progress(as_of=AS_OF)
        assert r.notices > 0, r

    def flow_run(url: str) -> None:
        params = SweepParams(as_of=AS_OF, force=True, database_url=url)
        state = daily_sweep(params, return_state=True)
        assert state.is_completed(), state.message

    def settle() -> None:
        # Let the events worker send what the flow queued, without stopping it (a drained worker
        # is restarted by the next flow run, which would then not be in its steady state).
        time.sleep(3)

    # Warm-up (imports, first connections), not measured.
    empty()
    library(fresh("warm-lib"))
    flow_run(fresh("warm-flow"))
    settle()

    out: dict[str, list[float]] = {
        k: []
        for k in (
            "plain function call",
            "empty flow run",
            "task run (each)",
            "table artifact (each)",
            "sweep, library",
            "sweep, flow run",
            EVENTS,
        )
    }
    for i in range(args.repeat):
        out["plain function call"].append(seconds(lambda: empty.fn()))  # type: ignore[attr-defined]
        e = seconds(empty)
        out["empty flow run"].append(e)
        out["task run (each)"].append(many(args.tasks))
        out["table artifact (each)"].append(tables(ARTIFACTS, table))
        url_l, url_f = fresh(f"lib-{i}"), fresh(f"flow-{i}")
        out["sweep, library"].append(seconds(lambda: library(url_l)))  # noqa: B023
        out["sweep, flow run"].append(seconds(lambda: flow_run(url_f)))  # noqa: B023
        settle()  # the flow's events are still being sent: not into the next measure
        log(
            f"  #{i + 1}: empty flow {e * 1000:.0f}ms, task run "
            f"{out['task run (each)'][-1] * 1000:.1f}ms, artifact "
            f"{out['table artifact (each)'][-1] * 1000:.0f}ms, "
            f"sweep: library {out['sweep, library'][-1] * 1000:.0f}ms, "
            f"flow run {out['sweep, flow run'][-1] * 1000:.0f}ms"
        )
    with Tracker.open(fresh("facts")) as tracker:
        r = tracker.sweep(as_of=AS_OF, send=False, force=True)
        assert r.sweep_id is not None, r
        facts = tracker.notice_facts(r.sweep_id)
    assert facts, "the sweep recorded no overdue or escalated notice: nothing to publish"

    def publish() -> None:
        events.emit(facts)
        events.flush(timeout=60)

    for _ in range(args.repeat):
        out[EVENTS].append(seconds(publish))
    log(f"  events: {len(facts)} per publication (one per task and step of the sweep)")
    out[f"{EVENTS}, each"] = [x / len(facts) for x in out[EVENTS]]
    if args.communes:
        out.update(scale(args, tmp, library, flow_run, settle))
    return out


def scale(
    args: argparse.Namespace,
    tmp: Path,
    library: Callable[[str], None],
    flow_run: Callable[[str], None],
    settle: Callable[[], None],
) -> dict[str, list[float]]:
    """The same comparison on a synthetic cascade: one task to each of N communes, all overdue
    (N notices to the communes, N copies to the province, N + 1 digests, N overdue events)."""
    import bench_load as bl  # its synthetic registry and directive

    from kttt_workflow.service import Tracker

    n = args.communes
    folder = tmp / "synthetic"
    (folder / "d").mkdir(parents=True)
    (folder / "d" / "directive.yaml").write_text(bl.directive_yaml(bl.DEADLINE), encoding="utf-8")
    template = folder / "template.db"
    with Tracker.open(f"sqlite:///{template}") as tracker:
        bl.save_registry(tracker, bl.RegistryFile.model_validate(bl.registry_data(n)))
        tracker.load([folder / "d"], until=bl.UNTIL)
    name_l, name_f = f"sweep, library, {n} communes", f"sweep, flow run, {n} communes"
    out: dict[str, list[float]] = {name_l: [], name_f: []}
    for i in range(args.repeat_scale):
        urls = []
        for kind in ("lib", "flow"):
            path = folder / f"{kind}-{i}.db"
            shutil.copy(template, path)
            urls.append(f"sqlite:///{path}")
        out[name_l].append(seconds(lambda: library(urls[0])))  # noqa: B023
        out[name_f].append(seconds(lambda: flow_run(urls[1])))  # noqa: B023
        settle()
        log(
            f"  {n} communes #{i + 1}: sweep library {out[name_l][-1]:.1f}s, "
            f"flow run {out[name_f][-1]:.1f}s"
        )
    return out


if __name__ == "__main__":
    sys.exit(main())
