"""The real directives transcribed from the seeds: they load, fan out and behave as the texts say."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from rich.console import Console

from kttt_workflow.domain.deadlines import parse_deadline
from kttt_workflow.domain.fanout import walk
from kttt_workflow.errors import KtttError
from kttt_workflow.inputs.validate import load_inputs
from kttt_workflow.service import Tracker
from tests.helpers import DIRECTIVES

TQ_DISTRICTS = {
    "ubnd-tp-tuyen-quang",
    "ubnd-lam-binh",
    "ubnd-na-hang",
    "ubnd-chiem-hoa",
    "ubnd-ham-yen",
    "ubnd-yen-son",
    "ubnd-son-duong",
}
BG_PARTY_COMMITTEES = {
    "thanh-uy-bac-giang",
    "huyen-uy-yen-the",
    "huyen-uy-tan-yen",
    "huyen-uy-lang-giang",
    "huyen-uy-luc-nam",
    "huyen-uy-luc-ngan",
    "huyen-uy-son-dong",
    "huyen-uy-yen-dung",
    "huyen-uy-viet-yen",
    "huyen-uy-hiep-hoa",
}


def test_all_directives_validate_with_the_seed_structure() -> None:
    bundle = load_inputs([DIRECTIVES])
    codes = {d.code: d for _, d in bundle.directives}
    assert set(codes) == {
        "ctr-nq20-2022",
        "kh-67-2013",
        "kh-tu-kl70-2020",
        "kl-70-2020",
        "nq-134-2020",
        "kh-28-2021",
    }
    kh67 = codes["kh-67-2013"]
    appendix = [t for t, _ in walk(kh67.tasks) if not t.id.startswith("TCTH")]
    assert len(appendix) == 22
    assert [
        sum(1 for t in appendix if t.id.split(".")[0] == g) for g in ("I", "II", "III", "IV", "V")
    ] == [4, 3, 4, 9, 2]
    assert (kh67.document.symbol, kh67.document.date) == ("67/KH-UBND", date(2013, 10, 1))
    assert [r.symbol for r in kh67.implements] == ["27-CTr/TU", "56-KL/TW"]
    deadlines = {t.deadline for t in appendix}
    assert {
        "Quý IV/2013",
        "Thường xuyên",
        "Năm 2013-2014",
        "Theo Kế hoạch được phê duyệt",
        "Quý I/2014",
        "Hàng năm",
        "Theo dự án",
        "Theo nhiệm kỳ của Liên minh Hợp tác xã tỉnh",
    } <= deadlines
    nq20 = codes["ctr-nq20-2022"]
    assert [r.symbol for r in nq20.implements] == ["20-NQ/TW", "10-KH/TW"]
    by_id = {t.id: t for t, _ in walk(nq20.tasks)}
    assert by_id["IV.1"].deadline == "hoàn thành trong tháng 11/2022" and by_id["IV.1"].key
    assert by_id["IV.3"].deadline == "hoàn thành trong tháng 12/2022"
    # Every deadline in every directive parses (kept verbatim).
    for _, d in bundle.directives:
        for t, _ in walk(d.tasks):
            assert parse_deadline(t.deadline, d.document.date).text == (t.deadline or "")


def test_real_directives_fan_out_and_status(loaded: Tracker) -> None:
    rows = loaded.status(as_of=date(2022, 12, 5), directive="ctr-nq20-2022")
    by = {r.task_id: r for r in rows}
    ubnd = by["ctr-nq20-2022/IV.1/bg-bcsd-ubnd"]
    assert (ubnd.due, ubnd.status, ubnd.days_overdue) == (date(2022, 11, 30), "overdue", 5)
    district_plans = {r.unit for r in rows if r.task_key == "IV.3"}
    assert district_plans == BG_PARTY_COMMITTEES  # "Các huyện ủy, thành ủy" → 10 tasks
    # 31/12/2022 is a Saturday and 2/1/2023 the New Year holiday: due Tuesday 3/1/2023.
    assert {r.due for r in rows if r.task_key == "IV.3"} == {date(2023, 1, 3)}
    assert {r.status for r in rows if r.task_key == "IV.3"} == {"on_track"}
    assert by["ctr-nq20-2022/IV.1.b/bg-bcsd-ubnd"].status == "pending"

    kh67 = {r.task_id: r for r in loaded.status(as_of=date(2014, 1, 15), directive="kh-67-2013")}
    i1 = [r for r in kh67.values() if r.task_key == "I.1"]
    assert {r.unit for r in i1} >= TQ_DISTRICTS  # sở, ban, ngành + 7 UBND huyện, thành phố
    assert {r.status for r in i1} == {"overdue"} and {r.due for r in i1} == {date(2013, 12, 31)}
    ii2 = [r for r in kh67.values() if r.task_key == "II.2"]
    assert {r.unit for r in ii2} == TQ_DISTRICTS and {r.status for r in ii2} == {"on_track"}
    assert {r.due for r in ii2} == {date(2014, 12, 31)}
    assert kh67["kh-67-2013/III.1/tq-so-noi-vu"].status == "on_track"  # Quý I/2014
    assert kh67["kh-67-2013/V.1/tq-so-noi-vu"].status == "awaiting_deadline"
    assert kh67["kh-67-2013/I.2/tq-lien-minh-htx"].status == "ongoing"
    # The annual report rule: one instance per year, due before the 20th of December.
    reports = sorted(
        r.task_id for r in kh67.values() if r.task_key == "TCTH.2" and r.unit == "tq-so-noi-vu"
    )
    assert reports[:2] == [
        "kh-67-2013/TCTH.2/tq-so-noi-vu@2013",
        "kh-67-2013/TCTH.2/tq-so-noi-vu@2014",
    ]
    assert kh67["kh-67-2013/TCTH.2/tq-so-noi-vu@2013"].due == date(2013, 12, 19)
    assert kh67["kh-67-2013/TCTH.2/tq-so-noi-vu@2013"].status == "overdue"


def test_hau_giang_chain_is_completed_by_its_own_documents(loaded: Tracker) -> None:
    # Loading kh-28-2021 (28/KH-UBND of 04/02/2021) closed UBND.1: no hand-made report needed,
    # and one by hand is refused (the task is done).
    task = "nq-134-2020/UBND.1/hg-ubnd"
    st = loaded.status(as_of=date(2021, 3, 1), task_ids=[task])[0]
    assert st.status == "done_on_time"  # the text set no deadline
    assert loaded.status(as_of=date(2021, 2, 3), task_ids=[task])[0].status == "awaiting_deadline"
    with pytest.raises(KtttError, match="đã được xác nhận hoàn thành"):
        loaded.complete(task, "Kế hoạch số 28/KH-UBND ngày 04/02/2021", on=date(2021, 2, 4))


def test_demo_runs_and_shows_the_overdue_plan(tmp_path: Path) -> None:
    from kttt_workflow.demo import run_demo

    console = Console(record=True, width=200)
    store = run_demo(console, tmp_path / "demo")
    text = console.export_text()
    later = store.status(as_of=date(2026, 3, 2), task_ids=["ctr-nq20-2022/IV.1.b/bg-bcsd-ubnd"])
    store.close()
    assert later[0].lead_shown == (
        "Đảng ủy UBND tỉnh Bắc Ninh (kế thừa từ Ban cán sự đảng UBND tỉnh Bắc Giang)"
    )
    assert "Nạp lại cùng tệp: không có thay đổi." in text
    assert "ctr-nq20-2022/IV.1/bg-bcsd-ubnd" in text
    assert "Chưa hoàn thành, quá hạn 5 ngày" in text
    assert (
        "Hoàn thành tự động: nq-134-2020/UBND.1/hg-ubnd — Kế hoạch số 28/KH-UBND ngày 04/02/2021"
        in text
    )
    # The coverage of NQ 20, and 2026: Bắc Ninh's units answer for Bắc Giang's programme.
    assert "2/11 nhiệm vụ đã có văn bản thực hiện được xác nhận" in text
    assert "Sau sắp xếp đơn vị hành chính (1/7/2025)" in text and "Đảng ủy UBND tỉnh Bắc" in text
    assert "Đơn vị đã giải thể, chưa có đơn vị kế thừa" in text
    # Seed 002's 2030 targets.
    assert "Chỉ tiêu định lượng tại ngày 02/03/2026" in text and "51.000 thành viên" in text
    assert "kích hoạt 1 nhiệm vụ con" in text
    assert "TRẢ LẠI" in text
    assert "Tổng hợp tình trạng tại ngày 05/12/2022" in text
    # Sweeps put one digest per unit and date into local mailboxes.
    assert "Hộp thư cục bộ" in text and "Kính gửi: Ban cán sự đảng UBND tỉnh Bắc Giang" in text
    import mailbox
    from email.header import decode_header, make_header

    box = mailbox.Maildir(tmp_path / "demo" / "mail" / "bg-bcsd-ubnd", create=False)
    subjects = sorted(str(make_header(decode_header(m["Subject"]))) for m in box)
    assert len(subjects) == 2 and all("Nhắc việc, đôn đốc ngày" in s for s in subjects)


def test_recurring_instances_respect_unit_validity_and_unknown_dates(loaded: Tracker) -> None:
    ids = {r.task_id for r in loaded.status(as_of=date(2026, 12, 31))}
    # Tuyên Quang's districts were dissolved on 1/7/2025: a 2025 report is due, none for 2026.
    assert "kh-67-2013/III.4/ubnd-tp-tuyen-quang@2025" in ids
    assert "kh-67-2013/III.4/ubnd-tp-tuyen-quang@2026" not in ids
    # The KL 70 plan has no known date; its yearly reports start from `recurrence_from` (2020).
    yearly = sorted(i for i in ids if i.startswith("kh-tu-kl70-2020/TCTH.4/"))
    assert [i.rsplit("@", 1)[1] for i in yearly] == [str(y) for y in range(2020, 2027)]


def test_notices_for_merged_units_go_to_their_successors(loaded: Tracker) -> None:
    from sqlalchemy import select

    from kttt_workflow.store import tables as T

    loaded.sweep(as_of=date(2026, 1, 5), send=False)
    with loaded.engine.connect() as conn:
        rows = conn.execute(
            select(T.notice_t.c.task_id, T.notice_t.c.recipient).where(
                T.notice_t.c.task_id.like("ctr-nq20-2022/%")
            )
        ).all()
        successor = conn.execute(
            select(T.unit_t.c.successor_code).where(T.unit_t.c.code == "bg-bcsd-ubnd")
        ).scalar_one()
    recipients = {r.recipient for r in rows if r.task_id == "ctr-nq20-2022/IV.1/bg-bcsd-ubnd"}
    # Bắc Giang merged into Bắc Ninh on 1/7/2025: its Party delegation's overdue plan is now the
    # successor's to answer for; nothing is addressed to the dissolved unit.
    assert successor in recipients and "bg-bcsd-ubnd" not in recipients
