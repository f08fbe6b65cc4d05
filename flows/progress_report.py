"""``progress-report``: the consolidated report for one directive or all, as of a date.

Build (one Prefect task: a single ``GROUP BY`` in ``Tracker.progress``) → publish artifacts under
stable keys (:mod:`kttt_workflow.orchestration.artifacts`), so the Prefect UI keeps each
directive's history across runs.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, Field

from kttt_workflow.domain.progress import ProgressReport, fmt_pct
from kttt_workflow.orchestration.artifacts import publish_progress
from kttt_workflow.orchestration.prefect_api import add_run_tags, directive_tag
from kttt_workflow.service import Tracker


class ReportParams(BaseModel):
    """Form shown by the Prefect UI for a run of this flow."""

    as_of: date | None = Field(
        default=None,
        title="Tính đến ngày",
        description="Để trống: hôm nay (giờ Việt Nam).",
    )
    directive: str | None = Field(
        default=None,
        title="Mã văn bản chỉ đạo",
        description="Ví dụ ctr-nq20-2022; để trống để báo cáo mọi văn bản.",
    )
    database_url: str | None = Field(
        default=None,
        title="URL cơ sở dữ liệu",
        description="Để trống để dùng KTTT_DATABASE_URL hoặc mặc định.",
    )


@task(name="build-report", cache_policy=NO_CACHE)
def build_report(tracker: Tracker, as_of: date, directive: str | None) -> ProgressReport:
    return tracker.progress(as_of=as_of, directive=directive)


@flow(name="progress-report", log_prints=False)
def progress_report(params: ReportParams | None = None) -> dict[str, Any]:
    """Build the report → publish the progress, overdue and Markdown artifacts."""
    params = params or ReportParams()
    if params.directive:
        add_run_tags(directive_tag(params.directive))
    with Tracker.open(params.database_url) as tracker:
        as_of = params.as_of or tracker.today()
        report = build_report(tracker, as_of, params.directive)
    keys = publish_progress(report)
    logger = get_run_logger()
    for d in report.directive_rows():
        logger.info(
            "%s: %s nhiệm vụ, đến hạn %s, hoàn thành %s, quá hạn %s",
            d.code,
            d.total,
            d.due,
            fmt_pct(d.done_pct),
            d.overdue,
        )
    return {
        "as_of": as_of.isoformat(),
        "artifacts": keys,
        "directives": {d.code: d.as_json() for d in report.directive_rows()},
    }


if __name__ == "__main__":
    progress_report()
