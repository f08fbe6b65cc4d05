"""Fault injection: what a kill -9, a full disk and a dropped PostgreSQL connection leave in the
store, what the command says, and that running the command again recovers.

Real parts only:

- kill -9: the real ``kttt load`` / ``kttt sweep`` command runs in a child process
  (``tests/scripts/crash_during_load.py``, ``crash_during_sweep.py``) that hooks SQLAlchemy's engine
  events *inside the child* and sends itself SIGKILL between two SQL statements it really sends.
  The two points of delivery (after recording, before sending; after sending, before recording
  the attempt) are in ``tests/integration/test_delivery_reliability.py``.
- a full disk: a tmpfs the test mounts itself (``mount -t tmpfs -o size=…``, as root; otherwise
  the test is skipped, by name, with the reason), filled with a file until almost nothing is
  left: ``kttt load`` of a SQLite store there runs as the installed script in a real process;
  ``kttt sweep`` / ``kttt retry-failed`` with the local Maildir there run through the CLI.
- a dropped connection: a ``kttt`` process on PostgreSQL, found in ``pg_stat_activity`` by its
  ``application_name``, is waiting on a table lock the test holds (its transaction open, part of
  its writes done) when the test calls ``pg_terminate_backend``; and a database server nobody
  answers on.

After each fault the store is compared row by row with what it held before (a load, a sweep's
recording) or checked for all-or-nothing (a sweep's digests: each one is whole or absent); then
the command runs again and the store is compared with a control store that ran the same commands
without any fault (timestamps, and the numbers the database hands out for surrogate keys, left
aside: PostgreSQL does not give back the sequence values a killed transaction used).

What each fault leaves, and what the command says: ``docs/security.md``, section 5.
"""

from __future__ import annotations

import mailbox
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Integer, create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from kttt_workflow.notify.message import DELIVERY_HEADER
from kttt_workflow.service import Tracker
from kttt_workflow.store import db
from kttt_workflow.store import tables as T
from tests.helpers import (
    DIRECTIVES,
    FIX,
    HORIZON,
    KTTT,
    ROOT,
    SCRIPTS,
    UNTIL,
    cli,
    copy_fixtures,
    count,
    db_url,
    edit_plan,
)
from tests.receivers import unreachable_port

pytestmark = pytest.mark.usefixtures("network_guard")

PG_URL = os.environ.get("KTTT_TEST_DATABASE_URL")
DAY = date(2023, 1, 10)  # every unit of the sweep fixture has notices as of this date
UNITS = ("x-so-khdt", "x-so-tc", "x-ubnd", "x-ubnd-a", "x-ubnd-b", "x-ubnd-c")
SWEEP_LINE = "Quét tại ngày 10/01/2023: {notices} thông báo mới, {digests} bản tổng hợp."
LOCAL_LINE = "Gửi: 0 thành công, {n} vào hộp thư cục bộ, 0 đơn vị chưa có địa chỉ, 0 lỗi"


# --------------------------------------------------------------------------------------------
# Stores: the one under test, and a control store on the same back-end
# --------------------------------------------------------------------------------------------


