"""The defects of the adversarial pass (issue "Nothing lost, nothing misassigned, nobody let in"):
each test failed before its fix. SQLite and PostgreSQL where the store is involved."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from kttt_workflow.errors import InputError
from kttt_workflow.service import Tracker
from tests.helpers import PLAN, UNITS, snapshot, sub, write


def _issues(store: Tracker, paths: list[Path]) -> list[str]:
    before = snapshot(store)
    with pytest.raises(InputError) as e:
        store.load(paths)
    assert snapshot(store) == before  # nothing written
    return [str(i) for i in e.value.issues]


# -- 2. names that resolve to several units ---------------------------------------------------
_SECOND_REGISTRY = """kind: registry
levels:
  - {code: huyen, name: Cấp huyện}
units:
  - code: y-ubnd-a
    name: UBND huyện A
    level: huyen
"""


def test_a_lead_named_by_an_ambiguous_name_is_an_error_listing_the_candidates(
    store: Tracker, tmp_path: Path
) -> None:
    # Two registries both call a unit "UBND huyện A"; the plan names its lead by that name.
    plan = sub(PLAN, "lead: UBND các huyện", "lead: UBND huyện A")
    files = write(
        tmp_path, {"units.yaml": UNITS, "other.yaml": _SECOND_REGISTRY, "plan.yaml": plan}
    )
    [issue] = [i for i in _issues(store, files) if "plan.yaml" in i]
    assert "tên 'UBND huyện A' ứng với nhiều đơn vị hoặc nhóm" in issue
    assert "x-ubnd-a (UBND huyện A)" in issue and "y-ubnd-a (UBND huyện A)" in issue
    # Named by its code, the same lead loads.
    write(tmp_path, {"plan.yaml": sub(PLAN, "lead: UBND các huyện", "lead: x-ubnd-a")})
    store.load(files)


@pytest.mark.parametrize(
    "alias",
    [
        "UBND huyện B",  # another unit's name
        "ubnd HUYỆN   b",  # a case and spacing variant of it
        unicodedata.normalize("NFD", "UBND huyện B"),  # the same letters, decomposed
    ],
)
def test_a_name_used_twice_in_one_registry_is_an_error(
    store: Tracker, tmp_path: Path, alias: str
) -> None:
    units = sub(
        UNITS, "    name: UBND huyện A\n", f"    name: UBND huyện A\n    aliases: [{alias}]\n"
    )
    [issue] = _issues(store, write(tmp_path, {"units.yaml": units}))
    # Reported where the second unit carries the name (x-ubnd-b is declared after x-ubnd-a).
    assert "units.yaml:27:11:" in issue
    assert "tên 'UBND huyện B' đã dùng cho x-ubnd-a trong cùng danh mục" in issue


def test_a_successor_may_take_over_its_predecessors_name(store: Tracker, tmp_path: Path) -> None:
    """Validity periods that do not overlap: a name reused after the first unit ceased. A
    directive names the unit that carried the name on its date."""
    units = sub(
        UNITS,
        "groups:\n",
        "  - code: x-ubnd-d\n    name: UBND huyện D\n    level: huyen\n    parent: x-ubnd\n"
        "    valid_to: 2021-12-31\n    successor: x-ubnd-e\n"
        "  - code: x-ubnd-e\n    name: UBND huyện E\n    aliases: [UBND huyện D]\n"
        "    level: huyen\n    parent: x-ubnd\n    valid_from: 2022-01-01\n"
        "groups:\n",
    )
    plan = sub(PLAN, "lead: UBND các huyện", "lead: UBND huyện D")  # the plan is of 03/10/2022
    store.load(write(tmp_path, {"units.yaml": units, "plan.yaml": plan}))
    leads = {s.unit for s in store.status(directive="kh-1-2022") if s.task_key == "2"}
    assert leads == {"x-ubnd-e"}  # the unit that carried the name on the plan's date


# -- 6. a deadline before the document's own date ---------------------------------------------
def test_a_deadline_before_the_document_date_is_an_error_unless_noted(
    store: Tracker, tmp_path: Path
) -> None:
    plan = sub(PLAN, "deadline: Quý IV/2022", "deadline: trước ngày 15/01/2020")
    [issue] = _issues(store, write(tmp_path, {"units.yaml": UNITS, "plan.yaml": plan}))
    assert "plan.yaml:" in issue
    assert "thời hạn 14/01/2020 trước ngày ban hành văn bản (03/10/2022)" in issue
    noted = sub(
        plan,
        "deadline: trước ngày 15/01/2020",
        "deadline: trước ngày 15/01/2020\n    note: Văn bản ghi đúng như vậy (chép lại lịch sử).",
    )
    write(tmp_path, {"plan.yaml": noted})
    store.load([tmp_path / "units.yaml", tmp_path / "plan.yaml"])
