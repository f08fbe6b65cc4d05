"""Benchmark: what Prefect costs on top of the library (a task run, a flow run, a sweep run).

Usage::

    .venv/bin/python bench/bench_prefect.py [--repeat 5] [--tasks 200] [--communes N] [--keep]
                                           [--profile] [--server-database URL]

It starts a real local Prefect server (``kttt_workflow.orchestration.stack``, SQLite, in a
temporary folder; with ``--server-database``, on that database instead, e.g. an empty PostgreSQL
database ``postgresql+asyncpg://…`` as in production), then measures, in the same process and the
same run:

* ``server start``      ``prefect server start`` until ``/api/health`` answers (new database);
* ``empty flow run``    a flow run with no task, against that server, vs the same function called
                        as plain Python; split, by the timestamps of its states read back from the
                        API, into the time to ``Running`` (the flow and flow run created, the
                        state set), ``Running`` to ``Completed`` and ``Completed`` to the call's
                        return (the engine joining its heartbeat thread);
* ``task run``          N no-op task runs inside a flow run, timed inside it, / N;
* ``sweep, library``    ``Tracker.sweep(send=False, force=True)`` + ``Tracker.deliver()`` +
                        ``Tracker.progress()`` on the real directives (``directives/``) as of
                        05/12/2022, in a fresh copy of a loaded store each time (the ledger makes
                        a sweep happen once);
* ``sweep, flow run``   the ``daily-sweep`` flow doing the same work (plus its events and
                        artifacts), on another fresh copy; ``… to Completed``: until its
                        ``Completed`` state (what the UI shows), without the heartbeat join;
* ``table artifact``    20 progress tables created inside a flow run, timed inside it, / 20;
* ``progress artifacts``  ``publish_progress`` of the sweep's report (what the flow publishes: 28
                        artifacts on the real directives), timed inside a flow run; ``…, one after
                        another``: the same artifacts (recorded from it) created one request after
                        the other, as ``publish_progress`` did before it sent them on threads;
                        ``…, built, not sent``: ``publish_progress`` with the creation replaced
                        (its one read of the latest views and the building of the 28 artifacts);
                        ``…, server CPU``: the CPU time the server process used meanwhile (Linux,
                        ``/proc``), i.e. how much of the wait is the server's own work;
* ``events``            publishing that sweep's facts (``Tracker.notice_facts``: what the flow
                        publishes) as Prefect events (client side, flushed);
* with ``--communes N``: the library and the flow run on a synthetic cascade of N communes, all
  overdue (the generator of ``bench/bench_load.py``);
* with ``--profile``: where an empty flow run's time goes, ``--repeat`` runs each of: the flow run
  as it is, with the engine's HTTP requests (count, time) and its ``Thread.join`` timed (the
  client's methods wrapped, in this mode only); the same with the engine's heartbeat thread off
  (``heartbeat_seconds`` None: what it would cost without it; Prefect 3.9.1 has no setting for
  that, ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` is an integer >= 30); an ``async def`` flow called
  with ``asyncio.run`` (the async engine does not join the thread).

Each figure is the median of ``--repeat`` runs (the library and the flow alternate). See
``docs/prefect.md`` for results.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from _common import ROOT, banner, fmt, log, median, scratch, seconds

from kttt_workflow.orchestration.stack import Stack, free_port, start_server, stop_server

AS_OF = date(2022, 12, 5)
EVENTS = "events (the sweep's facts)"
EMPTY = "empty flow run"
SWEEP_RUN = "sweep, flow run"
# The same pair without the report (the flow's publish_progress off, no Tracker.progress call):
# what the orchestration adds to the library, apart from the artifacts the flow publishes.
BARE_LIB, BARE_RUN = "sweep, library, no report", "sweep, flow run, no artifacts"
PUBLISH = "progress artifacts (publish_progress)"
ONE_BY_ONE = "progress artifacts, one after another"
BUILT = "progress artifacts, built, not sent"
CPU = ", server CPU"
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
    ap.add_argument(
        "--profile", action="store_true", help="also split an empty flow run's time (see above)"
    )
    ap.add_argument(
        "--server-database",
        help="the Prefect server's database (postgresql+asyncpg://…; default: a new SQLite file)",
    )
    args = ap.parse_args()

    with scratch("kttt-bench-prefect-", args.keep) as tmp:
        stack = Stack(tmp / "home", port=free_port())
        banner("Prefect")
        t0 = time.perf_counter()
        proc = start_server(stack, database_url=args.server_database)
        server_start = time.perf_counter() - t0
        os.environ.update(stack.client_env())
        os.environ["KTTT_MAILDIR"] = str(tmp / "mail")
        try:
            import prefect
            from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

            log(
                f"Prefect {prefect.__version__}; server {stack.api_url} started in {server_start:.1f}s"
                f" on {args.server_database.split('://')[0] if args.server_database else 'SQLite'}"
            )
            with temporary_settings(
                updates={PREFECT_API_URL: stack.api_url, PREFECT_UI_URL: stack.ui_url}
            ):
                results = run(args, tmp, proc.pid)
        finally:
            stop_server(proc)
    log()
    log(f"{'measure':34} {'median':>10} {'min':>10} {'max':>10}")
    for name, xs in results.items():
        log(f"{name:34} {fmt(xs, digits=1, scale=1000, unit='ms')}")
    lib, fl = median(results["sweep, library"]), median(results[SWEEP_RUN])
    over = median(results[f"{SWEEP_RUN} - library, each repeat"])
    over_done = median(results[f"{SWEEP_RUN}, to Completed - library"])
    empty_run = median(results[EMPTY])
    empty_done = median(results[f"{EMPTY}: to Running"]) + median(
        results[f"{EMPTY}: Running to Completed"]
    )
    log()
    log(
        f"server start {server_start:.1f}s; task run "
        f"{median(results['task run (each)']) * 1000:.1f}ms; "
        f"empty flow run {empty_run * 1000:.0f}ms ({empty_done * 1000:.0f}ms to Completed); "
        f"sweep: library {lib * 1000:.0f}ms, flow run {fl * 1000:.0f}ms ({fl / lib:.2f}x)"
    )
    log(
        f"sweep flow run over the library (median of each repeat's difference): "
        f"{over * 1000:.0f}ms, {(over - empty_run) * 1000:+.0f}ms over an empty flow run; "
        f"to Completed {over_done * 1000:.0f}ms, "
        f"{(over_done - empty_done) * 1000:+.0f}ms over an empty flow run's"
    )
    bare = median(results[f"{BARE_RUN}, to Completed - library"])
    log(
        f"without the report (publish_progress off; the library without Tracker.progress): "
        f"to Completed {bare * 1000:.0f}ms over the library, "
        f"{(bare - empty_done) * 1000:+.0f}ms over an empty flow run's"
    )
    log(
        f"progress artifacts (inside a flow run): publish_progress {median(results[PUBLISH]) * 1000:.0f}ms, "
        f"the same artifacts one after another {median(results[ONE_BY_ONE]) * 1000:.0f}ms "
        f"+ built, not sent {median(results[BUILT]) * 1000:.0f}ms; "
        f"one table artifact {median(results['table artifact (each)']) * 1000:.1f}ms"
    )
    log(
        f"server CPU meanwhile: {median(results[PUBLISH + CPU]) * 1000:.0f}ms during "
        f"publish_progress, {median(results[ONE_BY_ONE + CPU]) * 1000:.0f}ms during one after another"
    )
    return 0


def run(args: argparse.Namespace, tmp: Path, server_pid: int) -> dict[str, list[float]]:
    from prefect import flow, task

    from flows.daily_sweep import SweepParams, daily_sweep
    from kttt_workflow.orchestration import events
    from kttt_workflow.orchestration.artifacts import publish_progress
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

    # The sweep's report, published as the flow publishes it, and its artifacts recorded (the
    # Prefect functions the publisher calls, replaced while it runs) to be created one by one.
    swept = tmp / "swept.db"
    shutil.copy(template, swept)
    reader = Tracker.open(f"sqlite:///{swept}")
    reader.sweep(as_of=AS_OF, send=False, force=True)
    report = reader.progress(as_of=AS_OF)
    calls = record_artifacts(lambda: publish_progress(report, reader))
    log(f"progress artifacts: {len(calls)} per publication")

    def with_server_cpu(call: Callable[[], Any]) -> tuple[float, float]:
        cpu = process_cpu(server_pid)
        wall = seconds(call)
        return wall, process_cpu(server_pid) - cpu

    @flow  # type: ignore[misc]
    def publish() -> tuple[float, float]:
        return with_server_cpu(lambda: publish_progress(report, reader))

    @flow  # type: ignore[misc]
    def one_by_one() -> tuple[float, float]:
        def create() -> None:
            for call, kwargs in calls:
                call(**kwargs)

        return with_server_cpu(create)

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

    def library_bare(url: str) -> None:
        # The same without the report: what the flow does with publish_progress off.
        with Tracker.open(url) as tr:
            r = tr.sweep(as_of=AS_OF, send=False, force=True)
            tr.deliver()
        assert r.notices > 0, r

    def flow_run(url: str, publish: bool = True) -> Any:
        params = SweepParams(as_of=AS_OF, force=True, database_url=url, publish_progress=publish)
        state = daily_sweep(params, return_state=True)
        assert state.is_completed(), state.message
        return state

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
            PUBLISH,
            PUBLISH + CPU,
            ONE_BY_ONE,
            ONE_BY_ONE + CPU,
            BUILT,
            f"{EMPTY}: to Running",
            f"{EMPTY}: Running to Completed",
            f"{EMPTY}: Completed to return",
            "sweep, library",
            SWEEP_RUN,
            f"{SWEEP_RUN}, to Completed",
            BARE_LIB,
            f"{BARE_RUN}, to Completed",
            EVENTS,
        )
    }
    for i in range(args.repeat):
        out["plain function call"].append(seconds(lambda: empty.fn()))  # type: ignore[attr-defined]
        e, marks = timed_run(lambda: empty(return_state=True))
        out[EMPTY].append(e)
        out[f"{EMPTY}: to Running"].append(marks["Running"])
        out[f"{EMPTY}: Running to Completed"].append(marks["Completed"] - marks["Running"])
        out[f"{EMPTY}: Completed to return"].append(e - marks["Completed"])
        out["task run (each)"].append(many(args.tasks))
        out["table artifact (each)"].append(tables(ARTIFACTS, table))
        for name, measure in ((PUBLISH, publish), (ONE_BY_ONE, one_by_one)):
            wall, cpu = measure()
            out[name].append(wall)
            out[name + CPU].append(cpu)
        out[BUILT].append(
            seconds(lambda: record_artifacts(lambda: publish_progress(report, reader)))
        )
        url_l, url_f = fresh(f"lib-{i}"), fresh(f"flow-{i}")
        out["sweep, library"].append(seconds(lambda: library(url_l)))  # noqa: B023
        f, marks = timed_run(lambda: flow_run(url_f))  # noqa: B023
        out[SWEEP_RUN].append(f)
        out[f"{SWEEP_RUN}, to Completed"].append(marks["Completed"])
        settle()  # the flow's events are still being sent: not into the next measure
        url_l, url_f = fresh(f"bare-lib-{i}"), fresh(f"bare-flow-{i}")
        out[BARE_LIB].append(seconds(lambda: library_bare(url_l)))  # noqa: B023
        _, marks = timed_run(lambda: flow_run(url_f, publish=False))  # noqa: B023
        out[f"{BARE_RUN}, to Completed"].append(marks["Completed"])
        settle()
        log(
            f"  #{i + 1}: empty flow {e * 1000:.0f}ms (Completed at "
            f"{out[f'{EMPTY}: Running to Completed'][-1] * 1000 + out[f'{EMPTY}: to Running'][-1] * 1000:.0f}ms), task run "
            f"{out['task run (each)'][-1] * 1000:.1f}ms, artifact "
            f"{out['table artifact (each)'][-1] * 1000:.0f}ms, progress artifacts "
            f"{out[PUBLISH][-1] * 1000:.0f}ms (one after another "
            f"{out[ONE_BY_ONE][-1] * 1000:.0f}ms), "
            f"sweep: library {out['sweep, library'][-1] * 1000:.0f}ms, "
            f"flow run {f * 1000:.0f}ms (Completed at {marks['Completed'] * 1000:.0f}ms)"
        )
    reader.close()
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
    # The library and the flow run alternate: their difference in each repeat, whose median moves
    # less with the machine's load than the difference of the two medians.
    lib = out["sweep, library"]
    out[f"{SWEEP_RUN} - library, each repeat"] = [
        f - x for f, x in zip(out[SWEEP_RUN], lib, strict=True)
    ]
    out[f"{SWEEP_RUN}, to Completed - library"] = [
        f - x for f, x in zip(out[f"{SWEEP_RUN}, to Completed"], lib, strict=True)
    ]
    out[f"{BARE_RUN}, to Completed - library"] = [
        f - x for f, x in zip(out[f"{BARE_RUN}, to Completed"], out[BARE_LIB], strict=True)
    ]
    if args.communes:
        out.update(scale(args, tmp, library, flow_run, settle))
    if args.profile:
        out.update(profile(args.repeat, empty))
    return out


def process_cpu(pid: int) -> float:
    """The CPU time (user + system, seconds) process ``pid`` has used; NaN without ``/proc``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def record_artifacts(call: Callable[[], Any]) -> list[tuple[Callable[..., Any], dict[str, Any]]]:
    """The artifacts ``call`` creates (each Prefect function and its arguments), not sent."""
    import threading

    import prefect.artifacts as pa

    real = {
        name: getattr(pa, name) for name in ("create_table_artifact", "create_markdown_artifact")
    }
    calls: list[tuple[Callable[..., Any], dict[str, Any]]] = []
    lock = threading.Lock()

    def recorder(create: Callable[..., Any]) -> Callable[..., None]:
        def record(**kwargs: Any) -> None:
            with lock:
                calls.append((create, kwargs))

        return record

    try:
        for name, create in real.items():
            setattr(pa, name, recorder(create))
        call()
    finally:
        for name, create in real.items():
            setattr(pa, name, create)
    return calls


