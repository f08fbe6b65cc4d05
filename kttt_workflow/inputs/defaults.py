"""The defaults shipped with the package, read from its ``data/`` folder.

* the Government's day swaps (``data/calendar_overrides.yaml``) and :func:`default_calendar`, the
  working-day calendar every use case shares, whose public holidays come from the ``holidays``
  package through a small cache in ``$KTTT_HOME/cache`` (:class:`HolidayCache`: importing
  ``holidays`` costs about 0.4 s, more than ``kttt deadline`` may take to start);
* the default escalation ladder (``data/default_policy.yaml``, code ``mac-dinh``);
* the demo's directives: the repository's ``directives/`` folder in a checkout, or the copy the
  wheel ships (``kttt_workflow/project/directives``).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import tempfile
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kttt_workflow.config import data_dir, private_dir
from kttt_workflow.domain.calendar import DayOverride, WorkingCalendar, vietnam_holidays
from kttt_workflow.domain.text import nfc

if TYPE_CHECKING:  # pydantic models cost ~20 ms to build: not for ``kttt deadline``
    from kttt_workflow.domain.directive import PolicyFile

PACKAGE = Path(__file__).resolve().parent.parent
DATA = PACKAGE / "data"
DEFAULT_OVERRIDES_PATH: Path = DATA / "calendar_overrides.yaml"
DEFAULT_POLICY_PATH: Path = DATA / "default_policy.yaml"


def _override_from_item(item: Any, index: int, source: str) -> DayOverride:
    where = f"{source}, mục thứ {index + 1}"
    if not isinstance(item, Mapping):
        raise ValueError(nfc(f"{where}: mỗi mục phải có dạng {{date, working, note}}."))
    unknown = set(item) - {"date", "working", "note"}
    if unknown:
        names = ", ".join(sorted(str(k) for k in unknown))
        raise ValueError(nfc(f"{where}: khóa không hợp lệ: {names}."))
    raw_day = item.get("date")
    if isinstance(raw_day, datetime):
        day = raw_day.date()
    elif isinstance(raw_day, date):
        day = raw_day
    elif isinstance(raw_day, str):
        try:
            day = date.fromisoformat(raw_day.strip())
        except ValueError:
            raise ValueError(
                nfc(f"{where}: ngày '{raw_day}' không hợp lệ (định dạng YYYY-MM-DD).")
            ) from None
    else:
        raise ValueError(nfc(f"{where}: thiếu ngày ('date', định dạng YYYY-MM-DD)."))
    working = item.get("working")
    if not isinstance(working, bool):
        raise ValueError(nfc(f"{where}: 'working' phải là true hoặc false."))
    note = item.get("note", "")
    if note is None:
        note = ""
    if not isinstance(note, str):
        raise ValueError(nfc(f"{where}: 'note' phải là chuỗi văn bản."))
    return DayOverride(day=day, working=working, note=nfc(" ".join(note.split())))


def _read(path: Path) -> Any:
    """A shipped (or given) YAML file, read by the same rules as a coordinator's files."""
    from kttt_workflow.inputs.reader import read_yaml

    lines = path.read_text(encoding="utf-8").splitlines()
    if not any(ln.strip() and not ln.lstrip().startswith("#") for ln in lines):
        return None  # an empty table (comments only)
    doc, issues = read_yaml(path)
    if doc is None or issues:
        raise ValueError("; ".join(str(i) for i in issues) or f"{path}: không đọc được tệp YAML")
    return doc.data


