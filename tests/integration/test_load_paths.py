"""The fast paths of a load give what the general ones give — SQLite and PostgreSQL.

The registry is read as plain driver values, and the fan-out builds its instances and their
fingerprints from what the instances of a task share. Each test compares a fast path with the
general one on the same data.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from kttt_workflow.domain import fanout
from kttt_workflow.domain.fanout import TaskInstance
from kttt_workflow.inputs.defaults import default_calendar
from kttt_workflow.inputs.validate import load_inputs
from kttt_workflow.service import Tracker
from kttt_workflow.store.registry import read_registry
from tests.helpers import DIRECTIVES, HORIZON, copy_fixtures, edit_plan


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
                fields = {f: getattr(inst, f) for f in fanout._FIELDS}
                ref = TaskInstance(**fields)
                assert inst == ref
                assert inst.fingerprint() == ref.fingerprint()
                assert ref.fingerprint() == fanout._hash(repr(fanout.spec_fields(ref)))
                seen_targets += bool(inst.targets)
                seen_periods += inst.period is not None
                seen_self += inst.task_key == "1" and d.code == "kh-1-2022"
    assert seen_targets and seen_periods and seen_self
