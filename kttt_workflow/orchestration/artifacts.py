"""The progress report as Prefect artifacts under stable keys, so the Prefect UI keeps each
directive's history across runs. Keys name the directive's code and the symbol a leader knows
("tien-do-ctr-nq20-2022-20-nq-tw": the artifacts page's search, which matches keys, finds it by
"20-nq" or "tien-do"); every description leads with the as-of date.

Per directive:

* ``tien-do-…``: the leader's view (Markdown): seven columns (unit, due, done, overdue, most days
  overdue, % done of the tasks due with its denominator, a 🔴/🟠/🟢 state that names returned
  and awaiting reports), the units most behind first, a "Cộng" row; a chart of % done at each
  sweep date and one bar per unit (SVG images, :mod:`kttt_workflow.orchestration.charts`);
* ``bang-tien-do-…``: the same seven columns as a table ("Cộng" first: the UI pages tables);
* ``chi-tiet-…``: every count per unit (the full table); ``qua-han-…``: the overdue tasks;
  ``chi-tieu-…``: quantitative targets; ``bao-cao-…``: the whole report in Markdown;
* ``…-tat-ca``: the same across directives (one row per directive), when the report covers all;
* ``tep-docx-…``, ``tep-xlsx-…``: links to the .docx and .xlsx files the flow wrote.

A report dated before the one the UI shows as latest (a back-dated run) is published under keys
ending in ``-ngay-YYYY-MM-DD``, so it never replaces the latest view.

One publication makes one request for the latest views (every directive's at once) and sends its
artifacts on :data:`SENDERS` threads as they are built, each bound to the calling flow or task run
(the run context copied into the thread), and returns when all are created. Their order of
creation is not kept, and nothing depends on it: each key gets one version per publication, and
the run's Artifacts tab lists artifacts by id (random UUIDs), not by time.
"""

from __future__ import annotations

import contextvars
import re
import unicodedata
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kttt_workflow.domain.progress import (
    MARK_LATE,
    MARK_OK,
    MARK_WATCH,
    TOTAL,
    ProgressReport,
    UnitFlags,
    directive_names,
    fmt_int,
    fmt_pct,
    leader_table,
    short_name,
)
from kttt_workflow.orchestration import charts
from kttt_workflow.orchestration.prefect_api import artifact_link

if TYPE_CHECKING:
    from kttt_workflow.service import Tracker

_KEY_BAD = re.compile(r"[^a-z0-9-]+")
_AS_OF = re.compile(r"Tính đến ngày (\d{2})/(\d{2})/(\d{4})")
LEADER_ROWS = 15  # units in the leader's Markdown table besides those late or flagged
CHART_POINTS = 12
SENDERS = 4  # threads creating one publication's artifacts (the server handles one at a time)


def slug(text: str) -> str:
    """Lowercase ASCII letters, digits and dashes (Vietnamese letters lose their marks).

    >>> slug("KH-67/2013 (Sở Nội vụ)")
    'kh-67-2013-so-noi-vu'
    """
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub("-+", "-", _KEY_BAD.sub("-", text)).strip("-") or "x"


def artifact_key(
    prefix: str, code: str | None = None, symbol: str | None = None, day: date | None = None
) -> str:
    """A Prefect artifact key (lowercase letters, digits, dashes): the prefix, the directive's
    code (``tat-ca`` for all), its symbol when the code does not already say it, and the date of a
    back-dated report.

    >>> artifact_key("tien-do", "ctr-nq20-2022", "20-NQ/TW")
    'tien-do-ctr-nq20-2022-20-nq-tw'
    >>> artifact_key("qua-han", "kh-67-2013", "67/KH-UBND", date(2022, 12, 5))
    'qua-han-kh-67-2013-67-kh-ubnd-ngay-2022-12-05'
    >>> artifact_key("tien-do")
    'tien-do-tat-ca'
    """
    parts = [prefix, code or "tat-ca"]
    if symbol and code and slug(symbol) not in slug(code):
        parts.append(symbol)
    if day is not None:
        parts.append(f"ngay-{day:%Y-%m-%d}")
    return slug("-".join(parts))


def as_of_of(description: str | None) -> date | None:
    """The as-of date a description of ours leads with ("Tính đến ngày 06/02/2023 …")."""
    m = _AS_OF.search(description or "")
    return date(int(m.group(3)), int(m.group(2)), int(m.group(1))) if m else None


def _latest(key: str) -> Any:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    return arts[0] if arts else None


def latest_as_of(key: str) -> date | None:
    """The as-of date of the latest artifact under ``key`` on the Prefect server (None: none)."""
    art = _latest(key)
    return as_of_of(art.description) if art is not None else None


