"""A delivery run sends concurrently: a hanging host holds only its own lanes for its own timeout,
e-mail goes over pooled SMTP sessions, and a session the server dropped is replaced without
sending anything twice. Real receivers on 127.0.0.1; no timing of speed (that is bench/)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import insert, select

from kttt_workflow.config import OutboxSettings, utcnow
from kttt_workflow.domain.delivery import PER_HOST, WORKERS
from kttt_workflow.notify.message import DELIVERY_HEADER, DeliveryStatus, Message
from kttt_workflow.notify.send import send
from kttt_workflow.service import Tracker
from kttt_workflow.store import tables as T
from tests.helpers import CTO, RTO, SLACK
from tests.receivers import HOST, HTTPReceiver, SMTPReceiver, free_port

pytestmark = pytest.mark.usefixtures("network_guard", "warm_apprise")


def fill(store: Tracker, targets: list[str]) -> list[str]:
    """One unit per target (in this order) with one pending digest each; the delivery ids."""
    at = utcnow()
    ids = [uuid.uuid4().hex for _ in targets]
    with store.engine.begin() as conn:
        conn.execute(insert(T.level_t), [{"code": "xa", "name": "Cấp xã", "position": 0}])
        conn.execute(
            insert(T.unit_t),
            [
                {"code": f"u{i}", "name": f"Xã {i}", "aliases": [], "level": "xa", "targets": [t]}
                for i, t in enumerate(targets)
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
                    "subject": f"Nhắc việc số {i}",
                    "body_text": "Nội dung nhắc việc.",
                    "body_markdown": "**Nội dung** nhắc việc.",
                    "notices": 1,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": at + timedelta(microseconds=i),
                }
                for i, did in enumerate(ids)
            ],
        )
    return ids


def statuses(store: Tracker) -> dict[str, str]:
    with store.engine.connect() as conn:
        return dict(conn.execute(select(T.delivery_t.c.id, T.delivery_t.c.status)).all())


def settings() -> OutboxSettings:
    return OutboxSettings(
        maildir=None, apprise_config=None, connect_timeout=CTO, read_timeout=RTO, retry_base=0.0
    )


def test_hanging_host_does_not_hold_up_the_others(store: Tracker, smtp: SMTPReceiver) -> None:
    # More hanging digests than a host may have in flight, first in the outbox's order, then
    # many digests to a healthy server: the healthy ones never wait for the hanging host.
    hanging = PER_HOST + 2
    with HTTPReceiver(default_mode="hang", hang_seconds=RTO + 3.0) as slow:
        targets = [slow.url(f"/h{i}") for i in range(hanging)]
        targets += [smtp.url(f"ok{i}@example.vn") for i in range(3 * WORKERS)]
        ids = fill(store, targets)
        started = time.monotonic()
        summary = store.deliver(settings=settings())
        elapsed = time.monotonic() - started
        mails = smtp.messages
        assert (summary.claimed, summary.sent, summary.timeout) == (len(ids), 3 * WORKERS, hanging)
        # The healthy server had everything long before the hanging host's timeouts ran out
        # one after the other: at most PER_HOST of them at a time.
        assert Counter(m.rcpt_tos[0] for m in mails) == Counter(
            {f"ok{i}@example.vn": 1 for i in range(3 * WORKERS)}
        )
        rounds = -(-hanging // PER_HOST)  # hanging digests go PER_HOST at a time
        assert elapsed < rounds * (CTO + RTO) + 2 * SLACK
        # Never more than PER_HOST requests in flight at the hanging host.
        assert len(slow.requests) == hanging
        st = statuses(store)
        assert sorted(st[i] for i in ids[:hanging]) == ["timeout"] * hanging
        assert {st[i] for i in ids[hanging:]} == {"sent"}


class _Sessions:
    """An aiosmtpd handler that records which client connection (peer) carried each message."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.peers: list[Any] = []
        self.ids: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        header = next(
            (
                line.split(b":", 1)[1].strip().decode()
                for line in raw.split(b"\r\n")
                if line.lower().startswith(DELIVERY_HEADER.lower().encode() + b":")
            ),
            "",
        )
        with self.lock:
            self.peers.append(session.peer)
            self.ids.append(header)
        return "250 OK"


@pytest.fixture
def counting() -> Iterator[tuple[_Sessions, int]]:
    handler = _Sessions()
    port = free_port()
    c = Controller(handler, hostname=HOST, port=port, ready_timeout=5.0)
    c.start()
    try:
        yield handler, port
    finally:
        c.stop()


def test_a_run_reuses_smtp_sessions(store: Tracker, counting: tuple[_Sessions, int]) -> None:
    handler, port = counting
    n = 40
    ids = fill(
        store, [f"mailto://{HOST}:{port}?to=u{i}@example.vn&from=kttt@localhost" for i in range(n)]
    )
    summary = store.deliver(settings=settings())
    assert (summary.claimed, summary.sent) == (n, n)
    assert Counter(handler.ids) == Counter({i: 1 for i in ids})
    # One session per lane at most, not one per message.
    assert len(set(handler.peers)) <= PER_HOST


def test_a_session_the_server_dropped_is_replaced_without_a_duplicate() -> None:
    port = free_port()
    url = f"mailto://{HOST}:{port}?to=a@example.vn&from=kttt@localhost"

    def message() -> Message:
        return Message(uuid.uuid4().hex, "Nhắc việc", "Nội dung.", "Nội dung.", "u", "Xã")

    first, second = message(), message()
    with SMTPReceiver(port) as server:
        assert [r.status for r in send(first, [url], connect_timeout=CTO, read_timeout=RTO)] == [
            DeliveryStatus.sent
        ]
        server.stop()  # the pooled session is now dead
        server.start()
        assert [r.status for r in send(second, [url], connect_timeout=CTO, read_timeout=RTO)] == [
            DeliveryStatus.sent
        ]
        got = Counter(m.message[DELIVERY_HEADER] for m in server.wait_for(2))
    assert got == Counter({first.delivery_id: 1, second.delivery_id: 1})
