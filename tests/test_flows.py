"""Flows run against a real (ephemeral test-harness) Prefect server; results read back from it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.test_load import copy_fixtures


@pytest.fixture(scope="module")
def prefect_server() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def test_load_directive_flow_loads_and_publishes_artifact(
    prefect_server: None, tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client

    from flows.load_directive import LoadParams, load_directive
    from kttt_workflow.api import Store

    folder = copy_fixtures(tmp_path)
    db = f"sqlite:///{tmp_path / 'flow.db'}"
    result = load_directive(
        LoadParams(paths=[str(folder)], database_url=db, until=date(2024, 12, 31))
    )
    assert result[0]["directive"] == "kh-1-2022" and result[0]["added"] == 17
    store = Store.open(db)
    assert len(store.status(as_of=date(2024, 12, 31), directive="kh-1-2022")) == 17
    store.close()

    import asyncio

    async def read_artifact() -> list[dict[str, object]]:
        async with get_client() as client:
            art = await client.read_latest_artifacts()
            return [a.model_dump() for a in art if a.key == "load-directive-summary"]

    arts = asyncio.run(read_artifact())
    assert arts, "the summary artifact is on the server"
    assert "kh-1-2022" in str(arts[0]["data"])
    shutil.rmtree(folder)
