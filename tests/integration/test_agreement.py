"""Where SQL mirrors a pure rule, both give the same answer on the same data.

The status ``CASE`` is checked in ``test_status_sql.py`` and the sweep's recipients day by day in
``test_sweep_decisions.py``; here: who answers for a unit (the successor chain), "the period has
begun", and the sweep's recipients across the 2025 reform on the real directives.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from kttt_workflow.domain.status import started
from kttt_workflow.service import Tracker
from kttt_workflow.store import tables as T
from kttt_workflow.store.registry import current_units, read_registry
from tests.helpers import UNITS, ledger, reference, write

# Before, on and after each link of the reform's chains (Sở KH&ĐT Bắc Giang merged into Sở Tài
# chính Bắc Giang on 1/3/2025, itself succeeded by Sở Tài chính Bắc Ninh on 1/7/2025).
REFORM_DAYS = (
    date(2022, 12, 5),
    date(2025, 2, 28),
    date(2025, 3, 1),
    date(2025, 6, 30),
    date(2025, 7, 1),
    date(2026, 3, 2),
)


def _sql_current(store: Tracker, day: date) -> dict[str, str]:
    with store.engine.connect() as conn:
        return {r.code: r.current for r in conn.execute(current_units(day))}


def test_successor_chain_in_sql_matches_the_registry_on_the_real_directives(
    loaded: Tracker,
) -> None:
    with loaded.engine.connect() as conn:
        registry = read_registry(conn)
    for day in REFORM_DAYS:
        assert _sql_current(loaded, day) == {c: registry.current(c, day) for c in registry.units}
    # Sở KH&ĐT Bắc Giang (the State-side advisory body of NQ 20), down the whole chain.
    assert registry.current("bg-so-kh-dt", date(2025, 2, 28)) == "bg-so-kh-dt"
    assert registry.current("bg-so-kh-dt", date(2025, 3, 1)) == "bg-so-tai-chinh"
    assert registry.current("bg-so-kh-dt", date(2026, 3, 2)) == "bn-so-tai-chinh"
    # A district Party committee that ceased without successor answers for itself.
    assert _sql_current(loaded, date(2026, 3, 2))["huyen-uy-yen-the"] == "huyen-uy-yen-the"


def test_successor_chain_in_sql_matches_the_registry_on_a_long_chain(
    store: Tracker, tmp_path: Path
) -> None:
    """A → B → C → D, each link on its own date; E ceased without successor; F ceases later."""
    links = {
        "x-ubnd-a": ("2021-12-31", "x-ubnd-b"),
        "x-ubnd-b": ("2022-12-31", "x-ubnd-c"),
        "x-ubnd-c": ("2023-12-31", "x-so-tc"),
        "x-so-khdt": ("2022-06-30", None),
        "x-ubnd": ("2030-12-31", "x-so-tc"),
    }
    text = UNITS
    for code, (valid_to, successor) in links.items():
        head = f"  - code: {code}\n"
        extra = f"    valid_to: {valid_to}\n" + (
            f"    successor: {successor}\n" if successor else ""
        )
        start = text.index(head)
        end = text.find("  - code:", start + len(head))
        block_end = end if end != -1 and end < text.index("groups:") else text.index("groups:")
        text = text[:block_end] + extra + text[block_end:]
    store.load(write(tmp_path, {"units.yaml": text}))
    with store.engine.connect() as conn:
        registry = read_registry(conn)
    days = [date(2021, 1, 1) + timedelta(days=61 * i) for i in range(40)]  # to 2027
    for day in days:
        assert _sql_current(store, day) == {c: registry.current(c, day) for c in registry.units}
    assert registry.current("x-ubnd-a", date(2024, 1, 1)) == "x-so-tc"  # three links
    assert registry.current("x-ubnd-a", date(2022, 6, 1)) == "x-ubnd-b"
    assert registry.current("x-so-khdt", date(2024, 1, 1)) == "x-so-khdt"


def test_period_begun_in_sql_matches_the_pure_rule(loaded: Tracker) -> None:
    t = T.task_t
    with loaded.engine.connect() as conn:
        rows = conn.execute(select(t.c.id, t.c.starts_on).where(t.c.state != "removed")).all()
    recurring = [r for r in rows if r.starts_on is not None]
    assert len(recurring) > 100  # the real directives' "Hàng năm" tasks, 2013–2026
    for day in (date(2013, 12, 31), date(2014, 1, 1), date(2019, 7, 1), date(2026, 12, 31)):
        expected = {r.id for r in rows if started(r.starts_on, day)}
        assert {s.task_id for s in loaded.status(as_of=day)} == expected, day


def test_sweep_recipients_match_the_pure_decision_across_the_reform(loaded: Tracker) -> None:
    """Day by day from before the departments merged to after the provinces merged, the notices
    recorded in SQL are those of the pure rule, recipients answering through their successors."""
    expected: set[tuple[str, str, str, bool, str]] = set()
    day = date(2025, 1, 6)
    while day <= date(2026, 3, 2):
        sent = {(a, b, c) for a, b, c, _, _ in expected}
        expected |= set(reference(loaded, day, sent))
        loaded.sweep(as_of=day, send=False, force=True)
        assert set(ledger(loaded)) == expected, day
        day += timedelta(days=17)
    assert len(expected) > 100


def test_escalation_after_the_reform_goes_to_who_answers_now(loaded: Tracker) -> None:
    """NQ 20's plan task of the provincial Party group, overdue since 30/11/2022, swept for the
    first time on 02/03/2026: every copy goes to the units that answer today, down the chain."""
    r = loaded.sweep(as_of=date(2026, 3, 2), send=False)
    assert r.skipped is None
    got = {
        (s, u, cc) for t, s, u, cc, _ in ledger(loaded) if t == "ctr-nq20-2022/IV.1/bg-bcsd-ubnd"
    }
    assert got == {
        ("bao-cao-30", "bn-btv-tu", False),  # the issuer, BTV Tỉnh ủy Bắc Giang → Bắc Ninh
        # the lead and the focal unit (the same body: §IV.7), Ban cán sự đảng UBND → Đảng ủy UBND
        ("bao-cao-30", "bn-dang-uy-ubnd", True),
    }
    # The State-side advisory body follows two links: Sở KH&ĐT → Sở Tài chính → Sở TC Bắc Ninh.
    with loaded.engine.connect() as conn:
        now = {r.code: r.current for r in conn.execute(current_units(date(2026, 3, 2)))}
    assert now["bg-so-kh-dt"] == "bn-so-tai-chinh"
    ceased = {"bg-so-kh-dt", "bg-so-tai-chinh", "bg-bcsd-ubnd", "bg-btv-tu"}
    assert not [n for n in ledger(loaded) if n[2] in ceased]
