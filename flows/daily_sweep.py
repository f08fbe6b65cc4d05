"""``daily-sweep``: escalate and notify as of today (or a given date), then publish progress.

Skip days off → (one slot of the ``kttt-sweep`` limit) record the notices due and build one digest
per unit (one Prefect task: ``Tracker.sweep(send=False)``, set-based SQL) → deliver (its own
Prefect task, retried with backoff) → events; the progress report and its artifacts are built
and published meanwhile, on a thread of the run (they read the tasks, not the outbox).

Two sweeps never overlap: the global concurrency limit ``kttt-sweep`` (1 slot) and the deployment's
``concurrency_limit: 1``. If they did, the ledger's unique key would still keep every notice once.
"""

from __future__ import annotations

import contextvars
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import date
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency
from prefect.runtime import task_run
from prefect.states import Completed, Failed, State
from prefect.tasks import exponential_backoff
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from kttt_workflow.domain.progress import ProgressReport
from kttt_workflow.orchestration import events
from kttt_workflow.orchestration.artifacts import publish_progress
from kttt_workflow.orchestration.prefect_api import (
    SWEEP_LIMIT,
    ensure_sweep_limit,
    rename_run,
    run_param,
    vn_date,
)
from kttt_workflow.service import Tracker
from kttt_workflow.store.facts import Fact


class SweepParams(BaseModel):
    """Form shown by the Prefect UI for a run of this flow."""

    as_of: date | None = Field(
        default=None, title="Ngày quét", description="Để trống: hôm nay (giờ Việt Nam)."
    )
    force: bool = Field(
        default=False,
        title="Quét cả ngày nghỉ",
        description="Mặc định ngày nghỉ, ngày lễ, Tết không quét (lịch ngày làm việc).",
    )
    send: bool = Field(default=True, title="Gửi thông báo", description="Tắt: chỉ ghi sổ.")
    retry_failed: bool = Field(
        default=False,
        title="Gửi lại ngay bản lỗi",
        description="Gửi lại ngay các bản tổng hợp lỗi trước đó, không chờ hết thời gian chờ.",
    )
    delivery_retries: int = Field(default=3, ge=0, le=10, title="Số lần thử lại khi gửi lỗi")
    delivery_retry_delay: float = Field(
        default=30.0,
        ge=0,
        title="Thời gian chờ trước lần thử lại đầu (giây)",
        description="Gấp đôi sau mỗi lần, có dao động ngẫu nhiên.",
    )
    publish_progress: bool = Field(
        default=True, title="Cập nhật bảng tiến độ", description="Bảng tiến độ trong giao diện."
    )
    # Configuration, not a form field: the store is KTTT_DATABASE_URL (or $KTTT_HOME/kttt.db);
    # tests pass their own, and it is never stored with the run's parameters.
    database_url: SkipJsonSchema[str | None] = Field(default=None, exclude=True)
    secret_blocks: list[str] = Field(
        default_factory=list,
        title="Khối Secret của Prefect",
        description="Tên các khối Secret chứa mật khẩu, token của địa chỉ nhận; khối 'kttt-smtp-pass' "
        "cung cấp biến ${KTTT_SMTP_PASS} cho các địa chỉ trong danh mục đơn vị.",
    )


def export_secret_blocks(names: list[str]) -> list[str]:
    """Make Prefect Secret blocks available as the ``${VAR}`` placeholders of unit targets.

    The block ``kttt-smtp-pass`` becomes ``KTTT_SMTP_PASS`` in this process's environment; values
    are never logged (only the variable names are returned).
    """
    from prefect.blocks.system import Secret

    exported = []
    for name in names:
        var = name.upper().replace("-", "_")
        os.environ[var] = str(Secret.load(name).get())  # type: ignore[union-attr]
        exported.append(var)
    return exported


class DeliveryIncomplete(RuntimeError):
    """Some digests could not be delivered yet (the Prefect task retries them)."""


@task(name="record-notices", cache_policy=NO_CACHE)
def record_notices(tracker: Tracker, as_of: date) -> tuple[dict[str, Any], list[Fact]]:
    """Decide and record the notices due, build one digest per unit (no sending)."""
    mark = tracker.watermark()  # the sweep's notices come after it: their read is a range
    r = tracker.sweep(as_of=as_of, send=False, force=True)  # the flow has decided the day
    facts = tracker.notice_facts(r.sweep_id, mark.notices) if r.sweep_id is not None else []
    summary = {
        "as_of": as_of.isoformat(),
        "sweep_id": r.sweep_id,
        "notices": r.notices,
        "by_role": r.by_role,
        "deliveries": len(r.deliveries),
    }
    return summary, facts


