"""The defects of the adversarial pass (issue "Nothing lost, nothing misassigned, nobody let in"):
each test failed before its fix. SQLite and PostgreSQL where the store is involved."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
import time
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kttt_workflow.errors import InputError, KtttError
from kttt_workflow.service import Tracker
from kttt_workflow.store import tables as T
from kttt_workflow.store.registry import read_registry
from tests.helpers import KTTT, PLAN, UNITS, cli, db_url, snapshot, sub, write


def _issues(store: Tracker, paths: list[Path]) -> list[str]:
    before = snapshot(store)
    with pytest.raises(InputError) as e:
        store.load(paths)
    assert snapshot(store) == before  # nothing written
    return [str(i) for i in e.value.issues]


# -- 2. names that resolve to several units ---------------------------------------------------
_SECOND_REGISTRY = """kind: registry
levels:
  - {code: huyen, name: Cấp huyện}
units:
  - code: y-ubnd-a
    name: UBND huyện A
    level: huyen
"""


def test_a_lead_named_by_an_ambiguous_name_is_an_error_listing_the_candidates(
    store: Tracker, tmp_path: Path
) -> None:
    # Two registries both call a unit "UBND huyện A"; the plan names its lead by that name.
    plan = sub(PLAN, "lead: UBND các huyện", "lead: UBND huyện A")
    files = write(
        tmp_path, {"units.yaml": UNITS, "other.yaml": _SECOND_REGISTRY, "plan.yaml": plan}
    )
    [issue] = [i for i in _issues(store, files) if "plan.yaml" in i]
    assert "tên 'UBND huyện A' ứng với nhiều đơn vị hoặc nhóm" in issue
    assert "x-ubnd-a (UBND huyện A)" in issue and "y-ubnd-a (UBND huyện A)" in issue
    # Named by its code, the same lead loads.
    write(tmp_path, {"plan.yaml": sub(PLAN, "lead: UBND các huyện", "lead: x-ubnd-a")})
    store.load(files)


@pytest.mark.parametrize(
    "alias",
    [
        "UBND huyện B",  # another unit's name
        "ubnd HUYỆN   b",  # a case and spacing variant of it
        unicodedata.normalize("NFD", "UBND huyện B"),  # the same letters, decomposed
    ],
)
def test_a_name_used_twice_in_one_registry_is_an_error(
    store: Tracker, tmp_path: Path, alias: str
) -> None:
    units = sub(
        UNITS, "    name: UBND huyện A\n", f"    name: UBND huyện A\n    aliases: [{alias}]\n"
    )
    [issue] = _issues(store, write(tmp_path, {"units.yaml": units}))
    # Reported where the second unit carries the name (x-ubnd-b is declared after x-ubnd-a).
    assert "units.yaml:27:11:" in issue
    assert "tên 'UBND huyện B' đã dùng cho x-ubnd-a trong cùng danh mục" in issue


def test_a_successor_may_take_over_its_predecessors_name(store: Tracker, tmp_path: Path) -> None:
    """Validity periods that do not overlap: a name reused after the first unit ceased. A
    directive names the unit that carried the name on its date."""
    units = sub(
        UNITS,
        "groups:\n",
        "  - code: x-ubnd-d\n    name: UBND huyện D\n    level: huyen\n    parent: x-ubnd\n"
        "    valid_to: 2021-12-31\n    successor: x-ubnd-e\n"
        "  - code: x-ubnd-e\n    name: UBND huyện E\n    aliases: [UBND huyện D]\n"
        "    level: huyen\n    parent: x-ubnd\n    valid_from: 2022-01-01\n"
        "groups:\n",
    )
    plan = sub(PLAN, "lead: UBND các huyện", "lead: UBND huyện D")  # the plan is of 03/10/2022
    store.load(write(tmp_path, {"units.yaml": units, "plan.yaml": plan}))
    leads = {s.unit for s in store.status(directive="kh-1-2022") if s.task_key == "2"}
    assert leads == {"x-ubnd-e"}  # the unit that carried the name on the plan's date


# -- 6. a deadline before the document's own date ---------------------------------------------
def test_a_deadline_before_the_document_date_is_an_error_unless_noted(
    store: Tracker, tmp_path: Path
) -> None:
    plan = sub(PLAN, "deadline: Quý IV/2022", "deadline: trước ngày 15/01/2020")
    [issue] = _issues(store, write(tmp_path, {"units.yaml": UNITS, "plan.yaml": plan}))
    assert "plan.yaml:" in issue
    assert "thời hạn 14/01/2020 trước ngày ban hành văn bản (03/10/2022)" in issue
    noted = sub(
        plan,
        "deadline: trước ngày 15/01/2020",
        "deadline: trước ngày 15/01/2020\n    note: Văn bản ghi đúng như vậy (chép lại lịch sử).",
    )
    write(tmp_path, {"plan.yaml": noted})
    store.load([tmp_path / "units.yaml", tmp_path / "plan.yaml"])


# -- 1. a directive code reused by another document ---------------------------------------------
_OTHER_DOCUMENT = sub(
    sub(PLAN, "symbol: 1/KH-UBND", "symbol: 9/KH-UBND"), "date: 2022-10-03", "date: 2022-11-20"
)


def test_a_code_reused_for_another_document_is_an_error_naming_both(
    store: Tracker, tmp_path: Path
) -> None:
    first = write(tmp_path / "a", {"units.yaml": UNITS, "plan.yaml": PLAN})
    store.load(first)
    store.complete(
        "kh-1-2022/1/x-ubnd", "Kế hoạch số 5/KH-UBND ngày 02/12/2022", on=date(2022, 12, 2)
    )
    store.verify("kh-1-2022/1/x-ubnd", on=date(2022, 12, 2))
    other = write(tmp_path / "b", {"other.yaml": _OTHER_DOCUMENT})
    issues = _issues(store, other)
    [here] = [i for i in issues if i.startswith(str(other[0]))]
    [there] = [i for i in issues if i.startswith(str(first[1]))]
    assert (
        f"{other[0]}:2:7: mã chỉ đạo 'kh-1-2022' đã dùng cho văn bản khác: 1/KH-UBND ngày 03/10/2022"
        in here
    )
    assert "tệp này là 9/KH-UBND ngày 20/11/2022" in here and "--replace" in here
    assert there.startswith(f"{first[1]}:2:7: văn bản 1/KH-UBND ngày 03/10/2022")
    # The same document from a moved file is an amendment, as before.
    moved = write(tmp_path / "c", {"renamed.yaml": PLAN})
    [s] = store.load(moved).directives
    assert not s.changed_anything
    # With --replace: the first document's tasks are removed (listed), the verified one too.
    [s] = store.load(other, replace=True).directives
    assert s.replaced == "1/KH-UBND ngày 03/10/2022 của x-ubnd"
    assert "kh-1-2022/1/x-ubnd" not in s.removed_ids  # same ids: the new document's tasks
    assert store.status(task_ids=["kh-1-2022/1/x-ubnd"])[0].status == "done_late"  # kept


def test_replacing_a_document_lists_what_it_removes(store: Tracker, tmp_path: Path) -> None:
    store.load(write(tmp_path / "a", {"units.yaml": UNITS, "plan.yaml": PLAN}))
    fewer = sub(_OTHER_DOCUMENT, '  - id: "2"', '  - id: "2b"')
    code, out = cli("load", str(write(tmp_path / "b", {"p.yaml": fewer})[0]), "--db", db_url(store))
    assert code == 1 and "đã dùng cho văn bản khác" in out
    code, out = cli("load", str(tmp_path / "b" / "p.yaml"), "--db", db_url(store), "--replace")
    assert code == 0, out
    assert "kh-1-2022: thay thế văn bản 1/KH-UBND ngày 03/10/2022 của x-ubnd." in out
    for unit in ("x-ubnd-a", "x-ubnd-b", "x-ubnd-c"):
        assert f"  bỏ kh-1-2022/2/{unit}" in out
    assert [e["event"] for e in store.history("kh-1-2022/2/x-ubnd-a")][-1] == "removed"


# -- 3. two loads at the same time ----------------------------------------------------------------
_G1 = UNITS + "  - code: g1\n    name: Nhóm 1\n    members: [x-ubnd-a]\n"
_G2 = UNITS + "  - code: g2\n    name: Nhóm 2\n    members: [x-ubnd-b]\n"
_ONE_GROUP = (
    "kind: registry\ngroups:\n  - code: {code}\n    name: {name}\n    members: [{member}]\n"
)


def test_concurrent_registry_loads_cannot_store_a_cycle(store: Tracker, tmp_path: Path) -> None:
    """Each file alone is fine; together they make g1 → g2 → g1. Whichever load commits first,
    the other checks its file against what is then stored, and is refused."""
    store.load(write(tmp_path / "base", {"u.yaml": UNITS + _G1[len(UNITS) :] + _G2[len(UNITS) :]}))
    a = write(tmp_path / "a", {"g1.yaml": _ONE_GROUP.format(code="g1", name="Nhóm 1", member="g2")})
    b = write(tmp_path / "b", {"g2.yaml": _ONE_GROUP.format(code="g2", name="Nhóm 2", member="g1")})
    for paths in (a, b):  # each alone is valid against the stored registry
        assert store.validate(paths).registry_files
    results: dict[str, BaseException | None] = {}
    start = threading.Barrier(2)

    def run(name: str, paths: list[Path]) -> None:
        t = Tracker.open(db_url(store), migrate=False)
        start.wait()
        try:
            t.load(paths)
            results[name] = None
        except BaseException as exc:
            results[name] = exc
        finally:
            t.close()

    threads = [threading.Thread(target=run, args=(n, p)) for n, p in (("a", a), ("b", b))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    failed = [e for e in results.values() if e is not None]
    assert len(results) == 2 and len(failed) == 1, results
    assert isinstance(failed[0], InputError) and "vòng lặp trong thành viên nhóm" in str(failed[0])
    with store.engine.connect() as conn:
        assert read_registry(conn).find_group_cycle() is None
    store.load([tmp_path / "base" / "u.yaml"])  # and the registry is loadable afterwards


def test_a_wedged_registry_is_repaired_by_loading_a_corrected_file(
    store: Tracker, tmp_path: Path
) -> None:
    base = write(tmp_path / "base", {"u.yaml": _G1 + _G2[len(UNITS) :]})
    store.load(base)
    # A cycle stored by an earlier version of the engine (written directly: no load can now).
    with store.engine.begin() as conn:
        conn.execute(
            T.member_t.insert(), [{"group_code": "g1", "member_code": "g2", "position": 1}]
        )
        conn.execute(
            T.member_t.insert(), [{"group_code": "g2", "member_code": "g1", "position": 1}]
        )
    with pytest.raises(InputError, match="vòng lặp trong thành viên nhóm"):
        store.load(write(tmp_path / "plan", {"plan.yaml": PLAN}))
    store.load(base)  # the corrected registry replaces the members of g1 and g2
    with store.engine.connect() as conn:
        assert read_registry(conn).find_group_cycle() is None
    store.load([tmp_path / "plan" / "plan.yaml"])


# -- 4. a task removed and restored keeps its pending report ------------------------------------
def test_a_restored_task_keeps_its_pending_report(store: Tracker, tmp_path: Path) -> None:
    files = write(tmp_path, {"units.yaml": UNITS, "plan.yaml": PLAN})
    store.load(files)
    store.complete(
        "kh-1-2022/2/x-ubnd-a", "Kế hoạch số 8/KH-UBND ngày 10/12/2022", on=date(2022, 12, 10)
    )
    without = sub(PLAN, '  - id: "2"', '  - id: "2x"')
    write(tmp_path, {"plan.yaml": without})
    store.load(files)
    write(tmp_path, {"plan.yaml": PLAN})
    [s] = store.load(files).directives
    assert s.restored == 3
    [row] = store.status(as_of=date(2022, 12, 31), task_ids=["kh-1-2022/2/x-ubnd-a"])
    assert row.state == "reported"  # the report waits for verification, as before the removal
    with pytest.raises(KtttError, match="đã có báo cáo hoàn thành đang chờ xác nhận"):
        store.complete(
            "kh-1-2022/2/x-ubnd-a", "Kế hoạch số 9/KH-UBND ngày 11/12/2022", on=date(2022, 12, 11)
        )
    assert store.verify("kh-1-2022/2/x-ubnd-a", on=date(2022, 12, 12)).state == "done"


# -- 14. "no change" means nothing written ---------------------------------------------------
def test_a_changed_note_is_reported_and_an_unchanged_file_writes_nothing(
    store: Tracker, tmp_path: Path
) -> None:
    files = write(tmp_path, {"units.yaml": UNITS, "plan.yaml": PLAN})
    store.load(files)
    before = snapshot(store)
    code, out = cli("load", str(tmp_path), "--db", db_url(store))
    assert code == 0 and "kh-1-2022: không có thay đổi (" in out
    assert snapshot(store) == before
    write(
        tmp_path,
        {
            "plan.yaml": sub(
                PLAN, "focal_unit: x-so-khdt", "note: Ghi chú mới.\nfocal_unit: x-so-khdt"
            )
        },
    )
    code, out = cli("load", str(tmp_path), "--db", db_url(store))
    assert code == 0, out
    assert "không có thay đổi" not in out
    assert "cập nhật thông tin chung của văn bản" in out
    assert snapshot(store) != before


# -- 9. a busy SQLite store ---------------------------------------------------------------------
def test_reading_commands_run_while_a_load_writes_and_a_writer_is_told_it_waited(
    sqlite_store: Tracker, tmp_path: Path
) -> None:
    store = sqlite_store
    store.load(write(tmp_path, {"units.yaml": UNITS, "plan.yaml": PLAN}))
    url = db_url(store)
    expected = len(store.status(as_of=date(2022, 12, 5)))
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:  # another command in the middle of its write transaction
        with store.engine.begin() as conn:
            conn.execute(
                T.sweep_t.insert(), [{"as_of": date(2022, 12, 5), "started_at": datetime.now(UTC)}]
            )
            holding.set()
            release.wait(30)

    th = threading.Thread(target=writer)
    th.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        code, out = cli("status", "--as-of", "2022-12-05", "--db", url, "--json")
        assert code == 0, out
        assert time.monotonic() - started < 5  # not the 30 s of a writer's wait
        assert len(json.loads(out)) == expected > 0
        code, out = cli(
            "complete", "kh-1-2022/1/x-ubnd", "--evidence", "Kế hoạch số 5/KH-UBND ngày 02/12/2022",
            "--on", "2022-12-02", "--db", url, env={"KTTT_BUSY_TIMEOUT": "1"},
        )  # fmt: skip
        assert code == 1
        assert "Lỗi: cơ sở dữ liệu đang bận (một lệnh khác đang ghi); đã chờ 1 giây" in out
        assert "Traceback" not in out and "OperationalError" not in out
    finally:
        release.set()
        th.join(30)
    code, out = cli(
        "complete", "kh-1-2022/1/x-ubnd", "--evidence", "Kế hoạch số 5/KH-UBND ngày 02/12/2022",
        "--on", "2022-12-02", "--db", url,
    )  # fmt: skip
    assert code == 0, out  # once the writer is done, the same command goes through


def test_a_new_store_is_private_to_its_owner(tmp_path: Path) -> None:
    home = tmp_path / "home" / "kttt"
    Tracker.open(f"sqlite:///{home / 'kttt.db'}").close()
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "kttt.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(home.parent.stat().st_mode) == 0o700  # created by us, too
    # The first command of a new data folder may be one that only fills the holiday cache.
    fresh = tmp_path / "fresh"
    env = {**os.environ, "KTTT_HOME": str(fresh)}
    subprocess.run([str(KTTT), "deadline", "Quý IV/2013"], env=env, check=True, capture_output=True)
    assert (fresh / "cache" / "holidays-vi.json").is_file()
    assert {stat.S_IMODE(d.stat().st_mode) for d in (fresh, fresh / "cache")} == {0o700}


# -- 10. secrets written literally in YAML --------------------------------------------------------
_SECRET_UNITS = sub(
    UNITS,
    "    name: UBND huyện A\n",
    "    name: UBND huyện A\n    targets:\n"
    "      - mailto://van-thu:S3cretPass@mail.example.vn?to=vanthu@example.vn\n"
    "      - mailto://van-thu:${KTTT_SMTP_PASS}@mail.example.vn?to=vanthu@example.vn\n",
)


def test_a_password_written_in_clear_is_a_warning_or_refused(
    store: Tracker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = write(tmp_path, {"units.yaml": _SECRET_UNITS})
    code, out = cli("load", str(files[0]), "--db", db_url(store))
    assert code == 0, out
    [warning] = {ln for ln in out.splitlines() if ln.startswith("Cảnh báo:")}
    assert f"{files[0]}:24:9:" in warning  # the first target, not the ${VAR} one
    assert "mật khẩu hoặc token ghi trực tiếp" in warning and "${TEN_BIEN}" in warning
    assert "S3cretPass" not in out
    # A setting refuses such a file; nothing is written then.
    other = write(tmp_path / "b", {"units.yaml": sub(_SECRET_UNITS, "S3cretPass", "0therPass")})
    monkeypatch.setenv("KTTT_LITERAL_SECRETS", "refuse")
    before = snapshot(store)
    code, out = cli("load", str(other[0]), "--db", db_url(store))
    assert code == 1 and "mật khẩu hoặc token ghi trực tiếp" in out and "0therPass" not in out
    assert snapshot(store) == before


# -- 5. completion dates ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "on,evidence,expected",
    [
        ("2000-01-01", "Kế hoạch số 5/KH-UBND ngày 01/01/2000", "trước ngày ban hành văn bản giao nhiệm vụ (03/10/2022)"),
        ("2099-01-01", "Kế hoạch số 5/KH-UBND ngày 01/01/2099", "sau ngày hôm nay"),
        ("2022-12-02", "Kế hoạch số 5/KH-UBND ngày 20/12/2022", "văn bản minh chứng ngày 20/12/2022 sau ngày báo cáo 02/12/2022"),
    ],
)  # fmt: skip
def test_impossible_completion_dates_are_refused(
    store: Tracker, tmp_path: Path, on: str, evidence: str, expected: str
) -> None:
    store.load(write(tmp_path, {"units.yaml": UNITS, "plan.yaml": PLAN}))
    before = snapshot(store)
    code, out = cli(
        "complete", "kh-1-2022/1/x-ubnd", "--evidence", evidence, "--on", on, "--db", db_url(store)
    )
    assert code == 1 and expected in out.replace("\n", " ") and out.startswith("Lỗi: ")
    assert snapshot(store) == before


def test_a_decision_before_the_report_or_in_the_future_is_refused(
    store: Tracker, tmp_path: Path
) -> None:
    store.load(write(tmp_path, {"units.yaml": UNITS, "plan.yaml": PLAN}))
    store.complete(
        "kh-1-2022/1/x-ubnd", "Kế hoạch số 5/KH-UBND ngày 02/12/2022", on=date(2022, 12, 2)
    )
    with pytest.raises(
        KtttError, match="ngày xác nhận 01/12/2022 trước ngày báo cáo hoàn thành 02/12/2022"
    ):
        store.verify("kh-1-2022/1/x-ubnd", on=date(2022, 12, 1))
    with pytest.raises(KtttError, match="ngày xác nhận 01/01/2099 sau ngày hôm nay"):
        store.return_("kh-1-2022/1/x-ubnd", "Thiếu phụ lục", on=date(2099, 1, 1))
    assert store.verify("kh-1-2022/1/x-ubnd", on=date(2022, 12, 2)).state == "done"


# -- 17. evidence that says nothing, or an impossible date ----------------------------------
def test_evidence_without_symbol_and_date_or_with_an_impossible_date_is_a_warning(
    store: Tracker, tmp_path: Path
) -> None:
    store.load(write(tmp_path, {"units.yaml": UNITS, "plan.yaml": PLAN}))
    url = db_url(store)
    code, out = cli(
        "complete",
        "kh-1-2022/1/x-ubnd",
        "--evidence",
        "Đã làm xong",
        "--on",
        "2022-12-02",
        "--db",
        url,
    )
    assert code == 0, out
    assert "Lưu ý: minh chứng không ghi số, ký hiệu và ngày của văn bản đã ban hành" in out
    code, out = cli(
        "complete", "kh-1-2022/2/x-ubnd-a", "--evidence", "Kế hoạch số 8/KH-UBND ngày 31/02/2022",
        "--on", "2022-12-02", "--db", url,
    )  # fmt: skip
    assert code == 0, out
    assert "Lưu ý: ngày 31/02/2022 trong minh chứng không có thật" in out
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(T.completion_t.c.task_id, T.completion_t.c.evidence_symbol, T.completion_t.c.evidence_date)
            .order_by(T.completion_t.c.id)
        ).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [
        ("kh-1-2022/1/x-ubnd", None, None),
        ("kh-1-2022/2/x-ubnd-a", "8/KH-UBND", None),  # what could be read, stored
    ]


# -- 18. unknown filters ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args,expected",
    [
        (("status", "--unit", "x-ubnd-z"), "không có đơn vị mã 'x-ubnd-z' trong cơ sở dữ liệu; có phải: x-ubnd-"),
        (("status", "--directive", "kh-1-2023"), "không có văn bản chỉ đạo mã 'kh-1-2023' trong cơ sở dữ liệu; có phải: kh-1-2022?"),
        (("deliveries", "--status", "bogus"), "trạng thái gửi 'bogus' không hợp lệ; cần một trong: sent, local"),
        (("deliveries", "--unit", "nobody"), "không có đơn vị mã 'nobody'"),
        (("report", "--directive", "kh-9"), "không có nhiệm vụ nào của văn bản 'kh-9'"),
    ],
)  # fmt: skip
def test_unknown_filters_are_errors_not_empty_tables(
    store: Tracker, tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    store.load(write(tmp_path, {"units.yaml": UNITS, "plan.yaml": PLAN}))
    code, out = cli(*args, "--db", db_url(store))
    assert code == 1 and f"Lỗi: {expected}" in out.replace("\n", " ")


# -- 19. configuration checked before anything is written -----------------------------------
@pytest.mark.parametrize(
    "env,expected",
    [
        ({"KTTT_MAX_ATTEMPTS": "abc"}, "biến môi trường KTTT_MAX_ATTEMPTS='abc' không hợp lệ; cần một số"),
        ({"KTTT_APPRISE_CONFIG": "/nonexistent/apprise.yaml"}, "biến môi trường KTTT_APPRISE_CONFIG: không tìm thấy tệp cấu hình Apprise"),
        ({"KTTT_BUSY_TIMEOUT": "-3"}, "biến môi trường KTTT_BUSY_TIMEOUT='-3' không hợp lệ; cần một số dương"),
        ({"KTTT_TIMEZONE": "Asia/Ha_Noi"}, "biến môi trường KTTT_TIMEZONE='Asia/Ha_Noi' không phải múi giờ"),
    ],
)  # fmt: skip
def test_a_bad_setting_stops_the_sweep_before_it_records_anything(
    store: Tracker, tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    store.load(write(tmp_path, {"units.yaml": UNITS, "plan.yaml": PLAN}))
    before = snapshot(store)
    with store.engine.connect() as conn:
        notices = conn.execute(select(func.count()).select_from(T.notice_t)).scalar_one()
    code, out = cli("sweep", "--as-of", "2022-12-05", "--db", db_url(store), env=env)
    assert code == 1 and f"Lỗi: {expected}" in out.replace("\n", " ")
    assert "Traceback" not in out
    assert snapshot(store) == before
    with store.engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(T.notice_t)).scalar_one() == notices == 0
        )


# -- 8. the size bound is a setting --------------------------------------------------------------
def test_the_input_size_limit_is_read_from_the_environment(store: Tracker, tmp_path: Path) -> None:
    files = write(tmp_path, {"units.yaml": UNITS, "plan.yaml": PLAN})
    size = files[0].stat().st_size
    limit_mb = size / 2 / (1024 * 1024)  # half the registry's size
    before = snapshot(store)
    code, out = cli(
        "load", str(tmp_path), "--db", db_url(store), env={"KTTT_MAX_INPUT_MB": f"{limit_mb:.6f}"}
    )
    assert code == 1 and f"{files[0]}:0:0: tệp quá lớn" in out and "KTTT_MAX_INPUT_MB" in out
    assert snapshot(store) == before
    code, out = cli("load", str(tmp_path), "--db", db_url(store))
    assert code == 0, out
    code, out = cli(
        "validate", str(tmp_path), "--db", db_url(store), env={"KTTT_MAX_INPUT_MB": "x"}
    )
    assert code == 1 and "KTTT_MAX_INPUT_MB='x' không hợp lệ" in out
