"""``load-directive``: validate and load YAML directives, publish a summary artifact.

Per-row work (the fan-out of thousands of tasks) happens inside ONE Prefect task, as set-based SQL
in ``Store.load``; there is never one Prefect task run per domain task.
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel, Field

from flows._common import add_run_tags, directive_tag, open_store
from kttt_workflow import events
from kttt_workflow.spec.errors import InputError


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


@task(name="validate-and-load")
def validate_and_load(params: LoadParams) -> tuple[list[dict[str, object]], list[events.Fact]]:
    """One transaction for all files; then the tasks it activated (children of done tasks)."""
    with open_store(params.database_url) as store:
        mark = events.watermark(store.engine)
        _, summaries = store.load(params.paths, until=params.until)
        with store.engine.connect() as conn:
            facts = events.history_facts(conn, mark.history, kinds=("activated",))
    return [s.as_dict() for s in summaries], facts


@flow(name="load-directive", log_prints=False)
def load_directive(params: LoadParams | None = None) -> list[dict[str, object]]:
    """Validate → load (one transaction) → events → artifact of what changed."""
    params = params or LoadParams()
    logger = get_run_logger()
    try:
        summaries, facts = validate_and_load(params)
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
