"""Delivery reliability end to end: sweep → ledger → outbox → real servers on 127.0.0.1.

Each test loads the small fixture registry (``tests/fixtures``) with delivery targets written
into it, runs the daily sweep as of a date, and checks what a user would see: the messages the
SMTP / HTTP servers received (counted), the rows of the ledger (``notice``) and the outbox
(``delivery``, ``delivery_attempt``), and the ``kttt`` command line output.

No mocks on the delivery path: aiosmtpd and http.server receive real traffic. An audit hook
(active only during these tests) refuses any connection or DNS lookup other than the loopback.
"""

from __future__ import annotations

import json
import logging
import mailbox
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text

from kttt_workflow.config import OutboxSettings
from kttt_workflow.notify.message import DELIVERY_HEADER
from kttt_workflow.service import Tracker
from kttt_workflow.store import sweep as S
from kttt_workflow.store import tables as T
from tests.helpers import (
    CTO,
    KTTT,
    ROOT,
    RTO,
    SCRIPTS,
    SLACK,
    UNTIL,
    cli,
    copy_fixtures,
    count,
    db_url,
    edit_plan,
    set_targets,
)
from tests.receivers import (
    HTTPReceiver,
    ReceivedMail,
    SMTPReceiver,
    unreachable_port,
)

pytestmark = pytest.mark.usefixtures("network_guard", "warm_apprise")


DAY = date(2023, 1, 10)  # every unit of the fixture has notices as of this date (fresh store)
UNITS = ("x-so-khdt", "x-so-tc", "x-ubnd", "x-ubnd-a", "x-ubnd-b", "x-ubnd-c")

# --------------------------------------------------------------------------------------------
# Network guard
# --------------------------------------------------------------------------------------------


@pytest.fixture
def http() -> Iterator[HTTPReceiver]:
    with HTTPReceiver(hang_seconds=RTO + 1.5) as server:
        yield server


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def addr(unit: str) -> str:
    return f"{unit}@example.gov.vn"


def settings(**kw: Any) -> OutboxSettings:
    import random

    base: dict[str, Any] = {
        "max_attempts": 5,
        "retry_base": 0.01,
        "retry_cap": 0.05,
        "connect_timeout": CTO,
        "read_timeout": RTO,
        "maildir": None,
        "rng": random.Random(0),
    }
    base.update(kw)
    return OutboxSettings(**base)


def load_with_targets(store: Tracker, tmp_path: Path, targets: dict[str, list[str]]) -> Path:
    """Load the fixture registry + plan, with ``targets`` written into the registry YAML.

    The plan gets dated deadlines for tasks 4 (x-so-khdt) and 5 (x-so-tc), so that every unit of
    the registry has notices as of ``DAY``; x-ubnd-a/b/c get two tasks each in one digest.
    """
    folder = copy_fixtures(tmp_path)

    def dated(plan: dict[str, Any]) -> None:
        for t in plan["tasks"]:
            if t["id"] == "4":
                t["deadline"] = "trong tháng 12/2022"
            if t["id"] == "5":
                t["deadline"] = "Quý IV/2022"

    edit_plan(folder, dated)
    set_targets(folder, targets)
    store.load([folder], until=UNTIL)
    return folder


def cli_env(tmp_path: Path) -> dict[str, str]:
    return {"KTTT_HOME": str(tmp_path / "home"), "KTTT_LOCAL_MAILBOX": "0"}


def deliveries(store: Tracker, **kw: Any) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for d in store.deliveries(**kw):
        out.setdefault(d["unit"], []).append(d)
    return out


def one_per_unit(store: Tracker, as_of: date) -> dict[str, dict[str, Any]]:
    by_unit: dict[str, dict[str, Any]] = {}
    for d in store.deliveries():
        if d["as_of"] == as_of.isoformat():
            assert d["unit"] not in by_unit, f"two digests for {d['unit']} as of {as_of}"
            by_unit[d["unit"]] = d
    return by_unit


def rcpt_counts(mails: list[ReceivedMail]) -> Counter[str]:
    return Counter(r for m in mails for r in m.rcpt_tos)


def plain_body(mail: ReceivedMail) -> str:
    body = mail.message.get_body(preferencelist=("plain",))
    assert body is not None
    return body.get_content().replace("\r\n", "\n")


def ledger_is_complete(store: Tracker) -> None:
    """Every notice belongs to exactly one existing delivery whose count matches: nothing lost."""
    n, d = T.notice_t, T.delivery_t
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).where(n.c.delivery_id.is_(None))).scalar_one() == 0
        per: dict[str, int] = {
            r[0]: r[1]
            for r in conn.execute(select(n.c.delivery_id, func.count()).group_by(n.c.delivery_id))
        }
        rows: dict[str, int] = {r.id: r.notices for r in conn.execute(select(d.c.id, d.c.notices))}
    assert per == {k: v for k, v in rows.items() if v}


