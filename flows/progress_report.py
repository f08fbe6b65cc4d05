"""``progress-report``: the consolidated report for one directive or all, as of a date.

Build (one Prefect task: a single ``GROUP BY`` in ``kttt_workflow.report``) → publish artifacts
under stable keys, so the Prefect UI keeps each directive's history across runs:

* ``progress-<directive>``: one row per unit (counts per status, denominator, percentages);
* ``overdue-<directive>``: the overdue tasks;
* ``report-<directive>``: the whole report in Vietnamese Markdown;
* ``progress-all``: one row per directive (when the report covers every directive).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from pydantic import BaseModel, Field

from flows._common import add_run_tags, artifact_link, directive_tag, office_today, open_store
from kttt_workflow.report import ProgressReport, artifact_key, fmt_pct, progress


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


@task(name="build-report")
def build_report(database_url: str | None, as_of: date, directive: str | None) -> ProgressReport:
    with open_store(database_url) as store:
        return progress(store, as_of, directive)


def publish_progress(report: ProgressReport) -> list[str]:
    """Table and Markdown artifacts of ``report`` (called from a flow). Returns the keys."""
    day = f"{report.as_of:%d/%m/%Y}"
    keys: list[str] = []
    for d in report.directive_rows():
        info = report.directives[d.code]
        key = artifact_key("progress", d.code)
        create_table_artifact(
            key=key,
            table=report.unit_table(d.code),
            description=(
                f"**{info.heading}** — tiến độ theo đơn vị, tính đến ngày {day}. "
                f"Tổng {d.total} nhiệm vụ; đến hạn {d.due}; hoàn thành {fmt_pct(d.done_pct)}, "
                f"quá hạn {fmt_pct(d.overdue_pct)} (trên số đến hạn)."
            ),
        )
        okey = artifact_key("overdue", d.code)
        create_table_artifact(
            key=okey,
            table=report.overdue_table(d.code)
            or [{"Mã nhiệm vụ": "", "Đơn vị chủ trì": "Không có nhiệm vụ quá hạn"}],
            description=f"**{info.heading}** — nhiệm vụ quá hạn tính đến ngày {day} ({d.overdue}).",
        )
        rkey = artifact_key("report", d.code)
        links = [f"[{k}]({url})" for k in (key, okey) if (url := artifact_link(k)) is not None]
        markdown = report.to_markdown(d.code)
        if links:
            markdown += "\nBảng trong giao diện Prefect: " + ", ".join(links) + "\n"
        create_markdown_artifact(
            key=rkey,
            markdown=markdown,
            description=f"Báo cáo {info.symbol or d.code} tính đến ngày {day}",
        )
        keys += [key, okey, rkey]
    if report.directive is None:
        key = artifact_key("progress")
        create_table_artifact(
            key=key,
            table=report.directive_table(),
            description=f"Tiến độ theo văn bản chỉ đạo, tính đến ngày {day}.",
        )
        keys.append(key)
    return keys


@flow(name="progress-report", log_prints=False)
def progress_report(params: ReportParams | None = None) -> dict[str, Any]:
    """Build the report → publish the progress, overdue and Markdown artifacts."""
    params = params or ReportParams()
    as_of = params.as_of or office_today()
    if params.directive:
        add_run_tags(directive_tag(params.directive))
    report = build_report(params.database_url, as_of, params.directive)
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
