"""The delivery adapter against REAL servers on 127.0.0.1 (aiosmtpd, http.server); no mocks.

An audit hook (installed once, active only in this module's tests) refuses any DNS lookup or
connection to a host other than the loopback, so no traffic can leave 127.0.0.1.

The pure parts of delivery are unit tests: ``expand_target`` and ``mask_target`` in
``tests/unit/test_targets.py``, the backoff ``retry_delay`` in ``tests/unit/test_delivery_policy.py``.
"""

from __future__ import annotations

import logging
import mailbox
import time
import unicodedata
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from apprise import Apprise

from kttt_workflow.notify.maildir import write_maildir
from kttt_workflow.notify.message import (
    DELIVERY_HEADER,
    DeliveryStatus,
    Message,
    TargetResult,
    message_id,
)
from kttt_workflow.notify.send import send
from kttt_workflow.notify.targets import (
    TargetError,
    expand_target,
    load_apprise_config,
    mask_target,
)
from tests.helpers import CTO, RTO, SLACK
from tests.receivers import (
    HTTPReceiver,
    SilentListener,
    SMTPReceiver,
    unreachable_port,
)

pytestmark = pytest.mark.usefixtures("network_guard", "warm_apprise")


SUBJECT = "Nhắc việc: Sở Kế hoạch và Đầu tư còn 2 nhiệm vụ quá hạn"
TEXT = (
    "Kính gửi Sở Kế hoạch và Đầu tư,\n"
    "Theo Kế hoạch 28/KH-UBND, đơn vị còn 2 nhiệm vụ quá hạn:\n"
    "1. Báo cáo sơ kết 6 tháng (hạn 15/07/2026)\n"
    "2. Xây dựng đề án phát triển kinh tế tập thể (hạn 30/06/2026)\n"
    "Trân trọng."
)
MARKDOWN = (
    "**Kính gửi Sở Kế hoạch và Đầu tư**\n\n"
    "Còn *2 nhiệm vụ* quá hạn:\n\n"
    "1. Báo cáo sơ kết 6 tháng — hạn **15/07/2026**\n"
    "2. Xây dựng đề án phát triển kinh tế tập thể — hạn **30/06/2026**\n"
)

SECRETS = ("S3cr3tPass", "ABCDEF_secret_token", "AAE-secret-bot-token", "GOTIFY_secret_tok_42")


def make_message(
    delivery_id: str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0", unit: str = "sokhdt"
) -> Message:
    return Message(delivery_id, SUBJECT, TEXT, MARKDOWN, unit, "Sở Kế hoạch và Đầu tư")


# --------------------------------------------------------------------------------------------
# Network guard and shared servers
# --------------------------------------------------------------------------------------------


@pytest.fixture
def http() -> Iterator[HTTPReceiver]:
    with HTTPReceiver(hang_seconds=RTO + 2.0) as server:
        yield server


def statuses(results: list[TargetResult]) -> list[str]:
    return [r.status.value for r in results]


# --------------------------------------------------------------------------------------------
# 1. E-mail through a real SMTP server
# --------------------------------------------------------------------------------------------


def test_email_digest_to_real_smtp_server(smtp: SMTPReceiver) -> None:
    msg = make_message()
    results = send(msg, [smtp.url("sokhdt@example.gov.vn")], connect_timeout=CTO, read_timeout=RTO)

    assert statuses(results) == ["sent"]
    assert results[0].error is None
    mails = smtp.wait_for(1)
    assert len(mails) == 1  # one message per send()
    mail = mails[0]
    assert mail.rcpt_tos == ["sokhdt@example.gov.vn"]
    assert mail.mail_from == "kttt@localhost"
    em = mail.message
    assert em["To"].addresses[0].addr_spec == "sokhdt@example.gov.vn"
    # Subject and body decode to the Vietnamese text, diacritics intact (and still NFC).
    assert str(em["Subject"]) == SUBJECT
    assert unicodedata.is_normalized("NFC", str(em["Subject"]))
    assert b"=?utf-8?" in mail.raw.lower()  # the subject travelled RFC 2047-encoded
    body = em.get_body(preferencelist=("plain",))
    assert body is not None
    # SMTP uses CRLF and smtplib terminates the data with one; the text itself is unchanged.
    assert body.get_content().replace("\r\n", "\n") == TEXT + "\n"
    # The delivery id travels as a header; Apprise always generates its own Message-ID.
    assert em[DELIVERY_HEADER] == msg.delivery_id
    assert em["Message-ID"]


