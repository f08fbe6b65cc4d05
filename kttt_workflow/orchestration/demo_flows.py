"""The demo through Prefect: every step of ``kttt demo`` as a flow run on a local Prefect server.

``run_demo_flows(home, api_url)`` loads the real directives, records the demo's completion reports
(one verified, one returned…), sweeps on a few dates (one of them a Tết holiday, skipped), and
publishes the progress reports, each as a flow run; then prints where to look in the UI. With
``api_url=None`` it starts a local server (:mod:`kttt_workflow.orchestration.stack`) under
``home`` and leaves it running for the UI, printing how to stop it.

The flows are those of the project's ``prefect.yaml``, loaded from its entrypoints the way Prefect
loads them (:func:`kttt_workflow.orchestration.stack.flows_by_name`): the library never imports
``flows/``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from kttt_workflow.demo import COMPLETIONS, NQ20
from kttt_workflow.inputs.defaults import demo_directives

SWEEPS = [date(2022, 12, 5), date(2023, 1, 5), date(2023, 1, 23), date(2023, 2, 6)]
REPORTS: list[tuple[date, str | None]] = [(date(2022, 12, 5), NQ20), (date(2023, 2, 6), None)]


@dataclass
class FlowDemo:
    """Where the demo's runs are: the UI, the store, the flow runs (name, flow, final state)."""

    ui_url: str
    api_url: str
    database_url: str
    server_pid: int | None = None
    runs: list[tuple[str, str, str]] = field(default_factory=list)


@contextmanager
def _env(updates: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in updates}
    os.environ.update(updates)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _start_server(home: Path, echo: Callable[[str], None]) -> tuple[str, int]:
    from kttt_workflow.orchestration.stack import (
        DEFAULT_PORT,
        Stack,
        free_port,
        port_in_use,
        start_server,
    )

    port = DEFAULT_PORT if not port_in_use("127.0.0.1", DEFAULT_PORT) else free_port()
    stack = Stack(home, port=port)
    echo(f"Khởi động máy chủ Prefect tại {stack.ui_url} (khoảng 10–20 giây) …")
    proc = start_server(stack)
    return stack.api_url, proc.pid


def run_demo_flows(
    home: Path,
    api_url: str | None,
    *,
    database_url: str | None = None,
    echo: Callable[[str], None] = print,
) -> FlowDemo:
    """Run the demo as flow runs against the Prefect API at ``api_url`` (``None``: start one).

    The store is ``database_url`` (default: a fresh ``home/kttt-flows.db``, removed first).
    """
    home.mkdir(parents=True, exist_ok=True)
    if database_url is None:
        path = home / "kttt-flows.db"
        path.unlink(missing_ok=True)
        database_url = f"sqlite:///{path}"
    pid = None
    if api_url is None:
        api_url, pid = _start_server(home, echo)
    ui_url = api_url.removesuffix("/").removesuffix("/api")
    demo = FlowDemo(ui_url, api_url, database_url, pid)
    env = {
        "PREFECT_API_URL": api_url,
        "PREFECT_UI_URL": ui_url,
        "KTTT_MAILDIR": str(home / "mail"),
    }
    with _env(env):
        from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: api_url, PREFECT_UI_URL: ui_url}):
            _run(demo, echo)
            from kttt_workflow.orchestration.events import flush

            flush()
    echo(f"Giao diện Prefect: {ui_url}")
    echo(f"  Các lần chạy: {ui_url}/runs — bảng tiến độ: {ui_url}/artifacts")
    echo(f"  Sự kiện (lọc theo đơn vị, ví dụ kttt.unit.bg-bcsd-ubnd): {ui_url}/events")
    if pid is not None:
        echo(f"Máy chủ Prefect vẫn chạy (pid {pid}); dừng bằng: kill -TERM -{pid}")
    return demo


def _run(demo: FlowDemo, echo: Callable[[str], None]) -> None:
    from kttt_workflow.orchestration.stack import flows_by_name

    flows = flows_by_name()
    db = demo.database_url

    def record(flow_name: str, state: Any, what: str) -> Any:
        run_name = "?"
        try:
            from prefect.client.orchestration import get_client

            with get_client(sync_client=True) as client:
                run_name = client.read_flow_run(state.state_details.flow_run_id).name
        except Exception:  # the name is decoration only
            pass
        demo.runs.append((run_name, flow_name, state.name))
        echo(f"  [{state.name}] {flow_name} ({run_name}): {what}")
        return state.result() if state.is_completed() else None

    state: Any
    echo("Nạp văn bản chỉ đạo (load-directive) …")
    params: dict[str, Any] = {
        "paths": [str(demo_directives())],
        "database_url": db,
        "until": date(2026, 12, 31),
    }
    state = flows["load-directive"](params, return_state=True)
    loaded = record("load-directive", state, "các văn bản trong directives/") or []
    for s in loaded:
        echo(f"    {s['directive']}: {s['total']} nhiệm vụ")

    echo("Ghi nhận hoàn thành (record-completion) …")
    for task, evidence, on, returned in COMPLETIONS:
        params = {
            "task": task,
            "evidence": evidence,
            "reported_on": on,
            "decision": "return" if returned else "verify",
            "decided_on": on,
            "reason": returned,
            "database_url": db,
        }
        state = flows["record-completion"](params, return_state=True)
        r = record("record-completion", state, task)
        if r and r.get("activated_tasks"):
            echo(f"    kích hoạt {len(r['activated_tasks'])} nhiệm vụ con")

    echo("Quét hằng ngày (daily-sweep) …")
    for day in SWEEPS:
        state = flows["daily-sweep"]({"as_of": day, "database_url": db}, return_state=True)
        r = record("daily-sweep", state, f"{day:%d/%m/%Y}")
        if r:
            echo(f"    {r['notices']} thông báo mới, {r['deliveries']} bản tổng hợp")
        elif state.is_completed():
            echo(f"    {state.message}")

    echo("Báo cáo tiến độ (progress-report) …")
    for day, directive in REPORTS:
        params = {"as_of": day, "directive": directive, "database_url": db}
        state = flows["progress-report"](params, return_state=True)
        r = record("progress-report", state, f"{directive or 'mọi văn bản'} tại {day:%d/%m/%Y}")
        if r:
            echo(
                "    bảng: "
                + ", ".join(r["artifacts"][:4])
                + ("…" if len(r["artifacts"]) > 4 else "")
            )
