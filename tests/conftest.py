"""Shared fixtures: a real store on SQLite (always) and PostgreSQL (when configured).

PostgreSQL tests run when ``KTTT_TEST_DATABASE_URL`` is set (``.ci/run`` sets it); elsewhere they
are reported as skipped, by name, with the reason. Each PostgreSQL test gets its own schema.

The other fixtures come from two plugins registered here, the one way fixtures are shared:
``tests/receivers.py`` (SMTP/HTTP receivers on 127.0.0.1, the network guard) and
``tests/prefect_fixtures.py`` (one Prefect server per session, started only when a test asks for
``prefect_stack``). Helpers that are not fixtures are in ``tests/helpers.py``.

The tests are laid out by speed and reach: ``unit/`` (pure functions), ``integration/`` (the
library against real databases, files, receivers and child processes) and ``e2e/`` (the ``kttt``
command line, the flows and the Prefect stack).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from kttt_workflow.service import Tracker
from kttt_workflow.store import db
from tests.helpers import DIRECTIVES, HORIZON

pytest_plugins = ["tests.receivers", "tests.prefect_fixtures"]

PG_URL = os.environ.get("KTTT_TEST_DATABASE_URL")
_HOME: list[Path] = []


def pytest_configure(config: pytest.Config) -> None:
    """Nothing a test does lands in the user's ``~/.kttt``: a session data folder of its own
    (tests that need a folder of their own still set ``KTTT_HOME`` themselves)."""
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="kttt-test-home-"))
    _HOME.append(home)
    os.environ["KTTT_HOME"] = str(home)


def pytest_unconfigure(config: pytest.Config) -> None:
    for home in _HOME:
        shutil.rmtree(home, ignore_errors=True)


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


def _open_sqlite(tmp_path: Path, template_dir: Path) -> Tracker:
    """A store on a copy of the migrated template, in the test's own folder."""
    path = tmp_path / "kttt.db"
    shutil.copy(_sqlite_template(template_dir), path)
    return Tracker.open(f"sqlite:///{path}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path, template_dir: Path) -> Iterator[Tracker]:
    """A fresh, migrated store: SQLite file, or a private schema in the test PostgreSQL."""
    if request.param == "sqlite":
        s = _open_sqlite(tmp_path, template_dir)
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
    """The SQLite store alone (not parametrised): for tests that read the database file itself,
    or that need one back-end only."""
    s = _open_sqlite(tmp_path, template_dir)
    yield s
    s.close()


@pytest.fixture
def loaded(store: Tracker) -> Tracker:
    """A store with every real directive of ``directives/`` loaded (recurrences up to 2026)."""
    store.load([DIRECTIVES], until=HORIZON)
    return store