def test_smtp_outage_then_recovery_on_same_port(smtp: SMTPReceiver) -> None:
    msg = make_message()
    target = smtp.url("sokhdt@example.gov.vn")
    smtp.stop()
    down = send(msg, [target], connect_timeout=CTO, read_timeout=RTO)
    assert statuses(down) == ["failed"]
    assert down[0].error and "Connection refused" in down[0].error

    smtp.start()  # same port
    up = send(msg, [target], connect_timeout=CTO, read_timeout=RTO)
    assert statuses(up) == ["sent"]
    assert [m.message[DELIVERY_HEADER] for m in smtp.wait_for(1)] == [msg.delivery_id]
    assert down[0].target == up[0].target  # the masked target identifies it across attempts


# --------------------------------------------------------------------------------------------
# 2. JSON webhook
# --------------------------------------------------------------------------------------------


def test_json_webhook_gets_markdown_and_delivery_id_header(http: HTTPReceiver) -> None:
    msg = make_message()
    results = send(msg, [http.url("/kttt/hook")], connect_timeout=CTO, read_timeout=RTO)

    assert statuses(results) == ["sent"]
    [req] = http.requests_to("/kttt/hook")
    assert req.method == "POST"
    assert req.headers["X-KTTT-Delivery-Id"] == msg.delivery_id
    assert req.json["title"] == SUBJECT
    # json:// takes Markdown, so it gets the Markdown body (Apprise trims trailing whitespace).
    assert req.json["message"] == MARKDOWN.rstrip()


# --------------------------------------------------------------------------------------------
# 3. Status mapping
# --------------------------------------------------------------------------------------------


def test_http_500_is_failed_with_error(http: HTTPReceiver) -> None:
    http.set_mode("/err", "error")
    [r] = send(make_message(), [http.url("/err")], connect_timeout=CTO, read_timeout=RTO)
    assert r.status is DeliveryStatus.failed
    assert r.error and "500" in r.error


def test_hanging_receiver_is_timeout_within_read_timeout(http: HTTPReceiver) -> None:
    http.set_mode("/slow", "hang")
    start = time.monotonic()
    [r] = send(make_message(), [http.url("/slow")], connect_timeout=CTO, read_timeout=RTO)
    elapsed = time.monotonic() - start
    assert r.status is DeliveryStatus.timeout
    assert r.error and "hết thời gian chờ" in r.error
    assert elapsed < RTO + SLACK
    assert len(http.requests_to("/slow")) == 1  # Apprise did not retry


def test_silent_smtp_server_is_timeout() -> None:
    # The connection is accepted but no SMTP banner ever arrives: smtplib's timeout fires.
    with SilentListener() as silent:
        start = time.monotonic()
        [r] = send(
            make_message(),
            [f"mailto://127.0.0.1:{silent.port}?to=sokhdt@example.gov.vn&from=kttt@localhost"],
            connect_timeout=CTO,
            read_timeout=RTO,
        )
        elapsed = time.monotonic() - start
    assert r.status is DeliveryStatus.timeout
    assert elapsed < max(CTO, RTO) + SLACK


def test_unreachable_port_is_failed() -> None:
    # Nothing listens: the kernel refuses the connection at once. That is a definite answer,
    # not a timeout, so it is "failed" (a dropped SYN would end as a connect timeout instead).
    port = unreachable_port()
    [r] = send(
        make_message(), [f"json://127.0.0.1:{port}/x"], connect_timeout=CTO, read_timeout=RTO
    )
    assert r.status is DeliveryStatus.failed
    assert r.error and "Connection refused" in r.error


def test_no_targets_returns_empty_list() -> None:
    # Nothing is attempted; the caller chooses between the local Maildir and "no_target".
    assert send(make_message(), []) == []


def test_invalid_target_is_failed_with_vietnamese_error() -> None:
    [r] = send(make_message(), ["khong-phai-url"], connect_timeout=CTO, read_timeout=RTO)
    assert r.status is DeliveryStatus.failed
    assert r.error and r.error.startswith("địa chỉ nhận không hợp lệ")


def test_mixed_targets_are_independent_and_bounded(http: HTTPReceiver, smtp: SMTPReceiver) -> None:
    http.set_mode("/err", "error")
    http.set_mode("/hang", "hang")
    targets = [
        http.url("/ok"),
        http.url("/err"),
        http.url("/hang"),
        smtp.url("sokhdt@example.gov.vn"),
        f"json://127.0.0.1:{unreachable_port()}/x",
        http.url("/ok2"),
    ]
    start = time.monotonic()
    results = send(make_message(), targets, connect_timeout=CTO, read_timeout=RTO)
    elapsed = time.monotonic() - start

    assert statuses(results) == ["sent", "failed", "timeout", "sent", "failed", "sent"]
    assert elapsed < RTO + SLACK  # the hanging one did not hold the others back
    assert len(http.requests_to("/ok")) == len(http.requests_to("/ok2")) == 1
    assert len(smtp.wait_for(1)) == 1
    ok_at = [r.at for r in http.requests if r.path in ("/ok", "/ok2")]
    hang_at = http.requests_to("/hang")[0].at
    assert all(abs(t - hang_at) < RTO for t in ok_at)  # sent side by side, not after the hang