def latest_as_of_each(keys: list[str]) -> dict[str, date | None]:
    """:func:`latest_as_of` of every key in one request (the latest version of each key)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactCollectionFilter, ArtifactCollectionFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_latest_artifacts(
            artifact_filter=ArtifactCollectionFilter(key=ArtifactCollectionFilterKey(any_=keys))
        )
    shown = {a.key: as_of_of(a.description) for a in found}
    return {k: shown.get(k) for k in keys}


def latest_artifact_id(key: str) -> str | None:
    """The id of the latest artifact under ``key`` (its page shows the content)."""
    art = _latest(key)
    return str(art.id) if art is not None else None


def chart_dates(tracker: Tracker, as_of: date) -> list[date]:
    """One point per sweep date up to ``as_of`` (the last :data:`CHART_POINTS`), and ``as_of``;
    with fewer than three, month steps back from ``as_of``."""
    days = [d for d in tracker.sweep_dates(as_of) if d < as_of][-(CHART_POINTS - 1) :] + [as_of]
    step = 1
    while len(days) < 3 and step < 6:
        days.insert(0, as_of - timedelta(days=30 * step))
        step += 1
    return sorted(set(days))


class _Publisher:
    def __init__(
        self,
        report: ProgressReport,
        tracker: Tracker | None,
        latest: dict[str | None, date | None],
        pool: ThreadPoolExecutor,
    ) -> None:
        self.report = report
        self.tracker = tracker
        self.day = f"{report.as_of:%d/%m/%Y}"
        self.latest = latest  # the as-of date the UI shows, by directive (None: every directive)
        self.pool = pool
        self.sent: list[Future[Any]] = []
        self.flags: dict[tuple[str, str], UnitFlags] = (
            tracker.unit_flags(as_of=report.as_of, directive=report.directive) if tracker else {}
        )
        self.dates = chart_dates(tracker, report.as_of) if tracker else []
        self.series = tracker.done_series(self.dates, report.directive) if tracker else {}
        self.keys: list[str] = []

    def dated(self, code: str | None) -> date | None:
        """The report's date when it is older than the view the UI shows (for ``code``; None: the
        view of every directive), else None."""
        shown = self.latest.get(code)
        return self.report.as_of if shown is not None and self.report.as_of < shown else None

    def key(self, prefix: str, code: str | None) -> str:
        symbol = short_name(self.report.directives[code]) if code else None
        return artifact_key(prefix, code, symbol, self.dated(code))

    def send(self, create: Callable[..., Any], key: str, **content: Any) -> None:
        """Create the artifact on a sender thread, in a copy of this thread's run context (the
        flow or task run it belongs to)."""
        context = contextvars.copy_context()
        self.sent.append(self.pool.submit(lambda: context.run(create, key=key, **content)))
        self.keys.append(key)

    def table(self, key: str, rows: list[dict[str, Any]], description: str) -> None:
        from prefect.artifacts import create_table_artifact

        self.send(create_table_artifact, key, table=rows, description=description)

    def markdown(self, key: str, text: str, description: str) -> None:
        from prefect.artifacts import create_markdown_artifact

        self.send(create_markdown_artifact, key, markdown=text, description=description)

    def lead(self) -> str:
        return f"Tính đến ngày {self.day}"

    # -- charts ----------------------------------------------------------------------------------
    def trend(self, code: str | None, name: str) -> list[str]:
        if not self.series:
            return []
        points = [(d, pcts.get(code or "")) for d, pcts in self.series.items()]
        title = f"% đã xong/đến hạn theo ngày quét — {name}"
        svg = charts.line_chart(points, title)
        alt = "Biểu đồ " + title + ": " + "; ".join(f"{d:%d/%m/%Y} {fmt_pct(p)}" for d, p in points)
        return [charts.markdown_image(svg, alt), ""]

    def bars(self, rows: list[tuple[str, int, int, int]], title: str) -> list[str]:
        if not rows:
            return []
        alt = "Biểu đồ " + title
        return [charts.markdown_image(charts.bar_chart(rows, title), alt), ""]

    # -- the leader's view -----------------------------------------------------------------------
    def leader_markdown(
        self, code: str | None, heading: str, links: list[str], extra: list[str]
    ) -> str:
        """The first screen answers "who is late": the units late or flagged (most behind first),
        the "Cộng" row, then the chart; the units on track are counted, and listed in the
        linked tables."""
        r = self.report
        rows = leader_table(r, code, self.flags)
        body, total = rows[:-1], rows[-1]
        flagged = [x for x in body if not x["Tình trạng"].startswith(MARK_OK)]
        shown = flagged[:LEADER_ROWS]
        late = [x for x in body if x["Quá hạn"]]
        what = "văn bản" if code is None else "đơn vị"
        out = [
            f"**{fmt_int(len(late))}/{fmt_int(len(body))} {what} có nhiệm vụ quá hạn** "
            f"({fmt_int(total['Quá hạn'])} nhiệm vụ); đã xong {total['% xong/đến hạn']} nhiệm "
            "vụ đến hạn.",
            "",
        ]
        out += _markdown_table([*shown, total])  # the first column: "Đơn vị" or "Văn bản"
        rest = len(body) - len(shown)
        if rest:
            more = len(flagged) - len(shown)
            out += [
                "",
                f"Còn {fmt_int(rest)} {what} khác"
                + (f" ({fmt_int(more)} cần theo dõi)" if more else " đúng tiến độ")
                + ": xem bảng tiến độ.",
            ]
        out += ["", *self.trend(code, heading)]
        out += extra
        if links:
            out += ["Chi tiết: " + " · ".join(links), ""]
        out += [
            f"{MARK_LATE} Chậm: có nhiệm vụ quá hạn. {MARK_WATCH} Cần theo dõi: báo cáo bị trả lại, "
            f"chờ xác nhận hoặc đến hạn hôm nay. {MARK_OK} Đúng tiến độ. % xong/đến hạn: số "
            "nhiệm vụ đã hoàn thành trên số nhiệm vụ đã đến hạn.",
            "",
        ]
        return "\n".join(out)

    def link(self, key: str, text: str) -> str:
        url = artifact_link(key)
        return f"[{text}]({url})" if url else f"{text} (`{key}`)"

    def directive(self, code: str) -> None:
        r = self.report
        info, d = r.directives[code], r.directive_row(code)
        name = heading = short_name(info)
        keys = {p: self.key(p, code) for p in ("tien-do", "bang-tien-do", "chi-tiet", "qua-han",
                                                "chi-tieu", "bao-cao")}  # fmt: skip
        self.table(
            keys["bang-tien-do"],
            leader_table(r, code, self.flags, total_first=True),
            f"{self.lead()} — {name}: tiến độ theo đơn vị (đơn vị chậm nhất trước, dòng Cộng "
            f"đầu bảng); {fmt_int(d.overdue)} nhiệm vụ quá hạn.",
        )
        self.table(
            keys["chi-tiet"],
            r.unit_table(code),
            f"{self.lead()} — {name}: số liệu chi tiết theo đơn vị (mọi tình trạng). Tổng "
            f"{fmt_int(d.total)} nhiệm vụ; đến hạn {fmt_int(d.due)}; hoàn thành "
            f"{fmt_pct(d.done_pct)}, quá hạn {fmt_pct(d.overdue_pct)} (trên số đến hạn).",
        )
        self.table(
            keys["qua-han"],
            _overdue_rows(r.overdue_table(code))
            or [{"Đơn vị chủ trì": "Không có nhiệm vụ quá hạn", "Số ngày quá hạn": ""}],
            f"{self.lead()} — {name}: danh sách nhiệm vụ quá hạn ({fmt_int(d.overdue)}), quá "
            "hạn lâu nhất trước.",
        )
        shown = [("bang-tien-do", "bảng tiến độ"), ("chi-tiet", "số liệu chi tiết"),
                 ("qua-han", "nhiệm vụ quá hạn")]  # fmt: skip
        targets = r.target_table(code)
        if targets:
            self.table(
                keys["chi-tieu"],
                targets,
                f"{self.lead()} — {name}: chỉ tiêu định lượng, kết quả đạt được và tỷ lệ trên "
                "chỉ tiêu giao.",
            )
            shown.append(("chi-tieu", "chỉ tiêu định lượng"))
        links = [self.link(keys[p], text) for p, text in shown]
        bars = [
            (u.name, u.done_due, u.overdue, u.due - u.done_due - u.overdue)
            for u in sorted(r.unit_rows(code), key=lambda u: (-u.overdue, -u.due, u.name))
            if u.due
        ][:25]
        extra = self.bars(bars, f"Nhiệm vụ đến hạn theo đơn vị — {name}")
        self.markdown(
            keys["tien-do"],
            self.leader_markdown(
                code, heading, [*links, self.link(keys["bao-cao"], "báo cáo đầy đủ")], extra
            ),
            f"{self.lead()} — {name}: tiến độ theo đơn vị, "
            f"{fmt_int(len([u for u in r.unit_rows(code) if u.overdue]))} đơn vị có nhiệm vụ quá hạn",
        )
        markdown = (
            r.to_markdown(code) + "\nBảng trong giao diện Prefect: " + ", ".join(links) + "\n"
        )
        self.markdown(keys["bao-cao"], markdown, f"{self.lead()} — báo cáo {name} ({info.title})")

    def everything(self) -> None:
        r = self.report
        t = r.total_row()
        names = directive_names(r)
        keys = {p: self.key(p, None) for p in ("tien-do", "chi-tiet")}
        self.table(
            keys["chi-tiet"],
            [{"Văn bản": names[x.code], **x.table_row({"Mã": x.code})} for x in r.directive_rows()],
            f"{self.lead()} — số liệu chi tiết theo văn bản chỉ đạo.",
        )
        links = [self.link(keys["chi-tiet"], "số liệu chi tiết theo văn bản")]
        for x in r.directive_rows():
            links.append(self.link(self.key("tien-do", x.code), names[x.code]))
        bars = [
            (
                names[x.code],
                x.done_due,
                x.overdue,
                x.due - x.done_due - x.overdue,
            )
            for x in r.directive_rows()
            if x.due
        ]
        self.markdown(
            keys["tien-do"],
            self.leader_markdown(
                None,
                f"{fmt_int(len(r.directive_rows()))} văn bản chỉ đạo",
                links,
                self.bars(bars, "Nhiệm vụ đến hạn theo văn bản"),
            ),  # fmt: skip
            f"{self.lead()} — tiến độ mọi văn bản chỉ đạo: {fmt_int(t.overdue)} nhiệm vụ quá hạn",
        )


def _overdue_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The overdue list with who and how long first (what fits the first screen)."""
    order = ("Đơn vị chủ trì", "Số ngày quá hạn", "Hạn", "Nội dung", "Trọng tâm", "Mã nhiệm vụ",
             "Thời hạn (văn bản ghi)")  # fmt: skip
    out = []
    for row in rows:
        item = {k: row[k] for k in order if k in row}
        content = str(item.get("Nội dung", ""))
        item["Nội dung"] = (
            content if len(content) <= 120 else content[:119].rsplit(" ", 1)[0] + " …"
        )
        out.append(item)
    return out