def attempts_of(store: Tracker, delivery_id: str) -> list[dict[str, Any]]:
    a = T.attempt_t
    with store.engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                select(a).where(a.c.delivery_id == delivery_id).order_by(a.c.id)
            ).mappings()
        ]


def utc(dt: datetime) -> datetime:
    from datetime import UTC

    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# 1. Real SMTP and a JSON webhook: one digest per unit, Vietnamese content, delivery id header
# --------------------------------------------------------------------------------------------


def test_real_smtp_gets_one_vietnamese_digest_per_unit(
    store: Tracker, tmp_path: Path, smtp: SMTPReceiver, http: HTTPReceiver
) -> None:
    targets = {u: [smtp.url(addr(u))] for u in UNITS if u != "x-ubnd-b"}
    targets["x-ubnd-b"] = [http.url("/kttt/x-ubnd-b")]
    load_with_targets(store, tmp_path, targets)

    preview = store.sweep(as_of=DAY, dry_run=True)
    assert set(preview.previews) == set(UNITS)
    report = store.sweep(as_of=DAY, settings=settings())
    assert report.notices == preview.notices
    assert report.sent is not None and report.sent.sent == len(UNITS) == len(report.deliveries)

    # Exactly one message per unit (5 by e-mail, 1 by webhook), never one per task.
    mails = smtp.wait_for(5)
    time.sleep(0.2)
    assert len(smtp.messages) == 5
    assert rcpt_counts(mails) == Counter({addr(u): 1 for u in UNITS if u != "x-ubnd-b"})
    assert len(http.requests) == 1

    code, out = cli("deliveries", "--db", db_url(store), "--json")
    assert code == 0, out
    listed = {d["unit"]: d for d in json.loads(out)}
    assert set(listed) == set(UNITS)
    assert {d["status"] for d in listed.values()} == {"sent"}
    assert all(d["attempts"] == 1 and len(d["targets"]) == 1 for d in listed.values())

    n = T.notice_t
    with store.engine.connect() as conn:
        tasks_of: dict[str, set[str]] = {}
        for r in conn.execute(select(n.c.recipient, n.c.task_id)):
            tasks_of.setdefault(r.recipient, set()).add(r.task_id)
    assert len(tasks_of["x-ubnd-a"]) == 2  # two tasks in ONE digest

    for mail in mails:
        [to] = mail.rcpt_tos
        unit = to.split("@")[0]
        d = listed[unit]
        em = mail.message
        assert mail.mail_from == "kttt@localhost"
        assert em["To"].addresses[0].addr_spec == to
        assert em[DELIVERY_HEADER] == d["delivery_id"]
        subject = str(em["Subject"])
        assert subject == d["subject"]
        assert subject.startswith("Nhắc việc, đôn đốc ngày 10/01/2023: ")
        body = plain_body(mail)
        for task_id in tasks_of[unit]:  # every notice of the unit is a line of its digest
            assert f"Mã: {task_id}" in body
        assert body.count("Mã: ") == len(tasks_of[unit]) == d["notices"]

    a = next(m for m in mails if m.rcpt_tos == [addr("x-ubnd-a")])
    assert str(a.message["Subject"]) == "Nhắc việc, đôn đốc ngày 10/01/2023: 2 nhiệm vụ (2 quá hạn)"
    # E-mail is multipart/alternative: the HTML digest as stored, and Apprise's plain-text
    # rendering of it (its e-mail plugin derives the text part from the HTML).
    body = plain_body(a)
    html_part = a.message.get_body(preferencelist=("html",))
    assert html_part is not None and a.message.get_content_type() == "multipart/alternative"
    html = html_part.get_content()
    assert "Kính gửi: UBND huyện A" in body
    assert "Các huyện xây dựng kế hoạch\nChủ trì: UBND huyện A" in body
    assert "Báo cáo định kỳ\nChủ trì: UBND huyện A" in body
    assert "Quá hạn (2)" in body and "Quá hạn 7 ngày" in body  # its own, escalated or not
    assert "văn bản ghi: “Quý IV/2022”" in body  # the deadline as written
    assert "“Hàng năm, trước ngày 20 của tháng cuối kỳ báo cáo”" in body
    assert "03/01/2023" in body  # ... and as computed
    assert "1/KH-UBND (kh-1-2022)" in body
    with store.engine.connect() as conn:
        stored_text, stored_html = conn.execute(
            select(T.delivery_t.c.body_text, T.delivery_t.c.body_html).where(
                T.delivery_t.c.id == listed["x-ubnd-a"]["delivery_id"]
            )
        ).one()
    assert html.rstrip("\n") == stored_html.rstrip("\n")
    assert "hạn 03/01/2023, quá hạn 7 ngày" in stored_text  # the plain digest, as stored

    # The webhook got the Markdown digest with the delivery id the ledger shows.
    [req] = http.requests_to("/kttt/x-ubnd-b")
    assert req.headers[DELIVERY_HEADER] == listed["x-ubnd-b"]["delivery_id"]
    assert req.json["title"] == listed["x-ubnd-b"]["subject"]
    assert "**Kính gửi:** UBND huyện B" in req.json["message"]

    # The ledger shows the masked target of each attempt (here: no secret at all).
    assert listed["x-ubnd-a"]["targets"][0]["target"].startswith(f"mailto://127.0.0.1:{smtp.port}")
    assert listed["x-ubnd-b"]["targets"][0]["status"] == "sent"