def load_overrides(path: Path | None = None) -> tuple[DayOverride, ...]:
    """Read the day-swap table (YAML list of ``{date, working, note}``), sorted by date.

    ``path=None`` reads the packaged table ``kttt_workflow/data/calendar_overrides.yaml``.
    An empty file gives ``()``. Malformed entries raise ``ValueError`` with a Vietnamese message.

    Ví dụ: ``load_overrides()`` chứa ``DayOverride(date(2025, 4, 26), True,
    "Làm bù cho ngày 02/05/2025")``.
    """
    source = Path(path) if path is not None else DEFAULT_OVERRIDES_PATH
    data = _read(source)
    if data is None:
        return ()
    if isinstance(data, Mapping) and "overrides" in data:
        data = data["overrides"] or []
    if not isinstance(data, list):
        raise ValueError(nfc(f"{source}: tệp phải là một danh sách các ngày hoán đổi."))
    result = [_override_from_item(item, i, str(source)) for i, item in enumerate(data)]
    seen: set[date] = set()
    for ov in result:
        if ov.day in seen:
            raise ValueError(nfc(f"{source}: ngày {ov.day:%d/%m/%Y} được khai báo nhiều lần."))
        seen.add(ov.day)
    return tuple(sorted(result, key=lambda ov: ov.day))


class HolidayCache:
    """The public holidays of each year as ``holidays`` computes them, kept in a JSON file.

    The file belongs to the installed copy of ``holidays``: its key names that copy (path and
    modification time of its Vietnamese calendar), so an upgrade recomputes every year. A year
    not in the file is computed with :func:`~kttt_workflow.domain.calendar.vietnam_holidays` and
    added (written atomically). A missing, unreadable or foreign file is ignored; an unwritable
    one only costs the computation again.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.key = _holidays_key()
        self._years: dict[int, dict[date, str]] | None = None

    def _read(self) -> dict[int, dict[date, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("key") != self.key:
                return {}
            return {
                int(year): {date.fromisoformat(d): str(name) for d, name in days}
                for year, days in data["years"].items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}

    def _write(self, years: dict[int, dict[date, str]]) -> None:
        data = {
            "key": self.key,
            "years": {
                str(y): [[d.isoformat(), n] for d, n in sorted(days.items())]
                for y, days in sorted(years.items())
            },
        }
        try:
            private_dir(self.path.parent)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".holidays-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, ensure_ascii=False)
            os.replace(tmp, self.path)
        except OSError:
            return

    def __call__(self, year: int) -> dict[date, str]:
        if self._years is None:
            self._years = self._read()
        found = self._years.get(year)
        if found is None:
            found = self._years[year] = vietnam_holidays(year)
            self._write(self._years)
        return found


def _holidays_key() -> str:
    spec = importlib.util.find_spec("holidays")
    origin = Path(spec.origin) if spec and spec.origin else None
    if origin is None:
        return "holidays"
    vn = origin.parent / "countries" / "vietnam.py"
    stamp = vn.stat().st_mtime_ns if vn.exists() else 0
    return f"{origin.parent}|{stamp}"


@functools.lru_cache(maxsize=1)
def default_calendar() -> WorkingCalendar:
    """The shared calendar: ``holidays`` (cached) plus the packaged day-swap table (built once).

    Ví dụ: ``default_calendar().is_working_day(date(2025, 4, 26))`` là ``True``.
    """
    cache = HolidayCache(data_dir() / "cache" / "holidays-vi.json")
    return WorkingCalendar(load_overrides(), holidays=cache)


def default_policy() -> PolicyFile:
    """The shipped ladder (``kttt_workflow/data/default_policy.yaml``, code ``mac-dinh``)."""
    from kttt_workflow.domain.directive import PolicyFile

    data = _read(DEFAULT_POLICY_PATH)
    return PolicyFile.model_validate(data)


def project_files() -> Path | None:
    """The copy of the project's files (``prefect.yaml``, ``flows/``, ``automations/``,
    ``directives/``) that the wheel ships, if this is an installed wheel."""
    shipped = PACKAGE / "project"
    return shipped if (shipped / "prefect.yaml").is_file() else None


def checkout() -> Path | None:
    """The source checkout the package runs from (editable install), if any."""
    root = PACKAGE.parent
    return root if (root / "prefect.yaml").is_file() and (root / "flows").is_dir() else None


def demo_directives() -> Path:
    """The real directives the demo loads: the checkout's ``directives/``, else the wheel's copy."""
    for base in (checkout(), project_files()):
        if base is not None and (base / "directives").is_dir():
            return base / "directives"
    raise FileNotFoundError("directives")
