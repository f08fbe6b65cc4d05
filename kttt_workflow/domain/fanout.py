"""Fan-out: one directive (validated input) becomes one task instance per responsible unit.

A group lead ("UBND huyện, thành phố") becomes one task per member unit; a recurring deadline
("Hàng năm") one task per period; a child task waits for its parent's instance for the same unit
(or the nearest ancestor unit that has one), else for all of the parent's instances.
Pure: no database, no clock (``until`` is explicit).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from kttt_workflow.domain.calendar import WorkingCalendar
from kttt_workflow.domain.deadlines import (
    DeadlineKind,
    DeadlineSpec,
    effective_due,
    occurrences,
    parse_deadline,
)
from kttt_workflow.domain.registry import GroupInfo, Registry
from kttt_workflow.spec.models import Activation, DirectiveFile, EscalationPolicy, TaskSpec


@dataclass(frozen=True)
class TaskInstance:
    """One task of one unit (for one period, if recurring): a row of the ``task`` table."""

    id: str
    directive: str
    task_key: str
    parent_key: str | None
    parent_task_id: str | None
    unit: str
    period: str | None
    starts_on: date | None  # first day of the period (recurring instances); None otherwise
    title: str
    deliverable: str | None
    coordinating: tuple[str, ...]
    coordinating_other: str | None
    issuing_authority: str | None
    deadline_text: str | None
    deadline_kind: str
    nominal_due: date | None
    due: date | None
    key_task: bool
    policy_code: str | None
    activation: str
    activated_on: date | None

    def fingerprint(self) -> str:
        """Hash of what the directive file says about this task (not its progress)."""
        # repr() of a tuple of str/date/bool/None/tuples is stable; dataclasses.asdict() deep-copies
        # every field and cost four times the rest of the fan-out.
        spec = tuple(v for k, v in self.__dict__.items() if k != "activated_on")
        return hashlib.sha256(repr(spec).encode()).hexdigest()[:32]


def task_id(directive: str, key: str, unit: str, period: str | None = None) -> str:
    """Readable, stable id: ``kh-67-2013/II.2/ubnd-yen-son`` (``@2014`` for a recurring period)."""
    base = f"{directive}/{key}/{unit}"
    return f"{base}@{period}" if period else base


def local_groups(directive: DirectiveFile) -> dict[str, GroupInfo]:
    return {
        g.code: GroupInfo(g.code, g.name, tuple(g.members), tuple(g.aliases), g.note)
        for g in directive.groups
    }


DEFAULT_POLICY = "mac-dinh"
# Ongoing ("Thường xuyên") and pending ("Theo Kế hoạch…") tasks have no date to escalate from.
_LADDER_KINDS = (DeadlineKind.FIXED, DeadlineKind.RECURRING)


def policy_code(directive: DirectiveFile, spec: TaskSpec) -> str:
    """The escalation policy of a task: its own, else its directive's, else the default.

    Inline policies get codes of their own: ``@kh-67-2013`` (directive), ``@kh-67-2013/I.1`` (task).
    """
    if isinstance(spec.escalation, str):
        return spec.escalation
    if spec.escalation is not None:
        return f"@{directive.code}/{spec.id}"
    if isinstance(directive.escalation, str):
        return directive.escalation
    if directive.escalation is not None:
        return f"@{directive.code}"
    return DEFAULT_POLICY


def inline_policies(directive: DirectiveFile) -> dict[str, EscalationPolicy]:
    """The policies declared inside a directive file, by their codes."""
    out: dict[str, EscalationPolicy] = {}
    if isinstance(directive.escalation, EscalationPolicy):
        out[f"@{directive.code}"] = directive.escalation
    for spec, _ in walk(directive.tasks):
        if isinstance(spec.escalation, EscalationPolicy):
            out[f"@{directive.code}/{spec.id}"] = spec.escalation
    return out


def walk(
    tasks: list[TaskSpec], parent: TaskSpec | None = None
) -> Iterator[tuple[TaskSpec, TaskSpec | None]]:
    """Every task spec of a cascade with its parent, depth first, in document order."""
    for t in tasks:
        yield t, parent
        yield from walk(t.children, t)


def fan_out(
    directive: DirectiveFile,
    registry: Registry,
    calendar: WorkingCalendar,
    until: date,
) -> list[TaskInstance]:
    """All task instances of ``directive``; recurring tasks get one per period up to ``until``.

    The directive must have been validated (every reference resolves, every deadline parses).
    """
    local = local_groups(directive)
    issued = directive.document.date
    start = directive.recurrence_from or issued or until
    last = min(until, directive.recurrence_until) if directive.recurrence_until else until
    roll = directive.roll_to_working_day
    out: list[TaskInstance] = []
    by_key: dict[str, list[TaskInstance]] = {}

    def resolve_all(refs: list[str]) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for ref in refs:
            code = registry.resolve(ref, local)
            assert code is not None, ref
            for u in registry.expand(code, local):
                seen.setdefault(u, None)
        return tuple(seen)

    for spec, parent in walk(directive.tasks):
        lead = registry.resolve(spec.lead, local)
        assert lead is not None, spec.lead
        units = registry.expand(lead, local)
        coordinating = resolve_all(spec.coordinating)
        authority = (
            registry.resolve(spec.issuing_authority, local) or spec.issuing_authority
            if spec.issuing_authority
            else None
        )
        deadline: DeadlineSpec = parse_deadline(spec.deadline, issued)
        policy = policy_code(directive, spec)
        activation = spec.activation or (
            Activation.on_parent_done if parent is not None else Activation.immediate
        )
        periods: list[tuple[str | None, date | None]]
        if deadline.kind == DeadlineKind.RECURRING:
            periods = [(o.period, o.due) for o in occurrences(deadline, start, max(last, start))]
        else:
            periods = [(None, deadline.due)]
        # The working-day roll and the period start depend on the period only, not on the unit.
        rolled = {p: effective_due(n, calendar, roll) if n else None for p, n in periods}
        starts = {p: _period_start(p) if p else None for p, _ in periods}
        parent_index: dict[tuple[str, str | None], str] = {}
        parent_by_unit: dict[str, str] = {}
        if parent is not None:
            for inst in by_key.get(parent.id, []):
                parent_index[(inst.unit, inst.period)] = inst.id
                parent_by_unit.setdefault(inst.unit, inst.id)
        instances: list[TaskInstance] = []
        for unit in units:
            info = registry.units.get(unit)
            parent_task_id = _match_parent(unit, parent_by_unit, registry) if parent else None
            for period, nominal in periods:
                # A merged or dissolved unit gets no instances for periods after it ceased.
                if (
                    period is not None
                    and info is not None
                    and info.valid_to is not None
                    and starts[period] > info.valid_to  # type: ignore[operator]
                ):
                    continue
                if parent is not None and period is not None:
                    pid = parent_index.get((unit, period))
                    parent_task_id = pid or parent_task_id
                due = rolled[period]
                instances.append(
                    TaskInstance(
                        id=task_id(directive.code, spec.id, unit, period),
                        directive=directive.code,
                        task_key=spec.id,
                        parent_key=parent.id if parent else None,
                        parent_task_id=parent_task_id,
                        unit=unit,
                        period=period,
                        starts_on=starts[period],
                        title=spec.title,
                        deliverable=spec.deliverable,
                        coordinating=tuple(c for c in coordinating if c != unit),
                        coordinating_other=spec.coordinating_other,
                        issuing_authority=authority,
                        deadline_text=spec.deadline,
                        deadline_kind=deadline.kind.value,
                        nominal_due=nominal,
                        due=due,
                        key_task=spec.key,
                        policy_code=policy if deadline.kind in _LADDER_KINDS else None,
                        activation=activation.value,
                        activated_on=issued if activation == Activation.immediate else None,
                    )
                )
        by_key[spec.id] = instances
        out.extend(instances)
    return out


def _period_start(period: str) -> date:
    """First day of a period label: '2014', '2014-H2', '2014-Q3', '2014-05'."""
    year, _, rest = period.partition("-")
    y = int(year)
    if not rest:
        return date(y, 1, 1)
    if rest.startswith("H"):
        return date(y, 1 if rest == "H1" else 7, 1)
    if rest.startswith("Q"):
        return date(y, 3 * (int(rest[1:]) - 1) + 1, 1)
    return date(y, int(rest), 1)


def _match_parent(unit: str, by_unit: dict[str, str], registry: Registry) -> str | None:
    """The parent instance a child of ``unit`` waits for: same unit, else nearest ancestor unit."""
    if unit in by_unit:
        return by_unit[unit]
    for anc in registry.ancestors(unit):
        if anc in by_unit:
            return by_unit[anc]
    if len(by_unit) == 1:
        return next(iter(by_unit.values()))
    return None  # waits for all instances of the parent task
