"""Quantitative targets in the store: each unit's share (``task.targets``, fanned out on load)
and the actual values its standing report carries (``completion.actuals``), as of a date.
Pure rules in :mod:`kttt_workflow.domain.targets`."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from kttt_workflow.domain import targets as model
from kttt_workflow.store import tables
from kttt_workflow.store.lineage import documents
from kttt_workflow.store.status import started, task_statuses

task_t = tables.task_t


def indicators(conn: Connection, task_id: str) -> list[str]:
    """The indicators of a task's targets (empty: it has none)."""
    q = select(task_t.c.targets).where(task_t.c.id == task_id)
    return [t["indicator"] for t in conn.execute(q).scalar_one_or_none() or ()]


def report(conn: Connection, as_of: date, directive: str | None = None) -> model.TargetReport:
    """Every target of the live tasks (of ``directive``) begun by ``as_of``, with the actual
    values of the report standing for each task then (verified, or awaiting verification)."""
    t = task_t
    q = select(t.c.id, t.c.directive_code, t.c.task_key, t.c.targets).where(
        t.c.targets.is_not(None), t.c.state != "removed", started(as_of)
    )
    if directive:
        q = q.where(t.c.directive_code == directive)
    rows = conn.execute(q.order_by(t.c.directive_code, t.c.task_key, t.c.id)).all()
    if not rows:
        return model.TargetReport(as_of)
    ids = [r.id for r in rows]
    shown = {s.task_id: s.lead_shown for s in task_statuses(conn, as_of, task_ids=ids)}
    reports: dict[str, Any] = documents(conn, ids, as_of)
    lines: list[model.TargetLine] = []
    wholes: dict[tuple[str, str, str], tuple[float, bool]] = {}
    for r in rows:
        rep = reports.get(r.id)
        actuals = (rep["actuals"] if rep is not None else None) or {}
        verified = bool(
            rep is not None
            and rep["state"] == "verified"
            and (rep["decided_on"] is None or rep["decided_on"] <= as_of)
        )
        for tg in r.targets:
            key = (r.directive_code, r.task_key, tg["indicator"])
            wholes[key] = (float(tg["whole"]), bool(tg["split"]))
            lines.append(
                model.TargetLine(
                    r.directive_code,
                    r.task_key,
                    r.id,
                    shown.get(r.id, r.id),
                    tg["indicator"],
                    tg["measure"],
                    float(tg["value"]),
                    actuals.get(tg["indicator"]),
                    verified,
                )  # fmt: skip
            )
    return model.assemble(as_of, lines, wholes)