def _markdown_table(rows: list[dict[str, Any]]) -> list[str]:
    cols = list(rows[0])
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in rows:
        cells = [str(r[c]).replace("|", "\\|") for c in cols]
        if r[cols[0]] == TOTAL:
            cells = [f"**{c}**" for c in cells]
        out.append("| " + " | ".join(cells) + " |")
    return out


def publish_progress(report: ProgressReport, tracker: Tracker | None = None) -> list[str]:
    """Every artifact of ``report`` (called from a flow; ``tracker`` gives the chart's points and
    each unit's most days overdue and returned reports). Returns the keys."""
    codes = [d.code for d in report.directive_rows()]
    views: dict[str | None, str] = {
        c: artifact_key("tien-do", c, short_name(report.directives[c])) for c in codes
    }
    if report.directive is None:
        views[None] = artifact_key("tien-do")
    shown = latest_as_of_each(list(views.values()))
    latest = {c: shown[k] for c, k in views.items()}
    with ThreadPoolExecutor(SENDERS, thread_name_prefix="kttt-artifacts") as pool:
        pub = _Publisher(report, tracker, latest, pool)
        for code in codes:
            pub.directive(code)
        if report.directive is None:
            pub.everything()
    for sent in pub.sent:  # all are done: the first error, if any
        sent.result()
    return pub.keys