@contextmanager
def pg_schema_store() -> Iterator[Tracker]:
    """A migrated store in a private schema of the test PostgreSQL (dropped afterwards)."""
    assert PG_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(db.normalise_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    s = Tracker.open(PG_URL, schema=schema)
    try:
        yield s
    finally:
        s.close()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def twin(store: Tracker, tmp_path: Path) -> Iterator[Tracker]:
    """A second fresh store on the back-end of ``store``: the control that runs without a fault."""
    if store.engine.dialect.name == "sqlite":
        s = Tracker.open(f"sqlite:///{tmp_path / 'control' / 'kttt.db'}")
        yield s
        s.close()
        return
    with pg_schema_store() as s:
        yield s


@pytest.fixture
def pg_store() -> Iterator[Tracker]:
    """A store on PostgreSQL only (the connection-drop tests)."""
    if not PG_URL:
        pytest.skip(
            "PostgreSQL: KTTT_TEST_DATABASE_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
    with pg_schema_store() as s:
        yield s


@pytest.fixture
def pg_twin(pg_store: Tracker) -> Iterator[Tracker]:
    with pg_schema_store() as s:
        yield s


# --------------------------------------------------------------------------------------------
# Reading a whole store back
# --------------------------------------------------------------------------------------------


def rows(store: Tracker) -> dict[str, list[str]]:
    """Every row of every table of the store (the schema's own tables included), as stored."""
    out: dict[str, list[str]] = {}
    with store.engine.connect() as conn:
        for name in sorted(inspect(conn).get_table_names()):
            out[name] = sorted(
                repr(tuple(r)) for r in conn.execute(text(f'SELECT * FROM "{name}"'))
            )
    return out


def _typed_rows(store: Tracker) -> dict[str, list[dict[str, Any]]]:
    known = T.task_t.metadata.tables
    out: dict[str, list[dict[str, Any]]] = {}
    with store.engine.connect() as conn:
        for name in sorted(inspect(conn).get_table_names()):
            q: Any = select(known[name]) if name in known else text(f'SELECT * FROM "{name}"')
            out[name] = [dict(r) for r in conn.execute(q).mappings()]
    return out


def _surrogate(name: str) -> bool:
    """A table whose key is a number the database hands out (``id`` integer)."""
    table = T.task_t.metadata.tables.get(name)
    if table is None:
        return False
    pk = list(table.primary_key.columns)
    return len(pk) == 1 and pk[0].name == "id" and isinstance(pk[0].type, Integer)


def normalised(store: Tracker, *, runs: bool = True) -> dict[str, list[str]]:
    """Every row of every table, comparable across two stores that ran the same commands:
    timestamps become ``<time>``; surrogate ids are dropped and the references to them (load,
    sweep, delivery) become the rank of the row they point to. ``runs=False`` also leaves out the
    run log (the ``sweep`` table and the ``sweep_id`` columns), where an interrupted sweep
    legitimately stays as an unfinished run."""
    raw = _typed_rows(store)

    def ranks(table: str) -> dict[Any, int]:
        ids = sorted(r["id"] for r in raw.get(table, []))
        return {i: n for n, i in enumerate(ids, 1)}

    loads, sweeps = ranks("load_record"), ranks("sweep")
    digests: dict[Any, str] = {}
    seen: Counter[tuple[str, str]] = Counter()
    for r in sorted(
        raw.get("delivery", []), key=lambda r: (r["recipient"], str(r["as_of"]), r["created_at"])
    ):
        key = (r["recipient"], str(r["as_of"]))
        seen[key] += 1
        digests[r["id"]] = f"digest {key[0]} {key[1]} #{seen[key]}"
    out: dict[str, list[str]] = {}
    for name, table_rows in raw.items():
        if not runs and name == "sweep":
            continue
        norm = []
        for r in table_rows:
            row: dict[str, Any] = {}
            for col, v in r.items():
                if (col == "id" and _surrogate(name)) or (col == "sweep_id" and not runs):
                    continue
                if isinstance(v, datetime):
                    v = "<time>"
                elif col == "load_id":
                    v = loads.get(v)
                elif col == "sweep_id":
                    v = sweeps.get(v)
                elif col == "delivery_id" or (name == "delivery" and col == "id"):
                    v = digests.get(v, v)
                elif name == "load_record" and col == "summary" and isinstance(v, dict):
                    v = {**v, "load_id": loads.get(v.get("load_id"))}
                row[col] = v
            norm.append(repr(sorted(row.items())))
        out[name] = sorted(norm)
    return out


def sqlite_integrity(store: Tracker) -> str | None:
    if store.engine.dialect.name != "sqlite":
        return None
    with store.engine.connect() as conn:
        return str(conn.exec_driver_sql("PRAGMA integrity_check").scalar_one())


def ledger_state(store: Tracker) -> tuple[int, int, dict[str, str]]:
    """(notices in a digest, notices in none, status of each digest by unit); fails unless every
    digest holds exactly the notices it counts (a digest is whole or absent)."""
    n, d = T.notice_t, T.delivery_t
    with store.engine.connect() as conn:
        per: dict[str, int] = {
            r[0]: r[1]
            for r in conn.execute(
                select(n.c.delivery_id, func.count())
                .where(n.c.delivery_id.is_not(None))
                .group_by(n.c.delivery_id)
            )
        }
        free = conn.execute(select(func.count()).where(n.c.delivery_id.is_(None))).scalar_one()
        digests = conn.execute(select(d.c.id, d.c.recipient, d.c.notices, d.c.status)).all()
    assert per == {r.id: r.notices for r in digests}
    assert len({r.recipient for r in digests}) == len(digests), "two digests for one unit"
    return sum(per.values()), int(free), {r.recipient: r.status for r in digests}


def mailboxes(root: Path) -> dict[str, list[tuple[str, str]]]:
    """What a mail reader shows in each unit's local Maildir: (delivery id, plain text)."""
    out: dict[str, list[tuple[str, str]]] = {}
    if not root.is_dir():
        return out
    for box in sorted(p for p in root.iterdir() if p.is_dir()):
        md = mailbox.Maildir(box, factory=None, create=False)
        msgs = []
        for key in md.iterkeys():
            m = BytesParser(policy=policy.default).parsebytes(md.get_bytes(key))
            body = m.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
            text_ = body.get_content().replace("\r\n", "\n").rstrip("\n") if body else ""
            msgs.append((str(m[DELIVERY_HEADER]), text_))
        if msgs:
            out[box.name] = msgs
    return out


def stored_digests(store: Tracker) -> dict[str, list[tuple[str, str]]]:
    d = T.delivery_t
    out: dict[str, list[tuple[str, str]]] = {}
    with store.engine.connect() as conn:
        for r in conn.execute(select(d.c.recipient, d.c.id, d.c.body_text)):
            out.setdefault(r.recipient, []).append((r.id, r.body_text.rstrip("\n")))
    return out


# --------------------------------------------------------------------------------------------
# Inputs and commands
# --------------------------------------------------------------------------------------------


def sweep_inputs(tmp_path: Path) -> Path:
    """The fixture directive with dated deadlines for tasks 4 and 5: every unit has notices as of
    ``DAY`` (no unit declares a target: every digest goes to the local Maildir)."""
    folder = copy_fixtures(tmp_path / "sweep")

    def dated(plan: dict[str, Any]) -> None:
        for t in plan["tasks"]:
            if t["id"] == "4":
                t["deadline"] = "trong tháng 12/2022"
            if t["id"] == "5":
                t["deadline"] = "Quý IV/2022"

    edit_plan(folder, dated)
    return folder


def amended_inputs(tmp_path: Path) -> Path:
    """The registry and the directive amended: a new district in the group, an alias changed, a
    deadline changed, a lead replaced, a task added and one removed."""
    folder = copy_fixtures(tmp_path / "amended")
    p = folder / "units.yaml"
    reg = yaml.safe_load(p.read_text(encoding="utf-8"))
    reg["units"].append(
        {"code": "x-ubnd-d", "name": "UBND huyện D", "level": "huyen", "parent": "x-ubnd"}
    )
    for u in reg["units"]:
        if u["code"] == "x-so-tc":
            u["aliases"] = ["STC"]
    for g in reg["groups"]:
        if g["code"] == "x-cac-huyen":
            g["members"].append("x-ubnd-d")
    p.write_text(yaml.safe_dump(reg, allow_unicode=True, sort_keys=False), encoding="utf-8")

    def amend(d: dict[str, Any]) -> None:
        tasks = d["tasks"]
        tasks[1]["deadline"] = "trong tháng 1/2023"
        tasks[3]["lead"] = "x-so-tc"
        tasks.append(
            {"id": "6", "title": "Nhiệm vụ mới", "lead": "x-ubnd", "deadline": "Quý I/2023"}
        )
        del tasks[4]

    edit_plan(folder, amend)
    return folder


def child_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KTTT_DATABASE_URL"}
    env.update(KTTT_HOME=str(tmp_path / "home"), NO_COLOR="1", COLUMNS="200", **extra)
    return env


def killed(script: str, mode: str, *args: str, env: dict[str, str]) -> str:
    """Run ``kttt ARGS`` in a child that kills itself at ``mode``; its stdout."""
    r = subprocess.run(
        [sys.executable, str(SCRIPTS / script), mode, *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stdout, r.stderr)
    return r.stdout


def kttt(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The installed ``kttt`` script in a real process."""
    return subprocess.run(
        [str(KTTT), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT,
        timeout=180,
    )


def said_in_vietnamese(stderr: str, *about: str) -> None:
    """A refusal the way the CLI says one: ``Lỗi: …`` in Vietnamese, naming what happened, with
    no Python traceback or driver exception in it."""
    assert "Traceback" not in stderr, stderr[-2000:]
    for raw in ("sqlalchemy", "sqlite3.", "psycopg", "OperationalError"):
        assert raw not in stderr, stderr[-2000:]
    assert stderr.lstrip().startswith("Lỗi:"), stderr[-2000:]
    assert any(word in stderr for word in about), (about, stderr[-2000:])


# --------------------------------------------------------------------------------------------
# 1. kill -9 in the middle of a load's transaction
# --------------------------------------------------------------------------------------------


LOAD_POINTS = {  # what crash_during_load.py prints as it kills itself
    "after-stage": "crashing after the staging insert, before the merge",
    "mid-merge": "crashing in the middle of the merge, after inserting the new tasks",
    "before-commit": "crashing before the commit of the load",
}


@pytest.mark.parametrize("mode", list(LOAD_POINTS))
def test_load_killed_mid_transaction_leaves_the_store_as_before_and_a_rerun_recovers(
    store: Tracker, twin: Tracker, tmp_path: Path, mode: str
) -> None:
    first, amended = copy_fixtures(tmp_path / "first"), amended_inputs(tmp_path)
    for s in (store, twin):
        s.load([first], until=UNTIL)
    before = rows(store)
    url = db_url(store)
    args = ("load", str(amended), "--db", url, "--until", UNTIL.isoformat())

    assert LOAD_POINTS[mode] in killed("crash_during_load.py", mode, *args, env=child_env(tmp_path))

    assert rows(store) == before  # every table, every row: nothing of the killed load
    assert sqlite_integrity(store) in (None, "ok")
    code, out = cli(*args)
    assert code == 0, out
    code_c, out_c = cli("load", str(amended), "--db", db_url(twin), "--until", UNTIL.isoformat())
    assert (code_c, out) == (0, out_c)  # the rerun says what an uninterrupted load says
    assert "kh-1-2022: 21 nhiệm vụ — thêm 6, sửa 3, bỏ 2" in out
    assert normalised(store) == normalised(twin)


# --------------------------------------------------------------------------------------------
# 2. kill -9 in a sweep: while recording, after recording, between two digests
# --------------------------------------------------------------------------------------------


SWEEP_POINTS = {  # what crash_during_sweep.py prints as it kills itself
    "mid-record": "crashing while recording the notices, before the commit",
    "after-record": "crashing after recording the notices, before building the digests",
    "between-digests": "crashing between two batches of digests (2 committed)",
}


def _tasks_but_next_step(store: Tracker) -> list[tuple[Any, ...]]:
    """Every task row without ``next_step_on`` (which a sweep maintains)."""
    t = T.task_t
    cols = [c for c in t.columns if c.name != "next_step_on"]
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(*cols).order_by(t.c.id))]


@pytest.mark.parametrize("mode", list(SWEEP_POINTS))
def test_sweep_killed_keeps_all_or_none_of_its_work_and_a_rerun_recovers(
    store: Tracker, twin: Tracker, tmp_path: Path, mode: str
) -> None:
    inputs = sweep_inputs(tmp_path)
    for s in (store, twin):
        s.load([inputs], until=UNTIL)
    expected = store.sweep(as_of=DAY, dry_run=True)
    assert set(expected.previews) == set(UNITS)
    before = rows(store)
    tasks_before = _tasks_but_next_step(store)
    mail, control_mail = tmp_path / "mail", tmp_path / "control-mail"
    env = child_env(tmp_path, KTTT_MAILDIR=str(mail))
    url = db_url(store)
    args = ("sweep", "--db", url, "--as-of", DAY.isoformat())

    assert SWEEP_POINTS[mode] in killed("crash_during_sweep.py", mode, *args, env=env)

    assert sqlite_integrity(store) in (None, "ok")
    assert mailboxes(mail) == {}  # sending comes after every digest: nothing went out
    claimed, free, digests = ledger_state(store)
    unfinished = T.sweep_t.c.finished_at.is_(None)
    if mode == "mid-record":
        assert rows(store) == before  # none of the sweep: no run, no notice
        new, built = expected.notices, len(UNITS)
    else:
        # All the notices of the sweep are there; the run is recorded as not finished.
        assert claimed + free == expected.notices
        assert count(store, T.sweep_t) == count(store, T.sweep_t, unfinished) == 1
        # The sweep also advances each examined task's next_step_on, and its bookkeeping.
        changed = {"notice", "sweep", "delivery", "task", "kttt_meta"}
        assert {k: v for k, v in rows(store).items() if k not in changed} == {
            k: v for k, v in before.items() if k not in changed
        }
        assert _tasks_but_next_step(store) == tasks_before
        done = 0 if mode == "after-record" else 2
        assert len(digests) == done and set(digests.values()) <= {"pending"}
        assert (claimed == 0) == (done == 0)
        new, built = 0, len(UNITS) - done

    code, out = cli(*args, env={"KTTT_MAILDIR": str(mail)})
    assert code == 0, out
    assert SWEEP_LINE.format(notices=new, digests=built) in out
    assert LOCAL_LINE.format(n=len(UNITS)) in out
    ctl = ("sweep", "--db", db_url(twin), "--as-of", DAY.isoformat())
    code, out_c = cli(*ctl, env={"KTTT_MAILDIR": str(control_mail)})
    assert code == 0, out_c
    assert SWEEP_LINE.format(notices=expected.notices, digests=len(UNITS)) in out_c

    assert normalised(store, runs=False) == normalised(twin, runs=False)
    assert ledger_state(store) == (expected.notices, 0, dict.fromkeys(UNITS, "local"))
    # Each unit's mailbox holds its one digest, the one the store holds, once.
    assert mailboxes(mail) == stored_digests(store)
    assert {u: len(m) for u, m in mailboxes(mail).items()} == dict.fromkeys(UNITS, 1)
    runs_left = 0 if mode == "mid-record" else 1
    assert count(store, T.sweep_t, unfinished) == runs_left  # the killed run, as it was left
    assert count(store, T.sweep_t, T.sweep_t.c.finished_at.is_not(None)) == 1


# --------------------------------------------------------------------------------------------
# 3. A full disk (a tmpfs of a few megabytes)
# --------------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs mounted for this test (root only); unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip(f"full disk: mounting a tmpfs needs root (running as uid {os.geteuid()})")
    if shutil.which("mount") is None:
        pytest.skip("full disk: no mount command on this machine")
    disk = tmp_path / "disk"
    disk.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "kttt-fault", str(disk)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        pytest.skip(f"full disk: mount -t tmpfs failed: {(r.stderr or r.stdout).strip()}")
    try:
        yield disk
    finally:
        if subprocess.run(["umount", str(disk)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def free_bytes(disk: Path) -> int:
    st = os.statvfs(disk)
    return st.f_bavail * st.f_frsize


def fill(disk: Path, leave: int = 0) -> Path:
    """Write a file until ``leave`` bytes (or nothing) are left on ``disk``."""
    filler = disk / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb") as f:
        try:
            while free_bytes(disk) > leave:
                f.write(chunk[: max(4096, min(len(chunk), free_bytes(disk) - leave))])
                f.flush()
        except OSError:
            pass
    assert free_bytes(disk) <= leave + 4096
    return filler


def full_disk_load(
    tmp_path: Path, disk: Path
) -> tuple[str, dict[str, list[str]], subprocess.CompletedProcess[str], Tracker]:
    """A store on ``disk`` with the fixture loaded, the disk filled to 96 KiB, then ``kttt load``
    of the real directives (about 1 MB more)."""
    url = f"sqlite:///{disk / 'kttt.db'}"
    s = Tracker.open(url)
    s.load([FIX], until=UNTIL)
    before = rows(s)
    s.close()
    fill(disk, leave=96 * 1024)
    r = kttt(
        "load", str(DIRECTIVES), "--db", url, "--until", HORIZON.isoformat(),
        env=child_env(tmp_path),
    )  # fmt: skip
    return url, before, r, Tracker.open(url, migrate=False)


def test_load_on_a_full_disk_leaves_the_store_unchanged_and_usable_once_space_is_freed(
    small_disk: Path, tmp_path: Path
) -> None:
    url, before, r, s = full_disk_load(tmp_path, small_disk)
    try:
        assert r.returncode == 1, (r.stdout, r.stderr[-2000:])
        assert rows(s) == before  # read while the disk is still full
        assert sqlite_integrity(s) == "ok"
        (small_disk / "filler").unlink()
        again = kttt(
            "load", str(DIRECTIVES), "--db", url, "--until", HORIZON.isoformat(),
            env=child_env(tmp_path),
        )  # fmt: skip
        assert again.returncode == 0, again.stderr[-2000:]
        assert "ctr-nq20-2022:" in again.stdout
        control = Tracker.open(f"sqlite:///{tmp_path / 'control' / 'kttt.db'}")
        try:
            control.load([FIX], until=UNTIL)
            control.load([DIRECTIVES], until=HORIZON)
            assert normalised(s) == normalised(control)
        finally:
            control.close()
    finally:
        s.close()


def test_load_on_a_full_disk_says_so_in_vietnamese(small_disk: Path, tmp_path: Path) -> None:
    _, before, r, s = full_disk_load(tmp_path, small_disk)
    try:
        assert rows(s) == before
    finally:
        s.close()
    assert r.returncode == 1
    said_in_vietnamese(r.stderr, "đầy", "hết dung lượng", "hết chỗ")


def full_maildir_sweep(store: Tracker, tmp_path: Path, disk: Path) -> tuple[dict[str, str], int]:
    """The sweep fixture loaded, ``disk`` filled to the last byte; the env that puts the local
    Maildir there, and the number of notices a sweep as of ``DAY`` records."""
    store.load([sweep_inputs(tmp_path)], until=UNTIL)
    expected = store.sweep(as_of=DAY, dry_run=True).notices
    fill(disk)
    return {"KTTT_MAILDIR": str(disk / "mail")}, expected


def test_sweep_on_a_full_disk_records_failed_local_deliveries_and_retry_failed_delivers_them(
    store: Tracker, small_disk: Path, tmp_path: Path
) -> None:
    env, expected = full_maildir_sweep(store, tmp_path, small_disk)
    url, mail = db_url(store), small_disk / "mail"
    code, out = cli("sweep", "--db", url, "--as-of", DAY.isoformat(), env=env)
    assert code == 0, out
    assert SWEEP_LINE.format(notices=expected, digests=len(UNITS)) in out
    assert "Gửi: 0 thành công, 0 vào hộp thư cục bộ, 0 đơn vị chưa có địa chỉ, 6 lỗi" in out
    # Every notice is kept, in its digest; every digest failed, with the reason.
    assert ledger_state(store) == (expected, 0, dict.fromkeys(UNITS, "failed"))
    for d in store.deliveries():
        [attempt] = d["targets"]
        assert attempt["status"] == "failed"
        assert attempt["error"].startswith("không ghi được hộp thư cục bộ")
    assert mailboxes(mail) == {}
    assert sorted(mail.glob("*/tmp/*")) == []  # no half-written message left behind

    (small_disk / "filler").unlink()
    code, out = cli("retry-failed", "--db", url, env=env)
    assert code == 0, out
    assert "Gửi lại 6:" in out and "0 lỗi" in out
    assert ledger_state(store) == (expected, 0, dict.fromkeys(UNITS, "local"))
    assert mailboxes(mail) == stored_digests(store)
    assert {u: len(m) for u, m in mailboxes(mail).items()} == dict.fromkeys(UNITS, 1)
    code, out = cli("retry-failed", "--db", url, env=env)
    assert "Gửi lại 0:" in out  # nothing left to send, nothing sent twice
    assert {u: len(m) for u, m in mailboxes(mail).items()} == dict.fromkeys(UNITS, 1)


def test_retry_failed_says_how_many_digests_went_to_the_local_mailbox(
    sqlite_store: Tracker, small_disk: Path, tmp_path: Path
) -> None:
    env, _ = full_maildir_sweep(sqlite_store, tmp_path, small_disk)
    url = db_url(sqlite_store)
    code, out = cli("sweep", "--db", url, "--as-of", DAY.isoformat(), env=env)
    assert code == 0, out
    (small_disk / "filler").unlink()
    code, out = cli("retry-failed", "--db", url, env=env)
    assert code == 0, out
    assert {d["status"] for d in sqlite_store.deliveries()} == {"local"}
    assert "6 vào hộp thư cục bộ" in out, out


# --------------------------------------------------------------------------------------------
# 4. A PostgreSQL connection dropped while a transaction is open
# --------------------------------------------------------------------------------------------

DROP_TARGETS = {
    # command → the table the test locks: the command waits on it halfway through its writes
    "load": "task",  # after the registry, the policies, the directive header, the load record
    "sweep": "notice",  # after the sweep row and the temporary fire table
}


def command_args(command: str, tmp_path: Path) -> tuple[str, ...]:
    if command == "load":
        return ("load", str(amended_inputs(tmp_path)), "--until", UNTIL.isoformat())
    return ("sweep", "--as-of", DAY.isoformat())


def dropped_mid_transaction(
    store: Tracker, tmp_path: Path, args: tuple[str, ...], locked: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, str], str]:
    """Run ``kttt ARGS`` on PostgreSQL while the test holds an EXCLUSIVE lock on the table
    ``locked``; once the command's backend (found by its ``application_name``) waits on that lock,
    its transaction open, terminate the backend. The command's result, its env and the statement
    it was waiting on."""
    name = f"kttt-fault-{uuid.uuid4().hex[:8]}"
    url = make_url(db_url(store)).update_query_dict({"application_name": name})
    at = url.render_as_string(hide_password=False)
    env = child_env(tmp_path, KTTT_MAILDIR=str(tmp_path / "mail"))
    holder = store.engine.connect()
    tx = holder.begin()
    holder.execute(text(f"LOCK TABLE {locked} IN EXCLUSIVE MODE"))
    holder_pid = holder.execute(text("SELECT pg_backend_pid()")).scalar_one()
    proc = subprocess.Popen(
        [str(KTTT), *args, "--db", at],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT,
    )
    waiting = None
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end and proc.poll() is None:
            with store.engine.connect() as conn:
                waiting = conn.execute(
                    text(
                        "SELECT pid, state, query FROM pg_stat_activity WHERE application_name"
                        " = :name AND :holder = ANY(pg_blocking_pids(pid))"
                    ),
                    {"name": name, "holder": holder_pid},
                ).first()
            if waiting is not None:
                break
            time.sleep(0.05)
        assert waiting is not None, "the command never waited on the test's lock (or it exited)"
        assert waiting.state == "active"
        with store.engine.connect() as conn:
            assert conn.execute(
                text("SELECT pg_terminate_backend(:p)"), {"p": waiting.pid}
            ).scalar()
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        tx.rollback()
        holder.close()
    done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    return done, env, str(waiting.query)


@pytest.mark.postgres
@pytest.mark.parametrize("command", ["load", "sweep"])
def test_postgres_connection_dropped_mid_transaction_leaves_the_store_unchanged_and_a_rerun_recovers(
    pg_store: Tracker, pg_twin: Tracker, tmp_path: Path, command: str
) -> None:
    inputs = copy_fixtures(tmp_path / "first") if command == "load" else sweep_inputs(tmp_path)
    for s in (pg_store, pg_twin):
        s.load([inputs], until=UNTIL)
    before = rows(pg_store)
    args = command_args(command, tmp_path)

    r, env, statement = dropped_mid_transaction(pg_store, tmp_path, args, DROP_TARGETS[command])

    assert DROP_TARGETS[command] in statement  # it was cut off while writing that table
    assert r.returncode == 1, (r.stdout, r.stderr[-2000:])
    assert rows(pg_store) == before
    assert mailboxes(tmp_path / "mail") == {}
    code, out = cli(*args, "--db", db_url(pg_store), env={"KTTT_MAILDIR": env["KTTT_MAILDIR"]})
    assert code == 0, out
    control_mail = str(tmp_path / "control-mail")
    code, out_c = cli(*args, "--db", db_url(pg_twin), env={"KTTT_MAILDIR": control_mail})
    assert (code, out) == (0, out_c)  # the rerun says what an uninterrupted run says
    assert normalised(pg_store) == normalised(pg_twin)
    if command == "sweep":
        assert {u: len(m) for u, m in mailboxes(tmp_path / "mail").items()} == dict.fromkeys(
            UNITS, 1
        )


@pytest.mark.postgres
@pytest.mark.parametrize("command", ["load", "sweep"])
def test_postgres_connection_dropped_mid_transaction_is_said_in_vietnamese(
    pg_store: Tracker, tmp_path: Path, command: str
) -> None:
    inputs = copy_fixtures(tmp_path / "first") if command == "load" else sweep_inputs(tmp_path)
    pg_store.load([inputs], until=UNTIL)
    args = command_args(command, tmp_path)
    r, *_ = dropped_mid_transaction(pg_store, tmp_path, args, DROP_TARGETS[command])
    assert r.returncode == 1
    said_in_vietnamese(r.stderr, "kết nối")


LITERAL = "L1tS3cretPw"  # a password written in clear in a target: loaded, with a warning


@pytest.mark.postgres
def test_postgres_connection_dropped_while_writing_the_registry_prints_no_target(
    pg_store: Tracker, tmp_path: Path
) -> None:
    pg_store.load([copy_fixtures(tmp_path / "first")], until=UNTIL)
    folder = copy_fixtures(tmp_path / "secret")
    p = folder / "units.yaml"
    reg = yaml.safe_load(p.read_text(encoding="utf-8"))
    for u in reg["units"]:
        if u["code"] == "x-ubnd-a":
            u["targets"] = [f"mailto://van-thu:{LITERAL}@mail.example.vn?to=vanthu@example.vn"]
    p.write_text(yaml.safe_dump(reg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    before = rows(pg_store)
    args = ("load", str(folder), "--until", UNTIL.isoformat())

    r, _, statement = dropped_mid_transaction(pg_store, tmp_path, args, "unit")

    assert "unit" in statement and r.returncode == 1
    assert rows(pg_store) == before
    shown = r.stdout + r.stderr
    assert [s for s in (LITERAL, LITERAL[:-3]) if s in shown] == [], shown[-3000:]


# A server nobody answers on: the store cannot be opened; the message names it, password masked.
def test_an_unreachable_database_is_said_without_its_password(tmp_path: Path) -> None:
    password = "S3cr3t-db-pass-kttt"
    url = f"postgresql://kttt:{password}@127.0.0.1:{unreachable_port()}/kttt"
    code, out = cli("load", str(copy_fixtures(tmp_path)), "--db", url)
    assert code == 1
    assert "Lỗi: không mở được cơ sở dữ liệu postgresql+psycopg://kttt:***@127.0.0.1:" in out
    assert password not in out and "Traceback" not in out
