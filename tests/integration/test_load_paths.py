"""The fast paths of a load give what the general ones give — SQLite and PostgreSQL.

A directive's first load writes its rows straight into ``task`` (no staging, no comparison); a
later load merges through the staging table. The registry is read as plain driver values, and the
fan-out builds its instances and their fingerprints from what the instances of a task share.
Each test compares a fast path with the general one on the same data.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import JSON, Column, Date, MetaData, Table, Text, cast, insert, literal, select

from kttt_workflow.domain import fanout
from kttt_workflow.domain.fanout import TaskInstance
from kttt_workflow.inputs.defaults import default_calendar
from kttt_workflow.inputs.validate import load_inputs
from kttt_workflow.service import Tracker
from kttt_workflow.store import load as L
from kttt_workflow.store import next_step
from kttt_workflow.store import tables as T
from kttt_workflow.store.registry import read_registry
from tests.helpers import DIRECTIVES, HORIZON, copy_fixtures, edit_plan

# Every column but the time stamps and the fingerprint (it hashes the directive's code); the
# identity columns are compared mapped from one directive code to the other.
_SAME = [
    c.name for c in T.task_t.columns if c.name not in ("created_at", "updated_at", "fingerprint")
]


def _tasks(store: Tracker, code: str) -> dict[str, tuple[Any, ...]]:
    t = T.task_t
    q = select(*(t.c[c] for c in _SAME)).where(t.c.directive_code == code)
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    out = {}
    for r in rows:
        values = dict(zip(_SAME, r, strict=True))
        for c in ("id", "directive_code", "parent_task_id"):
            if values[c] is not None:
                values[c] = values[c].replace(f"{code}/", "X/") if c != "directive_code" else "X"
        out[values["id"]] = tuple(values.values())
    return out


def _created(store: Tracker, code: str) -> list[tuple[str, str, bool]]:
    """The "created" events of a directive's tasks: (task, its detail as text, has a load)."""
    e = T.event_t
    q = select(e.c.task_id, cast(e.c.detail, Text), e.c.load_id.is_not(None)).where(
        e.c.event == "created", e.c.task_id.like(f"{code}/%")
    )
    with store.engine.connect() as conn:
        return sorted((r[0].replace(f"{code}/", "X/"), r[1], r[2]) for r in conn.execute(q))


def test_a_first_load_writes_what_the_merge_writes(store: Tracker, tmp_path: Path) -> None:
    """kh-1-2022 loaded at once (the first-load path), and the same plan under another code
    loaded in two steps (one task first, then all: the rest go through the staging table): the
    same task rows, column by column, and one "created" event for each task."""
    first = copy_fixtures(tmp_path / "first")
    store.load([first], until=HORIZON)

    merged = copy_fixtures(tmp_path / "merged")
    plan = merged / "plan.yaml"
    data = yaml.safe_load(plan.read_text(encoding="utf-8"))
    data["code"] = "kh-2-2022"
    data["document"]["symbol"] = "2/KH-UBND"
    (merged / "units.yaml").unlink()
    whole = dict(data)
    data["tasks"] = data["tasks"][:1]
    plan.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    _, [one] = store.load([plan], until=HORIZON)
    assert one.first and one.added == one.total == 3  # task 1 and its child for two sở
    plan.write_text(yaml.safe_dump(whole, allow_unicode=True, sort_keys=False), "utf-8")
    _, [s] = store.load([plan], until=HORIZON)
    assert not s.first and s.added == s.total - 3 and s.unchanged == 3 and not s.changed

    a, b = _tasks(store, "kh-1-2022"), _tasks(store, "kh-2-2022")
    assert len(a) > 17  # the recurring ones up to 2026
    assert a == b
    created = _created(store, "kh-1-2022")
    assert created == _created(store, "kh-2-2022") == [(i, "{}", True) for i in sorted(a)]