# --------------------------------------------------------------------------------------------
# 2. Outage during the sweep, recovery with retry-failed, nothing lost, nothing twice
# --------------------------------------------------------------------------------------------


def test_smtp_outage_during_sweep_then_retry_failed_delivers_each_digest_once(
    store: Tracker, tmp_path: Path, smtp: SMTPReceiver, http: HTTPReceiver
) -> None:
    # x-ubnd's webhook hangs; while it does, the SMTP server goes down. Digests go out several
    # at a time (bounded lanes per channel and host), so which e-mails were sent before the
    # outage depends on timing: each is either sent (received once) or failed, never both.
    targets = {u: [smtp.url(addr(u))] for u in UNITS if u != "x-ubnd"}
    targets["x-ubnd"] = [http.url("/kttt/x-ubnd")]
    http.set_mode("/kttt/x-ubnd", "hang")
    load_with_targets(store, tmp_path, targets)
    expected = store.sweep(as_of=DAY, dry_run=True)

    def outage() -> None:
        end = time.monotonic() + 15
        while not http.requests_to("/kttt/x-ubnd") and time.monotonic() < end:
            time.sleep(0.01)
        smtp.stop()

    stopper = threading.Thread(target=outage, daemon=True)
    stopper.start()
    # x-ubnd's read timeout leaves the server time to go down before x-ubnd-a's turn.
    report = store.sweep(as_of=DAY, settings=settings(read_timeout=2.0))
    stopper.join(timeout=10)
    assert not smtp.running

    assert report.notices == expected.notices and len(report.deliveries) == len(UNITS)
    status = {u: d["status"] for u, d in one_per_unit(store, DAY).items()}
    assert status.pop("x-ubnd") == "timeout"
    assert set(status.values()) <= {"sent", "failed"}
    sent = sorted(u for u, st in status.items() if st == "sent")
    failed = sorted(u for u, st in status.items() if st == "failed")
    assert rcpt_counts(smtp.messages) == Counter({addr(u): 1 for u in sent})
    ledger_is_complete(store)  # every notice is in the ledger, in a delivery: nothing lost
    for u in failed:
        [att] = one_per_unit(store, DAY)[u]["targets"]
        assert att["status"] == "failed" and att["error"]

    # The server comes back on the same port; the webhook answers again.
    smtp.start()
    http.set_mode("/kttt/x-ubnd", "ok")
    url = db_url(store)
    code, out = cli("retry-failed", "--db", url, env=cli_env(tmp_path))
    assert code == 0, out
    n = len(failed) + 1  # the failed e-mails and the webhook that timed out
    assert (
        f"Gửi lại {n}: {n} thành công, 0 vào hộp thư cục bộ, 0 lỗi, 0 quá thời gian chờ, "
        "0 ngừng gửi." in out
    )

    by_unit = one_per_unit(store, DAY)
    assert {d["status"] for d in by_unit.values()} == {"sent"}
    mails = smtp.messages
    assert rcpt_counts(mails) == Counter({addr(u): 1 for u in UNITS if u != "x-ubnd"})
    for m in mails:
        assert m.message[DELIVERY_HEADER] == by_unit[m.rcpt_tos[0].split("@")[0]]["delivery_id"]
    # The hanging webhook had received the first request before the client gave up: the
    # retry carries the same delivery id, so the receiver can drop the duplicate.
    reqs = http.requests_to("/kttt/x-ubnd")
    assert len(reqs) == 2
    assert {r.headers[DELIVERY_HEADER] for r in reqs} == {by_unit["x-ubnd"]["delivery_id"]}

    # Sweeping the same date again records nothing and sends nothing.
    code, out = cli("sweep", "--db", url, "--as-of", DAY.isoformat(), env=cli_env(tmp_path))
    assert code == 0, out
    assert "Quét tại ngày 10/01/2023: 0 thông báo mới, 0 bản tổng hợp." in out
    assert "Gửi: 0 thành công" in out
    again = store.sweep(as_of=DAY, settings=settings())
    assert (again.notices, again.deliveries) == (0, [])
    assert again.sent is not None and again.sent.claimed == 0
    time.sleep(0.2)
    assert len(smtp.messages) == 5 and len(http.requests_to("/kttt/x-ubnd")) == 2
    assert count(store, T.notice_t) == expected.notices


# --------------------------------------------------------------------------------------------
# 3. HTTP 500, a hanging receiver, an unreachable port: statuses, bounded time, dead letters
# --------------------------------------------------------------------------------------------


