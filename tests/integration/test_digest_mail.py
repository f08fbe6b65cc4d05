"""Digests as their readers receive them: a real SMTP server on 127.0.0.1 and the local Maildir.

The fixture registry and plan are loaded with e-mail targets and the monitoring body's contact;
sweeps run on the dates of the ladder (reminder, deadline, escalation) and after a returned
report. Each received message is multipart/alternative (text/plain and text/html); the checks
read the text of both parts: the wording for the lead, the superior and a copy, the full task
text, the deliverable, the returned report's reason, the sign-off and the sender.
"""

from __future__ import annotations

import mailbox
import random
from datetime import date
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from kttt_workflow.config import OutboxSettings
from kttt_workflow.service import Tracker
from tests.helpers import CTO, RTO, UNTIL, copy_fixtures, edit_plan
from tests.receivers import SMTPReceiver

pytestmark = pytest.mark.usefixtures("network_guard", "warm_apprise")

# Longer than any cut the old digest made (160 characters), ending in a word that must stay whole.
LONG = (
    "Các huyện xây dựng kế hoạch thực hiện Chương trình hành động về tiếp tục đổi mới, phát "
    "triển và nâng cao hiệu quả kinh tế tập thể trong giai đoạn mới, bảo đảm phân công cụ thể "
    "cho các xã, thị trấn và lộ trình đến năm 2030"
)
PRODUCT = "Kế hoạch của UBND huyện"
SENDER = "Văn phòng UBND tỉnh X <theodoi@ubnd-x.example.gov.vn>"


def addr(unit: str) -> str:
    return f"{unit}@example.gov.vn"


def settings(**kw: Any) -> OutboxSettings:
    base: dict[str, Any] = {
        "retry_base": 0.01,
        "retry_cap": 0.05,
        "connect_timeout": CTO,
        "read_timeout": RTO,
        "maildir": None,
        "mail_from": SENDER,
        "rng": random.Random(0),
    }
    base.update(kw)
    return OutboxSettings(**base)