def test_the_first_loads_next_step_is_the_sweeps(store: Tracker) -> None:
    """load.initial_next_step (Python, for the first-load path) against next_step.initial (the
    SQL the merge writes), on every kind of date around the load's day."""
    on = date(2026, 3, 10)
    days = [None, on - timedelta(days=40), on - timedelta(days=1), on, on + timedelta(days=1)]
    days.append(on + timedelta(days=400))
    pairs = [(s, a) for s in days for a in days]
    with store.engine.connect() as conn:
        for s, a in pairs:
            sql = next_step.initial(
                literal(s, type_=Date), literal(a, type_=Date), on, conn.dialect.name
            )
            got = conn.execute(select(sql)).scalar_one()
            if isinstance(got, str):  # SQLite hands back min() of dates as their text
                got = date.fromisoformat(got)
            assert L.initial_next_step(s, a, on) == got, (s, a)


def test_the_registry_reads_back_as_it_was_written(store: Tracker, tmp_path: Path) -> None:
    """Every field of units and groups (aliases, targets, dates, successor, note, contact, the
    members' order) read back from the store equals what the files say."""
    folder = copy_fixtures(tmp_path)
    reg_path = folder / "units.yaml"
    reg = yaml.safe_load(reg_path.read_text(encoding="utf-8"))
    for u in reg["units"]:
        if u["code"] == "x-so-khdt":
            u["contact"] = {"name": "Phòng Kinh tế tập thể", "phone": "0204 3854 333"}
            u["targets"] = ["mailto://kttt@skhdt-x.example.gov.vn", "json://127.0.0.1:9/x"]
            u["valid_from"] = "2013-01-01"
            u["valid_to"] = "2025-06-30"
            u["successor"] = "x-so-tc"
            u["note"] = "Hợp nhất vào Sở Tài chính\t(ghi chú có ký tự \\ và tab)"
    reg["groups"][1]["members"] = ["x-ubnd-c", "x-ubnd-a", "x-ubnd-b"]
    reg_path.write_text(yaml.safe_dump(reg, allow_unicode=True, sort_keys=False), "utf-8")
    store.load([folder], until=HORIZON)
    files = load_inputs([reg_path]).registry
    with store.engine.connect() as conn:
        stored = read_registry(conn)
    assert stored.levels == files.levels and list(stored.levels) == list(files.levels)
    assert stored.units == files.units
    assert stored.units["x-so-khdt"].contact is not None
    assert stored.units["x-so-khdt"].valid_to == date(2025, 6, 30)
    assert stored.groups == files.groups
    assert stored.groups["x-cac-huyen"].members == ("x-ubnd-c", "x-ubnd-a", "x-ubnd-b")


def test_the_fan_outs_instances_are_those_of_the_dataclass(tmp_path: Path) -> None:
    """Every instance of the real directives (recurring tasks, targets split among units, a
    lead among its own coordinators) equals the TaskInstance built by its own __init__ from the
    same fields, and so does its fingerprint, which is computed piece by piece."""
    bundle = load_inputs([DIRECTIVES])
    folder = copy_fixtures(tmp_path)

    def coordinated_by_itself(p: dict[str, Any]) -> None:
        p["tasks"][0]["coordinating"] = ["x-ubnd", "x-cac-so"]  # its lead is x-ubnd

    edit_plan(folder, coordinated_by_itself)
    fixture = load_inputs([folder])
    seen_targets = seen_periods = seen_self = 0
    for b in (bundle, fixture):
        for _, d in b.directives:
            for inst in fanout.fan_out(d, b.registry, default_calendar(), HORIZON):
                fields = {f: getattr(inst, f) for f in fanout.FIELDS}
                ref = TaskInstance(**fields)
                assert inst == ref
                assert inst.fingerprint() == ref.fingerprint()
                assert ref.fingerprint() == fanout._hash(repr(fanout.spec_fields(ref)))
                seen_targets += bool(inst.targets)
                seen_periods += inst.period is not None
                seen_self += inst.task_key == "1" and d.code == "kh-1-2022"
    assert seen_targets and seen_periods and seen_self


