"""Helpers shared by the test modules: paths, the fixture files and their texts, dates, and small
readers of the store. Test modules import these from here, never from one another.

Fixtures are not here: the store fixtures are in ``tests/conftest.py``; the receivers
(``tests/receivers.py``) and the Prefect server (``tests/prefect_fixtures.py``) are pytest plugins
that ``tests/conftest.py`` registers. Importing this module starts nothing and imports neither
Prefect nor the CLI at module level.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy import func, select, text

from kttt_workflow.domain.escalation import (
    FollowUpView,
    ReportView,
    Step,
    TaskView,
    decide,
    follow_ups,
)
from kttt_workflow.domain.status import Report, awaiting_since
from kttt_workflow.inputs.defaults import default_calendar
from kttt_workflow.store import tables as T
from kttt_workflow.store.registry import read_registry

if TYPE_CHECKING:
    from kttt_workflow.service import Tracker

# --------------------------------------------------------------------------------------------------
# Paths and dates
# --------------------------------------------------------------------------------------------------
ROOT = Path(__file__).resolve().parent.parent  # the project checkout
TESTS = Path(__file__).resolve().parent
FIX = TESTS / "fixtures"  # units.yaml (registry) and plan.yaml (kh-1-2022)
SCRIPTS = TESTS / "scripts"  # programs the integration tests run (and kill) in a child process
DIRECTIVES = ROOT / "directives"  # the real directives transcribed from the seeds
KTTT = Path(sys.executable).with_name("kttt")  # the installed console script of this environment

UNITS_PATH = FIX / "units.yaml"
PLAN_PATH = FIX / "plan.yaml"
UNITS = UNITS_PATH.read_text(encoding="utf-8")  # the registry's text
PLAN = PLAN_PATH.read_text(encoding="utf-8")  # the directive's text

UNTIL = date(2024, 12, 31)  # recurrences of the fixture directive are fanned out up to this day
HORIZON = date(2026, 12, 31)  # ... and of the real directives (and the bad-input cases)

# Timeouts of the delivery tests against the receivers on 127.0.0.1.
CTO = 1.0  # connect timeout (s)
RTO = 1.0  # read timeout (s)
SLACK = 3.0  # scheduling, Apprise set-up, database round trips


def is_nfc(s: str) -> bool:
    return unicodedata.normalize("NFC", s) == s


# --------------------------------------------------------------------------------------------------
# The fixture directive, copied and edited
# --------------------------------------------------------------------------------------------------
def copy_fixtures(dest: Path) -> Path:
    """``units.yaml`` and ``plan.yaml`` copied into ``dest/in`` (the folder is returned)."""
    d = dest / "in"
    d.mkdir(parents=True, exist_ok=True)
    for name in ("units.yaml", "plan.yaml"):
        shutil.copy(FIX / name, d / name)
    return d


def edit_plan(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``change`` to the parsed ``plan.yaml`` of ``folder`` and write it back."""
    p = folder / "plan.yaml"
    data = yaml.safe_load(p.read_text(encoding="utf-8"))
    change(data)
    p.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def set_targets(folder: Path, targets: Mapping[str, list[str]]) -> None:
    """Give the units of ``folder``'s ``units.yaml`` the delivery targets in ``targets`` (by
    unit code) and write it back."""
    p = folder / "units.yaml"
    reg = yaml.safe_load(p.read_text(encoding="utf-8"))
    for u in reg["units"]:
        if u["code"] in targets:
            u["targets"] = list(targets[u["code"]])
    p.write_text(yaml.safe_dump(reg, allow_unicode=True, sort_keys=False), encoding="utf-8")


def loaded_db(tmp_path: Path, name: str = "kttt.db") -> str:
    """A SQLite store with the fixture directive ``kh-1-2022`` loaded (recurrences to 2024)."""
    from kttt_workflow.service import Tracker

    url = f"sqlite:///{tmp_path / name}"
    store = Tracker.open(url)
    store.load([copy_fixtures(tmp_path)], until=UNTIL)
    store.close()
    return url


