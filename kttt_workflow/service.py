"""The use cases of the engine: the one front door of the CLI, the Prefect flows and Python code.

Each method of :class:`Tracker` ("theo dõi": tracking) is one use case and owns its
transaction: it reads what it needs from the store, lets the domain decide, and writes the result
in one go (or, for a sweep's deliveries, in one short transaction per digest). "Today" is decided
here, once, in the offices' time zone (:meth:`kttt_workflow.config.Config.today`); a date given
by the caller always wins.

>>> with Tracker.open("sqlite:///:memory:") as t:          # doctest: +SKIP
...     t.load(["directives/"])
...     t.status(as_of=date(2022, 12, 5), directive="ctr-nq20-2022")
"""

from __future__ import annotations

import concurrent.futures as cf
import contextvars
import dataclasses
import gc
import hashlib
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from difflib import get_close_matches
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from kttt_workflow import config as cfg
from kttt_workflow.domain import delivery, fanout, progress
from kttt_workflow.domain import lineage as lineage_model
from kttt_workflow.domain import progress as reporting  # in the class, progress() hides it
from kttt_workflow.domain import targets as target_model
from kttt_workflow.domain.calendar import WorkingCalendar
from kttt_workflow.domain.deadlines import DeadlineExplanation, explain
from kttt_workflow.domain.digest import Digest, render
from kttt_workflow.domain.directive import DirectiveFile, EscalationPolicy, PolicyFile
from kttt_workflow.domain.evidence import decision_date_error, parse_evidence, report_date_error
from kttt_workflow.domain.status import TaskStatus, parse_status
from kttt_workflow.domain.text import name_key
from kttt_workflow.errors import InputError, Issue, KtttError
from kttt_workflow.inputs import defaults
from kttt_workflow.inputs.reader import LocatedDocument, read_yaml
from kttt_workflow.inputs.validate import Bundle, collect_paths, load_inputs
from kttt_workflow.notify.dispatch import dispatch
from kttt_workflow.notify.dispatch import lanes as lanes_of
from kttt_workflow.notify.message import Message
from kttt_workflow.notify.smtp import close_idle as close_idle_smtp
from kttt_workflow.notify.targets import TargetError, inspect_target, load_apprise_config
from kttt_workflow.store import (
    activation,
    completion,
    db,
    facts,
    load,
    next_step,
    outbox,
    reassign,
    registry,
    reload,
    status,
    sweep,
)
from kttt_workflow.store import lineage as lineage_sql
from kttt_workflow.store import progress as progress_sql
from kttt_workflow.store import targets as targets_sql
from kttt_workflow.store.completion import CompletionResult
from kttt_workflow.store.load import LoadSummary
from kttt_workflow.store.registry import RegistrySummary

__all__ = [
    "CompletionResult",
    "LoadResult",
    "ReassignResult",
    "SendSummary",
    "SweepReport",
    "Tracker",
]


# A delivery run records finished attempts at the latest this long after the first of them.
_FLUSH_AFTER = 0.2
_DIGEST_BATCH = 500  # digests claimed per transaction by a sweep (store/sweep.py claim_digests)


@dataclass
class LoadResult:
    """What a load did: to the registry, and to each directive; and what it warns about (located:
    a password written in clear in a target…). Unpacks as ``reg, summaries = t.load(…)``."""

    registry: RegistrySummary
    directives: list[LoadSummary]
    warnings: list[Issue] = field(default_factory=list)
    lineage: lineage_sql.LineageSummary = field(
        default_factory=lambda: lineage_sql.LineageSummary()
    )

    def __iter__(self) -> Iterator[Any]:
        return iter((self.registry, self.directives))

    def __getitem__(self, index: int) -> Any:
        return (self.registry, self.directives)[index]


@dataclass
class SendSummary:
    """What one pass over the outbox did: deliveries claimed, and their new statuses."""

    claimed: int = 0
    sent: int = 0
    local: int = 0
    no_target: int = 0
    failed: int = 0
    timeout: int = 0
    dead: int = 0

    def add(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)


@dataclass(frozen=True)
class ReassignResult:
    """What a reassignment did: the tasks moved (with the unit that answered before)."""

    to_unit: str
    on: date
    moved: list[tuple[str, str]]


@dataclass
class SweepReport:
    """What a sweep did: new ledger rows (by recipient role), new digests, what sending did.

    ``skipped`` is the reason a sweep did not run (a day off), else ``None``.
    """

    as_of: date
    sweep_id: int | None
    notices: int
    by_role: dict[str, int]
    deliveries: list[str]
    sent: SendSummary | None
    previews: dict[str, Digest] = field(default_factory=dict)
    skipped: str | None = None