def test_failing_targets_are_recorded_bounded_and_end_dead(
    store: Tracker, tmp_path: Path, smtp: SMTPReceiver, http: HTTPReceiver
) -> None:
    http.set_mode("/c-err", "error")
    http.set_mode("/hang", "hang")
    dead_port = unreachable_port()
    targets = {
        "x-ubnd": [smtp.url(addr("x-ubnd"))],
        "x-ubnd-a": [smtp.url(addr("x-ubnd-a"))],
        "x-ubnd-b": [http.url("/b")],
        # Two targets: the first accepts, the second answers 500.
        "x-ubnd-c": [http.url("/c-ok"), http.url("/c-err")],
        "x-so-khdt": [http.url("/hang")],
        "x-so-tc": [f"json://127.0.0.1:{dead_port}/tc"],
    }
    load_with_targets(store, tmp_path, targets)
    cfg = settings(max_attempts=2, retry_base=60.0, retry_cap=3600.0)

    t0 = time.monotonic()
    report = store.sweep(as_of=DAY, settings=cfg)
    elapsed = time.monotonic() - t0
    # One slow target (the hang); the 500 and the refused port answer at once. The sweep is
    # bounded by the timeouts, and the healthy units were not held up beyond them.
    assert elapsed < 1 * (CTO + RTO) + SLACK, elapsed
    [b_req] = http.requests_to("/b")
    assert b_req.at - t0 < 1 * (CTO + RTO) + SLACK
    assert report.sent is not None
    assert (report.sent.sent, report.sent.failed, report.sent.timeout) == (3, 2, 1)

    by_unit = one_per_unit(store, DAY)
    assert {u: d["status"] for u, d in by_unit.items()} == {
        "x-ubnd": "sent",
        "x-ubnd-a": "sent",
        "x-ubnd-b": "sent",
        "x-ubnd-c": "failed",
        "x-so-khdt": "timeout",
        "x-so-tc": "failed",
    }
    assert rcpt_counts(smtp.messages) == Counter({addr("x-ubnd"): 1, addr("x-ubnd-a"): 1})

    def attempt_rows(unit: str) -> list[dict[str, Any]]:
        return attempts_of(store, by_unit[unit]["delivery_id"])

    c_ok, c_err = attempt_rows("x-ubnd-c")
    assert (c_ok["status"], c_ok["error"]) == ("sent", None)
    assert c_err["status"] == "failed" and "500" in c_err["error"]
    [hang] = attempt_rows("x-so-khdt")
    assert hang["status"] == "timeout" and "hết thời gian chờ" in hang["error"]
    [refused] = attempt_rows("x-so-tc")
    assert refused["status"] == "failed" and "Connection refused" in refused["error"]
    for u in ("x-ubnd-c", "x-so-khdt", "x-so-tc"):
        assert by_unit[u]["last_error"]

    # Backoff: not due before next_attempt_at, even when deliver() is called.
    d = T.delivery_t
    with store.engine.connect() as conn:
        nexts = {
            r.recipient: utc(r.next_attempt_at)
            for r in conn.execute(
                select(d.c.recipient, d.c.next_attempt_at).where(d.c.as_of == DAY)
            )
            if r.next_attempt_at is not None
        }
    assert set(nexts) == {"x-ubnd-c", "x-so-khdt", "x-so-tc"}
    early = store.deliver(settings=cfg, at=min(nexts.values()) - timedelta(milliseconds=1))
    assert early.claimed == 0
    assert len(http.requests_to("/c-err")) == 1

    # Attempt 2 (= max_attempts): still failing, so dead.
    late = store.deliver(settings=cfg, at=max(nexts.values()) + timedelta(seconds=1))
    assert (late.claimed, late.dead) == (3, 3)
    assert len(http.requests_to("/c-ok")) == 1  # the target that accepted is not sent it again
    assert len(http.requests_to("/c-err")) == 2
    assert len(http.requests_to("/hang")) == 2
    assert len(http.requests_to("/b")) == 1

    code, out = cli("deliveries", "--db", db_url(store), "--status", "dead", "--json")
    assert code == 0, out
    dead = {x["unit"]: x for x in json.loads(out)}
    assert set(dead) == {"x-ubnd-c", "x-so-khdt", "x-so-tc"}
    assert all(x["attempts"] == 2 and x["last_error"] for x in dead.values())
    assert [t["status"] for t in dead["x-so-khdt"]["targets"]] == ["timeout", "timeout"]
    assert [t["status"] for t in dead["x-ubnd-c"]["targets"]] == ["sent", "failed", "failed"]
    code, table = cli("deliveries", "--db", db_url(store), "--status", "dead")
    assert code == 0 and "dead" in table and "x-so-tc" in table

    # Dead is final: retry-failed leaves it alone.
    code, out = cli("retry-failed", "--db", db_url(store), env=cli_env(tmp_path))
    assert code == 0 and "Gửi lại 0:" in out, out
    assert len(http.requests_to("/c-err")) == 2


