"""One grammar each: task ids (written by the fan-out, read back by the CLI and the flows), document
symbols (validated in directives, found in evidence), the office's "today"."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kttt_workflow.config import Config
from kttt_workflow.domain.evidence import parse_evidence
from kttt_workflow.domain.fanout import TaskRef, parse_task_id, task_id, task_ref
from kttt_workflow.domain.symbols import find_symbol, is_valid_symbol

CODE = st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}[a-z0-9]", fullmatch=True)
KEY = st.from_regex(r"[A-Za-z0-9]{1,4}(\.[A-Za-z0-9]{1,3}){0,2}", fullmatch=True)
PERIOD = st.one_of(st.none(), st.sampled_from(["2014", "2014-H2", "2014-Q3", "2014-05"]))


@given(CODE, KEY, CODE, PERIOD)
def test_a_task_id_reads_back_into_its_parts(
    d: str, key: str, unit: str, period: str | None
) -> None:
    assert parse_task_id(task_id(d, key, unit, period)) == TaskRef(d, key, unit, period)


def test_a_task_named_by_directive_and_key_with_the_unit_apart() -> None:
    assert task_ref("kh-67-2013/II.2", "ubnd-yen-son") == "kh-67-2013/II.2/ubnd-yen-son"
    assert task_ref("kh-67-2013/II.2/", "ubnd-yen-son") == "kh-67-2013/II.2/ubnd-yen-son"
    assert task_ref("kh-67-2013/II.2/ubnd-yen-son") == "kh-67-2013/II.2/ubnd-yen-son"
    assert parse_task_id("kh-67-2013/III.1/tq-so-kh-dt@2014") == TaskRef(
        "kh-67-2013", "III.1", "tq-so-kh-dt", "2014"
    )
    assert parse_task_id("kh-67-2013") == TaskRef("kh-67-2013")


@pytest.mark.parametrize(
    "symbol", ["67/KH-UBND", "09/2019/NĐ-CP", "134/NQ-CP", "20-NQ/TW", "27-CTr/TU", "10-KH/TW"]
)
def test_official_symbols_are_valid_and_found_in_evidence(symbol: str) -> None:
    assert is_valid_symbol(symbol)
    text = f"Kế hoạch số {symbol} ngày 04/02/2021 của UBND tỉnh"
    found = find_symbol(text)
    assert found is not None and found[0] == symbol and text[found[1] : found[2]] == symbol
    assert parse_evidence(text).symbol == symbol


@pytest.mark.parametrize("text", ["KH 67", "67/kh-ubnd", "67-KH-UBND", "/KH-UBND", "67/", ""])
def test_malformed_symbols_are_not_valid(text: str) -> None:
    assert not is_valid_symbol(text)


def test_today_is_the_offices_date_whatever_the_servers_clock() -> None:
    evening_utc = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)  # 00:30 on 02/12 in Hà Nội
    assert Config.from_env({}).today(evening_utc) == date(2026, 12, 2)
    assert Config.from_env({"KTTT_TIMEZONE": "UTC"}).today(evening_utc) == date(2026, 12, 1)
    assert Config.from_env({}).timezone == "Asia/Ho_Chi_Minh"
