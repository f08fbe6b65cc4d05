"""Shared fixtures: a real store on SQLite (always) and PostgreSQL (when configured).

PostgreSQL tests run when ``KTTT_TEST_DATABASE_URL`` is set (``.ci/run`` sets it); elsewhere they
are reported as skipped, by name, with the reason. Each PostgreSQL test gets its own schema.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from kttt_workflow.service import Tracker
from kttt_workflow.store import db

pytest_plugins = ["tests.receivers"]  # SMTP/HTTP receivers and their fixtures

ROOT = Path(__file__).resolve().parent.parent
DIRECTIVES = ROOT / "directives"
PG_URL = os.environ.get("KTTT_TEST_DATABASE_URL")
HORIZON = date(2026, 12, 31)

_TEMPLATE: dict[str, Path] = {}


def _sqlite_template(tmp_root: Path) -> Path:
    """A migrated, empty SQLite file made once per session and copied for each test."""
    if "db" not in _TEMPLATE:
        path = tmp_root / "template.db"
        engine = db.make_engine(f"sqlite:///{path}")
        db.migrate(engine)
        engine.dispose()
        _TEMPLATE["db"] = path
    return _TEMPLATE["db"]


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("template")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path, template_dir: Path) -> Iterator[Tracker]:
    """A fresh, migrated store: SQLite file, or a private schema in the test PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "kttt.db"
        shutil.copy(_sqlite_template(template_dir), path)
        s = Tracker.open(f"sqlite:///{path}")
        yield s
        s.close()
        return
    if not PG_URL:
        pytest.skip(
            "PostgreSQL: KTTT_TEST_DATABASE_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(db.normalise_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    s = Tracker.open(PG_URL, schema=schema)
    yield s
    s.close()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path, template_dir: Path) -> Iterator[Tracker]:
    path = tmp_path / "kttt.db"
    shutil.copy(_sqlite_template(template_dir), path)
    s = Tracker.open(f"sqlite:///{path}")
    yield s
    s.close()


@pytest.fixture
def loaded(store: Tracker) -> Tracker:
    """A store with every real directive of ``directives/`` loaded (recurrences up to 2026)."""
    store.load([DIRECTIVES], until=HORIZON)
    return store
