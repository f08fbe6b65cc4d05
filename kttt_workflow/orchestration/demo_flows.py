"""The demo through Prefect: the steps of ``kttt demo`` as flow runs on a local Prefect server, on
the same store and in the same home as the demo's terminal part.

``run_demo_flows(home, api_url)`` treats ``home`` (``$KTTT_HOME/demo``) as a data folder of its
own: the store ``home/kttt.db`` (the one the terminal part wrote), the local mailboxes
``home/mail``, the Prefect server's home ``home/prefect`` — the paths ``kttt serve --home home``
uses, so ``kttt serve`` after the demo shows the same data. It loads the real directives again (no
change), records two more completion reports (one verified, one awaiting verification), sweeps on
a few dates (one of them a Tết holiday, skipped), publishes the progress reports (one back-dated:
it gets a dated key and leaves the latest view alone), each as a flow run. With ``api_url=None``
it starts the server under ``home`` and serves the deployments of ``prefect.yaml`` on that store
(``kttt serve --no-server --home home`` in the background), so the UI's "Run" forms work on the
demo's data; it prints direct links and how to stop both.

The flows are those of the project's ``prefect.yaml``, loaded from its entrypoints the way Prefect
loads them (:func:`kttt_workflow.orchestration.stack.flows_by_name`): the library never imports
``flows/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from kttt_workflow.demo import NQ20
from kttt_workflow.inputs.defaults import demo_directives

SWEEPS = [date(2022, 12, 5), date(2023, 1, 5), date(2023, 1, 23), date(2023, 2, 6)]
# The last report first would be the natural order; the back-dated one after it shows that it
# does not replace the latest view.
REPORTS: list[tuple[date, str | None]] = [(date(2023, 2, 6), None), (date(2022, 12, 5), NQ20)]
# Recorded through the record-completion flow (the terminal part recorded its own before):
# (task, evidence, report date, decision). Illustrations, and they say so.
FLOW_COMPLETIONS: list[tuple[str, str, date, str]] = [
    (
        f"{NQ20}/IV.3/huyen-uy-tan-yen",
        "Kế hoạch của Huyện ủy Tân Yên (dữ liệu minh họa) ngày 30/12/2022",
        date(2022, 12, 30),
        "verify",
    ),
    (
        f"{NQ20}/IV.3/huyen-uy-yen-the",
        "Kế hoạch bổ sung phân công cho các xã (dữ liệu minh họa) ngày 16/01/2023",
        date(2023, 1, 16),
        "",
    ),
]


@dataclass
class FlowDemo:
    """Where the demo's runs are: the UI, the store, the flow runs (name, flow, final state)."""

    ui_url: str
    api_url: str
    database_url: str
    server_pid: int | None = None
    serve_pid: int | None = None
    runs: list[tuple[str, str, str]] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)


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


@contextmanager
def _cwd(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


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


def _serve(home: Path, env: dict[str, str]) -> int:
    """``kttt serve --no-server --home home`` in the background (its own process group): the
    deployments of ``prefect.yaml`` served on the demo's store. Output: ``home/prefect/serve.log``."""
    from kttt_workflow.orchestration.stack import project_dir

    log_path = home / "prefect" / "serve.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from kttt_workflow.cli import app; app()", "serve",
             "--no-server", "--home", str(home)],
            env={**os.environ, **env, "KTTT_PROJECT_DIR": str(project_dir())},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=home,
            start_new_session=True,
        )  # fmt: skip
    return proc.pid