class Tracker:
    """A migrated store (SQLite file or PostgreSQL), the working-day calendar and the settings."""

    def __init__(
        self,
        engine: Engine,
        calendar: WorkingCalendar,
        config: cfg.Config,
        clock: Callable[[], datetime] = cfg.utcnow,
    ) -> None:
        self.engine, self.calendar, self.config, self.clock = engine, calendar, config, clock

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        migrate: bool = True,
        schema: str | None = None,
        config: cfg.Config | None = None,
    ) -> Tracker:
        """Open (and by default create or upgrade) the store at ``url``.

        ``url`` defaults to ``$KTTT_DATABASE_URL``, else a SQLite file in ``$KTTT_HOME``. Opening
        a store whose schema is current takes no write lock, so reading commands run while
        another command writes.
        """
        try:
            config = config or cfg.Config.from_env()
        except cfg.ConfigError as e:
            raise KtttError(str(e)) from None
        address = db.normalise_url(cfg.database_url(url))
        engine = db.make_engine(address, schema=schema, busy_timeout=config.busy_timeout)
        tracker = cls(engine, defaults.default_calendar(), config)
        if migrate and not db.is_current(engine):
            with tracker._busy():
                db.migrate(engine)
        return tracker

    def __enter__(self) -> Tracker:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The store's URL, password masked."""
        return db.safe_url(self.engine.url.render_as_string(hide_password=False))

    def close(self) -> None:
        self.engine.dispose()

    def today(self) -> date:
        """Today in the offices' time zone."""
        return self.config.today(self.clock())

    # -- transactions ---------------------------------------------------------------------------
    @contextmanager
    def _busy(self) -> Iterator[None]:
        """Failures of the database itself, said plainly: SQLite's "another command holds the
        write lock" after the bounded wait, a full disk, a connection lost mid-transaction."""
        try:
            yield
        except DBAPIError as exc:
            if db.is_busy(exc):
                raise KtttError(
                    "cơ sở dữ liệu đang bận (một lệnh khác đang ghi); đã chờ "
                    f"{self.config.busy_timeout:g} giây, hãy thử lại sau (KTTT_BUSY_TIMEOUT)"
                ) from None
            said = db.failure(exc)
            if said is None:
                raise
            raise KtttError(said) from None

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction: committed on success, rolled back on any exception."""
        with self._busy(), self.engine.begin() as conn:
            yield conn

    def _read(self) -> Connection:
        """A connection for reading only (no write lock on SQLite)."""
        return db.read(self.engine)

    # -- declare / validate / load ------------------------------------------------------------
    def _inputs(self, conn: Connection, paths: Iterable[str | Path]) -> Bundle:
        """Check files against what the store holds (nothing, if it was never migrated)."""
        limit = self.config.max_input_bytes
        if not db.is_migrated(conn):
            return load_inputs(paths, max_bytes=limit)
        base = registry.read_registry(conn)
        known, policies = registry.read_implements(conn), registry.read_policy_codes(conn)
        bundle = load_inputs(paths, base, known, policies, max_bytes=limit)
        bundle.warnings.extend(_literal_secrets(bundle, base))
        if self.config.refuse_literal_secrets and bundle.warnings:
            raise InputError(bundle.warnings)
        return bundle

    def validate(self, paths: Iterable[str | Path]) -> Bundle:
        """Check files against the stored registry; raises ``InputError`` listing every problem."""
        with self._read() as conn:
            return self._inputs(conn, paths)

    def load(
        self, paths: Iterable[str | Path], *, until: date | None = None, replace: bool = False
    ) -> LoadResult:
        """Validate and load files in one transaction (all or nothing).

        The files are checked inside the writing transaction, against what the store holds then,
        with the registry locked: two loads at the same time cannot together store what each
        alone would refuse (a cycle of groups). A directive code already stored for another
        document is an error unless ``replace`` (then its tasks are removed, and listed).
        Recurring tasks get one instance per period up to ``until`` (default: the end of this
        year).
        """
        horizon = until or date(self.today().year, 12, 31)
        if not replace:
            quick = self._unchanged(paths, horizon)
            if quick is not None:
                return quick
        at = self.clock()
        with _collector_paused(), self._write() as conn:
            registry.lock(conn)
            bundle = self._inputs(conn, paths)
            replaced = _check_documents(conn, bundle, replace, self.config.max_input_bytes)
            reg = registry.RegistrySummary()
            if bundle.registry_files:
                reg = registry.save_registry(conn, [rf for _, rf in bundle.registry_files])
                reg.tasks_inherited = reassign.record_successions(conn, reg.successions, at)
                if reg.registry_changed:
                    reload.bump(conn, reload.REGISTRY)
            policies: dict[str, PolicyFile | EscalationPolicy] = {
                fanout.DEFAULT_POLICY: defaults.default_policy()
            }
            policies.update({pf.code: pf for _, pf in bundle.policies})
            for _, d in bundle.directives:
                policies.update(fanout.inline_policies(d))
            reg.policies_changed = registry.save_policies(conn, policies, at)
            if reg.units_changed or reg.policies_changed:
                next_step.invalidate(conn)  # who answers, or a ladder: every task examined
            if reg.policies_changed:
                reload.bump(conn, reload.POLICY)
            same = self._same_directives(conn, bundle, horizon)
            summaries = [
                same[doc.sha256]
                if doc.sha256 in same and d.code not in replaced
                else self._load_directive(conn, bundle, doc, d, horizon, at, replaced.get(d.code))
                for doc, d in bundle.directives
            ]
            touched = [sm.directive for sm in summaries if sm.load_id is not None]
            try:
                lin = lineage_sql.reconcile(conn, touched, at)
            except lineage_sql.LineageError as e:
                located = [
                    doc.issue(("implements", e.index, "completes"), str(e))
                    for doc, d in bundle.directives
                    if d.code == e.code
                ]
                raise (InputError(located) if located else e) from None
            self._record_inputs(conn, bundle, reg, summaries, horizon, at)
        return LoadResult(reg, summaries, bundle.warnings, lin)

    # -- reloads that cost nothing (store/reload.py) -----------------------------------------------
    def _unchanged(self, paths: Iterable[str | Path], horizon: date) -> LoadResult | None:
        """The answer to a load of files the store already holds, unchanged, under the current
        registry, policies, horizon, calendar and fan-out rules; None when anything may differ
        (then the full load runs, and says what)."""
        files, problems = collect_paths(paths)
        if problems or not files:
            return None
        digests: list[tuple[Path, str]] = []
        for f in files:
            try:
                if f.stat().st_size > self.config.max_input_bytes:
                    return None
                digests.append((f, hashlib.sha256(f.read_bytes()).hexdigest()))
            except OSError:
                return None
        with self._read() as conn:
            if not db.is_migrated(conn):
                return None
            v = reload.versions(conn)
            found = reload.known(conn, {sha for _, sha in digests})
        calendar = self.calendar.identity()
        summaries: list[LoadSummary] = []
        for f, sha in digests:
            k = found.get(sha)
            # A registry file is always written again (an upsert that changes nothing when the
            # store holds it): it is what repairs a registry changed behind the engine's back.
            if k is None or k.kind == "registry":
                return None
            if k.kind == "policy" and k.load_key != f"p{v[reload.POLICY]}":
                return None
            if k.kind == "directive":
                key = reload.directive_key(sha, v, horizon, calendar, fanout.RULES)
                if not k.current or k.code is None or k.load_key != key:
                    return None
                summaries.append(LoadSummary(k.code, str(f), unchanged=k.tasks, total=k.tasks))
        return LoadResult(RegistrySummary(), summaries)

    def _same_directives(
        self, conn: Connection, bundle: Bundle, horizon: date
    ) -> dict[str, LoadSummary]:
        """The directive files of ``bundle`` this store holds, unchanged, under the versions the
        registry and policies have now (after this load saved them): their fan-out would give
        what is stored, so it is skipped. By content hash."""
        v = reload.versions(conn)
        calendar = self.calendar.identity()
        found = reload.known(conn, {doc.sha256 for doc, _ in bundle.directives})
        out: dict[str, LoadSummary] = {}
        for doc, d in bundle.directives:
            k = found.get(doc.sha256)
            key = reload.directive_key(doc.sha256, v, horizon, calendar, fanout.RULES)
            if k is not None and k.current and k.code == d.code and k.load_key == key:
                out[doc.sha256] = LoadSummary(d.code, doc.file, unchanged=k.tasks, total=k.tasks)
        return out

    def _record_inputs(
        self,
        conn: Connection,
        bundle: Bundle,
        reg: RegistrySummary,
        summaries: list[LoadSummary],
        horizon: date,
        at: datetime,
    ) -> None:
        """After a full load: record every file it read, under the versions it left."""
        v = reload.versions(conn)
        calendar = self.calendar.identity()
        tasks = {s.directive: s.total for s in summaries}
        entries: list[tuple[str, str, str | None, int, str]]
        entries = [(doc.sha256, "registry", None, 0, f"r{v[reload.REGISTRY]}")
                   for doc, _ in bundle.registry_files]  # fmt: skip
        entries += [(doc.sha256, "policy", None, 0, f"p{v[reload.POLICY]}")
                    for doc, _ in bundle.policies]  # fmt: skip
        entries += [
            (doc.sha256, "directive", d.code, tasks.get(d.code, 0),
             reload.directive_key(doc.sha256, v, horizon, calendar, fanout.RULES))
            for doc, d in bundle.directives
        ]  # fmt: skip
        reload.record(conn, [e for e in entries if e[0]], at)

    def remove_directive(
        self, code: str, reason: str, *, on: date | None = None
    ) -> tuple[int, lineage_sql.LineageSummary]:
        """Remove a directive (``kttt remove``): its tasks leave every view, each in its history
        with the reason; the parent tasks it had completed (document lineage) are open again.
        Returns (tasks removed, what lineage withdrew). Loading its file again restores it."""
        if not reason or not reason.strip():
            raise KtttError("cần ghi lý do gỡ văn bản (--reason)")
        day = on or self.today()
        at = self.clock()
        with self._write() as conn:
            _known(conn, "directive", code)
            gone = lineage_sql.removed_on(conn, code)
            if gone is not None:
                raise KtttError(f"văn bản '{code}' đã được gỡ ngày {gone:%d/%m/%Y}")
            n = lineage_sql.remove_directive(conn, code, reason.strip(), day, at)
            return n, lineage_sql.reconcile(conn, [code], at)

    def coverage(
        self, directive: str, *, as_of: date | None = None, every_task: bool = False
    ) -> lineage_model.Coverage:
        """Per task of ``directive`` whose product is a document (``every_task``: all), which
        units have issued their implementing document (symbol, date, on time or late) and which
        have not, as of ``as_of``: "which districts have issued their plan for NQ 20"."""
        day = as_of or self.today()
        with self._read() as conn:
            _known(conn, "directive", directive)
            info = progress_sql.directive_infos(conn, {directive}).get(directive)
            rows = status.task_statuses(conn, day, directive=directive)
            if not every_task:
                rows = [r for r in rows if lineage_model.is_document(r.deliverable, r.title)]
            found = lineage_sql.documents(conn, [r.task_id for r in rows], day)
        out = []
        for r in rows:
            c = found.get(r.task_id)
            issued = None
            if c is not None:
                verified = c["state"] == "verified" and (
                    c["decided_on"] is None or c["decided_on"] <= day
                )
                issued = lineage_model.Issued(
                    c["evidence"], c["evidence_symbol"], c["evidence_date"], c["reported_on"],
                    verified, c["source_directive"] is not None,
                )  # fmt: skip
            out.append(
                lineage_model.CoverageRow(
                    r.task_id,
                    r.task_key,
                    r.title,
                    r.lead_shown,
                    r.due,
                    r.status,
                    r.status_label,
                    r.days_overdue,
                    issued,
                )  # fmt: skip
            )
        symbol = info.symbol if info else None
        title = info.title if info else directive
        return lineage_model.Coverage(directive, symbol, title, day, out, every_task)

    def _load_directive(
        self,
        conn: Connection,
        bundle: Bundle,
        doc: LocatedDocument,
        d: DirectiveFile,
        horizon: date,
        at: datetime,
        replaced: str | None,
    ) -> LoadSummary:
        focal, issuer = fanout.header_units(d, bundle.registry)
        src = load.DirectiveSource(d, doc.file, doc.sha256, focal, issuer)
        rows = fanout.fan_out_rows(d, bundle.registry, self.calendar, horizon)
        summary = load.merge_directive(conn, src, rows, at, replaced=replaced)
        if summary.load_id is not None and not summary.first:  # first: no task of it is done
            # Its load record marks the directive's tasks for the next sweep (store/next_step.py).
            activation.activate_ready(conn, d.code, at)
        return summary

    # -- status and reports ---------------------------------------------------------------------
    def status(
        self,
        *,
        as_of: date | None = None,
        directive: str | None = None,
        unit: str | None = None,
        statuses: Sequence[str] | None = None,
        task_ids: Sequence[str] | None = None,
    ) -> list[TaskStatus]:
        """Every task matching the filters, with its status as of ``as_of`` (default today).

        An unknown status name is an error (``KtttError``), not an empty answer.
        """
        try:
            wanted = [parse_status(s).value for s in statuses or ()]
        except ValueError as e:
            raise KtttError(str(e)) from None
        with self._read() as conn:
            _known(conn, "unit", unit)
            _known(conn, "directive", directive)
            return status.task_statuses(
                conn,
                as_of or self.today(),
                directive=directive,
                unit=unit,
                statuses=wanted or None,
                task_ids=task_ids,
            )

    def progress(
        self,
        *,
        as_of: date | None = None,
        directive: str | None = None,
        overdue_limit: int = progress.OVERDUE_LIMIT,
        period: str | progress.Period | None = None,
        unit: str | None = None,
        level: str | None = None,
        regime: str | progress.Regime | None = None,
        within: str | None = None,
    ) -> progress.ProgressReport:
        """The consolidated report by directive, unit and level (set-based ``GROUP BY``s), as of
        a date or for a reporting ``period`` ("2022-Q4": as of the end of its data cut-off),
        of one directive, unit or level, or ``within`` a unit (it and every unit under it: one
        province's share of a national cascade). See :meth:`_progress` (section "reports").

        A directive that is not stored (or has no task) is an error.
        """
        return self._progress(as_of, directive, overdue_limit, period, unit, level, regime, within)

    def explain_deadline(
        self, text: str, *, issued: date | None = None, roll: bool = True, count: int = 4
    ) -> DeadlineExplanation:
        """How the engine reads a deadline as written: its kind, nominal and working-day due
        dates, and the first ``count`` periods of a recurring one (from ``issued``, else today).

        Needs no store: ``kttt deadline`` calls :func:`kttt_workflow.domain.deadlines.explain`
        with the shipped calendar directly, without opening one.
        """
        return explain(text, issued, self.calendar, self.today(), count, roll)

    # -- completion -----------------------------------------------------------------------------
    def complete(
        self,
        task: str,
        evidence: str,
        *,
        on: date | None = None,
        unit: str | None = None,
        note: str | None = None,
        attachment: str | None = None,
        actuals: Sequence[str] = (),
    ) -> CompletionResult:
        """Record a unit's completion report with its evidence (the issued document's symbol and
        date, e.g. "Kế hoạch số 28/KH-UBND ngày 04/02/2021"); it waits for verification.
        ``actuals`` ("Số hợp tác xã thành lập mới=12") are the values reached against the
        task's targets; a task without targets takes none."""
        if not evidence or not evidence.strip():
            raise KtttError(
                "cần ghi minh chứng hoàn thành (số, ký hiệu và ngày văn bản đã ban hành)"
            )
        ev = parse_evidence(evidence)
        day = on or self.today()
        with self._write() as conn:
            task_id = completion.resolve_task(conn, task, unit)
            problem = report_date_error(
                day,
                today=self.today(),
                assigned_on=completion.assigned_on(conn, task_id),
                evidence_on=ev.issued_on,
            )
            if problem:
                raise KtttError(problem)
            try:
                values = (
                    target_model.parse_actuals(actuals, targets_sql.indicators(conn, task_id))
                    if actuals
                    else None
                )
            except target_model.ActualError as e:
                raise KtttError(f"--actual: {e}") from None
            return completion.record_report(
                conn, task_id, ev, on=day, note=note, attachment=attachment, at=self.clock(),
                actuals=values,
            )  # fmt: skip

    def targets(
        self, *, directive: str | None = None, as_of: date | None = None
    ) -> target_model.TargetReport:
        """Target, actual and % of target per unit and in total, as of ``as_of``."""
        day = as_of or self.today()
        with self._read() as conn:
            _known(conn, "directive", directive)
            return targets_sql.report(conn, day, directive)

    def verify(
        self, task: str, *, on: date | None = None, unit: str | None = None
    ) -> CompletionResult:
        """Accept the pending report: the task is done as of the report date; children activate."""
        day = on or self.today()
        at = self.clock()
        with self._write() as conn:
            task_id = completion.resolve_task(conn, task, unit)
            self._check_decision(conn, task_id, day)
            r = completion.record_verification(conn, task_id, on=day, at=at)
            directive = completion.task_directive(conn, task_id)
            activated = activation.activate_ready(conn, directive, at)
        return CompletionResult(r.task_id, r.state, r.completion_id, activated)

    def return_(
        self, task: str, reason: str, *, on: date | None = None, unit: str | None = None
    ) -> CompletionResult:
        """Return the pending report with a reason: it does not count; the task is open again."""
        if not reason or not reason.strip():
            raise KtttError("cần ghi lý do trả lại báo cáo")
        day = on or self.today()
        with self._write() as conn:
            task_id = completion.resolve_task(conn, task, unit)
            self._check_decision(conn, task_id, day)
            return completion.record_return(conn, task_id, reason, on=day, at=self.clock())

    def _check_decision(self, conn: Connection, task_id: str, day: date) -> None:
        reported = completion.pending_report(conn, task_id)["reported_on"]
        problem = decision_date_error(day, today=self.today(), reported_on=reported)
        if problem:
            raise KtttError(problem)

    # -- reassignment -----------------------------------------------------------------------------
    def reassign(
        self,
        to_unit: str,
        reason: str,
        *,
        task: str | None = None,
        from_unit: str | None = None,
        on: date | None = None,
        unit: str | None = None,
    ) -> ReassignResult:
        """Move open tasks to ``to_unit`` from ``on`` (default today): one task (``task``, with
        ``unit`` as in ``kttt complete``), or every open task ``from_unit`` answers for on that
        day (a dissolved district's tasks to the commune or department that takes them over).
        Each move is in the task's history with the reason; nothing moves on an error."""
        if (task is None) == (from_unit is None):
            raise KtttError("cần ghi một nhiệm vụ hoặc --from ĐƠN_VỊ (không ghi cả hai)")
        if not reason or not reason.strip():
            raise KtttError("cần ghi lý do giao lại (--reason), ví dụ số và ngày văn bản giao")
        day = on or self.today()
        with self._write() as conn:
            _known(conn, "unit", to_unit)
            _known(conn, "unit", from_unit)
            _, starts, ends = reassign.unit_on(conn, to_unit, day) or ("", None, None)
            if ends is not None and ends < day:
                raise KtttError(
                    f"đơn vị '{to_unit}' đã thôi hoạt động từ sau ngày {ends:%d/%m/%Y}; "
                    "không thể giao nhiệm vụ cho đơn vị này"
                )
            if starts is not None and starts > day:
                raise KtttError(
                    f"đơn vị '{to_unit}' bắt đầu hoạt động từ ngày {starts:%d/%m/%Y}; "
                    f"không thể giao nhiệm vụ từ ngày {day:%d/%m/%Y}"
                )
            ids = [completion.resolve_task(conn, task, unit)] if task is not None else []
            moves = reassign.movable(conn, day, task_ids=ids, from_unit=from_unit)
            if task is not None and not moves:
                raise KtttError(f"nhiệm vụ '{ids[0]}' đã hoàn thành hoặc đã bỏ: không giao lại")
            if from_unit is not None and not moves:
                raise KtttError(
                    f"đơn vị '{from_unit}' không có nhiệm vụ nào chưa hoàn thành vào ngày "
                    f"{day:%d/%m/%Y}"
                )
            moves = [(t, old) for t, old in moves if old != to_unit]
            reassign.move(conn, moves, to_unit, day, reason.strip(), self.clock())
        return ReassignResult(to_unit, day, moves)

    def history(self, task: str, *, unit: str | None = None) -> list[dict[str, Any]]:
        """The task's history (created, changed, reported, verified…), oldest first."""
        with self._read() as conn:
            return completion.history(conn, completion.resolve_task(conn, task, unit, removed=True))

    # -- sweep: escalate and notify -------------------------------------------------------------
    def day_off(self, day: date) -> str | None:
        """Why no sweep runs on ``day`` (a weekend, a holiday, Tết), or ``None`` on a working day.

        >>> tracker.day_off(date(2023, 1, 23))                  # doctest: +SKIP
        '23/01/2023 là ngày nghỉ (Tết Nguyên Đán)'
        """
        if self.calendar.is_working_day(day):
            return None
        name = self.calendar.holiday_name(day)
        return f"{day:%d/%m/%Y} là ngày nghỉ" + (f" ({name})" if name else "")

    def sweep(
        self,
        *,
        as_of: date | None = None,
        dry_run: bool = False,
        send: bool = True,
        force: bool = False,
        settings: cfg.OutboxSettings | None = None,
    ) -> SweepReport:
        """Decide the notices due as of a date, record them, build one digest per unit, send.

        A day off (weekend, holiday, Tết) is skipped unless ``force``: offices do not work, and
        the next working day's sweep catches up. ``dry_run`` computes everything in a transaction
        that is rolled back: nothing is written and nothing is sent; the report carries the
        digests that would go out.
        """
        day = as_of or self.today()
        why = None if force else self.day_off(day)
        if why:
            return SweepReport(day, None, 0, {}, [], None, skipped=why)
        if dry_run:
            return self._dry_run(day)
        # The delivery settings are checked before anything is recorded: a wrong value stops
        # the sweep, not half of it.
        outbox_cfg = self._outbox(settings) if send else None
        at = self.clock()
        with self._write() as conn:
            sweep_id = sweep.start_sweep(conn, day, at)
            counts = self._record(conn, day, sweep_id, at)
        ids = self._build_deliveries(day, sweep_id)
        sent = self._deliver(outbox_cfg, False, None, None) if outbox_cfg else None
        with self._write() as conn:
            sweep.finish_sweep(conn, sweep_id, sum(counts.values()), len(ids), self.clock())
        return SweepReport(day, sweep_id, sum(counts.values()), counts, ids, sent)

    def _record(self, conn: Any, day: date, sweep_id: int | None, at: datetime) -> dict[str, int]:
        return sweep.sweep_decisions(conn, day, self.calendar, sweep_id, at)

    def _dry_run(self, day: date) -> SweepReport:
        with self._busy(), self.engine.connect() as conn:
            trans = conn.begin()
            try:
                counts = self._record(conn, day, None, self.clock())
                pending = sweep.pending_lines(conn, day)
                names = registry.unit_names(conn, pending)
            finally:
                trans.rollback()
        previews = {
            r: render(names.get(r, r), day, [line for _, line in items])
            for r, items in pending.items()
        }
        return SweepReport(day, None, sum(counts.values()), counts, [], None, previews)

    def _build_deliveries(self, day: date, sweep_id: int | None) -> list[str]:
        """One digest per recipient unit from the notices not yet in a delivery; new ids."""
        with self._read() as conn:
            pending = sweep.pending_lines(conn, day)
            names = registry.unit_names(conn, pending)
        created: list[str] = []
        batch: list[tuple[str, str, Digest, list[int]]] = []
        for n, (recipient, items) in enumerate(pending.items(), 1):
            digest = render(names.get(recipient, recipient), day, [line for _, line in items])
            batch.append((uuid.uuid4().hex, recipient, digest, [i for i, _ in items]))
            if len(batch) == _DIGEST_BATCH or n == len(pending):
                # One short transaction per batch; a digest whose notices a concurrent sweep
                # took first is left out (store/sweep.py claim_digests).
                with self._write() as conn:
                    created += sweep.claim_digests(conn, sweep_id, day, batch, self.clock())
                batch = []
        return created

    def deliver(
        self,
        *,
        settings: cfg.OutboxSettings | None = None,
        force: bool = False,
        ids: Sequence[str] | None = None,
        at: datetime | None = None,
    ) -> SendSummary:
        """Send what is due in the outbox (or ``ids``); ``force`` retries failed deliveries now.

        Each delivery: claim (one short transaction, before any network I/O) → send to the
        targets that do not have it yet → record the attempt and the next status. ``at`` is the
        time the backoff is compared with (default now).
        """
        return self._deliver(self._outbox(settings), force, ids, at)

    def _outbox(
        self, settings: cfg.OutboxSettings | None
    ) -> tuple[cfg.OutboxSettings, dict[str, list[str]]]:
        """The delivery settings (from the environment unless given) and the extra targets of
        the Apprise configuration file, checked; a problem is a ``KtttError``."""
        try:
            settings = settings or cfg.OutboxSettings.from_env()
            path = settings.apprise_config
            extra = load_apprise_config(path) if path else {}
        except (cfg.ConfigError, TargetError) as e:
            raise KtttError(str(e)) from None
        return settings, extra

    def _deliver(
        self,
        outbox_cfg: tuple[cfg.OutboxSettings, dict[str, list[str]]],
        force: bool,
        ids: Sequence[str] | None,
        at: datetime | None,
    ) -> SendSummary:
        """The outbox's due deliveries (a snapshot taken now), sent concurrently.

        The main thread does every database step; worker threads only send. Claims are taken in
        small batches as room frees up (never more than can start soon: a claimed delivery is
        in flight, so a crash can leave at most that many to be sent again once stale), and
        finished attempts are recorded in the same short transactions. ``delivery.Lanes`` bounds
        the digests in flight in all and per channel and host (``dispatch.lanes``): a hanging
        host holds its own lanes for its own timeout while the others go on.
        """
        settings, extra = outbox_cfg
        due_at = at or self.clock()
        summary = SendSummary()
        with self._read() as conn:
            todo = outbox.candidates(conn, ids)
        lanes = delivery.Lanes()
        waiting: deque[tuple[outbox.Job, str | None, frozenset[str]]] = deque()
        running: dict[cf.Future[list[delivery.TargetOutcome]], tuple[outbox.Job, frozenset[str]]]
        running = {}
        finished: list[outbox.Attempt] = []
        failure: BaseException | None = None
        pos = 0
        waited_out = False
        pool = cf.ThreadPoolExecutor(max_workers=lanes.workers, thread_name_prefix="kttt-deliver")
        try:
            while True:
                batch = max(1, lanes.window // 2)
                want = lanes.room() - len(waiting)
                refill = failure is None and pos < len(todo) and (want >= batch or not running)
                flush = bool(finished) and (len(finished) >= batch or not running or waited_out)
                if refill or flush:
                    chunk = list(todo[pos : pos + max(want, 0)]) if refill else []
                    pos += len(chunk)
                    with self._write() as conn:
                        if finished:
                            outbox.record_attempts(conn, finished, at=self.clock())
                        taken = outbox.claim_many(
                            conn,
                            chunk,
                            due_at=due_at,
                            now=self.clock(),
                            stale_after=settings.stale_after,
                            force=force,
                        )
                        jobs = outbox.read_jobs(conn, taken, extra)
                        htmls = [sweep.delivery_html(conn, j.delivery_id) for j in jobs]
                    for a in finished:
                        summary.add(a.status)
                    finished = []
                    summary.claimed += len(jobs)
                    for job, html in zip(jobs, htmls, strict=True):
                        waiting.append((job, html, lanes_of(job.targets, job.already_sent)))
                for item in list(waiting):
                    if lanes.room() == 0:
                        break
                    if lanes.fits(item[2]):
                        waiting.remove(item)
                        lanes.start(item[2])
                        ctx = contextvars.copy_context()
                        fut = pool.submit(ctx.run, self._attempt, item[0], settings, item[1])
                        running[fut] = (item[0], item[2])
                if not running and not finished:
                    if failure is not None:
                        raise failure
                    if pos >= len(todo) and not waiting:
                        return summary
                    continue
                if not running:
                    continue  # record what finished
                done, _ = cf.wait(
                    running,
                    timeout=_FLUSH_AFTER if finished else None,
                    return_when=cf.FIRST_COMPLETED,
                )
                waited_out = not done
                for fut in done:
                    job, keys = running.pop(fut)
                    try:
                        outcomes = fut.result()
                    except Exception as exc:  # not recorded: stays "sending", retried once stale
                        lanes.done(keys, ok=False)
                        failure = failure or exc
                        continue
                    status_, next_at = delivery.next_step(
                        [o.status for o in outcomes],
                        job.already_sent,
                        job.attempt,
                        due_at=due_at,
                        max_attempts=settings.max_attempts,
                        base=settings.retry_base,
                        cap=settings.retry_cap,
                        rng=settings.rng,
                    )
                    lanes.done(keys, ok=status_ in ("sent", "local"))
                    finished.append(outbox.Attempt(job, outcomes, status_, next_at))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            close_idle_smtp()

    def _attempt(
        self, job: outbox.Job, settings: cfg.OutboxSettings, html: str | None = None
    ) -> list[delivery.TargetOutcome]:
        """One attempt at one claimed digest (in a worker thread: no database)."""
        message = Message(
            job.delivery_id,
            job.subject,
            job.text,
            job.markdown,
            job.recipient,
            job.recipient_name,
            html=html or "",
            sender=settings.mail_from,
        )
        return dispatch(
            message,
            job.targets,
            job.already_sent,
            maildir=settings.maildir,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
        )

    def deliveries(
        self, *, unit: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        """The delivery ledger: each digest, its status, attempts and errors (targets masked)."""
        if status is not None and status not in outbox.STATUSES:
            raise KtttError(
                f"trạng thái gửi '{status}' không hợp lệ; cần một trong: {', '.join(outbox.STATUSES)}"
            )
        with self._read() as conn:
            _known(conn, "unit", unit)
            return outbox.list_deliveries(conn, unit=unit, status=status)

    # -- facts for the event feed ---------------------------------------------------------------
    def watermark(self) -> facts.Watermark:
        """Where the history and the delivery ledger end now (facts after it are new)."""
        with self._read() as conn:
            return facts.watermark(conn)

    def history_facts(
        self, after: int, kinds: Sequence[str] = facts.HISTORY_KINDS
    ) -> list[facts.Fact]:
        with self._read() as conn:
            return facts.history_facts(conn, after, kinds)

    def notice_facts(self, sweep_id: int, after: int = 0) -> list[facts.Fact]:
        """The notices of sweep ``sweep_id`` as facts; ``after``: :attr:`Watermark.notices` of
        a watermark taken before that sweep (its read is then the sweep's rows alone)."""
        with self._read() as conn:
            return facts.notice_facts(conn, sweep_id, after=after)

    def delivery_facts(self, after: int) -> list[facts.Fact]:
        with self._read() as conn:
            return facts.delivery_facts(conn, after)

    # -- reports (issue 9) ----------------------------------------------------------------------
    def _progress(
        self,
        as_of: date | None,
        directive: str | None,
        overdue_limit: int,
        period: str | reporting.Period | None,
        unit: str | None,
        level: str | None,
        regime: str | reporting.Regime | None,
        within: str | None = None,
    ) -> reporting.ProgressReport:
        from kttt_workflow.domain import periods

        try:
            if isinstance(period, str):
                period = periods.parse_period(period)
            if isinstance(regime, str):
                regime = periods.parse_regime(regime)
        except periods.PeriodError as e:
            raise KtttError(str(e)) from None
        if period is not None and as_of is not None:
            raise KtttError("chỉ chọn một trong ngày tính (--as-of) và kỳ báo cáo (--period)")
        day = period.cutoff_end if period else (as_of or self.today())
        window = (period.cutoff_start, period.cutoff_end) if period else None
        scope = progress_sql.Scope(day, directive, unit, level, window, within)
        with self._read() as conn:
            progress_sql.report_session(conn)
            _known(conn, "unit", unit)
            _known(conn, "unit", within)
            self._known_level(conn, level)
            # One scan of the tasks: both counts, and how far back the overdue lists reach.
            counts, plan_counts, until = progress_sql.tally(conn, scope, overdue_limit)
            with_tasks = {c.directive for c in counts}
            infos = progress_sql.directive_infos(
                conn, with_tasks | ({directive} if directive else set())
            )
            units = progress_sql.unit_infos(
                conn, {c.unit for c in counts} | {unit or "", within or ""}
            )
            levels = progress_sql.level_infos(conn)
            # The longest overdue of EACH directive: one list capped across documents left the
            # later directives' artifacts saying "no overdue task" beside their own count.
            ids = [
                i
                for code in sorted(with_tasks)
                for i in progress_sql.overdue_ids(
                    conn,
                    dataclasses.replace(scope, directive=code),
                    overdue_limit,
                    until.get(code),
                )
            ]
            found = progress_sql.statuses(conn, day, ids)
            overdue = sorted(
                (found[i] for i in ids if i in found),
                key=lambda x: (x.due or day, x.directive, x.task_id),
            )
            plans = self._plans(conn, scope, with_tasks, overdue, plan_counts)
            goals = targets_sql.report(conn, day, directive)
        if directive and directive not in infos:
            raise KtttError(f"không có nhiệm vụ nào của văn bản '{directive}'")
        for code in with_tasks - set(infos):  # tasks always belong to a stored directive
            infos[code] = reporting.DirectiveInfo(code, "", None, None, code)
        return reporting.assemble(
            day,
            directive,
            counts,
            infos,
            units,
            levels,
            overdue,
            overdue_limit,
            period=period,
            regime=(regime or periods.DEFAULT_REGIME) if period else regime,
            unit=unit,
            unit_name=units[unit][0] if unit and unit in units else None,
            level=level,
            level_name=levels[level][0] if level and level in levels else None,
            within=within,
            within_name=units[within][0] if within and within in units else None,
            plans=plans,
            targets=goals,
        )

    def _plans(
        self,
        conn: Connection,
        scope: progress_sql.Scope,
        codes: set[str],
        overdue: list[TaskStatus],
        counts: list[reporting.PlanCount],
    ) -> list[reporting.PlanTable]:
        """The appendix table of each directive: its plan's tasks, counted by status
        (``counts``: :func:`kttt_workflow.store.progress.tally`'s)."""
        singles: list[str] = []
        per_key: dict[tuple[str, str], list[reporting.PlanCount]] = {}
        for c in counts:
            per_key.setdefault((c.directive, c.key), []).append(c)
        for group in per_key.values():
            if sum(c.count for c in group) == 1:
                singles.append(group[0].first_id)
        found = progress_sql.statuses(conn, scope.as_of, singles)
        done = progress_sql.completions(conn, scope.as_of, singles)
        specs = progress_sql.directive_specs(conn, codes)
        named: set[str] = set()
        for spec in specs.values():
            for task in reporting.spec_tasks(spec):
                named.add(str(task.get("lead", "")))
                named.update(str(x) for x in task.get("coordinating") or [])
        names = progress_sql.names(conn, named)
        return [
            reporting.plan_table(
                code,
                specs[code],
                [c for c in counts if c.directive == code],
                names,
                found,
                done,
                overdue,
            )  # fmt: skip
            for code in sorted(specs)
        ]

    @contextmanager
    def report_tasks(
        self, report: reporting.ProgressReport, limit: int = reporting.SHEET_LIMIT
    ) -> Iterator[Iterator[tuple[TaskStatus, reporting.Completed | None]]]:
        """Every task of ``report`` (at most ``limit``) with the report that counts for it, in the
        plan's order, streamed from one read connection (``with t.report_tasks(r) as rows:``)."""
        window = (report.period.cutoff_start, report.as_of) if report.period else None
        scope = progress_sql.Scope(
            report.as_of, report.directive, report.unit, report.level, window, report.within
        )
        order = {p.directive: [r.key for r in p.rows] for p in report.plans}
        with self._read() as conn:
            yield progress_sql.task_lines(conn, scope, order, limit)

    def write_report(
        self,
        report: reporting.ProgressReport,
        path: Path,
        kind: str,
        *,
        issuer: str | None = None,
        place: str | None = None,
        dated: date | None = None,
    ) -> Path:
        """Write ``report`` as a ``docx`` (Nghị định 30/2020/NĐ-CP layout, with its appendices)
        or ``xlsx`` (summary and the tracking sheet, every task streamed from the store) file,
        atomically. ``issuer`` is the registry code of the unit that reports (its name and its
        parent's head the .docx); ``place`` and ``dated`` fill the place-and-date line (left
        blank for the office otherwise)."""
        path = Path(path)
        if kind == "xlsx":
            from kttt_workflow.reports.xlsx import write_xlsx

            with self.report_tasks(report) as rows:
                return write_xlsx(report, rows, path, limit=reporting.SHEET_LIMIT)
        if kind != "docx":
            raise KtttError(f"không lập được tệp báo cáo dạng '{kind}'; cần docx hoặc xlsx")
        from kttt_workflow.reports.docx import Letter, write_docx

        name, parent = self.letterhead(issuer) if issuer else (None, None)
        return write_docx(report, path, Letter(issuer=name, superior=parent, place=place,
                                               dated=dated))  # fmt: skip

    def reports_folder(self) -> Path:
        """Where the flows keep the report files they write: ``reports/`` in the data folder
        (``$KTTT_HOME``), made readable by its owner only."""
        return cfg.private_dir(cfg.data_dir() / "reports")

    def letterhead(self, unit: str) -> tuple[str, str | None]:
        """(name, parent's name) of the unit issuing a report, for its heading block."""
        with self._read() as conn:
            _known(conn, "unit", unit)
            found = progress_sql.unit_parent(conn, unit)
        assert found is not None  # _known checked it
        return found

    def record_completions(
        self, entries: Sequence[reporting.SheetCompletion]
    ) -> reporting.CompletionBatch:
        """Record the completion reports of a returned sheet (``kttt import-progress``), each
        waiting for verification, in one transaction: any wrong row (unknown task, impossible
        date…) is an ``InputError`` naming its sheet, row and column, and nothing is written.

        A task already reported or done is left as it is (listed in ``skipped``).
        """
        issues: list[Issue] = []
        batch = reporting.CompletionBatch()
        today = self.today()
        at = self.clock()
        with self._write() as conn:
            for e in entries:
                try:
                    task_id = completion.resolve_task(conn, e.task_id)
                except KtttError as x:
                    issues.append(self._sheet_issue(e, "key", str(x)))
                    continue
                if task_id != e.task_id:
                    issues.append(
                        self._sheet_issue(e, "key", f"không có nhiệm vụ mã '{e.task_id}'")
                    )
                    continue
                state = progress_sql.task_state(conn, task_id)
                if state in ("reported", "done"):
                    batch.skipped.append((task_id, state))
                    continue
                ev = parse_evidence(e.evidence)
                day = e.on or ev.issued_on
                if day is None:
                    issues.append(
                        self._sheet_issue(e, "on", "cần ghi ngày hoàn thành (dd/mm/yyyy)")
                    )
                    continue
                problem = report_date_error(
                    day,
                    today=today,
                    assigned_on=completion.assigned_on(conn, task_id),
                    evidence_on=ev.issued_on,
                )
                if problem:
                    issues.append(self._sheet_issue(e, "on" if e.on else "evidence", problem))
                    continue
                if issues:
                    continue  # nothing will be written: only look for more problems
                r = completion.record_report(
                    conn, task_id, ev, on=day, note=e.note, attachment=None, at=at
                )
                batch.recorded.append((r.task_id, r.warnings))
            if issues:
                raise InputError(issues)
        return batch

    @staticmethod
    def _sheet_issue(e: reporting.SheetCompletion, column: str, message: str) -> Issue:
        """An issue at the cell of ``e``'s row that holds ``column`` (key, on, evidence)."""
        file, row, col, where = e.locate(column)
        return Issue(file, row, col, f"{where}: {message}")

    @staticmethod
    def _known_level(conn: Connection, level: str | None) -> None:
        """A level given to filter a report by must exist (close matches otherwise)."""
        if level is None:
            return
        levels = sorted(progress_sql.level_infos(conn))
        if level in levels:
            return
        close = get_close_matches(level, levels, n=3, cutoff=0.6)
        hint = f"có phải: {', '.join(close)}?" if close else f"các cấp: {', '.join(levels)}"
        raise KtttError(f"không có cấp mã '{level}' trong cơ sở dữ liệu; {hint}")

    # -- the leader's view in Prefect (issue 10): small reads --------------------------------------
    def unit_flags(
        self, *, as_of: date, directive: str | None = None
    ) -> dict[tuple[str, str], reporting.UnitFlags]:
        """Per (directive, answering unit): the most days overdue of its overdue tasks, and how
        many of its open tasks have a report returned on or before ``as_of``: one ``GROUP BY``."""
        from sqlalchemy import Date, and_, case, exists, func, literal, select

        from kttt_workflow.store import tables

        t, c = tables.task_t, tables.completion_t
        d = literal(as_of, type_=Date)
        with self._read() as conn:
            b = progress_sql._base(conn, progress_sql.Scope(as_of, directive))
            returned = exists().where(c.c.task_id == t.c.id, c.c.state == "returned",
                                      c.c.decided_on <= d)  # fmt: skip
            still_open = b.status.in_(("overdue", "on_track"))
            unit = b.answers.label("unit")
            q = (
                select(
                    t.c.directive_code,
                    unit,
                    func.max(case((b.status == "overdue", b.days), else_=None)).label("days"),
                    func.sum(case((and_(still_open, returned), 1), else_=0)).label("returned"),
                )
                .select_from(b.source)
                .where(*b.where)
                .group_by(t.c.directive_code, unit)
            )
            return {
                (r.directive_code, r.unit): reporting.UnitFlags(
                    int(r.days or 0), int(r.returned or 0)
                )
                for r in conn.execute(q)
            }

    def done_series(
        self, days: Sequence[date], directive: str | None = None
    ) -> dict[date, dict[str, float | None]]:
        """% done of the tasks due as of each of ``days``, by directive (or of ``directive``
        only) and for all together under ``""`` (a chart's points): the report's figure as of
        each day, from the tasks due by then alone (:func:`~kttt_workflow.store.progress.
        due_counts`)."""
        with self._read() as conn:
            return {
                day: reporting.done_pcts(
                    progress_sql.due_counts(conn, progress_sql.Scope(day, directive))
                )
                for day in days
            }

    def sweep_dates(self, until: date) -> list[date]:
        """The dates the daily sweep ran for, up to ``until``, oldest first."""
        from sqlalchemy import select

        from kttt_workflow.store import tables

        s = tables.sweep_t
        with self._read() as conn:
            q = select(s.c.as_of).where(s.c.as_of <= until).distinct().order_by(s.c.as_of)
            return [r.as_of for r in conn.execute(q)]

    def directive_names(self, codes: Iterable[str]) -> dict[str, str]:
        """How a leader names each directive (its symbol, or the symbol its title cites)."""
        with self._read() as conn:
            infos = progress_sql.directive_infos(conn, set(codes))
        return {code: reporting.short_name(info) for code, info in infos.items()}

    def find_task(self, task: str, unit: str | None = None) -> tuple[str | None, list[str]]:
        """The id of the task ``task`` names (with ``unit``), or None and the closest ids."""
        from sqlalchemy import select

        from kttt_workflow.store import tables

        t = tables.task_t
        with self._read() as conn:
            try:
                return completion.resolve_task(conn, task, unit), []
            except KtttError:
                pass
            ref = fanout.task_ref(task, unit)
            head = ref.split("/", 1)[0]
            q = select(t.c.id).where(
                t.c.state != "removed", t.c.id.startswith(head, autoescape=True)
            )
            ids = [r.id for r in conn.execute(q.limit(20_000))]
            if not ids:
                ids = [
                    r.id
                    for r in conn.execute(
                        select(t.c.id).where(t.c.state != "removed").limit(20_000)
                    )
                ]
        return None, get_close_matches(ref, ids, n=5, cutoff=0.5)


# -- checks that need the store or the adapter --------------------------------------------------
_KNOWN = {"unit": ("đơn vị", "unit"), "directive": ("văn bản chỉ đạo", "directive")}


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a load builds its rows, then as it was.

    A load makes hundreds of thousands of objects that hold no cycle (the registry's units, the
    fan-out's rows) and keeps them to its end; each full collection on the way scans them all
    and frees nothing: 0.15-0.4 s of a 2 s load of 100,000 tasks (bench/README.md). Reference
    counting still frees everything else as usual; cycles made meanwhile wait for the next
    collection after the load.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _known(conn: Connection, kind: str, code: str | None) -> None:
    """A unit or directive code given to filter by must exist: an unknown one is an error with
    the close matches, not an empty answer."""
    if code is None:
        return
    codes = registry.codes(conn, _KNOWN[kind][1])
    if code in codes:
        return
    close = get_close_matches(code, sorted(codes), n=3, cutoff=0.6)
    hint = f"; có phải: {', '.join(close)}?" if close else ""
    raise KtttError(f"không có {_KNOWN[kind][0]} mã '{code}' trong cơ sở dữ liệu{hint}")


# -- checks of a load that need the store or the adapter --------------------------------------
def _describe(symbol: str | None, issued: date | None, issuer: str, title: str) -> str:
    head = symbol or f"«{title}»"
    when = f" ngày {issued:%d/%m/%Y}" if issued else ""
    return f"{head}{when} của {issuer}"


def _check_documents(
    conn: Connection, bundle: Bundle, replace: bool, max_bytes: int
) -> dict[str, str]:
    """A directive code already stored for another document (other symbol, date or issuer) is an
    error naming both files and both documents, unless ``replace``. The same document from a
    moved or renamed file is an amendment. Returns the replaced documents by code."""
    stored = load.stored_documents(conn, [d.code for _, d in bundle.directives])
    issues: list[Issue] = []
    replaced: dict[str, str] = {}
    for doc, d in bundle.directives:
        old = stored.get(d.code)
        if old is None:
            continue
        untitled = d.document.symbol is None and old.symbol is None  # then the title tells
        new_id = (d.document.symbol, d.document.date, name_key(d.document.issuer),
                  name_key(d.document.title) if untitled else "")  # fmt: skip
        old_id = (old.symbol, old.issued_on, name_key(old.issuer),
                  name_key(old.title) if untitled else "")  # fmt: skip
        if new_id == old_id:
            continue
        before = _describe(old.symbol, old.issued_on, old.issuer, old.title)
        now = _describe(d.document.symbol, d.document.date, d.document.issuer, d.document.title)
        if replace:
            replaced[d.code] = before
            continue
        issues.append(
            doc.issue(
                ("code",),
                f"mã chỉ đạo '{d.code}' đã dùng cho văn bản khác: {before} (nạp từ tệp "
                f"{old.source_path}); tệp này là {now}. Hãy đặt mã khác, hoặc nạp với --replace "
                "để thay thế (các nhiệm vụ của văn bản cũ được bỏ và ghi vào lịch sử)",
            )
        )
        if old.source_path and old.source_path != doc.file and Path(old.source_path).is_file():
            other, _ = read_yaml(Path(old.source_path), old.source_path, max_bytes=max_bytes)
            if other is not None:
                issues.append(
                    other.issue(
                        ("code",),
                        f"văn bản {before} đã nạp với mã '{d.code}'; {doc.file} dùng lại mã này cho {now}",
                    )
                )
    if issues:
        raise InputError(issues)
    return replaced


def _literal_secrets(bundle: Bundle, stored: Any) -> list[Issue]:
    """A password or token written in clear in a unit's target (not a ``${VAR}`` placeholder):
    a warning at the target (only targets new to the store are inspected)."""
    found: list[Issue] = []
    for doc, rf in bundle.registry_files:
        for i, u in enumerate(rf.units):
            known = set(stored.units[u.code].targets) if u.code in stored.units else set()
            for j, template in enumerate(u.targets):
                if template in known:
                    continue
                seen = inspect_target(template)
                clear = [w for w in seen.secrets if "${" not in unquote(unquote(w))]
                if clear:
                    found.append(
                        doc.issue(
                            ("units", i, "targets", j),
                            f"địa chỉ nhận '{seen.masked}' có mật khẩu hoặc token ghi trực tiếp "
                            "trong tệp; hãy đặt nó vào biến môi trường và ghi ${TEN_BIEN} (ví dụ "
                            "${KTTT_SMTP_PASS})",
                        )
                    )
    return found
