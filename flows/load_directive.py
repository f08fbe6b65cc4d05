"""``load-directive``: validate and load YAML directives, publish a summary artifact.

Per-row work (the fan-out of thousands of tasks) happens inside ONE Prefect task, as set-based SQL
in ``Tracker.load``; there is never one Prefect task run per domain task.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, State
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from kttt_workflow.errors import InputError
from kttt_workflow.orchestration import events
from kttt_workflow.orchestration.prefect_api import add_run_tags, directive_tag, run_param, vn_date
from kttt_workflow.service import Tracker
from kttt_workflow.store.facts import Fact


class LoadParams(BaseModel):
    """Form shown by the Prefect UI for a run of this flow."""

    paths: list[str] = Field(
        default=["directives"],
        title="Tệp hoặc thư mục YAML",
        description="Đường dẫn trên máy chạy luồng (tương đối: thư mục dự án).",
    )
    # Configuration, not a form field: the store is KTTT_DATABASE_URL (or $KTTT_HOME/kttt.db);
    # tests pass their own, and it is never stored with the run's parameters.
    database_url: SkipJsonSchema[str | None] = Field(default=None, exclude=True)
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


def _run_name() -> str:
    paths = run_param("paths") or ["directives"]
    shown = ", ".join(str(p).rstrip("/").rsplit("/", 1)[-1] for p in paths[:3])
    return f"Nạp văn bản chỉ đạo: {shown}" + ("…" if len(paths) > 3 else "")


@flow(name="load-directive", log_prints=False, flow_run_name=_run_name)
def load_directive(params: LoadParams | None = None) -> list[dict[str, object]] | State[Any]:
    """Validate → load (one transaction) → events → artifact of what changed.

    Args:
        params: Tệp hoặc thư mục YAML cần nạp.
    """
    params = params or LoadParams()
    logger = get_run_logger()
    with Tracker.open(params.database_url) as tracker:
        try:
            summaries, facts = validate_and_load(tracker, params)
        except InputError as e:
            for issue in e.issues:
                logger.error(str(issue))
            raise
        names = tracker.directive_names(str(s["directive"]) for s in summaries)
    rows = [
        {
            "Văn bản": names.get(str(s["directive"]), str(s["directive"])),
            "Mã": s["directive"],
            "Tổng nhiệm vụ": s["total"],
            "Thêm": s["added"],
            "Sửa": s["changed"],
            "Bỏ": s["removed"],
            "Khôi phục": s["restored"],
        }
        for s in summaries
    ]
    add_run_tags(*(directive_tag(str(s["directive"])) for s in summaries if s["total"]))
    events.emit(facts, names=names)
    create_table_artifact(
        key="nap-van-ban",
        table=rows,
        description=f"Ngày {vn_date(None)} — kết quả nạp văn bản chỉ đạo: "
        + ", ".join(str(r["Văn bản"]) for r in rows),
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
    changed = sum(
        int(str(s["added"])) + int(str(s["changed"])) + int(str(s["removed"])) for s in summaries
    )
    message = f"Đã nạp {len(summaries)} văn bản chỉ đạo; " + (
        f"{changed} nhiệm vụ thêm, sửa hoặc bỏ." if changed else "không có thay đổi."
    )
    return Completed(message=message, data=summaries)


if __name__ == "__main__":
    load_directive()
