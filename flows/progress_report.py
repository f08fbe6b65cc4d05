"""``progress-report``: the consolidated report for one directive or all, as of a date or for a
reporting period (Nghị định 09/2019/NĐ-CP).

Build (one Prefect task: the ``GROUP BY``s of ``Tracker.progress``) → publish artifacts under
stable keys (:mod:`kttt_workflow.orchestration.artifacts`), so the Prefect UI keeps each
directive's history across runs → write the .docx and .xlsx under the data folder
(``$KTTT_HOME/reports``) and link them from the run (link artifacts).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, State
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from kttt_workflow.domain.progress import ProgressReport, fmt_int, fmt_pct, short_name
from kttt_workflow.orchestration.artifacts import (
    publish_progress,
    publish_report_files,
    report_file_name,
)
from kttt_workflow.orchestration.prefect_api import (
    add_run_tags,
    directive_tag,
    rename_run,
    run_param,
    vn_date,
)
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
    period: str | None = Field(
        default=None,
        title="Kỳ báo cáo",
        description="2022-M11 (tháng), 2022-Q4 (quý), 2022-H2 (6 tháng) hoặc 2022 (năm); số "
        "liệu chốt từ ngày 15 tháng trước kỳ đến ngày 14 tháng cuối kỳ. Để trống: theo ngày tính.",
    )
    regime: str | None = Field(
        default=None,
        title="Thời hạn gửi báo cáo định kỳ",
        description="Ví dụ 'trước ngày 20 của tháng cuối kỳ báo cáo'; để trống: ngày 25.",
    )
    files: bool = Field(
        default=True,
        title="Lập tệp Word và Excel",
        description="Ghi báo cáo .docx và bảng theo dõi .xlsx vào thư mục dữ liệu, kèm liên kết.",
    )
    # Configuration, not a form field: the store is KTTT_DATABASE_URL (or $KTTT_HOME/kttt.db);
    # tests pass their own, and it is never stored with the run's parameters.
    database_url: SkipJsonSchema[str | None] = Field(default=None, exclude=True)


@task(name="build-report", cache_policy=NO_CACHE)
def build_report(
    tracker: Tracker,
    as_of: date | None,
    directive: str | None,
    period: str | None = None,
    regime: str | None = None,
) -> ProgressReport:
    return tracker.progress(as_of=as_of, directive=directive, period=period, regime=regime)


@task(name="write-report-files", cache_policy=NO_CACHE)
def write_report_files(tracker: Tracker, report: ProgressReport) -> dict[str, Path]:
    """The .docx and the .xlsx of ``report`` under the data folder's ``reports/``."""
    folder = tracker.reports_folder()
    return {
        kind: tracker.write_report(report, folder / report_file_name(report, kind), kind)
        for kind in ("docx", "xlsx")
    }


def _run_name() -> str:
    period = run_param("period")
    when = f"kỳ {period}" if period else f"tại {vn_date(run_param('as_of'))}"
    return f"Báo cáo tiến độ {run_param('directive', 'mọi văn bản')} {when}"


@flow(name="progress-report", log_prints=False, flow_run_name=_run_name)
def progress_report(params: ReportParams | None = None) -> dict[str, Any] | State[Any]:
    """Build the report → publish the progress, overdue and Markdown artifacts → write the
    .docx and .xlsx files and link them.

    Args:
        params: Văn bản chỉ đạo, ngày tính hoặc kỳ báo cáo.
    """
    params = params or ReportParams()
    if params.directive:
        add_run_tags(directive_tag(params.directive))
    with Tracker.open(params.database_url) as tracker:
        as_of = params.as_of or (None if params.period else tracker.today())
        report = build_report(tracker, as_of, params.directive, params.period, params.regime)
        subject = (
            short_name(report.directives[params.directive]) if params.directive else "mọi văn bản"
        )
        when = f"kỳ {report.period.label}" if report.period else f"tại {report.as_of:%d/%m/%Y}"
        rename_run(f"Báo cáo tiến độ {subject} {when}")
        files = write_report_files(tracker, report) if params.files else {}
        keys = publish_progress(report, tracker) + publish_report_files(report, files)
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
    total = report.total_row()
    message = (
        f"Báo cáo tiến độ {subject} {when}: {fmt_int(total.total)} nhiệm vụ, đến hạn "
        f"{fmt_int(total.due)}, hoàn thành {fmt_pct(total.done_pct)} số đến hạn, quá hạn "
        f"{fmt_int(total.overdue)}."
    )
    return Completed(
        message=message,
        data={
            "as_of": report.as_of.isoformat(),
            "period": report.period.code if report.period else None,
            "artifacts": keys,
            "files": {kind: str(path) for kind, path in files.items()},
            "directives": {d.code: d.as_json() for d in report.directive_rows()},
        },
    )


if __name__ == "__main__":
    progress_report()
