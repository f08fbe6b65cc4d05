"""A pytest plugin (registered by ``tests/conftest.py``): one real Prefect server (with its UI)
for the whole test session, started the way ``kttt serve`` starts it
(``kttt_workflow.orchestration.stack.start_server``), and helpers that read back what flows
published to it.

The server starts the first time a test asks for ``prefect_stack`` and stops at the end of the
session; a run that asks for it nowhere (``pytest tests/unit``) starts nothing and does not even
import Prefect. Under pytest-xdist each worker is a session of its own, with its own server.

The readers (``wait_for``, ``read_events``, ``latest_artifact``, ``flow_run``) stay here, beside the
server they read from; test modules import them from this module. Helpers that need no Prefect
(``copy_fixtures``, ``loaded_db``, ...) are in ``tests/helpers.py``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from kttt_workflow.orchestration.stack import Stack, free_port, start_server, stop_server

T = TypeVar("T")


@pytest.fixture(scope="session")
def prefect_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A Prefect server on 127.0.0.1 (free port, fresh SQLite database); PREFECT_API_URL set."""
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

    from kttt_workflow.orchestration.events import flush

    root: Path = tmp_path_factory.mktemp("prefect")
    stack = Stack(root / "kttt-home", port=free_port())
    proc = start_server(stack)
    saved = {k: os.environ.get(k) for k in ("PREFECT_API_URL", "PREFECT_UI_URL")}
    try:
        with temporary_settings(
            updates={PREFECT_API_URL: stack.api_url, PREFECT_UI_URL: stack.ui_url}
        ):
            os.environ["PREFECT_API_URL"] = stack.api_url  # for subprocesses (kttt serve)
            os.environ["PREFECT_UI_URL"] = stack.ui_url
            try:
                yield stack
            finally:
                flush(timeout=5)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        stop_server(proc)


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