def run_demo_flows(
    home: Path,
    api_url: str | None,
    *,
    serve: bool | None = None,
    echo: Callable[[str], None] = print,
) -> FlowDemo:
    """Run the demo as flow runs against the Prefect API at ``api_url`` (``None``: start one under
    ``home``), on the store ``home/kttt.db``; ``serve`` (default: when the server was started
    here) serves the deployments on that store in the background."""
    home.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{home / 'kttt.db'}"
    pid = None
    if api_url is None:
        api_url, pid = _start_server(home, echo)
    ui_url = api_url.removesuffix("/").removesuffix("/api")
    demo = FlowDemo(ui_url, api_url, database_url, pid)
    env = {
        "PREFECT_API_URL": api_url,
        "PREFECT_UI_URL": ui_url,
        "KTTT_HOME": str(home),
        "KTTT_DATABASE_URL": database_url,
        "KTTT_MAILDIR": str(home / "mail"),
    }
    with _env(env):
        from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: api_url, PREFECT_UI_URL: ui_url}):
            _run(demo, echo)
            from kttt_workflow.orchestration.events import flush

            flush()
            demo.links = links(ui_url)
    if serve if serve is not None else pid is not None:
        demo.serve_pid = _serve(home, env)
    echo(f"Giao diện Prefect: {ui_url}")
    echo(f"  Đơn vị chậm của Nghị quyết 20-NQ/TW: {demo.links['progress']}")
    echo(f"  Danh sách quá hạn: {demo.links['overdue']}")
    echo(f"  Sự kiện của các đơn vị (Nghị quyết 20-NQ/TW): {demo.links['events']}")
    echo(f"  Các lần chạy: {ui_url}/runs — ghi nhận hoàn thành: {ui_url}/deployments")
    if demo.serve_pid is not None:
        echo(
            "Các triển khai đang chạy trên cùng dữ liệu (mẫu «record-completion» trên giao diện "
            f"ghi vào {home / 'kttt.db'})."
        )
    if pid is not None:
        stop = f"kill -TERM -{pid}" + (f" -{demo.serve_pid}" if demo.serve_pid else "")
        echo(f"Máy chủ Prefect vẫn chạy (pid {pid}); dừng bằng: {stop}")
        echo(f"Xem lại sau này trên cùng dữ liệu: kttt serve --home {home}")
    return demo


def links(ui_url: str) -> dict[str, str]:
    """Direct links of the UI: NQ 20's leader's view and overdue list (their latest version; the
    key's page lists every version), the units' events."""
    from urllib.parse import quote

    from kttt_workflow.orchestration.artifacts import artifact_key, latest_artifact_id

    out = {}
    for name, prefix in (("progress", "tien-do"), ("overdue", "qua-han")):
        key = artifact_key(prefix, NQ20, "20-NQ/TW")
        found = latest_artifact_id(key)
        out[name] = (
            f"{ui_url}/artifacts/artifact/{found}" if found else f"{ui_url}/artifacts/key/{key}"
        )
    # The event feed takes ?resource=<id> (any resource of the event, related ones included).
    out["events"] = f"{ui_url}/events?resource=" + quote(f"kttt.directive.{NQ20}")
    return out


def _run(demo: FlowDemo, echo: Callable[[str], None]) -> None:
    from kttt_workflow.orchestration.stack import flows_by_name

    flows = flows_by_name()

    def record(flow_name: str, state: Any) -> Any:
        run_name = "?"
        try:
            from prefect.client.orchestration import get_client

            with get_client(sync_client=True) as client:
                run_name = client.read_flow_run(state.state_details.flow_run_id).name
        except Exception:  # the name is decoration only
            pass
        demo.runs.append((run_name, flow_name, state.name))
        message = state.message or ""
        head, _, subject = run_name.partition(": ")
        if message.startswith(run_name[:12]):
            text = message  # the message names the run itself
        elif subject and message.startswith(subject):
            text = f"{head}: {message}"  # "Hoàn thành: <task>: …" once, not twice
        else:
            text = f"{run_name}: {message}".rstrip(": ")
        echo(f"  [{state.name}] {text}")
        return state.result() if state.is_completed() else None

    state: Any
    echo("Nạp văn bản chỉ đạo (load-directive) …")
    folder = demo_directives()
    with _cwd(folder.parent):  # a relative path in the run's parameters, not a machine path
        params: dict[str, Any] = {"paths": [folder.name], "until": date(2026, 12, 31)}
        state = flows["load-directive"](params, return_state=True)
    record("load-directive", state)

    echo("Ghi nhận hoàn thành (record-completion) …")
    for task, evidence, on, decision in FLOW_COMPLETIONS:
        params = {
            "task": task,
            "evidence": evidence,
            "reported_on": on,
            "decision": decision,
            "decided_on": on if decision else "",
        }
        state = flows["record-completion"](params, return_state=True)
        record("record-completion", state)

    echo("Quét hằng ngày (daily-sweep) …")
    for day in SWEEPS:
        state = flows["daily-sweep"]({"as_of": day}, return_state=True)
        record("daily-sweep", state)

    echo("Báo cáo tiến độ (progress-report) …")
    for day, directive in REPORTS:
        state = flows["progress-report"]({"as_of": day, "directive": directive}, return_state=True)
        record("progress-report", state)
