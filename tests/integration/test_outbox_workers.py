"""Several processes drain one outbox: each digest is sent once, every attempt is in the ledger.

Four ``kttt`` processes (real processes, one store: a PostgreSQL schema, or one SQLite file) call
``Tracker.deliver`` at the same moment against the real SMTP receiver; on PostgreSQL they claim
with ``FOR UPDATE SKIP LOCKED`` and pass over each other's rows, on SQLite its write lock takes
turns. The PostgreSQL case is skipped, by name, without ``KTTT_TEST_DATABASE_URL``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from kttt_workflow.config import utcnow
from kttt_workflow.notify.message import DELIVERY_HEADER
from kttt_workflow.service import Tracker
from kttt_workflow.store import tables as T
from tests.helpers import ROOT, db_url
from tests.receivers import SMTPReceiver

pytestmark = pytest.mark.usefixtures("network_guard", "warm_apprise")

D = 240
PROCESSES = 4

WORKER = """
import json, sys, time
from pathlib import Path
from kttt_workflow.config import OutboxSettings
from kttt_workflow.service import Tracker
url, gate = sys.argv[1], Path(sys.argv[2])
tracker = Tracker.open(url, migrate=False)
settings = OutboxSettings(maildir=None, apprise_config=None, connect_timeout=2.0, read_timeout=5.0)
print("ready", flush=True)
while not gate.exists():
    time.sleep(0.005)
s = tracker.deliver(settings=settings)
tracker.close()
print(json.dumps({"claimed": s.claimed, "sent": s.sent, "failed": s.failed + s.timeout}))
"""


def fill(store: Tracker, smtp: SMTPReceiver, n: int) -> list[str]:
    """``n`` units with one e-mail target each and one pending digest each (ids returned)."""
    at = utcnow()
    ids = [uuid.uuid4().hex for _ in range(n)]
    with store.engine.begin() as conn:
        conn.execute(insert(T.level_t), [{"code": "xa", "name": "Cấp xã", "position": 0}])
        conn.execute(
            insert(T.unit_t),
            [
                {
                    "code": f"u{i}",
                    "name": f"UBND xã số {i}",
                    "aliases": [],
                    "level": "xa",
                    "targets": [smtp.url(f"u{i}@example.vn")],
                }
                for i in range(n)
            ],
        )
        conn.execute(
            insert(T.delivery_t),
            [
                {
                    "id": did,
                    "recipient": f"u{i}",
                    "sweep_id": None,
                    "as_of": date(2025, 6, 16),
                    "subject": f"Nhắc việc, đôn đốc số {i}",
                    "body_text": f"Kính gửi: UBND xã số {i}\nNội dung nhắc việc.",
                    "body_markdown": f"**Kính gửi**: UBND xã số {i}",
                    "notices": 1,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": at + timedelta(microseconds=i),
                }
                for i, did in enumerate(ids)
            ],
        )
    return ids


def test_four_processes_drain_one_outbox_each_digest_once(
    store: Tracker, smtp: SMTPReceiver, tmp_path: Path
) -> None:
    ids = fill(store, smtp, D)
    gate = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, db_url(store), str(gate)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        for p in procs:  # every process has opened the store before any starts sending
            assert p.stdout is not None
            assert p.stdout.readline().strip() == "ready", p.stderr.read() if p.stderr else ""
        gate.touch()
        outs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in procs] == [0] * PROCESSES, [e for _, e in outs]
    summaries = [json.loads(o.strip().splitlines()[-1]) for o, _ in outs]
    assert sum(s["claimed"] for s in summaries) == D, summaries
    assert sum(s["sent"] for s in summaries) == D, summaries
    assert all(s["failed"] == 0 for s in summaries), summaries
    if store.engine.dialect.name == "postgresql":  # they really worked side by side
        assert sum(1 for s in summaries if s["claimed"]) >= 2, summaries

    mails = smtp.wait_for(D, timeout=10)
    time.sleep(0.3)
    mails = smtp.messages
    per_id = Counter(m.message[DELIVERY_HEADER] for m in mails)
    assert per_id == Counter({i: 1 for i in ids})  # each digest arrived exactly once
    with store.engine.connect() as conn:
        statuses = Counter(r.status for r in conn.execute(select(T.delivery_t.c.status)))
        attempts = dict(
            conn.execute(
                select(T.attempt_t.c.delivery_id, func.count()).group_by(T.attempt_t.c.delivery_id)
            ).all()
        )
        rows = conn.execute(select(T.attempt_t.c.status, T.attempt_t.c.attempt)).all()
    assert statuses == Counter({"sent": D})
    assert attempts == {i: 1 for i in ids}  # every attempt recorded, once
    assert {(r.status, r.attempt) for r in rows} == {("sent", 1)}
