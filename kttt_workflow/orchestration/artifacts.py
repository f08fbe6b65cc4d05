"""The progress report as Prefect artifacts under stable keys, so the Prefect UI keeps each
directive's history across runs:

* ``progress-<directive>``: one row per unit (counts per status, denominator, percentages);
* ``overdue-<directive>``: the overdue tasks;
* ``report-<directive>``: the whole report in Vietnamese Markdown;
* ``progress-all``: one row per directive (when the report covers every directive).
"""

from __future__ import annotations

import re
import unicodedata

from kttt_workflow.domain.progress import ProgressReport, fmt_pct
from kttt_workflow.orchestration.prefect_api import artifact_link

_KEY_BAD = re.compile(r"[^a-z0-9-]+")


def slug(text: str) -> str:
    """Lowercase ASCII letters, digits and dashes (Vietnamese letters lose their marks).

    >>> slug("KH-67/2013 (Sở Nội vụ)")
    'kh-67-2013-so-noi-vu'
    """
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return _KEY_BAD.sub("-", text).strip("-") or "x"


def artifact_key(prefix: str, code: str | None = None) -> str:
    """A stable Prefect artifact key such as ``progress-kh-1-2022`` (``progress-all`` for all).

    Prefect keys allow only lowercase letters, digits and dashes, so dots, slashes and
    underscores of directive codes become dashes.

    >>> artifact_key("progress", "ctr-nq20.2022")
    'progress-ctr-nq20-2022'
    """
    return f"{slug(prefix)}-{slug(code) if code else 'all'}"


def publish_progress(report: ProgressReport) -> list[str]:
    """Table and Markdown artifacts of ``report`` (called from a flow). Returns the keys."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

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
