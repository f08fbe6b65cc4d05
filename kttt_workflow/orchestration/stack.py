"""The local stack behind ``kttt serve``: a Prefect server with its UI on 127.0.0.1, and every
deployment of ``prefect.yaml`` served from this process.

* the server is ``prefect server start`` in a subprocess, with ``PREFECT_HOME`` under
  ``$KTTT_HOME/prefect`` (its SQLite database, logs), analytics off, and the task-run recorder
  and event persister batching 100 records at a time;
* deployments are built from ``prefect.yaml`` (one source of truth for names, schedules,
  parameters, tags and concurrency limits; ``prefect deploy --all`` reads the same file), their
  flows loaded from its entrypoints the way Prefect loads them (``flows/daily_sweep.py:daily_sweep``
  in the project folder, :func:`project_dir`), then served with ``prefect.serve`` on the
  embedded defaults (SQLite store, local mailbox);
* the automations of ``automations/`` are installed (deployment names resolved to ids).

Nothing here imports Prefect at module level: ``PREFECT_HOME`` and ``PREFECT_API_URL`` must be in
the environment before Prefect reads its settings.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml

from kttt_workflow import config
from kttt_workflow.config import ENV_PROJECT, ENV_URL, data_dir
from kttt_workflow.inputs import defaults
from kttt_workflow.orchestration.prefect_api import ensure_sweep_limit

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4200

# Server settings of the local stack (all exist in Prefect 3.9.1: prefect/settings/models/server/).
SERVER_SETTINGS: dict[str, str] = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "100",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_READ_BATCH_SIZE": "100",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL": "1",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_BATCH_SIZE": "100",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_READ_BATCH_SIZE": "100",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL": "1",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
}


class StackError(RuntimeError):
    """The local stack could not start (message in Vietnamese, for the terminal)."""


def project_dir() -> Path:
    """The project folder whose ``prefect.yaml``, ``flows/`` and ``automations/`` are served.

    ``$KTTT_PROJECT_DIR``; else the current folder if it holds a ``prefect.yaml``; else the source
    checkout the package runs from; else the copy an installed wheel ships.
    """
    env = os.environ.get(ENV_PROJECT)
    if env:
        return Path(env)
    cwd = Path.cwd()
    if (cwd / "prefect.yaml").is_file():
        return cwd
    found = defaults.checkout() or defaults.project_files()
    if found is None:
        raise StackError(
            "không tìm thấy thư mục dự án (cần tệp prefect.yaml và thư mục flows/): chạy lệnh trong "
            f"thư mục dự án hoặc đặt biến môi trường {ENV_PROJECT}"
        )
    return found


@dataclass(frozen=True)
class Stack:
    """Where the local stack lives and listens."""

    home: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT

    @classmethod
    def default(cls, home: Path | None = None, port: int = DEFAULT_PORT) -> Stack:
        return cls(home or data_dir(), DEFAULT_HOST, port)

    @property
    def prefect_home(self) -> Path:
        return self.home / "prefect"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.ui_url}/api"

    def client_env(self) -> dict[str, str]:
        """What a process needs to talk to this server (flows, ``kttt`` commands, workers)."""
        return {
            "PREFECT_HOME": str(self.prefect_home),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_UI_URL": self.ui_url,
            "KTTT_HOME": str(self.home),
        }

    def server_env(
        self, database_url: str | None = None, base: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env.update(self.client_env())
        env.update(SERVER_SETTINGS)
        env["PREFECT_SERVER_API_HOST"] = self.host
        env["PREFECT_SERVER_API_PORT"] = str(self.port)
        if database_url:  # production: PostgreSQL (postgresql+asyncpg://…)
            env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = database_url
        return env


# -- the server ----------------------------------------------------------------------------------
def is_healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as resp:  # noqa: S310
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def free_port(host: str = DEFAULT_HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def start_server(
    stack: Stack, *, database_url: str | None = None, timeout: float = 120.0
) -> subprocess.Popen[bytes]:
    """Start ``prefect server start`` for ``stack`` and wait until its API answers.

    The server's output goes to ``<prefect_home>/server.log``. Raises :class:`StackError` when the
    port is taken or the server does not come up in time (with the end of its log).
    """
    if port_in_use(stack.host, stack.port):
        raise StackError(
            f"cổng {stack.host}:{stack.port} đang được dùng; dùng --port khác, hoặc --no-server "
            "nếu đó là máy chủ Prefect đang chạy"
        )
    stack.prefect_home.mkdir(parents=True, exist_ok=True)
    log_path = stack.prefect_home / "server.log"
    log: IO[bytes] = open(log_path, "ab")  # noqa: SIM115 - handed to the subprocess
    cmd = [
        sys.executable,
        "-m",
        "prefect",
        "server",
        "start",
        "--host",
        stack.host,
        "--port",
        str(stack.port),
        "--analytics-off",
    ]
    proc = subprocess.Popen(
        cmd,
        env=stack.server_env(database_url),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=stack.prefect_home,
        start_new_session=True,  # its own process group: stopped as a whole, by its id
    )
    log.close()
    try:
        wait_healthy(stack.api_url, proc, timeout=timeout, log_path=log_path)
    except BaseException:
        stop_server(proc)
        raise
    return proc


def wait_healthy(
    api_url: str,
    proc: subprocess.Popen[bytes] | None = None,
    *,
    timeout: float = 120.0,
    log_path: Path | None = None,
) -> float:
    """Poll ``/api/health`` until it answers; returns the seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if is_healthy(api_url, timeout=1.0):
            return time.monotonic() - start
        if proc is not None and proc.poll() is not None:
            raise StackError(
                f"máy chủ Prefect dừng khi khởi động (mã {proc.returncode})\n" + _tail(log_path)
            )
        time.sleep(0.25)
    raise StackError(f"máy chủ Prefect không sẵn sàng sau {timeout:.0f} giây\n" + _tail(log_path))