def report_some(store: Tracker, tmp_path: Path) -> Tracker:
    """``kh-1-2022`` loaded; UBND tỉnh's plan (due 30/11/2022) done late on 02/12/2022; one district
    done on time."""
    store.load([copy_fixtures(tmp_path)], until=UNTIL)
    store.complete(
        "kh-1-2022/1/x-ubnd", "Kế hoạch số 5/KH-UBND ngày 02/12/2022", on=date(2022, 12, 2)
    )
    store.verify("kh-1-2022/1/x-ubnd", on=date(2022, 12, 3))
    store.complete(
        "kh-1-2022/2/x-ubnd-c", "Kế hoạch số 7/KH-UBND ngày 15/12/2022", on=date(2022, 12, 15)
    )
    store.verify("kh-1-2022/2/x-ubnd-c", on=date(2022, 12, 16))
    return store


# --------------------------------------------------------------------------------------------------
# The fixture texts changed in one place (bad input)
# --------------------------------------------------------------------------------------------------
def sub(source: str, old: str, new: str) -> str:
    """``source`` with the single occurrence of ``old`` replaced (fails loudly if not exactly one)."""
    assert source.count(old) == 1, f"{old!r} occurs {source.count(old)} times"
    return source.replace(old, new)


def at(source: str, needle: str, value: str | None = None, nth: int = 1) -> tuple[int, int]:
    """1-based (line, column) of ``value`` (default: the start of ``needle``) on the ``nth`` line
    of ``source`` that contains ``needle``."""
    hits = [(i, ln) for i, ln in enumerate(source.splitlines(), 1) if needle in ln]
    assert len(hits) >= nth, f"{needle!r} not found {nth} time(s)"
    lineno, ln = hits[nth - 1]
    col = ln.index(needle) + (needle.index(value) if value else 0) + 1
    return lineno, col


def write(directory: Path, files: Mapping[str, str | bytes]) -> list[Path]:
    """Write ``files`` (name → text or bytes) into ``directory``; their paths, in order."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in files.items():
        p = directory / name
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
        paths.append(p)
    return paths


def tag_files(marker: Path) -> dict[str, dict[str, str]]:
    """The fixture directive with an object-constructing YAML tag (``os-system`` would create
    ``marker`` if it were ever executed)."""
    return {
        "os-system": {
            "p.yaml": sub(
                PLAN,
                "title: Kế hoạch thử nghiệm",
                f'title: !!python/object/apply:os.system ["touch {marker}"]',
            )
        },
        "datetime-date": {
            "p.yaml": sub(
                PLAN,
                "date: 2022-10-03",
                "date: !!python/object:datetime.date {year: 2022, month: 10, day: 3}",
            )
        },
    }


# --------------------------------------------------------------------------------------------------
# Reading the store back
# --------------------------------------------------------------------------------------------------
LOADER_TABLES = (
    "task",
    "unit",
    "unit_group",
    "group_member",
    "level",
    "directive",
    "task_event",
    "load_record",
)


def sqlite_digest(store: Tracker) -> str:
    """The digest of the SQLite store's bytes, with its write-ahead log checkpointed first: the
    store's whole content is then in the main file, and a digest changes iff something was
    written (a checkpoint of an empty log writes nothing)."""
    raw = store.engine.raw_connection()
    try:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    return hashlib.sha256(Path(store.engine.url.database or "").read_bytes()).hexdigest()


def snapshot(store: Tracker) -> tuple[str | None, dict[str, list[str]]]:
    """SQLite file digest (None on PostgreSQL) and every row of the loader's tables."""
    digest = None
    if store.engine.dialect.name == "sqlite":
        digest = sqlite_digest(store)
    rows: dict[str, list[str]] = {}
    with store.engine.connect() as conn:
        for table in LOADER_TABLES:
            rows[table] = sorted(
                repr(tuple(r)) for r in conn.execute(text(f"SELECT * FROM {table}"))
            )
    return digest, rows


def count(store: Tracker, table: Any, *where: Any) -> int:
    """``SELECT count(*) FROM table WHERE ...``."""
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def db_url(store: Tracker) -> str:
    """A URL reaching the same store from another engine, the CLI or a subprocess (PostgreSQL:
    the test's schema, through ``options=-csearch_path=...``)."""
    url = store.engine.url
    if url.get_backend_name() == "postgresql":
        with store.engine.connect() as conn:
            schema = conn.execute(text("SHOW search_path")).scalar_one()
        url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


