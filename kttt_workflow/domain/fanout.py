"""Fan-out: one directive (validated input) becomes one task instance per responsible unit.

A group lead ("UBND huyện, thành phố") becomes one task per member unit; a recurring deadline
("Hàng năm") one task per period; a child task waits for its parent's instance for the same unit
(or the nearest ancestor unit that has one), else for all of the parent's instances.
Pure: no database, no clock (``until`` is explicit).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date
from operator import attrgetter
from typing import Any

from kttt_workflow.domain.calendar import WorkingCalendar
from kttt_workflow.domain.deadlines import (
    DeadlineKind,
    DeadlineSpec,
    effective_due,
    occurrences,
    parse_deadline,
)
from kttt_workflow.domain.directive import Activation, DirectiveFile, EscalationPolicy, TaskSpec
from kttt_workflow.domain.registry import GroupInfo, Registry

# The version of the fan-out rules: bump it when a change here would fan an unchanged file out
# differently, so that reloads do not skip it (:mod:`kttt_workflow.store.reload`).
RULES = 1


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
    # This unit's quantitative targets: (indicator, measure, its share, the task's whole value,
    # whether the whole is split among the leads).
    targets: tuple[tuple[str, str, float, float, bool], ...] = ()

    def fingerprint(self) -> str:
        """Hash of what the directive file says about this task (not its progress)."""
        known = self.__dict__.get(_KNOWN_FINGERPRINT)  # set by fan_out (see _Cascade.instances)
        return known if known is not None else _hash(repr(spec_fields(self)))


def spec_fields(inst: TaskInstance) -> tuple[Any, ...]:
    """What the fingerprint hashes: the fields in their order but ``activated_on`` (progress),
    and ``targets`` only when there are some (a task without targets hashes as before targets
    existed, so an upgrade reloads nothing). ``repr()`` of a tuple of str/date/bool/None/tuples
    is stable; the stored fingerprints depend on this exact text."""
    spec = _SPEC_FIELDS(inst)
    return spec if spec[-1] else spec[:-1]


def _hash(spec_text: str) -> str:
    return hashlib.sha256(spec_text.encode()).hexdigest()[:32]


FIELDS = tuple(f.name for f in fields(TaskInstance))  # the order of a row of fan_out_rows
assert FIELDS[-2:] == ("activated_on", "targets"), FIELDS
_SPEC_FIELDS = attrgetter(*FIELDS[:-2], "targets")  # one C call per instance
# Positions in a row of fan_out_rows (the fields' order): those an instance does not share
# with the other instances of its task and period (in their order), and its period.
_OWN = tuple(FIELDS.index(f) for f in ("id", "parent_task_id", "unit", "coordinating"))
_ID, _PARENT_TASK_ID, _UNIT, _COORDINATING = _OWN
assert list(_OWN) == sorted(_OWN)
_PERIOD, _STARTS_ON, _NOMINAL_DUE, _DUE = (
    FIELDS.index(f) for f in ("period", "starts_on", "nominal_due", "due")
)
_KNOWN_FINGERPRINT = "_fingerprint"  # not a field: equality, hash and repr ignore it


def _instance(row: tuple[Any, ...]) -> TaskInstance:
    """A TaskInstance from a row of :func:`fan_out_rows` (every field in order, then the
    fingerprint).

    The frozen dataclass's generated ``__init__`` sets each of its 22 fields through
    ``object.__setattr__``: at 100,000 instances that was half the fan-out. The instance is the
    same (equal, still frozen).
    """
    inst = object.__new__(TaskInstance)
    inst.__dict__.update(zip(FIELDS, row[:-1], strict=True))
    inst.__dict__[_KNOWN_FINGERPRINT] = row[-1]
    return inst


def task_id(directive: str, key: str, unit: str, period: str | None = None) -> str:
    """Readable, stable id: ``kh-67-2013/II.2/ubnd-yen-son`` (``@2014`` for a recurring period)."""
    base = f"{directive}/{key}/{unit}"
    return f"{base}@{period}" if period else base


def task_ref(ref: str, unit: str | None = None) -> str:
    """What a user typed to name a task: an id, or ``directive/key`` with the unit given apart.

    >>> task_ref("kh-67-2013/II.2/", "ubnd-yen-son")
    'kh-67-2013/II.2/ubnd-yen-son'
    """
    return f"{ref.rstrip('/')}/{unit}" if unit else ref


@dataclass(frozen=True)
class TaskRef:
    """A task id read back into its parts (``unit`` and ``period`` may be missing)."""

    directive: str
    key: str | None = None
    unit: str | None = None
    period: str | None = None


def parse_task_id(ref: str, unit: str | None = None) -> TaskRef:
    """The parts of a task id, or of ``directive/key`` plus a separately given ``unit``.

    >>> parse_task_id("kh-67-2013/II.2/ubnd-yen-son@2014")
    TaskRef(directive='kh-67-2013', key='II.2', unit='ubnd-yen-son', period='2014')
    >>> parse_task_id("kh-67-2013/II.2/", unit="ubnd-yen-son").unit
    'ubnd-yen-son'
    """
    head, _, period = task_ref(ref, unit).rstrip("/").partition("@")
    parts = head.split("/", 2)
    return TaskRef(
        parts[0],
        parts[1] if len(parts) > 1 else None,
        parts[2] if len(parts) > 2 else None,
        period or None,
    )


def local_groups(directive: DirectiveFile) -> dict[str, GroupInfo]:
    """The groups a directive declares for itself ("các đơn vị được giao"), by code."""
    return {g.code: g.info() for g in directive.groups}


def header_units(directive: DirectiveFile, registry: Registry) -> tuple[str | None, str | None]:
    """The focal unit's code and the issuing body's unit code (when the issuer is a unit)."""
    d = directive
    on = d.document.date
    focal = registry.resolve(d.focal_unit, local_groups(d), on) if d.focal_unit else None
    issuer = registry.resolve(d.document.issuer, on=on)
    return focal, issuer if issuer in registry.units else None


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
    return [_instance(r) for r in fan_out_rows(directive, registry, calendar, until)]


def fan_out_rows(
    directive: DirectiveFile,
    registry: Registry,
    calendar: WorkingCalendar,
    until: date,
) -> list[tuple[Any, ...]]:
    """The instances of :func:`fan_out` as tuples: their fields in :class:`TaskInstance`'s
    order, then the fingerprint. What a load writes, without an object for each task."""
    cascade = _Cascade(directive, registry, calendar, until)
    out: list[tuple[Any, ...]] = []
    for spec, parent in walk(directive.tasks):
        out.extend(cascade.rows(spec, parent))
    return out


@dataclass(frozen=True)
class _Period:
    """One period of a task's deadline: its label, nominal and effective due date, first day."""

    label: str | None
    nominal: date | None
    due: date | None
    starts_on: date | None