def timed_run(call: Callable[[], Any]) -> tuple[float, dict[str, float]]:
    """The wall time of a flow run called in this process, and when (seconds after the call) it
    entered each of its states, read back from the API."""
    from prefect.client.orchestration import get_client

    gc.collect()
    t0, p0 = time.time(), time.perf_counter()
    state = call()
    wall = time.perf_counter() - p0
    with get_client(sync_client=True) as client:
        states = client.read_flow_run_states(state.state_details.flow_run_id)
    return wall, {str(s.name): s.timestamp.timestamp() - t0 for s in states}


def profile(repeat: int, empty: Any) -> dict[str, list[float]]:
    """An empty flow run, taken apart: the engine's HTTP requests and its thread join timed; then
    without the heartbeat thread; then an ``async def`` flow. Wrappers removed at the end."""
    import asyncio
    import threading

    import prefect.client.base as base
    import prefect.flow_engine as engine
    from prefect import flow

    requests: list[float] = []
    joins: list[float] = []
    send, asend = base.PrefectHttpxSyncClient.send, base.PrefectHttpxAsyncClient.send
    join = threading.Thread.join

    # Only the calling thread's requests: the log and event workers send from their own threads.
    def timed_send(self: Any, request: Any, *a: Any, **k: Any) -> Any:
        t = time.perf_counter()
        try:
            return send(self, request, *a, **k)
        finally:
            if threading.current_thread() is threading.main_thread():
                requests.append(time.perf_counter() - t)

    async def timed_asend(self: Any, request: Any, *a: Any, **k: Any) -> Any:
        t = time.perf_counter()
        try:
            return await asend(self, request, *a, **k)
        finally:
            if threading.current_thread() is threading.main_thread():
                requests.append(time.perf_counter() - t)

    def timed_join(self: threading.Thread, timeout: float | None = None) -> None:
        t = time.perf_counter()
        join(self, timeout)
        joins.append(time.perf_counter() - t)

    @flow  # type: ignore[misc]
    async def aempty() -> int:
        return 0

    out: dict[str, list[float]] = {}

    def measure(label: str, call: Callable[[], Any]) -> None:
        call()  # warm-up
        counts = []
        for _ in range(repeat):
            requests.clear()
            joins.clear()
            gc.collect()
            t = time.perf_counter()
            call()
            wall = time.perf_counter() - t
            counts.append(len(requests))
            for key, value in (
                ("", wall),
                (", HTTP requests", sum(requests)),
                (", thread join", sum(joins)),
                (", the rest", wall - sum(requests) - sum(joins)),
            ):
                out.setdefault(f"profile: {label}{key}", []).append(value)
        m = {k: median(v) * 1000 for k, v in out.items() if k.startswith(f"profile: {label}")}
        log(
            f"  profile, {label}: {m[f'profile: {label}']:.0f}ms = {max(counts)} HTTP requests "
            f"{m[f'profile: {label}, HTTP requests']:.0f}ms + thread join "
            f"{m[f'profile: {label}, thread join']:.0f}ms + the rest "
            f"{m[f'profile: {label}, the rest']:.0f}ms (medians)"
        )

    base.PrefectHttpxSyncClient.send = timed_send  # type: ignore[method-assign]
    base.PrefectHttpxAsyncClient.send = timed_asend  # type: ignore[method-assign]
    threading.Thread.join = timed_join  # type: ignore[method-assign]
    heartbeat = engine.BaseFlowRunEngine.heartbeat_seconds
    try:
        measure("empty flow run", empty)
        engine.BaseFlowRunEngine.heartbeat_seconds = property(lambda self: None)  # type: ignore[assignment,method-assign]
        measure("no heartbeat thread", empty)
        engine.BaseFlowRunEngine.heartbeat_seconds = heartbeat  # type: ignore[method-assign]
        measure("async def flow", lambda: asyncio.run(aempty()))
    finally:
        base.PrefectHttpxSyncClient.send = send  # type: ignore[method-assign]
        base.PrefectHttpxAsyncClient.send = asend  # type: ignore[method-assign]
        threading.Thread.join = join  # type: ignore[method-assign]
        engine.BaseFlowRunEngine.heartbeat_seconds = heartbeat  # type: ignore[method-assign]
    return out


def scale(
    args: argparse.Namespace,
    tmp: Path,
    library: Callable[[str], None],
    flow_run: Callable[[str], Any],
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
