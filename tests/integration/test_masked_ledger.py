"""A webhook whose token is a lower-case word in its path: sent with the token, never shown.

``json://host/hooks/zqxsecretword`` used to appear whole in ``kttt deliveries --json``, in the
ledger (``delivery_attempt.target``) and in the logs, because masking kept lower-case path words.
Real parts: a SQLite file or PostgreSQL schema, the HTTP receiver on 127.0.0.1, the CLI.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlalchemy import inspect, text

from kttt_workflow.config import OutboxSettings
from kttt_workflow.service import Tracker
from tests.helpers import CTO, RTO, UNTIL, cli, copy_fixtures, db_url
from tests.receivers import HTTPReceiver

pytestmark = pytest.mark.usefixtures("network_guard", "warm_apprise")

WORD = "zqxsecretword"
DAY = date(2023, 1, 10)  # x-ubnd-b has notices as of this date (fixture directive)


@pytest.fixture
def http() -> Iterator[HTTPReceiver]:
    with HTTPReceiver(hang_seconds=RTO + 1.5) as server:
        yield server


def _db_texts(store: Tracker) -> list[str]:
    out: list[str] = []
    with store.engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{name}"')):
                out += [f"{name}: {v}" for v in row if v is not None]
    return out


def test_token_word_in_webhook_path_is_used_but_never_shown(
    store: Tracker,
    tmp_path: Path,
    http: HTTPReceiver,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As the registry is written: the secret is a placeholder, its value in the environment.
    monkeypatch.setenv("KTTT_TEST_HOOK_TOKEN", WORD)
    folder = copy_fixtures(tmp_path)
    p = folder / "units.yaml"
    reg = yaml.safe_load(p.read_text(encoding="utf-8"))
    for u in reg["units"]:
        if u["code"] == "x-ubnd-b":
            u["targets"] = [http.url("/hooks/${KTTT_TEST_HOOK_TOKEN}")]
    p.write_text(yaml.safe_dump(reg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    store.load([folder], until=UNTIL)

    caplog.set_level(logging.DEBUG)
    settings = OutboxSettings(connect_timeout=CTO, read_timeout=RTO, maildir=None)
    store.sweep(as_of=DAY, settings=settings)
    assert len(http.requests_to(f"/hooks/{WORD}")) == 1  # the token was really used

    code, out = cli("deliveries", "--db", db_url(store), "--json")
    assert code == 0, out
    [attempt] = [t for d in json.loads(out) if d["unit"] == "x-ubnd-b" for t in d["targets"]]
    assert attempt["status"] == "sent"
    assert attempt["target"].startswith(f"json://127.0.0.1:{http.port}/hooks/z...d")
    code, table = cli("deliveries", "--db", db_url(store))
    assert code == 0, table

    texts = [out, table, caplog.text, *_db_texts(store)]
    assert any("delivery_attempt" in t for t in texts)
    leaks = [t for t in texts if WORD in t]
    assert leaks == [], f"{WORD} shown: {leaks[:3]}"
