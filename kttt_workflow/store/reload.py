"""Reloads that cost nothing: which input files the store already holds, under which key.

Every full load records each file it read (by the SHA-256 of its bytes) with the key of what the
file's effect depended on: for a directive, the registry and policy versions, the horizon of its
recurrences, the calendar and the fan-out rules (:func:`directive_key`); for a registry or policy
file, the version it left. A later load of files all known under their current key — and, for a
directive, still the stored content of its code, not removed — has nothing to do: the service
answers from this table without reading the registry or fanning out.

The versions (``kttt_meta``) are bumped by every load that changes the registry or a policy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import Connection

from kttt_workflow.store import tables

li_t, meta_t, dir_t = tables.loaded_input_t, tables.meta_t, tables.directive_t
REGISTRY, POLICY = "registry_version", "policy_version"


@dataclass(frozen=True)
class Known:
    """A file the store holds: its kind, directive, task count and key."""

    kind: str
    code: str | None
    tasks: int
    load_key: str
    current: bool  # a directive file: still its code's stored content, and not removed


def versions(conn: Connection) -> dict[str, int]:
    rows = {r.key: r.value for r in conn.execute(select(meta_t))}
    return {REGISTRY: rows.get(REGISTRY, 0), POLICY: rows.get(POLICY, 0)}


def bump(conn: Connection, key: str) -> int:
    """Increase a version by one (inserting it at 1); returns the new value."""
    now = versions(conn)[key] + 1
    if now == 1:
        conn.execute(insert(meta_t), [{"key": key, "value": 1}])
    else:
        conn.execute(update(meta_t).where(meta_t.c.key == key).values(value=now))
    return now


def directive_key(sha256: str, v: dict[str, int], horizon: date, calendar: str, rules: int) -> str:
    text = f"{sha256}|r{v[REGISTRY]}|p{v[POLICY]}|{horizon.isoformat()}|{calendar}|f{rules}"
    return hashlib.sha256(text.encode()).hexdigest()


def known(conn: Connection, shas: Collection[str]) -> dict[str, Known]:
    """The recorded files among ``shas``."""
    if not shas:
        return {}
    d = dir_t
    live = and_(
        d.c.code == li_t.c.code, d.c.content_sha256 == li_t.c.sha256, d.c.removed_on.is_(None)
    )
    q = (
        select(li_t, d.c.code.label("live"))
        .select_from(li_t.outerjoin(d, live))
        .where(li_t.c.sha256.in_(sorted(shas)))
    )
    return {
        r.sha256: Known(r.kind, r.code, r.tasks, r.load_key, r.live is not None)
        for r in conn.execute(q)
    }


def record(
    conn: Connection, entries: Iterable[tuple[str, str, str | None, int, str]], at: datetime
) -> None:
    """Record ``(sha256, kind, code, tasks, key)`` for each file of a load (replacing what was)."""
    rows = {
        sha: {
            "sha256": sha,
            "kind": kind,
            "code": code,
            "tasks": n,
            "load_key": key,
            "loaded_at": at,
        }
        for sha, kind, code, n, key in entries
    }
    fields = ("kind", "code", "tasks", "load_key")
    q = select(li_t).where(li_t.c.sha256.in_(sorted(rows)))
    for r in conn.execute(q).mappings() if rows else ():
        if all(r[f] == rows[r["sha256"]][f] for f in fields):
            del rows[r["sha256"]]  # as recorded: writing it again would change the file's bytes
    if not rows:
        return
    conn.execute(delete(li_t).where(li_t.c.sha256.in_(sorted(rows))))
    conn.execute(insert(li_t), list(rows.values()))