class _Text(HTMLParser):
    """The visible text of an HTML part; also records what it must not have."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.tags: set[str] = set()
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for k, v in attrs:
            if k in ("src", "href") and v:
                self.external.append(v)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


def parts(em: EmailMessage) -> tuple[str, str, _Text]:
    assert em.get_content_type() == "multipart/alternative"
    plain = em.get_body(preferencelist=("plain",))
    html = em.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    parsed = _Text()
    raw_html = html.get_content()
    parsed.feed(raw_html)
    return plain.get_content().replace("\r\n", "\n"), raw_html, parsed


def load(store: Tracker, tmp_path: Path, smtp: SMTPReceiver | None) -> Path:
    folder = copy_fixtures(tmp_path)

    def plan(p: dict[str, Any]) -> None:
        for t in p["tasks"]:
            if t["id"] == "2":
                t["title"] = LONG
                t["deliverable"] = PRODUCT
        p["contact"] = {"phone": "0204 3854 333", "email": "kttt@skhdt-x.example.gov.vn"}

    edit_plan(folder, plan)
    reg_path = folder / "units.yaml"
    reg = yaml.safe_load(reg_path.read_text(encoding="utf-8"))
    for u in reg["units"]:
        if smtp is not None:
            u["targets"] = [smtp.url(addr(u["code"]), sender="kttt-relay@example.gov.vn")]
        if u["code"] == "x-so-khdt":
            u["contact"] = {"name": "Phòng Kinh tế tập thể, Sở Kế hoạch và Đầu tư"}
    reg_path.write_text(yaml.safe_dump(reg, allow_unicode=True, sort_keys=False), "utf-8")
    store.load([folder], until=UNTIL)
    return folder


def received(smtp: SMTPReceiver, unit: str, day: date) -> EmailMessage:
    mails = [
        m
        for m in smtp.messages
        if m.rcpt_tos == [addr(unit)] and f"ngày {day:%d/%m/%Y}" in str(m.message["Subject"])
    ]
    assert len(mails) == 1, [str(m.message["Subject"]) for m in smtp.messages]
    return mails[0].message


def test_each_reader_gets_wording_for_its_role_in_text_and_html(
    store: Tracker, tmp_path: Path
) -> None:
    with SMTPReceiver() as smtp:
        load(store, tmp_path, smtp)
        # 22/12/2022: seven working days before task 2's deadline (Quý IV/2022 → 03/01/2023).
        reminder, due, late = date(2022, 12, 22), date(2023, 1, 3), date(2023, 1, 18)
        store.complete("kh-1-2022/2/x-ubnd-b", "Kế hoạch số 3/KH-UBND ngày 03/01/2023", on=due)
        store.return_(
            "kh-1-2022/2/x-ubnd-b", "Chưa phân công nhiệm vụ cho các xã", on=date(2023, 1, 5)
        )
        for day in (reminder, due, late):
            r = store.sweep(as_of=day, settings=settings())
            assert r.sent is not None and r.sent.failed == 0
        smtp.wait_for(1)

        # E-mail: multipart/alternative, the HTML digest and Apprise's text rendering of it
        # (its e-mail plugin derives the text part from the HTML); both are read.
        def both(em: EmailMessage, *phrases: str) -> tuple[str, str]:
            text, _, seen = parts(em)
            for p in phrases:
                assert p in " ".join(text.split()), p
                assert p in seen.text, p
            return text, seen.text

        # The lead, reminded seven working days early: the full text, the deliverable, "chủ
        # động triển khai" (its other, overdue task is urged on its own).
        em = received(smtp, "x-ubnd-a", reminder)
        assert str(em["Subject"]).startswith("Nhắc việc, đôn đốc ngày 22/12/2022")
        sign = "Cơ quan theo dõi: Phòng Kinh tế tập thể, Sở Kế hoạch và Đầu tư"
        contact = "Liên hệ: điện thoại 0204 3854 333; thư điện tử kttt@skhdt-x.example.gov.vn"
        text, _ = both(
            em,
            "Sắp đến hạn (nhắc việc trước hạn) (1)",
            LONG,
            f"Sản phẩm: {PRODUCT}",
            "Còn 12 ngày",
            "chủ động triển khai các nhiệm vụ sắp đến hạn",
            sign,  # the directive's contact, named after the focal unit's registry contact
            contact,
        )
        assert "khẩn trương thực hiện các nhiệm vụ quá hạn, đến hạn" in " ".join(text.split())
        _, html, seen = parts(em)
        # HTML a mail client renders: tables, inline styles, nothing fetched, no <style>/<script>.
        assert "table" in seen.tags and not seen.tags & {"style", "script", "link", "img"}
        assert seen.external == [] and 'style="' in html
        # The URL names its sender: KTTT_MAIL_FROM does not override it.
        assert em["From"].addresses[0].addr_spec == "kttt-relay@example.gov.vn"

        # On the deadline: the lead acts; the coordinating unit receives a copy, said as such.
        both(received(smtp, "x-ubnd-a", due), "Đến hạn hôm nay (", "Đến hạn hôm nay", LONG)
        text, _ = both(
            received(smtp, "x-so-khdt", due),
            "Đồng gửi để biết (không yêu cầu báo cáo) (",
            LONG,
            "Chủ trì: UBND huyện A",
            "do đơn vị khác chủ trì; thông tin gửi quý cơ quan để biết, phối hợp",
        )

        # Escalated: the lead reads its own task under "Quá hạn", never as a copy "để biết".
        text, _ = both(
            received(smtp, "x-ubnd-a", late), "Quá hạn (1)", "Nhiệm vụ đã được báo cáo cấp trên."
        )
        assert "Báo cáo cấp trên" not in text and "để biết" not in text
        # The superior: "kính báo cáo … để biết, chỉ đạo", grouped by unit, never "khẩn trương"
        # for the units' tasks (its own late task is a section of its own).
        closing = "Kính báo cáo Ủy ban nhân dân tỉnh X để biết, chỉ đạo."
        text, _ = both(received(smtp, "x-ubnd", late), closing, "UBND huyện A (1 nhiệm vụ)")
        sup = text[text.index("Kính báo cáo để biết, chỉ đạo: nhiệm vụ chậm thực hiện") :]
        sup = sup[: sup.index("Đề nghị quý cơ quan")]
        assert "UBND huyện C (" in sup and LONG in " ".join(sup.split())
        assert f"Sản phẩm: {PRODUCT}" in sup and "Quá hạn 15 ngày" in sup
        assert "khẩn trương" not in sup

        # The returned report: why, and what is expected.
        both(
            received(smtp, "x-ubnd-b", late),
            "Báo cáo bị trả lại, đề nghị bổ sung (1)",
            "Báo cáo ngày 03/01/2023 đã bị trả lại ngày 05/01/2023.",
            "Lý do: Chưa phân công nhiệm vụ cho các xã",
            f"Yêu cầu đạt được: {PRODUCT}",
            "bổ sung, hoàn thiện theo lý do trả lại",
        )


def test_the_local_maildir_has_our_text_and_html_from_the_configured_sender(
    store: Tracker, tmp_path: Path
) -> None:
    load(store, tmp_path, None)
    maildir = tmp_path / "mail"
    day = date(2023, 1, 18)
    store.sweep(as_of=day, settings=settings(maildir=maildir))
    [key] = mailbox.Maildir(maildir / "x-ubnd-a", create=False).keys()
    raw = (maildir / "x-ubnd-a" / "new" / key).read_bytes()
    em = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(em, EmailMessage)
    assert str(em["From"]) == SENDER
    text, html, seen = parts(em)
    stored = {d["unit"]: d for d in store.deliveries()}["x-ubnd-a"]
    assert text.startswith("Kính gửi: UBND huyện A\n")
    assert f"{LONG} — chủ trì: UBND huyện A; sản phẩm: {PRODUCT}" in text
    assert str(em["Subject"]) == stored["subject"]
    assert "Quá hạn (2)" in seen.text and LONG in seen.text
    assert "<script" not in html and "http" not in html


def test_a_copy_only_digest_says_it_is_a_copy() -> None:
    from kttt_workflow.domain.digest import DigestLine, Monitor, render

    line = DigestLine(
        "kh-1-2022", "1/KH-UBND", "kh-1-2022/2/x-ubnd-a", LONG, "Quý IV/2022",
        date(2023, 1, 3), "UBND huyện A", "due", True, deliverable=PRODUCT, role="copy",
        monitor=Monitor("Sở Kế hoạch và Đầu tư", "0204 3854 333"),
    )  # fmt: skip
    d = render("Sở Tài chính", date(2023, 1, 3), [line])
    assert d.subject == "Đồng gửi để biết: tình hình thực hiện nhiệm vụ ngày 03/01/2023: 1 nhiệm vụ"
    assert "Thư này đồng gửi quý cơ quan để biết" in d.text
    assert "khẩn trương" not in d.text + d.html
    assert "Liên hệ: điện thoại 0204 3854 333" in d.text
    # Escaped: a title with markup stays text.
    d = render("Sở <b>Tài</b> chính", date(2023, 1, 3), [line])
    assert "Sở &lt;b&gt;Tài&lt;/b&gt; chính" in d.html and "<b>" not in d.html