# --------------------------------------------------------------------------------------------
# 4. Units without targets: no_target (listed) or the local Maildir
# --------------------------------------------------------------------------------------------


def test_unit_without_target_is_no_target_or_local_maildir(
    store: Tracker, tmp_path: Path, http: HTTPReceiver
) -> None:
    load_with_targets(store, tmp_path, {"x-ubnd-b": [http.url("/b")]})
    others = set(UNITS) - {"x-ubnd-b"}

    first = date(2023, 1, 5)
    store.sweep(as_of=first, settings=settings(maildir=None))
    status = {u: d["status"] for u, d in one_per_unit(store, first).items()}
    assert status == {"x-ubnd-b": "sent", **{u: "no_target" for u in others}}

    code, out = cli("deliveries", "--db", db_url(store), "--status", "no_target", "--json")
    assert code == 0, out
    listed = json.loads(out)
    assert {x["unit"] for x in listed} == others
    for x in listed:
        [att] = x["targets"]
        assert att["status"] == "no_target"
        assert att["error"] == "đơn vị chưa khai báo địa chỉ nhận thông báo"
    code, table = cli("deliveries", "--db", db_url(store), "--status", "no_target")
    assert code == 0 and "no_target" in table

    maildir = tmp_path / "mail"
    for day in (DAY, date(2023, 1, 12)):
        store.sweep(as_of=day, settings=settings(maildir=maildir))
    local = deliveries(store, status="local")
    assert set(local) == others
    assert len(local["x-ubnd"]) == len(local["x-so-khdt"]) == 2  # 10/01 and 12/01
    assert not (maildir / "x-ubnd-b").exists()

    def box_ids() -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for unit_dir in sorted(maildir.iterdir()):
            box = mailbox.Maildir(unit_dir, factory=None, create=False)
            assert len(box) == len(list((unit_dir / "new").iterdir()))
            for f in sorted((unit_dir / "new").iterdir()):
                em = BytesParser(policy=policy.default).parsebytes(f.read_bytes())
                assert str(em["Subject"]).startswith(
                    ("Nhắc việc, đôn đốc ngày ", "Đồng gửi để biết: ")
                )
                out.setdefault(unit_dir.name, []).append(str(em[DELIVERY_HEADER]))
        return out

    ids = box_ids()
    assert set(ids) == others
    for u in others:  # one message per local digest, none for the no_target ones
        assert sorted(ids[u]) == sorted(d["delivery_id"] for d in local[u])
    again = store.deliver(settings=settings(maildir=maildir), force=True)
    assert again.claimed == 0
    assert box_ids() == ids
    assert len(deliveries(store, status="no_target")) == len(others)


def test_unwritable_maildir_fails_one_delivery_not_the_whole_run(
    store: Tracker, tmp_path: Path, smtp: SMTPReceiver
) -> None:
    # x-so-khdt (the first digest in the outbox) has no target; the others have working ones.
    load_with_targets(store, tmp_path, {u: [smtp.url(addr(u))] for u in UNITS if u != "x-so-khdt"})
    bad = tmp_path / "mail-is-a-file"
    bad.write_text("", encoding="utf-8")  # KTTT_MAILDIR misconfigured / not writable
    report = store.sweep(as_of=DAY, settings=settings(maildir=bad))

    assert report.sent is not None and report.sent.sent == len(UNITS) - 1
    assert rcpt_counts(smtp.messages) == Counter({addr(u): 1 for u in UNITS if u != "x-so-khdt"})
    khdt = one_per_unit(store, DAY)["x-so-khdt"]
    assert khdt["status"] == "failed"  # recorded, retried later, never stuck in "sending"
    assert khdt["targets"] and khdt["targets"][0]["error"]


# --------------------------------------------------------------------------------------------
# 5. Two sweeps started at the same instant
# --------------------------------------------------------------------------------------------


ROUNDS = (
    date(2023, 1, 5),
    date(2023, 1, 10),
    date(2023, 1, 12),
    date(2023, 1, 17),
    date(2023, 2, 15),
)