@task(
    name="deliver",
    retries=3,
    retry_delay_seconds=exponential_backoff(30),
    retry_jitter_factor=0.5,
    cache_policy=NO_CACHE,
)
def deliver(tracker: Tracker, force: bool) -> dict[str, int]:
    """Send what is due in the outbox; a retry of this task retries the failed digests at once."""
    retrying = int(task_run.run_count or 1) > 1
    mark = tracker.watermark()
    sent = tracker.deliver(force=force or retrying)
    events.emit(tracker.delivery_facts(mark.attempts))
    if sent.failed or sent.timeout:
        raise DeliveryIncomplete(
            f"{sent.failed} bản tổng hợp gửi lỗi, {sent.timeout} quá thời gian chờ "
            f"(đã gửi {sent.sent}, hộp thư cục bộ {sent.local})"
        )
    return asdict(sent)


@task(name="build-report", cache_policy=NO_CACHE)
def build_report(tracker: Tracker, as_of: date) -> ProgressReport:
    return tracker.progress(as_of=as_of)


def _deliver(
    tracker: Tracker, params: SweepParams
) -> tuple[dict[str, Any] | None, State[Any] | None]:
    """The deliver task (with the run's retry settings): what it sent, or its failed state."""
    if not params.send:
        return None, None
    state = deliver.with_options(
        retries=params.delivery_retries,
        retry_delay_seconds=exponential_backoff(params.delivery_retry_delay)
        if params.delivery_retry_delay
        else 0,
    )(tracker, params.retry_failed, return_state=True)
    if state.is_completed():
        return state.result(), None
    return None, state


def _run_name() -> str:
    return f"Quét ngày {vn_date(run_param('as_of'))}"


@flow(name="daily-sweep", log_prints=False, flow_run_name=_run_name)
def daily_sweep(params: SweepParams | None = None) -> dict[str, Any] | State[Any]:
    """Skip days off → record notices → deliver (retried), the progress artifacts meanwhile →
    events.

    Args:
        params: Ngày quét, gửi thông báo, cập nhật bảng tiến độ.
    """
    params = params or SweepParams()
    logger = get_run_logger()
    with Tracker.open(params.database_url) as tracker:
        as_of = params.as_of or tracker.today()
        rename_run(f"Quét ngày {as_of:%d/%m/%Y}")
        day_off = None if params.force else tracker.day_off(as_of)
        if day_off:
            logger.info("%s: không quét (chọn 'Quét cả ngày nghỉ' để quét).", day_off)
            return Completed(message=f"{day_off}: không quét")
        if params.secret_blocks:
            exported = export_secret_blocks(params.secret_blocks)
            logger.info("Biến bí mật từ khối Secret: %s", ", ".join(exported))
        ensure_sweep_limit()
        with ThreadPoolExecutor(1, thread_name_prefix="kttt-progress") as progress:
            with concurrency(SWEEP_LIMIT, occupy=1):
                summary, facts = record_notices(tracker, as_of)
                # The leaders' view reads the tasks, not the outbox: it is built and published
                # while the digests are sent (and retried), in a copy of the run's context, so
                # its task run and artifacts belong to this flow run.
                published_view = (
                    progress.submit(
                        contextvars.copy_context().run,
                        lambda: publish_progress(build_report(tracker, as_of), tracker),
                    )
                    if params.publish_progress
                    else None
                )
                delivered, failed_state = _deliver(tracker, params)
            published = events.emit(
                facts, names=tracker.directive_names({f.directive for f in facts if f.directive})
            )
            logger.info(
                "Quét tại ngày %s: %s thông báo mới, %s bản tổng hợp; %s sự kiện",
                f"{as_of:%d/%m/%Y}",
                summary["notices"],
                summary["deliveries"],
                published,
            )
            if published_view is not None:
                published_view.result()  # its error, if any, is the run's
    result = {**summary, "sent": delivered, "events": published}
    words = (
        f"Quét ngày {as_of:%d/%m/%Y}: {summary['notices']} thông báo mới, "
        f"{summary['deliveries']} bản tổng hợp"
    )
    if failed_state is not None:
        return Failed(
            message=f"Gửi thông báo chưa xong sau {params.delivery_retries} lần thử lại: "
            f"{failed_state.message}",
            data=result,
        )
    if delivered:
        words += f" (đã gửi {delivered['sent']}, hộp thư cục bộ {delivered['local']})"
    return Completed(message=words + ".", data=result)


if __name__ == "__main__":
    daily_sweep()
