"""The library's front door: every CLI command and every Prefect flow calls these.

>>> store = Store.open("sqlite:///:memory:")          # doctest: +SKIP
>>> store.load(["directives/"])                        # doctest: +SKIP
>>> store.status(as_of=date(2022, 12, 5), directive="ctr-nq20-2022")   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from kttt_workflow.domain.calendar import WorkingCalendar, default_calendar
from kttt_workflow.domain.digest import Digest
from kttt_workflow.domain.registry import Registry
from kttt_workflow.spec.validate import Bundle
from kttt_workflow.store import completion as C
from kttt_workflow.store import db
from kttt_workflow.store import load as L
from kttt_workflow.store import outbox as O
from kttt_workflow.store import sweep as S
from kttt_workflow.store.outbox import OutboxSettings
from kttt_workflow.store.status import TaskStatus, status_counts, task_statuses


@dataclass
class SweepReport:
    """What a sweep did: new ledger rows (by recipient role), new digests, what sending did."""

    as_of: date
    sweep_id: int | None
    notices: int
    by_role: dict[str, int]
    deliveries: list[str]
    sent: O.SendSummary | None
    previews: dict[str, Digest]


@dataclass
class Store:
    """A migrated store (SQLite file or PostgreSQL) and the working-day calendar."""

    engine: Engine
    calendar: WorkingCalendar

    @classmethod
    def open(
        cls, url: str | None = None, *, migrate: bool = True, schema: str | None = None
    ) -> Store:
        """Open (and by default create or upgrade) the store at ``url``.

        ``url`` defaults to ``$KTTT_DATABASE_URL``, else a SQLite file in ``$KTTT_HOME``.
        """
        engine = db.make_engine(url, schema=schema)
        if migrate:
            db.migrate(engine)
        return cls(engine, default_calendar())

    @property
    def url(self) -> str:
        return db.safe_url(self.engine.url.render_as_string(hide_password=False))

    def close(self) -> None:
        self.engine.dispose()

    # -- declare / validate / load -------------------------------------------------------------
    def validate(self, paths: Iterable[str | Path]) -> Bundle:
        """Check files against the stored registry; raises ``InputError`` listing every problem."""
        return L.validate_paths(self.engine if db.is_migrated(self.engine) else None, paths)

    def load(
        self, paths: Iterable[str | Path], *, until: date | None = None
    ) -> tuple[L.RegistrySummary, list[L.LoadSummary]]:
        """Validate and load files in one transaction (all or nothing)."""
        return L.load_paths(self.engine, paths, until=until, calendar=self.calendar)

    def registry(self) -> Registry:
        with self.engine.connect() as conn:
            return L.read_registry(conn)

    # -- status ---------------------------------------------------------------------------------
    def status(
        self,
        *,
        as_of: date | None = None,
        directive: str | None = None,
        unit: str | None = None,
        statuses: Sequence[str] | None = None,
        task_ids: Sequence[str] | None = None,
    ) -> list[TaskStatus]:
        with self.engine.connect() as conn:
            return task_statuses(
                conn,
                as_of or date.today(),
                directive=directive,
                unit=unit,
                statuses=statuses,
                task_ids=task_ids,
            )

    def counts(self, *, as_of: date | None = None, directive: str | None = None) -> dict[str, int]:
        with self.engine.connect() as conn:
            return status_counts(conn, as_of or date.today(), directive=directive)

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
    ) -> C.CompletionResult:
        return C.report_completion(
            self.engine, task, evidence, on=on, unit=unit, note=note, attachment=attachment
        )

    def verify(
        self, task: str, *, on: date | None = None, unit: str | None = None
    ) -> C.CompletionResult:
        return C.verify_completion(self.engine, task, on=on, unit=unit)

    def return_(
        self, task: str, reason: str, *, on: date | None = None, unit: str | None = None
    ) -> C.CompletionResult:
        return C.return_completion(self.engine, task, reason, on=on, unit=unit)

    # -- sweep: escalate and notify -----------------------------------------------------------
    def sweep(
        self,
        *,
        as_of: date | None = None,
        dry_run: bool = False,
        send: bool = True,
        settings: OutboxSettings | None = None,
    ) -> SweepReport:
        """Decide the notices due as of a date, record them, build one digest per unit, send.

        ``dry_run`` computes everything in a transaction that is rolled back: nothing is written
        and nothing is sent; the report carries the digests that would go out.
        """
        day = as_of or date.today()
        if dry_run:
            with self.engine.connect() as conn:
                trans = conn.begin()
                try:
                    counts = S.record_notices(conn, day, self.calendar, None)
                    digests = S.preview(conn, day)
                finally:
                    trans.rollback()
            return SweepReport(day, None, sum(counts.values()), counts, [], None, digests)
        with self.engine.begin() as conn:
            sweep_id = S.start_sweep(conn, day)
            counts = S.record_notices(conn, day, self.calendar, sweep_id)
        ids = S.build_deliveries(self.engine, day, sweep_id)
        sent = O.deliver(self.engine, settings) if send else None
        with self.engine.begin() as conn:
            S.finish_sweep(conn, sweep_id, sum(counts.values()), len(ids))
        return SweepReport(day, sweep_id, sum(counts.values()), counts, ids, sent, {})

    def deliver(
        self, *, settings: OutboxSettings | None = None, force: bool = False
    ) -> O.SendSummary:
        """Send what is due in the outbox; ``force`` retries failed deliveries now (retry-failed)."""
        return O.deliver(self.engine, settings, force=force)

    def deliveries(
        self, *, unit: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return O.list_deliveries(conn, unit=unit, status=status)

    def history(self, task: str, *, unit: str | None = None) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return C.history(conn, C.resolve_task(conn, task, unit))
