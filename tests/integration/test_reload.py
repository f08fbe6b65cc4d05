"""Reloads that cost nothing (issue 12, point 2), on SQLite and PostgreSQL: a file the store holds
unchanged, under the same registry, policies, horizon, calendar and fan-out rules, is skipped
without reading the registry or fanning out; anything that may change its fan-out is not."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import event, select

from kttt_workflow.service import Tracker
from kttt_workflow.store import tables as T
from tests.helpers import UNTIL, copy_fixtures, count, sub

PLAN = "kh-1-2022"


def _statements(store: Tracker, action: object) -> list[str]:
    """The SQL statements ``action()`` sends (to see that a skipped load writes nothing)."""
    seen: list[str] = []

    def log(conn: object, cursor: object, statement: str, *rest: object) -> None:
        seen.append(statement.split()[0].upper())

    event.listen(store.engine, "before_cursor_execute", log)
    try:
        action()  # type: ignore[operator]
    finally:
        event.remove(store.engine, "before_cursor_execute", log)
    return seen


def test_an_unchanged_directive_file_is_skipped_without_writing(
    store: Tracker, tmp_path: Path
) -> None:
    folder = copy_fixtures(tmp_path)
    store.load([folder], until=UNTIL)
    loads = count(store, T.load_t)
    result = None

    def again() -> None:
        nonlocal result
        result = store.load([folder / "plan.yaml"], until=UNTIL)

    sent = _statements(store, again)
    assert result is not None
    [s] = result.directives
    assert (s.directive, s.unchanged, s.total, s.changed_anything) == (PLAN, 17, 17, False)
    assert not {"INSERT", "UPDATE", "DELETE"} & set(sent)  # nothing written
    assert len([x for x in sent if x == "SELECT"]) <= 4  # no registry read, no fan-out
    assert count(store, T.load_t) == loads


def test_a_registry_change_is_not_skipped(store: Tracker, tmp_path: Path) -> None:
    folder = copy_fixtures(tmp_path)
    store.load([folder], until=UNTIL)
    units = folder / "units.yaml"
    text = units.read_text(encoding="utf-8")
    text = sub(text, "members: [x-ubnd-a, x-ubnd-b, x-ubnd-c]", "members: [x-ubnd-a, x-ubnd-b]")
    units.write_text(text, encoding="utf-8")
    store.load([units], until=UNTIL)  # the registry alone: the plan is not reloaded yet
    [s] = store.load([folder / "plan.yaml"], until=UNTIL).directives
    # Tasks 2 ("UBND các huyện") and 3 (yearly 2022–2024) lost huyện C: its 1 + 3 tasks go.
    assert s.removed == 4 and s.load_id is not None
    assert sorted(s.removed_ids)[0] == f"{PLAN}/2/x-ubnd-c"


def test_a_longer_horizon_is_not_skipped(store: Tracker, tmp_path: Path) -> None:
    folder = copy_fixtures(tmp_path)
    store.load([folder], until=UNTIL)
    [s] = store.load([folder / "plan.yaml"], until=date(2025, 12, 31)).directives
    assert s.added == 3  # the 2025 reports of the three districts


def test_going_back_to_an_earlier_version_of_a_file_is_not_skipped(
    store: Tracker, tmp_path: Path
) -> None:
    folder = copy_fixtures(tmp_path)
    plan = folder / "plan.yaml"
    v1 = plan.read_text(encoding="utf-8")
    store.load([folder], until=UNTIL)
    plan.write_text(
        sub(v1, "title: Tuyên truyền", "title: Tuyên truyền, phổ biến"), encoding="utf-8"
    )
    store.load([plan], until=UNTIL)
    plan.write_text(v1, encoding="utf-8")
    [s] = store.load([plan], until=UNTIL).directives
    assert s.changed == 1
    with store.engine.connect() as conn:
        title = conn.execute(
            select(T.task_t.c.title).where(T.task_t.c.id == f"{PLAN}/4/x-so-khdt")
        ).scalar_one()
    assert title == "Tuyên truyền"


def test_a_removed_directive_is_restored_by_its_unchanged_file(
    store: Tracker, tmp_path: Path
) -> None:
    folder = copy_fixtures(tmp_path)
    store.load([folder], until=UNTIL)
    store.remove_directive(PLAN, "Nạp nhầm", on=date(2023, 1, 2))
    assert store.status(directive=PLAN) == []
    [s] = store.load([folder / "plan.yaml"], until=UNTIL).directives
    assert s.restored == 17
    assert len(store.status(directive=PLAN, as_of=date(2024, 12, 31))) == 17
