"""Every dated fact of the unit registries names its source where users see it.

Since the 2025 reform the successor links and the end dates of ``directives/units`` decide who is
notified, so each must be traceable: a unit with a ``valid_from``, a ``valid_to`` or a
``successor`` has a ``note`` (Vietnamese; users see it) that cites at least one identified
document, symbol and date ("Nghị quyết số 202/2025/QH15 ngày 12/6/2025 …"), and that says the date
the registry uses. A decision whose number is not known may be mentioned beside it, marked "cần
xác nhận"; it does not count as a source.
"""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from kttt_workflow.domain.registry import UnitInfo
from kttt_workflow.inputs.validate import load_inputs
from kttt_workflow.service import Tracker
from kttt_workflow.store import tables as T
from tests.helpers import DIRECTIVES, is_nfc

# A document named by its kind, its number and symbol, and its date:
# "Nghị quyết số 1658/NQ-UBTVQH15 ngày 16/6/2025", "Kết luận số 121-KL/TW ngày 24/01/2025",
# "Nghị định số 45/2025/NĐ-CP ngày 28/02/2025".
SOURCE = re.compile(
    r"\b(?:Nghị quyết|Nghị định|Kết luận|Quyết định|Quy định|Thông tư|Luật)\s+số\s+"
    r"[0-9]+(?:/[0-9]{4})?[/-][A-ZĐ][A-ZĐ0-9-]*(?:/[A-ZĐ][A-ZĐ0-9-]*)?"
    r"\s+ngày\s+[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}\b"
)


def dated(unit: UnitInfo) -> bool:
    return unit.valid_from is not None or unit.valid_to is not None or unit.successor is not None


def unsourced(units: dict[str, UnitInfo]) -> list[str]:
    """Codes of the units with a date or a successor whose note cites no identified document."""
    return sorted(c for c, u in units.items() if dated(u) and not SOURCE.search(u.note or ""))


def written(day: date) -> re.Pattern[str]:
    """``day`` as notes write it: 1/7/2025 or 01/07/2025."""
    return re.compile(rf"\b0?{day.day}/0?{day.month}/{day.year}\b")


def test_every_dated_unit_cites_its_source() -> None:
    units = load_inputs([DIRECTIVES]).registry.units
    # The 2025 reform: 21 district units of Tuyên Quang, the 35 units of Bắc Giang and the new Bắc
    # Ninh, Hậu Giang's UBND and Cần Thơ's.
    assert sum(dated(u) for u in units.values()) >= 58
    assert unsourced(units) == []


def test_each_note_says_the_date_the_registry_uses() -> None:
    """The note of a unit that ends says when it ends (its last day or the day after); the note of
    a unit that begins says when it begins."""
    units = load_inputs([DIRECTIVES]).registry.units
    wrong = []
    for code, u in sorted(units.items()):
        note = u.note or ""
        if u.valid_to is not None and not (
            written(u.valid_to).search(note) or written(u.valid_to + timedelta(days=1)).search(note)
        ):
            wrong.append((code, "valid_to", u.valid_to))
        if u.valid_from is not None and not written(u.valid_from).search(note):
            wrong.append((code, "valid_from", u.valid_from))
    assert wrong == []


def test_the_notes_name_the_documents_of_the_2025_reform() -> None:
    units = load_inputs([DIRECTIVES]).registry.units
    # Bắc Giang and Hậu Giang end with the provincial arrangement of the National Assembly.
    for code in ("bg-ubnd", "bg-tinh-uy", "bg-hdnd", "hg-ubnd"):
        assert "Nghị quyết số 202/2025/QH15 ngày 12/6/2025" in (units[code].note or ""), code
    # The district level ends on 1/7/2025, in both provinces.
    for code in ("ubnd-yen-son", "huyen-uy-na-hang", "ttbdct-ham-yen", "huyen-uy-hiep-hoa"):
        assert "Nghị quyết số 203/2025/QH15 ngày 16/6/2025" in (units[code].note or ""), code
    # The earlier 2025 steps: the department merger and the Party bodies.
    assert "Nghị định số 45/2025/NĐ-CP ngày 28/02/2025" in (units["bg-so-kh-dt"].note or "")
    assert "19/02/2025" in (units["bg-so-kh-dt"].note or "")
    for code in ("bg-bcsd-ubnd", "bg-ban-tuyen-giao", "bg-dang-doan-hdnd"):
        assert "Kết luận số 121-KL/TW ngày 24/01/2025" in (units[code].note or ""), code
    assert "Nghị quyết số 1668/NQ-UBTVQH15" in (units["ct-ubnd"].note or "")


def test_an_unsourced_end_date_is_caught(tmp_path: Path) -> None:
    """The check above fails on a new end date or successor that names no document."""
    copy = shutil.copytree(DIRECTIVES, tmp_path / "directives")
    registry = copy / "units" / "trung-uong.yaml"
    text = registry.read_text(encoding="utf-8")
    added = {
        "x-giai-the": "Giải thể năm 2025.",
        "x-chua-ro-so": "Sáp nhập theo nghị quyết của HĐND tỉnh ngày 19/02/2025 (số hiệu cần xác nhận).",
        "x-khong-ghi-chu": None,
    }
    extra = "".join(
        f"  - code: {code}\n    name: Đơn vị thử {i}\n    level: trung-uong\n"
        f"    valid_to: 2025-06-30\n    successor: chinh-phu\n    targets: []\n"
        + (f"    note: {note}\n" if note else "")
        for i, (code, note) in enumerate(added.items())
    )
    registry.write_text(text.replace("\ngroups: []", "\n" + extra + "\ngroups: []"), "utf-8")
    units = load_inputs([copy]).registry.units
    assert set(added) <= set(units)
    assert unsourced(units) == sorted(added)


def test_the_store_keeps_the_notes_as_written(loaded: Tracker) -> None:
    """What a coordinator reads from the store is the note of the file, sources included."""
    expected = {c: u.note for c, u in load_inputs([DIRECTIVES]).registry.units.items() if dated(u)}
    with loaded.engine.connect() as conn:
        rows = conn.execute(
            select(T.unit_t.c.code, T.unit_t.c.note).where(T.unit_t.c.code.in_(expected))
        ).all()
    assert dict(rows) == expected
    assert all(is_nfc(n or "") for n in expected.values())