FILE_KINDS = {"docx": "Báo cáo (Word, .docx)", "xlsx": "Bảng theo dõi (Excel, .xlsx)"}


def report_file_name(report: ProgressReport, kind: str) -> str:
    """``bao-cao-kh-67-2013-2022-q4.docx``: what the report covers, and as of when."""
    parts = [
        "bao-cao",
        report.directive or "tong-hop",
        report.unit or report.level or report.within or "",
    ]
    parts.append(report.period.code if report.period else f"{report.as_of:%Y-%m-%d}")
    return slug("-".join(p for p in parts if p)) + f".{kind}"


def publish_report_files(report: ProgressReport, files: dict[str, Path]) -> list[str]:
    """One link artifact per report file (``files``: kind → path), so that the run's page in
    the Prefect UI links the .docx and the .xlsx. Returns the keys. The description names the
    file, not the folder it is in (a machine path)."""
    from prefect.artifacts import create_link_artifact

    keys: list[str] = []
    when = f"Tính đến ngày {report.as_of:%d/%m/%Y}" + (
        f" ({report.period.label})" if report.period else ""
    )
    symbol = short_name(report.directives[report.directive]) if report.directive else None
    for kind, path in files.items():
        key = artifact_key(f"tep-{kind}", report.directive, symbol)
        create_link_artifact(
            link=Path(path).resolve().as_uri(),
            link_text=f"{FILE_KINDS.get(kind, kind)}: {Path(path).name}",
            key=key,
            description=f"{when} — {report.subject}: tệp {Path(path).name} "
            "trong thư mục báo cáo của dữ liệu",
        )
        keys.append(key)
    return keys
