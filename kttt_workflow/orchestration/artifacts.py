"""The progress report as Prefect artifacts under stable keys, so the Prefect UI keeps each
directive's history across runs:

* ``progress-<directive>``: one row per unit (counts per status, denominator, percentages);
* ``overdue-<directive>``: the overdue tasks;
* ``report-<directive>``: the whole report in Vietnamese Markdown;
* ``progress-all``: one row per directive (when the report covers every directive);
* ``report-docx-<directive>``, ``report-xlsx-<directive>`` (``…-all`` for every directive):
  links to the .docx and .xlsx files the flow wrote under the data folder.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

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
        shown = [key, okey]
        targets = report.target_table(d.code)
        if targets:
            tkey = artifact_key("targets", d.code)
            create_table_artifact(
                key=tkey,
                table=targets,
                description=(
                    f"**{info.heading}** — chỉ tiêu định lượng, kết quả đạt được và tỷ lệ trên "
                    f"chỉ tiêu giao, tính đến ngày {day}."
                ),
            )
            shown.append(tkey)
            keys.append(tkey)
        rkey = artifact_key("report", d.code)
        links = [f"[{k}]({url})" for k in shown if (url := artifact_link(k)) is not None]
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


FILE_KINDS = {"docx": "Báo cáo (Word, .docx)", "xlsx": "Bảng theo dõi (Excel, .xlsx)"}


def report_file_name(report: ProgressReport, kind: str) -> str:
    """``bao-cao-kh-67-2013-2022-q4.docx``: what the report covers, and as of when."""
    parts = ["bao-cao", report.directive or "tong-hop", report.unit or report.level or ""]
    parts.append(report.period.code if report.period else f"{report.as_of:%Y-%m-%d}")
    return slug("-".join(p for p in parts if p)) + f".{kind}"


def publish_report_files(report: ProgressReport, files: dict[str, Path]) -> list[str]:
    """One link artifact per report file (``files``: kind → path), so that the run's page in
    the Prefect UI links the .docx and the .xlsx. Returns the keys."""
    from prefect.artifacts import create_link_artifact

    keys: list[str] = []
    when = report.period.label if report.period else f"tính đến ngày {report.as_of:%d/%m/%Y}"
    for kind, path in files.items():
        key = artifact_key(f"report-{kind}", report.directive)
        create_link_artifact(
            link=Path(path).resolve().as_uri(),
            link_text=f"{FILE_KINDS.get(kind, kind)}: {Path(path).name}",
            key=key,
            description=f"{report.subject} — {when}. Tệp trong thư mục dữ liệu: {path}",
        )
        keys.append(key)
    return keys
