"""The consolidated report's SQL: one ``GROUP BY`` over the status ``CASE`` expression counts the
tasks of every (directive, unit, status, due-by, key task) at once; the overdue list is one
filtered ``SELECT`` (capped). :func:`kttt_workflow.domain.progress.assemble` does the rest."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import Date, case, func, literal, select
from sqlalchemy.engine import Connection

from kttt_workflow.domain.progress import CountRow, DirectiveInfo
from kttt_workflow.store import tables
from kttt_workflow.store.registry import answering
from kttt_workflow.store.status import started, status_columns

_CHUNK = 1000  # codes per IN (...) list


def count_rows(conn: Connection, as_of: date, directive: str | None = None) -> list[CountRow]:
    """How many tasks share each (directive, answering unit, status, due by ``as_of``, key task).

    A task of a unit that has ceased is counted with the unit that answers for it on ``as_of``
    (its successor, down the chain).
    """
    t = tables.task_t
    ans = answering(as_of)
    status, _ = status_columns(as_of, conn.dialect.name, ans.c.ceased)
    d = literal(as_of, type_=Date)
    due_by = case((t.c.due_on.is_not(None) & (t.c.due_on <= d), 1), else_=0).label("due_by")
    unit = func.coalesce(ans.c.current, t.c.unit_code).label("unit")
    q = (
        select(t.c.directive_code, unit, status, due_by, t.c.key_task, func.count())
        .select_from(t.outerjoin(ans, ans.c.code == t.c.unit_code))
        .where(t.c.state != "removed", started(as_of))
        .group_by(t.c.directive_code, unit, status, due_by, t.c.key_task)
    )
    if directive:
        q = q.where(t.c.directive_code == directive)
    return [
        CountRow(dcode, ucode, st, bool(due), bool(key), int(n))
        for dcode, ucode, st, due, key, n in conn.execute(q)
    ]


def directive_infos(conn: Connection, codes: Iterable[str]) -> dict[str, DirectiveInfo]:
    """Headings of the stored directives among ``codes``."""
    codes = sorted(set(codes))
    if not codes:
        return {}
    d = tables.directive_t
    q = select(d.c.code, d.c.doc_type, d.c.symbol, d.c.issued_on, d.c.title).where(
        d.c.code.in_(codes)
    )
    return {
        r.code: DirectiveInfo(r.code, r.doc_type, r.symbol, r.issued_on, r.title)
        for r in conn.execute(q)
    }


def unit_infos(conn: Connection, codes: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """(name, level code) of each unit among ``codes``."""
    codes = sorted(set(codes))
    u = tables.unit_t
    out: dict[str, tuple[str, str | None]] = {}
    for chunk in range(0, len(codes), _CHUNK):
        part = codes[chunk : chunk + _CHUNK]
        for r in conn.execute(select(u.c.code, u.c.name, u.c.level).where(u.c.code.in_(part))):
            out[r.code] = (r.name, r.level)
    return out


def level_infos(conn: Connection) -> dict[str, tuple[str, int]]:
    """(name, position) of every level."""
    lv = tables.level_t
    return {
        r.code: (r.name, int(r.position))
        for r in conn.execute(select(lv.c.code, lv.c.name, lv.c.position))
    }
