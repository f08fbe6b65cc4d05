"""Zalo targets (Apprise 2.2's ``zalo://{bot_token}/{chat_id}``): a digest arrives as the Zalo Bot
API request, a long one in several messages within Zalo's limit, and the bot token never shows.

The plugin posts to ``https://bot-api.zaloplatforms.com/bot{token}/sendMessage``, a URL it keeps
in its ``notify_url`` class attribute. The tests set that attribute (for the test only) to the
same path on a real HTTP receiver on 127.0.0.1, so Apprise's own Zalo code, requests and a socket
carry the request: what the receiver records is what the Zalo API would get.
Real parts: a SQLite file or PostgreSQL schema, the HTTP receiver, the ``kttt`` CLI.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from apprise.plugins.zalo import NotifyZalo
from sqlalchemy import inspect, text

from kttt_workflow.config import OutboxSettings
from kttt_workflow.notify.message import DeliveryStatus, Message
from kttt_workflow.notify.send import send
from kttt_workflow.service import Tracker
from tests.helpers import CTO, RTO, UNTIL, cli, copy_fixtures, db_url, edit_plan
from tests.receivers import HOST, HTTPReceiver, unreachable_port

pytestmark = pytest.mark.usefixtures("network_guard", "warm_apprise")

SECRET = "zqxSecretZaloToken"
TOKEN = f"123456789:{SECRET}"
CHAT = "5f1b2c3d4e5a6b7c8d9e"  # a Zalo chat id: an opaque string, shown in masks
API_PATH = f"/bot{TOKEN}/sendMessage"
DAY = date(2023, 1, 10)  # x-ubnd-b has tasks 2 and 3 overdue on this date (fixture directive)
ZALO_MAX = 2000  # NotifyZalo.body_maxlen

# Tasks as long as real directive paragraphs, so that the digest is longer than one Zalo message.
T2 = (
    "Các huyện xây dựng kế hoạch thực hiện Chương trình hành động về tiếp tục đổi mới, phát triển "
    "và nâng cao hiệu quả kinh tế tập thể trong giai đoạn mới; rà soát, đánh giá thực trạng các "
    "hợp tác xã, tổ hợp tác trên địa bàn; xác định mục tiêu, chỉ tiêu cụ thể đến năm 2025 và năm "
    "2030; phân công rõ trách nhiệm cho các phòng, ban chuyên môn và Ủy ban nhân dân các xã, thị "
    "trấn; bố trí nguồn lực, lồng ghép các chương trình mục tiêu quốc gia để hỗ trợ thành lập mới, "
    "củng cố và nâng cao năng lực hoạt động của hợp tác xã; tổ chức tuyên truyền, phổ biến sâu "
    "rộng Nghị quyết đến cán bộ, đảng viên và Nhân dân, đưa nội dung phát triển kinh tế tập thể "
    "vào chương trình công tác hằng năm; định kỳ sơ kết, đánh giá kết quả thực hiện, biểu dương, "
    "khen thưởng các tập thể, cá nhân có thành tích tiêu biểu"
)
T3 = (
    "Báo cáo định kỳ kết quả thực hiện Kế hoạch: số hợp tác xã, tổ hợp tác thành lập mới, giải "
    "thể; doanh thu, lợi nhuận và thu nhập bình quân của thành viên, người lao động; kết quả hỗ "
    "trợ đào tạo, bồi dưỡng nguồn nhân lực, ứng dụng khoa học, công nghệ, xúc tiến thương mại, "
    "tiếp cận vốn tín dụng; những khó khăn, vướng mắc và kiến nghị, đề xuất với Ủy ban nhân dân "
    "tỉnh, các sở, ban, ngành để tháo gỡ kịp thời; báo cáo gửi về Sở Kế hoạch và Đầu tư trước "
    "ngày 20 của tháng cuối kỳ báo cáo để tổng hợp, báo cáo Ủy ban nhân dân tỉnh và Bộ Kế hoạch "
    "và Đầu tư theo quy định"
)


@pytest.fixture
def zalo_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[HTTPReceiver]:
    """A receiver on 127.0.0.1 standing in for the Zalo Bot API host (same path, plain HTTP)."""
    with HTTPReceiver(hang_seconds=RTO + 1.5) as server:
        monkeypatch.setattr(
            NotifyZalo, "notify_url", f"http://{HOST}:{server.port}/bot{{token}}/sendMessage"
        )
        yield server


def _db_texts(store: Tracker) -> list[str]:
    out: list[str] = []
    with store.engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{name}"')):
                out += [f"{name}: {v}" for v in row if v is not None]
    return out


def _words(s: str) -> str:
    return " ".join(s.split())


def test_a_long_digest_reaches_the_zalo_bot_api_whole_in_pieces_and_the_token_never_shows(
    store: Tracker,
    tmp_path: Path,
    zalo_api: HTTPReceiver,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As the registry is written: the bot token is a placeholder, its value in the environment.
    # The unit also has a JSON webhook, which gets the same digest in one request: the reference.
    monkeypatch.setenv("KTTT_TEST_ZALO_TOKEN", TOKEN)
    folder = copy_fixtures(tmp_path)

    def plan(p: dict[str, Any]) -> None:
        for t in p["tasks"]:
            t["title"] = {"2": T2, "3": T3}.get(t["id"], t["title"])

    edit_plan(folder, plan)
    p = folder / "units.yaml"
    reg = yaml.safe_load(p.read_text(encoding="utf-8"))
    for u in reg["units"]:
        if u["code"] == "x-ubnd-b":
            u["targets"] = [f"zalo://${{KTTT_TEST_ZALO_TOKEN}}/{CHAT}", zalo_api.url("/hook")]
    p.write_text(yaml.safe_dump(reg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    loaded = store.load([folder], until=UNTIL)
    # A chat id beside a ${VAR} token is not taken for a secret written in clear.
    assert loaded.warnings == [], loaded.warnings

    caplog.set_level(logging.DEBUG)
    settings = OutboxSettings(connect_timeout=CTO, read_timeout=RTO, maildir=None)
    result = store.sweep(as_of=DAY, settings=settings)
    assert result.sent is not None and result.sent.sent == 1 and result.sent.failed == 0

    # The Zalo Bot API request: POST /bot{token}/sendMessage, JSON {chat_id, text, parse_mode}.
    calls = zalo_api.requests_to(API_PATH)
    assert len(calls) >= 2, [len(c.json["text"]) for c in calls]  # longer than one message
    for c in calls:
        assert c.method == "POST"
        assert c.headers["Content-Type"].startswith("application/json")
        assert c.json["chat_id"] == CHAT and c.json["parse_mode"] == "markdown"
        assert 0 < len(c.json["text"]) <= ZALO_MAX
    # Split, not cut: the pieces in order are the whole digest (Zalo has no title field, so
    # Apprise puts the subject first as a heading), every task's full text included.
    [hook] = zalo_api.requests_to("/hook")
    whole = f"# {hook.json['title']}\n{hook.json['message']}"
    assert len(whole) > ZALO_MAX
    pieces = "\n".join(c.json["text"] for c in calls)
    assert _words(pieces) == _words(whole)
    assert calls[0].json["text"].startswith("# Nhắc việc, đôn đốc ngày 10/01/2023")
    assert T2 in pieces and T3 in pieces
    assert "Thư tự động từ hệ thống theo dõi nhiệm vụ kttt-workflow" in calls[-1].json["text"]

    # What a user sees of the target: the bot token masked, the chat id shown.
    code, out = cli("deliveries", "--db", db_url(store), "--json")
    assert code == 0, out
    attempts = [t for d in json.loads(out) if d["unit"] == "x-ubnd-b" for t in d["targets"]]
    [zalo] = [a for a in attempts if a["target"].startswith("zalo://")]
    assert zalo["status"] == "sent"
    assert zalo["target"].startswith(f"zalo://1...n/{CHAT}?")
    code, table = cli("deliveries", "--db", db_url(store))
    assert code == 0, table

    texts = [out, table, caplog.text, *_db_texts(store)]
    assert any("delivery_attempt" in t for t in texts)
    leaks = [t for t in texts if SECRET in t]
    assert leaks == [], f"the bot token shown: {leaks[:3]}"


def _message() -> Message:
    return Message(
        delivery_id="kttt-zalo-test-1",
        unit_code="x-ubnd-b",
        unit_name="UBND huyện B",
        subject="Nhắc việc, đôn đốc ngày 10/01/2023",
        text="Kính gửi: UBND huyện B\nNhiệm vụ quá hạn: 1.",
        markdown="**Kính gửi:** UBND huyện B\n\nNhiệm vụ quá hạn: 1.",
    )


def test_a_refused_or_unreachable_zalo_api_fails_in_vietnamese_without_the_token(
    zalo_api: HTTPReceiver, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"zalo://{TOKEN}/{CHAT}"
    # The API answers 500 (Zalo also says {"ok": false}; a status other than 200 is enough here).
    zalo_api.set_mode(API_PATH, "error")
    [refused] = send(_message(), [url], connect_timeout=CTO, read_timeout=RTO)
    assert len(zalo_api.requests_to(API_PATH)) == 1  # it was really asked, with the token
    assert refused.status == DeliveryStatus.failed
    assert refused.error is not None and refused.error.startswith("gửi không thành công")
    # (Only the status: the redaction registry is process-wide, and other tests' short secrets
    # may blank out words of Apprise's English text.)
    assert "500" in refused.error
    # Nobody listens: requests' exception quotes the whole API URL, token included.
    monkeypatch.setattr(
        NotifyZalo, "notify_url", f"http://{HOST}:{unreachable_port()}/bot{{token}}/sendMessage"
    )
    [down] = send(_message(), [url], connect_timeout=CTO, read_timeout=RTO)
    assert down.status == DeliveryStatus.failed
    assert down.error is not None and "Socket Exception" in down.error
    # The exception's text is there, the API path it quotes with no piece of the token: neither
    # half, nor a digit of the bot id (``/bot****:****/…``, or ``/****/…`` where another test's
    # secret overlaps it).
    path = down.error.split("url: ", 1)[1].split(" ", 1)[0]
    assert path.endswith("/sendMessage") and "****" in path, path
    assert not any(c.isdigit() for c in path), path
    assert refused.target == down.target and refused.target.startswith(f"zalo://1...n/{CHAT}?")
    leaks = [t for t in (refused.error, down.error, caplog.text) if SECRET in t]
    assert leaks == [], f"the bot token shown: {leaks}"
