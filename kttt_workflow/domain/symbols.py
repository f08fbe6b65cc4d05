"""Document symbols ("số, ký hiệu văn bản"): the one grammar, for validation and for evidence.

Two official styles exist: the State's (Nghị định 30/2020/NĐ-CP) ``67/KH-UBND``, ``09/2019/NĐ-CP``,
``134/NQ-CP``; and the Party's ``20-NQ/TW``, ``27-CTr/TU``, ``10-KH/TW``.

>>> is_valid_symbol("67/KH-UBND"), is_valid_symbol("20-NQ/TW"), is_valid_symbol("KH 67")
(True, True, False)
>>> find_symbol("Kế hoạch số 28/KH-UBND ngày 04/02/2021")
('28/KH-UBND', 12, 22)
"""

from __future__ import annotations

import re

STATE = r"\d{1,4}(?:/\d{4})?/[A-ZĐ][A-ZĐ0-9&]*(?:-[A-ZĐ][A-ZĐ0-9&]*)*"
PARTY = r"\d{1,4}-[A-ZĐ][A-Za-zĐ]*/[A-ZĐ][A-ZĐ0-9]*"

_WHOLE = re.compile(rf"(?:{STATE}|{PARTY})")
_INSIDE = re.compile(rf"(?<![\w/-])({STATE}|{PARTY})(?![\w/])")


def is_valid_symbol(symbol: str) -> bool:
    """True for a State-style or Party-style symbol, written alone."""
    return _WHOLE.fullmatch(symbol) is not None


def find_symbol(text: str) -> tuple[str, int, int] | None:
    """The first symbol inside free text, with its start and end offsets."""
    m = _INSIDE.search(text)
    return (m.group(1), m.start(1), m.end(1)) if m else None