def test_concurrent_sweeps_record_and_send_each_digest_once(
    store: Tracker, tmp_path: Path, smtp: SMTPReceiver
) -> None:
    load_with_targets(store, tmp_path, {u: [smtp.url(addr(u))] for u in UNITS})
    url = db_url(store)
    total = 0
    for day in ROUNDS:
        expected = store.sweep(as_of=day, dry_run=True)
        assert expected.previews, day
        before = len(smtp.messages)
        barrier = threading.Barrier(2)
        reports: list[Any] = [None, None]
        errors: list[BaseException] = []

        def run(
            i: int,
            day: date = day,
            barrier: threading.Barrier = barrier,
            reports: list[Any] = reports,
            errors: list[BaseException] = errors,
        ) -> None:
            s = Tracker.open(url, migrate=False)
            try:
                with s.engine.connect():
                    pass  # connect before the barrier: start the sweeps, not the logins, together
                barrier.wait(timeout=10)
                reports[i] = s.sweep(as_of=day, settings=settings())
            except BaseException as exc:
                errors.append(exc)
            finally:
                s.close()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == [], f"{day}: {errors!r}"

        total += expected.notices
        assert sum(r.notices for r in reports) == expected.notices, day
        assert count(store, T.notice_t) == total
        assert len(reports[0].deliveries) + len(reports[1].deliveries) == len(expected.previews)
        time.sleep(0.1)
        new = smtp.messages[before:]
        assert rcpt_counts(new) == Counter({addr(u): 1 for u in expected.previews}), day
        by_unit = one_per_unit(store, day)
        assert set(by_unit) == set(expected.previews)
        assert {d["status"] for d in by_unit.values()} == {"sent"}
        assert all(d["attempts"] == 1 and len(d["targets"]) == 1 for d in by_unit.values())
        assert {m.message[DELIVERY_HEADER] for m in new} == {
            d["delivery_id"] for d in by_unit.values()
        }
    ledger_is_complete(store)
    n = T.notice_t
    with store.engine.connect() as conn:
        dup = conn.execute(
            select(n.c.task_id, n.c.step_code, n.c.recipient)
            .group_by(n.c.task_id, n.c.step_code, n.c.recipient)
            .having(func.count() > 1)
        ).all()
    assert dup == []


def test_dry_run_while_a_sweep_records_waits_for_the_lock_on_sqlite(
    sqlite_store: Tracker, tmp_path: Path
) -> None:
    load_with_targets(sqlite_store, tmp_path, {})
    other = Tracker.open(db_url(sqlite_store), migrate=False)
    holding, release = threading.Event(), threading.Event()

    def sweep_in_progress() -> None:
        with other.engine.begin() as conn:
            S.start_sweep(
                conn, DAY, datetime.now(UTC)
            )  # the first statement of a sweep's recording transaction
            holding.set()
            release.wait(5)

    t = threading.Thread(target=sweep_in_progress)
    t.start()
    assert holding.wait(5)
    timer = threading.Timer(0.5, release.set)  # the sweep commits half a second later
    timer.start()
    try:
        preview = sqlite_store.sweep(as_of=DAY, dry_run=True)
    finally:
        release.set()
        timer.cancel()
        t.join()
        other.close()
    assert set(preview.previews) == set(UNITS)


# --------------------------------------------------------------------------------------------
# 6. A crash between recording and sending; the documented duplicate window
# --------------------------------------------------------------------------------------------


def _crash(mode: str, url: str, day: date) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "KTTT_DATABASE_URL"}
    r = subprocess.run(
        [sys.executable, str(SCRIPTS / "crash_during_delivery.py"), mode, url, day.isoformat()],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stdout, r.stderr)
    return r


def test_crash_after_recording_before_sending_loses_nothing(
    store: Tracker, tmp_path: Path, smtp: SMTPReceiver
) -> None:
    load_with_targets(store, tmp_path, {u: [smtp.url(addr(u))] for u in UNITS})
    expected = store.sweep(as_of=DAY, dry_run=True)
    r = _crash("before-send", db_url(store), DAY)
    assert "crashing before any send" in r.stdout

    assert smtp.messages == []
    by_unit = one_per_unit(store, DAY)
    assert set(by_unit) == set(UNITS)
    assert {d["status"] for d in by_unit.values()} == {"pending"}
    assert count(store, T.notice_t) == expected.notices
    ledger_is_complete(store)
    assert count(store, T.sweep_t, T.sweep_t.c.finished_at.is_(None)) == 1  # died mid-sweep

    report = store.sweep(as_of=DAY, settings=settings())
    assert (report.notices, report.deliveries) == (0, [])
    assert report.sent is not None and report.sent.sent == len(UNITS)
    assert rcpt_counts(smtp.messages) == Counter({addr(u): 1 for u in UNITS})
    assert store.deliver(settings=settings(), force=True).claimed == 0
    assert len(smtp.messages) == len(UNITS)


