"""Evidence of completion: find the issued document's symbol and date in free text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from kttt_workflow.domain.symbols import find_symbol
from kttt_workflow.domain.text import nfc

_DATE = re.compile(r"(?<!\d)(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})(?!\d)")
_DATE_WORDS = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.IGNORECASE)


@dataclass(frozen=True)
class Evidence:
    text: str
    symbol: str | None
    issued_on: date | None


def parse_evidence(text: str) -> Evidence:
    """Extract the document symbol and date from an evidence text.

    >>> parse_evidence("Kế hoạch số 28/KH-UBND ngày 04/02/2021")
    Evidence(text='Kế hoạch số 28/KH-UBND ngày 04/02/2021', symbol='28/KH-UBND', issued_on=datetime.date(2021, 2, 4))
    """
    text = nfc(text).strip()
    found = find_symbol(text)
    symbol = found[0] if found else None
    issued: date | None = None
    rest = text[found[2] :] if found else text
    for rx in (_DATE_WORDS, _DATE):
        dm = rx.search(rest) or rx.search(text)
        if dm:
            d, mo, y = (int(x) for x in dm.groups())
            try:
                issued = date(y, mo, d)
            except ValueError:
                issued = None
            break
    return Evidence(text, symbol, issued)
