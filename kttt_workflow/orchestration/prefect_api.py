"""Small conversations with the Prefect API that the flows and ``kttt serve`` share: run tags, the
UI's address, links to artifacts, and the global concurrency limit of the sweep.

Prefect is imported inside each function: ``PREFECT_API_URL`` and ``PREFECT_HOME`` must be in the
environment before Prefect reads its settings.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

SWEEP_LIMIT = "kttt-sweep"  # the global concurrency limit that keeps two sweeps from overlapping


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


def unit_tag(code: str) -> str:
    return f"unit:{code}"


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


# -- run names (in Vietnamese, with their date and subject) -------------------------------------
def run_param(name: str, default: Any = None) -> Any:
    """A field of the current flow run's ``params`` (a model when called from Python, a dict when
    the run came from a deployment), for a ``flow_run_name`` callable."""
    from prefect.runtime import flow_run

    params = (flow_run.parameters or {}).get("params")
    if params is None:
        return default
    value = (
        params.get(name, default) if isinstance(params, dict) else getattr(params, name, default)
    )
    return default if value in (None, "") else value


def vn_date(value: Any) -> str:
    """``05/12/2022`` from a date or an ISO string; today (Hà Nội) when empty."""
    from datetime import date

    from kttt_workflow.config import Config

    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value or Config.from_env().today():%d/%m/%Y}"


def rename_run(name: str) -> None:
    """Give the current flow run a new name (once the store has told its subject)."""
    from prefect.client.orchestration import get_client
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    if ctx is None or ctx.flow_run is None or ctx.flow_run.name == name:
        return
    with get_client(sync_client=True) as client:
        client.update_flow_run(ctx.flow_run.id, name=name)
    ctx.flow_run.name = name
