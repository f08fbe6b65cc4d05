"""The day-swap table read from YAML files (``kttt_workflow.inputs.defaults.load_overrides``): a
custom table, an empty one, malformed ones rejected in Vietnamese. The calendar itself, and the
packaged table, are tested in ``tests/unit/test_calendar.py``."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from kttt_workflow.domain.calendar import DayOverride, WorkingCalendar
from kttt_workflow.inputs.defaults import load_overrides
from tests.helpers import is_nfc


def test_overrides_from_custom_yaml(tmp_path: Path) -> None:
    path = tmp_path / "overrides.yaml"
    path.write_text(
        "# a comment\n"
        "- date: 2030-06-01\n"  # a Saturday
        "  working: true\n"
        '  note: "Làm bù cho ngày 03/06/2030"\n'
        "- date: '2030-06-03'\n"  # a Monday
        "  working: false\n"
        '  note: "Nghỉ bù"\n',
        encoding="utf-8",
    )
    overrides = load_overrides(path)
    assert overrides == (
        DayOverride(date(2030, 6, 1), True, "Làm bù cho ngày 03/06/2030"),
        DayOverride(date(2030, 6, 3), False, "Nghỉ bù"),
    )
    cal = WorkingCalendar(overrides)
    assert cal.is_working_day(date(2030, 6, 1))
    assert not cal.is_working_day(date(2030, 6, 3))
    assert cal.is_holiday(date(2030, 6, 3))
    assert cal.holiday_name(date(2030, 6, 3)) == "Nghỉ bù"
    assert cal.roll_forward(date(2030, 6, 2)) == date(2030, 6, 4)
    # The packaged 2025 swap is not in this table.
    assert not cal.is_working_day(date(2025, 4, 26))


def test_empty_yaml_gives_no_overrides(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    assert load_overrides(path) == ()


@pytest.mark.parametrize(
    "content",
    [
        "- date: 2030-06-01\n  working: yes please\n  note: x\n",
        "- date: 2030-13-01\n  working: true\n  note: x\n",
        "- working: true\n  note: x\n",
        "- date: 2030-06-01\n  working: true\n  colour: red\n",
        "- date: 2030-06-01\n  working: true\n- date: 2030-06-01\n  working: false\n",
        "date: 2030-06-01\n",
    ],
)
def test_malformed_yaml_is_rejected_in_vietnamese(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError) as excinfo:
        load_overrides(path)
    message = str(excinfo.value)
    assert is_nfc(message)
    assert re.search(r"[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữđ]", message)
