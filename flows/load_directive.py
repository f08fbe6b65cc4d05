"""``load-directive``: validate and load YAML directives, publish a summary artifact.

Per-row work (the fan-out of thousands of tasks) happens inside ONE Prefect task, as set-based SQL
in ``Tracker.load``; there is never one Prefect task run per domain task.
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, Field

from kttt_workflow.errors import InputError
from kttt_workflow.orchestration import events
from kttt_workflow.orchestration.prefect_api import add_run_tags, directive_tag
from kttt_workflow.service import Tracker
from kttt_workflow.store.facts import Fact


class LoadParams(BaseModel):
    """Form shown by the Prefect UI for a run of this flow."""

    paths: list[str] = Field(
        default=["directives"],
        title="Tệp hoặc thư mục YAML",
        description="Đường dẫn trên máy chạy luồng (tương đối: thư mục dự án).",
    )
    database_url: str | None = Field(
        default=None,
        title="URL cơ sở dữ liệu",
        description="Để trống để dùng KTTT_DATABASE_URL hoặc mặc định.",
    )
    until: date | None = Field(
        default=None,
        title="Sinh kỳ lặp đến ngày",
        description="Mặc định: hết năm nay.",
    )


@task(name="validate-and-load", cache_policy=NO_CACHE)
def validate_and_load(
    tracker: Tracker, params: LoadParams
) -> tuple[list[dict[str, object]], list[Fact]]:
    """One transaction for all files; then the tasks it activated (children of done tasks)."""
    mark = tracker.watermark()
    result = tracker.load(params.paths, until=params.until)
    facts = tracker.history_facts(mark.history, kinds=("activated",))
    return [s.as_dict() for s in result.directives], facts


@flow(name="load-directive", log_prints=False)
def load_directive(params: LoadParams | None = None) -> list[dict[str, object]]:
    """Validate → load (one transaction) → events → artifact of what changed."""
    params = params or LoadParams()
    logger = get_run_logger()
    with Tracker.open(params.database_url) as tracker:
        try:
            summaries, facts = validate_and_load(tracker, params)
        except InputError as e:
            for issue in e.issues:
                logger.error(str(issue))
            raise
    rows = [
        {
            "Văn bản": s["directive"],
            "Tổng nhiệm vụ": s["total"],
            "Thêm": s["added"],
            "Sửa": s["changed"],
            "Bỏ": s["removed"],
            "Khôi phục": s["restored"],
        }
        for s in summaries
    ]
    add_run_tags(*(directive_tag(str(s["directive"])) for s in summaries if s["total"]))
    events.emit(facts)
    create_table_artifact(
        key="load-directive-summary", table=rows, description="Kết quả nạp văn bản chỉ đạo"
    )
    for s in summaries:
        logger.info(
            "%s: %s nhiệm vụ, thêm %s, sửa %s, bỏ %s",
            s["directive"],
            s["total"],
            s["added"],
            s["changed"],
            s["removed"],
        )
    return summaries


if __name__ == "__main__":
    load_directive()