class _Cascade:
    """Fan-out state of one directive: the registry lookups and each task key's instances."""

    def __init__(
        self, directive: DirectiveFile, registry: Registry, calendar: WorkingCalendar, until: date
    ) -> None:
        self.d, self.registry, self.calendar = directive, registry, calendar
        self.local = local_groups(directive)
        self.issued = directive.document.date
        self.start = directive.recurrence_from or self.issued or until
        recurrence_until = directive.recurrence_until
        self.last = min(until, recurrence_until) if recurrence_until else until
        self.by_key: dict[str, list[tuple[Any, ...]]] = {}  # the rows of each task key

    def _resolve(self, ref: str) -> str:
        code = self.registry.resolve(ref, self.local, self.issued)
        assert code is not None, ref
        return code

    def _units(self, refs: list[str]) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for ref in refs:
            for u in self.registry.expand(self._resolve(ref), self.local):
                seen.setdefault(u, None)
        return tuple(seen)

    def _periods(self, deadline: DeadlineSpec) -> list[_Period]:
        """The working-day roll and the period start depend on the period only, not on the unit."""
        roll = self.d.roll_to_working_day
        if deadline.kind != DeadlineKind.RECURRING:
            due = effective_due(deadline.due, self.calendar, roll) if deadline.due else None
            return [_Period(None, deadline.due, due, None)]
        return [
            _Period(o.period, o.due, effective_due(o.due, self.calendar, roll), o.start)
            for o in occurrences(deadline, self.start, max(self.last, self.start))
        ]

    def rows(self, spec: TaskSpec, parent: TaskSpec | None) -> list[tuple[Any, ...]]:
        """The instances of one task spec, as rows of :func:`fan_out_rows`."""
        d = self.d
        units = self.registry.expand(self._resolve(spec.lead), self.local)
        coordinating = self._units(spec.coordinating)
        authority = (
            self.registry.resolve(spec.issuing_authority, self.local, self.issued)
            or spec.issuing_authority
            if spec.issuing_authority
            else None
        )
        deadline = parse_deadline(spec.deadline, self.issued)
        policy = policy_code(d, spec) if deadline.kind in _LADDER_KINDS else None
        activation = spec.activation or (
            Activation.on_parent_done if parent is not None else Activation.immediate
        )
        periods = self._periods(deadline)
        parents = self.by_key.get(parent.id, []) if parent is not None else []
        by_period = {(p[_UNIT], p[_PERIOD]): p[_ID] for p in parents}
        by_unit: dict[str, str] = {}
        for p in parents:
            by_unit.setdefault(p[_UNIT], p[_ID])
        # What the instances of this task share, in the fields' order (None where each instance
        # has its own value)...
        code, key, parent_key = d.code, spec.id, parent.id if parent else None
        title, deliverable, other, text = (
            spec.title, spec.deliverable, spec.coordinating_other, spec.deadline
        )  # fmt: skip
        kind, important, act = deadline.kind.value, spec.key, activation.value
        activated = self.issued if activation == Activation.immediate else None
        shared = (
            None, code, key, parent_key, None, None, None, None, title, deliverable,
            coordinating, other, authority, text, kind, None, None, important, policy, act,
        )  # fmt: skip
        assert len(shared) == len(FIELDS) - 2  # all but activated_on and targets
        # ... and each period's, with the fingerprint's text (spec_fields) in pieces: what the
        # instances share is written (and encoded) once, between the fields of an instance's
        # own; the same bytes in a third of the time.
        templates = []
        for period in periods:
            values: list[Any] = list(shared)
            values[_PERIOD], values[_STARTS_ON] = period.label, period.starts_on
            values[_NOMINAL_DUE], values[_DUE] = period.nominal, period.due
            reprs = [repr(v) for v in values]
            for i in _OWN:
                reprs[i] = "\0"  # repr() never writes a NUL
            pieces = tuple(p.encode() for p in ("(" + ", ".join(reprs) + "\0").split("\0"))
            suffix = f"@{period.label}" if period.label else ""  # as task_id writes it
            templates.append(
                (period.label, period.starts_on, period.nominal, period.due, suffix, pieces)
            )
        base = f"{code}/{key}/"
        sha256, join = hashlib.sha256, b"".join
        out: list[tuple[Any, ...]] = []
        append = out.append
        for unit in units:
            info = self.registry.units.get(unit)
            ceased = info.valid_to if info is not None else None
            parent_task_id = _match_parent(unit, by_unit, self.registry) if parent else None
            mine = (
                tuple(c for c in coordinating if c != unit)
                if unit in coordinating
                else coordinating
            )
            targets = unit_targets(spec, unit) if spec.targets else ()
            unit_b, mine_b = repr(unit).encode(), repr(mine).encode()
            end = (f", {targets!r})" if targets else ")").encode()
            for label, starts, nominal, due, suffix, (p0, p1, p2, p3, p4, _) in templates:
                # A merged or dissolved unit gets no instances for periods after it ceased.
                if starts is not None and ceased is not None and starts > ceased:
                    continue
                if parent is not None and label is not None:
                    parent_task_id = by_period.get((unit, label)) or parent_task_id
                tid = f"{base}{unit}{suffix}"
                # fmt: off
                # The shared pieces around the fields of _OWN, in their order.
                spec_text = join((p0, repr(tid).encode(), p1, repr(parent_task_id).encode(), p2,
                                  unit_b, p3, mine_b, p4, end))
                append((
                    tid, code, key, parent_key, parent_task_id, unit, label, starts, title,
                    deliverable, mine, other, authority, text, kind, nominal, due, important,
                    policy, act, activated, targets, sha256(spec_text).hexdigest()[:32],
                ))
                # fmt: on
        self.by_key[spec.id] = out
        return out


def unit_targets(spec: TaskSpec, unit: str) -> tuple[tuple[str, str, float, float, bool], ...]:
    """``unit``'s share of the task's targets: its part of a split (none when a partial split
    leaves it out), else the whole value."""
    out = []
    for t in spec.targets:
        if t.split and unit not in t.split:
            continue
        share = t.split[unit] if t.split else t.value
        out.append((t.indicator, t.measure, share, t.value, bool(t.split)))
    return tuple(out)


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
