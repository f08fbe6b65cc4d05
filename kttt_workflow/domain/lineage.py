"""Document lineage: the plan a unit issues *is* its completion of the parent's "issue a plan" task.

A directive that ``implements`` another closes the parent's tasks that its issuer leads (or
answers for, as successor or by reassignment) and whose deliverable is a document: a plan, a
programme, a resolution… This module holds the pure rules: which deliverables are documents, which
of the candidate tasks are meant, and the evidence text written for the automatic report.
The SQL side is :mod:`kttt_workflow.store.lineage`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kttt_workflow.domain.progress import DOC_TYPES
from kttt_workflow.domain.text import fold

# The Vietnamese name of each document type, as an evidence text starts ("Kế hoạch số …").
TYPE_NAMES = DOC_TYPES

# A deliverable that starts with one of these words is a document a lower level issues to
# implement the parent (folded: no diacritics, lower case). "Báo cáo" is not one: a report on
# implementation is not the implementing document.
DOCUMENT_WORDS = (
    "ke hoach",
    "chuong trinh",
    "nghi quyet",
    "quyet dinh",
    "chi thi",
    "de an",
    "van ban",
    "ket luan",
    "huong dan",
    "cong van",
)

# The words that name each document type in a deliverable, to choose between several candidates.
_TYPE_WORDS = {
    "resolution": ("nghi quyet",),
    "conclusion": ("ket luan",),
    "instruction": ("chi thi",),
    "action_programme": ("chuong trinh",),
    "plan": ("ke hoach",),
    "decision": ("quyet dinh", "de an"),
    "official_letter": ("cong van", "van ban", "huong dan"),
}

AUTOMATIC_NOTE = "Ghi nhận tự động khi nạp văn bản thực hiện '{code}'."


def is_document(deliverable: str | None, title: str = "") -> bool:
    """Whether a task's product is a document (its deliverable, else its title, says so)."""
    text = fold(deliverable or title or "")
    return any(text.startswith(w) for w in DOCUMENT_WORDS) or (
        not deliverable and fold(title).startswith("ban hanh")
    )


@dataclass(frozen=True)
class Candidate:
    """A task of the parent led (or answered for) by the implementing document's issuer."""

    task_id: str
    task_key: str
    deliverable: str | None
    title: str
    state: str


def choose(
    candidates: Sequence[Candidate], doc_type: str, explicit: Sequence[str]
) -> tuple[list[Candidate], str | None]:
    """The candidates the implementing document completes, and a problem (Vietnamese) if the
    choice is not clear.

    ``explicit`` (the reference's ``completes``) names the parent's task keys; otherwise the tasks
    whose product is a document, narrowed to those naming the document's own type when that
    leaves some, and only when that leaves exactly one task (several: nothing is completed and
    the problem says to name them).
    """
    if explicit:
        wanted = set(explicit)
        return [c for c in candidates if c.task_key in wanted], None
    docs = [c for c in candidates if is_document(c.deliverable, c.title)]
    words = _TYPE_WORDS.get(doc_type, ())
    typed = [c for c in docs if any(fold(c.deliverable or c.title).startswith(w) for w in words)]
    pick = typed or docs
    keys = sorted({c.task_key for c in pick})
    if len(keys) > 1:
        return [], (
            "có nhiều nhiệm vụ ban hành văn bản (" + ", ".join(keys) + "): ghi «completes» "
            "trong «implements» để chọn nhiệm vụ được hoàn thành"
        )
    return pick, None


def evidence_text(doc_type: str, symbol: str | None, issued_on: date | None, title: str) -> str:
    """The evidence an automatic report carries: "Kế hoạch số 28/KH-UBND ngày 04/02/2021"."""
    name = TYPE_NAMES.get(doc_type, "Văn bản")
    parts = [name]
    if symbol:
        parts.append(f"số {symbol}")
    if issued_on:
        parts.append(f"ngày {issued_on.day:02d}/{issued_on.month:02d}/{issued_on.year}")
    if not symbol:
        parts.append(title)
    return " ".join(parts)


@dataclass(frozen=True)
class Issued:
    """The implementing document a unit reported for a task (its completion evidence)."""

    evidence: str
    symbol: str | None
    issued_on: date | None
    reported_on: date
    verified: bool
    automatic: bool  # recorded by loading the implementing directive


@dataclass(frozen=True)
class CoverageRow:
    """One unit's instance of a parent's "issue a document" task, as of a date."""

    task_id: str
    task_key: str
    title: str
    unit: str  # who answers for it on the date ("… (kế thừa từ …)")
    due: date | None
    status: str
    status_label: str
    days_overdue: int
    issued: Issued | None

    @property
    def outcome(self) -> str:
        """ "Đã ban hành, đúng hạn" / "… trễ hạn N ngày" / "Chờ xác nhận" / "Chưa ban hành"."""
        if self.issued is None:
            if self.status == "unit_dissolved":
                return "Chưa ban hành (đơn vị đã giải thể, chưa có đơn vị kế thừa)"
            if self.days_overdue:
                return f"Chưa ban hành (quá hạn {self.days_overdue} ngày)"
            return "Chưa ban hành"
        if not self.issued.verified:
            return "Đã báo cáo, chờ xác nhận"
        day = self.issued.issued_on or self.issued.reported_on
        if self.due is not None and day > self.due:
            return f"Đã ban hành, trễ hạn {(day - self.due).days} ngày"
        return "Đã ban hành, đúng hạn" if self.due is not None else "Đã ban hành"


@dataclass(frozen=True)
class Coverage:
    """``kttt coverage``: which units have issued their implementing document for a directive."""

    directive: str
    symbol: str | None
    title: str
    as_of: date
    rows: list[CoverageRow]
    every_task: bool = False  # every task, not only those whose product is a document

    @property
    def issued(self) -> int:
        return sum(1 for r in self.rows if r.issued is not None and r.issued.verified)

    @property
    def summary(self) -> str:
        """ "3/12 đơn vị đã ban hành văn bản thực hiện (mẫu số: 12 nhiệm vụ ban hành văn bản)"."""
        n = len(self.rows)
        waiting = sum(1 for r in self.rows if r.issued is not None and not r.issued.verified)
        text = (
            f"{self.issued}/{n} nhiệm vụ đã có văn bản thực hiện được xác nhận "
            f"(mẫu số: {n} nhiệm vụ {'' if self.every_task else 'ban hành văn bản '}"
            "của các đơn vị)"
        )
        return text + (f"; {waiting} báo cáo chờ xác nhận" if waiting else "")

    def as_json(self) -> dict[str, object]:
        return {
            "directive": self.directive,
            "symbol": self.symbol,
            "as_of": self.as_of.isoformat(),
            "issued": self.issued,
            "total": len(self.rows),
            "rows": [
                {
                    "task_id": r.task_id,
                    "task": r.task_key,
                    "unit": r.unit,
                    "due": r.due.isoformat() if r.due else None,
                    "status": r.status,
                    "outcome": r.outcome,
                    "document": r.issued.evidence if r.issued else None,
                    "document_symbol": r.issued.symbol if r.issued else None,
                    "document_date": (
                        r.issued.issued_on.isoformat() if r.issued and r.issued.issued_on else None
                    ),
                    "automatic": bool(r.issued and r.issued.automatic),
                }
                for r in self.rows
            ],
        }
