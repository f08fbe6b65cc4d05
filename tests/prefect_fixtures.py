"""One real Prefect server (with its UI) for the whole test session, started the way ``kttt serve``
starts it (``kttt_workflow.orchestration.stack.start_server``); helpers to read back what flows published.

Test modules import the fixtures they use from here. Whichever module asks first starts the
server; the others reuse it (the state is module-global, so it is one server per session even
though pytest registers an imported fixture once per module).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pytest

from kttt_workflow.orchestration.stack import Stack, free_port, start_server, stop_server

FIX = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent
UNTIL = date(2024, 12, 31)
T = TypeVar("T")

_STATE: dict[str, Any] = {"users": 0}


def _start(root: Path) -> Stack:
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

    stack = Stack(root / "kttt-home", port=free_port())
    proc = start_server(stack)
    settings = temporary_settings(
        updates={PREFECT_API_URL: stack.api_url, PREFECT_UI_URL: stack.ui_url}
    )
    settings.__enter__()
    saved = {k: os.environ.get(k) for k in ("PREFECT_API_URL", "PREFECT_UI_URL")}
    os.environ["PREFECT_API_URL"] = stack.api_url  # for subprocesses (kttt serve)
    os.environ["PREFECT_UI_URL"] = stack.ui_url
    _STATE.update(stack=stack, proc=proc, settings=settings, saved=saved)
    return stack


def _stop() -> None:
    from kttt_workflow.orchestration.events import flush

    flush(timeout=5)
    for k, v in _STATE.pop("saved").items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    _STATE.pop("settings").__exit__(None, None, None)
    stop_server(_STATE.pop("proc"))
    _STATE.pop("stack")


@pytest.fixture(scope="session")
def prefect_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A Prefect server on 127.0.0.1 (free port, fresh SQLite database); PREFECT_API_URL set."""
    if "stack" not in _STATE:
        _start(tmp_path_factory.mktemp("prefect"))
    _STATE["users"] += 1
    yield _STATE["stack"]
    _STATE["users"] -= 1
    if _STATE["users"] == 0:
        _stop()


def copy_fixtures(dest: Path) -> Path:
    d = dest / "in"
    d.mkdir(parents=True, exist_ok=True)
    for name in ("units.yaml", "plan.yaml"):
        shutil.copy(FIX / name, d / name)
    return d


def loaded_db(tmp_path: Path, name: str = "kttt.db") -> str:
    """A SQLite store with the fixture directive ``kh-1-2022`` loaded (recurrences to 2024)."""
    from kttt_workflow.service import Tracker

    url = f"sqlite:///{tmp_path / name}"
    store = Tracker.open(url)
    store.load([copy_fixtures(tmp_path)], until=UNTIL)
    store.close()
    return url


def wait_for(fn: Callable[[], T | None], timeout: float = 30.0, every: float = 0.3) -> T:
    """Poll ``fn`` until it returns something truthy (events and automations are asynchronous)."""
    start = time.monotonic()
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() - start > timeout:
            raise AssertionError(f"nothing after {timeout:.0f}s")
        time.sleep(every)


def read_events(
    names: list[str],
    *,
    related: str | None = None,
    resource: str | None = None,
    since_minutes: int = 60,
) -> list[Any]:
    """Events by name prefix (and any involved resource / primary resource id), all pages."""
    from datetime import UTC, datetime, timedelta

    from prefect.client.orchestration import get_client
    from prefect.events.filters import (
        EventAnyResourceFilter,
        EventFilter,
        EventNameFilter,
        EventOccurredFilter,
        EventResourceFilter,
    )

    now = datetime.now(UTC)
    flt = EventFilter(
        occurred=EventOccurredFilter(
            since=now - timedelta(minutes=since_minutes), until=now + timedelta(minutes=5)
        ),
        event=EventNameFilter(prefix=names),
        any_resource=EventAnyResourceFilter(id=[related]) if related else None,
        resource=EventResourceFilter(id=[resource]) if resource else None,
    )
    out: list[Any] = []
    with get_client(sync_client=True) as client:
        page = client.read_events(filter=flt, limit=50)
        out += page.events
        while page.next_page:
            page = client.read_events_page(str(page.next_page))
            out += page.events
    return out


def latest_artifact(key: str) -> Any:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    return arts[0] if arts else None


def flow_run(flow_run_id: Any) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id)
