"""Domain facts as Prefect events, so the Prefect UI's event feed shows what happened to tasks.

The store is the source of truth; events are a projection of the facts it holds
(:mod:`kttt_workflow.store.facts`, read through the service after each operation).

Every event names the task (``kttt.task.<id>``) as its resource, with the lead unit (role
``unit``) and the directive (role ``directive``) as related resources, so the event feed can be
filtered by unit or directive; each resource carries its Vietnamese name (the task's content,
the unit's name, the directive's symbol) in ``prefect.resource.name``. Event ids are derived from
the stored fact (uuid5), so publishing the same fact twice (a retried flow run) gives the same
event id.

Escalations of tasks that are not key tasks are aggregated: one ``kttt.unit.escalated`` event per
unit and sweep (the count and the task ids in its payload) instead of one per notice, so the feed
is not drowned; overdue events and every event of a key task stay one per task.

>>> to_event(Fact("overdue", "kh-1-2022/1/x-ubnd", "x-ubnd", "UBND tỉnh X", "kh-1-2022",
...               "Ban hành Kế hoạch", True, None, "don-doc-3"))["event"]
'kttt.task.overdue'
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from kttt_workflow.store.facts import Fact

NAMESPACE = uuid.UUID("6f1c1f0e-4b7a-5c1e-9d43-6b7474742d77")
# Publishing costs ~1–2 ms per event in the flow's process.
MAX_EVENTS = 5_000  # per publication; the store keeps every fact regardless
MAX_RECIPIENTS = 40

log = logging.getLogger(__name__)


def event_name(kind: str) -> str:
    return "kttt.delivery.failed" if kind == "delivery_failed" else f"kttt.task.{kind}"


def to_event(fact: Fact, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The keyword arguments of ``prefect.events.emit_event`` for one fact (pure); ``names``:
    how to name each directive (its symbol), by code."""
    related: list[dict[str, str]] = [
        {
            "prefect.resource.id": f"kttt.unit.{fact.unit}",
            "prefect.resource.role": "unit",
            "prefect.resource.name": fact.unit_name or fact.unit,
        }
    ]
    if fact.directive:
        related.append(
            {
                "prefect.resource.id": f"kttt.directive.{fact.directive}",
                "prefect.resource.role": "directive",
                "prefect.resource.name": (names or {}).get(fact.directive, fact.directive),
            }
        )
    for r in fact.recipients[:MAX_RECIPIENTS]:  # Prefect allows 100 related resources
        if r != fact.unit:
            related.append(
                {"prefect.resource.id": f"kttt.unit.{r}", "prefect.resource.role": "recipient"}
            )
    if fact.kind == "delivery_failed":
        did = str(fact.detail["delivery_id"])
        resource = {
            "prefect.resource.id": f"kttt.delivery.{did}",
            "prefect.resource.name": f"Gửi thông báo cho {fact.unit_name or fact.unit}",
            "kttt.unit": fact.unit,
        }
    else:
        resource = {
            "prefect.resource.id": f"kttt.task.{fact.task_id}",
            "prefect.resource.name": (fact.title or str(fact.task_id))[:200],
            "kttt.unit": fact.unit,
            "kttt.directive": fact.directive or "",
            "kttt.key-task": "true" if fact.key_task else "false",
        }
    # The same stored fact always gives the same id (a retried flow re-publishes, the server keeps
    # one); the time it was recorded keeps facts of different stores on one server apart.
    at = fact.occurred.isoformat() if fact.occurred else ""
    identity = f"{fact.kind}|{fact.task_id}|{fact.unit}|{fact.ref}|{at}"
    return {
        "event": event_name(fact.kind),
        "resource": resource,
        "related": related,
        "payload": {"task_id": fact.task_id, **fact.detail},
        "occurred": fact.occurred,
        "id": uuid.uuid5(NAMESPACE, identity),
    }


MAX_TASK_IDS = 200  # task ids listed in an aggregated event's payload (the count is complete)


def aggregate(facts: Iterable[Fact]) -> tuple[list[Fact], dict[str, list[Fact]]]:
    """The facts published one by one, and the escalations of tasks that are not key tasks, by
    unit (one event each)."""
    single: list[Fact] = []
    grouped: dict[str, list[Fact]] = {}
    for f in facts:
        if f.kind == "escalated" and not f.key_task:
            grouped.setdefault(f.unit, []).append(f)
        else:
            single.append(f)
    return single, grouped


def unit_event(
    unit: str, facts: list[Fact], names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """One ``kttt.unit.escalated`` event for a unit's escalated tasks of one sweep (pure)."""
    first = facts[0]
    name = first.unit_name or unit
    directives = sorted({f.directive for f in facts if f.directive})
    recipients = sorted({r for f in facts for r in f.recipients if r != unit})
    related: list[dict[str, str]] = [
        {
            "prefect.resource.id": f"kttt.directive.{d}",
            "prefect.resource.role": "directive",
            "prefect.resource.name": (names or {}).get(d, d),
        }
        for d in directives[:20]
    ]
    related += [
        {"prefect.resource.id": f"kttt.unit.{r}", "prefect.resource.role": "recipient"}
        for r in recipients[:MAX_RECIPIENTS]
    ]
    ids = sorted(str(f.task_id) for f in facts)
    when = [f.occurred for f in facts if f.occurred]
    identity = (
        "escalated-unit|"
        + unit
        + "|"
        + "|".join(
            f"{f.task_id}/{f.ref}/{f.occurred.isoformat() if f.occurred else ''}" for f in facts
        )
    )
    return {
        "event": "kttt.unit.escalated",
        "resource": {
            "prefect.resource.id": f"kttt.unit.{unit}",
            "prefect.resource.name": f"{name}: {len(facts)} nhiệm vụ báo cáo cấp trên",
            "kttt.unit": unit,
        },
        "related": related,
        "payload": {
            "unit": unit,
            "unit_name": name,
            "count": len(facts),
            "task_ids": ids[:MAX_TASK_IDS],
            "directives": directives,
            "to": recipients,
        },
        "occurred": max(when) if when else None,
        "id": uuid.uuid5(NAMESPACE, identity),
    }


def emit(
    facts: Iterable[Fact], *, limit: int = MAX_EVENTS, names: Mapping[str, str] | None = None
) -> int:
    """Send the facts to Prefect as events (batched by Prefect's events worker). Returns how many.

    Needs a Prefect API (``PREFECT_API_URL``); without one, ``emit_event`` does nothing. At most
    ``limit`` events go out per call: a first sweep over a national cascade can record hundreds of
    thousands of notices, which belong in the ledger and the reports, not in an event feed.
    """
    from prefect.events import emit_event

    sent = 0
    skipped = 0
    single, grouped = aggregate(facts)
    events = [to_event(f, names) for f in single]
    events += [unit_event(u, fs, names) for u, fs in sorted(grouped.items())]
    for kwargs in events:
        if sent >= limit:
            skipped += 1
            continue
        if kwargs["occurred"] is None:
            del kwargs["occurred"]
        emit_event(**kwargs)
        sent += 1
    if skipped:
        log.warning(
            "%d sự kiện không được phát (giới hạn %d mỗi lần); xem sổ ghi trong CSDL",
            skipped,
            limit,
        )
    return sent


def flush(timeout: float = 10.0) -> None:
    """Wait until the events emitted so far have been handed to the Prefect API."""
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all(timeout=timeout, at_exit=False)