# --------------------------------------------------------------------------------------------------
# The command line, in process
# --------------------------------------------------------------------------------------------------
def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """``kttt ARGS`` through typer's CliRunner: exit code and output (stdout, then stderr).

    An exception other than ``SystemExit`` is raised again, not turned into exit code 1.
    """
    from typer.testing import CliRunner

    from kttt_workflow.cli import app

    r = CliRunner().invoke(app, list(args), env=env)
    if r.exception and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.output + (r.stderr if r.stderr_bytes is not None else "")


# -- the sweep: the ledger as stored, and the pure decision on the same tasks ----------------
def ledger(store: Tracker) -> list[tuple[str, str, str, bool, str]]:
    n = T.notice_t
    with store.engine.connect() as conn:
        return sorted(
            (r.task_id, r.step_code, r.recipient, r.is_cc, r.severity)
            for r in conn.execute(
                select(n.c.task_id, n.c.step_code, n.c.recipient, n.c.is_cc, n.c.severity)
            )
        )


def reference(
    store: Tracker, as_of: date, sent: set[tuple[str, str, str]]
) -> list[tuple[str, str, str, bool, str]]:
    """The sweep's notices as the pure decisions make them (the ladder's, then the follow-ups),
    on the tasks read back from the store (``sent``: what the ledger already has); a ceased
    recipient answers through its successor (``Registry.current``, the whole chain), and one whose
    chain ends in a ceased unit gets nothing (``Registry.gone``)."""
    t, u, d, p, c = T.task_t, T.unit_t, T.directive_t, T.policy_t, T.completion_t
    with store.engine.connect() as conn:
        registry = read_registry(conn)
        units = {r.code: r.parent_code for r in conn.execute(select(u.c.code, u.c.parent_code))}
        dirs = {r.code: (r.issuer_code, r.focal_unit) for r in conn.execute(select(d))}
        policies = {r.code: [Step.from_dict(s) for s in r.steps] for r in conn.execute(select(p))}
        rows = conn.execute(select(t).where(t.c.state != "removed")).all()
        reports: dict[str, list[ReportView]] = {}
        for r in conn.execute(select(c).order_by(c.c.id)):
            view = ReportView(r.id, r.reported_on, r.state, r.decided_on)
            reports.setdefault(r.task_id, []).append(view)
    current = lambda unit: registry.current(unit, as_of)  # noqa: E731
    gone = lambda unit: registry.gone(unit, as_of)  # noqa: E731
    views, follow = [], []
    for r in rows:
        started = r.starts_on is None or r.starts_on <= as_of
        open_ = r.completed_on is None or r.completed_on > as_of
        if not (started and open_):
            continue
        lead = r.assigned_code if r.assigned_on and r.assigned_on <= as_of else r.unit_code
        issuer, focal = dirs[r.directive_code]
        focal = focal if focal in units else None
        mine = tuple(reports.get(r.id, ()))
        follow.append(FollowUpView(r.id, lead, issuer, focal, gone(lead), mine))
        waiting = awaiting_since(
            [Report(x.reported_on, x.state, x.decided_on) for x in mine], as_of
        )
        if waiting is not None:
            continue  # the unit reported: the ladder waits for the coordinator
        active = r.activation == "immediate" or (
            r.activated_on is not None and r.activated_on <= as_of
        )
        dated = r.deadline_kind in ("fixed", "recurring")
        if not (r.policy_code and r.due_on and (active or dated)):
            continue
        parent = units.get(lead)
        views.append(
            TaskView(
                r.id,
                r.policy_code,
                r.due_on,
                lead,
                parent,
                units.get(parent) if parent else None,
                tuple(r.coordinating),
                issuer,
                focal,
                lead_gone=gone(lead),
            )
        )
    got = decide(
        views, policies, default_calendar(), as_of, sent, set(units), current=current, ceased=gone
    )
    got += follow_ups(follow, as_of, sent, current, gone)
    return [(x.task_id, x.step_code, x.recipient, x.is_cc, x.severity) for x in got]