def test_crash_after_send_before_record_is_the_only_duplicate(
    store: Tracker, tmp_path: Path, smtp: SMTPReceiver
) -> None:
    load_with_targets(store, tmp_path, {u: [smtp.url(addr(u))] for u in UNITS})
    r = _crash("after-send", db_url(store), DAY)

    [first] = smtp.wait_for(1)
    crashed_id = first.message[DELIVERY_HEADER]
    assert f"crashing after sending {crashed_id}" in r.stdout
    by_unit = one_per_unit(store, DAY)
    status = {d["delivery_id"]: d["status"] for d in by_unit.values()}
    assert status.pop(crashed_id) == "sending"  # accepted by the server, attempt never recorded
    assert set(status.values()) == {"pending"}
    assert attempts_of(store, crashed_id) == []

    # A normal run soon after: the others go out; the claimed one is not yet stale.
    summary = store.deliver(settings=settings())
    assert summary.sent == len(UNITS) - 1
    assert rcpt_counts(smtp.messages) == Counter({addr(u): 1 for u in UNITS})
    # Once it is stale, it is sent again, with the same delivery id.
    summary = store.deliver(settings=settings(stale_after=timedelta(0)))
    assert (summary.claimed, summary.sent) == (1, 1)
    mails = smtp.messages
    per_id = Counter(m.message[DELIVERY_HEADER] for m in mails)
    assert per_id[crashed_id] == 2
    assert all(c == 1 for i, c in per_id.items() if i != crashed_id)
    dup_unit = first.rcpt_tos[0]
    assert rcpt_counts(mails) == Counter({addr(u): 1 for u in UNITS}) + Counter({dup_unit: 1})
    copies = [m for m in mails if m.message[DELIVERY_HEADER] == crashed_id]
    assert str(copies[0].message["Subject"]) == str(copies[1].message["Subject"])
    assert plain_body(copies[0]) == plain_body(copies[1])
    assert {d["status"] for d in one_per_unit(store, DAY).values()} == {"sent"}
    assert store.deliver(settings=settings(stale_after=timedelta(0)), force=True).claimed == 0
    assert len(smtp.messages) == len(UNITS) + 1


def test_delivery_in_flight_in_a_long_run_is_not_reclaimed_as_stale(
    store: Tracker, tmp_path: Path, smtp: SMTPReceiver
) -> None:
    # Every single send takes ~1 s, well under stale_after (1.5 s), but the run takes ~3 s:
    # the scaled-down picture of a daily run with many slow targets lasting over 10 minutes.
    with HTTPReceiver(default_mode="hang", hang_seconds=1.0) as slow:
        targets = {u: [slow.url(f"/{u}")] for u in ("x-so-khdt", "x-so-tc", "x-ubnd")}
        targets |= {u: [smtp.url(addr(u))] for u in ("x-ubnd-a", "x-ubnd-b", "x-ubnd-c")}
        load_with_targets(store, tmp_path, targets)
        store.sweep(as_of=DAY, send=False)
        cfg = settings(read_timeout=3.0, stale_after=timedelta(seconds=1.5))
        url = db_url(store)
        errors: list[BaseException] = []

        def long_run() -> None:
            s = Tracker.open(url, migrate=False)
            try:
                s.deliver(settings=cfg)
            except BaseException as exc:
                errors.append(exc)
            finally:
                s.close()

        a = threading.Thread(target=long_run)
        a.start()
        end = time.monotonic() + 15
        while not slow.requests_to("/x-ubnd") and time.monotonic() < end:
            time.sleep(0.01)
        assert slow.requests_to("/x-ubnd")  # the long run is sending x-ubnd's digest right now
        store.deliver(settings=cfg)  # another run starts (a sweep, retry-failed)
        a.join(timeout=30)
        assert errors == []
        assert len(slow.requests_to("/x-ubnd")) == 1
        assert {u: d["status"] for u, d in one_per_unit(store, DAY).items()} == {
            u: "sent" for u in UNITS
        }
        assert rcpt_counts(smtp.messages) == Counter(
            {addr(u): 1 for u in ("x-ubnd-a", "x-ubnd-b", "x-ubnd-c")}
        )


# --------------------------------------------------------------------------------------------
# 7. Secrets stay out of the database, the CLI output, the logs and the error texts
# --------------------------------------------------------------------------------------------

SMTP_PASS = "S3cr3tPassW0rd-kttt"
TOKEN = "AAH-tok3n_SECRET_value42"


def _leaks(texts: list[str]) -> list[str]:
    needles = [SMTP_PASS, SMTP_PASS[1:-1], TOKEN, TOKEN[1:-1]]
    return [t for t in texts if any(s in t for s in needles)]


def _db_texts(store: Tracker) -> list[str]:
    out: list[str] = []
    with store.engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{name}"')):
                out += [f"{name}: {v}" for v in row if v is not None]
    return out


