"""Benchmark: delivering D digests by e-mail through the library's outbox, against plain smtplib.

Usage::

    .venv/bin/python bench/bench_delivery.py [--digests 1000] [--repeat 3] [--lines 3] [--db both]

A local SMTP server (aiosmtpd ``Controller`` on 127.0.0.1, a free port, run in a child process
so that it does not share the benchmark's GIL) accepts and counts every message. Each repetition:

* ``outbox_sqlite``  ``Tracker.deliver(settings=OutboxSettings(maildir=None))`` on a fresh SQLite
                     store holding D units, each with ONE target
                     ``mailto://127.0.0.1:PORT?to=unitN@example.vn&from=kttt@localhost`` (the form
                     the notify tests use for their SMTP receiver), and D ``pending``
                     ``delivery`` rows written directly (untimed). Everything the library does:
                     claims in batches, reads the rows and the units' targets, sends
                     concurrently (``domain.delivery.Lanes``: 8 in flight, 4 per host), Apprise
                     with the pooled SMTP plugin (``notify/smtp.py``), records the attempts;
* ``outbox_postgres`` the same on a fresh PostgreSQL schema (``--db postgres|both``);
* ``apprise_send``   ``kttt_workflow.notify.send.send(message, [url])`` for the same D messages,
                     one after the other, no database: the adapter alone (diagnostic);
* ``apprise_stock``  diagnostic, the "before": Apprise's own ``mailto`` plugin, a fresh
                     ``Apprise()`` with the URL per message (what ``send`` did before the pooled
                     plugin: a new SSL context and SMTP session per message);
* ``smtplib_conn``   floor: the same D messages (same From/To/Subject/body, UTF-8 text, the
                     Message-ID and ``X-KTTT-Delivery-Id`` headers) with ``smtplib``, one SMTP
                     connection per message (connect, EHLO, MAIL/RCPT/DATA, QUIT) like Apprise;
* ``smtplib_reuse``  floor: the same, over ONE reused connection.

After every run the server must have received exactly D messages, one per unit address (checked).
Each figure is printed beside the ``smtplib_conn`` floor of the same run as a ratio of throughputs
(floor seconds / measure seconds; the goal for the outbox is >= 0.5). See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import smtplib
import sqlite3
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

from _common import (
    DB_KINDS,
    PostgresBackend,
    Results,
    SQLiteBackend,
    banner,
    fmt,
    footer,
    log,
    median,
    scratch,
    seconds,
    select_backends,
    timed,
)
from sqlalchemy import insert

from kttt_workflow.config import OutboxSettings, utcnow
from kttt_workflow.domain.digest import Digest, DigestLine, render
from kttt_workflow.notify.message import DELIVERY_HEADER, DeliveryStatus, Message, message_id
from kttt_workflow.notify.send import send
from kttt_workflow.orchestration.stack import free_port
from kttt_workflow.service import SendSummary, Tracker
from kttt_workflow.store import tables as T

HOST = "127.0.0.1"
SENDER = "kttt@localhost"
AS_OF = date(2025, 6, 16)
FLOOR = "smtplib_conn"
GOAL = 0.5  # the outbox's throughput / the floor's


# ------------------------------------------------------------------------------------------------
# The SMTP receiver: aiosmtpd in a child process, counting messages per recipient address
# ------------------------------------------------------------------------------------------------
def _server_main(port: int, conn: Any) -> None:
    from aiosmtpd.controller import Controller

    received: list[tuple[str, int]] = []  # (first RCPT TO, size of the DATA)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(
                (envelope.rcpt_tos[0] if envelope.rcpt_tos else "", len(envelope.content))
            )
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname=HOST, port=port, ready_timeout=10.0)
    controller.start()
    conn.send("ready")
    while True:
        cmd = conn.recv()
        if cmd == "take":  # the messages received since the last "take"
            out = list(received)
            del received[: len(out)]
            conn.send(out)
        elif cmd == "stop":
            controller.stop()
            conn.send("stopped")
            return


class SMTPServer:
    def __init__(self) -> None:
        self.port = free_port(HOST)
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_server_main, args=(self.port, child), daemon=True)
        self.proc.start()
        if not self.conn.poll(30) or self.conn.recv() != "ready":
            raise RuntimeError("the aiosmtpd server did not start")

    def take(self) -> list[tuple[str, int]]:
        self.conn.send("take")
        return self.conn.recv()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[str, int]]:
        """Everything received so far; waits (bounded) until ``count`` messages are in."""
        got = self.take()
        end = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < end:
            time.sleep(0.05)
            got += self.take()
        return got

    def __enter__(self) -> SMTPServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        try:
            self.conn.send("stop")
            self.conn.poll(10) and self.conn.recv()
        finally:
            self.proc.join(10)
            if self.proc.is_alive():
                self.proc.terminate()


# ------------------------------------------------------------------------------------------------
# Inputs: D units, D digests
# ------------------------------------------------------------------------------------------------
def unit_code(i: int) -> str:
    return f"unit{i}"


def address(i: int) -> str:
    return f"unit{i}@example.vn"


def target(port: int, i: int) -> str:
    return f"mailto://{HOST}:{port}?to={address(i)}&from={SENDER}"


@dataclass(frozen=True)
class Item:
    delivery_id: str
    unit: str
    unit_name: str
    to: str
    digest: Digest


def digests(n: int, lines: int) -> list[Item]:
    """D realistic digests (the library's own renderer), ``lines`` tasks each."""
    out = []
    severities = ("upcoming", "due", "overdue", "escalated")
    for i in range(1, n + 1):
        name = f"UBND xã số {i:04d}"
        ls = [
            DigestLine(
                "kh-99-2025",
                "Kế hoạch 99/KH-UBND",
                f"kh-99-2025/{k}/{unit_code(i)}",
                f"Nhiệm vụ số {k}: báo cáo kết quả thực hiện chuyển đổi số",
                "trước ngày 30/05/2025",
                AS_OF - timedelta(days=17 - k),
                name,
                severities[(i + k) % 4],
                k % 3 == 0,
            )
            for k in range(1, lines + 1)
        ]
        out.append(Item(uuid.uuid4().hex, unit_code(i), name, address(i), render(name, AS_OF, ls)))
    return out


def fill_outbox(tracker: Tracker, port: int, items: list[Item]) -> None:
    """D units (one e-mail target each) and D pending deliveries, written directly."""
    at = utcnow()
    with tracker.engine.begin() as conn:
        conn.execute(insert(T.level_t), [{"code": "xa", "name": "Cấp xã", "position": 0}])
        conn.execute(
            insert(T.unit_t),
            [
                {
                    "code": it.unit,
                    "name": it.unit_name,
                    "aliases": [],
                    "level": "xa",
                    "targets": [target(port, int(it.unit[4:]))],
                }
                for it in items
            ],
        )
        conn.execute(
            insert(T.delivery_t),
            [
                {
                    "id": it.delivery_id,
                    "recipient": it.unit,
                    "sweep_id": None,
                    "as_of": AS_OF,
                    "subject": it.digest.subject,
                    "body_text": it.digest.text,
                    "body_markdown": it.digest.markdown,
                    "notices": 3,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": at + timedelta(microseconds=k),  # sent in this order
                }
                for k, it in enumerate(items)
            ],
        )


class SQLiteOutbox(SQLiteBackend):
    """Fresh SQLite stores, each holding D units (one target each) and D pending deliveries."""

    def __init__(self, tmp: Path, port: int) -> None:
        super().__init__(tmp)
        self.port = port
        self.items: list[Item] = []  # the digests of the next fresh store

    def fill(self, tracker: Tracker, handle: Any) -> None:
        fill_outbox(tracker, self.port, self.items)


class PostgresOutbox(PostgresBackend):
    """Fresh PostgreSQL schemas, each holding the same."""

    def __init__(self, url: str, port: int) -> None:
        super().__init__(url)
        self.port = port
        self.items: list[Item] = []

    def fill(self, tracker: Tracker, handle: Any) -> None:
        fill_outbox(tracker, self.port, self.items)


# ------------------------------------------------------------------------------------------------
# The measured runs
# ------------------------------------------------------------------------------------------------
def run_outbox(tracker: Tracker) -> SendSummary:
    summary = tracker.deliver(settings=OutboxSettings(maildir=None, apprise_config=None))
    assert summary.sent == summary.claimed and summary.failed == summary.timeout == 0, summary
    return summary


def run_apprise_send(port: int, items: list[Item]) -> None:
    for it in items:
        msg = Message(
            it.delivery_id,
            it.digest.subject,
            it.digest.text,
            it.digest.markdown,
            it.unit,
            it.unit_name,
        )
        (res,) = send(msg, [target(port, int(it.unit[4:]))], connect_timeout=5.0, read_timeout=10.0)
        assert res.status == DeliveryStatus.sent, res


def run_apprise_stock(port: int, items: list[Item]) -> None:
    import apprise

    for it in items:
        url = target(port, int(it.unit[4:])) + f"&%2B{DELIVERY_HEADER}={it.delivery_id}"
        ap = apprise.Apprise()
        ap.add(url)
        assert ap.notify(body=it.digest.text, title=it.digest.subject), it.unit


def email_of(it: Item) -> EmailMessage:
    """The message a plain sender would build: what the adapter's e-mail target carries."""
    em = EmailMessage()
    em["Subject"] = it.digest.subject
    em["From"] = SENDER
    em["To"] = it.to
    em["Date"] = formatdate(localtime=True)
    em["Message-ID"] = message_id(it.delivery_id)
    em[DELIVERY_HEADER] = it.delivery_id
    em.set_content(it.digest.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    return em


def run_smtplib_conn(port: int, items: list[Item]) -> None:
    for it in items:
        with smtplib.SMTP(HOST, port, timeout=10.0) as s:
            s.send_message(email_of(it))


def run_smtplib_reuse(port: int, items: list[Item]) -> None:
    with smtplib.SMTP(HOST, port, timeout=10.0) as s:
        for it in items:
            s.send_message(email_of(it))


@dataclass
class DeliveryResults(Results):
    sizes: dict[str, int] = field(default_factory=dict)


def check(server: SMTPServer, items: list[Item], what: str, res: DeliveryResults) -> None:
    got = server.wait_for(len(items))
    time.sleep(0.2)
    got += server.take()  # nothing more may arrive
    assert len(got) == len(items), (
        f"{what}: server received {len(got)} messages, expected {len(items)}"
    )
    assert sorted(r for r, _ in got) == sorted(it.to for it in items), f"{what}: wrong recipients"
    res.sizes[what] = int(median(size for _, size in got))


# ------------------------------------------------------------------------------------------------
# Main
# ------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--digests", type=int, default=1000, help="D digests = units (default 1000)")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions (default 3)")
    ap.add_argument("--lines", type=int, default=3, help="tasks listed in each digest (default 3)")
    ap.add_argument("--db", choices=DB_KINDS, default="both", help="outbox stores (default both)")
    ap.add_argument(
        "--no-stock", action="store_true", help="skip apprise_stock (the slow 'before')"
    )
    args = ap.parse_args(argv)
    if args.digests < 1 or args.repeat < 1 or args.lines < 1:
        ap.error("--digests, --repeat and --lines must be positive")

    started = time.perf_counter()
    import aiosmtpd
    import apprise
    import sqlalchemy

    banner(
        "delivery",
        f"Apprise {apprise.__version__}, aiosmtpd {aiosmtpd.__version__}, "
        f"SQLAlchemy {sqlalchemy.__version__}, SQLite {sqlite3.sqlite_version}",
    )
    with scratch("kttt-bench-delivery-") as tmp, SMTPServer() as server:
        port = server.port
        log(
            f"D = {args.digests} digests ({args.lines} tasks each) to {args.digests} units, one "
            f"e-mail target each; aiosmtpd on {HOST}:{port} (child process); "
            f"repeat = {args.repeat}"
        )
        backends, _ = select_backends(
            args.db, lambda: SQLiteOutbox(tmp, port), lambda url: PostgresOutbox(url, port)
        )
        measures = [f"outbox_{b.kind}" for b in backends] + ["apprise_send"]
        measures += [] if args.no_stock else ["apprise_stock"]
        measures += ["smtplib_conn", "smtplib_reuse"]
        res = DeliveryResults("delivery", args.digests)
        for rep in range(1, args.repeat + 1):
            for b in backends:
                items = digests(args.digests, args.lines)  # new delivery ids every run
                b.items = items  # type: ignore[attr-defined]
                with b.fresh() as (tracker, _):
                    server.take()
                    sec, summary = timed(lambda: run_outbox(tracker))  # noqa: B023
                    res.add(f"outbox_{b.kind}", sec)
                    assert summary.sent == args.digests, summary
                    check(server, items, f"outbox_{b.kind}", res)
            runs = {
                "apprise_send": run_apprise_send,
                "apprise_stock": run_apprise_stock,
                "smtplib_conn": run_smtplib_conn,
                "smtplib_reuse": run_smtplib_reuse,
            }
            for m in measures:
                if m in runs:
                    res.add(m, seconds(lambda: runs[m](port, items)))  # noqa: B023
                    check(server, items, m, res)
            log(
                f"  [#{rep}] "
                + ", ".join(f"{m} {res.last(m):.2f}s" for m in measures)
                + f"  (server count: {args.digests} each, checked)"
            )

        log("")
        log("seconds (median / min / max over repetitions), messages per second at the median;")
        log(
            f"vs floor = {FLOOR} median / measure median (throughput ratio; goal for outbox >= {GOAL})"
        )
        log(
            f"{'measure':<16}{'median':>8} {'min':>8} {'max':>8} {'msg/s':>9}   "
            f"{'vs floor':>9}  {'bytes/msg':>9}"
        )
        floor = res.median(FLOOR)
        for m in measures:
            med = res.median(m)
            ratio = "(floor)" if m == FLOOR else f"{floor / med:.2f}"
            log(
                f"{m:<16}{fmt(res.times[m])} {args.digests / med:9.0f}   "
                f"{ratio:>9}  {res.sizes.get(m, 0):>9}"
            )
        for b in backends:
            med = res.median(f"outbox_{b.kind}")
            ok = "yes" if floor / med >= GOAL else "NO"
            log(
                f"outbox_{b.kind}: {args.digests / med:.0f} msg/s, {floor / med:.2f}x the floor "
                f"({args.digests / floor:.0f} msg/s); goal >= {GOAL}: {ok}"
            )
        log(
            f"checked: every run, the server received exactly {args.digests} messages, one per "
            f"unit address; every outbox run reported {args.digests} sent"
        )
        footer(started)
        for b in backends:
            b.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