def test_verbose_capture_does_not_leak_debug_into_app_logs(
    http: HTTPReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    apprise_logger = logging.getLogger("apprise")
    before = (apprise_logger.level, apprise_logger.propagate, list(apprise_logger.handlers))
    http.set_mode("/hang", "hang")
    [r] = send(make_message(), [http.url("/hang")], connect_timeout=CTO, read_timeout=RTO)
    # The timeout was still recognised (from the DEBUG "Socket Exception" Apprise captured) ...
    assert r.status is DeliveryStatus.timeout
    # ... but the application saw only what it asked for, and the logger is as it was.
    assert all(rec.levelno >= logging.WARNING for rec in caplog.records)
    assert any(rec.name == "apprise" for rec in caplog.records)  # warnings still pass
    assert (apprise_logger.level, apprise_logger.propagate, list(apprise_logger.handlers)) == before


# --------------------------------------------------------------------------------------------
# 4. Secrets never reach results, logs or exceptions
# --------------------------------------------------------------------------------------------


def test_secrets_stay_out_of_results_logs_and_errors(
    smtp: SMTPReceiver, http: HTTPReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, apprise and urllib3 included
    http.set_mode("/err", "error")
    targets = [
        # Password, no from=: Apprise cannot load it (no valid sender) -> invalid target.
        f"mailto://user:S3cr3tPass@127.0.0.1:{smtp.port}?to=a@b.vn",
        # Password with a sender: loads, then fails at login (the server offers no AUTH).
        f"mailto://user:S3cr3tPass@127.0.0.1:{smtp.port}?to=a@b.vn&from=kttt@localhost",
        # Bot-token-like path on a generic webhook: sent (urllib3 logs the path at DEBUG).
        http.url("/bot123456:ABCDEF_secret_token"),
        # Same token, answered with 500: the error text quotes Apprise's failure.
        http.url("/err") + "?+Authorization=Bearer%20ABCDEF_secret_token",
        # Same token, nobody listening: requests' exception text includes the URL path.
        f"json://127.0.0.1:{unreachable_port()}/bot123456:ABCDEF_secret_token",
        # Telegram: no chat id and detect=no, so it fails before any network I/O.
        "tgram://123456789:AAE-secret-bot-token/?detect=no",
        # Gotify on the loopback: the token goes in a header; the URL masks it.
        f"gotify://127.0.0.1:{http.port}/GOTIFY_secret_tok_42",
    ]
    results = send(make_message(), targets, connect_timeout=CTO, read_timeout=RTO)
    assert statuses(results) == ["failed", "failed", "sent", "failed", "failed", "failed", "sent"]
    assert http.requests_to("/message")[0].headers["X-Gotify-Key"] == "GOTIFY_secret_tok_42"

    texts: list[str] = []
    for r in results:
        texts += [r.target, r.error or ""]
    texts += [mask_target(t) for t in targets]
    for rec in caplog.records:
        texts += [rec.getMessage(), rec.exc_text or "", str(rec.args or "")]
    texts.append(caplog.text)
    with pytest.raises(TargetError) as exc_info:
        expand_target("json://127.0.0.1/S3cr3tPass/${KTTT_MISSING_VAR}", {"X": "S3cr3tPass"})
    texts += [str(exc_info.value), repr(exc_info.value)]

    assert any(rec.name == "apprise" for rec in caplog.records)  # Apprise's DEBUG was captured
    assert any(rec.name.startswith("urllib3") for rec in caplog.records)
    for secret in SECRETS:
        leaks = [t for t in texts if secret in t]
        assert leaks == [], f"{secret} leaked: {leaks[:3]}"


# --------------------------------------------------------------------------------------------
# 5. Maildir
# --------------------------------------------------------------------------------------------


def test_write_maildir_readable_vietnamese_and_idempotent(tmp_path: Path) -> None:
    msg = make_message()
    path = write_maildir(tmp_path, msg)
    assert path.is_file()
    assert path.parent.parent == tmp_path / msg.unit_code

    box = mailbox.Maildir(tmp_path / msg.unit_code, create=False)
    assert len(box) == 1
    raw = path.read_bytes()
    assert b"=?utf-8?" in raw.lower()  # RFC 2047-encoded Subject
    em = BytesParser(policy=policy.default).parsebytes(raw)
    assert str(em["Subject"]) == SUBJECT
    assert str(em["From"]) == "KTTT <kttt@localhost>"
    assert em["To"].addresses[0].addr_spec == "sokhdt@localhost"
    assert em["Message-ID"] == message_id(msg.delivery_id) == f"<{msg.delivery_id}@kttt.local>"
    assert em[DELIVERY_HEADER] == msg.delivery_id
    plain = em.get_body(preferencelist=("plain",))
    md = em.get_body(preferencelist=("markdown",))
    assert plain is not None and md is not None
    assert plain.get_content_type() == "text/plain"
    assert md.get_content_type() == "text/markdown"
    assert plain.get_content().rstrip("\n") == TEXT
    assert md.get_content().rstrip("\n") == MARKDOWN.rstrip("\n")

    # Same delivery id again: nothing new, same file.
    assert write_maildir(tmp_path, msg) == path
    assert len(mailbox.Maildir(tmp_path / msg.unit_code, create=False)) == 1
    # A message read by a mail client moves to cur/ and is still recognised.
    box = mailbox.Maildir(tmp_path / msg.unit_code, create=False)
    key = next(iter(box.keys()))
    m = box[key]
    m.set_subdir("cur")
    m.add_flag("S")
    box[key] = m
    again = write_maildir(tmp_path, msg)
    assert again.parent.name == "cur"
    assert len(mailbox.Maildir(tmp_path / msg.unit_code, create=False)) == 1
    # Another delivery id: a second message.
    write_maildir(tmp_path, make_message(delivery_id="aa" * 16))
    assert len(mailbox.Maildir(tmp_path / msg.unit_code, create=False)) == 2


def test_write_maildir_rejects_unsafe_unit_code(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_maildir(tmp_path, make_message(unit="../etc"))


# --------------------------------------------------------------------------------------------
# 6. Apprise config files
# --------------------------------------------------------------------------------------------


def test_load_apprise_config_yaml_tags_per_unit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cfg = tmp_path / "targets.yml"
    cfg.write_text(
        "version: 1\n"
        "urls:\n"
        "  - mailto://${KTTT_SMTP_USER}:${KTTT_SMTP_PASS}@smtp.example.gov.vn?to=sokhdt@example.gov.vn:\n"
        "      - tag: sokhdt\n"
        "  - json://127.0.0.1:8080/hook:\n"
        "      - tag: sokhdt, sotc\n"
        "  - tgram://${KTTT_TG_TOKEN}/12345:\n"
        "      - tag: sotc\n"
        "  - json://127.0.0.1:8081/untagged\n",
        encoding="utf-8",
    )
    env = {
        "KTTT_SMTP_USER": "kttt",
        "KTTT_SMTP_PASS": "S3cr3tPass",
        "KTTT_TG_TOKEN": "123456789:AAE-secret-bot-token",
    }
    targets = load_apprise_config(cfg, env)

    assert sorted(targets) == ["sokhdt", "sotc"]
    assert len(targets["sokhdt"]) == 2 and len(targets["sotc"]) == 2
    mail = next(u for u in targets["sokhdt"] if u.startswith("mailto://"))
    assert "S3cr3tPass" in mail  # ready to send ...
    assert "S3cr3tPass" not in mask_target(mail)  # ... and masked for display
    assert any(u.startswith("json://127.0.0.1:8080/hook") for u in targets["sotc"])
    tg = next(u for u in targets["sotc"] if u.startswith("tgram://"))
    assert Apprise.instantiate(tg) is not None  # the returned URLs load again
    assert all("untagged" not in u for us in targets.values() for u in us)

    with pytest.raises(TargetError) as exc_info:
        load_apprise_config(cfg, {"KTTT_SMTP_USER": "kttt"})
    assert "KTTT_SMTP_PASS" in str(exc_info.value)
    assert any(r.name == "kttt_workflow.notify" for r in caplog.records)  # Apprise's notes
    for secret in ("S3cr3tPass", "AAE-secret-bot-token"):
        assert secret not in caplog.text
        assert secret not in str(exc_info.value)


def test_load_apprise_config_text_format(tmp_path: Path) -> None:
    cfg = tmp_path / "targets.txt"
    cfg.write_text(
        "sokhdt=mailto://127.0.0.1:2525?to=sokhdt@example.gov.vn&from=kttt@localhost\n"
        "sokhdt, sotc=json://127.0.0.1:8080/hook\n",
        encoding="utf-8",
    )
    targets = load_apprise_config(cfg, {})
    assert sorted(targets) == ["sokhdt", "sotc"]
    assert len(targets["sokhdt"]) == 2
    assert targets["sotc"][0].startswith("json://127.0.0.1:8080/hook")


def test_load_apprise_config_bad_file(tmp_path: Path) -> None:
    with pytest.raises(TargetError):
        load_apprise_config(tmp_path / "missing.yml", {})