def test_secrets_never_appear_in_ledger_cli_or_logs(
    store: Tracker,
    tmp_path: Path,
    smtp: SMTPReceiver,
    http: HTTPReceiver,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    http.set_mode("/err", "error")
    targets = {
        # A password: loads, then fails at login (the test server offers no AUTH).
        "x-ubnd-a": [
            f"mailto://kttt:${{KTTT_TEST_SMTP_PASS}}@127.0.0.1:{smtp.port}"
            f"?to={addr('x-ubnd-a')}&from=kttt@localhost"
        ],
        # A bot token in a webhook path: sent.
        "x-ubnd-b": [f"json://127.0.0.1:{http.port}/bot123456:${{KTTT_TEST_TOKEN}}"],
        # The token in a header, answered with 500.
        "x-ubnd": [
            f"json://127.0.0.1:{http.port}/err?+Authorization=Bearer%20${{KTTT_TEST_TOKEN}}"
        ],
        # The token in the path, nobody listening: the exception text quotes the URL.
        "x-so-tc": [f"json://127.0.0.1:{unreachable_port()}/bot123456:${{KTTT_TEST_TOKEN}}"],
        # A variable that is not set: the error names it.
        "x-ubnd-c": [f"json://127.0.0.1:{http.port}/c/${{KTTT_TEST_MISSING_VAR}}"],
        "x-so-khdt": [smtp.url(addr("x-so-khdt"))],
    }
    load_with_targets(store, tmp_path, targets)
    url = db_url(store)
    env = {k: v for k, v in os.environ.items() if k not in ("KTTT_DATABASE_URL",)}
    env.update(
        KTTT_HOME=str(tmp_path / "home"),
        KTTT_LOCAL_MAILBOX="0",
        KTTT_TEST_SMTP_PASS=SMTP_PASS,
        KTTT_TEST_TOKEN=TOKEN,
        COLUMNS="200",
    )
    env.pop("KTTT_TEST_MISSING_VAR", None)

    def kttt(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(KTTT), *args, "--db", url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )

    def finish(*procs: subprocess.Popen[str]) -> list[tuple[int, str, str]]:
        out = []
        for p in procs:
            stdout, stderr = p.communicate(timeout=120)
            out.append((p.returncode, stdout, stderr))
        return out

    texts: list[str] = []
    [(code, out, err)] = finish(kttt("sweep", "--as-of", DAY.isoformat()))
    texts += [out, err]
    assert code == 0, err
    assert "Quét tại ngày 10/01/2023:" in out and "6 bản tổng hợp" in out
    assert "Gửi: 2 thành công" in out and "4 lỗi" in out
    # The secrets were really used: the webhook got the token in its path.
    assert len(http.requests_to(f"/bot123456:{TOKEN}")) == 1
    assert len(smtp.messages) == 1  # x-so-khdt; x-ubnd-a's login was refused

    [(code, out, err)] = finish(kttt("retry-failed"))
    texts += [out, err]
    assert code == 0, err
    assert "Gửi lại 4: 0 thành công, 0 vào hộp thư cục bộ, 4 lỗi" in out

    [(code, js, err)] = finish(kttt("deliveries", "--json"))
    texts += [js, err]
    assert code == 0, err
    code, table = cli("deliveries", "--db", url)  # the table view (in process)
    texts.append(table)
    assert code == 0 and "x-ubnd-c" in table
    listed = {d["unit"]: d for d in json.loads(js)}
    assert {u: d["status"] for u, d in listed.items()} == {
        "x-ubnd-a": "failed",
        "x-ubnd-b": "sent",
        "x-ubnd": "failed",
        "x-so-tc": "failed",
        "x-ubnd-c": "failed",
        "x-so-khdt": "sent",
    }
    missing = listed["x-ubnd-c"]["targets"][-1]
    assert "KTTT_TEST_MISSING_VAR" in missing["error"]
    assert "biến môi trường" in missing["error"]
    assert "500" in listed["x-ubnd"]["targets"][-1]["error"]
    assert "Connection refused" in listed["x-so-tc"]["targets"][-1]["error"]
    assert listed["x-ubnd-a"]["targets"][-1]["error"]
    assert listed["x-ubnd-b"]["targets"][0]["target"].startswith(f"json://127.0.0.1:{http.port}/")

    # In process, with every logger at DEBUG: a sweep of another day and a forced retry.
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("KTTT_TEST_SMTP_PASS", SMTP_PASS)
    monkeypatch.setenv("KTTT_TEST_TOKEN", TOKEN)
    monkeypatch.delenv("KTTT_TEST_MISSING_VAR", raising=False)
    report = store.sweep(as_of=date(2023, 1, 12), settings=settings())
    assert report.sent is not None and report.sent.claimed >= 1
    retry = store.deliver(settings=settings(), force=True)
    assert retry.claimed >= 4
    assert any(r.name.startswith("urllib3") for r in caplog.records)
    for rec in caplog.records:
        texts += [rec.getMessage(), rec.exc_text or "", str(rec.args or "")]
    texts.append(caplog.text)

    # A missing variable raises an error naming it, without any value.
    from kttt_workflow.notify.targets import TargetError, expand_target

    with pytest.raises(TargetError) as exc_info:
        expand_target(
            f"mailto://kttt:${{KTTT_TEST_SMTP_PASS}}@127.0.0.1/{TOKEN}/${{KTTT_TEST_MISSING_VAR}}"
        )
    assert "KTTT_TEST_MISSING_VAR" in str(exc_info.value)
    texts += [str(exc_info.value), repr(exc_info.value)]

    texts += _db_texts(store)
    assert any("delivery_attempt" in t for t in texts)
    leaks = _leaks(texts)
    assert leaks == [], f"secret leaked: {leaks[:3]}"