def test_the_bulk_insert_writes_what_sqlalchemy_writes(store: Tracker, tmp_path: Path) -> None:
    """The first load's rows (driver-level bulk insert: binary COPY on PostgreSQL, executemany
    on SQLite, values converted by column) against the same rows written by SQLAlchemy's own
    insert() into a copy of the table: equal column by column, and the JSON columns the same
    text (targets split among districts, a coordinator, a recurring task's dates)."""
    folder = copy_fixtures(tmp_path)

    def with_targets(p: dict[str, Any]) -> None:
        p["tasks"][2]["targets"] = [
            {"indicator": "Số hợp tác xã", "measure": "hợp tác xã", "value": 80,
             "split": {"x-ubnd-a": 30, "x-ubnd-b": 30.5, "x-ubnd-c": 19.5}},
        ]  # fmt: skip

    edit_plan(folder, with_targets)
    store.load([folder], until=HORIZON)
    bundle = load_inputs([folder])
    ((_, d),) = bundle.directives
    rows = fanout.fan_out_rows(d, bundle.registry, default_calendar(), HORIZON)
    t = T.task_t
    copy = Table("task_copy", MetaData(), *(Column(c.name, c.type) for c in t.columns))
    mine = t.c.directive_code == "kh-1-2022"
    with store.engine.begin() as conn:
        at = conn.execute(select(t.c.created_at).where(mine).limit(1)).scalar_one()
        given = [L.first_load_values(r, at) for r in rows]
        copy.create(conn)
        conn.execute(insert(copy), given)

        def read(table: Table, where: Any) -> dict[str, tuple[Any, ...]]:
            texts = [cast(c, Text) for c in table.columns if isinstance(c.type, JSON)]
            q = select(*table.columns, *texts).where(where)
            return {r.id: tuple(r) for r in conn.execute(q)}

        bulk, orm = read(t, mine), read(copy, copy.c.directive_code == "kh-1-2022")
        copy.drop(conn)
    assert len(bulk) == len(rows) and any(r[0].endswith("@2025") for r in rows)
    assert any(r[L.ROW_COLUMNS.index("targets")] for r in rows)
    assert bulk == orm


def test_an_amendment_records_each_changed_field_from_and_to_nothing(
    store: Tracker, tmp_path: Path
) -> None:
    """The changed events name exactly the fields that changed, with their old and new values,
    also when one side is nothing (a deliverable added, the coordinators removed, a flag
    cleared): the same difference for every instance of a task is decoded once, never shared
    with a task whose change differs."""
    folder = copy_fixtures(tmp_path)
    store.load([folder], until=HORIZON)

    def amend(p: dict[str, Any]) -> None:
        tasks = {t["id"]: t for t in p["tasks"]}
        tasks["4"]["deliverable"] = "Báo cáo tuyên truyền"  # None -> text
        del tasks["2"]["coordinating"]  # ["x-so-khdt"] -> []
        tasks["1"]["key"] = False  # True -> False
        tasks["3"]["title"] = "Báo cáo định kỳ hằng năm"  # one field, every period
        tasks["5"]["title"] = "Hỗ trợ theo từng dự án"  # the same field, another change

    edit_plan(folder, amend)
    _, [s] = store.load([folder], until=HORIZON)
    e = T.event_t
    with store.engine.connect() as conn:
        rows = conn.execute(select(e.c.task_id, e.c.detail).where(e.c.event == "changed")).all()
    got = {task: detail for task, detail in rows}
    assert s.changed == len(got) == 1 + 3 + 1 + 3 * 5 + 1  # task 3: 3 districts, 2022-2026
    assert got["kh-1-2022/4/x-so-khdt"] == {
        "deliverable": {"old": None, "new": "Báo cáo tuyên truyền"}
    }
    for unit in ("x-ubnd-a", "x-ubnd-b", "x-ubnd-c"):
        assert got[f"kh-1-2022/2/{unit}"] == {"coordinating": {"old": ["x-so-khdt"], "new": []}}
        for year in range(2022, 2027):
            assert got[f"kh-1-2022/3/{unit}@{year}"] == {
                "title": {"old": "Báo cáo định kỳ", "new": "Báo cáo định kỳ hằng năm"}
            }
    assert got["kh-1-2022/1/x-ubnd"] == {"key_task": {"old": True, "new": False}}
    assert got["kh-1-2022/5/x-so-tc"] == {
        "title": {"old": "Hỗ trợ theo dự án", "new": "Hỗ trợ theo từng dự án"}
    }