def _tail(path: Path | None, lines: int = 30) -> str:
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def stop_server(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Stop the server we started (its process group, by its id): SIGTERM, then SIGKILL."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)
    except ProcessLookupError:
        pass


# -- deployments ----------------------------------------------------------------------------------
def read_prefect_yaml(path: Path | None = None) -> dict[str, Any]:
    """The deployments file of the project (default: ``prefect.yaml`` in :func:`project_dir`)."""
    path = path or project_dir() / "prefect.yaml"
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except FileNotFoundError:
        raise StackError(
            f"không tìm thấy tệp {path} (khai báo các triển khai và luồng công việc); chạy lệnh "
            f"trong thư mục dự án hoặc đặt biến môi trường {ENV_PROJECT}"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("deployments"), list):
        raise StackError(f"{path}: thiếu danh sách 'deployments'")
    return data


def load_flow(entrypoint: str, project: Path | None = None) -> Any:
    """The flow of an entrypoint of ``prefect.yaml`` (``flows/daily_sweep.py:daily_sweep``), loaded
    from the project folder the way Prefect loads it (as a script, not as an import of ours)."""
    from prefect.flows import load_flow_from_entrypoint

    base = project or project_dir()
    file, _, name = entrypoint.rpartition(":")
    path = base / file
    if not path.is_file():
        raise StackError(
            f"không tìm thấy luồng công việc '{entrypoint}' trong {base} (khai báo trong prefect.yaml)"
        )
    return load_flow_from_entrypoint(f"{path}:{name}", use_placeholder_flow=False)


def flows_by_name(path: Path | None = None) -> dict[str, Any]:
    """Every flow of ``prefect.yaml``, by deployment name (``daily-sweep`` → the flow)."""
    base = path.parent if path else project_dir()
    data = read_prefect_yaml(base / "prefect.yaml")
    return {spec["name"]: load_flow(spec["entrypoint"], base) for spec in data["deployments"]}


def schedules_of(spec: Mapping[str, Any]) -> list[Any]:
    from datetime import timedelta

    from prefect.schedules import Cron, Interval

    out = []
    for s in spec.get("schedules") or ():
        common: dict[str, Any] = {
            "timezone": s.get("timezone"),
            "active": bool(s.get("active", True)),
            "parameters": s.get("parameters") or {},
        }
        if s.get("cron"):
            out.append(Cron(s["cron"], day_or=bool(s.get("day_or", True)), **common))
        elif s.get("interval"):
            out.append(Interval(timedelta(seconds=float(s["interval"])), **common))
        else:
            raise StackError(f"lịch chạy không hỗ trợ: {dict(s)}")
    return out


def build_deployments(path: Path | None = None, names: Collection[str] | None = None) -> list[Any]:
    """One ``RunnerDeployment`` per entry of ``prefect.yaml`` (or only those in ``names``).

    Entrypoints are file paths relative to the project folder, which must be the current folder
    when the deployments are served (``run_stack`` changes to it).
    """
    from prefect.deployments.runner import EntrypointType

    data = read_prefect_yaml(path)
    base = path.parent if path else project_dir()
    out = []
    for spec in data["deployments"]:
        if names is not None and spec["name"] not in names:
            continue
        flow = load_flow(spec["entrypoint"], base)
        out.append(
            flow.to_deployment(
                name=spec["name"],
                description=spec.get("description"),
                tags=list(spec.get("tags") or []),
                parameters=spec.get("parameters") or {},
                schedules=schedules_of(spec),
                concurrency_limit=spec.get("concurrency_limit"),
                entrypoint_type=EntrypointType.FILE_PATH,
                paused=False,
            )
        )
    return out


# -- automations --------------------------------------------------------------------------------
def automation_specs(directory: Path | None = None) -> list[tuple[Path, dict[str, Any]]]:
    directory = directory or project_dir() / "automations"
    out = []
    for path in sorted(directory.glob("*.yaml")):
        with open(path, encoding="utf-8") as f:
            out.append((path, yaml.safe_load(f)))
    return out


def resolve_automation(spec: Mapping[str, Any], deployment_id: Callable[[str], str]) -> Any:
    """The automation of a file, with ``deployment: <flow>/<deployment>`` turned into its id."""
    from prefect.events.schemas.automations import AutomationCore

    data = dict(spec)
    actions = []
    for action in data.get("actions") or ():
        action = dict(action)
        if "deployment" in action:
            action["deployment_id"] = deployment_id(str(action.pop("deployment")))
            action.setdefault("source", "selected")
        actions.append(action)
    data["actions"] = actions
    return AutomationCore.model_validate(data)


def install_automations(directory: Path | None = None) -> list[str]:
    """Create (or replace, by name) every automation of ``automations/`` on the current server."""
    from prefect.client.orchestration import get_client

    names = []
    with get_client(sync_client=True) as client:

        def deployment_id(name: str) -> str:
            from prefect.exceptions import ObjectNotFound

            try:
                return str(client.read_deployment_by_name(name).id)
            except ObjectNotFound:
                raise StackError(
                    f"máy chủ Prefect chưa có triển khai '{name}' (chạy 'kttt serve' hoặc "
                    "'prefect deploy --all' trước)"
                ) from None

        for _, spec in automation_specs(directory):
            automation = resolve_automation(spec, deployment_id)
            for old in client.read_automations_by_name(automation.name):
                client.delete_automation(old.id)
            client.create_automation(automation)
            names.append(automation.name)
    return names


def ensure_limits() -> None:
    """The global concurrency limits the flows use (``kttt-sweep``: one sweep at a time)."""
    ensure_sweep_limit()


# -- the whole stack ------------------------------------------------------------------------------
def run_stack(
    stack: Stack,
    *,
    start: bool = True,
    database_url: str | None = None,
    prefect_database_url: str | None = None,
    echo: Callable[[str], None] = print,
) -> None:
    """``kttt serve``: start the server (unless ``start`` is False), then serve until interrupted."""
    project = project_dir()
    os.environ.update(stack.client_env())
    if database_url:
        os.environ[ENV_URL] = database_url
    os.environ.setdefault(ENV_PROJECT, str(project))
    # Entrypoints and relative paths in deployment parameters (``directives``) are the project's.
    os.chdir(project)
    deployments = build_deployments()  # a missing flow is said before any server starts
    proc = None
    if start:
        echo(f"Khởi động máy chủ Prefect tại {stack.ui_url} (dữ liệu: {stack.prefect_home}) …")
        proc = start_server(stack, database_url=prefect_database_url)
    elif not is_healthy(stack.api_url):
        raise StackError(f"không kết nối được máy chủ Prefect tại {stack.api_url}")
    try:
        from prefect import serve

        for d in deployments:
            d.apply()
        ensure_limits()
        automations = install_automations()
        echo(f"Giao diện Prefect: {stack.ui_url}")
        echo("Triển khai: " + ", ".join(f"{d.flow_name}/{d.name}" for d in deployments))
        if automations:
            echo("Tự động hóa: " + ", ".join(automations))
        from kttt_workflow.store.db import safe_url

        echo(f"Cơ sở dữ liệu nhiệm vụ: {safe_url(config.database_url())}")
        echo("Nhấn Ctrl+C để dừng.")
        serve(*deployments, print_starting_message=False)
    finally:
        if proc is not None:
            echo("Dừng máy chủ Prefect …")
            stop_server(proc)
