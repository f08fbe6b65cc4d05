"""What every flow shares: opening the store, today's date in Vietnam, run tags, UI links."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date, datetime
from zoneinfo import ZoneInfo

from kttt_workflow.api import Store

OFFICE_TZ = "Asia/Ho_Chi_Minh"
SWEEP_LIMIT = "kttt-sweep"  # the global concurrency limit that keeps two sweeps from overlapping


@contextmanager
def open_store(url: str | None) -> Iterator[Store]:
    """The store at ``url`` (else ``$KTTT_DATABASE_URL``, else the embedded SQLite file)."""
    store = Store.open(url)
    try:
        yield store
    finally:
        store.close()


def office_today() -> date:
    """Today in the offices' time zone: a sweep at 07:00 in Hà Nội is 00:00 UTC, still "yesterday"
    on a server whose clock is UTC."""
    return datetime.now(ZoneInfo(os.environ.get("KTTT_TIMEZONE") or OFFICE_TZ)).date()


def add_run_tags(*tags: str) -> None:
    """Add tags to the current flow run (e.g. ``directive:kh-1-2022``) so the UI can filter by them."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    if ctx is None or ctx.flow_run is None:
        return
    current = list(ctx.flow_run.tags or [])
    new = [t for t in dict.fromkeys(tags) if t and t not in current]
    if not new:
        return
    with get_client(sync_client=True) as client:
        client.update_flow_run(ctx.flow_run.id, tags=[*current, *new])
    ctx.flow_run.tags = [*current, *new]


def directive_tag(code: str) -> str:
    return f"directive:{code}"


def ui_url() -> str | None:
    """The Prefect UI's address (``PREFECT_UI_URL``, inferred from ``PREFECT_API_URL``)."""
    from prefect.settings import PREFECT_UI_URL

    value = PREFECT_UI_URL.value()
    return str(value).rstrip("/") if value else None


def artifact_link(key: str) -> str | None:
    base = ui_url()
    return f"{base}/artifacts/key/{key}" if base else None


def ensure_sweep_limit() -> None:
    """Create the ``kttt-sweep`` global concurrency limit (1 slot) if the server has none yet."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(SWEEP_LIMIT)
            return
        except ObjectNotFound:
            pass
        with suppress(ObjectAlreadyExists):  # another sweep created it first
            client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=SWEEP_LIMIT, limit=1)
            )
